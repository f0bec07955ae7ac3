//! The JSON report Python reads (treasure.targets.native).

use std::fmt::Write;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::connection::{BIN_NS, Shared, Totals};

const CATEGORIES: [&str; 7] = [
    "",
    "syntax",
    "limit",
    "unsafe-tag",
    "encoding",
    "schema",
    "internal",
];

fn pairs(histogram: &Histogram<u64>) -> String {
    let mut out = String::from("[");
    for (i, value) in histogram.iter_recorded().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "[{},{}]",
            value.value_iterated_to(),
            value.count_at_value()
        );
    }
    out.push(']');
    out
}

/// One `[sent, late, routed, errors, timed out, lost]` row per second.
fn timeline(bins: &[[u64; 6]]) -> String {
    let rows: Vec<String> = bins
        .iter()
        .map(|bin| format!("[{}]", bin.map(|n| n.to_string()).join(",")))
        .collect();
    rows.join(",")
}

fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn json(totals: &Totals, shared: &Shared, elapsed: Duration) -> String {
    let mut categories = Vec::new();
    for (status, name) in CATEGORIES.iter().enumerate() {
        categories.push(format!("{}:{}", quoted(name), totals.statuses[status]));
    }
    categories.push(format!("\"protocol\":{}", totals.protocol));
    let failures: Vec<String> = totals.failures.iter().map(|f| quoted(f)).collect();
    format!(
        "{{\"scheduled\":{},\"sent\":{},\"categories\":{{{}}},\"timeouts\":{},\"lost\":{},\
\"refused\":{},\"late_sends\":{},\"last_event_ns\":{},\"elapsed_ns\":{},\"failures\":[{}],\
\"corrected\":{},\"uncorrected\":{},\"schedule_error\":{},\"late_behind_full_socket\":{},\
\"realtime_threads\":{},\"bin_ns\":{},\"timeline\":[{}]}}\n",
        shared.offsets.len(),
        totals.sent,
        categories.join(","),
        totals.timeouts,
        totals.lost,
        totals.refused,
        totals.late_sends,
        totals.last_event_ns,
        elapsed.as_nanos(),
        failures.join(","),
        pairs(&totals.corrected),
        pairs(&totals.uncorrected),
        pairs(&totals.schedule_error),
        totals.late_behind_full_socket,
        totals.realtime_threads,
        BIN_NS,
        timeline(&totals.timeline),
    )
}
