//! Per-message cost of each router in Rust alone (no Python):
//! `cargo run --release --example cost [-- CALLS [BACKEND [PAYLOADS]]]`.
//!
//! PAYLOADS is a file of messages separated by NUL bytes (for example a recording's payloads,
//! dumped from Python); without it every call routes one built-in message.
//!
//! With a small CALLS and one BACKEND it doubles as a callgrind target, which counts
//! instructions repeatably on a busy machine:
//! `valgrind --tool=callgrind target/release/examples/cost 200 rust-serde`.
use std::time::Instant;

use treasure_rs::events_route::EventsRouter;
use treasure_rs::serde_route::SerdeRouter;
use treasure_rs::{Limits, RouteSpec, Router};

const EVENT: &str = "event_type: player.item_pickup
player_id: p-000482913
session_id: s-7f3a9c2e-41d8
ts: 1717171717123
position: {x: 1042.75, y: -311.5, z: 12.25, zone: harbor-east}
inventory:
  - {item: sword-of-dawn, qty: 1, attrs: {dmg: 42, dur: 0.93, rarity: epic, sockets: [ruby, jade]}}
  - {item: potion-hp, qty: 3, attrs: {heal: 50, stack: 20}}
  - {item: arrow-fire, qty: 64, attrs: {dmg: 7, burn: 3, rarity: rare}}
  - {item: map-fragment, qty: 1, attrs: {region: north-ridge, piece: 3}}
tags: [pvp, night, ranked, season-7, event-42]
";

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: u32 = args
        .next()
        .map_or(20_000, |n| n.parse().expect("CALLS is a number"));
    let only = args.next().filter(|b| b != "all");
    let payloads: Vec<Vec<u8>> = match args.next() {
        Some(path) => std::fs::read(path)
            .expect("PAYLOADS is readable")
            .split(|b| *b == 0)
            .map(<[u8]>::to_vec)
            .collect(),
        None => vec![EVENT.as_bytes().to_vec()],
    };
    let serde = SerdeRouter::new(RouteSpec::default(), Limits::default());
    let events = EventsRouter::new(RouteSpec::default(), Limits::default());
    for (name, route) in [
        (
            "rust-serde",
            &(|p: &[u8]| serde.route(p)) as &dyn Fn(&[u8]) -> _,
        ),
        ("rust-events", &|p: &[u8]| events.route(p)),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let start = Instant::now();
        for payload in payloads.iter().cycle().take(calls as usize) {
            route(payload).expect("routes");
        }
        println!(
            "{name}: {:.2} us/msg",
            start.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
        );
    }
}
