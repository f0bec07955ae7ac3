//! The block structure: lines, indentation, mappings and sequences. Every value is walked
//! (so nesting depth, node starts and the rest of each line are seen), but only routing
//! keys and values are decoded.

use super::anchors::Anchors;
use super::spec::ScanSpec;
use super::{Fallback, Scanned};
use crate::Limits;
use crate::scalars::{ScalarType, fits, resolve_plain};
use crate::spec::FieldKind;

pub(super) type Step<T> = Result<T, Fallback>;

/// The end of input reads as NUL, which never occurs in a scanned document.
const EOF: u8 = 0;

pub(super) fn is_eol(c: u8) -> bool {
    matches!(c, b'\n' | b'\r' | EOF)
}

pub(super) fn is_blank_or_eol(c: u8) -> bool {
    c == b' ' || is_eol(c)
}

/// Characters that may not start a plain scalar in block context (`-`, `?`, `:` only when
/// a blank follows; those are checked apart).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b',' | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

pub(super) struct Scanner<'a, 's> {
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
    pub(super) line_start: usize,
    spec: &'s ScanSpec,
    pub(super) max_depth: usize,
    pub(super) max_alias_expansion: u64,
    pub(super) anchors: Anchors,
    out: Vec<Option<String>>,
}

/// What a block mapping's key is to the scan.
enum Key {
    /// No routing field goes through it.
    Other,
    /// A routing step's key.
    Step(usize),
    /// `<<` in a mapping no routing field goes through.
    Merge,
}

impl<'a, 's> Scanner<'a, 's> {
    pub(super) fn new(b: &'a [u8], spec: &'s ScanSpec, limits: &Limits) -> Self {
        Self {
            b,
            pos: 0,
            line_start: 0,
            spec,
            max_depth: limits.max_depth,
            max_alias_expansion: limits.max_alias_expansion as u64,
            anchors: Anchors::default(),
            out: Vec::new(),
        }
    }

    pub(super) fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(EOF)
    }

    pub(super) fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    fn col(&self) -> usize {
        self.pos - self.line_start
    }

    /// The whole document: one block mapping, then nothing but blank and comment lines.
    pub(super) fn document(mut self) -> Scanned {
        self.out = vec![None; self.spec.fields];
        let Some(indent) = self.next_content_line()? else {
            return Err(Fallback);
        };
        self.pos += indent;
        if !self.looks_like_key() {
            return Err(Fallback);
        }
        self.block_mapping(indent, 1, Some(0))?;
        if self.next_content_line()?.is_some() {
            return Err(Fallback);
        }
        self.out
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or(Fallback)
    }

    pub(super) fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek() == b' ' {
            self.pos += 1;
        }
        self.pos - start
    }

    pub(super) fn skip_to_eol(&mut self) {
        while !is_eol(self.peek()) {
            self.pos += 1;
        }
    }

    /// Past the line break at `pos` (CRLF or LF; a lone CR never reaches the scan).
    pub(super) fn skip_break(&mut self) {
        if self.peek() == b'\r' {
            self.pos += 1;
        }
        if self.peek() == b'\n' {
            self.pos += 1;
        }
        self.line_start = self.pos;
    }

    /// The rest of the line after a node: spaces, maybe a comment, the break.
    pub(super) fn finish_line(&mut self) -> Step<()> {
        let spaced = self.skip_spaces() > 0;
        let c = self.peek();
        if c == b'#' && spaced {
            self.skip_to_eol();
        } else if !is_eol(c) {
            return Err(Fallback);
        }
        self.skip_break();
        Ok(())
    }

    /// Skip blank and comment lines; the indentation of the next content line (`pos` left at
    /// its start), or `None` at the end of the input.
    pub(super) fn next_content_line(&mut self) -> Step<Option<usize>> {
        loop {
            if self.pos >= self.b.len() {
                return Ok(None);
            }
            let mut i = self.pos;
            while self.at(i) == b' ' {
                i += 1;
            }
            let indent = i - self.pos;
            let c = self.at(i);
            if is_eol(c) || c == b'#' {
                self.pos = i;
                self.skip_to_eol();
                self.skip_break();
                continue;
            }
            if indent == 0 && self.at_marker(i) {
                return Err(Fallback);
            }
            return Ok(Some(indent));
        }
    }

    /// A directive or a document marker at the start of a line.
    fn at_marker(&self, i: usize) -> bool {
        let c = self.at(i);
        c == b'%'
            || (c == b'-' || c == b'.')
                && self.at(i + 1) == c
                && self.at(i + 2) == c
                && is_blank_or_eol(self.at(i + 3))
    }

    /// A block mapping whose first key is at `pos`, in column `indent`; `step` is the
    /// routing step it stands for, if any.
    pub(super) fn block_mapping(
        &mut self,
        indent: usize,
        depth: usize,
        step: Option<usize>,
    ) -> Step<()> {
        if depth > self.max_depth {
            return Err(Fallback);
        }
        let mut seen = 0u64;
        loop {
            self.entry(indent, depth, step, &mut seen)?;
            match self.next_content_line()? {
                Some(i) if i == indent => self.pos += i,
                Some(i) if i < indent => break,
                None => break,
                Some(_) => return Err(Fallback),
            }
        }
        // A key on the path missing here (or brought by a merge key): the full parser says.
        match step {
            Some(s) if seen != self.spec.steps[s].child_mask => Err(Fallback),
            _ => Ok(()),
        }
    }

    fn entry(
        &mut self,
        indent: usize,
        depth: usize,
        step: Option<usize>,
        seen: &mut u64,
    ) -> Step<()> {
        let child = match self.key(step)? {
            Key::Other => return self.skip_value(indent, depth),
            Key::Merge => return self.merge_value(),
            Key::Step(child) => child,
        };
        // A routing key named twice is a schema error: the full parser reports it.
        if *seen & 1 << child != 0 {
            return Err(Fallback);
        }
        *seen |= 1 << child;
        match self.spec.steps[child].field {
            Some((field, kind)) => {
                let value = self.routing_value(indent, kind)?;
                self.out[field] = Some(value);
                Ok(())
            }
            None => self.routing_mapping(indent, depth, child),
        }
    }

    /// A key and its `:`; the child step it names when `step` is a routing mapping.
    fn key(&mut self, step: Option<usize>) -> Step<Key> {
        let c = self.peek();
        let matched = if c == b'"' || c == b'\'' {
            let start = self.pos + 1;
            let end = self.quoted_key_end(c).ok_or(Fallback)?;
            let text = &self.b[start..end];
            self.pos = end + 1;
            self.skip_spaces();
            if self.peek() != b':' || !is_blank_or_eol(self.at(self.pos + 1)) {
                return Err(Fallback);
            }
            match step {
                // Escapes in a key on a routing mapping: not decoded here.
                Some(_) if text.contains(&b'\\') || c == b'\'' && text.contains(&b'\'') => {
                    return Err(Fallback);
                }
                Some(s) => self.spec.child(s, text).map_or(Key::Other, Key::Step),
                None => Key::Other,
            }
        } else {
            if is_indicator(c)
                || matches!(c, b'-' | b'?' | b':') && is_blank_or_eol(self.at(self.pos + 1))
            {
                return Err(Fallback);
            }
            let start = self.pos;
            loop {
                let c = self.peek();
                if c == b':' && is_blank_or_eol(self.at(self.pos + 1)) {
                    break;
                }
                if is_eol(c) || c == b' ' && self.at(self.pos + 1) == b'#' {
                    return Err(Fallback);
                }
                self.pos += 1;
            }
            let mut end = self.pos;
            while self.b[end - 1] == b' ' {
                end -= 1;
            }
            let text = &self.b[start..end];
            if end - start > 1000 {
                return Err(Fallback);
            }
            match step {
                // A merge key on a routing mapping may bring routing fields: the full parser.
                Some(_) if text == b"<<" => return Err(Fallback),
                None if text == b"<<" => Key::Merge,
                None => Key::Other,
                Some(s) => self
                    .spec
                    .child(s, text)
                    .filter(|_| {
                        let text = std::str::from_utf8(text).unwrap_or("");
                        resolve_plain(text) == ScalarType::Str
                    })
                    .map_or(Key::Other, Key::Step),
            }
        };
        self.pos += 1; // the ':'
        Ok(matched)
    }

    /// Where a quoted key closes on its line (`pos` at the opening quote).
    fn quoted_key_end(&self, quote: u8) -> Option<usize> {
        let mut i = self.pos + 1;
        loop {
            let c = self.at(i);
            if is_eol(c) {
                return None;
            }
            if c == b'\\' && quote == b'"' {
                if is_eol(self.at(i + 1)) {
                    return None; // an escaped line break: a key never spans lines
                }
                i += 2;
                continue;
            }
            if c == quote {
                if quote == b'\'' && self.at(i + 1) == b'\'' {
                    i += 2;
                    continue;
                }
                return Some(i);
            }
            i += 1;
        }
    }

    /// Whether the node at `pos` is a block mapping's first key (looked at, not consumed).
    pub(super) fn looks_like_key(&self) -> bool {
        let c = self.peek();
        let mut i = if c == b'"' || c == b'\'' {
            match self.quoted_key_end(c) {
                Some(end) => end + 1,
                None => return false,
            }
        } else if is_indicator(c)
            || matches!(c, b'-' | b'?' | b':') && is_blank_or_eol(self.at(self.pos + 1))
        {
            return false;
        } else {
            let mut i = self.pos;
            loop {
                let c = self.at(i);
                if c == b':' && is_blank_or_eol(self.at(i + 1)) {
                    return true;
                }
                if is_eol(c) || c == b' ' && self.at(i + 1) == b'#' {
                    return false;
                }
                i += 1;
            }
        };
        while self.at(i) == b' ' {
            i += 1;
        }
        self.at(i) == b':' && is_blank_or_eol(self.at(i + 1))
    }

    /// A routing field's value: a scalar of the field's kind, else the full parser decides.
    fn routing_value(&mut self, indent: usize, kind: FieldKind) -> Step<String> {
        self.skip_spaces();
        let c = self.peek();
        if is_eol(c) || c == b'#' {
            self.finish_line()?;
            match self.next_content_line()? {
                Some(i) if i > indent => self.pos += i,
                _ => return Err(Fallback), // null
            }
        }
        let (text, plain) = match self.peek() {
            b'"' => {
                let text = self.double_quoted(indent)?;
                self.finish_line()?;
                (text, false)
            }
            b'\'' => {
                let text = self.single_quoted(indent)?;
                self.finish_line()?;
                (text, false)
            }
            b'|' | b'>' => (self.block_scalar(indent, true)?.ok_or(Fallback)?, false),
            c if is_indicator(c) => return Err(Fallback),
            c if matches!(c, b'-' | b'?' | b':') && is_blank_or_eol(self.at(self.pos + 1)) => {
                return Err(Fallback);
            }
            _ => (self.plain(indent, true)?.ok_or(Fallback)?, true),
        };
        if plain {
            // YAML 1.1 resolution, and the text must fit its type, as in the full parser.
            let resolved = resolve_plain(&text);
            let routable = match kind {
                FieldKind::String => resolved == ScalarType::Str,
                FieldKind::Scalar => resolved != ScalarType::Null && fits(resolved, &text),
            };
            if !routable {
                return Err(Fallback);
            }
        }
        Ok(text)
    }

    /// The mapping an intermediate routing key leads to: a block mapping on the next lines.
    fn routing_mapping(&mut self, indent: usize, depth: usize, step: usize) -> Step<()> {
        self.finish_line()?;
        match self.next_content_line()? {
            Some(i) if i > indent => {
                self.pos += i;
                self.block_mapping(i, depth + 1, Some(step))
            }
            _ => Err(Fallback),
        }
    }

    /// The value of `<<` where no routing field goes: an alias of a mapping, counted like
    /// any alias. Any other merge value (a list, an inline mapping) goes to the full parser.
    fn merge_value(&mut self) -> Step<()> {
        self.skip_spaces();
        if self.peek() != b'*' || !self.alias()? {
            return Err(Fallback);
        }
        self.finish_line()
    }

    /// Any value after a key that no routing field goes through.
    fn skip_value(&mut self, indent: usize, depth: usize) -> Step<()> {
        self.skip_spaces();
        let c = self.peek();
        if c == b'&' {
            return self.anchored(indent, depth);
        }
        if !(is_eol(c) || c == b'#') {
            return self.inline_node(indent, depth);
        }
        self.finish_line()?;
        match self.next_content_line()? {
            Some(i) if i > indent => {
                self.pos += i;
                self.node_on_own_line(indent, depth)
            }
            Some(i) if i == indent && self.at_dash(self.pos + i) => {
                self.pos += i;
                self.block_sequence(i, depth + 1)
            }
            _ => Ok(()), // null
        }
    }

    pub(super) fn at_dash(&self, i: usize) -> bool {
        self.at(i) == b'-' && is_blank_or_eol(self.at(i + 1))
    }

    /// A node starting its own line at `pos`, inside a collection at column `indent`.
    fn node_on_own_line(&mut self, indent: usize, depth: usize) -> Step<()> {
        let col = self.col();
        if self.at_dash(self.pos) {
            self.block_sequence(col, depth + 1)
        } else if self.looks_like_key() {
            self.block_mapping(col, depth + 1, None)
        } else {
            self.inline_node(indent, depth)
        }
    }

    /// A node that is not a block collection: scalar, flow collection or block scalar.
    pub(super) fn inline_node(&mut self, indent: usize, depth: usize) -> Step<()> {
        match self.peek() {
            b'"' => {
                self.skip_double(indent)?;
                self.finish_line()
            }
            b'\'' => {
                self.skip_single(indent)?;
                self.finish_line()
            }
            b'[' | b'{' => {
                self.skip_flow(indent, depth + 1)?;
                self.finish_line()
            }
            b'|' | b'>' => self.block_scalar(indent, false).map(drop),
            b'*' => {
                self.alias()?;
                self.finish_line()
            }
            c if is_indicator(c) => Err(Fallback),
            c if matches!(c, b'-' | b'?' | b':') && is_blank_or_eol(self.at(self.pos + 1)) => {
                Err(Fallback)
            }
            _ => self.plain(indent, false).map(drop),
        }
    }

    /// A block sequence whose first `-` is at `pos`, in column `indent`.
    pub(super) fn block_sequence(&mut self, indent: usize, depth: usize) -> Step<()> {
        if depth > self.max_depth {
            return Err(Fallback);
        }
        loop {
            self.pos += 1; // the '-'
            self.skip_spaces();
            let c = self.peek();
            if is_eol(c) || c == b'#' {
                self.finish_line()?;
                if let Some(i) = self.next_content_line()?
                    && i > indent
                {
                    self.pos += i;
                    self.node_on_own_line(indent, depth)?;
                }
            } else if c == b'&' {
                self.anchored(indent, depth)?;
            } else {
                let col = self.col();
                if self.at_dash(self.pos) {
                    self.block_sequence(col, depth + 1)?;
                } else if self.looks_like_key() {
                    self.block_mapping(col, depth + 1, None)?;
                } else {
                    self.inline_node(indent, depth)?;
                }
            }
            match self.next_content_line()? {
                Some(i) if i == indent && self.at_dash(self.pos + i) => self.pos += i,
                Some(i) if i <= indent => break,
                None => break,
                Some(_) => return Err(Fallback),
            }
        }
        Ok(())
    }

    /// Whether a line (at `pos`, its start) continues a plain scalar of a node in a
    /// collection at column `indent`; `pos` is left at the content when it does.
    pub(super) fn continues_plain(&mut self, indent: usize, breaks: &mut usize) -> Step<bool> {
        loop {
            let start = self.pos;
            let spaces = self.skip_spaces();
            let c = self.peek();
            if is_eol(c) && c != EOF {
                self.skip_break();
                *breaks += 1;
                continue;
            }
            if c == EOF || c == b'#' || spaces <= indent {
                self.pos = start;
                return Ok(false);
            }
            if is_indicator(c) || matches!(c, b'-' | b'?' | b':') {
                return Err(Fallback);
            }
            return Ok(true);
        }
    }
}
