//! treasure's Rust routers behind the target protocol (docs/target-protocol.md,
//! length-prefixed framing): the seed's "separate binary behind a Unix socket", with no
//! Python in the request path. One thread per connection; a burst of pipelined requests
//! is answered with one write.
//!
//!     treasure-serve-native [--backend rust-serde|rust-events|rust-scan] --unix PATH
//!     treasure-serve-native --tcp HOST:PORT

use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::thread;

use treasure_rs::events_route::EventsRouter;
use treasure_rs::scan::ScanRouter;
use treasure_rs::serde_route::SerdeRouter;
use treasure_rs::Router as _;
use treasure_rs::{Category, Limits, RouteError, RouteSpec, Routing};

const USAGE: &str = "usage: treasure-serve-native [--backend rust-serde|rust-events|rust-scan] \
(--unix PATH | --tcp HOST:PORT)";

#[derive(Clone, Copy)]
enum Backend {
    Serde,
    Events,
    Scan,
}

enum Router {
    Serde(SerdeRouter),
    Events(EventsRouter),
    Scan(ScanRouter),
}

impl Router {
    fn new(backend: Backend) -> Router {
        let limits = Limits::default();
        match backend {
            Backend::Serde => Router::Serde(SerdeRouter::new(RouteSpec::default(), limits)),
            Backend::Events => Router::Events(EventsRouter::new(RouteSpec::default(), limits)),
            Backend::Scan => Router::Scan(ScanRouter::new(RouteSpec::default(), limits)),
        }
    }

    fn route(&self, payload: &[u8]) -> Result<Routing, RouteError> {
        match self {
            Router::Serde(router) => router.route(payload).map(record),
            Router::Events(router) => router.route(payload).map(record),
            Router::Scan(router) => router.route(payload).map(record),
        }
    }
}

/// The default spec's fields, in its order, as the three-field record the reply carries.
fn record(fields: Vec<String>) -> Routing {
    let mut fields = fields.into_iter();
    let mut next = || fields.next().unwrap_or_default();
    Routing {
        event_type: next(),
        player_id: next(),
        session_id: next(),
    }
}

fn status(category: Category) -> u8 {
    match category {
        Category::Syntax => 1,
        Category::Limit => 2,
        Category::UnsafeTag => 3,
        Category::Encoding => 4,
        Category::Schema => 5,
    }
}

fn push_blob(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// One reply frame appended to `out`.
fn reply(router: &Router, payload: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]); // the length, filled in below
    match router.route(payload) {
        Ok(routing) => {
            out.push(0);
            for field in [&routing.event_type, &routing.player_id, &routing.session_id] {
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

fn serve<S: Read + Write>(stream: S, reader: impl Read, backend: Backend) {
    let router = Router::new(backend);
    let max_request = Limits::default().max_bytes + 1;
    let mut reader = BufReader::with_capacity(256 << 10, reader);
    let mut writer = BufWriter::with_capacity(256 << 10, stream);
    let mut header = [0u8; 4];
    let mut payload = Vec::new();
    loop {
        if reader.read_exact(&mut header).is_err() {
            let _ = writer.flush();
            return;
        }
        let size = u32::from_be_bytes(header) as usize;
        if size > max_request {
            let mut out = Vec::new();
            push_blob(&mut out, &[&[2u8][..], b"request too large"].concat());
            let _ = writer.write_all(&out).and_then(|_| writer.flush());
            return;
        }
        payload.resize(size, 0);
        if reader.read_exact(&mut payload).is_err() {
            let _ = writer.flush();
            return;
        }
        let mut out = Vec::with_capacity(64);
        reply(&router, &payload, &mut out);
        if writer.write_all(&out).is_err() {
            return;
        }
        // flush when nothing more is already read: one write per burst of requests
        if reader.buffer().is_empty() && writer.flush().is_err() {
            return;
        }
    }
}

fn parse(args: &[String]) -> Result<(Backend, Option<String>, Option<String>), String> {
    let (mut backend, mut unix, mut tcp) = (Backend::Serde, None, None);
    let mut items = args.iter();
    while let Some(flag) = items.next() {
        let value = items
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        match flag.as_str() {
            "--backend" => {
                backend = match value.as_str() {
                    "rust-serde" => Backend::Serde,
                    "rust-events" => Backend::Events,
                    "rust-scan" => Backend::Scan,
                    other => return Err(format!("unknown backend {other:?}; {USAGE}")),
                }
            }
            "--unix" => unix = Some(value.clone()),
            "--tcp" => tcp = Some(value.clone()),
            _ => return Err(format!("unknown option {flag}; {USAGE}")),
        }
    }
    if unix.is_some() == tcp.is_some() {
        return Err(USAGE.to_string());
    }
    Ok((backend, unix, tcp))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (backend, unix, tcp) = parse(&args).unwrap_or_else(|message| {
        eprintln!("treasure-serve-native: {message}");
        std::process::exit(2);
    });
    if let Some(path) = unix {
        let _ = std::fs::remove_file(&path); // a stale socket left by a killed server
        let listener = UnixListener::bind(&path).unwrap_or_else(|err| fail(&path, err));
        println!("listening on unix:{path}");
        for stream in listener.incoming().flatten() {
            if let Ok(reader) = stream.try_clone() {
                thread::spawn(move || serve(stream, reader, backend));
            }
        }
    } else if let Some(address) = tcp {
        let listener = TcpListener::bind(&address).unwrap_or_else(|err| fail(&address, err));
        let local = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or(address);
        println!("listening on tcp:{local}");
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            if let Ok(reader) = stream.try_clone() {
                thread::spawn(move || serve(stream, reader, backend));
            }
        }
    }
}

fn fail(address: &str, err: std::io::Error) -> ! {
    let why = if err.kind() == ErrorKind::AddrInUse {
        "address in use".to_string()
    } else {
        err.to_string()
    };
    eprintln!("treasure-serve-native: cannot listen on {address}: {why}");
    std::process::exit(1);
}
