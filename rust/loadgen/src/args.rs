//! The command line and the two input files Python writes.

use std::time::Duration;

pub struct Args {
    pub target: String,
    pub frames: String,
    pub schedule: String,
    pub out: String,
    pub connections: usize,
    pub reply_timeout: Duration,
    pub late_threshold_ns: u64,
    /// writers and readers under SCHED_FIFO where permitted (sched.rs)
    pub realtime: bool,
    /// SO_SNDBUF asked per connection, bytes; 0 leaves the system's default
    pub send_buffer: i32,
    /// the least time between two writes of a connection, ns
    pub batch_window_ns: u64,
}

const USAGE: &str = "usage: treasure-loadgen --target unix:PATH|tcp:HOST:PORT --frames FILE \
--schedule FILE --out FILE [--connections C] [--reply-timeout-ms MS] [--late-threshold-ns NS] [--realtime yes|no] \
[--send-buffer-bytes N] [--batch-window-ns NS]";

impl Args {
    pub fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut args = Args {
            target: String::new(),
            frames: String::new(),
            schedule: String::new(),
            out: String::new(),
            connections: 1,
            reply_timeout: Duration::from_secs(5),
            late_threshold_ns: 1_000_000,
            realtime: true,
            send_buffer: 4 << 20,
            batch_window_ns: 100_000,
        };
        while let Some(flag) = argv.next() {
            let value = argv
                .next()
                .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
            match flag.as_str() {
                "--target" => args.target = value,
                "--frames" => args.frames = value,
                "--schedule" => args.schedule = value,
                "--out" => args.out = value,
                "--connections" => args.connections = number(&flag, &value)? as usize,
                "--reply-timeout-ms" => {
                    args.reply_timeout = Duration::from_millis(number(&flag, &value)?)
                }
                "--late-threshold-ns" => args.late_threshold_ns = number(&flag, &value)?,
                "--batch-window-ns" => args.batch_window_ns = number(&flag, &value)?,
                "--realtime" => {
                    args.realtime = match value.as_str() {
                        "yes" => true,
                        "no" => false,
                        _ => return Err(format!("--realtime: {value:?} is not yes or no")),
                    }
                }
                "--send-buffer-bytes" => {
                    args.send_buffer = i32::try_from(number(&flag, &value)?)
                        .map_err(|_| format!("--send-buffer-bytes: {value} is too large"))?
                }
                _ => return Err(format!("unknown option {flag}; {USAGE}")),
            }
        }
        if args.target.is_empty() || args.frames.is_empty() || args.schedule.is_empty() {
            return Err(USAGE.to_string());
        }
        if args.out.is_empty() || args.connections == 0 {
            return Err(USAGE.to_string());
        }
        Ok(args)
    }
}

fn number(flag: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a whole number"))
}

/// The request frames, each as sent: a 4-byte big-endian length, then the payload.
pub fn read_frames(path: &str) -> Result<Vec<Vec<u8>>, String> {
    let data = std::fs::read(path).map_err(|err| format!("cannot read {path}: {err}"))?;
    let mut frames = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let head = data
            .get(offset..offset + 4)
            .ok_or("a frame's length is cut short")?;
        let size = u32::from_be_bytes(head.try_into().expect("4 bytes")) as usize;
        let end = offset + 4 + size;
        frames.push(
            data.get(offset..end)
                .ok_or("a frame overruns the file")?
                .to_vec(),
        );
        offset = end;
    }
    if frames.is_empty() {
        return Err(format!("{path} holds no frame"));
    }
    Ok(frames)
}

/// Intended send offsets in ns from the start, little-endian i64 each.
pub fn read_schedule(path: &str) -> Result<Vec<u64>, String> {
    let data = std::fs::read(path).map_err(|err| format!("cannot read {path}: {err}"))?;
    if data.len() % 8 != 0 {
        return Err(format!("{path}: the schedule is not whole 8-byte offsets"));
    }
    Ok(data
        .chunks_exact(8)
        .map(|chunk| i64::from_le_bytes(chunk.try_into().expect("8 bytes")).max(0) as u64)
        .collect())
}
