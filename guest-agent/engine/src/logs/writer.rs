//! The log writer the monitor feeds with whatever it read from a container's stdout and
//! stderr. It cuts the bytes into lines (pieces of at most [`LINE_LIMIT`]), encodes each as a
//! JSON line and appends it to the live file, rotating by size. Its memory is bounded
//! (one pending line per stream plus one output batch) however much a container prints.
//!
//! Each `write` call ends with its entries handed to the kernel (append, no fsync): a
//! reader, or a monitor killed right after, sees whole lines only.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::encode::{self, char_boundary};
use super::{rotated_path, LogError, Stream, DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE, LINE_LIMIT};

/// Encoded entries are batched up to this size before one write(2).
const BATCH: usize = 32 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterOptions {
    /// Rotate when the live file would grow past this many bytes; `None` never rotates.
    pub max_size: Option<u64>,
    /// Files kept, the live one included (at least 1: then rotation truncates).
    pub max_files: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_size: Some(DEFAULT_MAX_SIZE),
            max_files: DEFAULT_MAX_FILES,
        }
    }
}

#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    file: File,
    /// Bytes in the live file, including what `out` will add.
    size: u64,
    opts: WriterOptions,
    /// Text of an unfinished line, per stream.
    pending: [Vec<u8>; 2],
    out: Vec<u8>,
}

impl Writer {
    /// Opens (or creates) the live file for appending: a restarted container's monitor
    /// continues the same log.
    pub fn open(path: &Path, opts: WriterOptions) -> Result<Writer, LogError> {
        let file = open_append(path)?;
        let size = file
            .metadata()
            .map_err(|source| LogError::Open {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        Ok(Writer {
            path: path.to_path_buf(),
            file,
            size,
            opts: WriterOptions {
                max_files: opts.max_files.max(1),
                ..opts
            },
            pending: [Vec::new(), Vec::new()],
            out: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs `bytes` read from `stream` at time `now`: every complete line becomes an entry;
    /// an unfinished line waits for more, but never grows past [`LINE_LIMIT`].
    pub fn write(&mut self, stream: Stream, bytes: &[u8], now: SystemTime) -> Result<(), LogError> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let held = self.pending[stream.index()].len();
            let newline = rest.iter().position(|&b| b == b'\n');
            match newline {
                Some(i) if held + i < LINE_LIMIT => {
                    if held == 0 {
                        self.emit(stream, &rest[..i], true, now)?;
                    } else {
                        let mut line = std::mem::take(&mut self.pending[stream.index()]);
                        line.extend_from_slice(&rest[..i]);
                        let result = self.emit(stream, &line, true, now);
                        line.clear();
                        self.pending[stream.index()] = line;
                        result?;
                    }
                    rest = &rest[i + 1..];
                }
                _ => {
                    let take = (LINE_LIMIT - held).min(rest.len());
                    let pending = &mut self.pending[stream.index()];
                    if pending.capacity() == 0 {
                        pending.reserve_exact(LINE_LIMIT);
                    }
                    pending.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if pending.len() == LINE_LIMIT {
                        self.emit_partial(stream, now)?;
                    }
                }
            }
        }
        self.flush()
    }

    /// The stream ended: its unfinished line (if any) is logged as it is.
    pub fn finish(&mut self, stream: Stream, now: SystemTime) -> Result<(), LogError> {
        if !self.pending[stream.index()].is_empty() {
            let line = std::mem::take(&mut self.pending[stream.index()]);
            self.emit(stream, &line, false, now)?;
        }
        self.flush()
    }

    /// Heap bytes the writer holds: bounded by two line buffers and one batch (plus one
    /// entry), whatever was written.
    pub fn buffered_capacity(&self) -> usize {
        self.pending.iter().map(Vec::capacity).sum::<usize>() + self.out.capacity()
    }

    /// A full pending buffer without a newline: log it as a partial entry, keeping any
    /// incomplete UTF-8 character for the next piece.
    fn emit_partial(&mut self, stream: Stream, now: SystemTime) -> Result<(), LogError> {
        let mut line = std::mem::take(&mut self.pending[stream.index()]);
        let cut = char_boundary(&line);
        let result = self.emit(stream, &line[..cut], false, now);
        line.drain(..cut);
        self.pending[stream.index()] = line;
        result
    }

    fn emit(
        &mut self,
        stream: Stream,
        text: &[u8],
        newline: bool,
        now: SystemTime,
    ) -> Result<(), LogError> {
        let start = self.out.len();
        encode::entry(&mut self.out, stream, text, newline, now);
        let len = (self.out.len() - start) as u64;
        if let Some(max) = self.opts.max_size {
            // An entry never straddles two files; a file holds at least one entry.
            if self.size + len > max && self.size > 0 {
                let result = self.write_out(start).and_then(|()| self.rotate());
                if result.is_err() {
                    self.out.clear();
                }
                result?;
            }
        }
        self.size += len;
        if self.out.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the batch to the kernel; on failure (disk full) the batch is dropped, so a
    /// broken disk costs lines, never unbounded memory.
    fn flush(&mut self) -> Result<(), LogError> {
        let end = self.out.len();
        let result = self.write_out(end);
        if result.is_err() {
            self.out.clear();
        }
        result
    }

    /// Writes `out[..end]` and keeps the rest at the front of the buffer.
    fn write_out(&mut self, end: usize) -> Result<(), LogError> {
        if end == 0 {
            return Ok(());
        }
        self.file
            .write_all(&self.out[..end])
            .map_err(|source| LogError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.out.drain(..end);
        // A burst of escaped control characters can grow the batch; give that back.
        if self.out.capacity() > 4 * BATCH {
            self.out.shrink_to(BATCH);
        }
        Ok(())
    }

    /// `.N-1` is dropped, `.k` becomes `.k+1`, the live file becomes `.1`, and a new live
    /// file starts; with one file the live file is truncated instead.
    fn rotate(&mut self) -> Result<(), LogError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LogError::Rotate { path, source }
        };
        if self.opts.max_files == 1 {
            self.file.set_len(0).map_err(err(&self.path))?;
            self.size = 0;
            return Ok(());
        }
        let oldest = rotated_path(&self.path, self.opts.max_files - 1);
        match fs::remove_file(&oldest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(&oldest)(e)),
        }
        for n in (1..self.opts.max_files - 1).rev() {
            let from = rotated_path(&self.path, n);
            match fs::rename(&from, rotated_path(&self.path, n + 1)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err(&from)(e)),
            }
        }
        fs::rename(&self.path, rotated_path(&self.path, 1)).map_err(err(&self.path))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(|source| LogError::Open {
            path: path.to_path_buf(),
            source,
        })
}
