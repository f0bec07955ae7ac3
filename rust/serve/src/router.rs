//! The Rust routers by name, built from a routing spec (docs/routing.md) and the default
//! limits, as the Python backends of the same names are.

use std::panic::AssertUnwindSafe;

use treasure_rs::events_route::EventsRouter;
use treasure_rs::scan::ScanRouter;
use treasure_rs::serde_route::SerdeRouter;
use treasure_rs::{Limits, RouteError, RouteSpec, Router as _, guarded};

pub const BACKENDS: &str = "rust-serde|rust-events|rust-scan";

#[derive(Clone, Copy)]
pub enum Backend {
    Serde,
    Events,
    Scan,
}

impl Backend {
    pub fn from_name(name: &str) -> Option<Backend> {
        match name {
            "rust-serde" => Some(Backend::Serde),
            "rust-events" => Some(Backend::Events),
            "rust-scan" => Some(Backend::Scan),
            _ => None,
        }
    }
}

pub enum Router {
    Serde(SerdeRouter),
    Events(EventsRouter),
    Scan(ScanRouter),
}

impl Router {
    pub fn new(backend: Backend, spec: RouteSpec) -> Router {
        let limits = Limits::default();
        match backend {
            Backend::Serde => Router::Serde(SerdeRouter::new(spec, limits)),
            Backend::Events => Router::Events(EventsRouter::new(spec, limits)),
            Backend::Scan => Router::Scan(ScanRouter::new(spec, limits)),
        }
    }

    pub fn max_bytes(&self) -> usize {
        Limits::default().max_bytes
    }

    /// The spec's fields in order, or the classified error; a panic becomes an error as it
    /// does in the Python binding, so both answer the same.
    pub fn route(&self, payload: &[u8]) -> Result<Vec<String>, RouteError> {
        guarded(AssertUnwindSafe(|| match self {
            Router::Serde(router) => router.route(payload),
            Router::Events(router) => router.route(payload),
            Router::Scan(router) => router.route(payload),
        }))
    }
}

/// `--route` text as `treasure.routing.RoutingSpec.parse` reads it: the Rust spec's checks,
/// and no key padded with spaces (the items themselves may be).
pub fn parse_spec(text: &str) -> Result<RouteSpec, String> {
    if text.trim().is_empty() || text.split(',').any(|item| item.trim().is_empty()) {
        return Err(format!("empty field in routing spec {text:?}"));
    }
    for item in text.split(',') {
        let path = item.trim().split(':').next().unwrap_or_default();
        if path
            .split('.')
            .any(|step| step.is_empty() || step != step.trim())
        {
            return Err(format!("bad field path {path:?}: empty or padded key"));
        }
    }
    RouteSpec::parse(text)
}
