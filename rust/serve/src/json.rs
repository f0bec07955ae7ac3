//! The little JSON the line framing needs (docs/target-protocol.md, "Newline-delimited
//! JSON"): a request line is a JSON string or `{"base64": "..."}`; a reply line is written
//! with every string escaped. No JSON library: the crate builds offline from its lockfile.

/// A request line's payload bytes, or why the line is not a request.
pub fn request_payload(line: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(line).map_err(|_| "request line is not UTF-8".to_string())?;
    let mut cursor = Cursor { text, at: 0 };
    cursor.skip_space();
    let payload = match cursor.peek() {
        Some('"') => cursor.string()?.into_bytes(),
        Some('{') => base64_object(&mut cursor)?,
        _ => return Err("request line is neither a JSON string nor {'base64': ...}".into()),
    };
    cursor.skip_space();
    if cursor.at != text.len() {
        return Err("request line has text after its JSON value".into());
    }
    Ok(payload)
}

fn base64_object(cursor: &mut Cursor<'_>) -> Result<Vec<u8>, String> {
    cursor.expect('{')?;
    cursor.skip_space();
    let key = cursor.string()?;
    cursor.skip_space();
    cursor.expect(':')?;
    cursor.skip_space();
    let value = cursor.string()?;
    cursor.skip_space();
    cursor.expect('}')?;
    if key != "base64" {
        return Err("request line is neither a JSON string nor {'base64': ...}".into());
    }
    base64_decode(&value)
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    fn expect(&mut self, wanted: char) -> Result<(), String> {
        if self.peek() != Some(wanted) {
            return Err(format!(
                "request line is not JSON: expected {wanted:?} at {}",
                self.at
            ));
        }
        self.at += 1;
        Ok(())
    }

    /// A JSON string at the cursor, its escapes undone (surrogate pairs joined).
    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut out = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += offset + 1;
                    return Ok(out);
                }
                '\\' => out.push(unescape(&mut chars)?),
                '\u{0}'..='\u{1f}' => {
                    return Err("request line is not JSON: control character in a string".into());
                }
                c => out.push(c),
            }
        }
        Err("request line is not JSON: unterminated string".into())
    }
}

fn unescape(chars: &mut std::str::CharIndices<'_>) -> Result<char, String> {
    let bad = || "request line is not JSON: bad escape".to_string();
    let (_, c) = chars.next().ok_or_else(bad)?;
    Ok(match c {
        '"' | '\\' | '/' => c,
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let high = hex4(chars).ok_or_else(bad)?;
            if !(0xD800..0xDC00).contains(&high) {
                return char::from_u32(high).ok_or_else(bad);
            }
            // a high surrogate must be followed by an escaped low one
            if chars.next().map(|(_, c)| c) != Some('\\')
                || chars.next().map(|(_, c)| c) != Some('u')
            {
                return Err(bad());
            }
            let low = hex4(chars)
                .filter(|low| (0xDC00..0xE000).contains(low))
                .ok_or_else(bad)?;
            char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).ok_or_else(bad)?
        }
        _ => return Err(bad()),
    })
}

fn hex4(chars: &mut std::str::CharIndices<'_>) -> Option<u32> {
    (0..4).try_fold(0u32, |value, _| {
        Some(value * 16 + chars.next()?.1.to_digit(16)?)
    })
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let bad = || "request line's base64 is not valid".to_string();
    let digits = text.trim_end_matches('=');
    if !text.len().is_multiple_of(4) || text.len() - digits.len() > 2 {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut bits, mut held) = (0u32, 0u32);
    for byte in digits.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(bad()),
        };
        bits = (bits << 6) | u32::from(value);
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    Ok(out)
}

/// `"text"` with JSON's escapes, appended to `out`.
pub fn push_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{2028}' | '\u{2029}' => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes())
            }
            c => {
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_base64_objects_are_payloads() {
        assert_eq!(
            request_payload(br#""a: 1\nb: \"x\"""#).unwrap(),
            b"a: 1\nb: \"x\""
        );
        assert_eq!(
            request_payload(br#" "\u00e9\ud83d\ude00" "#).unwrap(),
            "é😀".as_bytes()
        );
        assert_eq!(
            request_payload(br#"{"base64": "/wA="}"#).unwrap(),
            [0xff, 0]
        );
        assert_eq!(request_payload(br#"{"base64":"YWJj"}"#).unwrap(), b"abc");
    }

    #[test]
    fn what_is_not_a_request_is_refused() {
        for line in [
            &b"42"[..],
            b"\"open",
            b"{\"b64\": \"YQ==\"}",
            b"{\"base64\": \"Y\"}",
            b"\"a\" x",
            b"\"\\ud800\"",
            b"\"\\q\"",
        ] {
            assert!(
                request_payload(line).is_err(),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn written_strings_read_back() {
        let text = "a\"b\\c\nd\u{1}é\u{2028}";
        let mut out = Vec::new();
        push_string(&mut out, text);
        assert_eq!(request_payload(&out).unwrap(), text.as_bytes());
    }
}
