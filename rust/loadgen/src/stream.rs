//! A connection's socket, Unix or TCP, and the one write the sender needs: a batch sent at
//! once, knowing whether the target's full socket held it back.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::sched;

const MSG_DONTWAIT: i32 = 0x40;
const MSG_NOSIGNAL: i32 = 0x4000;

unsafe extern "C" {
    fn send(fd: i32, buf: *const u8, len: usize, flags: i32) -> isize;
}

pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    pub fn connect(target: &str, timeout: Duration, send_buffer: i32) -> std::io::Result<Stream> {
        let stream = if let Some(path) = target.strip_prefix("unix:") {
            let stream = UnixStream::connect(path)?;
            stream.set_write_timeout(Some(timeout))?;
            Stream::Unix(stream)
        } else {
            let address = target.strip_prefix("tcp:").unwrap_or(target);
            let stream = TcpStream::connect(address)?;
            stream.set_nodelay(true)?;
            stream.set_write_timeout(Some(timeout))?;
            Stream::Tcp(stream)
        };
        if send_buffer > 0 {
            sched::send_buffer(stream.raw_fd(), send_buffer);
        }
        Ok(stream)
    }

    fn raw_fd(&self) -> RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }

    /// As much of `buf` as the socket takes now, without waiting (0 when it is full).
    fn send_now(&self, buf: &[u8]) -> std::io::Result<usize> {
        // SAFETY: send reads `buf.len()` bytes of a live slice from an open socket.
        let sent = unsafe {
            send(
                self.raw_fd(),
                buf.as_ptr(),
                buf.len(),
                MSG_DONTWAIT | MSG_NOSIGNAL,
            )
        };
        if sent >= 0 {
            return Ok(sent as usize);
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            ErrorKind::WouldBlock => Ok(0),
            ErrorKind::Interrupted => self.send_now(buf),
            _ => Err(err),
        }
    }

    /// The whole batch; true when the socket was full and the target held it back.
    pub fn send_batch(&mut self, buf: &[u8]) -> std::io::Result<bool> {
        let sent = self.send_now(buf)?;
        if sent == buf.len() {
            return Ok(false);
        }
        self.write_all(&buf[sent..])?;
        Ok(true)
    }

    pub fn try_clone(&self) -> std::io::Result<Stream> {
        Ok(match self {
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
        })
    }

    pub fn set_read_timeout(&self, timeout: Duration) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(Some(timeout)),
            Stream::Tcp(s) => s.set_read_timeout(Some(timeout)),
        }
    }

    pub fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.write_all(buf),
            Stream::Tcp(s) => s.write_all(buf),
        }
    }
}
