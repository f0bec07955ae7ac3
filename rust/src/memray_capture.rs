//! A reader of memray's capture files ("all allocations" format, header version 13: memray
//! 1.20), for the heap pass: allocation records in file order, each with its thread and the
//! Python stack it was made under, as memray's own `FileReader.get_allocation_records()`
//! gives them.
//!
//! It fails closed. The header must be exactly the kind the heap pass writes (magic, format
//! version, the all-allocations format, no native traces, pymalloc as Python's allocator,
//! Python allocators traced, no object lifetimes); a record type it does not know, a value
//! memray's reader would misread or trip over, or an lz4 stream it cannot decode gives
//! [`Unreadable`] with the reason, and the caller reads the capture with memray instead.
//! Where memray's reader stops quietly (the capture ends inside a record, as when its writer
//! stopped on a full disk), this one stops at the same record.
//!
//! Facts of the format (memray's records.h, record_writer.cpp, record_reader.cpp, source.cpp):
//! integers are little-endian and unpadded; varints are LEB128, signed ones zig-zag; a
//! file starting with the lz4 frame magic is an lz4 frame of the whole file; an
//! uncompressed file may end in zero bytes its writer preallocated, which are not records.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// The capture format version this reader knows (memray's `CURRENT_HEADER_VERSION`).
pub const FORMAT_VERSION: i32 = 13;
const MAGIC: &[u8; 7] = b"memray\0";
const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4D, 0x18];
const ALL_ALLOCATIONS: u8 = 0;
const PYMALLOC: u8 = 1;
const BUFFER_BYTES: usize = 1 << 20;

// Record types (the token's value when no flag bits are set).
const FILLER: u8 = 0;
const TRAILER: u8 = 1;
const MEMORY_RECORD: u8 = 2;
const MEMORY_MAP_START: u8 = 6;
const SEGMENT_HEADER: u8 = 7;
const SEGMENT: u8 = 8;
const THREAD_RECORD: u8 = 10;
const CONTEXT_SWITCH: u8 = 12;
const CODE_OBJECT: u8 = 14;
const FRAME_POP: u8 = 16; // low 4 bits: frames to pop - 1
const OBJECT_RECORD: u8 = 32;
const FRAME_PUSH: u8 = 64; // low bit: entry frame
const ALLOCATION: u8 = 128; // bits 3-6: pointer cache index, bits 0-2: allocator

/// memray's allocator ids (hooks.h `Allocator`).
pub const PYMALLOC_FREE: u8 = 1;
pub const PYMALLOC_MALLOC: u8 = 2;
pub const PYMALLOC_CALLOC: u8 = 3;
pub const PYMALLOC_REALLOC: u8 = 4;
pub const FREE: u8 = 5;
pub const MUNMAP: u8 = 15;

/// Why a capture cannot be read here exactly as memray reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

impl Unreadable {
    fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl From<io::Error> for Unreadable {
    fn from(err: io::Error) -> Self {
        Self(format!("the capture could not be read: {err}"))
    }
}

/// A multiply-shift hash for addresses and small ids: keys are not attacker-chosen, and
/// SipHash would cost more than the rest of a record's bookkeeping.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }
    fn write_u64(&mut self, value: u64) {
        let mixed = (self.0.rotate_left(23) ^ value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = mixed ^ (mixed >> 29);
    }
    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }
    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
    fn write_i32(&mut self, value: i32) {
        self.write_u64(u64::from(value as u32));
    }
}

pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A failed read inside the records: `End` where memray's reader stops quietly (the data
/// ran out), `Unreadable` where this reader refuses to guess.
#[derive(Debug)]
enum Stop {
    End,
    Unreadable(Unreadable),
}

impl From<Unreadable> for Stop {
    fn from(err: Unreadable) -> Self {
        Stop::Unreadable(err)
    }
}

impl From<io::Error> for Stop {
    fn from(err: io::Error) -> Self {
        Stop::Unreadable(err.into())
    }
}

/// The capture's bytes, buffered: past the end every read fails, as memray's do.
struct Input {
    source: Box<dyn Read>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// An lz4 capture: memray's reader does not trim trailing zeros there, and accepts a
    /// string cut by the end of the data; this reader refuses the latter.
    compressed: bool,
}

impl Input {
    fn byte(&mut self) -> Result<u8, Stop> {
        if self.pos == self.end {
            self.fill()?;
        }
        let byte = self.buf[self.pos];
        self.pos += 1;
        Ok(byte)
    }

    fn fill(&mut self) -> Result<(), Stop> {
        loop {
            match self.source.read(&mut self.buf) {
                Ok(0) => return Err(Stop::End),
                Ok(read) => {
                    self.pos = 0;
                    self.end = read;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err.into()),
            }
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        let mut out = [0u8; N];
        for slot in &mut out {
            *slot = self.byte()?;
        }
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64, Stop> {
        Ok(u64::from_le_bytes(self.array::<8>()?))
    }

    fn varint(&mut self) -> Result<u64, Stop> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let next = self.byte()?;
            value |= u64::from(next & 0x7f) << shift;
            if next & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift >= 64 {
                return Err(Unreadable::new("a varint longer than 64 bits").into());
            }
        }
    }

    fn signed_varint(&mut self) -> Result<i64, Stop> {
        let zigzag = self.varint()?;
        Ok(((zigzag >> 1) ^ (zigzag & 1).wrapping_neg()) as i64)
    }

    /// A NUL-terminated string, without its NUL.
    fn string(&mut self) -> Result<Vec<u8>, Stop> {
        let mut out = Vec::new();
        loop {
            match self.byte() {
                Ok(0) => return Ok(out),
                Ok(byte) => out.push(byte),
                Err(Stop::End) if self.compressed && !out.is_empty() => {
                    return Err(Unreadable::new("a string cut by the end of the capture").into());
                }
                Err(stop) => return Err(stop),
            }
        }
    }

    fn skip(&mut self, mut count: u64) -> Result<(), Stop> {
        while count > 0 {
            if self.pos == self.end {
                self.fill()?;
            }
            let step = count.min((self.end - self.pos) as u64);
            self.pos += step as usize;
            count -= step;
        }
        Ok(())
    }
}

/// The header fields the split needs, after the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub python_version: i32,
    pub main_tid: u64,
    pub skipped_frames_on_main_tid: u64,
}

fn header_field<T>(read: Result<T, Stop>) -> Result<T, Unreadable> {
    read.map_err(|stop| match stop {
        Stop::End => Unreadable::new("the capture ends inside its header"),
        Stop::Unreadable(err) => err,
    })
}

fn read_header(input: &mut Input) -> Result<Header, Unreadable> {
    let magic = header_field(input.array::<7>())?;
    if &magic != MAGIC {
        return Err(Unreadable::new("not a memray capture (no memray magic)"));
    }
    let version = i32::from_le_bytes(header_field(input.array::<4>())?);
    if version != FORMAT_VERSION {
        return Err(Unreadable::new(format!(
            "capture format version {version}, this reader knows {FORMAT_VERSION}"
        )));
    }
    let python_version = i32::from_le_bytes(header_field(input.array::<4>())?);
    let [native_traces, file_format] = header_field(input.array::<2>())?;
    if file_format != ALL_ALLOCATIONS {
        return Err(Unreadable::new(format!(
            "file format {file_format}: only captures of all allocations (0) have records"
        )));
    }
    if native_traces != 0 {
        return Err(Unreadable::new("the capture has native traces"));
    }
    header_field(input.skip(32))?; // tracker stats: allocations, frames, start and end times
    header_field(input.string())?; // command line
    header_field(input.array::<4>())?; // pid
    let main_tid = header_field(input.u64())?;
    let skipped_frames_on_main_tid = header_field(input.u64())?;
    let [
        python_allocator,
        trace_python_allocators,
        track_object_lifetimes,
    ] = header_field(input.array::<3>())?;
    if python_allocator != PYMALLOC {
        return Err(Unreadable::new(format!(
            "Python allocator {python_allocator}, this reader knows pymalloc ({PYMALLOC})"
        )));
    }
    if trace_python_allocators != 1 {
        return Err(Unreadable::new("Python allocators were not traced"));
    }
    if track_object_lifetimes != 0 {
        return Err(Unreadable::new("the capture tracks object lifetimes"));
    }
    header_field(input.string())?; // libdest
    for _ in 0..2 {
        // site-packages, then sys.path: strings up to an empty one
        while !header_field(input.string())?.is_empty() {}
    }
    Ok(Header {
        python_version,
        main_tid,
        skipped_frames_on_main_tid,
    })
}

/// Bytes of an uncompressed capture before its trailing zeros, as memray's
/// `findReadableSize` counts them: its writer grows the file ahead of the data, so a file
/// whose writer never closed it ends in zeros that are no records. 0 when all are zeros.
fn readable_size(file: &mut File) -> io::Result<u64> {
    let length = file.seek(SeekFrom::End(0))?;
    let mut end = length;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(last) = part.iter().rposition(|&byte| byte != 0) {
            file.seek(SeekFrom::Start(0))?;
            return Ok(start + last as u64 + 1);
        }
        end = start;
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(0)
}

fn open(path: &Path) -> Result<Input, Unreadable> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 4];
    let got = file.read(&mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    let (source, compressed): (Box<dyn Read>, bool) = if got == 4 && magic == LZ4_MAGIC {
        (Box::new(lz4_flex::frame::FrameDecoder::new(file)), true)
    } else {
        let readable = readable_size(&mut file)?;
        (Box::new(file.take(readable)), false)
    };
    Ok(Input {
        source,
        buf: vec![0u8; BUFFER_BYTES],
        pos: 0,
        end: 0,
        compressed,
    })
}

/// One allocation record: memray's `AllocationRecord` fields the split reads. `stack` is a
/// node of the capture's frame tree (0: no Python stack), the same node for the same stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub tid: u64,
    pub address: u64,
    pub size: u64,
    pub allocator: u8,
    pub stack: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FrameKey {
    code_object: u64,
    instruction_offset: i32,
    entry: bool,
}

/// What the split asks of a Python frame: its function and file name, as memray resolves
/// them the first time the frame is shown (memray caches a frame's location from then on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub function: Vec<u8>,
    pub filename: Vec<u8>,
}

struct Node {
    frame: u32,
    parent: u32,
    depth: u32,
}

/// The record stream of one capture, with the state memray's reader keeps to give each
/// allocation its thread and Python stack.
pub struct CaptureReader {
    input: Input,
    pub header: Header,
    recent_addresses: [u64; 15],
    last_address: u64,
    last_tid: u64,
    current: Option<usize>, // index into `stacks`: no record before the first context switch
    stacks: Vec<Vec<u32>>,
    stack_of_thread: IdMap<u64, usize>,
    frames: Vec<FrameKey>,
    frame_ids: HashMap<FrameKey, u32, BuildHasherDefault<IdHasher>>,
    nodes: Vec<Node>,
    children: IdMap<(u32, u32), u32>,
    code_objects: IdMap<u64, Location>,
    locations: Vec<Option<Location>>, // by frame id, once resolved
    ended: bool,
}

impl CaptureReader {
    pub fn open(path: &Path) -> Result<Self, Unreadable> {
        let mut input = open(path)?;
        let header = read_header(&mut input)?;
        Ok(Self {
            input,
            header,
            recent_addresses: [0; 15],
            last_address: 0,
            last_tid: 0,
            current: None,
            stacks: Vec::new(),
            stack_of_thread: IdMap::default(),
            frames: Vec::new(),
            frame_ids: HashMap::default(),
            nodes: vec![Node {
                frame: 0,
                parent: 0,
                depth: 0,
            }],
            children: IdMap::default(),
            code_objects: IdMap::default(),
            locations: Vec::new(),
            ended: false,
        })
    }

    /// The next allocation record, or `None` where memray's reader stops.
    pub fn next_allocation(&mut self) -> Result<Option<Allocation>, Unreadable> {
        if self.ended {
            return Ok(None);
        }
        match self.next_record() {
            Ok(found) => {
                self.ended = found.is_none();
                Ok(found)
            }
            Err(Stop::End) => {
                self.ended = true;
                Ok(None)
            }
            Err(Stop::Unreadable(err)) => Err(err),
        }
    }

    fn next_record(&mut self) -> Result<Option<Allocation>, Stop> {
        loop {
            let token = self.input.byte()?;
            if token & ALLOCATION != 0 {
                return self.allocation(token & (ALLOCATION - 1)).map(Some);
            } else if token & FRAME_PUSH != 0 {
                self.frame_push(token & 1 != 0)?;
            } else if token & OBJECT_RECORD != 0 {
                return Err(Unreadable::new("an object record in a capture without them").into());
            } else if token & FRAME_POP != 0 {
                self.frame_pop(usize::from(token & 0x0f) + 1)?;
            } else {
                match token {
                    TRAILER => return Ok(None),
                    MEMORY_RECORD => {
                        self.input.varint()?; // rss
                        self.input.varint()?; // milliseconds since the start
                    }
                    CONTEXT_SWITCH => self.context_switch()?,
                    CODE_OBJECT => self.code_object()?,
                    THREAD_RECORD => {
                        self.input.string()?;
                    }
                    MEMORY_MAP_START => {}
                    SEGMENT_HEADER => self.segments()?,
                    FILLER => {
                        return Err(Unreadable::new("a zero byte where a record starts").into());
                    }
                    other => {
                        return Err(Unreadable::new(format!("unknown record type {other}")).into());
                    }
                }
            }
        }
    }

    fn allocation(&mut self, flags: u8) -> Result<Allocation, Stop> {
        let Some(current) = self.current else {
            return Err(Unreadable::new("an allocation before any context switch").into());
        };
        let cache_index = usize::from((flags >> 3) & 0x0f);
        let address = if cache_index == 0x0f {
            let delta = self.input.signed_varint()?;
            self.last_address = self.last_address.wrapping_add(delta as u64);
            let address = self.last_address << 3;
            self.recent_addresses.copy_within(0..14, 1);
            self.recent_addresses[0] = address;
            address
        } else {
            self.recent_addresses[cache_index]
        };
        let allocator = match flags & 7 {
            0 => self.input.byte()?,
            id => id,
        };
        if allocator == 0 || allocator > MUNMAP {
            return Err(Unreadable::new(format!("unknown allocator {allocator}")).into());
        }
        let simple_free = allocator == FREE || allocator == PYMALLOC_FREE;
        let size = if simple_free { 0 } else { self.input.varint()? };
        let deallocator = simple_free || allocator == MUNMAP;
        let stack = if deallocator {
            0
        } else {
            self.stacks[current].last().copied().unwrap_or(0)
        };
        Ok(Allocation {
            tid: self.last_tid,
            address,
            size,
            allocator,
            stack,
        })
    }

    fn frame_push(&mut self, entry: bool) -> Result<(), Stop> {
        let code_object = self.input.varint()?;
        let instruction_offset = self.input.signed_varint()? as i32; // memray keeps an int
        let Some(current) = self.current else {
            return Err(Unreadable::new("a frame push before any context switch").into());
        };
        let key = FrameKey {
            code_object,
            instruction_offset,
            entry,
        };
        let frames = &mut self.frames;
        let frame = *self.frame_ids.entry(key).or_insert_with(|| {
            frames.push(key);
            (frames.len() - 1) as u32
        });
        let parent = self.stacks[current].last().copied().unwrap_or(0);
        let nodes = &mut self.nodes;
        let node = *self.children.entry((parent, frame)).or_insert_with(|| {
            let depth = nodes[parent as usize].depth + 1;
            nodes.push(Node {
                frame,
                parent,
                depth,
            });
            (nodes.len() - 1) as u32
        });
        self.stacks[current].push(node);
        Ok(())
    }

    fn frame_pop(&mut self, count: usize) -> Result<(), Stop> {
        let Some(current) = self.current else {
            return Err(Unreadable::new("a frame pop before any context switch").into());
        };
        let stack = &mut self.stacks[current];
        if stack.len() < count {
            return Err(Unreadable::new("a frame pop below the bottom of a stack").into());
        }
        stack.truncate(stack.len() - count);
        Ok(())
    }

    fn context_switch(&mut self) -> Result<(), Stop> {
        let tid = self.input.u64()?;
        self.last_tid = tid;
        let stacks = &mut self.stacks;
        let index = *self.stack_of_thread.entry(tid).or_insert_with(|| {
            stacks.push(Vec::new());
            stacks.len() - 1
        });
        self.current = Some(index);
        Ok(())
    }

    fn code_object(&mut self) -> Result<(), Stop> {
        let id = self.input.varint()?;
        let function = self.input.string()?;
        let filename = self.input.string()?;
        self.input.signed_varint()?; // first line number, as a delta
        let linetable = self.input.varint()?;
        self.input.skip(linetable)?;
        self.code_objects
            .insert(id, Location { function, filename });
        Ok(())
    }

    fn segments(&mut self) -> Result<(), Stop> {
        self.input.string()?; // file name
        let count = self.input.varint()?;
        self.input.u64()?; // load address
        for _ in 0..count {
            if self.input.byte()? != SEGMENT {
                return Err(Unreadable::new("a segment header not followed by segments").into());
            }
            self.input.u64()?; // virtual address
            self.input.varint()?; // size in memory
        }
        Ok(())
    }

    /// The Python stack of `stack`, innermost frame first, as memray's
    /// `AllocationRecord.stack_trace()` gives it for a record of thread `tid`: on the main
    /// thread without the frames that were running when tracking started. Every frame of
    /// the stack is resolved (and so cached) on the way, as memray resolves them.
    pub fn stack_trace(&mut self, stack: u32, tid: u64) -> Result<Vec<&Location>, Unreadable> {
        let mut frames = Vec::new();
        let mut node = stack;
        while node != 0 {
            let Node { frame, parent, .. } = self.nodes[node as usize];
            self.resolve(frame)?;
            frames.push(frame);
            node = parent;
        }
        // memray compares the record's tid, made a signed long, with the unsigned main tid
        if tid == self.header.main_tid && (tid as i64) >= 0 {
            let skipped =
                usize::try_from(self.header.skipped_frames_on_main_tid).unwrap_or(usize::MAX);
            frames.truncate(frames.len().saturating_sub(skipped));
        }
        Ok(frames
            .into_iter()
            .filter_map(|frame| self.locations[frame as usize].as_ref())
            .collect())
    }

    fn resolve(&mut self, frame: u32) -> Result<(), Unreadable> {
        let index = frame as usize;
        if self.locations.len() <= index {
            self.locations.resize(self.frames.len(), None);
        }
        if self.locations[index].is_some() {
            return Ok(());
        }
        // an unknown code object reads as empty names, as in memray
        let location = self
            .code_objects
            .get(&self.frames[index].code_object)
            .cloned()
            .unwrap_or(Location {
                function: Vec::new(),
                filename: Vec::new(),
            });
        if std::str::from_utf8(&location.function).is_err()
            || std::str::from_utf8(&location.filename).is_err()
        {
            return Err(Unreadable::new("a frame name that is not UTF-8"));
        }
        self.locations[index] = Some(location);
        Ok(())
    }
}
