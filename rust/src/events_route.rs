//! `rust-events`: the shared walk ([`crate::walk`]) over granit-parser's events, then each
//! field's path looked up by hand in the nodes it kept.
//!
//! docs/routing.md's rules, as this router applies them:
//! - a step matches a key by its resolved string value, and a step's key written twice in
//!   one mapping is `schema` ("duplicate routing key");
//! - `<<` supplies keys the mapping does not have itself; in `<<: [*a, *b]` the earlier
//!   source wins, and merge sources merge recursively;
//! - a `string` field must resolve to a string; a `scalar` field is any non-null scalar
//!   SafeConstructor could build, taken as its text.

use std::rc::Rc;

use crate::scalars::{ScalarType, fits};
use crate::spec::{FieldKind, FieldSpec};
use crate::walk::{self, Key, Node};
use crate::{Category, Limits, RouteError, RouteSpec, Router};

/// Routes messages by walking parser events under [`Limits`].
#[derive(Debug, Clone)]
pub struct EventsRouter {
    spec: RouteSpec,
    names: Vec<String>,
    limits: Limits,
}

impl Router for EventsRouter {
    fn new(spec: RouteSpec, limits: Limits) -> Self {
        let names = spec.step_names().into_iter().map(str::to_owned).collect();
        Self {
            spec,
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
        let depth = self.limits.max_depth;
        self.spec
            .fields
            .iter()
            .map(|field| field_value(&root, field, depth))
            .collect()
    }
}

fn schema(message: impl Into<String>) -> RouteError {
    RouteError::new(Category::Schema, message)
}

/// One field's value: its path followed from the root, then its kind checked.
fn field_value(root: &Rc<Node>, field: &FieldSpec, depth: usize) -> Result<String, RouteError> {
    let mut node = root;
    for (at, step) in field.path.iter().enumerate() {
        let Node::Map(entries) = &**node else {
            let through = field.path[..at].join(".");
            return Err(schema(format!(
                "routing field {through:?} is a {}, not a mapping",
                node.describe()
            )));
        };
        node = lookup(entries, step, depth.saturating_sub(at))?
            .ok_or_else(|| schema(format!("missing routing field {:?}", field.dotted())))?;
    }
    scalar_text(node, field)
}

/// A routing value's text, if it is of the field's kind.
pub(crate) fn scalar_text(node: &Node, field: &FieldSpec) -> Result<String, RouteError> {
    let wrong = |what: &str| schema(format!("routing field {:?} is a {what}", field.dotted()));
    let Node::Scalar(scalar) = node else {
        return Err(wrong(node.describe()));
    };
    match field.kind {
        FieldKind::String if scalar.kind == ScalarType::Str => Ok(scalar.text.clone()),
        FieldKind::Scalar if scalar.kind != ScalarType::Null && fits(scalar.kind, &scalar.text) => {
            Ok(scalar.text.clone())
        }
        FieldKind::Scalar if scalar.kind != ScalarType::Null => Err(wrong(&format!(
            "{} that does not fit its type ({:?})",
            scalar.kind.name(),
            scalar.text
        ))),
        _ => Err(wrong(scalar.kind.name())),
    }
}

/// The value of `step` in a mapping: its own entry (written once), else the first merge
/// source that has it; a source that is not a mapping is `schema` once the lookup reaches
/// it. `depth` bounds the merge chain, as nesting is bounded.
pub(crate) fn lookup<'n>(
    entries: &'n [(Key, Rc<Node>)],
    step: &str,
    depth: usize,
) -> Result<Option<&'n Rc<Node>>, RouteError> {
    let mut own = entries
        .iter()
        .filter(|(key, _)| matches!(key, Key::Name(name) if name == step));
    if let Some((_, value)) = own.next() {
        if own.next().is_some() {
            return Err(schema(format!("duplicate routing key {step:?}")));
        }
        return Ok(Some(value));
    }
    if depth == 0 {
        return Err(RouteError::new(
            Category::Limit,
            "merge keys nest deeper than the depth limit",
        ));
    }
    for source in merge_sources(entries) {
        let Node::Map(inner) = &**source else {
            return Err(bad_merge(source));
        };
        if let Some(found) = lookup(inner, step, depth - 1)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// A merge value that is not a mapping or a sequence of mappings, met by a lookup.
pub(crate) fn bad_merge(source: &Node) -> RouteError {
    schema(format!(
        "merge source is a {}, not a mapping",
        source.describe()
    ))
}

/// A mapping's merge sources in precedence order: `<<` values in document order, a
/// sequence's mappings in its order.
pub(crate) fn merge_sources(entries: &[(Key, Rc<Node>)]) -> impl Iterator<Item = &Rc<Node>> {
    entries
        .iter()
        .filter(|(key, _)| *key == Key::Merge)
        .flat_map(|(_, value)| match &**value {
            Node::Seq(items) => items.iter().collect::<Vec<_>>(),
            _ => vec![value],
        })
}
