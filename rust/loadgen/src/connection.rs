//! One connection: a writer thread on the schedule and a reader matching replies in order.

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::args::Args;
use crate::sched;
use crate::stream::Stream;

const HIGHEST_NS: u64 = 3_600_000_000_000; // as treasure.probes.latency: clamp, never drop
const BATCH_BYTES: usize = 256 << 10;
const POLL: Duration = Duration::from_millis(50);
/// Reply status bytes: 0 routed, 1..=6 the categories of docs/target-protocol.md.
pub const STATUSES: usize = 7;
/// Columns of a timeline bin, each message counted in the bin of its intended send time:
/// sent, sent late, answered routed, answered with an error, timed out, lost.
pub const SENT: usize = 0;
pub const LATE: usize = 1;
pub const ROUTED: usize = 2;
pub const ERRORS: usize = 3;
pub const TIMED_OUT: usize = 4;
pub const LOST: usize = 5;
pub const BIN_NS: u64 = 1_000_000_000;

/// What every connection reads: the frames, the schedule, and per-message send times.
pub struct Shared {
    pub frames: Vec<Vec<u8>>,
    pub offsets: Vec<u64>,
    pub actual: Vec<AtomicU64>, // ns since start of each message's send
    pub answered: AtomicU64,
    pub finished: AtomicBool,
    pub connections: usize,
    pub reply_timeout_ns: u64,
    pub late_threshold_ns: u64,
    pub realtime: bool,
    pub batch_window_ns: u64,
}

impl Shared {
    pub fn new(frames: Vec<Vec<u8>>, offsets: Vec<u64>, args: &Args) -> Shared {
        let actual = (0..offsets.len()).map(|_| AtomicU64::new(0)).collect();
        Shared {
            frames,
            offsets,
            actual,
            answered: AtomicU64::new(0),
            finished: AtomicBool::new(false),
            connections: args.connections,
            reply_timeout_ns: args.reply_timeout.as_nanos() as u64,
            late_threshold_ns: args.late_threshold_ns,
            realtime: args.realtime,
            batch_window_ns: args.batch_window_ns,
        }
    }

    fn mine(&self, k: usize) -> usize {
        (self.offsets.len() + self.connections - 1 - k) / self.connections
    }
}

pub struct Totals {
    pub corrected: Histogram<u64>,
    pub uncorrected: Histogram<u64>,
    pub schedule_error: Histogram<u64>,
    pub sent: u64,
    pub statuses: [u64; STATUSES],
    pub protocol: u64,
    pub timeouts: u64,
    pub lost: u64,
    pub late_sends: u64,
    pub refused: u64,
    pub last_event_ns: u64,
    pub failures: Vec<String>,
    /// late sends that waited behind a write the target's full socket held back
    pub late_behind_full_socket: u64,
    pub realtime_threads: u64,
    pub timeline: Vec<[u64; 6]>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("valid bounds")
}

fn record(histogram: &mut Histogram<u64>, value: u64) {
    histogram.saturating_record(value.clamp(1, HIGHEST_NS));
}

impl Totals {
    pub fn new() -> Totals {
        Totals {
            corrected: histogram(),
            uncorrected: histogram(),
            schedule_error: histogram(),
            sent: 0,
            statuses: [0; STATUSES],
            protocol: 0,
            timeouts: 0,
            lost: 0,
            late_sends: 0,
            refused: 0,
            last_event_ns: 0,
            failures: Vec::new(),
            late_behind_full_socket: 0,
            realtime_threads: 0,
            timeline: Vec::new(),
        }
    }

    /// Count `n` in `column` of the bin of intended send time `due_ns`.
    pub fn count(&mut self, due_ns: u64, column: usize, n: u64) {
        let bin = (due_ns / BIN_NS) as usize;
        if self.timeline.len() <= bin {
            self.timeline.resize(bin + 1, [0; 6]);
        }
        self.timeline[bin][column] += n;
    }

    /// Connection k's sent messages `from..to` (positions) will get no reply: timed out or
    /// lost, each in the bin of its intended send time.
    fn unanswered(
        &mut self,
        shared: &Shared,
        k: usize,
        positions: std::ops::Range<usize>,
        column: usize,
    ) {
        let n = positions.len() as u64;
        if column == TIMED_OUT {
            self.timeouts += n;
        } else {
            self.lost += n;
        }
        for position in positions {
            self.count(shared.offsets[k + position * shared.connections], column, 1);
        }
    }

    pub fn merge(&mut self, other: Totals) {
        // same bounds and precision: adding bucket counts is exact
        self.corrected.add(&other.corrected).expect("same bounds");
        self.uncorrected
            .add(&other.uncorrected)
            .expect("same bounds");
        self.schedule_error
            .add(&other.schedule_error)
            .expect("same bounds");
        self.sent += other.sent;
        for (mine, theirs) in self.statuses.iter_mut().zip(other.statuses) {
            *mine += theirs;
        }
        self.protocol += other.protocol;
        self.timeouts += other.timeouts;
        self.lost += other.lost;
        self.late_sends += other.late_sends;
        self.late_behind_full_socket += other.late_behind_full_socket;
        self.realtime_threads += other.realtime_threads;
        if self.timeline.len() < other.timeline.len() {
            self.timeline.resize(other.timeline.len(), [0; 6]);
        }
        for (mine, theirs) in self.timeline.iter_mut().zip(&other.timeline) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        self.last_event_ns = self.last_event_ns.max(other.last_event_ns);
        for failure in other.failures {
            if !self.failures.contains(&failure) {
                self.failures.push(failure);
            }
        }
    }
}

struct Progress {
    sent: AtomicUsize,
    writer_done: AtomicBool,
    dead: AtomicBool,
}

fn elapsed_ns(start: Instant) -> u64 {
    start.elapsed().as_nanos() as u64
}

pub fn run(k: usize, stream: Stream, start: Instant, shared: &Arc<Shared>) -> Totals {
    let progress = Arc::new(Progress {
        sent: AtomicUsize::new(0),
        writer_done: AtomicBool::new(false),
        dead: AtomicBool::new(false),
    });
    let mut totals = Totals::new();
    let writer = match stream.try_clone() {
        Ok(clone) => {
            let (shared, progress) = (Arc::clone(shared), Arc::clone(&progress));
            thread::spawn(move || write_all(k, clone, start, &shared, &progress))
        }
        Err(err) => {
            totals
                .failures
                .push(format!("cannot share the connection: {err}"));
            return totals;
        }
    };
    read_all(k, stream, start, shared, &progress, &mut totals);
    progress.dead.store(true, Ordering::Release); // the writer stops if it still runs
    match writer.join() {
        Ok(written) => totals.merge(written),
        Err(_) => totals
            .failures
            .push("the writer thread panicked".to_string()),
    }
    totals
}

fn write_all(
    k: usize,
    mut stream: Stream,
    start: Instant,
    shared: &Shared,
    progress: &Progress,
) -> Totals {
    let mut totals = Totals::new();
    if shared.realtime && sched::realtime(sched::WRITER_PRIORITY) {
        totals.realtime_threads += 1;
    }
    let (count, step) = (shared.mine(k), shared.connections);
    let mut position = 0;
    let mut batch = Vec::with_capacity(BATCH_BYTES + 4096);
    // from a write the target's full socket held back until the writer is on time again
    let mut held_back = false;
    let mut last_write = 0u64;
    // a target slower than the schedule is not waited for without end: sending stops one
    // reply timeout past the schedule's last send, and the rest is counted unsent
    let give_up_ns = shared.offsets.last().copied().unwrap_or(0) + shared.reply_timeout_ns;
    while position < count && !progress.dead.load(Ordering::Acquire) {
        let now = elapsed_ns(start);
        if now > give_up_ns {
            let seconds = shared.reply_timeout_ns as f64 / 1e9;
            totals.failures.push(format!(
                "the target fell behind the schedule: sending stopped {seconds} s (the reply \
                 timeout) past the schedule's end, the messages not sent by then are unsent"
            ));
            break;
        }
        // at least the window between two writes: messages due meanwhile share one write
        let wake = shared.offsets[k + position * step].max(last_write + shared.batch_window_ns);
        if wake > now {
            thread::sleep(Duration::from_nanos(wake - now));
            held_back = false;
            continue;
        }
        last_write = now;
        batch.clear();
        while position < count && batch.len() < BATCH_BYTES {
            let index = k + position * step;
            let due = shared.offsets[index];
            if due > now {
                break;
            }
            batch.extend_from_slice(&shared.frames[index % shared.frames.len()]);
            shared.actual[index].store(now, Ordering::Release);
            record(&mut totals.schedule_error, now - due);
            totals.count(due, SENT, 1);
            if now - due > shared.late_threshold_ns {
                totals.late_sends += 1;
                totals.late_behind_full_socket += u64::from(held_back);
                totals.count(due, LATE, 1);
            }
            position += 1;
        }
        match stream.send_batch(&batch) {
            Ok(waited) => held_back |= waited,
            Err(err) => {
                totals.failures.push(format!("sending failed: {err}"));
                progress.dead.store(true, Ordering::Release);
                break; // `sent` stays at the last whole batch: this one was not (all) sent
            }
        }
        progress.sent.store(position, Ordering::Release);
        totals.last_event_ns = totals.last_event_ns.max(now);
    }
    totals.sent = progress.sent.load(Ordering::Acquire) as u64;
    progress.writer_done.store(true, Ordering::Release);
    totals
}

fn read_all(
    k: usize,
    mut stream: Stream,
    start: Instant,
    shared: &Shared,
    progress: &Progress,
    totals: &mut Totals,
) {
    let (count, step) = (shared.mine(k), shared.connections);
    let mut replied = 0usize;
    let mut buffer: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 256 << 10];
    if shared.realtime && sched::realtime(sched::READER_PRIORITY) {
        totals.realtime_threads += 1;
    }
    if let Err(err) = stream.set_read_timeout(POLL) {
        totals
            .failures
            .push(format!("cannot poll the connection: {err}"));
        return;
    }
    while replied < count {
        match stream.read(&mut chunk) {
            Ok(0) => {
                if replied < count {
                    totals
                        .failures
                        .push("the target closed the connection".to_string());
                    let sent = progress.sent.load(Ordering::Acquire);
                    totals.unanswered(shared, k, replied..sent, LOST);
                }
                return;
            }
            Ok(size) => {
                buffer.extend_from_slice(&chunk[..size]);
                let now = elapsed_ns(start);
                match take_replies(&mut buffer, k, replied, shared, now, totals) {
                    Ok(taken) => replied += taken,
                    Err(problem) => {
                        totals.protocol += 1;
                        totals
                            .failures
                            .push(format!("a reply broke the protocol: {problem}"));
                        let sent = progress.sent.load(Ordering::Acquire);
                        totals.unanswered(shared, k, replied + 1..sent, LOST);
                        return;
                    }
                }
                totals.last_event_ns = totals.last_event_ns.max(now);
            }
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // writer_done before sent: the writer stores them in the other order
                let writer_done = progress.writer_done.load(Ordering::Acquire);
                let sent = progress.sent.load(Ordering::Acquire);
                if writer_done && replied == sent {
                    return; // the writer gave up and every sent message is answered
                }
                if replied < sent {
                    let oldest = shared.actual[k + replied * step].load(Ordering::Acquire);
                    if elapsed_ns(start).saturating_sub(oldest) > shared.reply_timeout_ns {
                        let seconds = shared.reply_timeout_ns as f64 / 1e9;
                        totals
                            .failures
                            .push(format!("no reply within the {seconds} s reply timeout"));
                        totals.unanswered(shared, k, replied..sent, TIMED_OUT);
                        return;
                    }
                }
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => {
                totals.failures.push(format!("receiving failed: {err}"));
                let sent = progress.sent.load(Ordering::Acquire);
                totals.unanswered(shared, k, replied..sent, LOST);
                return;
            }
        }
    }
}

/// Every complete reply frame in `buffer` (consumed): its status counted, its latencies
/// recorded. Routed fields are not decoded: the Python sender checks them.
fn take_replies(
    buffer: &mut Vec<u8>,
    k: usize,
    replied: usize,
    shared: &Shared,
    now: u64,
    totals: &mut Totals,
) -> Result<usize, String> {
    let mut offset = 0;
    let mut taken = 0;
    let step = shared.connections;
    while buffer.len() - offset >= 4 {
        let size =
            u32::from_be_bytes(buffer[offset..offset + 4].try_into().expect("4 bytes")) as usize;
        if buffer.len() - offset - 4 < size {
            break;
        }
        let status = *buffer
            .get(offset + 4)
            .filter(|_| size > 0)
            .ok_or("empty reply frame")? as usize;
        if status >= STATUSES {
            return Err(format!("unknown status byte {status}"));
        }
        let index = k + (replied + taken) * step;
        if index >= shared.offsets.len() {
            return Err("a reply to no request".to_string());
        }
        let sent_at = shared.actual[index].load(Ordering::Acquire);
        totals.statuses[status] += 1;
        totals.count(
            shared.offsets[index],
            if status == 0 { ROUTED } else { ERRORS },
            1,
        );
        record(
            &mut totals.corrected,
            now.saturating_sub(shared.offsets[index]),
        );
        record(&mut totals.uncorrected, now.saturating_sub(sent_at));
        taken += 1;
        offset += 4 + size;
    }
    buffer.drain(..offset);
    shared.answered.fetch_add(taken as u64, Ordering::Relaxed);
    Ok(taken)
}
