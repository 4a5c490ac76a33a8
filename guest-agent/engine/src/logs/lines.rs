//! Reading complete lines from a log file that may still be growing: bytes after the last
//! newline are kept until the rest of the line arrives, so a reader racing the writer never
//! parses half an entry.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};

/// Longer lines cannot be entries (one entry is at most [`super::LINE_LIMIT`] of text, six
/// bytes per escaped byte at worst): they are skipped, keeping the reader's memory bounded.
const MAX_LINE: usize = 8 * super::LINE_LIMIT;

const CHUNK: usize = 16 * 1024;

#[derive(Debug)]
pub(super) struct Lines {
    pub(super) file: File,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    pos: usize,
    /// Skipping the rest of an over-long line.
    discarding: bool,
}

/// What the next call found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next<'a> {
    Line(&'a [u8]),
    /// A line too long to be an entry was dropped.
    Oversized,
    /// No complete line yet: the end of what the file holds now.
    End,
}

impl Lines {
    pub(super) fn new(file: File) -> Lines {
        Lines {
            file,
            buf: Vec::new(),
            pos: 0,
            discarding: false,
        }
    }

    /// Reads the file again from its start (it was truncated).
    pub(super) fn restart(&mut self) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        self.buf.clear();
        self.pos = 0;
        self.discarding = false;
        Ok(())
    }

    pub(super) fn next_line(&mut self) -> std::io::Result<Next<'_>> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let (start, end) = (self.pos, self.pos + i);
                self.pos = end + 1;
                if std::mem::take(&mut self.discarding) {
                    return Ok(Next::Oversized);
                }
                return Ok(Next::Line(&self.buf[start..end]));
            }
            if self.buf.len() - self.pos >= MAX_LINE {
                // Forget what we have; report once the line's end is found.
                self.discarding = true;
                self.buf.clear();
                self.pos = 0;
            }
            if !self.fill()? {
                return Ok(Next::End);
            }
        }
    }

    /// Reads more; false at the current end of the file.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        loop {
            match self.file.read(&mut self.buf[old..]) {
                Ok(n) => {
                    self.buf.truncate(old + n);
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn keeps_an_unfinished_line_until_it_completes() {
        // Two opens, not a dup: the reader's offset must be its own.
        let mut writer = tempfile::NamedTempFile::new().unwrap();
        writer.write_all(b"one\ntw").unwrap();
        let mut lines = Lines::new(File::open(writer.path()).unwrap());
        assert_eq!(lines.next_line().unwrap(), Next::Line(b"one"));
        assert_eq!(lines.next_line().unwrap(), Next::End);
        writer.write_all(b"o\nthree\n").unwrap();
        assert_eq!(lines.next_line().unwrap(), Next::Line(b"two"));
        assert_eq!(lines.next_line().unwrap(), Next::Line(b"three"));
        assert_eq!(lines.next_line().unwrap(), Next::End);
    }

    #[test]
    fn skips_lines_longer_than_any_entry() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![b'x'; MAX_LINE * 2]).unwrap();
        file.write_all(b"\nok\n").unwrap();
        file.rewind().unwrap();
        let mut lines = Lines::new(file);
        assert_eq!(lines.next_line().unwrap(), Next::Oversized);
        assert_eq!(lines.next_line().unwrap(), Next::Line(b"ok"));
        assert!(lines.buf.capacity() <= MAX_LINE + 2 * CHUNK);
    }
}
