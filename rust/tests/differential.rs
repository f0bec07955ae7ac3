//! rust-serde against rust-events, and both against the generator's own answer, on messages
//! generated in many YAML styles: quoting and block scalars, flow and block mappings,
//! anchors, aliases, merge keys (single and list), explicit keys, comments, directives, BOM,
//! CRLF, decoys with the routing names nested deeper, duplicates, fields first, middle or
//! last, nested paths and scalar kinds. Damaged variants (truncated, a byte changed) must
//! give both routers the same answer.
//!
//! `cargo test` runs a bounded number of cases (PROPTEST_CASES, default 256 here);
//! `make fuzz-rust` runs many more.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use treasure_rs::events_route::EventsRouter;
use treasure_rs::serde_route::SerdeRouter;
use treasure_rs::{Limits, RouteSpec, Router};

/// A value safe to write in every style: routed back unchanged.
fn word() -> impl Strategy<Value = String> {
    // `v` first: no YAML 1.1 keyword (`no`, `on`, `null`...) or number, even tagged `!`
    "v[a-z0-9-]{0,8}"
}

#[derive(Debug, Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
    NonSpecificTag,
    StrTag,
    Alias,
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Plain),
        Just(Style::Single),
        Just(Style::Double),
        Just(Style::Literal),
        Just(Style::Folded),
        Just(Style::NonSpecificTag),
        Just(Style::StrTag),
        Just(Style::Alias),
    ]
}

/// How one routing field is written, with the text it must route to.
#[derive(Debug, Clone)]
struct Field {
    key: String,
    value: String,
    style: Style,
    via_merge: bool, // supplied by a `<<` source instead of the mapping itself
}

/// Write `value` in `style` as a block mapping value at `indent`; block scalars route
/// with their final line break.
fn block_value(
    value: &str,
    style: Style,
    indent: usize,
    anchors: &mut Vec<String>,
) -> (String, String) {
    let pad = " ".repeat(indent + 2);
    match style {
        Style::Plain => (value.to_owned(), value.to_owned()),
        Style::Single => (format!("'{value}'"), value.to_owned()),
        Style::Double => (format!("\"{value}\""), value.to_owned()),
        Style::Literal => (format!("|\n{pad}{value}"), format!("{value}\n")),
        Style::Folded => (format!(">-\n{pad}{value}"), value.to_owned()),
        Style::NonSpecificTag => (format!("! {value}"), value.to_owned()),
        Style::StrTag => (format!("!!str {value}"), value.to_owned()),
        Style::Alias => {
            let name = format!("v{}", anchors.len());
            anchors.push(format!("{name}: &{name} {value}"));
            (format!("*{name}"), value.to_owned())
        }
    }
}

#[derive(Debug, Clone)]
struct Message {
    text: String,
    spec: String,
    expected: Vec<String>,
}

fn decoy(keys: &[String]) -> String {
    let inner: Vec<String> = keys.iter().map(|k| format!("{k}: 1")).collect();
    format!("decoy: {{{}, list: [a, {{x: y}}]}}", inner.join(", "))
}

prop_compose! {
    fn message()(
        names in proptest::collection::btree_set("[a-z]{1,6}", 1..4),
        nest in any::<bool>(),
        styles in proptest::collection::vec(style(), 3),
        values in proptest::collection::vec(word(), 3),
        merged in proptest::collection::vec(any::<bool>(), 3),
        merge_list in any::<bool>(),
        flow in any::<bool>(),
        position in 0usize..3,
        comments in any::<bool>(),
        crlf in any::<bool>(),
        bom in any::<bool>(),
        directive in any::<bool>(),
        explicit_keys in any::<bool>(),
        scalar_kind in any::<bool>(),
    ) -> Message {
        let names: Vec<String> = names.into_iter().map(|n| format!("k{n}")).collect();
        let fields: Vec<Field> = names.iter().enumerate().map(|(i, key)| Field {
            key: key.clone(),
            value: values[i % 3].clone(),
            style: if flow { Style::Double } else { styles[i % 3] },
            via_merge: merged[i % 3],
        }).collect();
        let mut anchors = Vec::new();
        let mut own = Vec::new();
        let mut sources = Vec::new();
        let indent = if nest { 2 } else { 0 };
        for field in &fields {
            let (written, routed) = block_value(&field.value, field.style, indent, &mut anchors);
            debug_assert!(routed.starts_with(&field.value));
            let entry = if explicit_keys && !flow && !field.via_merge {
                format!("? {}\n: {written}", field.key)
            } else {
                format!("{}: {written}", field.key)
            };
            if field.via_merge {
                sources.push(format!("{{{}: \"{}\"}}", field.key, field.value));
            } else {
                own.push(entry);
            }
        }
        // A merge source also names every own field with a losing value: own keys win.
        let losing: Vec<String> = fields.iter().filter(|f| !f.via_merge)
            .map(|f| format!("{}: loser", f.key)).collect();
        if !losing.is_empty() {
            sources.push(format!("{{{}}}", losing.join(", ")));
        }
        let mut defs: Vec<String> = anchors;
        let mut refs = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            defs.push(format!("m{i}: &m{i} {source}"));
            refs.push(format!("*m{i}"));
        }
        if !refs.is_empty() {
            let merge = if merge_list || refs.len() > 1 { format!("[{}]", refs.join(", ")) } else { refs[0].clone() };
            own.push(format!("<<: {merge}"));
        }
        let pad = " ".repeat(indent);
        let mut lines: Vec<String> = vec![decoy(&names), "ts: 1717171717".into()];
        let routing = if flow {
            let joined = own.join(", ");
            vec![format!("{{{joined}}}")]
        } else {
            own.iter().map(|e| e.replace('\n', &format!("\n{pad}"))).map(|e| format!("{pad}{e}")).collect()
        };
        let body: Vec<String> = if nest {
            let head = if flow { format!("meta: {}", routing[0]) } else { format!("meta:\n{}", routing.join("\n")) };
            vec![head]
        } else if flow {
            // a flow top level cannot be mixed with block lines: keep the block form
            own.clone()
        } else {
            routing
        };
        lines.splice(position.min(lines.len())..position.min(lines.len()), body);
        let mut text = defs.join("\n");
        if !text.is_empty() { text.push('\n'); }
        if comments {
            text.push_str("# a comment naming kx: no\n");
        }
        text.push_str(&lines.join("\n"));
        text.push('\n');
        if comments { text.push_str("tail: end # trailing\n"); }
        if directive { text = format!("%YAML 1.1\n---\n{text}"); }
        if crlf { text = text.replace('\n', "\r\n"); }
        if bom { text.insert(0, '\u{feff}'); }
        let kind = if scalar_kind { ":scalar" } else { "" };
        let prefix = if nest { "meta." } else { "" };
        let spec = names.iter().map(|n| format!("{prefix}{n}{kind}")).collect::<Vec<_>>().join(",");
        let expected = fields.iter().map(|f| {
            let (_, routed) = block_value(&f.value, if f.via_merge { Style::Double } else { f.style }, 0, &mut Vec::new());
            routed
        }).collect();
        Message { text, spec, expected }
    }
}

fn routers(spec: &str) -> (SerdeRouter, EventsRouter) {
    let spec = RouteSpec::parse(spec).expect("generated specs are valid");
    (
        SerdeRouter::new(spec.clone(), Limits::default()),
        EventsRouter::new(spec, Limits::default()),
    )
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

#[test]
fn both_routers_route_what_the_generator_wrote() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&message(), |m| {
            let (serde, events) = routers(&m.spec);
            let by_serde = serde.route(m.text.as_bytes());
            let by_events = events.route(m.text.as_bytes());
            prop_assert_eq!(
                &by_serde,
                &Ok(m.expected.clone()),
                "rust-serde on\n{}",
                m.text
            );
            prop_assert_eq!(
                &by_events,
                &Ok(m.expected.clone()),
                "rust-events on\n{}",
                m.text
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn both_routers_agree_on_damaged_messages() {
    let damage = (
        message(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&damage, |(m, at, byte, truncate)| {
            let mut bytes = m.text.into_bytes();
            let at = at.index(bytes.len());
            if truncate {
                bytes.truncate(at);
            } else {
                let replacements = b"\n :-[]{},#&*!|>'\"%@`?\tx";
                bytes[at] = replacements[usize::from(byte) % replacements.len()];
            }
            let (serde, events) = routers(&m.spec);
            let by_serde = serde.route(&bytes).map_err(|e| e.category);
            let by_events = events.route(&bytes).map_err(|e| e.category);
            prop_assert_eq!(
                by_serde,
                by_events,
                "on {:?}",
                String::from_utf8_lossy(&bytes)
            );
            Ok(())
        })
        .unwrap();
}
