//! One connection's requests answered in order, in either framing of
//! docs/target-protocol.md: every complete request of a chunk read is routed, and the
//! chunk's replies go out in one write (a pipelining sender costs one syscall per chunk).

use std::io::{Read, Write};

use crate::json;
use crate::router::Router;
use treasure_rs::{Category, RouteError};

const READ_CHUNK: usize = 256 << 10;
/// A JSON-escaped payload is at most 6 bytes per byte (`\u0000`), plus the quotes.
const LINE_EXPANSION: usize = 6;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length,
    Lines,
}

/// What answering a buffer found: go on reading, or close after the replies.
#[derive(PartialEq, Eq)]
enum Next {
    Read,
    Close,
}

/// Serve one connection until the client closes it or breaks it (false), or sends a request
/// too large to read (true: the refusal is written, the caller ends the connection).
pub fn serve(
    mut reader: impl Read,
    mut writer: impl Write,
    router: &Router,
    framing: Framing,
) -> bool {
    let max_request = router.max_bytes() + 1; // slack: the router's own check classifies the limit
    let mut buffer: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut out = Vec::with_capacity(READ_CHUNK);
    loop {
        let size = match reader.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(size) => size,
        };
        buffer.extend_from_slice(&chunk[..size]);
        out.clear();
        let next = match framing {
            Framing::Length => answer_length_frames(&mut buffer, router, max_request, &mut out),
            Framing::Lines => answer_lines(&mut buffer, router, max_request, &mut out),
        };
        if !out.is_empty() && writer.write_all(&out).and_then(|_| writer.flush()).is_err() {
            return false;
        }
        if next == Next::Close {
            return true;
        }
    }
}

fn answer_length_frames(
    buffer: &mut Vec<u8>,
    router: &Router,
    max_request: usize,
    out: &mut Vec<u8>,
) -> Next {
    let mut offset = 0;
    while buffer.len() - offset >= 4 {
        let size =
            u32::from_be_bytes(buffer[offset..offset + 4].try_into().expect("4 bytes")) as usize;
        if size > max_request {
            let refusal =
                RouteError::new(Category::Limit, format!("request of {size} bytes refused"));
            length_reply(&Err(refusal), out);
            return Next::Close; // a frame it will not read cannot be skipped
        }
        if buffer.len() - offset - 4 < size {
            break;
        }
        length_reply(&router.route(&buffer[offset + 4..offset + 4 + size]), out);
        offset += 4 + size;
    }
    buffer.drain(..offset);
    Next::Read
}

fn push_blob(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// Status byte of a category (docs/target-protocol.md).
fn status(category: Category) -> u8 {
    match category {
        Category::Syntax => 1,
        Category::Limit => 2,
        Category::UnsafeTag => 3,
        Category::Encoding => 4,
        Category::Schema => 5,
    }
}

fn length_reply(outcome: &Result<Vec<String>, RouteError>, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]); // the length, filled in below
    match outcome {
        Ok(fields) => {
            out.push(0);
            for field in fields {
                push_blob(out, field.as_bytes());
            }
        }
        Err(err) => {
            out.push(status(err.category));
            out.extend_from_slice(err.message.as_bytes());
        }
    }
    let size = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

fn answer_lines(
    buffer: &mut Vec<u8>,
    router: &Router,
    max_request: usize,
    out: &mut Vec<u8>,
) -> Next {
    let mut start = 0;
    while let Some(length) = buffer[start..].iter().position(|&b| b == b'\n') {
        let line = &buffer[start..start + length];
        start += length + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let outcome = match json::request_payload(line) {
            Ok(payload) => router.route(&payload),
            Err(problem) => Err(RouteError::new(
                Category::Syntax,
                format!("bad request line: {problem}"),
            )),
        };
        line_reply(&outcome, out);
    }
    buffer.drain(..start);
    if buffer.len() > max_request * LINE_EXPANSION + 2 {
        let refusal = format!("request line of over {} bytes refused", buffer.len());
        line_reply(&Err(RouteError::new(Category::Limit, refusal)), out);
        return Next::Close;
    }
    Next::Read
}

fn line_reply(outcome: &Result<Vec<String>, RouteError>, out: &mut Vec<u8>) {
    match outcome {
        Ok(fields) => {
            out.extend_from_slice(b"{\"fields\": [");
            for (at, field) in fields.iter().enumerate() {
                if at > 0 {
                    out.extend_from_slice(b", ");
                }
                json::push_string(out, field);
            }
            out.extend_from_slice(b"]}\n");
        }
        Err(err) => {
            out.extend_from_slice(b"{\"error\": ");
            json::push_string(out, err.category.as_str());
            out.extend_from_slice(b", \"message\": ");
            json::push_string(out, &err.message);
            out.extend_from_slice(b"}\n");
        }
    }
}
