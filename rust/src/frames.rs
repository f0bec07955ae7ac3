//! The frames of a treasure recording (docs/recording-format.md), decoded from a buffer in
//! bulk: the fast path of `treasure.recordings.RecordingReader`.
//!
//! [`next_frame`] takes one frame only when every check of the Python reader passes: its
//! whole head and body are in the buffer, the payload length is under the limit, the head
//! checksum holds, its sequence number is the one expected (v2), the body checksum holds
//! and the user id is UTF-8. Anything else (a short buffer, a trailer, damage of any kind)
//! stops the run *before* that frame, and the Python reader handles it as it always has:
//! integrity rules live in one place, and this module can only make the intact case faster.
//! The checksums are zlib's CRC-32 (crc32fast): the body checksum continues the head's in
//! v2, starts at 0 in v1.

use std::ops::Range;

/// A length above this is corruption, never allocated (`MAX_PAYLOAD_BYTES`).
pub const MAX_PAYLOAD_BYTES: u32 = 64 << 20;
/// payload length u32, user id length u16, timestamp i64, head CRC u32.
pub const HEAD_V1_SIZE: usize = 4 + 2 + 8 + 4;
/// payload length u32, user id length u16, sequence u64, timestamp i64, head CRC u32.
pub const HEAD_V2_SIZE: usize = 4 + 2 + 8 + 8 + 4;
const CRC_SIZE: usize = 4;

/// One intact frame in the buffer: its index, timestamp, where its user id and payload are,
/// and where the frame after it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRef {
    pub index: u64,
    pub timestamp_ns: i64,
    pub user_id: Range<usize>,
    pub payload: Range<usize>,
    pub stop: usize,
}

fn u16_at(buf: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([buf[at], buf[at + 1]])
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
fn crc32(data: &[u8], start: u32) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(start);
    hasher.update(data);
    hasher.finalize()
}

/// The intact frame at `pos`, or `None` when the frame there is not one the fast path may
/// take (see the module docs). `expected` is the index the frame must carry (v2) or is
/// given (v1).
pub fn next_frame(buf: &[u8], pos: usize, v2: bool, expected: u64) -> Option<FrameRef> {
    frame_at(buf, pos, v2, expected, &crc32fast::Hasher::new())
}

/// [`next_frame`], its checksums continuing clones of `fresh` (a hasher at 0, its CPU
/// features detected once per run rather than twice per frame).
fn frame_at(
    buf: &[u8],
    pos: usize,
    v2: bool,
    expected: u64,
    fresh: &crc32fast::Hasher,
) -> Option<FrameRef> {
    let head_size = if v2 { HEAD_V2_SIZE } else { HEAD_V1_SIZE };
    let head = buf.get(pos..pos.checked_add(head_size)?)?;
    let payload_len = u32_at(head, 0);
    let user_len = u16_at(head, 4) as usize;
    let (sequence, timestamp_ns) = if v2 {
        (u64_at(head, 6), u64_at(head, 14) as i64)
    } else {
        (expected, u64_at(head, 6) as i64)
    };
    let head_crc = u32_at(head, head_size - CRC_SIZE);
    if payload_len > MAX_PAYLOAD_BYTES {
        return None;
    }
    let mut hasher = fresh.clone();
    hasher.update(&head[..head_size - CRC_SIZE]);
    if hasher.clone().finalize() != head_crc {
        return None;
    }
    let body = pos + head_size;
    let crc_at = body + user_len + payload_len as usize;
    let stop = crc_at + CRC_SIZE;
    if stop > buf.len() || sequence != expected {
        return None;
    }
    // v2: the body's checksum continues the head's (the head's bytes are in `hasher`)
    let mut body_hasher = if v2 { hasher } else { fresh.clone() };
    body_hasher.update(&buf[body..crc_at]);
    if body_hasher.finalize() != u32_at(buf, crc_at) {
        return None;
    }
    let user_id = body..body + user_len;
    let user = &buf[user_id.clone()];
    if !user.is_ascii() {
        std::str::from_utf8(user).ok()?; // the common ASCII id needs no full decode
    }
    Some(FrameRef {
        index: sequence,
        timestamp_ns,
        user_id,
        payload: body + user_len..crc_at,
        stop,
    })
}

/// Every intact frame from `pos` on, up to the first the fast path does not take: a run
/// validated in one go, as offsets into `buf` (no copy of any frame).
pub fn decode_run(buf: &[u8], pos: usize, v2: bool, expected: u64) -> Vec<FrameRef> {
    let mut frames = Frames::new(buf, pos, v2, expected);
    let head_size = if v2 { HEAD_V2_SIZE } else { HEAD_V1_SIZE };
    // a guess from the first frame's size: one allocation for a run of like-sized frames
    let mut run = Vec::new();
    if let Some(first) = frames.next() {
        run.reserve((buf.len() - pos) / (first.stop - pos).max(head_size));
        run.push(first);
    }
    run.extend(frames);
    run
}

/// Every intact frame from `pos` on, up to the first the fast path does not take.
pub struct Frames<'a> {
    buf: &'a [u8],
    pub pos: usize,
    pub expected: u64,
    v2: bool,
    fresh: crc32fast::Hasher,
}

impl<'a> Frames<'a> {
    pub fn new(buf: &'a [u8], pos: usize, v2: bool, expected: u64) -> Self {
        Self {
            buf,
            pos,
            expected,
            v2,
            fresh: crc32fast::Hasher::new(),
        }
    }
}

impl Iterator for Frames<'_> {
    type Item = FrameRef;

    fn next(&mut self) -> Option<FrameRef> {
        let frame = frame_at(self.buf, self.pos, self.v2, self.expected, &self.fresh)?;
        self.pos = frame.stop;
        self.expected = frame.index + 1;
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame from its head fields: the head's CRC, user id, payload, then the body's CRC
    /// (chained from the head's in v2, from 0 in v1).
    fn framed(head: Vec<u8>, user: &[u8], payload: &[u8], chained: bool) -> Vec<u8> {
        let head_crc = crc32(&head, 0);
        let mut out = head;
        out.extend_from_slice(&head_crc.to_le_bytes());
        out.extend_from_slice(user);
        out.extend_from_slice(payload);
        let body_crc = crc32(
            &[user, payload].concat(),
            if chained { head_crc } else { 0 },
        );
        out.extend_from_slice(&body_crc.to_le_bytes());
        out
    }

    fn v2_frame(sequence: u64, timestamp: i64, user: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut head = Vec::new();
        head.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        head.extend_from_slice(&(user.len() as u16).to_le_bytes());
        head.extend_from_slice(&sequence.to_le_bytes());
        head.extend_from_slice(&timestamp.to_le_bytes());
        framed(head, user, payload, true)
    }

    fn v1_frame(timestamp: i64, user: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut head = Vec::new();
        head.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        head.extend_from_slice(&(user.len() as u16).to_le_bytes());
        head.extend_from_slice(&timestamp.to_le_bytes());
        framed(head, user, payload, false)
    }

    #[test]
    fn zlib_crc32_check_value() {
        assert_eq!(crc32(b"123456789", 0), 0xCBF4_3926);
        assert_eq!(crc32(b"6789", crc32(b"12345", 0)), 0xCBF4_3926);
    }

    #[test]
    fn decodes_consecutive_v2_frames() {
        let buf = [v2_frame(0, -5, b"u-1", b"a: 1\n"), v2_frame(1, 7, b"", b"")].concat();
        let frames: Vec<FrameRef> = Frames::new(&buf, 0, true, 0).collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].index, 0);
        assert_eq!(frames[0].timestamp_ns, -5);
        assert_eq!(&buf[frames[0].user_id.clone()], b"u-1");
        assert_eq!(&buf[frames[0].payload.clone()], b"a: 1\n");
        assert_eq!((frames[1].index, frames[1].timestamp_ns), (1, 7));
        assert!(frames[1].payload.is_empty());
        assert_eq!(frames[0].stop, frames[1].user_id.start - HEAD_V2_SIZE);
        assert_eq!(frames[1].stop, buf.len());
    }

    #[test]
    fn a_run_is_every_frame_the_iterator_gives() {
        let good = [0, 1, 2].map(|i| v2_frame(i, 10 * i as i64, b"u", b"x: 1\n"));
        let mut buf = [b"junk".to_vec(), good.concat()].concat();
        buf.extend_from_slice(&v2_frame(7, 0, b"u", b"late")); // out of sequence: stops the run
        let run = decode_run(&buf, 4, true, 0);
        assert_eq!(run, Frames::new(&buf, 4, true, 0).collect::<Vec<_>>());
        assert_eq!(run.iter().map(|f| f.index).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(run[2].stop, 4 + good.concat().len());
        assert!(decode_run(&buf, 0, true, 0).is_empty());
        assert!(decode_run(&buf, buf.len(), true, 0).is_empty());
    }

    #[test]
    fn v1_frames_take_their_index_from_their_place() {
        let buf = [v1_frame(1, b"a", b"x"), v1_frame(2, b"b", b"yy")].concat();
        let mut frames = Frames::new(&buf, 0, false, 40);
        assert_eq!(frames.next().map(|f| f.index), Some(40));
        assert_eq!(frames.next().map(|f| f.index), Some(41));
        assert_eq!(frames.next(), None);
        assert_eq!(frames.pos, buf.len());
    }

    #[test]
    fn stops_before_anything_the_python_reader_must_judge() {
        let good = v2_frame(0, 1, b"u", b"payload");
        let next = v2_frame(1, 2, b"u", b"payload");
        let mut frames = Frames::new(&good, 0, true, 1);
        assert_eq!(
            frames.next(),
            None,
            "a sequence number other than the one expected"
        );
        let torn = [good.clone(), next[..next.len() - 1].to_vec()].concat();
        let mut frames = Frames::new(&torn, 0, true, 0);
        assert!(frames.next().is_some());
        assert_eq!(frames.next(), None, "a frame cut off by the buffer's end");
        assert_eq!(frames.pos, good.len());
        for flip in 0..good.len() {
            let mut bad = good.clone();
            bad[flip] ^= 0x10;
            assert_eq!(next_frame(&bad, 0, true, 0), None, "byte {flip} flipped");
            assert!(
                decode_run(&bad, 0, true, 0).is_empty(),
                "byte {flip} flipped"
            );
        }
        let not_utf8 = v2_frame(0, 1, b"\xff", b"x");
        assert_eq!(next_frame(&not_utf8, 0, true, 0), None);
        let surrogate = v2_frame(0, 1, b"\xed\xa0\x80", b"x");
        assert_eq!(next_frame(&surrogate, 0, true, 0), None);
        let mut over = v2_frame(0, 1, b"u", b"x");
        over[..4].copy_from_slice(&(MAX_PAYLOAD_BYTES + 1).to_le_bytes());
        assert_eq!(next_frame(&over, 0, true, 0), None);
        assert_eq!(next_frame(b"\x89TEND\r\n\x1a", 0, true, 0), None);
    }
}
