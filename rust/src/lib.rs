//! Routing backends for treasure: pick the routing spec's fields ([`RouteSpec`]) out of
//! one YAML event message without building a document tree, with docs/routing.md's meaning.
//!
//! - [`walk`]: the walk both share: every event of the payload under the limits, keeping only
//!   the nodes a routing path or a merge can reach.
//! - [`serde_route`]: serde driven by the spec at runtime (`DeserializeSeed`) over the kept
//!   nodes.
//! - [`events_route`]: each field's path looked up by hand in the kept nodes.
//!
//! Both implement [`Router`]. The core is plain Rust (tested by `cargo test`); the Python
//! layer lives behind the `python` feature.

pub mod events_route;
pub mod frames;
pub mod heap_split;
pub mod memray_capture;
pub mod scalars;
pub mod scan;
pub mod serde_route;
pub mod spec;
pub mod walk;

#[cfg(feature = "python")]
mod heap_capture_py;
#[cfg(feature = "python")]
mod python;

use std::fmt;

use granit_parser::ErrorKind;

pub use spec::{FieldKind, FieldSpec, RouteSpec};

/// The default spec's keys, in the order [`Routing`] takes them.
pub const ROUTING_FIELDS: [&str; 3] = ["event_type", "player_id", "session_id"];

/// The default spec's three fields as a record, for routers that predate the routing spec
/// (`rust-scan`); the [`Router`] trait returns the spec's fields as a `Vec` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub event_type: String,
    pub player_id: String,
    pub session_id: String,
}

/// Mirrors `treasure.parsers.ErrorCategory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Syntax,
    Limit,
    UnsafeTag,
    Encoding,
    Schema,
}

impl Category {
    /// The value of the matching `treasure.parsers.ErrorCategory` member.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Syntax => "syntax",
            Category::Limit => "limit",
            Category::UnsafeTag => "unsafe-tag",
            Category::Encoding => "encoding",
            Category::Schema => "schema",
        }
    }
}

/// A classified failure; becomes `treasure.parsers.ParseError` in Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    pub category: Category,
    pub message: String,
}

impl RouteError {
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        Self {
            category,
            message: message.into(),
        }
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.category.as_str(), self.message)
    }
}

impl std::error::Error for RouteError {}

/// Mirrors `treasure.parsers.Limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of sequences and mappings (the top-level mapping is depth 1).
    pub max_depth: usize,
    /// Nodes a document may expand to through aliases.
    pub max_alias_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 20,
            max_depth: 64,
            max_alias_expansion: 10_000,
        }
    }
}

/// The checks both backends run before any parsing: size first (cheapest, and bounds the
/// UTF-8 scan), then UTF-8.
pub fn checked_text<'a>(payload: &'a [u8], limits: &Limits) -> Result<&'a str, RouteError> {
    if payload.len() > limits.max_bytes {
        return Err(RouteError::new(
            Category::Limit,
            format!(
                "payload is {} bytes, over the limit of {}",
                payload.len(),
                limits.max_bytes
            ),
        ));
    }
    let text = std::str::from_utf8(payload).map_err(|err| {
        RouteError::new(
            Category::Encoding,
            format!("payload is not valid UTF-8: {err}"),
        )
    })?;
    let plain_ascii = text
        .bytes()
        .all(|b| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r'));
    if plain_ascii {
        return Ok(text);
    }
    match text.char_indices().find(|(_, c)| !is_printable(*c)) {
        Some((at, c)) => Err(RouteError::new(
            Category::Encoding,
            format!(
                "character U+{:04X} at byte {at} is not allowed in YAML",
                u32::from(c)
            ),
        )),
        None => Ok(text),
    }
}

/// The characters a YAML stream may hold, as PyYAML's reader checks them: tab, LF, CR,
/// printable ASCII, NEL and the non-control ranges above (BOM included).
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// What every router shares: built from a spec and limits, it turns one payload into the
/// spec's fields in order, or a classified error.
pub trait Router {
    fn new(spec: RouteSpec, limits: Limits) -> Self
    where
        Self: Sized;

    fn spec(&self) -> &RouteSpec;

    fn limits(&self) -> &Limits;

    /// Route a payload already checked for size and encoding.
    fn route_text(&self, text: &str) -> Result<Vec<String>, RouteError>;

    /// The size and UTF-8 checks, then [`Router::route_text`].
    fn route(&self, payload: &[u8]) -> Result<Vec<String>, RouteError> {
        let text = checked_text(payload, self.limits())?;
        self.route_text(text)
    }
}

/// Run a router, turning a panic into a labelled error instead of unwinding into the caller.
/// A last resort: the hardening tests check that no input reaches it.
pub fn guarded<T, F>(route: F) -> Result<T, RouteError>
where
    F: FnOnce() -> Result<T, RouteError> + std::panic::UnwindSafe,
{
    std::panic::catch_unwind(route).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        Err(RouteError::new(
            Category::Syntax,
            format!("internal panic in treasure-rs: {detail}"),
        ))
    })
}

/// Parser errors are syntax, except the parser's own guards, which are limits.
pub fn scan_category(kind: &ErrorKind) -> Category {
    match kind {
        ErrorKind::RecursionLimitExceeded
        | ErrorKind::InputByteLimitExceeded { .. }
        | ErrorKind::DirectiveByteLimitExceeded { .. }
        | ErrorKind::TooManyReservedDirectiveParams { .. }
        | ErrorKind::AnchorCountOverflow => Category::Limit,
        ErrorKind::InputDecoding { .. } => Category::Encoding,
        _ => Category::Syntax,
    }
}
