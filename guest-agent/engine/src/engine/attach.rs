//! `attach`: a client of the container's monitor on `attach.sock`. The container's output
//! (Docker's 8-byte frames without a tty, raw bytes with one; [`Demux`] splits the frames)
//! goes to the caller's writer; the caller's input goes to the container's stdin and is
//! watched for the detach sequence (`ctrl-p,ctrl-q` by default), which ends the attach and
//! leaves the container running.
//!
//! The socket is reached through `/proc/self/fd/N/attach.sock` on an `O_PATH` descriptor of
//! the container directory: a Unix socket path is limited to 108 bytes, and engine roots can
//! be deeper than that.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Engine, EngineError};
use crate::container::lifecycle::ErrorKind;
use crate::monitor::ATTACH_SOCKET;

/// Docker's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachOptions {
    /// Forward the input to the container's stdin (and watch it for the detach keys).
    pub stdin: bool,
    /// Docker's format: comma-separated `ctrl-X` or single characters; `None`: the default.
    pub detach_keys: Option<String>,
}

/// How an attach ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachEnd {
    /// The detach sequence was read; the container keeps running.
    Detached,
    /// The container exited with this code.
    Exited(i32),
}

#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("Invalid detach keys {0:?}: expected ctrl-X or single characters, comma-separated")]
    DetachKeys(String),
    #[error("Cannot connect to the container's attach socket")]
    Connect(#[source] io::Error),
    #[error("Cannot {0}")]
    Io(&'static str, #[source] io::Error),
}

impl From<EngineError> for AttachError {
    fn from(e: EngineError) -> Self {
        AttachError::Engine(Box::new(e))
    }
}

impl AttachError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AttachError::Engine(e) => e.kind(),
            AttachError::DetachKeys(_) => ErrorKind::InvalidArgument,
            AttachError::Connect(_) | AttachError::Io(..) => ErrorKind::Internal,
        }
    }
}

impl Engine {
    /// Attaches to the running container `reference` until the detach keys are read from
    /// `input` (with `options.stdin`) or the container exits. `input` is read on a thread
    /// of its own that is left behind, blocked in `read`, when the container exits first.
    pub fn attach(
        &self,
        reference: &str,
        options: &AttachOptions,
        input: impl Read + Send + 'static,
        mut output: impl Write,
    ) -> Result<AttachEnd, AttachError> {
        let keys = parse_detach_keys(options.detach_keys.as_deref())?;
        let record = self.running(reference)?;
        let dir = self.inner.containers.container_dir(&record.id);
        let mut socket = connect(&dir).map_err(AttachError::Connect)?;
        let detached = Arc::new(AtomicBool::new(false));
        if options.stdin {
            let writer = socket
                .try_clone()
                .map_err(|e| AttachError::Io("duplicate the attach socket", e))?;
            let flag = detached.clone();
            std::thread::Builder::new()
                .name("attach-input".into())
                .spawn(move || forward_input(input, writer, &keys, &flag))
                .map_err(|e| AttachError::Io("start the input thread", e))?;
        }
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match socket.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The input thread shut the socket down (detach) while we read.
                Err(_) if detached.load(Ordering::SeqCst) => 0,
                Err(e) => return Err(AttachError::Io("read the container's output", e)),
            };
            if n == 0 {
                break;
            }
            output
                .write_all(&buf[..n])
                .and_then(|()| output.flush())
                .map_err(|e| AttachError::Io("write the container's output", e))?;
        }
        if detached.load(Ordering::SeqCst) {
            return Ok(AttachEnd::Detached);
        }
        Ok(AttachEnd::Exited(self.wait(&record.id)?))
    }
}

/// Connects to `dir/attach.sock` through a short `/proc/self/fd` path.
fn connect(dir: &Path) -> io::Result<UnixStream> {
    let handle = File::options()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?;
    let path = format!("/proc/self/fd/{}/{ATTACH_SOCKET}", handle.as_raw_fd());
    UnixStream::connect(path)
}

/// Copies `input` to the socket up to the detach sequence (then flags the detach and shuts
/// the socket down, which ends the output loop) or to EOF (then closes the write side).
fn forward_input(mut input: impl Read, mut socket: UnixStream, keys: &[u8], detached: &AtomicBool) {
    let mut watch = DetachWatch::new(keys);
    let mut buf = [0u8; 8192];
    let mut out = Vec::with_capacity(buf.len() + keys.len());
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        out.clear();
        let seen = watch.feed(&buf[..n], &mut out);
        if !out.is_empty() && socket.write_all(&out).is_err() {
            return;
        }
        if seen {
            detached.store(true, Ordering::SeqCst);
            let _ = socket.shutdown(Shutdown::Both);
            return;
        }
    }
    let _ = socket.write_all(watch.pending());
    let _ = socket.shutdown(Shutdown::Write);
}

/// Parses Docker's detach keys: `ctrl-a`..`ctrl-z`, `ctrl-@`, `ctrl-[`, `ctrl-\`, `ctrl-]`,
/// `ctrl-^`, `ctrl-_`, or one character, separated by commas.
pub fn parse_detach_keys(spec: Option<&str>) -> Result<Vec<u8>, AttachError> {
    let spec = spec.unwrap_or(DEFAULT_DETACH_KEYS);
    let bad = || AttachError::DetachKeys(spec.to_string());
    if spec.is_empty() {
        return Err(bad());
    }
    spec.split(',')
        .map(|key| {
            let lower = key.to_ascii_lowercase();
            match lower.strip_prefix("ctrl-").map(str::as_bytes) {
                Some([c @ b'a'..=b'z']) => Ok(c - b'a' + 1),
                Some([c @ (b'@' | b'[' | b'\\' | b']' | b'^' | b'_')]) => Ok(c - b'@'),
                Some(_) => Err(bad()),
                None if key.len() == 1 => Ok(key.as_bytes()[0]),
                None => Err(bad()),
            }
        })
        .collect()
}

/// Finds a detach sequence across reads: bytes that may start it are held back until the
/// sequence completes (then dropped) or breaks (then passed on).
#[derive(Debug)]
pub struct DetachWatch<'a> {
    keys: &'a [u8],
    matched: usize,
}

impl<'a> DetachWatch<'a> {
    pub fn new(keys: &'a [u8]) -> Self {
        DetachWatch { keys, matched: 0 }
    }

    /// Appends to `out` what `data` lets through; true when the sequence was completed
    /// (anything after it in `data` is dropped).
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        for &byte in data {
            if byte == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return true;
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if byte == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    return true;
                }
            } else {
                out.push(byte);
            }
        }
        false
    }

    /// The bytes held back for a sequence not completed yet.
    pub fn pending(&self) -> &[u8] {
        &self.keys[..self.matched]
    }
}

/// A writer that splits Docker's framed stream (no tty) into stdout and stderr.
#[derive(Debug)]
pub struct Demux<O, E> {
    stdout: O,
    stderr: E,
    header: Vec<u8>,
    /// Stream and bytes left of the current frame.
    frame: Option<(u8, usize)>,
}

impl<O: Write, E: Write> Demux<O, E> {
    pub fn new(stdout: O, stderr: E) -> Self {
        Demux {
            stdout,
            stderr,
            header: Vec::with_capacity(8),
            frame: None,
        }
    }
}

impl<O: Write, E: Write> Write for Demux<O, E> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let total = data.len();
        while !data.is_empty() {
            match &mut self.frame {
                None => {
                    let take = (8 - self.header.len()).min(data.len());
                    self.header.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.header.len() == 8 {
                        let len =
                            u32::from_be_bytes(self.header[4..8].try_into().unwrap_or([0; 4]));
                        self.frame = (len > 0).then_some((self.header[0], len as usize));
                        self.header.clear();
                    }
                }
                Some((stream, left)) => {
                    let take = (*left).min(data.len());
                    match stream {
                        2 => self.stderr.write_all(&data[..take])?,
                        _ => self.stdout.write_all(&data[..take])?,
                    }
                    *left -= take;
                    data = &data[take..];
                    if *left == 0 {
                        self.frame = None;
                    }
                }
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()?;
        self.stderr.flush()
    }
}
