//! The walk both routers share: granit-parser's events for the whole payload, under the
//! limits, into the few nodes routing can reach.
//!
//! It reads every event to the end of the stream (docs/routing.md: the mappings on routing
//! paths are read to their end, so a stray line after the last field is the parser's syntax
//! error, and a second document is refused) and keeps only:
//! - in every kept mapping, the entries whose key is one of the spec's key names or `<<`;
//! - anchored nodes (an alias may bring them onto a routing path or into a merge);
//! - the items of sequences merged with `<<` or anchored.
//!
//! Everything else is walked and counted, never built.
//!
//! Limits are enforced while walking:
//! - `max_depth`: every collection start past it is a limit error; the parser's own flow and
//!   block nesting guards are set one above it, so deep input never recurses further.
//! - `max_alias_expansion`: each anchor's expanded node count is kept (its aliases included,
//!   so nesting multiplies); every alias adds its anchor's count to a running total, which
//!   may not pass the limit. Aliases share the anchored node (`Rc`): nothing is copied, so
//!   an alias bomb costs one pass over its text.
//!
//! Tags are checked on every node; an unsafe tag, like a bad merge value, is reported once
//! the stream has parsed (a syntax error anywhere wins, as in a loader that composes the
//! document before constructing it). Nothing is ever constructed from a tag.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};

use crate::scalars::{ScalarType, resolve_plain, resolve_tagged};
use crate::{Category, Limits, RouteError, scan_category};

const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";
/// The standard tags (docs/routing.md "Tags"); any other tag is refused.
const SAFE_TAGS: [&str; 14] = [
    "str",
    "int",
    "float",
    "bool",
    "null",
    "timestamp",
    "binary",
    "map",
    "seq",
    "set",
    "omap",
    "pairs",
    "merge",
    "value",
];

/// A scalar routing may read: its text and what it resolves to.
#[derive(Debug)]
pub struct Scalar {
    pub text: String,
    pub kind: ScalarType,
}

/// A kept mapping key.
#[derive(Debug, PartialEq, Eq)]
pub enum Key {
    Name(String),
    Merge,
}

/// A node routing can reach.
#[derive(Debug)]
pub enum Node {
    Scalar(Scalar),
    /// The kept entries, in document order (duplicates included).
    Map(Vec<(Key, Rc<Node>)>),
    /// The items, for sequences that are merged or anchored.
    Seq(Vec<Rc<Node>>),
    /// A node nothing routes through: only its type is known ("sequence", "scalar").
    Opaque(&'static str),
}

impl Node {
    /// The type name an error message gives a node.
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Scalar(scalar) => scalar.kind.name(),
            Node::Map(_) => "mapping",
            Node::Seq(_) => "sequence",
            Node::Opaque(name) => name,
        }
    }
}

/// granit-parser over `text`, its flow and block nesting guards one above `max_depth` so the
/// walk, not the parser, reports a breach of the limit.
pub fn parser<'a>(text: &'a str, limits: &Limits) -> Parser<'a, StrInput<'a>> {
    let nesting = limits.max_depth.saturating_add(1);
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = nesting;
    options.block_nesting_limit = nesting;
    Parser::new_from_str_with_options(text, options)
}

/// One parser item: the event, or its error classified.
fn parsed<'a>(item: Result<(Event<'a>, Span), ScanError>) -> Result<Event<'a>, RouteError> {
    item.map(|(event, _span)| event)
        .map_err(|err| RouteError::new(scan_category(err.kind()), format!("YAML parser: {err}")))
}

/// Read the whole payload; the top-level mapping with what routing can reach of it.
pub fn read(text: &str, limits: &Limits, names: &[&str]) -> Result<Rc<Node>, RouteError> {
    let mut walk = Walk::new(limits, names);
    for item in parser(text, limits) {
        walk.feed(parsed(item)?)?;
    }
    walk.finish()
}

/// What the next node in a collection is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Not routed: walk it, build it only if anchored.
    Skip,
    /// Built: a kept key's value, or an item of a kept sequence.
    Keep,
    /// The value of `<<`: built and checked to be a mapping or a sequence of mappings.
    MergeValue,
    /// A mapping key.
    Key,
}

/// An open collection.
struct Open {
    size: u64, // expanded node count so far
    anchor: usize,
    built: Option<Built>,
    /// For mappings: whether the next node is a key, and what the pending value is for.
    mapping: bool,
    expecting_key: bool,
    value_slot: Slot,
    slot: Slot, // what the collection itself is for in its parent
}

enum Built {
    Map(Vec<(Key, Rc<Node>)>, Option<Key>), // entries, and the key awaiting its value
    Seq(Vec<Rc<Node>>),
}

/// An anchored node, complete: its expanded size and the node an alias stands for.
struct Anchored {
    size: u64,
    node: Rc<Node>,
}

struct Walk<'l> {
    limits: &'l Limits,
    names: &'l [&'l str],
    open: Vec<Open>,
    anchors: HashMap<usize, Anchored>,
    expanded: u64,
    documents: usize,
    root: Option<Rc<Node>>,
    root_kind: Option<&'static str>, // a top level that is not a mapping
    deferred: Option<RouteError>,    // unsafe tag or bad merge: reported after the parse
}

impl<'l> Walk<'l> {
    fn new(limits: &'l Limits, names: &'l [&'l str]) -> Self {
        Self {
            limits,
            names,
            open: Vec::new(),
            anchors: HashMap::new(),
            expanded: 0,
            documents: 0,
            root: None,
            root_kind: None,
            deferred: None,
        }
    }

    fn feed(&mut self, event: Event<'_>) -> Result<(), RouteError> {
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(RouteError::new(
                        Category::Syntax,
                        "expected a single document, found a second one",
                    ));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.check_tag(tag.as_deref());
                self.scalar(value, style, tag.as_deref(), anchor)?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                self.check_tag(tag.as_deref());
                self.open_collection(anchor, false)?;
            }
            Event::MappingStart(_, anchor, tag) => {
                self.check_tag(tag.as_deref());
                self.open_collection(anchor, true)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close_collection(),
            Event::Alias(id) => self.alias(id)?,
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<Rc<Node>, RouteError> {
        if let Some(err) = self.deferred {
            return Err(err);
        }
        if let Some(kind) = self.root_kind {
            return Err(schema(format!("top level is a {kind}, not a mapping")));
        }
        self.root
            .ok_or_else(|| schema("empty document: top level is a null, not a mapping"))
    }

    fn defer(&mut self, err: RouteError) {
        let unsafe_first = err.category == Category::UnsafeTag
            && self
                .deferred
                .as_ref()
                .is_some_and(|e| e.category != Category::UnsafeTag);
        if self.deferred.is_none() || unsafe_first {
            self.deferred = Some(err);
        }
    }

    fn check_tag(&mut self, tag: Option<&Tag>) {
        if let Some(tag) = tag
            && !is_safe_tag(tag)
        {
            let (handle, suffix) = tag.original_parts();
            self.defer(RouteError::new(
                Category::UnsafeTag,
                format!("refused tag {handle}{suffix}"),
            ));
        }
    }

    /// What the next node is for, given its parent; flips a mapping's key/value turn.
    fn slot(&mut self) -> Slot {
        let Some(parent) = self.open.last_mut() else {
            return Slot::Keep; // the root
        };
        if !parent.mapping {
            return if parent.built.is_some() {
                Slot::Keep
            } else {
                Slot::Skip
            };
        }
        parent.expecting_key = !parent.expecting_key;
        if parent.expecting_key {
            Slot::Key
        } else {
            std::mem::replace(&mut parent.value_slot, Slot::Skip)
        }
    }

    /// A mapping key read: decides what its value is for.
    fn key(&mut self, key: Option<Key>) {
        let parent = self.open.last_mut().expect("a key has a mapping");
        parent.value_slot = match (&key, &parent.built) {
            (Some(Key::Merge), _) => Slot::MergeValue,
            (Some(Key::Name(_)), Some(_)) => Slot::Keep,
            _ => Slot::Skip,
        };
        if let Some(Built::Map(_, pending)) = &mut parent.built {
            *pending = key;
        }
    }

    /// A complete node goes into its parent, if the parent keeps it.
    fn place(&mut self, node: &Rc<Node>) {
        match self
            .open
            .last_mut()
            .and_then(|parent| parent.built.as_mut())
        {
            Some(Built::Map(entries, pending)) => {
                if let Some(key) = pending.take() {
                    entries.push((key, node.clone()));
                }
            }
            Some(Built::Seq(items)) => items.push(node.clone()),
            None => {}
        }
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        anchor: usize,
    ) -> Result<(), RouteError> {
        let slot = self.slot();
        if self.open.is_empty() {
            let kind = scalar_kind(&text, style, tag);
            self.root_kind = Some(if kind == ScalarType::Null {
                "null"
            } else {
                kind.name()
            });
            return Ok(());
        }
        if slot == Slot::Skip && anchor == 0 {
            self.count(1); // nothing routes through it: not even resolved
            return Ok(());
        }
        if slot == Slot::Key {
            // Only a key that could name a step or merge is worth resolving.
            let candidate = text == "<<" || self.names.contains(&&*text);
            let kind = if candidate || anchor != 0 {
                scalar_kind(&text, style, tag)
            } else {
                ScalarType::Other("key")
            };
            let key = match kind {
                ScalarType::Other("merge") => Some(Key::Merge),
                ScalarType::Str if candidate => Some(Key::Name(text.clone().into_owned())),
                _ => None,
            };
            self.key(key);
            if anchor != 0 {
                let node = Rc::new(Node::Scalar(Scalar {
                    text: text.into_owned(),
                    kind,
                }));
                self.complete(1, anchor, node);
            } else {
                self.count(1);
            }
            return Ok(());
        }
        let kind = scalar_kind(&text, style, tag);
        let node = Rc::new(Node::Scalar(Scalar {
            text: text.into_owned(),
            kind,
        }));
        self.place(&node);
        self.complete(1, anchor, node);
        Ok(())
    }

    fn alias(&mut self, id: usize) -> Result<(), RouteError> {
        let slot = self.slot();
        let Some(anchored) = self.anchors.get(&id) else {
            // The parser resolves every alias, so a missing entry is an anchor still open.
            return Err(RouteError::new(
                Category::Limit,
                "alias refers to an enclosing anchor: infinite expansion",
            ));
        };
        let (size, node) = (anchored.size, anchored.node.clone());
        self.expanded = self.expanded.saturating_add(size);
        if self.expanded > self.limits.max_alias_expansion as u64 {
            return Err(RouteError::new(
                Category::Limit,
                format!(
                    "aliases expand to more than {} nodes (at least {})",
                    self.limits.max_alias_expansion, self.expanded
                ),
            ));
        }
        match slot {
            Slot::Key => {
                let key = match &*node {
                    Node::Scalar(s) if s.kind == ScalarType::Str => self
                        .names
                        .contains(&s.text.as_str())
                        .then(|| Key::Name(s.text.clone())),
                    _ => None,
                };
                self.key(key);
            }
            Slot::MergeValue | Slot::Keep | Slot::Skip => self.place(&node),
        }
        self.count(size);
        Ok(())
    }

    fn open_collection(&mut self, anchor: usize, mapping: bool) -> Result<(), RouteError> {
        let slot = self.slot();
        if self.open.is_empty() && !mapping {
            self.root_kind = Some("sequence");
        }
        if self.open.len() >= self.limits.max_depth {
            return Err(RouteError::new(
                Category::Limit,
                format!("nesting deeper than the limit of {}", self.limits.max_depth),
            ));
        }
        if slot == Slot::Key {
            self.key(None); // a collection as a key never matches a step
        }
        // A kept key's sequence value is only ever a type error: it is not built.
        let kept = match slot {
            Slot::Keep => mapping,
            Slot::MergeValue => true,
            Slot::Skip | Slot::Key => false,
        };
        let built = (kept || anchor != 0).then(|| {
            if mapping {
                Built::Map(Vec::new(), None)
            } else {
                Built::Seq(Vec::new())
            }
        });
        self.open.push(Open {
            size: 1,
            anchor,
            built,
            mapping,
            expecting_key: false,
            value_slot: Slot::Skip,
            slot,
        });
        Ok(())
    }

    fn close_collection(&mut self) {
        let Some(done) = self.open.pop() else { return };
        let node = match done.built {
            Some(Built::Map(entries, _)) => Rc::new(Node::Map(entries)),
            Some(Built::Seq(items)) => Rc::new(Node::Seq(items)),
            // a kept key's sequence value: only its type matters
            None if done.slot == Slot::Keep && !self.open.is_empty() => opaque("sequence"),
            None => {
                self.count(done.size); // nothing routes through it
                return;
            }
        };
        if self.open.is_empty() {
            if done.mapping {
                self.root = Some(node);
            }
            return;
        }
        if done.slot != Slot::Key {
            self.place(&node);
        }
        self.complete(done.size, done.anchor, node);
    }

    /// Count a complete node of `size` expanded nodes in its parent.
    fn count(&mut self, size: u64) {
        if let Some(parent) = self.open.last_mut() {
            parent.size = parent.size.saturating_add(size);
        }
    }

    /// A node is complete: count it, and remember it under its anchor.
    fn complete(&mut self, size: u64, anchor: usize, node: Rc<Node>) {
        self.count(size);
        if anchor != 0 {
            self.anchors.insert(anchor, Anchored { size, node });
        }
    }
}

fn schema(message: impl Into<String>) -> RouteError {
    RouteError::new(Category::Schema, message)
}

fn opaque(name: &'static str) -> Rc<Node> {
    Rc::new(Node::Opaque(name))
}

/// The non-specific tag `!` and the standard tags are safe; nothing else.
fn is_safe_tag(tag: &Tag) -> bool {
    is_non_specific(tag)
        || tag
            .suffix_in_namespace(YAML_TAG_PREFIX)
            .is_some_and(|name| SAFE_TAGS.contains(&&*name))
}

/// `! text`: granit-parser gives it as an empty handle with the suffix `!`.
fn is_non_specific(tag: &Tag) -> bool {
    (tag.handle().is_empty() && tag.suffix() == "!")
        || (tag.handle() == "!" && tag.suffix().is_empty())
}

/// What a scalar resolves to: its standard tag's type, a string for quoted and block styles,
/// else (plain, or tagged `!`) PyYAML's implicit resolution.
fn scalar_kind(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> ScalarType {
    match tag {
        // PyYAML resolves a `!`-tagged scalar as if it were plain, whatever its style:
        // `! p-1` is a string, `! 42` an int (docs/routing.md's reference loader).
        Some(tag) if is_non_specific(tag) => resolve_plain(value),
        Some(tag) => match tag.suffix_in_namespace(YAML_TAG_PREFIX) {
            Some(name) => resolve_tagged(&name),
            None => ScalarType::Other("tagged"), // refused as unsafe anyway
        },
        None if matches!(style, ScalarStyle::Plain) => resolve_plain(value),
        None => ScalarType::Str,
    }
}
