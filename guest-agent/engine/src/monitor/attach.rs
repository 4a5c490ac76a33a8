//! Attach clients on `attach.sock`: each receives the container's output from the moment it
//! connects, and what it sends goes to the container's stdin.
//!
//! Output framing is Docker's attach stream: without a tty each chunk is preceded by an
//! 8-byte header (stream 1 = stdout, 2 = stderr, 3 zero bytes, big-endian u32 length), so the
//! API layer can pass it through as is; with a tty the bytes are raw.
//!
//! The monitor never waits for a client: a client that lets its socket buffer fill (it
//! stopped reading) is disconnected, so a stuck client cannot stall the container's output
//! or make the monitor buffer it.

use std::io::{ErrorKind, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};

use crate::logs::Stream;

/// More connections than this are refused (closed at once): memory stays bounded.
const MAX_CLIENTS: usize = 16;

#[derive(Debug)]
pub(super) struct Client {
    stream: UnixStream,
    /// Still sending input (it has not shut its write side).
    pub reading: bool,
}

#[derive(Debug)]
pub(super) struct Attach {
    pub listener: UnixListener,
    pub clients: Vec<Client>,
    tty: bool,
}

/// What one client's input event came to.
pub(super) enum Input {
    /// Bytes for the container's stdin (in the caller's buffer).
    Data(usize),
    /// The client closed its write side.
    Eof,
    Nothing,
    /// The client is gone and was removed.
    Gone,
}

impl Attach {
    pub fn new(listener: UnixListener, tty: bool) -> Attach {
        Attach {
            listener,
            clients: Vec::new(),
            tty,
        }
    }

    pub fn accept(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            if self.clients.len() >= MAX_CLIENTS || stream.set_nonblocking(true).is_err() {
                continue;
            }
            self.clients.push(Client {
                stream,
                reading: true,
            });
        }
    }

    pub fn client_fd(&self, index: usize) -> RawFd {
        self.clients[index].stream.as_raw_fd()
    }

    /// Sends `data` from `stream` to every client, dropping those that cannot take it now.
    pub fn broadcast(&mut self, stream: Stream, data: &[u8]) {
        if self.clients.is_empty() || data.is_empty() {
            return;
        }
        let header = frame_header(stream, data.len());
        let parts: &[&[u8]] = if self.tty { &[data] } else { &[&header, data] };
        let total: usize = parts.iter().map(|p| p.len()).sum();
        self.clients
            .retain_mut(|client| send_all_now(&mut client.stream, parts) == Some(total));
    }

    /// Reads input from client `index` into `buf`.
    pub fn read_input(&mut self, index: usize, buf: &mut [u8]) -> Input {
        match self.clients[index].stream.read(buf) {
            Ok(0) => {
                self.clients[index].reading = false;
                Input::Eof
            }
            Ok(n) => Input::Data(n),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                Input::Nothing
            }
            Err(_) => {
                self.clients.remove(index);
                Input::Gone
            }
        }
    }

    pub fn remove(&mut self, index: usize) {
        self.clients.remove(index);
    }
}

fn frame_header(stream: Stream, len: usize) -> [u8; 8] {
    let kind = match stream {
        Stream::Stdout => 1,
        Stream::Stderr => 2,
    };
    let len = (len as u32).to_be_bytes();
    [kind, 0, 0, 0, len[0], len[1], len[2], len[3]]
}

/// One non-blocking vectored write, retried only for what the kernel took partially while
/// it still takes more; `None` when the socket failed.
fn send_all_now(stream: &mut UnixStream, parts: &[&[u8]]) -> Option<usize> {
    let mut sent = 0;
    let total: usize = parts.iter().map(|p| p.len()).sum();
    while sent < total {
        let mut skip = sent;
        let mut slices = [IoSlice::new(&[]), IoSlice::new(&[])];
        let mut used = 0;
        for part in parts {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            slices[used] = IoSlice::new(&part[skip..]);
            used += 1;
            skip = 0;
        }
        match stream.write_vectored(&slices[..used]) {
            Ok(0) => return Some(sent),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Some(sent),
            Err(_) => return None,
        }
    }
    Some(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_stream_and_length_and_slow_clients_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sock");
        let listener = UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let mut attach = Attach::new(listener, false);
        let mut reader = UnixStream::connect(&path).unwrap();
        let _idle = UnixStream::connect(&path).unwrap();
        attach.accept();
        assert_eq!(attach.clients.len(), 2);
        attach.broadcast(Stream::Stderr, b"hello");
        let mut got = [0u8; 13];
        reader.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"\x02\x00\x00\x00\x00\x00\x00\x05hello");
        // The idle client never reads: once its buffer is full it is disconnected, while
        // the reading one stays.
        let chunk = vec![b'x'; 64 * 1024];
        reader.set_nonblocking(true).unwrap();
        let mut sink = vec![0u8; 1024 * 1024];
        for _ in 0..64 {
            attach.broadcast(Stream::Stdout, &chunk);
            while reader.read(&mut sink).is_ok_and(|n| n > 0) {}
        }
        assert_eq!(attach.clients.len(), 1);
    }
}
