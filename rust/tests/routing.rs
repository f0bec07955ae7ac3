//! Both routers over well-formed, malformed and hostile inputs: every failure is a
//! classified `RouteError`, never a panic (the guard is not used here, so a panic fails).

use treasure_rs::events_route::EventsRouter;
use treasure_rs::serde_route::SerdeRouter;
use treasure_rs::{Category, Limits, RouteError, RouteSpec, Router};

type Routing = Vec<String>;
type Route = Box<dyn Fn(&[u8]) -> Result<Routing, RouteError>>;

fn routers(limits: Limits) -> Vec<(&'static str, Route)> {
    let serde = SerdeRouter::new(RouteSpec::default(), limits);
    let events = EventsRouter::new(RouteSpec::default(), limits);
    vec![
        ("rust-serde", Box::new(move |p: &[u8]| serde.route(p))),
        ("rust-events", Box::new(move |p: &[u8]| events.route(p))),
    ]
}

const EVENT: &str = "\
event_type: item_pickup
player_id: p-000042
session_id: \"s-7f3a9c\"
ts: 1717171717123
position: {x: 10.5, y: -3.25, z: 0.0, zone: harbor-east}
inventory:
  - {id: sword-01, qty: 1, attrs: {dmg: 12, dur: 0.93, tags: [rare, sharp]}}
  - {id: potion-hp, qty: 3, attrs: {heal: 50}}
tags: [pvp, night, event-42]
";

fn expected() -> Routing {
    routing("item_pickup", "p-000042", "s-7f3a9c")
}

fn routing(event_type: &str, player_id: &str, session_id: &str) -> Routing {
    vec![event_type.into(), player_id.into(), session_id.into()]
}

fn assert_category(payload: &[u8], category: Category) {
    for (name, route) in routers(Limits::default()) {
        match route(payload) {
            Err(err) => assert_eq!(err.category, category, "{name}: {err}"),
            Ok(routing) => panic!("{name}: expected {category:?}, routed {routing:?}"),
        }
    }
}

fn alias_bomb() -> String {
    let mut doc = String::from(
        "lol0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in 1..9 {
        let refs = vec![format!("*l{}", level - 1); 9].join(",");
        doc.push_str(&format!("lol{level}: &l{level} [{refs}]\n"));
    }
    doc
}

#[test]
fn routes_a_nested_event_message() {
    for (name, route) in routers(Limits::default()) {
        assert_eq!(route(EVENT.as_bytes()), Ok(expected()), "{name}");
    }
}

#[test]
fn routing_fields_may_come_in_any_order_after_other_keys() {
    let doc = "ts: 1\nnested: {event_type: no, player_id: no}\nsession_id: s\ntags: [a]\n\
               player_id: p\nevent_type: e\n";
    for (name, route) in routers(Limits::default()) {
        let routing = route(doc.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(routing[0], "e", "{name}");
        assert_eq!(routing[1], "p", "{name}");
        assert_eq!(routing[2], "s", "{name}");
    }
}

#[test]
fn flow_mapping_document_routes() {
    let doc = b"{event_type: login, player_id: 'p1', session_id: \"s1\", extra: [1, {a: b}]}";
    for (name, route) in routers(Limits::default()) {
        assert_eq!(
            route(doc).map(|r| r[1].clone()),
            Ok("p1".to_owned()),
            "{name}"
        );
    }
}

#[test]
fn quoted_numbers_are_strings_and_plain_numbers_are_not() {
    let quoted = b"event_type: '1'\nplayer_id: \"42\"\nsession_id: !!str 7\n";
    for (name, route) in routers(Limits::default()) {
        assert_eq!(
            route(quoted).map(|r| r[1].clone()),
            Ok("42".to_owned()),
            "{name}"
        );
    }
    for value in ["42", "3.5", "true", "null", "~", "0x1F"] {
        let doc = format!("event_type: e\nplayer_id: {value}\nsession_id: s\n");
        assert_category(doc.as_bytes(), Category::Schema);
    }
}

#[test]
fn ignored_values_of_every_kind_are_skipped() {
    let doc = "event_type: e\nplayer_id: p\nbig: 123456789012345678901234567890\n\
               nan: .nan\ninf: -.inf\nblob: !!binary aGVsbG8=\n\
               when: 2024-05-01\nanchored: &x {k: v}\nagain: *x\nsession_id: s\n";
    for (name, route) in routers(Limits::default()) {
        assert_eq!(route(doc.as_bytes()), Ok(routing("e", "p", "s")), "{name}");
    }
}

#[test]
fn a_routing_value_may_be_an_alias_to_a_string() {
    let doc = b"base: &who p-1\nevent_type: e\nplayer_id: *who\nsession_id: s\n";
    for (name, route) in routers(Limits::default()) {
        assert_eq!(
            route(doc).map(|r| r[1].clone()),
            Ok("p-1".to_owned()),
            "{name}"
        );
    }
}

#[test]
fn merge_keys_supply_routing_fields_and_explicit_keys_win() {
    let cases = [
        (
            "base: &ids {player_id: p-7, session_id: s-7}\n<<: *ids\nevent_type: loot.drop\n",
            "p-7",
            "s-7",
        ),
        (
            "<<: {player_id: p-1, session_id: s-1}\nevent_type: e\n",
            "p-1",
            "s-1",
        ),
        (
            "a: &a {player_id: pa}\nb: &b {player_id: pb, session_id: sb}\n<<: [*a, *b]\nevent_type: e\n",
            "pa",
            "sb",
        ),
        (
            "d: &d {player_id: old, session_id: s}\nplayer_id: new\n<<: *d\nevent_type: e\n",
            "new",
            "s",
        ),
        (
            "d: &d {player_id: old, session_id: s}\n<<: *d\nevent_type: e\nplayer_id: new\n",
            "new",
            "s",
        ),
    ];
    for (doc, player, session) in cases {
        for (name, route) in routers(Limits::default()) {
            let routing = route(doc.as_bytes()).unwrap_or_else(|e| panic!("{name}: {doc:?}: {e}"));
            assert_eq!(
                (routing[1].as_str(), routing[2].as_str()),
                (player, session),
                "{name}: {doc:?}"
            );
        }
    }
}

#[test]
fn document_markers_are_accepted() {
    let doc =
        b"---\nevent_type: trade.offer\nplayer_id: p-9\nsession_id: s-9\nitems: [1, 2]\n...\n";
    for (name, route) in routers(Limits::default()) {
        assert_eq!(
            route(doc).map(|r| r[0].clone()),
            Ok("trade.offer".to_owned()),
            "{name}"
        );
    }
}

#[test]
fn schema_errors() {
    for doc in [
        "- a\n- b\n",
        "just a scalar\n",
        "",
        "# only a comment\n",
        "event_type: e\nplayer_id: p\n",
        "event_type: [e]\nplayer_id: p\nsession_id: s\n",
        "event_type: {e: 1}\nplayer_id: p\nsession_id: s\n",
        "nested: {event_type: e, player_id: p, session_id: s}\n",
    ] {
        assert_category(doc.as_bytes(), Category::Schema);
    }
}

#[test]
fn syntax_errors_include_truncated_documents() {
    let cut = EVENT.find("s-7f").expect("sample holds the session id");
    let truncated = &EVENT.as_bytes()[..cut]; // inside the open double quote
    for doc in [
        truncated,
        b"a: [1, 2",
        b"a: {b: 1",
        b"a: 'open",
        b"a: b: c\n",
        b"*nowhere\n",
    ] {
        assert_category(doc, Category::Syntax);
    }
}

#[test]
fn invalid_utf8_is_an_encoding_error() {
    for doc in [
        &b"event_type: \xff\xfe\n"[..],
        b"\xc3\x28",
        b"player_id: caf\xc3",
    ] {
        assert_category(doc, Category::Encoding);
    }
}

#[test]
fn python_tags_are_refused_never_resolved() {
    for doc in [
        "!!python/object/apply:os.system [\"echo pwned\"]\n",
        "event_type: !!python/object/apply:os.system [\"echo pwned\"]\nplayer_id: p\nsession_id: s\n",
        "cmd: !!python/object/apply:os.system [\"echo pwned\"]\nevent_type: e\nplayer_id: p\nsession_id: s\n",
        "x: !!python/name:os.system\nevent_type: e\nplayer_id: p\nsession_id: s\n",
        "x: !local thing\nevent_type: e\nplayer_id: p\nsession_id: s\n",
        "x: !<tag:example.com,2000:app> v\nevent_type: e\nplayer_id: p\nsession_id: s\n",
    ] {
        assert_category(doc.as_bytes(), Category::UnsafeTag);
    }
}

#[test]
fn oversize_payload_is_a_limit_error_before_parsing() {
    let limits = Limits {
        max_bytes: 64,
        ..Limits::default()
    };
    for (name, route) in routers(limits) {
        let err = route(EVENT.as_bytes()).expect_err(name);
        assert_eq!(err.category, Category::Limit, "{name}: {err}");
    }
}

#[test]
fn huge_scalar_under_the_byte_limit_routes_and_over_it_is_refused() {
    let doc = format!(
        "blob: {}\nevent_type: e\nplayer_id: p\nsession_id: s\n",
        "x".repeat(500_000)
    );
    for (name, route) in routers(Limits::default()) {
        assert!(route(doc.as_bytes()).is_ok(), "{name}");
    }
    let doc = format!("blob: \"{}\"\nevent_type: e\n", "y".repeat(2 << 20));
    assert_category(doc.as_bytes(), Category::Limit);
}

#[test]
fn deep_nesting_of_brackets_and_braces_is_a_limit_error() {
    for opener in ["[", "{", "{a: [", "- "] {
        let doc = if opener == "- " {
            (0..10_000)
                .map(|depth| format!("{}- \n", "  ".repeat(depth)))
                .collect::<String>()
        } else {
            opener.repeat(10_000)
        };
        assert_category(doc.as_bytes(), Category::Limit);
    }
}

#[test]
fn nesting_within_the_depth_limit_routes() {
    let limits = Limits {
        max_depth: 8,
        ..Limits::default()
    };
    let nested = format!(
        "event_type: e\nplayer_id: p\nx: {}1{}\nsession_id: s\n",
        "[".repeat(7),
        "]".repeat(7)
    );
    let too_deep = format!(
        "x: {}1{}\nevent_type: e\nplayer_id: p\nsession_id: s\n",
        "[".repeat(8),
        "]".repeat(8)
    );
    for (name, route) in routers(limits) {
        assert!(route(nested.as_bytes()).is_ok(), "{name}");
        let err = route(too_deep.as_bytes()).expect_err(name);
        assert_eq!(err.category, Category::Limit, "{name}: {err}");
    }
}

#[test]
fn alias_bomb_is_a_limit_error() {
    assert_category(alias_bomb().as_bytes(), Category::Limit);
}

#[test]
fn alias_bomb_before_the_routing_fields_is_a_limit_error() {
    let doc = format!(
        "{}event_type: e\nplayer_id: p\nsession_id: s\n",
        alias_bomb()
    );
    assert_category(doc.as_bytes(), Category::Limit);
}

#[test]
fn aliases_within_the_expansion_budget_route() {
    let limits = Limits {
        max_alias_expansion: 100,
        ..Limits::default()
    };
    let doc = "a: &a [1, 2, 3]\nb: [*a, *a]\nevent_type: e\nplayer_id: p\nsession_id: s\n";
    for (name, route) in routers(limits) {
        assert!(route(doc.as_bytes()).is_ok(), "{name}");
    }
}

#[test]
fn recursive_alias_is_refused() {
    let doc = b"a: &a [*a]\nevent_type: e\nplayer_id: p\nsession_id: s\n";
    for (name, route) in routers(Limits::default()) {
        let err = route(doc).expect_err(name);
        assert!(
            matches!(err.category, Category::Limit | Category::Syntax),
            "{name}: {err}"
        );
    }
}

#[test]
fn many_keys_route() {
    let mut doc: String = (0..20_000).map(|i| format!("k{i}: v{i}\n")).collect();
    doc.push_str("event_type: e\nplayer_id: p\nsession_id: s\n");
    for (name, route) in routers(Limits::default()) {
        assert!(route(doc.as_bytes()).is_ok(), "{name}");
    }
}

#[test]
fn every_prefix_of_a_message_is_classified_without_panicking() {
    let doc = format!("{EVENT}extra: &e {{a: [1, 'two', \"three\"]}}\nmore: *e\n");
    for (_, route) in routers(Limits::default()) {
        for end in 0..=doc.len() {
            let _ = route(&doc.as_bytes()[..end]);
        }
    }
}
