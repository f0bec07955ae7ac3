//! Values walked for their extent only: flow collections (nesting counted against the depth
//! limit) and quoted scalars. Anything a routing answer could hinge on that is not plain
//! structure (an anchor, alias, tag, explicit key, a single-pair mapping in a sequence)
//! falls back.

use super::Fallback;
use super::block::{Scanner, Step, is_blank_or_eol, is_eol};

/// Where a flow collection's walk is: what the next character may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Open,  // after `[` or `{`
    Comma, // after `,`
    Colon, // after a value indicator
    Plain, // inside a plain scalar
    After, // after a quoted scalar or a nested collection
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl Scanner<'_, '_> {
    /// After a line break inside a flow node: the next non-empty line must be more indented
    /// than `indent`, the block collection holding the node.
    fn flow_line(&mut self, indent: usize) -> Step<()> {
        self.skip_break();
        let spaces = self.skip_spaces();
        let c = self.peek();
        if !is_eol(c) && spaces <= indent {
            return Err(Fallback);
        }
        if c == 0 {
            return Err(Fallback);
        }
        Ok(())
    }

    /// A flow collection at `pos` (`[` or `{`), held by a block collection at column
    /// `indent`; `depth` is its own nesting depth.
    pub(super) fn skip_flow(&mut self, indent: usize, depth: usize) -> Step<()> {
        let mut braces: u64 = 0; // one bit per open collection: 1 for a mapping
        let mut valued: u64 = 0; // one bit per open collection: its entry has had its `:`
        let mut open = 0usize;
        let mut at = At::Comma;
        loop {
            let c = self.peek();
            let node_start = matches!(at, At::Open | At::Comma | At::Colon);
            match c {
                b'[' | b'{' => {
                    if !node_start || depth + open > self.max_depth || open >= 64 {
                        return Err(Fallback);
                    }
                    braces = braces << 1 | u64::from(c == b'{');
                    valued <<= 1;
                    open += 1;
                    at = At::Open;
                }
                b']' | b'}' => {
                    if (braces & 1 == 1) != (c == b'}') {
                        return Err(Fallback);
                    }
                    braces >>= 1;
                    valued >>= 1;
                    open -= 1;
                    self.pos += 1;
                    if open == 0 {
                        return Ok(());
                    }
                    at = At::After;
                    continue;
                }
                b',' => {
                    if matches!(at, At::Open | At::Comma) {
                        return Err(Fallback);
                    }
                    valued &= !1;
                    at = At::Comma;
                }
                b':' if at == At::After || {
                    let next = self.at(self.pos + 1);
                    is_blank_or_eol(next) || is_flow_indicator(next)
                } =>
                {
                    // A value indicator: in a sequence it would open a single-pair mapping.
                    let again = valued & 1 == 1;
                    if braces & 1 == 0 || again || matches!(at, At::Open | At::Comma | At::Colon) {
                        return Err(Fallback);
                    }
                    valued |= 1;
                    at = At::Colon;
                }
                b'#' if self.at(self.pos.wrapping_sub(1)) == b' '
                    || self.pos == self.line_start =>
                {
                    self.skip_to_eol();
                    continue;
                }
                b' ' => {}
                b'\r' | b'\n' => {
                    self.flow_line(indent)?;
                    continue;
                }
                0 => return Err(Fallback),
                b'"' | b'\'' if node_start => {
                    if c == b'"' {
                        self.skip_double(indent)?;
                    } else {
                        self.skip_single(indent)?;
                    }
                    at = At::After;
                    continue;
                }
                b'*' if node_start => {
                    self.alias()?;
                    at = At::After;
                    continue;
                }
                b'&' | b'*' | b'!' => return Err(Fallback),
                _ if at == At::After => return Err(Fallback),
                _ if at == At::Plain => {}
                b'?' | b'|' | b'>' | b'%' | b'@' | b'`' | b'#' | b':' => return Err(Fallback),
                b'-' if {
                    let next = self.at(self.pos + 1);
                    is_blank_or_eol(next) || is_flow_indicator(next)
                } =>
                {
                    return Err(Fallback);
                }
                _ => at = At::Plain,
            }
            self.pos += 1;
        }
    }

    /// A double-quoted scalar at `pos`, walked to its closing quote.
    pub(super) fn skip_double(&mut self, indent: usize) -> Step<()> {
        self.pos += 1;
        loop {
            match self.peek() {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    if is_eol(self.peek()) {
                        self.flow_line(indent)?;
                    } else {
                        self.pos += 1;
                    }
                }
                b'\r' | b'\n' => self.flow_line(indent)?,
                0 => return Err(Fallback),
                _ => self.pos += 1,
            }
        }
    }

    /// A single-quoted scalar at `pos`, walked to its closing quote.
    pub(super) fn skip_single(&mut self, indent: usize) -> Step<()> {
        self.pos += 1;
        loop {
            match self.peek() {
                b'\'' if self.at(self.pos + 1) == b'\'' => self.pos += 2,
                b'\'' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\r' | b'\n' => self.flow_line(indent)?,
                0 => return Err(Fallback),
                _ => self.pos += 1,
            }
        }
    }
}
