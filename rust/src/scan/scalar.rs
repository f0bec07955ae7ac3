//! Scalars as YAML reads them: plain (multi-line folded), single and double quoted (escapes
//! and folding), and block scalars (`|`, `>`, chomping and indentation indicators). A value
//! is decoded into a `String` only when it is a routing value (`decode`); otherwise it is
//! walked for its extent.

use super::Fallback;
use super::block::{Scanner, Step, is_blank_or_eol, is_eol};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

fn push_breaks(text: &mut String, breaks: usize) {
    for _ in 0..breaks {
        text.push('\n');
    }
}

/// A folded line break: one becomes a space, `1 + k` become `k` newlines.
fn push_fold(text: &mut String, empty_lines: usize) {
    if empty_lines == 0 {
        text.push(' ');
    } else {
        push_breaks(text, empty_lines);
    }
}

impl Scanner<'_, '_> {
    /// One line of a plain scalar from `pos`: where its text ends (trailing spaces off) and
    /// whether a comment ends it; `pos` is left at the line break.
    fn plain_line(&mut self) -> Step<(usize, usize, bool)> {
        let start = self.pos;
        let mut end = start;
        loop {
            let c = self.peek();
            match c {
                b':' if is_blank_or_eol(self.at(self.pos + 1)) => return Err(Fallback),
                b' ' if self.at(self.pos + 1) == b'#' => {
                    self.skip_to_eol();
                    return Ok((start, end, true));
                }
                b' ' => {}
                _ if is_eol(c) => return Ok((start, end, false)),
                _ => end = self.pos + 1,
            }
            self.pos += 1;
        }
    }

    /// A plain scalar, with its continuation lines (more indented than `indent`, the
    /// column of the collection holding it); `pos` is left at the next line's start.
    pub(super) fn plain(&mut self, indent: usize, decode: bool) -> Step<Option<String>> {
        let (start, end, mut comment) = self.plain_line()?;
        let mut text = decode.then(|| self.text(start, end));
        self.skip_break();
        let mut breaks = 0;
        while !comment && self.continues_plain(indent, &mut breaks)? {
            let (start, end, ends_in_comment) = self.plain_line()?;
            if let Some(text) = &mut text {
                push_fold(text, breaks);
                text.push_str(&self.text(start, end));
            }
            breaks = 0;
            comment = ends_in_comment;
            self.skip_break();
        }
        Ok(text)
    }

    fn text(&self, start: usize, end: usize) -> String {
        // The scan only splits at ASCII bytes, so every slice is whole characters.
        String::from_utf8_lossy(&self.b[start..end]).into_owned()
    }

    /// After a line break inside a quoted scalar: the empty lines skipped, `pos` left past
    /// the indentation of the next line, which must be more indented than `indent`.
    fn quoted_fold(&mut self, indent: usize) -> Step<usize> {
        let mut empty = 0;
        loop {
            let spaces = self.skip_spaces();
            let c = self.peek();
            if is_eol(c) && c != 0 {
                empty += 1;
                self.skip_break();
                continue;
            }
            if c == 0 || spaces <= indent {
                return Err(Fallback);
            }
            return Ok(empty);
        }
    }

    /// A double-quoted routing value, escapes and folding undone.
    pub(super) fn double_quoted(&mut self, indent: usize) -> Step<String> {
        self.pos += 1;
        let mut text = String::new();
        let mut trim_to: Option<usize> = None; // where unescaped trailing spaces began
        loop {
            let c = self.peek();
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(text);
                }
                b'\\' => {
                    self.pos += 1;
                    trim_to = None;
                    if matches!(self.peek(), b'\r' | b'\n') {
                        self.skip_break();
                        let empty = self.quoted_fold(indent)?;
                        push_breaks(&mut text, empty);
                    } else {
                        let ch = self.escape()?;
                        text.push(ch);
                    }
                }
                _ => self.quoted_run(&mut text, &mut trim_to, indent, b'"')?,
            }
        }
    }

    /// What both quoted styles do with any byte but their quote and escape: a space is
    /// kept unless the line breaks after it (`trim_to` marks where trailing spaces began),
    /// a line break folds, the end of input falls back, and any other run of characters is
    /// taken up to the next byte one of these rules (or `quote`, or a backslash in a
    /// double-quoted scalar) applies to.
    fn quoted_run(
        &mut self,
        text: &mut String,
        trim_to: &mut Option<usize>,
        indent: usize,
        quote: u8,
    ) -> Step<()> {
        match self.peek() {
            b' ' => {
                trim_to.get_or_insert(text.len());
                text.push(' ');
                self.pos += 1;
            }
            b'\r' | b'\n' => {
                if let Some(at) = trim_to.take() {
                    text.truncate(at);
                }
                self.skip_break();
                let empty = self.quoted_fold(indent)?;
                push_fold(text, empty);
            }
            0 => return Err(Fallback),
            _ => {
                *trim_to = None;
                let start = self.pos;
                let escapes = quote == b'"';
                loop {
                    let c = self.peek();
                    if c == quote
                        || (escapes && c == b'\\')
                        || matches!(c, b' ' | b'\r' | b'\n' | 0)
                    {
                        break;
                    }
                    self.pos += 1;
                }
                text.push_str(&self.text(start, self.pos));
            }
        }
        Ok(())
    }

    /// The character a double-quoted escape stands for (`pos` after the backslash).
    fn escape(&mut self) -> Step<char> {
        let c = self.peek();
        self.pos += 1;
        let digits = match c {
            b'0' => return Ok('\0'),
            b'a' => return Ok('\x07'),
            b'b' => return Ok('\x08'),
            b't' => return Ok('\t'),
            b'n' => return Ok('\n'),
            b'v' => return Ok('\x0b'),
            b'f' => return Ok('\x0c'),
            b'r' => return Ok('\r'),
            b'e' => return Ok('\x1b'),
            b' ' => return Ok(' '),
            b'"' => return Ok('"'),
            b'/' => return Ok('/'),
            b'\\' => return Ok('\\'),
            b'N' => return Ok('\u{85}'),
            b'_' => return Ok('\u{a0}'),
            b'L' => return Ok('\u{2028}'),
            b'P' => return Ok('\u{2029}'),
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => return Err(Fallback),
        };
        let hex = self.b.get(self.pos..self.pos + digits).ok_or(Fallback)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(Fallback);
        }
        self.pos += digits;
        let code = u32::from_str_radix(std::str::from_utf8(hex).map_err(|_| Fallback)?, 16)
            .map_err(|_| Fallback)?;
        char::from_u32(code).ok_or(Fallback)
    }

    /// A single-quoted routing value, `''` and folding undone.
    pub(super) fn single_quoted(&mut self, indent: usize) -> Step<String> {
        self.pos += 1;
        let mut text = String::new();
        let mut trim_to: Option<usize> = None;
        loop {
            let c = self.peek();
            match c {
                b'\'' if self.at(self.pos + 1) == b'\'' => {
                    trim_to = None;
                    text.push('\'');
                    self.pos += 2;
                }
                b'\'' => {
                    self.pos += 1;
                    return Ok(text);
                }
                _ => self.quoted_run(&mut text, &mut trim_to, indent, b'\'')?,
            }
        }
    }

    /// A block scalar's header (`pos` at `|` or `>`): folded, explicit indentation, chomping.
    fn block_header(&mut self) -> Step<(bool, Option<usize>, Chomp)> {
        let folded = self.peek() == b'>';
        self.pos += 1;
        let (mut explicit, mut chomp) = (None, Chomp::Clip);
        for _ in 0..2 {
            match self.peek() {
                c @ b'1'..=b'9' if explicit.is_none() => explicit = Some(usize::from(c - b'0')),
                b'+' if chomp == Chomp::Clip => chomp = Chomp::Keep,
                b'-' if chomp == Chomp::Clip => chomp = Chomp::Strip,
                _ => break,
            }
            self.pos += 1;
        }
        if !is_blank_or_eol(self.peek()) {
            return Err(Fallback);
        }
        self.finish_line()?;
        Ok((folded, explicit, chomp))
    }

    /// The content indentation of a block scalar without an indicator: its first non-empty
    /// line's, which must be deeper than `indent`, with no longer empty line before it.
    fn detect_indent(&self, indent: usize) -> Step<usize> {
        let (mut i, mut longest_empty) = (self.pos, 0);
        loop {
            let start = i;
            while self.at(i) == b' ' {
                i += 1;
            }
            let spaces = i - start;
            let c = self.at(i);
            if c == 0 {
                return Err(Fallback); // empty to the end of input
            }
            if is_eol(c) {
                longest_empty = longest_empty.max(spaces);
                i += if c == b'\r' { 2 } else { 1 };
                continue;
            }
            if spaces <= indent || longest_empty > spaces {
                return Err(Fallback);
            }
            return Ok(spaces);
        }
    }

    /// A block scalar in a collection at column `indent`; its content when `decode`.
    /// `pos` is left at the start of the first line after it.
    pub(super) fn block_scalar(&mut self, indent: usize, decode: bool) -> Step<Option<String>> {
        let (folded, explicit, chomp) = self.block_header()?;
        let content = match explicit {
            Some(extra) => indent + extra,
            None => self.detect_indent(indent)?,
        };
        let mut text = decode.then(String::new);
        let (mut empty, mut any) = (0usize, false);
        loop {
            let start = self.pos;
            let spaces = self.skip_spaces();
            let c = self.peek();
            if c == 0 {
                if spaces > 0 {
                    return Err(Fallback);
                }
                break;
            }
            if is_eol(c) {
                // Spaces past the content indentation would be content: not handled here.
                if spaces > content {
                    return Err(Fallback);
                }
                empty += 1;
                self.skip_break();
                continue;
            }
            if spaces < content {
                self.pos = start;
                self.line_start = start;
                break;
            }
            if folded && spaces > content {
                return Err(Fallback); // more-indented lines fold differently
            }
            let line = start + content;
            self.skip_to_eol();
            if self.peek() == 0 {
                return Err(Fallback); // no final line break
            }
            if let Some(text) = &mut text {
                match (any, folded) {
                    (false, _) => push_breaks(text, empty),
                    (true, false) => push_breaks(text, empty + 1),
                    (true, true) => push_fold(text, empty),
                }
                text.push_str(&self.text(line, self.pos));
            }
            any = true;
            empty = 0;
            self.skip_break();
        }
        if !any {
            return Err(Fallback);
        }
        if let Some(text) = &mut text {
            match chomp {
                Chomp::Strip => {}
                Chomp::Clip => text.push('\n'),
                Chomp::Keep => push_breaks(text, empty + 1),
            }
        }
        Ok(text)
    }
}
