//! What a scalar resolves to, as PyYAML's SafeLoader (YAML 1.1) reads it.
//!
//! Plain scalars go through PyYAML's implicit resolvers, transcribed from its regular
//! expressions (`yaml/resolver.py`) one by one; tagged scalars take their tag's type, and
//! [`fits`] says whether SafeConstructor could build the value (`!!int abc`, `2024-02-30`
//! cannot). docs/routing.md holds the rules; the tests below hold PyYAML's answers.

/// The YAML type of a scalar, as far as routing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    Str,
    Null,
    Bool,
    Int,
    Float,
    Timestamp,
    Binary,
    /// A type a scalar cannot hold (`!!map x`) or that SafeConstructor has no constructor
    /// for (plain `<<` or `=` outside a key): never a routable value.
    Other(&'static str),
}

impl ScalarType {
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Str => "str",
            ScalarType::Null => "null",
            ScalarType::Bool => "bool",
            ScalarType::Int => "int",
            ScalarType::Float => "float",
            ScalarType::Timestamp => "timestamp",
            ScalarType::Binary => "binary",
            ScalarType::Other(name) => name,
        }
    }
}

/// The type a plain (unquoted, untagged) scalar resolves to.
pub fn resolve_plain(value: &str) -> ScalarType {
    if is_null(value) {
        ScalarType::Null
    } else if is_bool(value) {
        ScalarType::Bool
    } else if is_float(value) {
        ScalarType::Float
    } else if is_int(value) {
        ScalarType::Int
    } else if timestamp(value).is_some() {
        ScalarType::Timestamp
    } else if value == "<<" {
        ScalarType::Other("merge")
    } else if value == "=" {
        ScalarType::Other("value")
    } else {
        ScalarType::Str
    }
}

/// The type a scalar tagged `tag:yaml.org,2002:NAME` takes.
pub fn resolve_tagged(name: &str) -> ScalarType {
    match name {
        "str" => ScalarType::Str,
        "null" => ScalarType::Null,
        "bool" => ScalarType::Bool,
        "int" => ScalarType::Int,
        "float" => ScalarType::Float,
        "timestamp" => ScalarType::Timestamp,
        "binary" => ScalarType::Binary,
        "map" => ScalarType::Other("map"),
        "seq" => ScalarType::Other("seq"),
        "set" => ScalarType::Other("set"),
        "omap" => ScalarType::Other("omap"),
        "pairs" => ScalarType::Other("pairs"),
        "merge" => ScalarType::Other("merge"),
        _ => ScalarType::Other("value"),
    }
}

/// Whether SafeConstructor builds a value of `kind` from `text` without an error.
pub fn fits(kind: ScalarType, text: &str) -> bool {
    match kind {
        ScalarType::Str | ScalarType::Null => true,
        ScalarType::Bool => is_bool_word(text),
        ScalarType::Int => is_int(text) && int_digits_present(text),
        ScalarType::Float => is_float(text) || is_int(text) || is_python_float(text),
        ScalarType::Timestamp => timestamp(text).is_some_and(|t| t.is_real()),
        ScalarType::Binary => is_base64(text),
        ScalarType::Other(_) => false,
    }
}

/// The old API: `None` for a string, else the type's name.
pub fn plain_scalar_type(value: &str) -> Option<&'static str> {
    match resolve_plain(value) {
        ScalarType::Str => None,
        other => Some(other.name()),
    }
}

fn is_null(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

fn is_bool(value: &str) -> bool {
    matches!(
        value,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `construct_yaml_bool` looks the lowered text up, so an explicit `!!bool tRuE` is true.
fn is_bool_word(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "yes" | "no" | "true" | "false" | "on" | "off"
    )
}

/// A cursor over a scalar's bytes for the resolver patterns.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn eat_any(&mut self, set: &[u8]) -> bool {
        let found = self.peek().is_some_and(|b| set.contains(&b));
        self.at += usize::from(found);
        found
    }

    /// Consume bytes while `allowed`; how many.
    fn run(&mut self, allowed: impl Fn(u8) -> bool) -> usize {
        let start = self.at;
        while self.peek().is_some_and(&allowed) {
            self.at += 1;
        }
        self.at - start
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn sign(&mut self) {
        self.eat_any(b"-+");
    }
}

fn digit_(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// `(?::[0-5]?[0-9])+`: one or more base-60 groups.
fn sexagesimal_groups(c: &mut Cursor<'_>) -> bool {
    let mut groups = 0;
    while c.eat(b':') {
        match c.rest() {
            [h, d, ..] if (b'0'..=b'5').contains(h) && d.is_ascii_digit() => c.at += 2,
            [d, ..] if d.is_ascii_digit() => c.at += 1,
            _ => return false,
        }
        groups += 1;
    }
    groups > 0
}

/// PyYAML's int: `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*)
/// | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`.
fn is_int(value: &str) -> bool {
    let mut c = Cursor::new(value);
    c.sign();
    let body = c.at;
    let whole = |c: &mut Cursor<'_>, allowed: fn(u8) -> bool| c.run(allowed) > 0 && c.done();
    if value[body..].starts_with("0b") {
        c.at += 2;
        return whole(&mut c, |b| matches!(b, b'0' | b'1' | b'_'));
    }
    if value[body..].starts_with("0x") {
        c.at += 2;
        return whole(&mut c, |b| b.is_ascii_hexdigit() || b == b'_');
    }
    if c.eat(b'0') {
        return c.done() || whole(&mut c, |b| matches!(b, b'0'..=b'7' | b'_'));
    }
    if !c.eat_any(b"123456789") {
        return false;
    }
    c.run(digit_);
    c.done() || (sexagesimal_groups(&mut c) && c.done())
}

/// `construct_yaml_int` drops `_` before `int(...)`: `0b_` and `0x_` leave no digits.
fn int_digits_present(value: &str) -> bool {
    let body = value.trim_start_matches(['-', '+']);
    let digits = body
        .strip_prefix("0b")
        .or_else(|| body.strip_prefix("0x"))
        .unwrap_or(body);
    digits.bytes().any(|b| b != b'_')
}

/// `[eE][-+][0-9]+`, optional (PyYAML insists on the exponent's sign).
fn exponent(c: &mut Cursor<'_>) -> bool {
    if !c.eat_any(b"eE") {
        return true;
    }
    c.eat_any(b"-+") && c.run(|b| b.is_ascii_digit()) > 0
}

/// PyYAML's float: `[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
/// | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)? | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
/// | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`.
fn is_float(value: &str) -> bool {
    if matches!(value, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let mut c = Cursor::new(value);
    c.sign();
    let signed = c.at > 0;
    if matches!(c.rest(), b".inf" | b".Inf" | b".INF") {
        return true;
    }
    if c.eat(b'.') {
        // the `\.[0-9]...` form takes no sign: `-.5` stays a string
        return !signed
            && c.eat_any(b"0123456789")
            && {
                c.run(digit_);
                exponent(&mut c)
            }
            && c.done();
    }
    if !c.eat_any(b"0123456789") {
        return false;
    }
    c.run(digit_);
    if c.peek() == Some(b':') {
        return sexagesimal_groups(&mut c) && c.eat(b'.') && {
            c.run(digit_);
            c.done()
        };
    }
    c.eat(b'.')
        && {
            c.run(digit_);
            exponent(&mut c)
        }
        && c.done()
}

/// What Python's `float()` takes beyond the resolver's forms (`!!float 1e3`): digits with an
/// optional fraction and an exponent whose sign is optional.
fn is_python_float(text: &str) -> bool {
    let mut c = Cursor::new(text.trim());
    c.sign();
    let whole = c.run(|b| b.is_ascii_digit());
    let fraction = if c.eat(b'.') {
        c.run(|b| b.is_ascii_digit())
    } else {
        0
    };
    if whole + fraction == 0 {
        return false;
    }
    if c.eat_any(b"eE") {
        c.sign();
        if c.run(|b| b.is_ascii_digit()) == 0 {
            return false;
        }
    }
    c.done()
}

/// The fields of a scalar PyYAML's timestamp resolver accepts.
struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    time: Option<(u32, u32, u32)>,
    zone_hours: u32,
}

impl Timestamp {
    /// Whether `construct_yaml_timestamp` builds it: a real date, a real time of day, and an
    /// offset under a day.
    fn is_real(&self) -> bool {
        let leap = self.year.is_multiple_of(4)
            && (!self.year.is_multiple_of(100) || self.year.is_multiple_of(400));
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        let date = (1..=9999).contains(&self.year) && (1..=days).contains(&self.day);
        let time = self
            .time
            .is_none_or(|(hour, minute, second)| hour < 24 && minute < 60 && second < 60);
        date && time && self.zone_hours < 24
    }
}

/// Read exactly `min..=max` digits as a number.
fn number(c: &mut Cursor<'_>, min: usize, max: usize) -> Option<u32> {
    let start = c.at;
    let count = c.run(|b| b.is_ascii_digit()).min(max);
    c.at = start + count;
    (count >= min).then(|| {
        c.bytes[start..c.at]
            .iter()
            .fold(0, |n, d| n * 10 + u32::from(d - b'0'))
    })
}

/// PyYAML's timestamp: `YYYY-MM-DD`, or `YYYY-M-D` followed by `T`/`t`/blanks and
/// `H:MM:SS`, an optional fraction and an optional `Z` or `±H[:MM]` offset.
fn timestamp(value: &str) -> Option<Timestamp> {
    let mut c = Cursor::new(value);
    let year = number(&mut c, 4, 4)?;
    c.eat(b'-').then_some(())?;
    let date_only = value.len() == 10;
    let (month, day) = if date_only {
        let month = number(&mut c, 2, 2)?;
        c.eat(b'-').then_some(())?;
        (month, number(&mut c, 2, 2)?)
    } else {
        let month = number(&mut c, 1, 2)?;
        c.eat(b'-').then_some(())?;
        (month, number(&mut c, 1, 2)?)
    };
    let mut stamp = Timestamp {
        year,
        month,
        day,
        time: None,
        zone_hours: 0,
    };
    if c.done() {
        return date_only.then_some(stamp);
    }
    if !c.eat_any(b"Tt") && c.run(|b| b == b' ' || b == b'\t') == 0 {
        return None;
    }
    let hour = number(&mut c, 1, 2)?;
    c.eat(b':').then_some(())?;
    let minute = number(&mut c, 2, 2)?;
    c.eat(b':').then_some(())?;
    let second = number(&mut c, 2, 2)?;
    stamp.time = Some((hour, minute, second));
    if c.eat(b'.') {
        c.run(|b| b.is_ascii_digit());
    }
    c.run(|b| b == b' ' || b == b'\t');
    if c.eat(b'Z') || c.done() {
        return c.done().then_some(stamp);
    }
    c.eat_any(b"-+").then_some(())?;
    stamp.zone_hours = number(&mut c, 1, 2)?;
    if c.eat(b':') {
        number(&mut c, 2, 2)?;
    }
    c.done().then_some(stamp)
}

/// What `base64.decodebytes` accepts: ASCII, and once everything outside the alphabet is
/// dropped, whole 4-character groups with `=` padding only at the end.
fn is_base64(text: &str) -> bool {
    if !text.is_ascii() {
        return false;
    }
    let data: Vec<u8> = text
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .collect();
    let padding = data.iter().rev().take_while(|b| **b == b'=').count();
    data.len().is_multiple_of(4) && padding <= 2 && !data[..data.len() - padding].contains(&b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stay_strings() {
        for text in [
            "login",
            "p-000042",
            "s-9f3c",
            "1e5",
            "1.0e3",
            "0x",
            "abc123",
            "12ab",
            "2024-1",
            "1.2.3",
            "-.5",
            "0o17",
            "09",
            "0:30",
            "._",
            "2024-05-01 10:00",
            "2024-05-01T10:00",
            "2024-5-1",
            "2024-05-1",
            "1:60",
            "+.5",
        ] {
            assert_eq!(resolve_plain(text), ScalarType::Str, "{text:?}");
        }
    }

    #[test]
    fn resolved_types_match_pyyaml() {
        use ScalarType::*;
        let cases = [
            ("", Null),
            ("~", Null),
            ("NULL", Null),
            ("yes", Bool),
            ("Off", Bool),
            ("42", Int),
            ("-0b1010", Int),
            ("0x1F", Int),
            ("017", Int),
            ("0", Int),
            ("1_000", Int),
            ("190:20:30", Int),
            ("0b_", Int),
            ("3.14", Float),
            (".5", Float),
            ("1.", Float),
            ("1.0e+3", Float),
            ("190:20:30.15", Float),
            ("-.inf", Float),
            (".NaN", Float),
            ("2024-05-01", Timestamp),
            ("2024-02-30", Timestamp),
            ("2024-05-01T10:00:00Z", Timestamp),
            ("2024-1-1 1:00:00", Timestamp),
            ("2024-01-01t1:00:00.5 +05:30", Timestamp),
            ("0000-00-00 00:00:00", Timestamp),
            ("<<", Other("merge")),
            ("=", Other("value")),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve_plain(text), expected, "{text:?}");
        }
    }

    #[test]
    fn fits_says_what_safe_constructor_builds() {
        use ScalarType::*;
        let builds = [
            (Int, "0x1F"),
            (Bool, "tRuE"),
            (Float, "1e3"),
            (Float, "42"),
            (Timestamp, "2024-02-29"),
            (Timestamp, "2024-05-01 23:59:59 -1"),
            (Binary, "aGVsbG8="),
            (Binary, "aGVs\nbG8h"),
        ];
        for (kind, text) in builds {
            assert!(fits(kind, text), "{kind:?} {text:?}");
        }
        let refused = [
            (Int, "abc"),
            (Int, "0b_"),
            (Bool, "maybe"),
            (Float, "x1"),
            (Timestamp, "2024-02-30"),
            (Timestamp, "2023-02-29"),
            (Timestamp, "0000-00-00 00:00:00"),
            (Timestamp, "2024-05-01 24:00:00"),
            (Timestamp, "2024-05-01 10:00:00 +24"),
            (Binary, "abc"),
            (Binary, "ab=c"),
            (Other("map"), "x"),
        ];
        for (kind, text) in refused {
            assert!(!fits(kind, text), "{kind:?} {text:?}");
        }
    }
}
