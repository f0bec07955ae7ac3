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

use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};

use crate::scalars::plain_scalar_type;
use crate::{Category, Limits, ROUTING_FIELDS, RouteError, Routing, checked_text, scan_category};

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
        let mut walk = Walk::new(&self.limits);
        for item in parser(text, &self.limits) {
            if let Some(routing) = walk.feed(parsed(item)?)? {
                return Ok(routing);
            }
        }
        Err(walk.incomplete())
    }
}

/// granit-parser over `text`, its flow and block nesting guards one above `max_depth` so the
/// walk, not the parser, reports a breach of the limit.
pub(crate) fn parser<'a>(text: &'a str, limits: &Limits) -> Parser<'a, StrInput<'a>> {
    let nesting = limits.max_depth.saturating_add(1);
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = nesting;
    options.block_nesting_limit = nesting;
    Parser::new_from_str_with_options(text, options)
}

/// One parser item: the event, or its error classified.
pub(crate) fn parsed<'a>(
    item: Result<(Event<'a>, Span), ScanError>,
) -> Result<Event<'a>, RouteError> {
    item.map(|(event, _span)| event)
        .map_err(|err| RouteError::new(scan_category(err.kind()), format!("YAML parser: {err}")))
}

/// The routing fields a mapping has named so far (explicitly or through merge keys).
type Fields = [Option<String>; 3];

/// What the last key read in a mapping announces for its value.
#[derive(Clone, Copy)]
enum Pending {
    Nothing,
    Field(usize), // index into ROUTING_FIELDS
    Merge,        // `<<`: the value's mappings supply defaults
}

/// Why a collection is open, as far as routing cares.
#[derive(Clone, Copy)]
enum Role {
    Plain,
    MergeSource { target: usize }, // a mapping merged into `open[target]`
    MergeList { target: usize },   // a sequence of mappings merged into `open[target]`
}

/// An open collection: its expanded node count so far, its anchor, and for mappings the
/// key/value state and the routing fields seen at its own level.
struct Open {
    size: u64,
    anchor: usize,
    mapping: bool,
    expecting_key: bool,
    pending: Pending,
    role: Role,
    fields: Fields,
    merged: Fields,
}

/// What an anchor stands for, once its node is complete.
struct Anchored {
    size: u64,
    string: Option<String>, // string scalars: a routing value may be an alias
    fields: Option<Box<Fields>>, // mappings naming routing fields: a merge source
}

enum Node<'a> {
    Scalar {
        value: Cow<'a, str>,
        style: ScalarStyle,
        tag: Option<Cow<'a, Tag>>,
    },
    Collection {
        mapping: bool,
    },
    Alias(usize),
}

pub(crate) struct Walk<'l> {
    limits: &'l Limits,
    explicit: Option<usize>, // a depth-1 routing field just named explicitly
    open: Vec<Open>,
    anchors: HashMap<usize, Anchored>,
    expanded: u64,
    saw_root: bool,
    outcome: Option<Result<Routing, RouteError>>, // set when the root mapping closes
}

impl<'l> Walk<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            explicit: None,
            open: Vec::new(),
            anchors: HashMap::new(),
            expanded: 0,
            saw_root: false,
            outcome: None,
        }
    }

    /// Take in one event: `Some` once the routing is known (the third explicit field, or the
    /// root mapping's end with merged fields filled in).
    pub(crate) fn feed(&mut self, event: Event<'_>) -> Result<Option<Routing>, RouteError> {
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                check_tag(tag.as_deref())?;
                let string = (anchor != 0).then(|| scalar_string(&value, style, tag.as_deref()));
                self.place(Node::Scalar { value, style, tag })?;
                self.complete(1, anchor, string.flatten(), None);
            }
            Event::SequenceStart(_, anchor, tag) => {
                check_tag(tag.as_deref())?;
                let role = self.place(Node::Collection { mapping: false })?;
                self.open_collection(anchor, false, role)?;
            }
            Event::MappingStart(_, anchor, tag) => {
                check_tag(tag.as_deref())?;
                let role = self.place(Node::Collection { mapping: true })?;
                self.open_collection(anchor, true, role)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close_collection(),
            Event::Alias(id) => {
                let size = self.alias_size(id)?;
                self.place(Node::Alias(id))?;
                self.complete(size, 0, None, None);
            }
            _ => {}
        }
        if let Some(outcome) = self.outcome.take() {
            return outcome.map(Some);
        }
        // Stop at the third explicit field: nothing later can override an explicit key.
        match self.open.first_mut() {
            Some(root) if root.fields.iter().all(Option::is_some) => {
                Ok(Some(routing_from(&std::mem::take(&mut root.fields))))
            }
            _ => Ok(None),
        }
    }

    /// Where a node sits decides what it means: the root must be a mapping; a key may name
    /// a routing field or `<<`; the value after a routing key must be a string (checked at
    /// the top level, where it routes).
    fn place(&mut self, node: Node<'_>) -> Result<Role, RouteError> {
        if !self.saw_root {
            self.saw_root = true;
            return match node {
                Node::Collection { mapping: true } => Ok(Role::Plain),
                other => Err(schema(format!(
                    "top level is a {}, not a mapping",
                    describe(&other)
                ))),
            };
        }
        let depth = self.open.len();
        let Some(parent) = self.open.last_mut() else {
            return Ok(Role::Plain);
        };
        if !parent.mapping {
            return match (parent.role, &node) {
                (Role::MergeList { target }, Node::Alias(id)) => {
                    self.merge_anchor(target, *id);
                    Ok(Role::Plain)
                }
                (Role::MergeList { target }, Node::Collection { mapping: true }) => {
                    Ok(Role::MergeSource { target })
                }
                _ => Ok(Role::Plain),
            };
        }
        parent.expecting_key = !parent.expecting_key;
        if !parent.expecting_key {
            parent.pending = key_meaning(&node);
            return Ok(Role::Plain);
        }
        match std::mem::replace(&mut parent.pending, Pending::Nothing) {
            Pending::Nothing => Ok(Role::Plain),
            Pending::Field(field) => {
                let value = match &node {
                    Node::Scalar { value, style, tag } => {
                        scalar_string(value, *style, tag.as_deref())
                    }
                    Node::Alias(id) => self.anchors.get(id).and_then(|a| a.string.clone()),
                    Node::Collection { .. } => None,
                };
                match value {
                    Some(value) => {
                        parent.fields[field] = Some(value);
                        if depth == 1 {
                            self.explicit = Some(field);
                        }
                    }
                    None if depth == 1 => {
                        let name = ROUTING_FIELDS[field];
                        return Err(schema(format!(
                            "routing field {name:?} is a {}",
                            describe(&node)
                        )));
                    }
                    None => {}
                }
                Ok(Role::Plain)
            }
            Pending::Merge => match node {
                Node::Alias(id) => {
                    self.merge_anchor(depth - 1, id);
                    Ok(Role::Plain)
                }
                Node::Collection { mapping: true } => Ok(Role::MergeSource { target: depth - 1 }),
                Node::Collection { mapping: false } => Ok(Role::MergeList { target: depth - 1 }),
                Node::Scalar { .. } => Ok(Role::Plain),
            },
        }
    }

    /// The depth-1 routing field the last event named explicitly, with its value.
    pub(crate) fn take_explicit(&mut self) -> Option<(usize, String)> {
        let field = self.explicit.take()?;
        let value = self.open.first()?.fields[field].clone()?;
        Some((field, value))
    }

    fn open_collection(
        &mut self,
        anchor: usize,
        mapping: bool,
        role: Role,
    ) -> Result<(), RouteError> {
        if self.open.len() >= self.limits.max_depth {
            return Err(RouteError::new(
                Category::Limit,
                format!("nesting deeper than the limit of {}", self.limits.max_depth),
            ));
        }
        self.open.push(Open {
            size: 1,
            anchor,
            mapping,
            expecting_key: true,
            pending: Pending::Nothing,
            role,
            fields: Fields::default(),
            merged: Fields::default(),
        });
        Ok(())
    }

    fn close_collection(&mut self) {
        let Some(done) = self.open.pop() else { return };
        let mut effective = done.fields;
        for (field, default) in effective.iter_mut().zip(done.merged) {
            if field.is_none() {
                *field = default;
            }
        }
        if let Role::MergeSource { target } = done.role {
            merge_into(&mut self.open[target].merged, &effective);
        }
        if self.open.is_empty() {
            self.outcome = Some(match effective.iter().position(Option::is_none) {
                None => Ok(routing_from(&effective)),
                Some(missing) => Err(schema(format!(
                    "missing routing field {:?}",
                    ROUTING_FIELDS[missing]
                ))),
            });
            return;
        }
        let named = (done.anchor != 0 && effective.iter().any(Option::is_some))
            .then(|| Box::new(effective));
        self.complete(done.size, done.anchor, None, named);
    }

    fn merge_anchor(&mut self, target: usize, id: usize) {
        if let Some(fields) = self.anchors.get(&id).and_then(|a| a.fields.as_deref()) {
            merge_into(&mut self.open[target].merged, fields);
        }
    }

    /// A node of `size` expanded nodes is complete: count it in its parent, remember it
    /// under its anchor.
    fn complete(
        &mut self,
        size: u64,
        anchor: usize,
        string: Option<String>,
        fields: Option<Box<Fields>>,
    ) {
        if let Some(parent) = self.open.last_mut() {
            parent.size = parent.size.saturating_add(size);
        }
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    size,
                    string,
                    fields,
                },
            );
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

    /// The stream ended before the root mapping closed.
    pub(crate) fn incomplete(&self) -> RouteError {
        if !self.saw_root {
            return schema("empty document: top level is a null, not a mapping");
        }
        schema("document ended before its top-level mapping closed")
    }
}

/// Earlier merge sources win, as in `<<: [*first, *second]`.
fn merge_into(target: &mut Fields, source: &Fields) {
    for (slot, value) in target.iter_mut().zip(source) {
        if slot.is_none() {
            slot.clone_from(value);
        }
    }
}

fn routing_from(fields: &Fields) -> Routing {
    let field = |i: usize| fields[i].clone().unwrap_or_default();
    Routing {
        event_type: field(0),
        player_id: field(1),
        session_id: field(2),
    }
}

fn key_meaning(key: &Node<'_>) -> Pending {
    let Node::Scalar { value, style, tag } = key else {
        return Pending::Nothing;
    };
    let merge_tag = tag
        .as_deref()
        .and_then(|t| t.suffix_in_namespace(YAML_TAG_PREFIX));
    let is_merge = value == "<<"
        && match merge_tag {
            Some(name) => name == "merge",
            None => tag.is_none() && matches!(style, ScalarStyle::Plain),
        };
    if is_merge {
        return Pending::Merge;
    }
    ROUTING_FIELDS
        .iter()
        .position(|f| *f == value)
        .map_or(Pending::Nothing, Pending::Field)
}

fn schema(message: impl Into<String>) -> RouteError {
    RouteError::new(Category::Schema, message)
}

fn describe(node: &Node<'_>) -> &'static str {
    match node {
        Node::Scalar { value, style, tag } => scalar_type(value, *style, tag.as_deref()),
        Node::Collection { mapping: true } => "mapping",
        Node::Collection { mapping: false } => "sequence",
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
