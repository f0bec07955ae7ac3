//! Scan every payload of a NUL-separated file and compare with the full parser:
//! `cargo run --release --example scan_check PAYLOADS`.
use treasure_rs::events_route::EventsRouter;
use treasure_rs::scan::ScanRouter;
use treasure_rs::{Limits, RouteSpec, Router};

fn main() {
    let path = std::env::args().nth(1).expect("PAYLOADS");
    let data = std::fs::read(path).expect("readable");
    let scan = ScanRouter::new(RouteSpec::default(), Limits::default());
    let full = EventsRouter::new(RouteSpec::default(), Limits::default());
    let (mut fast, mut total, mut wrong) = (0, 0, 0);
    for payload in data.split(|b| *b == 0) {
        total += 1;
        let expected = full.route(payload);
        if let Ok(fields) = scan.scan(payload) {
            fast += 1;
            if expected.as_ref().ok() != Some(&fields) {
                wrong += 1;
                if wrong < 5 {
                    println!(
                        "DISAGREE {fields:?} vs {expected:?}\n{}",
                        String::from_utf8_lossy(payload)
                    );
                }
            }
        }
    }
    println!("{total} messages, {fast} scanned, {wrong} disagreements");
}
