//! `treasure_rs._native`: the routers as Python classes.
//!
//! Each class is built `cls(*, limits=None, routing=None)`: `routing` is a
//! `treasure.routing.RoutingSpec` (read once into a [`RouteSpec`]; `None` is the default
//! three fields). `route` returns the fields' strings as a tuple in the spec's order and
//! raises `treasure.parsers.ParseError`; the error class and the five `ErrorCategory`
//! members are imported once and cached. The parse runs with the GIL released: the payload
//! is a `bytes` object, immutable and kept alive by the caller's reference for the whole
//! call, so the parser reads it in place without a copy while other Python threads run.

use std::panic::AssertUnwindSafe;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyTuple, PyType};

use crate::events_route::EventsRouter as EventsCore;
use crate::scan::ScanRouter as ScanCore;
use crate::serde_route::SerdeRouter as SerdeCore;
use crate::{Category, FieldKind, FieldSpec, Limits, RouteError, RouteSpec, Router, guarded};

const CONTRACT: &str = "treasure.parsers";
static PARSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CATEGORIES: PyOnceLock<[Py<PyAny>; 5]> = PyOnceLock::new();

/// Payloads below this many bytes are parsed without releasing the GIL: for them the
/// release/re-acquire round trip costs more than the parse it would overlap.
pub(crate) const DEFAULT_RELEASE_GIL_MIN_BYTES: usize = 0;

pub(crate) fn limits_from(limits: Option<&Bound<'_, PyAny>>) -> PyResult<Limits> {
    let defaults = Limits::default();
    let Some(limits) = limits.filter(|l| !l.is_none()) else {
        return Ok(defaults);
    };
    Ok(Limits {
        max_bytes: limits.getattr("max_bytes")?.extract()?,
        max_depth: limits.getattr("max_depth")?.extract()?,
        max_alias_expansion: limits.getattr("max_alias_expansion")?.extract()?,
    })
}

pub(crate) fn limits_to_python<'py>(
    py: Python<'py>,
    limits: &Limits,
) -> PyResult<Bound<'py, PyAny>> {
    py.import(CONTRACT)?.getattr("Limits")?.call1((
        limits.max_bytes,
        limits.max_depth,
        limits.max_alias_expansion,
    ))
}

fn category_member(py: Python<'_>, category: Category) -> PyResult<&Py<PyAny>> {
    let members = CATEGORIES.get_or_try_init(py, || -> PyResult<[Py<PyAny>; 5]> {
        let enum_type = py.import(CONTRACT)?.getattr("ErrorCategory")?;
        let member = |c: Category| enum_type.call1((c.as_str(),)).map(Bound::unbind);
        Ok([
            member(Category::Syntax)?,
            member(Category::Limit)?,
            member(Category::UnsafeTag)?,
            member(Category::Encoding)?,
            member(Category::Schema)?,
        ])
    })?;
    let index = match category {
        Category::Syntax => 0,
        Category::Limit => 1,
        Category::UnsafeTag => 2,
        Category::Encoding => 3,
        Category::Schema => 4,
    };
    Ok(&members[index])
}

pub(crate) fn parse_error(py: Python<'_>, err: RouteError) -> PyErr {
    let raised = (|| -> PyResult<PyErr> {
        let category = category_member(py, err.category)?;
        let exc_type = PARSE_ERROR.import(py, CONTRACT, "ParseError")?;
        Ok(PyErr::from_value(exc_type.call1((category, err.message))?))
    })();
    raised.unwrap_or_else(|import_failure| import_failure)
}

/// A `treasure.routing.RoutingSpec` (its `fields`, each a `path` tuple and a `kind`) as a
/// [`RouteSpec`]; `None` is the default spec.
pub(crate) fn spec_from(routing: Option<&Bound<'_, PyAny>>) -> PyResult<RouteSpec> {
    let Some(routing) = routing.filter(|r| !r.is_none()) else {
        return Ok(RouteSpec::default());
    };
    let mut fields = Vec::new();
    for field in routing.getattr("fields")?.try_iter()? {
        let field = field?;
        let path: Vec<String> = field.getattr("path")?.extract()?;
        let kind: String = field.getattr("kind")?.extract()?;
        let kind = FieldKind::from_name(&kind)
            .ok_or_else(|| PyValueError::new_err(format!("unknown routing field kind {kind:?}")))?;
        fields.push(FieldSpec { path, kind });
    }
    RouteSpec::new(fields).map_err(PyValueError::new_err)
}

pub(crate) fn spec_to_python<'py>(
    py: Python<'py>,
    spec: &RouteSpec,
) -> PyResult<Bound<'py, PyAny>> {
    let spec_type = py.import("treasure.routing")?.getattr("RoutingSpec")?;
    spec_type.call_method1("parse", (spec.to_string(),))
}

/// Route one payload's bytes in place, with the GIL released when worth it: the fields as a
/// tuple, or `ParseError`.
pub(crate) fn route_payload<'py, R: Router + Sync>(
    router: &R,
    py: Python<'py>,
    payload: &Bound<'py, PyBytes>,
    release_gil_min_bytes: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let bytes: &[u8] = payload.as_bytes();
    let call = || guarded(AssertUnwindSafe(|| router.route(bytes)));
    let outcome = if bytes.len() >= release_gil_min_bytes {
        py.detach(call)
    } else {
        call()
    };
    match outcome {
        Ok(values) => PyTuple::new(py, values),
        Err(err) => Err(parse_error(py, err)),
    }
}

/// A Python class over a [`Router`]: the constructor and getters every router shares.
macro_rules! router_class {
    ($name:ident, $core:ident, $doc:literal $(, { $($extra:tt)* })?) => {
        #[doc = $doc]
        #[pyclass(subclass, frozen, module = "treasure_rs._native")]
        pub struct $name {
            core: $core,
            release_gil_min_bytes: usize,
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = (*, limits = None, routing = None, release_gil_min_bytes = DEFAULT_RELEASE_GIL_MIN_BYTES))]
            fn new(
                limits: Option<&Bound<'_, PyAny>>,
                routing: Option<&Bound<'_, PyAny>>,
                release_gil_min_bytes: usize,
            ) -> PyResult<Self> {
                let core = $core::new(spec_from(routing)?, limits_from(limits)?);
                Ok(Self { core, release_gil_min_bytes })
            }

            /// Route one message: the spec's fields as a tuple, or `ParseError`.
            fn route<'py>(
                &self,
                py: Python<'py>,
                payload: &Bound<'py, PyBytes>,
            ) -> PyResult<Bound<'py, PyTuple>> {
                route_payload(&self.core, py, payload, self.release_gil_min_bytes)
            }

            /// The same tuple as `route`, for callers written when `route` returned a record.
            fn route_tuple<'py>(
                &self,
                py: Python<'py>,
                payload: &Bound<'py, PyBytes>,
            ) -> PyResult<Bound<'py, PyTuple>> {
                route_payload(&self.core, py, payload, self.release_gil_min_bytes)
            }

            #[getter]
            fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                limits_to_python(py, self.core.limits())
            }

            #[getter]
            fn routing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                spec_to_python(py, self.core.spec())
            }

            #[getter]
            fn release_gil_min_bytes(&self) -> usize {
                self.release_gil_min_bytes
            }

            $($($extra)*)?
        }
    };
}

router_class!(
    SerdeRouter,
    SerdeCore,
    "serde driven by the routing spec at runtime, over the shared event walk."
);
router_class!(
    EventsRouter,
    EventsCore,
    "The routing spec's paths looked up by hand over the shared event walk."
);
router_class!(
    ScanRouter,
    ScanCore,
    "The one-pass routing scanner, falling back to the event walk for what it does not handle.",
    {
        /// Messages handed to the full parser since construction.
        #[getter]
        fn fallbacks(&self) -> u64 {
            self.core.fallbacks()
        }
    }
);

/// Panic on purpose, through the same guard as `route`: proves a panic becomes a
/// labelled `ParseError` instead of unwinding into Python.
#[pyfunction]
fn _panic_for_test(py: Python<'_>, message: &str) -> PyResult<()> {
    let outcome = guarded(AssertUnwindSafe(|| -> Result<(), RouteError> {
        panic!("{message}")
    }));
    match outcome {
        Ok(_) => Ok(()),
        Err(err) => Err(parse_error(py, err)),
    }
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<SerdeRouter>()?;
    module.add_class::<EventsRouter>()?;
    module.add_class::<ScanRouter>()?;
    module.add_function(wrap_pyfunction!(_panic_for_test, module)?)?;
    module.add(
        "DEFAULT_RELEASE_GIL_MIN_BYTES",
        DEFAULT_RELEASE_GIL_MIN_BYTES,
    )?;
    Ok(())
}
