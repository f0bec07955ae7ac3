//! `treasure_rs._native.analyse_memray_capture`: the heap pass's split of a memray capture
//! ([`crate::heap_split`]) for `treasure.probes.heap`, run with the GIL released. It never
//! raises for what it finds in the capture: it answers `(status, value)`, status one of
//! "ok" (value: the figures), "mismatch" and "cut" (value: the message of the Python
//! split's `CaptureMismatch` / `CaptureCut`) and "unreadable" (value: why memray's own
//! reader must read this capture instead). A panic is caught and answered "unreadable".

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::heap_split::{Analysis, Marks, SplitError, analyse_capture};

type Row = (i128, i128, i128, i128, i128, i128, i128);

/// The figures as plain values: per message (allocated, allocations, peak, retained,
/// native allocated, native retained, other threads), the run's peak, the live heap at each
/// message's end, the records read and other threads' bytes between messages.
fn figures<'py>(py: Python<'py>, analysis: Analysis) -> PyResult<Bound<'py, PyTuple>> {
    let rows: Vec<Row> = analysis
        .messages
        .into_iter()
        .map(|m| {
            (
                m.allocated_bytes,
                m.allocations,
                m.peak_bytes,
                m.retained_bytes,
                m.native_allocated_bytes,
                m.native_retained_bytes,
                m.other_thread_bytes,
            )
        })
        .collect();
    (
        rows,
        analysis.peak_live_bytes,
        analysis.timeline_live_bytes,
        analysis.records,
        analysis.other_thread_bytes_between,
    )
        .into_pyobject(py)
}

/// Split the capture at `path` into `traced` messages; see the module's documentation.
#[pyfunction]
#[pyo3(signature = (path, traced, begin_size, end_size, sentinel_file, mark_functions, handler_function, may_end_early))]
#[allow(clippy::too_many_arguments)]
fn analyse_memray_capture<'py>(
    py: Python<'py>,
    path: PathBuf,
    traced: usize,
    begin_size: u64,
    end_size: u64,
    sentinel_file: String,
    mark_functions: Vec<String>,
    handler_function: String,
    may_end_early: bool,
) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
    let marks = Marks {
        begin_size,
        end_size,
        sentinel_file: sentinel_file.into_bytes(),
        mark_functions: mark_functions.into_iter().map(String::into_bytes).collect(),
        handler_function: handler_function.into_bytes(),
    };
    let outcome = py.detach(|| {
        catch_unwind(AssertUnwindSafe(|| {
            analyse_capture(&path, traced, &marks, may_end_early)
        }))
        .unwrap_or_else(|panic| {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Err(SplitError::Unreadable(format!(
                "internal panic in the capture reader: {detail}"
            )))
        })
    });
    let message = |text: String| text.into_pyobject(py).map(Bound::into_any);
    Ok(match outcome {
        Ok(analysis) => ("ok", figures(py, analysis)?.into_any()),
        Err(SplitError::Mismatch(text)) => ("mismatch", message(text)?),
        Err(SplitError::Cut(text)) => ("cut", message(text)?),
        Err(SplitError::Unreadable(text)) => ("unreadable", message(text)?),
    })
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(analyse_memray_capture, module)?)?;
    module.add(
        "MEMRAY_FORMAT_VERSION",
        crate::memray_capture::FORMAT_VERSION,
    )
}
