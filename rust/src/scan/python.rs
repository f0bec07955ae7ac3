//! `treasure_rs._native.ScanRouter`: the scanner as a Python class, built and called like
//! the other routers (`cls(*, limits=None, routing=None, ...)`, `route` returning the spec's
//! fields as a tuple, the GIL released), plus the count of messages it handed to the full
//! parser.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use super::ScanRouter as ScanCore;
use crate::Router;
use crate::python::{
    DEFAULT_RELEASE_GIL_MIN_BYTES, limits_from, limits_to_python, route_payload, spec_from,
    spec_to_python,
};

/// The one-pass routing scanner, falling back to the event walk for what it does not handle.
#[pyclass(subclass, frozen, module = "treasure_rs._native")]
pub struct ScanRouter {
    core: ScanCore,
    release_gil_min_bytes: usize,
}

#[pymethods]
impl ScanRouter {
    #[new]
    #[pyo3(signature = (*, limits = None, routing = None, release_gil_min_bytes = DEFAULT_RELEASE_GIL_MIN_BYTES))]
    fn new(
        limits: Option<&Bound<'_, PyAny>>,
        routing: Option<&Bound<'_, PyAny>>,
        release_gil_min_bytes: usize,
    ) -> PyResult<Self> {
        Ok(Self {
            core: ScanCore::new(spec_from(routing)?, limits_from(limits)?),
            release_gil_min_bytes,
        })
    }

    /// Route one message: the spec's fields as a tuple, or `ParseError`.
    fn route<'py>(
        &self,
        py: Python<'py>,
        payload: &Bound<'py, PyBytes>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        route_payload(&self.core, py, payload, self.release_gil_min_bytes)
    }

    /// The same tuple as `route`, for callers written before `route` returned one.
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

    /// Messages handed to the full parser since construction.
    #[getter]
    fn fallbacks(&self) -> u64 {
        self.core.fallbacks()
    }
}
