//! `rust-scan`: one forward pass over the message's bytes that finds the routing fields
//! without a parser's token queue or events, and hands the message to the full parser
//! (`rust-events`) whenever it meets what it does not handle.
//!
//! The pass reads the line and indentation structure of the whole document, and YAML's
//! full scalar rules only where a routing key or value is. It answers only when it is sure:
//! every error, and every construct it does not handle (anchors, aliases, merge keys, tags,
//! explicit keys, directives and document markers, flow collections on routing paths, tabs,
//! a BOM, control characters, anything near the depth limit), makes it fall back, so the
//! full parser decides, with its own limits and error categories. See rust/README.md.

mod anchors;
mod block;
mod flow;
mod scalar;
mod spec;

use std::sync::atomic::{AtomicU64, Ordering};

pub use spec::ScanSpec;

use crate::events_route::EventsRouter;
use crate::{Limits, RouteError, RouteSpec, Router, checked_text};

/// Why the fast pass gave up on a message: the full parser takes it from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback;

/// The scanner's answer for one message, before any fallback.
pub type Scanned = Result<Vec<String>, Fallback>;

/// Routes by the one-pass scan, falling back to the event walk for what it does not handle.
#[derive(Debug)]
pub struct ScanRouter {
    scan: ScanSpec,
    full: EventsRouter,
    fallbacks: AtomicU64,
}

impl Router for ScanRouter {
    fn new(spec: RouteSpec, limits: Limits) -> Self {
        Self {
            scan: ScanSpec::from_route(&spec),
            full: EventsRouter::new(spec, limits),
            fallbacks: AtomicU64::new(0),
        }
    }

    fn spec(&self) -> &RouteSpec {
        self.full.spec()
    }

    fn limits(&self) -> &Limits {
        self.full.limits()
    }

    /// The fields from the scan, or else from the full parser.
    fn route_text(&self, text: &str) -> Result<Vec<String>, RouteError> {
        if let Ok(fields) = scan_text(text.as_bytes(), &self.scan, self.full.limits()) {
            return Ok(fields);
        }
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        self.full.route_text(text)
    }
}

impl ScanRouter {
    /// Messages handed to the full parser since construction.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// The fast pass alone: `Err(Fallback)` where the full parser must decide.
    pub fn scan(&self, payload: &[u8]) -> Scanned {
        let text = checked_text(payload, self.full.limits()).map_err(|_| Fallback)?;
        scan_text(text.as_bytes(), &self.scan, self.full.limits())
    }
}

/// The scan of a UTF-8 document.
pub fn scan_text(bytes: &[u8], spec: &ScanSpec, limits: &Limits) -> Scanned {
    if !spec.scannable() || !printable(bytes) {
        return Err(Fallback);
    }
    block::Scanner::new(bytes, spec, limits).document()
}

/// Bytes that send a message to the full parser wherever they are: control characters and
/// tabs (tabs change what counts as indentation), a CR that is not part of CRLF, and the
/// non-ASCII characters YAML treats specially (C1 controls, NEL, LS, PS, BOM, non-characters).
fn printable(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (0x20..0x7f).contains(&b) || b == b'\n' {
            i += 1;
            continue;
        }
        if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 2;
            continue;
        }
        if b < 0x80 {
            return false;
        }
        // Valid UTF-8 (checked before): decode the one character starting here.
        let len = match b {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        let Some(ch) = bytes
            .get(i..i + len)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.chars().next())
        else {
            return false;
        };
        if matches!(
            ch,
            '\u{80}'..='\u{a0}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        ) {
            return false;
        }
        i += len;
    }
    true
}
