//! The routing spec (docs/routing.md): which fields a router picks out of a message.
//!
//! An ordered list of fields, each a path of keys from the top-level mapping and the kind of
//! value it must hold. Routers take it at construction and return the fields' strings in the
//! spec's order; nothing is compiled per spec.

use std::fmt;

/// What a routing field's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// A scalar that resolves to a string under YAML 1.1 (PyYAML's SafeLoader).
    String,
    /// Any scalar except null, taken as its text (the characters written, unconverted).
    Scalar,
}

impl FieldKind {
    /// The name `treasure.routing.FieldKind` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::Scalar => "scalar",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "string" => Some(FieldKind::String),
            "scalar" => Some(FieldKind::Scalar),
            _ => None,
        }
    }
}

/// One routing field: the keys leading to it from the top-level mapping, and its kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    pub path: Vec<String>,
    pub kind: FieldKind,
}

impl FieldSpec {
    pub fn new(path: &[&str], kind: FieldKind) -> Self {
        Self {
            path: path.iter().map(|step| (*step).to_owned()).collect(),
            kind,
        }
    }

    /// The path written with dots, as `--route` takes it.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

impl fmt::Display for FieldSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FieldKind::String => f.write_str(&self.dotted()),
            FieldKind::Scalar => write!(f, "{}:scalar", self.dotted()),
        }
    }
}

/// The ordered fields a router needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    pub fields: Vec<FieldSpec>,
}

/// The fields every router used before specs existed, and still the default.
pub const DEFAULT_FIELDS: [&str; 3] = ["event_type", "player_id", "session_id"];

impl Default for RouteSpec {
    fn default() -> Self {
        Self {
            fields: DEFAULT_FIELDS
                .iter()
                .map(|name| FieldSpec::new(&[name], FieldKind::String))
                .collect(),
        }
    }
}

impl RouteSpec {
    /// A spec, checked as `treasure.routing.RoutingSpec` checks it: at least one field, no
    /// empty key, no field named twice, no field that is also another field's mapping.
    pub fn new(fields: Vec<FieldSpec>) -> Result<Self, String> {
        if fields.is_empty() {
            return Err("a routing spec needs at least one field".to_owned());
        }
        for (at, field) in fields.iter().enumerate() {
            if field.path.is_empty() || field.path.iter().any(String::is_empty) {
                return Err(format!("bad field path {:?}: empty key", field.dotted()));
            }
            for other in &fields[..at] {
                if other.path == field.path {
                    return Err(format!("routing field {:?} is named twice", field.dotted()));
                }
                let (short, long) = if other.path.len() < field.path.len() {
                    (other, field)
                } else {
                    (field, other)
                };
                if long.path.starts_with(&short.path) {
                    return Err(format!(
                        "{:?} is a field and the mapping of {:?}",
                        short.dotted(),
                        long.dotted()
                    ));
                }
            }
        }
        Ok(Self { fields })
    }

    /// `kind,actor.id,sid:scalar` (the `--route` text) as a spec.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields = text
            .split(',')
            .map(|item| {
                let item = item.trim();
                let (path, kind) = match item.split_once(':') {
                    Some((path, name)) => (
                        path,
                        FieldKind::from_name(name)
                            .ok_or_else(|| format!("unknown kind {name:?} in {item:?}"))?,
                    ),
                    None => (item, FieldKind::String),
                };
                Ok(FieldSpec {
                    path: path.split('.').map(str::to_owned).collect(),
                    kind,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Self::new(fields)
    }

    /// Every key name any path goes through: a mapping's other keys can be skipped unread.
    pub fn step_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for step in self.fields.iter().flat_map(|f| &f.path) {
            if !names.contains(&step.as_str()) {
                names.push(step);
            }
        }
        names
    }
}

impl fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (at, field) in self.fields.iter().enumerate() {
            if at > 0 {
                f.write_str(",")?;
            }
            field.fmt(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_paths_and_kinds() {
        let spec = RouteSpec::parse("kind, actor.id,sid:scalar").unwrap();
        assert_eq!(
            spec.fields,
            vec![
                FieldSpec::new(&["kind"], FieldKind::String),
                FieldSpec::new(&["actor", "id"], FieldKind::String),
                FieldSpec::new(&["sid"], FieldKind::Scalar),
            ]
        );
        assert_eq!(spec.to_string(), "kind,actor.id,sid:scalar");
        assert_eq!(spec.step_names(), vec!["kind", "actor", "id", "sid"]);
    }

    #[test]
    fn default_is_the_three_string_fields() {
        assert_eq!(
            RouteSpec::default(),
            RouteSpec::parse("event_type,player_id,session_id").unwrap()
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        for text in ["", "a,,b", "a.", "a,a", "meta,meta.session", "a:int"] {
            assert!(RouteSpec::parse(text).is_err(), "{text:?}");
        }
    }
}
