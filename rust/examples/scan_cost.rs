//! Route CALLS messages (cycling through a NUL-separated PAYLOADS file) with one backend, for
//! callgrind's instruction count: `scan_cost CALLS PAYLOADS [rust-scan|rust-events]`.
//! Instructions per message = (count at CALLS − count at 1) / (CALLS − 1).
use treasure_rs::events_route::EventsRouter;
use treasure_rs::scan::ScanRouter;
use treasure_rs::{Limits, RouteSpec, Router};

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().and_then(|n| n.parse().ok()).expect("CALLS");
    let data = std::fs::read(args.next().expect("PAYLOADS")).expect("PAYLOADS is readable");
    let payloads: Vec<&[u8]> = data.split(|b| *b == 0).collect();
    let backend = args.next().unwrap_or_else(|| "rust-scan".to_owned());
    let scan = ScanRouter::new(RouteSpec::default(), Limits::default());
    let events = EventsRouter::new(RouteSpec::default(), Limits::default());
    let mut routed = 0usize;
    for payload in payloads.iter().cycle().take(calls) {
        let ok = match backend.as_str() {
            "rust-events" => events.route(payload).is_ok(),
            _ => scan.route(payload).is_ok(),
        };
        routed += usize::from(ok);
    }
    println!(
        "{backend}: {routed}/{calls} routed, {} fallbacks",
        scan.fallbacks()
    );
}
