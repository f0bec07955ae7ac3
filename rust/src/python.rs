//! `treasure_rs._native`: the routers as Python classes.
//!
//! Each class is built `cls(*, limits=None, routing=None)`: `routing` is a
//! `treasure.routing.RoutingSpec` (read once into a [`RouteSpec`]; `None` is the default
//! three fields). `route` returns the fields' strings as a tuple in the spec's order and
//! raises `treasure.parsers.ParseError`; the error class and the five `ErrorCategory`
//! members are imported once and cached. The parse runs with the GIL released: the payload
//! is a `bytes` object, immutable and kept alive by the caller's reference for the whole
//! call, so the parser reads it in place without a copy while other Python threads run.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::panic::AssertUnwindSafe;

use std::time::Instant;

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString, PyTuple, PyType};

use crate::events_route::EventsRouter as EventsCore;
use crate::frames::{FrameRef, decode_run};
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

/// The intact frames of a recording's buffer from `pos` on (to `end`, the bytes read into
/// it), up to the first frame the Python reader must judge itself (crate::frames),
/// validated in one go when the run is made and kept as offsets into the buffer: no Python
/// object per frame until one is asked for. `expected` is the index the first must carry (v2) or is given (v1).
///
/// Frames are taken in order, either one `Frame` per `next()` (built
/// `frame_type(index, timestamp_ns, user_id, payload)`, as the pure-Python reader builds
/// them), or by the timing loop [`FrameRun::time`], or all at once by `take_all`. `pos` is
/// where the first frame not taken starts, `expected` the index it must carry, `count` and
/// `payload_bytes` what was taken: once the run is used up, `pos` is the frame it stopped at.
#[pyclass(module = "treasure_rs._native")]
struct FrameRun {
    frame_type: Py<PyAny>,
    buf: Held,
    frames: Vec<FrameRef>,
    start: usize,
    first_expected: u64,
    taken: usize,
    #[pyo3(get)]
    payload_bytes: u64,
}

/// The contiguous bytes a run's frames are in: a bytes object, or the reader's refill buffer
/// (an anonymous mapping, see [`refill`]), kept exported while the run lives so that it can be neither
/// freed nor resized under the run's offsets. The reader writes its buffer again only once
/// every run over it is used up (`RecordingReader.runs`), and a run only reads it.
struct Held(PyBuffer<u8>);

impl Held {
    fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let buffer = PyBuffer::<u8>::get(obj)?;
        if !buffer.is_c_contiguous() {
            return Err(PyValueError::new_err(
                "a run's frames must be in a contiguous buffer",
            ));
        }
        Ok(Self(buffer))
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the buffer is exported while `self` lives, so its memory stays where it is
        // and is not freed; nothing writes it while a run over it is being taken (above).
        unsafe { std::slice::from_raw_parts(self.0.buf_ptr().cast::<u8>(), self.0.len_bytes()) }
    }
}

/// A user id's string, and the shard's verdict on it once asked.
type UserEntry = (Py<PyString>, Option<bool>);

/// What [`FrameRun::time`] returns: measured, routed_at, event, value, index.
type Timed<'py> = (usize, usize, u8, Option<Bound<'py, PyAny>>, u64);

/// User ids as Python strings, one per distinct id (and, under a shard, whether the shard
/// owns it), so that the timing loop makes neither a string nor a verdict per message. At
/// most `capacity` are kept: past it the table starts again, so its memory stays flat.
#[pyclass(module = "treasure_rs._native")]
struct UserIds {
    ids: HashMap<Box<[u8]>, UserEntry>,
    capacity: usize,
}

impl UserIds {
    /// The id's string, and whether `owns(id)` holds (true without `owns`), each made once.
    fn get<'py>(
        &mut self,
        py: Python<'py>,
        id: &[u8],
        owns: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyString>, bool)> {
        if let Some((text, verdict)) = self.ids.get_mut(id) {
            let text = text.bind(py).clone();
            return match (owns, *verdict) {
                (None, _) => Ok((text, true)),
                (Some(_), Some(mine)) => Ok((text, mine)),
                (Some(owns), None) => {
                    let mine = owns.call1((&text,))?.is_truthy()?;
                    *verdict = Some(mine);
                    Ok((text, mine))
                }
            };
        }
        let decoded = std::str::from_utf8(id)
            .map_err(|_| PyValueError::new_err("a user id that is not UTF-8 in an intact run"))?;
        let text = PyString::new(py, decoded);
        let verdict = owns
            .map(|owns| owns.call1((&text,))?.is_truthy())
            .transpose()?;
        if self.ids.len() >= self.capacity {
            self.ids.clear();
        }
        self.ids.insert(id.into(), (text.clone().unbind(), verdict));
        Ok((text, verdict.unwrap_or(true)))
    }
}

#[pymethods]
impl UserIds {
    #[new]
    fn new(capacity: usize) -> Self {
        Self {
            ids: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    fn __len__(&self) -> usize {
        self.ids.len()
    }
}

#[pymethods]
impl FrameRun {
    #[new]
    #[pyo3(signature = (frame_type, buf, pos, v2, expected, end = None))]
    fn new(
        frame_type: Py<PyAny>,
        buf: &Bound<'_, PyAny>,
        pos: usize,
        v2: bool,
        expected: u64,
        end: Option<usize>,
    ) -> PyResult<Self> {
        let buf = Held::new(buf)?;
        let bytes = buf.bytes();
        let bytes = &bytes[..end.map_or(bytes.len(), |end| end.min(bytes.len()))];
        let frames = decode_run(bytes, pos, v2, expected);
        Ok(Self {
            frame_type,
            buf,
            frames,
            start: pos,
            first_expected: expected,
            taken: 0,
            payload_bytes: 0,
        })
    }

    /// Where the first frame not taken starts.
    #[getter]
    fn pos(&self) -> usize {
        self.taken
            .checked_sub(1)
            .map_or(self.start, |last| self.frames[last].stop)
    }

    /// The index the first frame not taken carries.
    #[getter]
    fn expected(&self) -> u64 {
        self.taken
            .checked_sub(1)
            .map_or(self.first_expected, |last| self.frames[last].index + 1)
    }

    /// Frames taken.
    #[getter]
    fn count(&self) -> usize {
        self.taken
    }

    /// Frames not taken yet.
    #[getter]
    fn remaining(&self) -> usize {
        self.frames.len() - self.taken
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(frame) = self.frames.get(self.taken) else {
            return Ok(None);
        };
        let bytes = self.buf.bytes();
        let user_id = std::str::from_utf8(&bytes[frame.user_id.clone()])
            .map_err(|_| PyValueError::new_err("a user id that is not UTF-8 in an intact run"))?;
        let payload = &bytes[frame.payload.clone()];
        let built = self.frame_type.bind(py).call1((
            frame.index,
            frame.timestamp_ns,
            PyString::new(py, user_id),
            PyBytes::new(py, payload),
        ))?;
        self.taken += 1;
        self.payload_bytes += payload.len() as u64;
        Ok(Some(built))
    }

    /// A new table of user ids for [`FrameRun::time`], keeping at most `capacity`.
    #[staticmethod]
    fn user_ids(capacity: usize) -> UserIds {
        UserIds::new(capacity)
    }

    /// Take every frame left without building any object (a count, a read check): how many.
    fn take_all(&mut self) -> usize {
        let rest = &self.frames[self.taken..];
        self.payload_bytes += rest.iter().map(|f| f.payload.len() as u64).sum::<u64>();
        self.taken = self.frames.len();
        rest.len()
    }

    /// A run of the one frame `frame_type(index, timestamp_ns, user_id, payload)` that the
    /// Python reader judged itself (or that was taken before the measured loop), so that the
    /// timing loop measures it exactly as it measures a native run's frames.
    #[staticmethod]
    fn single(
        py: Python<'_>,
        frame_type: Py<PyAny>,
        index: u64,
        timestamp_ns: i64,
        user_id: &str,
        payload: &[u8],
    ) -> PyResult<Self> {
        let user = user_id.as_bytes();
        let stop = user.len() + payload.len();
        let frame = FrameRef {
            index,
            timestamp_ns,
            user_id: 0..user.len(),
            payload: user.len()..stop,
            stop,
        };
        Ok(Self {
            frame_type,
            buf: Held::new(PyBytes::new(py, &[user, payload].concat()).as_any())?,
            frames: vec![frame],
            start: 0,
            first_expected: index,
            taken: 0,
            payload_bytes: 0,
        })
    }

    /// The CRC-32 of the bytes of the frames taken (from where the run starts to `pos`),
    /// continuing `crc`: the reader's whole-file checksum, taken over a run's bytes in one
    /// call instead of a second pass per refill.
    fn checksum(&self, crc: u32) -> u32 {
        let bytes = self.buf.bytes();
        let mut hasher = crc32fast::Hasher::new_with_initial(crc);
        hasher.update(&bytes[self.start..self.pos()]);
        hasher.finalize()
    }

    /// A new table of payload sizes for [`FrameRun::time`].
    #[staticmethod]
    fn size_counts() -> SizeCounts {
        SizeCounts::new()
    }

    /// The timing pass's measured loop over the frames left, at most `most` messages: for
    /// each, only `handler(payload)` between two reads of the monotonic clock (the clock
    /// `time.perf_counter_ns` reads), the difference stored at `latencies[at]`, `at + 1`,
    /// ...; the payload size counted in `sizes`; the frame's index at `routed[routed_at]`,
    /// ... when the handler returned a tuple (or `check_type` is false); then
    /// `keep(handled)` (`stateless`; `keep` an [`InFlight`] window: kept there, no call) or
    /// `keep(user_id, handled)`, the user id's string from `users` (one per distinct id).
    /// With `owns`, a frame whose user `owns(user_id)` refuses is taken and passed over (a
    /// shard's selection, one verdict per user, kept in `users`); with `end`, a frame whose
    /// index is `end` or more is taken and ends the loop.
    ///
    /// Returns `(measured, routed_at after, event, value, index)` once the run is used up or
    /// `most` are measured (event 0), or right after a frame the caller must handle, its
    /// bookkeeping done with `handled = None`: event 1, the handler raised the `Exception`
    /// `value`; event 2, it returned the non-tuple `value`; event 3, frame `index` is past
    /// `end`. A `BaseException` that is not an `Exception` propagates.
    #[pyo3(signature = (handler, latencies, at, sizes, routed, routed_at, keep, stateless, check_type, most, users = None, owns = None, end = None))]
    #[allow(clippy::too_many_arguments)]
    fn time<'py>(
        &mut self,
        py: Python<'py>,
        handler: &Bound<'py, PyAny>,
        latencies: &Bound<'py, PyAny>,
        at: usize,
        mut sizes: PyRefMut<'py, SizeCounts>,
        routed: &Bound<'py, PyAny>,
        routed_at: usize,
        keep: &Bound<'py, PyAny>,
        stateless: bool,
        check_type: bool,
        most: usize,
        mut users: Option<PyRefMut<'py, UserIds>>,
        owns: Option<&Bound<'py, PyAny>>,
        end: Option<u64>,
    ) -> PyResult<Timed<'py>> {
        let needs_users = owns.is_some() || !stateless;
        if users.is_none() && needs_users {
            return Err(PyValueError::new_err(
                "a user id table is needed to keep users' state or select a shard",
            ));
        }
        // a stateless run's in-flight window, kept natively when it is one
        let ring = keep.cast::<InFlight>().ok().filter(|_| stateless);
        let mut latencies = Column::new(latencies, at, "latencies")?;
        let mut routed = Column::new(routed, routed_at, "routed")?;
        let none = py.None().into_bound(py);
        let mut measured = 0;
        while measured < most {
            let Some(frame) = self.frames.get(self.taken) else {
                break;
            };
            // taken afresh each turn: no view of the buffer lives across the handler's call
            let bytes = self.buf.bytes();
            self.taken += 1;
            let size = frame.payload.len();
            self.payload_bytes += size as u64;
            if end.is_some_and(|end| frame.index >= end) {
                return Ok((measured, routed.at, 3, None, frame.index));
            }
            let user = match users.as_mut() {
                Some(users) if needs_users => {
                    let (user, mine) = users.get(py, &bytes[frame.user_id.clone()], owns)?;
                    if !mine {
                        continue;
                    }
                    Some(user)
                }
                _ => None,
            };
            let payload = PyBytes::new(py, &bytes[frame.payload.clone()]);
            let t0 = Instant::now();
            let outcome = handler.call1((&payload,));
            let elapsed = t0.elapsed();
            drop(payload);
            latencies.push(elapsed.as_nanos() as i64)?;
            sizes.add(size);
            measured += 1;
            let (handled, event) = match outcome {
                Ok(handled) if check_type && !handled.is_exact_instance_of::<PyTuple>() => {
                    (none.clone(), Some((2u8, handled)))
                }
                Ok(handled) => {
                    routed.push(frame.index as i64)?;
                    (handled, None)
                }
                Err(err) if err.is_instance_of::<PyException>(py) => (
                    none.clone(),
                    Some((1u8, err.into_value(py).into_bound(py).into_any())),
                ),
                Err(err) => return Err(err),
            };
            match (user, ring) {
                (Some(user), _) if !stateless => {
                    keep.call1((user, handled))?;
                }
                (_, Some(ring)) => {
                    let evicted = ring.borrow_mut().push(handled.unbind());
                    drop(evicted);
                }
                _ => {
                    keep.call1((handled,))?;
                }
            }
            if let Some((event, value)) = event {
                return Ok((measured, routed.at, event, Some(value), frame.index));
            }
        }
        Ok((measured, routed.at, 0, None, 0))
    }
}

/// The results of the last `maxlen` messages, kept referenced as if still being handled:
/// the session model's in-flight window (`collections.deque(maxlen=...)`'s `append` and
/// `clear`), held natively so that [`FrameRun::time`] keeps each result without a Python call.
#[pyclass(module = "treasure_rs._native")]
struct InFlight {
    items: VecDeque<Py<PyAny>>,
    maxlen: usize,
}

impl InFlight {
    /// Keep `item`; the result it evicts, if any, is handed back to be released once this
    /// object is no longer borrowed (releasing it may run Python code).
    fn push(&mut self, item: Py<PyAny>) -> Option<Py<PyAny>> {
        let evicted = if self.items.len() == self.maxlen {
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(item);
        evicted
    }
}

#[pymethods]
impl InFlight {
    #[new]
    fn new(maxlen: usize) -> PyResult<Self> {
        if maxlen == 0 {
            return Err(PyValueError::new_err(
                "an in-flight window keeps at least 1 result",
            ));
        }
        Ok(Self {
            items: VecDeque::with_capacity(maxlen.min(1 << 16)),
            maxlen,
        })
    }

    fn append(slf: &Bound<'_, Self>, item: Py<PyAny>) {
        let evicted = slf.borrow_mut().push(item);
        drop(evicted); // after the borrow: a __del__ may use this window
    }

    fn clear(slf: &Bound<'_, Self>) {
        let items = std::mem::take(&mut slf.borrow_mut().items);
        drop(items);
    }

    #[getter]
    fn maxlen(&self) -> usize {
        self.maxlen
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    /// The results kept, oldest first.
    fn items(&self, py: Python<'_>) -> Vec<Py<PyAny>> {
        self.items.iter().map(|item| item.clone_ref(py)).collect()
    }
}

/// Payload sizes and how many messages had each, counted by the timing loop: sizes under
/// `DENSE` in place (a table made and written whole before the loop, so the loop's memory
/// stays flat), larger ones in a map (a few distinct sizes in any recording).
#[pyclass(module = "treasure_rs._native")]
struct SizeCounts {
    dense: Vec<u64>,
    sparse: HashMap<usize, u64>,
}

impl SizeCounts {
    const DENSE: usize = 4096;

    fn new() -> Self {
        let mut dense = Vec::with_capacity(Self::DENSE);
        dense.resize(Self::DENSE, 0); // written, not calloc'd: its pages are touched now
        Self {
            dense,
            sparse: HashMap::new(),
        }
    }

    fn add(&mut self, size: usize) {
        match self.dense.get_mut(size) {
            Some(count) => *count += 1,
            None => *self.sparse.entry(size).or_default() += 1,
        }
    }
}

#[pymethods]
impl SizeCounts {
    /// `(size, messages)` for every size counted, smallest first.
    fn items(&self) -> Vec<(usize, u64)> {
        let mut items: Vec<(usize, u64)> = self
            .dense
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(size, count)| (size, *count))
            .chain(self.sparse.iter().map(|(size, count)| (*size, *count)))
            .collect();
        items.sort_unstable();
        items
    }
}

/// Where the timing loop writes: a writable, C-contiguous `array("q")`, from `at` on.
struct Column {
    _buffer: PyBuffer<i64>,
    ptr: *mut i64,
    len: usize,
    at: usize,
    what: &'static str,
}

impl Column {
    fn new(obj: &Bound<'_, PyAny>, at: usize, what: &'static str) -> PyResult<Self> {
        let buffer = PyBuffer::<i64>::get(obj)?;
        if buffer.readonly() || !buffer.is_c_contiguous() {
            return Err(PyValueError::new_err(format!(
                "{what} must be a writable contiguous array('q')"
            )));
        }
        let ptr = buffer.buf_ptr().cast::<i64>();
        let len = buffer.item_count();
        Ok(Self {
            _buffer: buffer,
            ptr,
            len,
            at,
            what,
        })
    }

    fn push(&mut self, value: i64) -> PyResult<()> {
        if self.at >= self.len {
            return Err(PyValueError::new_err(format!(
                "{} is full at {}",
                self.what, self.at
            )));
        }
        // SAFETY: `at` is within the exported buffer, which stays exported (so neither freed
        // nor resized) while its PyBuffer lives; nothing else writes it during this call.
        unsafe { self.ptr.add(self.at).write(value) };
        self.at += 1;
        Ok(())
    }
}

/// The bytes of `buf` from `pos` on, then up to `want` more read from the file descriptor
/// `fd` at its position, as one new bytes object: what was left over is copied, the rest is
/// read into place, so a refill never copies a whole chunk a second time. Reading stops at
/// end of file, or once the object holds `need` bytes and a read came back short (a pipe);
/// a short object is copied to its length. The reader's refill of an uncompressed recording.
#[pyfunction]
fn read_after<'py>(
    py: Python<'py>,
    fd: i32,
    buf: &[u8],
    pos: usize,
    want: usize,
    need: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let kept = buf.get(pos..).unwrap_or_default();
    let size = kept.len() + want;
    // a bytes object left uninitialised (PyBytes::new_with zeroes it first: a second pass
    // over every chunk), owned from here on, filled below before Python can see it
    // SAFETY: a NULL source with a length is CPython's documented way to get that object.
    let full = unsafe {
        let raw =
            pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), size as pyo3::ffi::Py_ssize_t);
        Bound::from_owned_ptr_or_err(py, raw)?.cast_into_unchecked::<PyBytes>()
    };
    // SAFETY: the object is new, `size` bytes long (bytes of CPython's allocator, of no value
    // yet but never read before written), and referenced by this function alone.
    let out = unsafe {
        std::slice::from_raw_parts_mut(
            pyo3::ffi::PyBytes_AsString(full.as_ptr()).cast::<u8>(),
            size,
        )
    };
    out[..kept.len()].copy_from_slice(kept);
    // a pipe: what is there once `need` bytes are is enough
    let got = read_into(
        py,
        fd,
        &mut out[kept.len()..],
        need.saturating_sub(kept.len()),
    )?;
    if got == want {
        return Ok(full);
    }
    Ok(PyBytes::new(py, &out[..kept.len() + got]))
}

/// The reader's refill of an uncompressed regular file into its own buffer `chunk` (a
/// writable buffer made once per read, an anonymous mapping, so that refills neither move a
/// replay's memory nor pass through the allocator the measured backend uses): the bytes of
/// `buf` from `pos` to `end` (what is left of the frames read; `buf` may be `chunk` itself)
/// moved to its start, then read from `fd` at its position until `chunk` is full or the
/// file ends. Returns how many bytes from its start now hold the file's (the rest is stale).
#[pyfunction]
fn refill(
    py: Python<'_>,
    fd: i32,
    chunk: &Bound<'_, PyAny>,
    buf: &Bound<'_, PyAny>,
    pos: usize,
    end: usize,
) -> PyResult<usize> {
    let target = PyBuffer::<u8>::get(chunk)?;
    if target.readonly() || !target.is_c_contiguous() {
        return Err(PyValueError::new_err(
            "the refill buffer must be writable and contiguous",
        ));
    }
    let same = chunk.as_ptr() == buf.as_ptr();
    let held = if same { None } else { Some(Held::new(buf)?) };
    let len = held
        .as_ref()
        .map_or(target.len_bytes(), |held| held.bytes().len());
    let end = end.min(len);
    let kept = end.saturating_sub(pos);
    if kept > target.len_bytes() {
        return Err(PyValueError::new_err(format!(
            "{kept} bytes left over do not fit a {}-byte buffer",
            target.len_bytes()
        )));
    }
    // SAFETY: the buffer is exported (so not freed nor resized) while `target` lives, is
    // writable, and is written only here, with the GIL held and no Python code run until
    // this returns; the runs over it are used up (see `Held`). `held` views another object.
    let out = unsafe {
        std::slice::from_raw_parts_mut(target.buf_ptr().cast::<u8>(), target.len_bytes())
    };
    match &held {
        _ if kept == 0 => {}
        None => out.copy_within(pos..end, 0),
        Some(held) => out[..kept].copy_from_slice(&held.bytes()[pos..end]),
    }
    let room = out.len() - kept;
    Ok(kept + read_into(py, fd, &mut out[kept..], room)?)
}

/// Reads `fd` from its position into `out` until it is full, the file ends, or at least
/// `enough` bytes came (a pipe's reads stop at what is there); returns the bytes read.
fn read_into(py: Python<'_>, fd: i32, out: &mut [u8], enough: usize) -> PyResult<usize> {
    // SAFETY: the descriptor belongs to the caller's open file, which outlives this call;
    // ManuallyDrop keeps this File from closing it.
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let mut got = 0;
    while got < out.len() {
        match file.read(&mut out[got..]) {
            Ok(0) => break,
            Ok(n) if got + n >= enough => return Ok(got + n),
            Ok(n) => got += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => py.check_signals()?,
            Err(err) => return Err(err.into()),
        }
    }
    Ok(got)
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<SerdeRouter>()?;
    module.add_class::<EventsRouter>()?;
    module.add_class::<ScanRouter>()?;
    module.add_function(wrap_pyfunction!(_panic_for_test, module)?)?;
    module.add_class::<FrameRun>()?;
    module.add_class::<SizeCounts>()?;
    module.add_class::<InFlight>()?;
    module.add_function(wrap_pyfunction!(read_after, module)?)?;
    module.add_function(wrap_pyfunction!(refill, module)?)?;
    crate::heap_capture_py::register(module)?;
    module.add(
        "DEFAULT_RELEASE_GIL_MIN_BYTES",
        DEFAULT_RELEASE_GIL_MIN_BYTES,
    )?;
    Ok(())
}
