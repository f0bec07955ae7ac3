//! The routing spec as the scanner walks it: a trie of path steps from the top-level
//! mapping, built once per router, so a message costs no allocation for it.

use crate::spec::{FieldKind, RouteSpec};

/// One key on a routing path: a field (a leaf) or a mapping the path goes through.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub key: Box<[u8]>,
    pub field: Option<(usize, FieldKind)>,
    pub children: Vec<usize>,
    /// One bit per child step: which keys the step's mapping must name.
    pub child_mask: u64,
}

/// Routing fields as a trie of steps; step 0 is the top-level mapping itself.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub(super) steps: Vec<Step>,
    pub(super) fields: usize,
}

/// Steps are told apart by one bit each in a `u64`.
const MAX_STEPS: usize = 64;

impl ScanSpec {
    /// Fields as dotted paths (already split) with their kinds, in the spec's order.
    pub fn new<'a>(fields: impl IntoIterator<Item = (Vec<&'a str>, FieldKind)>) -> Self {
        let mut steps = vec![Step {
            key: Box::default(),
            field: None,
            children: Vec::new(),
            child_mask: 0,
        }];
        let mut count = 0;
        for (index, (path, kind)) in fields.into_iter().enumerate() {
            count = index + 1;
            let mut at = 0;
            for (depth, key) in path.iter().enumerate() {
                let found = steps[at]
                    .children
                    .iter()
                    .copied()
                    .find(|&c| *steps[c].key == *key.as_bytes());
                at = found.unwrap_or_else(|| {
                    steps.push(Step {
                        key: key.as_bytes().into(),
                        field: None,
                        children: Vec::new(),
                        child_mask: 0,
                    });
                    let child = steps.len() - 1;
                    steps[at].children.push(child);
                    child
                });
                if depth + 1 == path.len() {
                    steps[at].field = Some((index, kind));
                }
            }
        }
        for step in 0..steps.len().min(MAX_STEPS) {
            steps[step].child_mask = steps[step]
                .children
                .iter()
                .filter(|&&c| c < MAX_STEPS)
                .fold(0, |mask, &c| mask | 1 << c);
        }
        Self {
            steps,
            fields: count,
        }
    }

    /// The trie of a routing spec's paths.
    pub fn from_route(spec: &RouteSpec) -> Self {
        Self::new(
            spec.fields
                .iter()
                .map(|f| (f.path.iter().map(String::as_str).collect(), f.kind)),
        )
    }

    /// Whether the scan can hold this spec (its steps fit the bit masks); otherwise every
    /// message goes to the full parser.
    pub(super) fn scannable(&self) -> bool {
        self.steps.len() <= MAX_STEPS && self.fields > 0
    }

    /// The child step of `step` whose key is `key`.
    pub(super) fn child(&self, step: usize, key: &[u8]) -> Option<usize> {
        self.steps[step]
            .children
            .iter()
            .copied()
            .find(|&c| *self.steps[c].key == *key)
    }
}
