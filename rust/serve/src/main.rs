//! treasure's Rust routers behind the target protocol (docs/target-protocol.md): the
//! seed's "separate binary behind a Unix socket", with no Python in the request path. One
//! thread per connection, each with its own router; the routing spec and the framing as
//! `treasure serve` takes them.
//!
//!     treasure-serve-native [--backend rust-serde|rust-events|rust-scan]
//!         [--route PATH[,PATH...]] [--framing length|lines] (--unix PATH | --tcp HOST:PORT)

mod framing;
mod json;
mod router;

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::thread;
use std::time::Duration;

use framing::Framing;
use router::{BACKENDS, Backend, Router, parse_spec};
use treasure_rs::RouteSpec;

const USAGE: &str = "usage: treasure-serve-native [--backend rust-serde|rust-events|rust-scan] \
[--route PATH[,PATH...]] [--framing length|lines] (--unix PATH | --tcp HOST:PORT)";

struct Args {
    backend: Backend,
    spec: RouteSpec,
    framing: Framing,
    unix: Option<String>,
    tcp: Option<String>,
}

/// Exit codes as `treasure serve`'s (README.md): 2 a bad command line, 3 bad input.
const BAD_COMMAND_LINE: i32 = 2;
const BAD_INPUT: i32 = 3;

fn parse(args: &[String]) -> Result<Args, (i32, String)> {
    let usage = |message: String| (BAD_COMMAND_LINE, message);
    let mut parsed = Args {
        backend: Backend::Serde,
        spec: RouteSpec::default(),
        framing: Framing::Length,
        unix: None,
        tcp: None,
    };
    let mut items = args.iter();
    while let Some(flag) = items.next() {
        let value = items
            .next()
            .ok_or_else(|| usage(format!("{flag} needs a value; {USAGE}")))?;
        match flag.as_str() {
            "--backend" => {
                parsed.backend = Backend::from_name(value).ok_or_else(|| {
                    (
                        BAD_INPUT,
                        format!("unknown backend {value:?} (backends: {BACKENDS})"),
                    )
                })?
            }
            "--route" => {
                parsed.spec =
                    parse_spec(value).map_err(|why| (BAD_INPUT, format!("--route: {why}")))?
            }
            "--framing" => {
                parsed.framing = match value.as_str() {
                    "length" => Framing::Length,
                    "lines" => Framing::Lines,
                    other => {
                        return Err(usage(format!(
                            "--framing: {other:?} is not length or lines"
                        )));
                    }
                }
            }
            "--unix" => parsed.unix = Some(value.clone()),
            "--tcp" => parsed.tcp = Some(value.clone()),
            _ => return Err(usage(format!("unknown option {flag}; {USAGE}"))),
        }
    }
    if parsed.unix.is_some() == parsed.tcp.is_some() {
        return Err(usage(format!(
            "give exactly one of --unix PATH, --tcp HOST:PORT; {USAGE}"
        )));
    }
    Ok(parsed)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = parse(&argv).unwrap_or_else(|(code, message)| {
        eprintln!("treasure-serve-native: {message}");
        std::process::exit(code);
    });
    if let Some(path) = &args.unix {
        if std::fs::symlink_metadata(path).is_ok_and(|meta| is_socket(&meta)) {
            let _ = std::fs::remove_file(path); // a stale socket left by a killed server
        }
        let listener = UnixListener::bind(path).unwrap_or_else(|err| fail(path, err));
        println!("listening on unix:{path}");
        for stream in listener.incoming().flatten() {
            accept(stream, &args);
        }
    } else if let Some(address) = &args.tcp {
        let listener = TcpListener::bind(address).unwrap_or_else(|err| fail(address, err));
        let local = listener
            .local_addr()
            .map_or_else(|_| address.clone(), |a| a.to_string());
        println!("listening on tcp:{local}");
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            accept(stream, &args);
        }
    }
}

/// What a connection needs of its socket, Unix or TCP.
trait Socket: Read + Write + Send + Sized + 'static {
    fn duplicate(&self) -> io::Result<Self>;
    fn end(&self, timeout: Duration) -> io::Result<()>;
}

macro_rules! socket {
    ($type:ty) => {
        impl Socket for $type {
            fn duplicate(&self) -> io::Result<Self> {
                self.try_clone()
            }

            /// EOF after the replies, then a bounded wait for the client to close: closing
            /// with its requests unread would reset the connection and drop the replies.
            fn end(&self, timeout: Duration) -> io::Result<()> {
                self.shutdown(Shutdown::Write)?;
                self.set_read_timeout(Some(timeout))
            }
        }
    };
}
socket!(UnixStream);
socket!(TcpStream);

const DRAIN: Duration = Duration::from_secs(2);
const DRAIN_BYTES: u64 = 64 << 20;

/// One thread per connection, with its own router.
fn accept<S: Socket>(stream: S, args: &Args) {
    let (backend, framing, spec) = (args.backend, args.framing, args.spec.clone());
    let Ok(mut reader) = stream.duplicate() else {
        return;
    };
    let mut writer = stream;
    thread::spawn(move || {
        let router = Router::new(backend, spec);
        if framing::serve(&mut reader, &mut writer, &router, framing) && writer.end(DRAIN).is_ok() {
            let _ = io::copy(&mut reader.take(DRAIN_BYTES), &mut io::sink());
        }
    });
}

fn is_socket(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_socket()
}

fn fail(address: &str, err: std::io::Error) -> ! {
    let why = if err.kind() == ErrorKind::AddrInUse {
        "address in use".to_string()
    } else {
        err.to_string()
    };
    eprintln!("treasure-serve-native: cannot listen on {address}: {why}");
    std::process::exit(BAD_INPUT);
}
