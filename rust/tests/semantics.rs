//! docs/routing.md rule by rule, each checked on both routers: the value routed, or the
//! error category.

use treasure_rs::events_route::EventsRouter;
use treasure_rs::serde_route::SerdeRouter;
use treasure_rs::{Category, Limits, RouteError, RouteSpec, Router};

type Outcome = Result<Vec<String>, Category>;

fn route_both(spec: &str, doc: &str) -> Vec<(&'static str, Result<Vec<String>, RouteError>)> {
    let spec = RouteSpec::parse(spec).expect("a valid spec");
    let serde = SerdeRouter::new(spec.clone(), Limits::default());
    let events = EventsRouter::new(spec, Limits::default());
    vec![
        ("rust-serde", serde.route(doc.as_bytes())),
        ("rust-events", events.route(doc.as_bytes())),
    ]
}

/// Both routers give `expected` for `doc` under `spec`.
fn check(spec: &str, doc: &str, expected: Outcome) {
    for (name, outcome) in route_both(spec, doc) {
        let got = outcome.map_err(|err| err.category);
        assert_eq!(got, expected, "{name} on {doc:?}");
    }
}

fn routes(doc: &str, values: &[&str]) {
    check(
        DEFAULT,
        doc,
        Ok(values.iter().map(|v| (*v).to_owned()).collect()),
    );
}

fn refuses(doc: &str, category: Category) {
    check(DEFAULT, doc, Err(category));
}

const DEFAULT: &str = "event_type,player_id,session_id";
const HEAD: &str = "event_type: login\nplayer_id: p-1\n";

#[test]
fn a_custom_spec_routes_nested_paths_in_spec_order() {
    let doc = "sid: s-1\nkind: tap\nactor: {name: x, id: a-9}\nmeta:\n  deep:\n    session: d-1\n";
    check(
        "kind,actor.id,sid",
        doc,
        Ok(vec!["tap".into(), "a-9".into(), "s-1".into()]),
    );
    check(
        "meta.deep.session,kind",
        doc,
        Ok(vec!["d-1".into(), "tap".into()]),
    );
    check("actor.id.x", doc, Err(Category::Schema)); // a-9 is not a mapping
    check("actor.missing", doc, Err(Category::Schema));
    check("sid.x", doc, Err(Category::Schema));
}

#[test]
fn yaml_1_1_strings_that_look_like_timestamps_route() {
    for value in [
        "2024-05-01 10:00",
        "2024-05-01T10:00",
        "2024-5-1",
        "0o17",
        "1e5",
        "-.5",
    ] {
        routes(
            &format!("{HEAD}session_id: {value}\n"),
            &["login", "p-1", value],
        );
    }
}

#[test]
fn yaml_1_1_non_strings_are_schema_errors_for_string_fields() {
    for value in [
        "2024-05-01",
        "2024-05-01 10:00:00",
        "yes",
        "Off",
        "0x1F",
        "1_000",
        "1:30",
        "~",
        "",
        "3.",
        "<<",
        "=",
    ] {
        refuses(&format!("{HEAD}session_id: {value}\n"), Category::Schema);
    }
}

#[test]
fn scalar_fields_take_the_text_written() {
    let doc =
        "a: 0x1F\nb: yes\nc: 1_000\nd: '007'\ne: !!int 12\nf: 2024-05-01\ng: |\n  two\n  lines\n";
    let expected = [
        "0x1F",
        "yes",
        "1_000",
        "007",
        "12",
        "2024-05-01",
        "two\nlines\n",
    ];
    check(
        "a:scalar,b:scalar,c:scalar,d:scalar,e:scalar,f:scalar,g:scalar",
        doc,
        Ok(expected.iter().map(|v| (*v).to_owned()).collect()),
    );
    for bad in [
        "~",
        "",
        "!!int abc",
        "!!bool maybe",
        "2024-02-30",
        "0000-00-00 00:00:00",
        "[1]",
        "!!binary abc",
    ] {
        check("a:scalar", &format!("a: {bad}\n"), Err(Category::Schema));
    }
}

#[test]
fn the_non_specific_tag_resolves_as_plain_and_unknown_tags_are_unsafe_anywhere() {
    routes(
        &format!("{HEAD}session_id: ! p-1\n"),
        &["login", "p-1", "p-1"],
    );
    // as PyYAML does, `!` resolves the text as if it were plain, whatever the style
    refuses(&format!("{HEAD}session_id: ! 42\n"), Category::Schema);
    refuses(&format!("{HEAD}session_id: ! \"yes\"\n"), Category::Schema);
    routes(
        &format!("{HEAD}session_id: !<tag:yaml.org,2002:str> 7\n"),
        &["login", "p-1", "7"],
    );
    routes(
        &format!("{HEAD}session_id: !!str yes\nx: !!set {{a}}\n"),
        &["login", "p-1", "yes"],
    );
    for tagged in [
        "!!python/object/apply:os.system [\"echo\"]",
        "!thing x",
        "!<tag:example.com,2000:x> y",
    ] {
        refuses(
            &format!("{HEAD}session_id: s\nx: {tagged}\n"),
            Category::UnsafeTag,
        );
        refuses(
            &format!("x: {tagged}\n{HEAD}session_id: s\n"),
            Category::UnsafeTag,
        );
    }
}

#[test]
fn merge_keys_let_own_keys_and_earlier_sources_win() {
    let defs =
        "a: &a {player_id: from-a, session_id: sa}\nb: &b {player_id: from-b, event_type: eb}\n";
    routes(
        &format!("{defs}event_type: e\n<<: *a\n"),
        &["e", "from-a", "sa"],
    );
    routes(&format!("{defs}<<: [*a, *b]\n"), &["eb", "from-a", "sa"]);
    routes(&format!("{defs}<<: [*b, *a]\n"), &["eb", "from-b", "sa"]);
    routes(
        &format!("{defs}<<: [*b, *a]\nplayer_id: own\n"),
        &["eb", "own", "sa"],
    );
    // aliases inside a merge source keep their values (issue 11's shifted keys)
    routes(
        "p: &p p-1\nd: &d {player_id: *p, region: eu}\nevent_type: login\nsession_id: s-1\n<<: *d\n",
        &["login", "p-1", "s-1"],
    );
    // a merge source merging another, and an inline source
    routes(
        "a: &a {session_id: deep}\nb: &b {<<: *a, player_id: pb}\nevent_type: e\n<<: *b\n",
        &["e", "pb", "deep"],
    );
    routes(
        "event_type: e\n<<: {player_id: p, session_id: s}\n",
        &["e", "p", "s"],
    );
    // a nested path through a merged mapping
    check(
        "meta.sid",
        "m: &m {sid: x}\nmeta: {<<: *m}\n",
        Ok(vec!["x".into()]),
    );
    check(
        "meta.sid",
        "base: &b {meta: {sid: y}}\n<<: *b\n",
        Ok(vec!["y".into()]),
    );
}

#[test]
fn a_bad_merge_value_is_a_schema_error_once_a_lookup_reaches_it() {
    // reached: a routing key the mapping lacks is looked up in the sources
    refuses("event_type: e\nsession_id: s\n<<: 5\n", Category::Schema);
    refuses(
        "event_type: e\nsession_id: s\n<<: [{x: 1}, 2]\n",
        Category::Schema,
    );
    refuses(
        "s: &s str\nevent_type: e\nsession_id: s\n<<: *s\n",
        Category::Schema,
    );
    // not reached: the mapping has every routing key itself, or an earlier source has it
    routes(
        &format!("{HEAD}session_id: s\n<<: 5\n"),
        &["login", "p-1", "s"],
    );
    routes(
        &format!("{HEAD}session_id: s\nx: {{<<: 5}}\n"),
        &["login", "p-1", "s"],
    );
    routes(
        "event_type: e\nsession_id: s\n<<: [{player_id: p}, 2]\n",
        &["e", "p", "s"],
    );
    // several `<<` keys act as one list, earlier first
    routes(
        "event_type: e\nsession_id: s\n<<: {player_id: first}\n<<: {player_id: second}\n",
        &["e", "first", "s"],
    );
}

#[test]
fn duplicate_routing_keys_are_schema_errors_and_others_are_allowed() {
    refuses(
        &format!("{HEAD}session_id: a\nsession_id: b\n"),
        Category::Schema,
    );
    refuses(
        &format!("{HEAD}event_type: again\nsession_id: s\n"),
        Category::Schema,
    );
    check(
        "meta.sid",
        "meta: {sid: a}\nmeta: {sid: b}\n",
        Err(Category::Schema),
    );
    routes(
        &format!("{HEAD}session_id: s\nts: 1\nts: 2\n"),
        &["login", "p-1", "s"],
    );
    // a decoy deeper down is no routing path
    routes(
        &format!("{HEAD}session_id: s\nx: {{session_id: 1, session_id: 2}}\n"),
        &["login", "p-1", "s"],
    );
}

#[test]
fn keys_match_by_their_resolved_string() {
    check("on", "\"on\": x\n", Ok(vec!["x".into()]));
    check("on", "on: x\n", Err(Category::Schema)); // plain `on` is the boolean true
    check("1", "!!str 1: x\n? [a]\n: b\n", Ok(vec!["x".into()]));
}

#[test]
fn the_whole_message_is_read_after_the_last_field() {
    // a mis-indented line after the last field is a syntax error, not `s-1 region`
    refuses(
        &format!("{HEAD}session_id: s-1\n  region: eu\n"),
        Category::Syntax,
    );
    refuses(
        &format!("{HEAD}session_id: s\nx: [unclosed\n"),
        Category::Syntax,
    );
    refuses(
        &format!("{HEAD}session_id: s\n---\nother: doc\n"),
        Category::Syntax,
    );
    routes(
        &format!("---\n{HEAD}session_id: s\n...\n"),
        &["login", "p-1", "s"],
    );
}

#[test]
fn limits_hold_after_the_last_field() {
    let deep = format!(
        "{HEAD}session_id: s\nx: {}{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    refuses(&deep, Category::Limit);
    let mut bomb = format!("{HEAD}session_id: s\nl0: &l0 [a, a, a, a, a, a, a, a, a, a]\n");
    for level in 1..6 {
        let refs = vec![format!("*l{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    refuses(&bomb, Category::Limit);
}

#[test]
fn characters_yaml_forbids_are_encoding_errors() {
    refuses(
        &format!("{HEAD}session_id: \"a\u{7f}b\"\n"),
        Category::Encoding,
    );
    refuses(&format!("{HEAD}session_id: a\u{1}\n"), Category::Encoding);
    routes(
        &format!("\u{feff}{HEAD}session_id: s\n"),
        &["login", "p-1", "s"],
    );
    routes(
        &format!("{HEAD}session_id: \"caf\u{e9}\"\n"),
        &["login", "p-1", "caf\u{e9}"],
    );
}
