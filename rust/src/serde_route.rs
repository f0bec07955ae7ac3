//! `rust-serde`: serde's derived `Deserialize` for [`Routing`], fed by a streaming serde
//! `Deserializer` over granit-parser's events.
//!
//! The deserializer hands the struct visitor a `MapAccess` over the top-level mapping: each
//! routing key and its string value as the event stream reaches it, every other key skipped
//! on the stream and never built. Skipping runs through the same hardened walk as
//! `rust-events` ([`crate::events_route`]), so both enforce the limits identically:
//! - `max_bytes`: checked on the payload before parsing.
//! - `max_depth`: every collection start past it is refused; the parser's own flow and block
//!   nesting guards sit one above it.
//! - `max_alias_expansion`: anchors' expanded node counts add up per alias; nothing is
//!   replayed, so an alias bomb costs one pass over its text.
//!
//! The map ends as soon as the struct's three fields have been delivered: the rest of the
//! message is never parsed. A field named twice before that is serde's `duplicate field`
//! error; merge keys (`<<`) supply fields still missing when the mapping closes.
//!
//! serde-saphyr, the previous engine, cannot stop early (it walks every ignored value
//! through its untyped path and checks the document's end), and a full parse of a 512-byte
//! nested message costs more than the whole budget of this backend: see rust/README.md.

use std::fmt;

use serde::Deserialize;
use serde::de::value::{StrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::events_route::{Walk, parsed, parser};
use crate::{Category, Limits, ROUTING_FIELDS, RouteError, Routing, checked_text};

/// Routes messages with serde under [`Limits`].
#[derive(Debug, Clone)]
pub struct SerdeRouter {
    limits: Limits,
}

impl SerdeRouter {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn route(&self, payload: &[u8]) -> Result<Routing, RouteError> {
        let text = checked_text(payload, &self.limits)?;
        let mut de = EventDeserializer {
            events: parser(text, &self.limits),
            walk: Walk::new(&self.limits),
        };
        Routing::deserialize(&mut de).map_err(|DeError(err)| err)
    }
}

/// A serde error carrying the contract's category. serde's own errors (missing or duplicate
/// field, wrong type) are well-formed YAML that is not a routable message: `schema`.
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

impl From<RouteError> for DeError {
    fn from(err: RouteError) -> Self {
        DeError(err)
    }
}

/// The event stream of one message, behind serde's `Deserializer`. Only a mapping of
/// string fields can be read from it: the routing record.
pub struct EventDeserializer<'a, 'l> {
    events: granit_parser::Parser<'a, granit_parser::StrInput<'a>>,
    walk: Walk<'l>,
}

impl<'de> Deserializer<'de> for &mut EventDeserializer<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(TopLevel {
            de: self,
            queue: Vec::with_capacity(3),
            value: None,
            delivered: [false; 3],
            done: false,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The top-level mapping as serde's `MapAccess`: routing fields in the order the stream
/// settles them.
struct TopLevel<'d, 'a, 'l> {
    de: &'d mut EventDeserializer<'a, 'l>,
    queue: Vec<(usize, String)>, // settled, not yet handed to the visitor (last first)
    value: Option<String>,       // the value of the key just handed over
    delivered: [bool; 3],
    done: bool, // the walk has the whole routing: read no further
}

impl TopLevel<'_, '_, '_> {
    /// Pull events until the walk settles a field (or the routing).
    fn advance(&mut self) -> Result<(), RouteError> {
        while self.queue.is_empty() && !self.done {
            let Some(item) = self.de.events.next() else {
                return Err(self.de.walk.incomplete());
            };
            if let Some(routing) = self.de.walk.feed(parsed(item)?)? {
                self.done = true;
                let Routing {
                    event_type,
                    player_id,
                    session_id,
                } = routing;
                for (field, value) in [(2, session_id), (1, player_id), (0, event_type)] {
                    if !self.delivered[field] {
                        self.queue.push((field, value));
                    }
                }
            } else if let Some(settled) = self.de.walk.take_explicit() {
                self.queue.push(settled);
            }
        }
        Ok(())
    }
}

impl<'de> MapAccess<'de> for TopLevel<'_, '_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        self.advance()?;
        let Some((field, value)) = self.queue.pop() else {
            return Ok(None);
        };
        self.delivered[field] = true;
        self.value = Some(value);
        let key: StrDeserializer<'_, DeError> = StrDeserializer::new(ROUTING_FIELDS[field]);
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let value = self.value.take().unwrap_or_default();
        seed.deserialize(StringDeserializer::<DeError>::new(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(ROUTING_FIELDS.len())
    }
}
