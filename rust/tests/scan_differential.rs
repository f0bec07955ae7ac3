//! The routing scanner against the full parser (`rust-events`) on generated messages in
//! every style, and on mutations of them. Wherever the scanner answers, the full parser
//! must give the same fields; the one allowed difference (docs/routing.md) is a syntax
//! fault strictly inside a value no routing field goes through, which the scanner does not
//! look into. `SCAN_FUZZ_MESSAGES` sets the count (`make fuzz-scan` runs 1,000,000),
//! `SCAN_FUZZ_SEED` the seed; `SCAN_FUZZ_SHOW_FALLBACKS=1` prints the routable messages the
//! scanner handed over, `SCAN_FUZZ_SHOW_ALLOWED=1` the allowed differences.

mod scan_gen;

use scan_gen::{Gen, Rng, mutate};
use treasure_rs::events_route::EventsRouter;
use treasure_rs::scan::ScanRouter;
use treasure_rs::{Category, FieldKind, FieldSpec, Limits, RouteSpec, Router};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The specs messages are generated for and routed by: the default three fields, and
/// nested paths with a scalar-kind field (`kind,actor.id,sid:scalar`,
/// `meta.session,meta.user.id:scalar,on`: a plain `on:` key is a boolean and never matches).
fn specs() -> Vec<(Vec<Vec<&'static str>>, RouteSpec)> {
    let string = FieldKind::String;
    let scalar = FieldKind::Scalar;
    let table: [Vec<(Vec<&'static str>, FieldKind)>; 3] = [
        scan_gen::FIELDS
            .iter()
            .map(|f| (vec![*f], string))
            .collect(),
        vec![
            (vec!["kind"], string),
            (vec!["actor", "id"], string),
            (vec!["sid"], scalar),
        ],
        vec![
            (vec!["meta", "session"], string),
            (vec!["meta", "user", "id"], scalar),
            (vec!["on"], string),
        ],
    ];
    table
        .into_iter()
        .map(|fields| {
            let paths = fields.iter().map(|(p, _)| p.clone()).collect();
            let spec = fields.iter().map(|(p, k)| FieldSpec::new(p, *k)).collect();
            (paths, RouteSpec::new(spec).expect("a valid spec"))
        })
        .collect()
}

/// Limits: the default, shallow depth limits and small alias budgets, so both limits are
/// often near.
fn limits() -> Vec<Limits> {
    let mut limits = vec![Limits::default()];
    for max_depth in 1..=5 {
        limits.push(Limits {
            max_depth,
            ..Limits::default()
        });
    }
    for max_alias_expansion in [0, 3, 10, 40] {
        limits.push(Limits {
            max_alias_expansion,
            ..Limits::default()
        });
    }
    limits
}

#[derive(Default)]
struct Tally {
    messages: u64,
    scanned: u64,
    valid: u64,
    valid_scanned: u64,
    allowed: u64,
    scanned_aliases: u64,
    scanned_per_spec: [u64; 3],
    valid_aliases: u64,
    disagreements: Vec<String>,
}

#[test]
fn scanner_agrees_with_the_full_parser() {
    let count = env_number("SCAN_FUZZ_MESSAGES", 60_000);
    let seed = env_number("SCAN_FUZZ_SEED", 15);
    let specs = specs();
    let limits = limits();
    let routers: Vec<Vec<(ScanRouter, EventsRouter)>> = specs
        .iter()
        .map(|(_, spec)| {
            limits
                .iter()
                .map(|l| {
                    (
                        ScanRouter::new(spec.clone(), *l),
                        EventsRouter::new(spec.clone(), *l),
                    )
                })
                .collect()
        })
        .collect();
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    for _ in 0..count {
        let which = if rng.chance(50) {
            0
        } else {
            rng.below(specs.len())
        };
        let message = Gen::new(&mut rng).message_for(&specs[which].0);
        let (payload, inside_skipped) = if rng.chance(35) {
            let m = mutate(&message, &mut rng);
            (m.text, m.inside_skipped)
        } else {
            (message.text.into_bytes(), false)
        };
        let index = if rng.chance(75) {
            0
        } else {
            rng.below(limits.len())
        };
        let (scan, full) = &routers[which][index];
        let expected = full.route(&payload);
        tally.messages += 1;
        if expected.is_ok() {
            tally.valid += 1;
            if payload.contains(&b'*') {
                tally.valid_aliases += 1;
            }
        }
        let Ok(fields) = scan.scan(&payload) else {
            if expected.is_ok() && std::env::var_os("SCAN_FUZZ_SHOW_FALLBACKS").is_some() {
                println!("fallback:\n{}\n---", String::from_utf8_lossy(&payload));
            }
            continue;
        };
        tally.scanned += 1;
        tally.scanned_per_spec[which] += 1;
        if payload.contains(&b'*') {
            tally.scanned_aliases += 1;
        }
        match &expected {
            Ok(want) if *want == fields => tally.valid_scanned += 1,
            Err(err) if err.category == Category::Syntax && inside_skipped => {
                tally.allowed += 1;
                if std::env::var_os("SCAN_FUZZ_SHOW_ALLOWED").is_some() {
                    println!("allowed: {err}\n{}\n---", String::from_utf8_lossy(&payload));
                }
            }
            _ => {
                if tally.disagreements.len() < 8 {
                    tally.disagreements.push(format!(
                        "max_depth {}: scanner {fields:?}, full parser {expected:?} on\n{}",
                        scan.limits().max_depth,
                        String::from_utf8_lossy(&payload)
                    ));
                }
                tally.disagreements.push(String::new());
            }
        }
    }
    let wrong = tally.disagreements.iter().filter(|d| d.is_empty()).count();
    println!(
        "{} messages (seed {seed}): {} routed by the full parser ({} with aliases), {} scanned ({} with aliases), {} \
         of them routed alike, {} allowed differences, {wrong} disagreements",
        tally.messages,
        tally.valid,
        tally.valid_aliases,
        tally.scanned,
        tally.scanned_aliases,
        tally.valid_scanned,
        tally.allowed
    );
    let shown: Vec<_> = tally
        .disagreements
        .iter()
        .filter(|d| !d.is_empty())
        .collect();
    assert!(
        wrong == 0,
        "{wrong} disagreements, first ones:\n{}",
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    println!("scanned per spec: {:?}", tally.scanned_per_spec);
    assert!(
        tally.scanned_aliases > 0,
        "no message with an alias took the fast path"
    );
    assert!(
        tally.scanned_per_spec.iter().all(|n| *n > 0),
        "a spec never took the fast path: {:?}",
        tally.scanned_per_spec
    );
    // The scanner must take most messages the full parser routes, or it proves nothing.
    assert!(
        tally.valid_scanned * 10 >= tally.valid * 6,
        "only {} of {} routable messages were scanned",
        tally.valid_scanned,
        tally.valid
    );
}
