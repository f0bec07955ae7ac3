//! The heap pass's split of a memray capture into messages, natively: the same bookkeeping
//! as `treasure.probes._heap_records` (`_Split`, `analyse_records`) and the same stack
//! classification as `treasure.probes.heap.classify_stack`, over records read by
//! [`crate::memray_capture`]. The figures must equal the Python split's field by field,
//! so the code follows it step by step, oddities included (a block allocated twice at one
//! address without a free in between is counted as the Python code counts it); sums are
//! `i128` as Python's integers never overflow.

use std::path::Path;

use crate::memray_capture::{
    Allocation, CaptureReader, FREE, IdMap, MUNMAP, PYMALLOC_CALLOC, PYMALLOC_FREE,
    PYMALLOC_MALLOC, PYMALLOC_REALLOC, Unreadable,
};

/// A record's place in the replay loop (`treasure.probes._heap_records.StackKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackKind {
    Handler,
    Unstacked,
    Sentinel,
    Harness,
}

/// Where the sentinels and the handler frame live (`treasure.probes._sentinel`).
#[derive(Debug, Clone)]
pub struct Marks {
    pub begin_size: u64,
    pub end_size: u64,
    pub sentinel_file: Vec<u8>,
    pub mark_functions: Vec<Vec<u8>>,
    pub handler_function: Vec<u8>,
}

/// One traced message's figures (`MessageHeap` without its frame index and payload size).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFigures {
    pub allocated_bytes: i128,
    pub allocations: i128,
    pub peak_bytes: i128,
    pub retained_bytes: i128,
    pub native_allocated_bytes: i128,
    pub native_retained_bytes: i128,
    pub other_thread_bytes: i128,
}

/// `CaptureAnalysis`, the timeline as the live heap at each message's end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub messages: Vec<MessageFigures>,
    pub peak_live_bytes: i128,
    pub timeline_live_bytes: Vec<i128>,
    pub records: u64,
    pub other_thread_bytes_between: i128,
}

/// How a split ends when it gives no figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// `CaptureMismatch`: the sentinels do not match the traced messages.
    Mismatch(String),
    /// `CaptureCut`: the capture ends inside a message.
    Cut(String),
    /// This reader cannot read the capture exactly: memray's must.
    Unreadable(String),
}

impl From<Unreadable> for SplitError {
    fn from(err: Unreadable) -> Self {
        SplitError::Unreadable(err.0)
    }
}

fn is_free(allocator: u8) -> bool {
    allocator == FREE || allocator == PYMALLOC_FREE
}

fn is_python(allocator: u8) -> bool {
    matches!(
        allocator,
        PYMALLOC_MALLOC | PYMALLOC_CALLOC | PYMALLOC_REALLOC
    )
}

fn classify(
    reader: &mut CaptureReader,
    record: &Allocation,
    marks: &Marks,
) -> Result<StackKind, Unreadable> {
    let frames = reader.stack_trace(record.stack, record.tid)?;
    let Some(innermost) = frames.first() else {
        return Ok(StackKind::Unstacked);
    };
    if innermost.filename == marks.sentinel_file
        && marks.mark_functions.contains(&innermost.function)
    {
        return Ok(StackKind::Sentinel);
    }
    let under_handler = frames.iter().any(|frame| {
        frame.function == marks.handler_function && frame.filename == marks.sentinel_file
    });
    Ok(if under_handler {
        StackKind::Handler
    } else {
        StackKind::Harness
    })
}

struct Split<'a> {
    reader: CaptureReader,
    marks: &'a Marks,
    traced: usize,
    kinds: Vec<Option<StackKind>>, // by stack node, asked once per node as in Python
    live: IdMap<u64, u64>,
    live_bytes: i128,
    peak_live_bytes: i128,
    records: u64,
    loop_tid: Option<u64>,
    other_thread_bytes: i128,
    done: Vec<MessageFigures>,
    timeline: Vec<i128>,
}

impl Split<'_> {
    fn next(&mut self) -> Result<Option<Allocation>, SplitError> {
        Ok(self.reader.next_allocation()?)
    }

    fn kind(&mut self, record: &Allocation) -> Result<StackKind, SplitError> {
        let index = record.stack as usize;
        if let Some(Some(kind)) = self.kinds.get(index) {
            return Ok(*kind);
        }
        let kind = classify(&mut self.reader, record, self.marks)?;
        if self.kinds.len() <= index {
            self.kinds.resize(index + 1, None);
        }
        self.kinds[index] = Some(kind);
        Ok(kind)
    }

    /// Bytes a munmap releases; the unmapped front of a mapping leaves the rest live.
    fn unmap(&mut self, address: u64, size: u64) -> Result<i128, SplitError> {
        let mapped = self.live.remove(&address).unwrap_or(0);
        if 0 < size && size < mapped {
            let rest = address
                .checked_add(size)
                .ok_or_else(|| SplitError::Unreadable("a munmap past the address space".into()))?;
            self.live.insert(rest, mapped - size);
            return Ok(i128::from(size));
        }
        Ok(i128::from(mapped))
    }

    /// Follow the live heap up to the next begin sentinel; false at the end.
    fn outside(&mut self) -> Result<bool, SplitError> {
        let mut count = 0u64;
        let mut other = 0i128;
        let mut found = false;
        while let Some(record) = self.next()? {
            count += 1;
            if is_free(record.allocator) {
                self.live_bytes -= i128::from(self.live.remove(&record.address).unwrap_or(0));
            } else if record.allocator == MUNMAP {
                self.live_bytes -= self.unmap(record.address, record.size)?;
            } else {
                let size = record.size;
                if size == self.marks.begin_size || size == self.marks.end_size {
                    let kind = self.kind(&record)?;
                    if kind == StackKind::Sentinel && size == self.marks.end_size {
                        return Err(SplitError::Mismatch(
                            "an end sentinel outside a message".into(),
                        ));
                    }
                    if kind == StackKind::Sentinel {
                        self.loop_tid = Some(record.tid);
                        found = true;
                        break;
                    }
                }
                self.live.insert(record.address, size);
                self.live_bytes += i128::from(size);
                self.peak_live_bytes = self.peak_live_bytes.max(self.live_bytes);
                if self.loop_tid.is_some_and(|tid| tid != record.tid) {
                    other += i128::from(size);
                }
            }
        }
        self.other_thread_bytes += other;
        self.records += count;
        Ok(found)
    }

    /// Follow one message up to its end sentinel; the run's state moves only once it ends.
    fn inside(&mut self) -> Result<(), SplitError> {
        if self.done.len() >= self.traced {
            return Err(SplitError::Mismatch(format!(
                "more begin sentinels than the {} traced",
                self.traced
            )));
        }
        let saved_live_bytes = self.live_bytes;
        let saved_peak = self.peak_live_bytes;
        let mut own: IdMap<u64, u64> = IdMap::default();
        let mut own_native: IdMap<u64, ()> = IdMap::default();
        let mut message = MessageFigures::default();
        let (mut own_live, mut own_peak, mut own_native_live) = (0i128, 0i128, 0i128);
        let loop_tid = self.loop_tid;
        let mut count = 0u64;
        let mut ended = false;
        while let Some(record) = self.next()? {
            count += 1;
            let address = record.address;
            if is_free(record.allocator) || record.allocator == MUNMAP {
                let size = if record.allocator == MUNMAP {
                    let size = self.unmap(address, record.size)?;
                    // Python's `rest in live` is false past the address space
                    if let Some(rest) = address.checked_add(record.size)
                        && own.contains_key(&address)
                        && let Some(&rest_size) = self.live.get(&rest)
                    {
                        own.insert(rest, rest_size);
                        if own_native.contains_key(&address) {
                            own_native.insert(rest, ());
                        }
                    }
                    size
                } else {
                    i128::from(self.live.remove(&address).unwrap_or(0))
                };
                self.live_bytes -= size;
                if own.remove(&address).is_some() {
                    own_live -= size;
                    if own_native.remove(&address).is_some() {
                        own_native_live -= size;
                    }
                }
                continue;
            }
            let size = record.size;
            let kind = self.kind(&record)?;
            if kind == StackKind::Sentinel
                && (size == self.marks.begin_size || size == self.marks.end_size)
            {
                if size == self.marks.begin_size {
                    return Err(SplitError::Mismatch(
                        "a begin sentinel inside a message".into(),
                    ));
                }
                ended = true;
                break;
            }
            self.live.insert(address, size);
            self.live_bytes += i128::from(size);
            self.peak_live_bytes = self.peak_live_bytes.max(self.live_bytes);
            if Some(record.tid) != loop_tid {
                message.other_thread_bytes += i128::from(size);
            } else if kind != StackKind::Handler && kind != StackKind::Unstacked {
                continue;
            }
            message.allocated_bytes += i128::from(size);
            message.allocations += 1;
            own.insert(address, size);
            own_live += i128::from(size);
            own_peak = own_peak.max(own_live);
            if !is_python(record.allocator) {
                message.native_allocated_bytes += i128::from(size);
                own_native.insert(address, ());
                own_native_live += i128::from(size);
            }
        }
        if !ended {
            // Python leaves the run's figures as they were before this message
            self.live_bytes = saved_live_bytes;
            self.peak_live_bytes = saved_peak;
            return Err(SplitError::Cut("a message without its end sentinel".into()));
        }
        message.peak_bytes = own_peak;
        message.retained_bytes = own_live;
        message.native_retained_bytes = own_native_live;
        self.done.push(message);
        self.timeline.push(self.live_bytes);
        self.records += count;
        Ok(())
    }
}

/// `analyse_records` over the capture at `path`, for `traced` messages.
pub fn analyse_capture(
    path: &Path,
    traced: usize,
    marks: &Marks,
    may_end_early: bool,
) -> Result<Analysis, SplitError> {
    let reader = CaptureReader::open(path)?;
    let mut split = Split {
        reader,
        marks,
        traced,
        kinds: Vec::new(),
        live: IdMap::default(),
        live_bytes: 0,
        peak_live_bytes: 0,
        records: 0,
        loop_tid: None,
        other_thread_bytes: 0,
        done: Vec::new(),
        timeline: Vec::new(),
    };
    let outcome = (|| {
        while split.outside()? {
            split.inside()?;
        }
        Ok(())
    })();
    match outcome {
        Err(SplitError::Cut(_)) if may_end_early => {}
        Err(err) => return Err(err),
        Ok(()) => {}
    }
    if split.done.len() != traced && !may_end_early {
        return Err(SplitError::Mismatch(format!(
            "the capture holds {} complete messages, the loop traced {traced}",
            split.done.len()
        )));
    }
    Ok(Analysis {
        messages: split.done,
        peak_live_bytes: split.peak_live_bytes,
        timeline_live_bytes: split.timeline,
        records: split.records,
        other_thread_bytes_between: split.other_thread_bytes,
    })
}
