//! A seeded generator of event messages in many YAML styles, for the differential test of
//! the routing scanner against the full parser. It records where the values no routing
//! field goes through lie, so a mutation inside one can be told apart from one that
//! touches the structure the scanner must check.

use std::ops::Range;

/// splitmix64: small, seedable, good enough to spread cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

pub const FIELDS: [&str; 3] = ["event_type", "player_id", "session_id"];

const WORDS: [&str; 24] = [
    "login",
    "p-000042",
    "s-9f3c",
    "move",
    "harbor-east",
    "event_type",
    "player_id",
    "x:y",
    "a#b",
    "it's",
    "42",
    "yes",
    "null",
    "~",
    "2024-05-01",
    "1.5",
    "0x1F",
    "-3",
    "on",
    "No",
    "\u{e9}-\u{fc}",
    "2024-05-01 10:00",
    "1_000",
    "a\"b",
];
/// Plain words that resolve to strings: most routing values are routable.
const STRINGS: [&str; 6] = ["login", "p-000042", "s-9f3c", "a b", "x:y", "\u{e9}t\u{e9}"];
const DECOY_KEYS: [&str; 12] = [
    "ts",
    "tags",
    "position",
    "inventory",
    "meta",
    "session",
    "event_type_x",
    "Player_id",
    "'quoted key'",
    "\"dq key\"",
    "on",
    "42",
];

/// One generated message and where its skipped values are.
pub struct Message {
    pub text: String,
    pub skipped: Vec<Range<usize>>,
}

pub struct Gen<'r> {
    rng: &'r mut Rng,
    nl: &'static str,
    out: String,
    skipped: Vec<Range<usize>>,
    /// Whether anchors, aliases and merge keys appear in this message.
    aliases: bool,
    /// Anchors written so far: aliases mostly name one of them.
    defined: Vec<&'static str>,
}

const ANCHORS: [&str; 4] = ["a0", "a1", "base", "attrs"];

impl<'r> Gen<'r> {
    pub fn new(rng: &'r mut Rng) -> Self {
        let nl = if rng.chance(15) { "\r\n" } else { "\n" };
        let aliases = rng.chance(30);
        Self {
            rng,
            nl,
            out: String::new(),
            skipped: Vec::new(),
            aliases,
            defined: Vec::new(),
        }
    }

    /// Maybe an anchor property before a node (`&name `), where aliases are on.
    fn anchor(&mut self, own_line: bool) {
        if self.aliases && self.rng.chance(20) {
            let name = self.rng.pick(&ANCHORS);
            self.defined.push(name);
            self.out.push_str(&format!(" &{name}"));
            if !own_line {
                self.out.push(' ');
            }
        }
    }

    /// An anchor name to alias: mostly one already written.
    fn alias_name(&mut self) -> &'static str {
        if !self.defined.is_empty() && self.rng.chance(90) {
            self.rng.pick(&self.defined)
        } else {
            self.rng.pick(&ANCHORS)
        }
    }

    /// Maybe an alias as the whole value: true when written.
    fn alias(&mut self) -> bool {
        if self.aliases && self.rng.chance(15) {
            let name = self.alias_name();
            self.out.push_str(&format!(" *{name}"));
            self.line_end();
            return true;
        }
        false
    }

    fn spaces(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
    }

    fn newline(&mut self) {
        self.out.push_str(self.nl);
    }

    fn word(&mut self) -> &'static str {
        self.rng.pick(&WORDS)
    }

    /// A word that is a valid plain scalar wherever it stands in block context.
    fn plain_word(&mut self) -> String {
        let w = self.word();
        if w == "~" || !w.starts_with(['-', '\'', '"']) {
            w.to_owned()
        } else {
            format!("v{w}")
        }
    }

    /// A message for a routing spec of dotted paths: intermediate keys get nested mappings.
    pub fn message_for(mut self, paths: &[Vec<&'static str>]) -> Message {
        if self.rng.chance(5) {
            self.out.push_str("# header comment");
            self.newline();
        }
        self.routing_mapping(0, paths);
        if self.rng.chance(5) {
            self.out
                .truncate(self.out.trim_end_matches(['\n', '\r']).len());
        }
        Message {
            text: self.out,
            skipped: self.skipped,
        }
    }

    /// A mapping on a routing path at column `indent`: its routing keys (leaves or nested
    /// mappings) and decoys, shuffled, sometimes with a key missing or repeated.
    fn routing_mapping(&mut self, indent: usize, paths: &[Vec<&'static str>]) {
        let mut steps: Vec<(&'static str, Vec<Vec<&'static str>>)> = Vec::new();
        for path in paths {
            let tail = path[1..].to_vec();
            match steps.iter_mut().find(|(step, _)| *step == path[0]) {
                Some((_, tails)) => tails.push(tail),
                None => steps.push((path[0], vec![tail])),
            }
        }
        let mut entries: Vec<Option<usize>> = (0..steps.len()).map(Some).collect();
        for _ in 0..self.rng.below(if indent == 0 { 6 } else { 3 }) {
            entries.push(None);
        }
        if self.rng.chance(4) {
            entries.push(Some(self.rng.below(steps.len()))); // a duplicate routing key
        }
        if self.rng.chance(3) {
            entries.remove(self.rng.below(steps.len())); // a missing field
        }
        for i in (1..entries.len()).rev() {
            let j = self.rng.below(i + 1);
            entries.swap(i, j);
        }
        for entry in entries {
            if self.rng.chance(8) {
                self.newline();
            }
            if self.rng.chance(5) {
                let n = indent + self.rng.below(3);
                self.spaces(n);
                self.out.push_str("# note: event_type: x");
                self.newline();
            }
            self.spaces(indent);
            match entry {
                Some(at) if steps[at].1.iter().any(Vec::is_empty) => {
                    self.routing_entry(indent, steps[at].0);
                }
                Some(at) => {
                    let (step, tails) = steps[at].clone();
                    self.key(step);
                    if self.rng.chance(5) {
                        self.out.push_str(" {session: x}"); // a flow mapping on the path
                        self.newline();
                        continue;
                    }
                    self.line_end();
                    let inner = indent + self.rng.pick(&[1, 2, 2, 4]);
                    self.routing_mapping(inner, &tails);
                }
                None => {
                    let key = self.rng.pick(&DECOY_KEYS).to_owned();
                    self.entry(indent, &key, if indent == 0 { 3 } else { 2 });
                }
            }
        }
    }

    fn key(&mut self, key: &str) {
        match self.rng.below(20) {
            0 => self.out.push_str(&format!("\"{key}\"")),
            1 => self.out.push_str(&format!("'{key}'")),
            _ => self.out.push_str(key),
        }
        if self.rng.chance(5) {
            self.out.push(' ');
        }
        self.out.push(':');
    }

    fn routing_entry(&mut self, indent: usize, key: &str) {
        self.key(key);
        if self.rng.chance(3) && self.alias() {
            return;
        }
        self.scalar(indent, true);
    }

    /// A decoy entry at column `indent` whose value nests up to `budget` levels.
    fn entry(&mut self, indent: usize, key: &str, budget: usize) {
        self.key(key);
        let start = self.out.len();
        self.value(indent, budget);
        let end = self.out.trim_end_matches(['\n', '\r']).len();
        self.skipped.push(start..end.max(start));
    }

    /// Any value after `key:` (the colon written), ending with a line break.
    fn value(&mut self, indent: usize, budget: usize) {
        let choice = if budget == 0 {
            self.rng.below(3)
        } else {
            self.rng.below(8)
        };
        if self.alias() {
            return;
        }
        match choice {
            0..=2 => self.scalar(indent, false),
            3 | 4 => {
                self.anchor(false);
                if !self.out.ends_with(' ') {
                    self.out.push(' ');
                }
                self.flow(budget, indent);
                self.line_end();
            }
            5 | 6 => {
                self.anchor(true);
                self.newline();
                let inner = indent + self.rng.pick(&[1, 2, 2, 4]);
                self.mapping(inner, budget - 1);
            }
            _ => {
                self.anchor(true);
                self.newline();
                let inner = indent + self.rng.pick(&[0, 2, 2, 3]);
                self.sequence(inner, budget - 1);
            }
        }
    }

    fn mapping(&mut self, indent: usize, budget: usize) {
        for i in 0..1 + self.rng.below(3) {
            if i > 0 || self.rng.chance(97) {
                self.spaces(indent);
            }
            if self.aliases && self.rng.chance(15) {
                let name = self.alias_name();
                self.out.push_str(&format!("<<: *{name}"));
                self.newline();
                continue;
            }
            let key = if self.rng.chance(30) {
                self.rng.pick(&FIELDS).to_owned()
            } else {
                format!("k{}", self.rng.below(4))
            };
            self.entry(indent, &key, budget);
        }
    }

    fn sequence(&mut self, indent: usize, budget: usize) {
        for _ in 0..1 + self.rng.below(3) {
            self.spaces(indent);
            self.out.push('-');
            match self.rng.below(4) {
                0 if budget > 0 => {
                    // A compact mapping: `- key: value`, more keys in the item's column.
                    self.out.push(' ');
                    let key = format!("k{}", self.rng.below(3));
                    self.entry(indent + 2, &key, budget - 1);
                    if self.rng.chance(50) {
                        self.spaces(indent + 2);
                        self.entry(indent + 2, "event_type", budget - 1);
                    }
                }
                1 if budget > 0 => {
                    self.out.push(' ');
                    self.flow(budget, indent);
                    self.line_end();
                }
                _ => self.scalar(indent, false),
            }
        }
    }

    /// A flow collection, nesting up to `budget`, maybe across lines.
    fn flow(&mut self, budget: usize, indent: usize) {
        let mapping = self.rng.chance(50);
        self.out.push(if mapping { '{' } else { '[' });
        for i in 0..self.rng.below(4) {
            if i > 0 {
                self.out.push(',');
                if self.rng.chance(10) {
                    self.newline();
                    let n = indent + 1 + self.rng.below(3);
                    self.spaces(n);
                } else {
                    self.out.push(' ');
                }
            }
            if mapping {
                let key = if self.rng.chance(30) {
                    self.rng.pick(&FIELDS).to_owned()
                } else {
                    format!("f{i}")
                };
                self.out.push_str(&key);
                self.out.push_str(": ");
            }
            if budget > 1 && self.rng.chance(25) {
                self.flow(budget - 1, indent);
            } else if self.aliases && self.rng.chance(20) {
                let name = self.alias_name();
                self.out.push_str(&format!("*{name}"));
            } else {
                self.flow_scalar();
            }
        }
        self.out.push(if mapping { '}' } else { ']' });
    }

    fn flow_scalar(&mut self) {
        let w = self.word();
        match self.rng.below(4) {
            0 => self.out.push_str(&format!("'{}'", w.replace('\'', "''"))),
            1 => self
                .out
                .push_str(&format!("\"{}\"", w.replace('"', "\\\""))),
            _ => {
                let w = self.plain_word();
                let w = if w.contains([':', '#']) {
                    "plain".to_owned()
                } else {
                    w
                };
                self.out.push_str(&w);
            }
        }
    }

    /// Spaces, maybe a comment, the line break.
    fn line_end(&mut self) {
        if self.rng.chance(15) {
            let n = 1 + self.rng.below(2);
            self.spaces(n);
            self.out.push_str("# event_type: decoy");
        } else if self.rng.chance(5) {
            self.out.push(' ');
        }
        self.newline();
    }

    /// A scalar after `key:` (or `-`) in a collection at column `indent`: every style.
    fn scalar(&mut self, indent: usize, routing: bool) {
        let style = self.rng.below(if routing { 12 } else { 10 });
        match style {
            0..=3 => {
                self.out.push(' ');
                let w = if routing && self.rng.chance(80) {
                    self.rng.pick(&STRINGS).to_owned()
                } else {
                    self.plain_word()
                };
                self.out.push_str(&w);
                if self.rng.chance(15) {
                    self.out.push_str(" and more");
                }
                if self.rng.chance(10) {
                    self.plain_continuation(indent);
                }
                self.line_end();
            }
            4 | 5 => {
                self.out.push(' ');
                let double = self.rng.chance(50);
                self.quoted(indent, double);
                self.line_end();
            }
            6 | 7 => self.block_scalar(indent),
            8 => {
                // The value on its own line.
                self.line_end();
                let n = indent + 1 + self.rng.below(3);
                self.spaces(n);
                if self.rng.chance(50) {
                    self.quoted(indent, true);
                } else {
                    let w = self.plain_word();
                    self.out.push_str(&w);
                }
                self.line_end();
            }
            9 => {
                let w = self
                    .rng
                    .pick(&["", " ~", " 17", " yes", " 1.5", " ''", " \"\""]);
                self.out.push_str(w);
                self.line_end();
            }
            _ => {
                self.out.push(' ');
                let w = self.rng.pick(&["p-\u{e9}t\u{e9}", "a b c", "s-1 ", "x"]);
                self.out.push_str(w);
                self.line_end();
            }
        }
    }

    fn plain_continuation(&mut self, indent: usize) {
        for _ in 0..1 + self.rng.below(2) {
            self.newline();
            if self.rng.chance(20) {
                self.newline();
            }
            let n = indent + 1 + self.rng.below(3);
            self.spaces(n);
            let w = self.plain_word();
            self.out.push_str(&w);
        }
    }

    fn quoted(&mut self, indent: usize, double: bool) {
        let quote = if double { '"' } else { '\'' };
        self.out.push(quote);
        for i in 0..1 + self.rng.below(3) {
            if i > 0 {
                if self.rng.chance(20) {
                    if double && self.rng.chance(30) {
                        self.out.push('\\');
                    }
                    self.newline();
                    if self.rng.chance(20) {
                        self.newline();
                    }
                    let n = indent + 1 + self.rng.below(3);
                    self.spaces(n);
                } else {
                    self.out.push(' ');
                }
            }
            let w = self.word();
            if double {
                let escaped = w.replace('\\', "\\\\").replace('"', "\\\"");
                self.out.push_str(&escaped);
                if self.rng.chance(20) {
                    let e = self.rng.pick(&[
                        "\\n",
                        "\\t",
                        "\\x41",
                        "\\u00e9",
                        "\\\"",
                        "\\ ",
                        "\\/",
                        "\\U0001F600",
                    ]);
                    self.out.push_str(e);
                }
            } else {
                self.out.push_str(&w.replace('\'', "''"));
            }
        }
        self.out.push(quote);
    }

    fn block_scalar(&mut self, indent: usize) {
        self.out.push(' ');
        self.out.push(if self.rng.chance(50) { '|' } else { '>' });
        let extra = 1 + self.rng.below(3);
        if self.rng.chance(20) {
            self.out.push_str(&extra.to_string());
        }
        let chomp = self.rng.pick(&["", "", "-", "+"]);
        self.out.push_str(chomp);
        self.line_end();
        for i in 0..1 + self.rng.below(3) {
            if i > 0 && self.rng.chance(20) {
                self.newline();
            }
            self.spaces(indent + extra);
            if self.rng.chance(10) {
                self.spaces(1);
            }
            let w = self.word();
            self.out.push_str(w);
            self.newline();
        }
        if self.rng.chance(15) {
            self.newline();
        }
    }
}

/// A mutated message, and whether the edit fell strictly inside a skipped value.
pub struct Mutated {
    pub text: Vec<u8>,
    pub inside_skipped: bool,
}

const INSERTS: &[u8] = b":- \n#\"'[]{}&*!|>\t?,%xy\\.";

/// One random edit: a byte inserted, deleted or replaced, a line re-indented, a truncation.
pub fn mutate(message: &Message, rng: &mut Rng) -> Mutated {
    let mut text = message.text.clone().into_bytes();
    if text.is_empty() {
        return Mutated {
            text,
            inside_skipped: false,
        };
    }
    let at = rng.below(text.len());
    match rng.below(5) {
        0 => text.insert(at, rng.pick(INSERTS)),
        1 => {
            text.remove(at);
        }
        2 => text[at] = rng.pick(INSERTS),
        3 => {
            let line = text[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1);
            if rng.chance(50) {
                text.insert(line, b' ');
            } else if text.get(line) == Some(&b' ') {
                text.remove(line);
            }
            return Mutated {
                text,
                inside_skipped: false,
            };
        }
        _ => {
            text.truncate(at);
            return Mutated {
                text,
                inside_skipped: false,
            };
        }
    }
    let inside_skipped = message
        .skipped
        .iter()
        .any(|span| span.start < at && at + 1 < span.end);
    Mutated {
        text,
        inside_skipped,
    }
}
