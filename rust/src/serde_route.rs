//! `rust-serde`: serde deserialization straight into [`Routing`] with serde-saphyr.
//!
//! serde's derive skips every key that is not a field as `IgnoredAny`: the value is walked
//! on the parser's event stream and dropped, never built. Limits map onto serde-saphyr's
//! budgets, which it checks while streaming:
//! - `max_bytes`: checked on the payload before parsing (serde-saphyr's own input cap only
//!   applies to readers), and as the cap on total scalar bytes.
//! - `max_depth`: `Budget::max_depth` (block and flow collections alike) plus the parser's
//!   flow nesting limit, one above it so the budget, not the parser, reports the breach.
//! - `max_alias_expansion`: `AliasLimits::max_total_replayed_events` (events replayed from
//!   anchors, ignored keys included) and `Budget::max_aliases`.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{
    Budget, DuplicateKeyPolicy, Error, ExternalMessageSource, NonFiniteFloatPolicy,
};

use crate::{Category, Limits, RouteError, Routing, checked_text};

/// Routes messages with serde-saphyr under budgets built once from [`Limits`].
#[derive(Debug, Clone)]
pub struct SerdeRouter {
    limits: Limits,
    budget: Budget,
    alias_limits: AliasLimits,
}

impl SerdeRouter {
    pub fn new(limits: Limits) -> Self {
        let mut budget = Budget::default();
        budget.max_depth = limits.max_depth;
        budget.flow_nesting_limit = limits.max_depth.saturating_add(1);
        budget.max_total_scalar_bytes = limits.max_bytes;
        budget.max_aliases = limits.max_alias_expansion;
        budget.max_documents = 1;
        let mut alias_limits = AliasLimits::default();
        alias_limits.max_total_replayed_events = limits.max_alias_expansion;
        Self {
            limits,
            budget,
            alias_limits,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn route(&self, payload: &[u8]) -> Result<Routing, RouteError> {
        let text = checked_text(payload, &self.limits)?;
        // Options holds an Rc (report callback), so it is built per call rather than shared
        // across threads; it is a handful of plain fields.
        let mut options = serde_saphyr::Options::default();
        options.budget = Some(self.budget.clone());
        options.alias_limits = self.alias_limits;
        options.reject_unsupported_tags = true;
        options.no_schema = true; // `player_id: 42` is an int, not a string
        options.duplicate_keys = DuplicateKeyPolicy::PassThrough; // no key set kept per mapping
        options.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
        options.with_snippet = false;
        options.crop_radius = 0;
        // `Option` so an empty document reads as null (a schema error, as for a safe loader)
        // rather than as an unexpected end of input.
        match serde_saphyr::from_str_with_options::<Option<Routing>>(text, options) {
            Ok(Some(routing)) => Ok(routing),
            Ok(None) => Err(RouteError::new(
                Category::Schema,
                "empty document: top level is a null, not a mapping",
            )),
            Err(err) => Err(classify(&err)),
        }
    }
}

/// Map a serde-saphyr error onto the contract's categories.
pub fn classify(err: &Error) -> RouteError {
    let inner = innermost(err);
    RouteError::new(category_of(inner), inner.to_string())
}

fn innermost(mut err: &Error) -> &Error {
    loop {
        match err {
            Error::WithSnippet { error, .. } | Error::AliasError { error, .. } => err = error,
            other => return other,
        }
    }
}

fn category_of(err: &Error) -> Category {
    match err {
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::SequenceUnbalanced => Category::Syntax,
            _ => Category::Limit,
        },
        Error::AliasReplayCounterOverflow { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::RecursiveReferencesRequireWeakTypes { .. } => Category::Limit,
        Error::UnsupportedTag { .. } | Error::TaggedStructFieldName { .. } => Category::UnsafeTag,
        Error::InvalidUtf8Input | Error::BinaryNotUtf8 { .. } => Category::Encoding,
        Error::ExternalMessage { source, .. } => match source.as_ref() {
            ExternalMessageSource::Parser(scan) => scan_category(scan.kind()),
            _ => Category::Syntax,
        },
        Error::Eof { .. }
        | Error::MultipleDocuments { .. }
        | Error::UnexpectedSequenceEnd { .. }
        | Error::UnexpectedMappingEnd { .. }
        | Error::UnexpectedContainerEndWhileSkippingNode { .. }
        | Error::UnexpectedContainerEndWhileReadingKeyNode { .. }
        | Error::ContainerEndMismatch { .. }
        | Error::UnknownAnchor { .. }
        | Error::FoldedBlockScalarMustIndentContent { .. }
        | Error::IndentationError { .. }
        | Error::IOError { .. } => Category::Syntax,
        // Missing field, wrong type, a number where a string belongs, a non-mapping top
        // level, duplicate routing field: well-formed YAML that is not a routable message.
        _ => Category::Schema,
    }
}

/// Parser errors are syntax, except the parser's own nesting guard, which is a limit.
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
