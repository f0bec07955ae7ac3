//! `treasure_rs._native.ScanRouter`: the scanner as a Python class, with the same
//! constructor, `route`/`route_tuple` and GIL handling as the other routers, plus the
//! count of messages it handed to the full parser.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use super::ScanRouter as ScanCore;
use crate::python::{
    DEFAULT_RELEASE_GIL_MIN_BYTES, as_tuple, limits_from, limits_to_python, parse_error,
    routed_event, run,
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
    #[pyo3(signature = (*, limits = None, release_gil_min_bytes = DEFAULT_RELEASE_GIL_MIN_BYTES))]
    fn new(limits: Option<&Bound<'_, PyAny>>, release_gil_min_bytes: usize) -> PyResult<Self> {
        Ok(Self {
            core: ScanCore::new(limits_from(limits)?),
            release_gil_min_bytes,
        })
    }

    /// Route one message: a `RoutedEvent`, or `ParseError` with its category.
    fn route(&self, py: Python<'_>, payload: &Bound<'_, PyBytes>) -> PyResult<Py<PyAny>> {
        match run(py, payload, self.release_gil_min_bytes, |b| {
            self.core.route(b)
        }) {
            Ok(routing) => routed_event(py, routing),
            Err(err) => Err(parse_error(py, err)),
        }
    }

    /// The routing fields as a plain tuple.
    fn route_tuple<'py>(
        &self,
        py: Python<'py>,
        payload: &Bound<'py, PyBytes>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        match run(py, payload, self.release_gil_min_bytes, |b| {
            self.core.route(b)
        }) {
            Ok(routing) => as_tuple(py, routing),
            Err(err) => Err(parse_error(py, err)),
        }
    }

    #[getter]
    fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        limits_to_python(py, self.core.limits())
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
