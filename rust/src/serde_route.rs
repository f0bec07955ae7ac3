//! `rust-serde`: serde driven by the routing spec at runtime.
//!
//! The spec becomes a tree of steps once, at construction. Routing a message is
//! `DeserializeSeed`: a seed per routing mapping whose visitor takes the keys the spec names
//! (a field's value through a [`FieldSeed`], an intermediate mapping through a nested seed)
//! and ignores the rest. The data side is a serde `Deserializer` over the nodes the shared
//! walk ([`crate::walk`]) kept, so both routers read the same events under the same limits;
//! YAML's own rules sit in the deserializer: its `MapAccess` presents a mapping with its
//! `<<` merges flattened (own keys win, earlier sources win), and a scalar is a string to
//! `deserialize_str` only if it resolves to one. A duplicate routing key is the visitor's
//! error, as serde's derive reports `duplicate field`.
//!
//! A serde derive on a fixed struct cannot honour a spec given at runtime, which is why the
//! visitor is hand-written (the previous engine, serde-saphyr, could not stop walking
//! ignored values through its untyped path either: see rust/README.md).

use std::fmt;
use std::rc::Rc;

use serde::de::value::{StrDeserializer, UnitDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::events_route::{bad_merge, merge_sources, scalar_text};
use crate::scalars::ScalarType;
use crate::spec::{FieldKind, FieldSpec};
use crate::walk::{self, Key, Node};
use crate::{Category, Limits, RouteError, RouteSpec, Router};

/// serde's newtype-struct name for "this scalar's text, whatever it resolves to": a
/// `scalar` field asks for it (the pattern serde_json's `RawValue` uses).
const SCALAR_TEXT: &str = "$treasure_rs::ScalarText";
/// The key a mapping's `MapAccess` gives once its own keys are done and its `<<` sources
/// follow: a visitor that has every key it needs stops there, so a bad merge source it
/// does not reach is no error (docs/routing.md). Never a kept key: those are spec names.
const MERGED_FOLLOW: &str = "$treasure_rs::MergedFollow";

/// Routes messages with serde under [`Limits`].
#[derive(Debug, Clone)]
pub struct SerdeRouter {
    spec: RouteSpec,
    steps: Steps,
    names: Vec<String>,
    limits: Limits,
}

impl Router for SerdeRouter {
    fn new(spec: RouteSpec, limits: Limits) -> Self {
        let steps = Steps::from_spec(&spec);
        let names = spec.step_names().into_iter().map(str::to_owned).collect();
        Self {
            spec,
            steps,
            names,
            limits,
        }
    }

    fn spec(&self) -> &RouteSpec {
        &self.spec
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn route_text(&self, text: &str) -> Result<Vec<String>, RouteError> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let root = walk::read(text, &self.limits, &names)?;
        let mut values = vec![None; self.spec.fields.len()];
        let seed = MappingSeed {
            steps: &self.steps,
            at: 0,
            spec: &self.spec,
            values: &mut values,
        };
        seed.deserialize(NodeDeserializer {
            node: &root,
            depth: self.limits.max_depth,
        })
        .map_err(|DeError(err)| err)?;
        values
            .into_iter()
            .zip(&self.spec.fields)
            .map(|(value, field)| {
                value.ok_or_else(|| {
                    RouteError::new(
                        Category::Schema,
                        format!("missing routing field {:?}", field.dotted()),
                    )
                })
            })
            .collect()
    }
}

/// What a key of a routing mapping leads to.
#[derive(Debug, Clone)]
enum Step {
    Field(usize),   // the spec's field at this index
    Mapping(usize), // the mapping at this index of `Steps`
}

/// The spec as a tree of mappings, each with the keys it routes by.
#[derive(Debug, Clone)]
struct Steps {
    mappings: Vec<Vec<(String, Step)>>,
}

impl Steps {
    fn from_spec(spec: &RouteSpec) -> Self {
        let mut mappings: Vec<Vec<(String, Step)>> = vec![Vec::new()];
        for (index, field) in spec.fields.iter().enumerate() {
            let mut at = 0;
            let (last, inner) = field.path.split_last().expect("a spec path is never empty");
            for step in inner {
                let existing = mappings[at].iter().find_map(|(name, next)| match next {
                    Step::Mapping(child) if name == step => Some(*child),
                    _ => None,
                });
                at = existing.unwrap_or_else(|| {
                    mappings.push(Vec::new());
                    let child = mappings.len() - 1;
                    mappings[at].push((step.clone(), Step::Mapping(child)));
                    child
                });
            }
            mappings[at].push((last.clone(), Step::Field(index)));
        }
        Self { mappings }
    }
}

/// A serde error carrying the contract's category. serde's own errors (wrong type,
/// duplicate key) are well-formed YAML that is not a routable message: `schema`.
#[derive(Debug)]
pub struct DeError(pub RouteError);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(RouteError::new(Category::Schema, msg.to_string()))
    }
}

/// One routing mapping, deserialized into the spec's value slots.
struct MappingSeed<'s> {
    steps: &'s Steps,
    at: usize,
    spec: &'s RouteSpec,
    values: &'s mut Vec<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for MappingSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MappingSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let keys = &self.steps.mappings[self.at];
        let mut seen = vec![false; keys.len()];
        let mut merged = false; // past the mapping's own keys
        while let Some(routed) = map.next_key_seed(KeySeed { keys })? {
            let found = match routed {
                Routed::Step(found) => found,
                Routed::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Routed::MergedFollow => {
                    map.next_value::<IgnoredAny>()?;
                    merged = true;
                    if seen.iter().all(|s| *s) {
                        break; // own keys gave every step: the merge sources are not reached
                    }
                    continue;
                }
            };
            if std::mem::replace(&mut seen[found], true) {
                let key = &keys[found].0;
                return Err(de::Error::custom(format!("duplicate routing key {key:?}")));
            }
            match keys[found].1 {
                Step::Field(index) => {
                    let field = &self.spec.fields[index];
                    self.values[index] = Some(map.next_value_seed(FieldSeed { field })?);
                }
                Step::Mapping(child) => map.next_value_seed(MappingSeed {
                    steps: self.steps,
                    at: child,
                    spec: self.spec,
                    values: &mut *self.values,
                })?,
            }
            if merged && seen.iter().all(|s| *s) {
                break; // later sources are not reached
            }
        }
        Ok(())
    }
}

/// What a key of a routing mapping is to its visitor.
enum Routed {
    Step(usize),  // the mapping's step at this index
    Other,        // a key no step names
    MergedFollow, // the mapping's own keys are done: what follows comes from `<<` sources
}

/// A key of a routing mapping: which of its steps it is, if any.
struct KeySeed<'s> {
    keys: &'s [(String, Step)],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Routed;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Routed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        if key == MERGED_FOLLOW {
            return Ok(Routed::MergedFollow);
        }
        Ok(match self.keys.iter().position(|(name, _)| name == key) {
            Some(found) => Routed::Step(found),
            None => Routed::Other,
        })
    }
}

/// A routing field's value, as its kind asks.
struct FieldSeed<'s> {
    field: &'s FieldSpec,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        match self.field.kind {
            FieldKind::String => deserializer.deserialize_str(self),
            FieldKind::Scalar => deserializer.deserialize_newtype_struct(SCALAR_TEXT, self),
        }
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field.kind {
            FieldKind::String => write!(f, "a YAML string for {:?}", self.field.dotted()),
            FieldKind::Scalar => write!(f, "a non-null scalar for {:?}", self.field.dotted()),
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }
}

/// A kept node behind serde's `Deserializer`.
struct NodeDeserializer<'n> {
    node: &'n Rc<Node>,
    depth: usize, // how far merge sources may still nest
}

impl NodeDeserializer<'_> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match &**self.node {
            Node::Scalar(scalar) if scalar.kind == ScalarType::Str => {
                de::Unexpected::Str(&scalar.text)
            }
            other => de::Unexpected::Other(other.describe()),
        }
    }
}

impl<'de> Deserializer<'de> for NodeDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &**self.node {
            Node::Scalar(scalar) => visitor.visit_str(&scalar.text),
            Node::Map(_) => self.deserialize_map(visitor),
            Node::Seq(items) => visitor.visit_seq(Items {
                items: items.iter(),
                depth: self.depth,
            }),
            Node::Opaque(_) => visitor.visit_unit(),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &**self.node {
            Node::Scalar(scalar) if scalar.kind == ScalarType::Str => {
                visitor.visit_str(&scalar.text)
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name != SCALAR_TEXT {
            return visitor.visit_newtype_struct(self);
        }
        // The text of any non-null scalar SafeConstructor could build.
        let any_scalar = FieldSpec {
            path: Vec::new(),
            kind: FieldKind::Scalar,
        };
        match scalar_text(self.node, &any_scalar) {
            Ok(text) => visitor.visit_string(text),
            Err(_) => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let Node::Map(entries) = &**self.node else {
            return Err(de::Error::invalid_type(self.unexpected(), &visitor));
        };
        visitor.visit_map(Merged::new(entries, self.depth))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit() // the walk has already checked everything it holds
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf option unit unit_struct seq tuple
        tuple_struct struct enum identifier
    }
}

/// One mapping being read: its own named entries, then its merge sources one by one.
struct Frame<'n> {
    own: std::slice::Iter<'n, (Key, Rc<Node>)>,
    sources: Vec<&'n Rc<Node>>,
    next_source: usize,
    known: usize, // keys given before this mapping's: a later mapping cannot override them
}

/// A mapping as a loader sees it after `<<`, as serde's `MapAccess`: its own keys
/// (duplicates kept, for the visitor to refuse), [`MERGED_FOLLOW`], then each merge
/// source's keys (its own, then its sources, depth first) that no earlier mapping gave.
/// Sources are read only when the visitor asks past its own keys.
struct Merged<'n> {
    frames: Vec<Frame<'n>>,
    given: Vec<&'n str>,
    announced: bool,
    value: Option<&'n Rc<Node>>,
    depth: usize,
}

impl<'n> Merged<'n> {
    fn new(entries: &'n [(Key, Rc<Node>)], depth: usize) -> Self {
        let mut merged = Self {
            frames: Vec::new(),
            given: Vec::new(),
            announced: false,
            value: None,
            depth,
        };
        merged.push(entries);
        merged
    }

    fn push(&mut self, entries: &'n [(Key, Rc<Node>)]) {
        self.frames.push(Frame {
            own: entries.iter(),
            sources: merge_sources(entries).collect(),
            next_source: 0,
            known: self.given.len(),
        });
    }

    /// The next key and value, `Ok(None)` for [`MERGED_FOLLOW`], or the end.
    fn next_entry(&mut self) -> Result<Option<Option<(&'n str, &'n Rc<Node>)>>, RouteError> {
        loop {
            let Some(frame) = self.frames.last_mut() else {
                return Ok(None);
            };
            if let Some((key, value)) = frame.own.next() {
                let Key::Name(name) = key else { continue };
                if self.given[..frame.known].contains(&name.as_str()) {
                    continue; // an earlier mapping gave it: merge precedence
                }
                self.given.push(name);
                return Ok(Some(Some((name, value))));
            }
            let Some(source) = frame.sources.get(frame.next_source).copied() else {
                self.frames.pop();
                continue;
            };
            if !self.announced {
                self.announced = true;
                return Ok(Some(None));
            }
            frame.next_source += 1;
            let Node::Map(inner) = &**source else {
                return Err(bad_merge(source));
            };
            if self.frames.len() > self.depth {
                return Err(RouteError::new(
                    Category::Limit,
                    "merge keys nest deeper than the depth limit",
                ));
            }
            self.push(inner);
        }
    }
}

impl<'de> MapAccess<'de> for Merged<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let key = match self.next_entry().map_err(DeError)? {
            None => return Ok(None),
            Some(None) => MERGED_FOLLOW,
            Some(Some((key, value))) => {
                self.value = Some(value);
                key
            }
        };
        seed.deserialize(StrDeserializer::<DeError>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => seed.deserialize(NodeDeserializer {
                node,
                depth: self.depth.saturating_sub(1),
            }),
            None => seed.deserialize(UnitDeserializer::<DeError>::new()), // MERGED_FOLLOW's
        }
    }
}

/// A kept sequence's items as serde's `SeqAccess`.
struct Items<'n> {
    items: std::slice::Iter<'n, Rc<Node>>,
    depth: usize,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.items
            .next()
            .map(|node| {
                seed.deserialize(NodeDeserializer {
                    node,
                    depth: self.depth,
                })
            })
            .transpose()
    }
}
