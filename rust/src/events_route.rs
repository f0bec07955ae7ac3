//! `rust-events`: walk the parser's event stream by hand and stop as soon as the three
//! depth-1 routing fields are known.
//!
//! Limits are enforced while walking:
//! - `max_bytes`: checked on the payload before parsing.
//! - `max_depth`: every collection start past it is a limit error; the parser's own flow and
//!   block nesting guards are set one above it, so deep input never recurses further.
//! - `max_alias_expansion`: each anchor's expanded node count is kept (its aliases included,
//!   so nesting multiplies); every alias adds its anchor's count to a running total, which
//!   may not pass the limit. Nothing is replayed, so an alias bomb costs one pass over it.
//!
//! Everything after the last routing field is never read: a tag, truncation or bomb placed
//! after all three fields goes unseen, which is the point of stopping early.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle, Tag};

use crate::scalars::plain_scalar_type;
use crate::serde_route::scan_category;
use crate::{Category, Limits, ROUTING_FIELDS, RouteError, Routing, checked_text};

const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";
/// Tags a safe loader resolves; any other tag (`!!python/...`, local `!foo`) is refused.
const SAFE_TAGS: [&str; 14] = [
    "str",
    "int",
    "float",
    "bool",
    "null",
    "seq",
    "map",
    "binary",
    "timestamp",
    "set",
    "omap",
    "pairs",
    "merge",
    "value",
];

/// Routes messages by walking parser events under [`Limits`].
#[derive(Debug, Clone)]
pub struct EventsRouter {
    limits: Limits,
}

impl EventsRouter {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn route(&self, payload: &[u8]) -> Result<Routing, RouteError> {
        let text = checked_text(payload, &self.limits)?;
        let nesting = self.limits.max_depth.saturating_add(1);
        let mut options = granit_parser::Options::default();
        options.flow_nesting_limit = nesting;
        options.block_nesting_limit = nesting;
        let mut walk = Walk::new(&self.limits);
        for item in Parser::new_from_str_with_options(text, options) {
            let (event, _span) = item.map_err(|err| {
                RouteError::new(scan_category(err.kind()), format!("YAML parser: {err}"))
            })?;
            if let Some(routing) = walk.feed(event)? {
                return Ok(routing);
            }
        }
        Err(walk.incomplete())
    }
}

/// An open collection: its expanded node count so far and its anchor, if any.
struct Open {
    size: u64,
    anchor: usize,
}

/// What an anchor stands for, once its node is complete.
struct Anchored {
    size: u64,
    string: Option<String>, // kept only for string scalars: a routing value may be an alias
}

enum Node<'a> {
    Scalar {
        value: Cow<'a, str>,
        style: ScalarStyle,
        tag: Option<Cow<'a, Tag>>,
    },
    Collection {
        kind: &'static str,
    },
    Alias(usize),
}

struct Walk<'l> {
    limits: &'l Limits,
    open: Vec<Open>,
    anchors: HashMap<usize, Anchored>,
    expanded: u64,
    saw_root: bool,
    expecting_key: bool,    // state of the top-level mapping
    pending: Option<usize>, // index into ROUTING_FIELDS of the key just read
    found: [Option<String>; 3],
}

impl<'l> Walk<'l> {
    fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            open: Vec::new(),
            anchors: HashMap::new(),
            expanded: 0,
            saw_root: false,
            expecting_key: true,
            pending: None,
            found: [None, None, None],
        }
    }

    fn feed(&mut self, event: Event<'_>) -> Result<Option<Routing>, RouteError> {
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                check_tag(tag.as_deref())?;
                let string = (anchor != 0).then(|| scalar_string(&value, style, tag.as_deref()));
                self.node(Node::Scalar { value, style, tag })?;
                self.complete(1, anchor, string.flatten());
            }
            Event::SequenceStart(_, anchor, tag) => {
                check_tag(tag.as_deref())?;
                self.node(Node::Collection { kind: "sequence" })?;
                self.open_collection(anchor)?;
            }
            Event::MappingStart(_, anchor, tag) => {
                check_tag(tag.as_deref())?;
                self.node(Node::Collection { kind: "mapping" })?;
                self.open_collection(anchor)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(done) = self.open.pop() {
                    self.complete(done.size, done.anchor, None);
                }
            }
            Event::Alias(id) => {
                let size = self.alias_size(id)?;
                self.node(Node::Alias(id))?;
                self.complete(size, 0, None);
            }
            _ => {}
        }
        Ok(self.routing())
    }

    /// Where a node sits decides what it means: the root must be a mapping; a depth-1 key
    /// may name a routing field; the value after such a key must be a string.
    fn node(&mut self, node: Node<'_>) -> Result<(), RouteError> {
        if !self.saw_root {
            self.saw_root = true;
            return match node {
                Node::Collection { kind: "mapping" } => Ok(()),
                other => Err(schema(format!(
                    "top level is a {}, not a mapping",
                    describe(&other)
                ))),
            };
        }
        if self.open.len() != 1 {
            return Ok(());
        }
        self.expecting_key = !self.expecting_key;
        if !self.expecting_key {
            self.pending = match node {
                Node::Scalar { value, .. } => ROUTING_FIELDS.iter().position(|f| *f == value),
                _ => None,
            };
            return Ok(());
        }
        let Some(field) = self.pending.take() else {
            return Ok(());
        };
        let name = ROUTING_FIELDS[field];
        let value = match &node {
            Node::Scalar { value, style, tag } => scalar_string(value, *style, tag.as_deref()),
            Node::Alias(id) => self.anchors.get(id).and_then(|a| a.string.clone()),
            Node::Collection { .. } => None,
        };
        match value {
            Some(value) => {
                self.found[field] = Some(value);
                Ok(())
            }
            None => Err(schema(format!(
                "routing field {name:?} is a {}",
                describe(&node)
            ))),
        }
    }

    fn open_collection(&mut self, anchor: usize) -> Result<(), RouteError> {
        if self.open.len() >= self.limits.max_depth {
            return Err(RouteError::new(
                Category::Limit,
                format!("nesting deeper than the limit of {}", self.limits.max_depth),
            ));
        }
        self.open.push(Open { size: 1, anchor });
        Ok(())
    }

    /// A node of `size` expanded nodes is complete: count it in its parent, remember it
    /// under its anchor.
    fn complete(&mut self, size: u64, anchor: usize, string: Option<String>) {
        if let Some(parent) = self.open.last_mut() {
            parent.size = parent.size.saturating_add(size);
        }
        if anchor != 0 {
            self.anchors.insert(anchor, Anchored { size, string });
        }
    }

    fn alias_size(&mut self, id: usize) -> Result<u64, RouteError> {
        let Some(anchored) = self.anchors.get(&id) else {
            // The parser resolves every alias, so a missing entry is an anchor still open.
            return Err(RouteError::new(
                Category::Limit,
                "alias refers to an enclosing anchor: infinite expansion",
            ));
        };
        self.expanded = self.expanded.saturating_add(anchored.size);
        if self.expanded > self.limits.max_alias_expansion as u64 {
            return Err(RouteError::new(
                Category::Limit,
                format!(
                    "aliases expand to more than {} nodes (at least {})",
                    self.limits.max_alias_expansion, self.expanded
                ),
            ));
        }
        Ok(anchored.size)
    }

    fn routing(&mut self) -> Option<Routing> {
        if self.found.iter().any(Option::is_none) {
            return None;
        }
        let [event_type, player_id, session_id] = std::mem::take(&mut self.found);
        Some(Routing {
            event_type: event_type.unwrap_or_default(),
            player_id: player_id.unwrap_or_default(),
            session_id: session_id.unwrap_or_default(),
        })
    }

    /// The stream ended before all three fields were seen.
    fn incomplete(&self) -> RouteError {
        if !self.saw_root {
            return schema("empty document: top level is a null, not a mapping");
        }
        let missing = ROUTING_FIELDS
            .iter()
            .zip(&self.found)
            .find_map(|(name, value)| value.is_none().then_some(*name))
            .unwrap_or("?");
        schema(format!("missing routing field {missing:?}"))
    }
}

fn schema(message: impl Into<String>) -> RouteError {
    RouteError::new(Category::Schema, message)
}

fn describe(node: &Node<'_>) -> &'static str {
    match node {
        Node::Scalar { value, style, tag } => scalar_type(value, *style, tag.as_deref()),
        Node::Collection { kind } => kind,
        Node::Alias(_) => "alias to a non-string node",
    }
}

/// The type a scalar resolves to, as a safe loader would name it.
fn scalar_type(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> &'static str {
    if let Some(tag) = tag {
        let name = tag.suffix_in_namespace(YAML_TAG_PREFIX);
        return match name.as_deref() {
            Some("str") | None => "str",
            Some(other) => SAFE_TAGS
                .iter()
                .find(|t| **t == other)
                .copied()
                .unwrap_or("tagged"),
        };
    }
    match style {
        ScalarStyle::Plain => plain_scalar_type(value).unwrap_or("str"),
        _ => "str",
    }
}

fn scalar_string(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> Option<String> {
    (scalar_type(value, style, tag) == "str").then(|| value.to_owned())
}

fn check_tag(tag: Option<&Tag>) -> Result<(), RouteError> {
    let Some(tag) = tag else { return Ok(()) };
    if tag.handle() == "!" && tag.suffix().is_empty() {
        return Ok(()); // the non-specific tag `!`: a plain string
    }
    let safe = tag
        .suffix_in_namespace(YAML_TAG_PREFIX)
        .is_some_and(|name| SAFE_TAGS.contains(&&*name));
    if safe {
        return Ok(());
    }
    let (handle, suffix) = tag.original_parts();
    Err(RouteError::new(
        Category::UnsafeTag,
        format!("refused tag {handle}{suffix}"),
    ))
}
