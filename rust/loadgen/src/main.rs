//! treasure's native open-model sender (docs/target-protocol.md, length-prefixed framing).
//!
//! Python (treasure.targets.native) writes the request frames and the schedule, runs this
//! binary, and reads back a JSON report with HDR histograms as (value, count) pairs. Message
//! i is payload i mod P, sent at offset i of the schedule on connection i mod C. Per
//! connection a writer thread sends every due message in one write and never waits for a
//! reply; a reader thread matches replies to requests in order (the protocol answers in
//! order per connection). Every loop is bounded by the schedule and the reply timeout.

mod args;
mod connection;
mod report;
mod sched;
mod stream;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use args::Args;
use connection::{Shared, Totals};
use stream::Stream;

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("treasure-loadgen: {message}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(json) => {
            if let Err(err) = std::fs::write(&args.out, json) {
                eprintln!("treasure-loadgen: cannot write {}: {err}", args.out);
                std::process::exit(3);
            }
        }
        Err(message) => {
            eprintln!("treasure-loadgen: {message}");
            std::process::exit(3);
        }
    }
}

fn run(args: &Args) -> Result<String, String> {
    sched::tighten_timer_slack();
    let frames = args::read_frames(&args.frames)?;
    let offsets = args::read_schedule(&args.schedule)?;
    let shared = Arc::new(Shared::new(frames, offsets, args));
    let mut streams = Vec::new();
    let mut refused = 0u64;
    let mut failures = Vec::new();
    for _ in 0..args.connections {
        match Stream::connect(&args.target, args.reply_timeout, args.send_buffer) {
            Ok(stream) => streams.push(Some(stream)),
            Err(err) => {
                refused += 1;
                failures.push(format!("cannot connect to {}: {err}", args.target));
                streams.push(None);
            }
        }
    }
    let start = Instant::now();
    let handles: Vec<_> = streams
        .into_iter()
        .enumerate()
        .filter_map(|(k, stream)| stream.map(|stream| (k, stream)))
        .map(|(k, stream)| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || connection::run(k, stream, start, &shared))
        })
        .collect();
    let progress = thread::spawn({
        let shared = Arc::clone(&shared);
        move || report_progress(&shared)
    });
    let mut totals = Totals::new();
    for handle in handles {
        let one = handle
            .join()
            .map_err(|_| "a connection thread panicked".to_string())?;
        totals.merge(one);
    }
    shared.finished.store(true, Ordering::Release);
    let _ = progress.join();
    totals.refused = refused;
    totals.failures.splice(0..0, failures);
    Ok(report::json(&totals, &shared, start.elapsed()))
}

/// `answered N` lines on stdout while the run goes: the target's sampler reads them.
fn report_progress(shared: &Shared) {
    use std::io::Write;
    let mut stdout = std::io::stdout();
    while !shared.finished.load(Ordering::Acquire) {
        thread::sleep(Duration::from_millis(50));
        let answered = shared.answered.load(Ordering::Relaxed);
        if writeln!(stdout, "answered {answered}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return;
        }
    }
}
