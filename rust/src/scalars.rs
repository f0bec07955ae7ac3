//! Which plain (unquoted, untagged) scalars are strings.
//!
//! The DOM backends resolve plain scalars with PyYAML's YAML 1.1 implicit resolvers, so
//! `player_id: 42` is an int there and a schema error for routing. The event walker applies
//! the same resolvers here, so all backends agree on what "a YAML string" is.

/// The type a plain scalar resolves to, or `None` when it stays a string.
pub fn plain_scalar_type(value: &str) -> Option<&'static str> {
    if is_null(value) {
        Some("null")
    } else if is_bool(value) {
        Some("bool")
    } else if is_int(value) {
        Some("int")
    } else if is_float(value) {
        Some("float")
    } else if is_timestamp(value) {
        Some("timestamp")
    } else {
        None
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

fn strip_sign(value: &str) -> &str {
    value.strip_prefix(['-', '+']).unwrap_or(value)
}

fn all_of(text: &str, allowed: impl Fn(u8) -> bool) -> bool {
    !text.is_empty() && text.bytes().all(allowed)
}

fn is_digits_(text: &str) -> bool {
    all_of(text, |b| b.is_ascii_digit() || b == b'_')
}

/// `:[0-5]?[0-9]` groups of a base-60 number, e.g. `:30:15`.
fn is_sexagesimal_tail(tail: &str) -> bool {
    !tail.is_empty()
        && tail.split(':').skip(1).all(|part| {
            let bytes = part.as_bytes();
            match bytes {
                [d] => d.is_ascii_digit(),
                [h, d] => (b'0'..=b'5').contains(h) && d.is_ascii_digit(),
                _ => false,
            }
        })
        && tail.starts_with(':')
}

fn is_int(value: &str) -> bool {
    let body = strip_sign(value);
    if let Some(bits) = body.strip_prefix("0b") {
        return all_of(bits, |b| matches!(b, b'0' | b'1' | b'_'));
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return all_of(hex, |b| b.is_ascii_hexdigit() || b == b'_');
    }
    if body == "0" {
        return true;
    }
    if let Some(octal) = body.strip_prefix('0') {
        return all_of(octal, |b| matches!(b, b'0'..=b'7' | b'_'));
    }
    let (head, tail) = body.split_at(body.find(':').unwrap_or(body.len()));
    let decimal = head.starts_with(|c: char| c.is_ascii_digit()) && is_digits_(head);
    decimal && (tail.is_empty() || is_sexagesimal_tail(tail))
}

fn is_float(value: &str) -> bool {
    if matches!(value, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let body = strip_sign(value);
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['-', '+']);
        if !digits.is_some_and(|d| all_of(d, |b| b.is_ascii_digit())) {
            return false;
        }
    }
    let Some(dot) = mantissa.find('.') else {
        return false;
    };
    let (whole, fraction) = (&mantissa[..dot], &mantissa[dot + 1..]);
    let fraction_ok = fraction.is_empty() || is_digits_(fraction);
    if whole.is_empty() {
        // PyYAML's `\.[0-9]...` form takes no sign: `-.5` stays a string.
        return body.len() == value.len()
            && fraction.starts_with(|c: char| c.is_ascii_digit())
            && fraction_ok;
    }
    let (head, tail) = whole.split_at(whole.find(':').unwrap_or(whole.len()));
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit()) && is_digits_(head);
    head_ok && (tail.is_empty() || is_sexagesimal_tail(tail)) && fraction_ok
}

/// `YYYY-MM-DD` with an optional time part, as PyYAML's timestamp resolver reads it.
fn is_timestamp(value: &str) -> bool {
    let bytes = value.as_bytes();
    let year = bytes.len() >= 8 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-';
    if !year {
        return false;
    }
    let mut parts = value[5..].splitn(2, '-');
    let month = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let month_ok = (1..=2).contains(&month.len()) && all_of(month, |b| b.is_ascii_digit());
    let after_day = &rest[day_len..];
    let time_ok =
        after_day.is_empty() || after_day.starts_with(['T', 't', ' ', '\t']) && after_day.len() > 1;
    month_ok && (1..=2).contains(&day_len) && time_ok
}

#[cfg(test)]
mod tests {
    use super::plain_scalar_type;

    #[test]
    fn strings_stay_strings() {
        for text in [
            "login", "p-000042", "s-9f3c", "1e5", "0x", "abc123", "12ab", "2024-1", "1.2.3", "-.5",
        ] {
            assert_eq!(plain_scalar_type(text), None, "{text:?}");
        }
    }

    #[test]
    fn resolved_types_match_pyyaml() {
        let cases = [
            ("", "null"),
            ("~", "null"),
            ("NULL", "null"),
            ("yes", "bool"),
            ("Off", "bool"),
            ("42", "int"),
            ("-0b1010", "int"),
            ("0x1F", "int"),
            ("017", "int"),
            ("1_000", "int"),
            ("190:20:30", "int"),
            ("3.14", "float"),
            (".5", "float"),
            ("1.0e+3", "float"),
            ("-.inf", "float"),
            (".NaN", "float"),
            ("2024-05-01", "timestamp"),
            ("2024-05-01T10:00:00Z", "timestamp"),
        ];
        for (text, expected) in cases {
            assert_eq!(plain_scalar_type(text), Some(expected), "{text:?}");
        }
    }
}
