//! Anchors and aliases in values no routing field goes through: counted against
//! `max_alias_expansion` with an upper bound, so a document the full parser would refuse is
//! never routed by the scan.
//!
//! The full parser counts an anchored node's expanded nodes (aliases inside it included)
//! and adds that count for every alias. A node spanning `n` bytes holds at most `2n + 1`
//! nodes of its own (every node but an empty scalar takes a byte, and an empty scalar
//! follows a key or an indicator), so the scan keeps `2n + 1` plus the bounds of the aliases
//! inside it. When the bounded total could pass the limit, the full parser decides.

use super::Fallback;
use super::block::{Scanner, Step, is_blank_or_eol, is_eol};

/// Anchors one message may define before the scan hands it over.
pub(super) const MAX_ANCHORS: usize = 16;

/// An anchor seen so far: its name (a byte range) and, once its node is complete, the bound
/// on what an alias to it expands to.
#[derive(Clone, Copy, Default)]
pub(super) struct Anchor {
    name: (usize, usize),
    size: Option<u64>,
    mapping: bool,
}

#[derive(Default)]
pub(super) struct Anchors {
    defined: [Anchor; MAX_ANCHORS],
    count: usize,
    /// Sum of the bounds of every alias read so far (the full parser's running total).
    pub(super) expanded: u64,
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl Scanner<'_, '_> {
    /// The name after `&` or `*` at `pos`; `pos` is left after it.
    fn anchor_name(&mut self) -> Step<(usize, usize)> {
        self.pos += 1;
        let start = self.pos;
        while !(is_blank_or_eol(self.peek()) || is_flow_indicator(self.peek())) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(Fallback);
        }
        Ok((start, self.pos))
    }

    fn same_name(&self, a: (usize, usize), b: (usize, usize)) -> bool {
        self.b[a.0..a.1] == self.b[b.0..b.1]
    }

    /// An alias at `pos`: the latest anchor of its name must be complete (an alias inside
    /// its own anchor expands forever); its bound is added to the total, which may not pass
    /// the limit. Whether the anchored node is a mapping is returned for merge keys.
    pub(super) fn alias(&mut self) -> Step<bool> {
        let name = self.anchor_name()?;
        let anchors = &self.anchors.defined[..self.anchors.count];
        let found = anchors
            .iter()
            .rev()
            .find(|a| self.same_name(a.name, name))
            .copied()
            .ok_or(Fallback)?;
        let size = found.size.ok_or(Fallback)?;
        self.anchors.expanded = self.anchors.expanded.saturating_add(size);
        if self.anchors.expanded > self.max_alias_expansion {
            return Err(Fallback);
        }
        Ok(found.mapping)
    }

    /// An anchored node no routing field goes through (`pos` at `&`), in a collection at
    /// column `indent`: walked as any node, then remembered with its bound.
    pub(super) fn anchored(&mut self, indent: usize, depth: usize) -> Step<()> {
        let name = self.anchor_name()?;
        if self.anchors.count == MAX_ANCHORS {
            return Err(Fallback);
        }
        let slot = self.anchors.count;
        self.anchors.defined[slot] = Anchor {
            name,
            size: None,
            mapping: false,
        };
        self.anchors.count += 1;
        let (start, expanded_before) = (self.pos, self.anchors.expanded);
        let spaced = self.skip_spaces() > 0;
        let c = self.peek();
        let mapping = if is_eol(c) || c == b'#' && spaced {
            self.finish_line()?;
            match self.next_content_line()? {
                Some(i) if i > indent => self.pos += i,
                _ => return Err(Fallback), // an anchored empty node, or a sequence in column
            }
            let col = self.pos - self.line_start;
            if self.at_dash(self.pos) {
                self.block_sequence(col, depth + 1)?;
                false
            } else if self.looks_like_key() {
                self.block_mapping(col, depth + 1, None)?;
                true
            } else {
                return Err(Fallback);
            }
        } else {
            // Properties before a key on its line belong to the key: not handled here.
            if !spaced || matches!(c, b'&' | b'*' | b'!') || self.looks_like_key() {
                return Err(Fallback);
            }
            self.inline_node(indent, depth)?;
            c == b'{'
        };
        let own = 2 * (self.pos - start) as u64 + 1;
        let size = own.saturating_add(self.anchors.expanded - expanded_before);
        self.anchors.defined[slot].size = Some(size);
        self.anchors.defined[slot].mapping = mapping;
        Ok(())
    }
}
