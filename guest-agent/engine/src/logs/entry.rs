//! One log entry as read back: which stream, when, and the text (ending in `\n` unless it is
//! a piece of a line longer than [`super::LINE_LIMIT`]).

use std::io::Write;
use std::time::SystemTime;

use serde::Deserialize;

use super::time::{parse_rfc3339, write_rfc3339_nano};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// Index for per-stream arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stream: Stream,
    pub time: SystemTime,
    pub log: String,
}

/// The on-disk shape; unknown fields (Docker's `attrs`) are ignored.
#[derive(Deserialize)]
struct Raw<'a> {
    log: String,
    #[serde(borrow)]
    stream: &'a str,
    #[serde(borrow)]
    time: &'a str,
}

impl Entry {
    /// Parses one line of a log file (without its newline); `None` for anything that is not
    /// a well-formed entry, so a damaged line is skipped rather than fatal.
    pub fn parse(line: &[u8]) -> Option<Entry> {
        let raw: Raw = serde_json::from_slice(line).ok()?;
        let stream = match raw.stream {
            "stdout" => Stream::Stdout,
            "stderr" => Stream::Stderr,
            _ => return None,
        };
        Some(Entry {
            stream,
            time: parse_rfc3339(raw.time)?,
            log: raw.log,
        })
    }

    /// A piece of a longer line: the next entry of the same stream continues it.
    pub fn is_partial(&self) -> bool {
        !self.log.ends_with('\n')
    }

    /// Writes the text as `docker logs` prints it: with `timestamps`, prefixed by the
    /// entry's RFC 3339 time and a space.
    pub fn write_to(&self, out: &mut impl Write, timestamps: bool) -> std::io::Result<()> {
        if timestamps {
            let mut stamp = Vec::with_capacity(31);
            write_rfc3339_nano(&mut stamp, self.time);
            stamp.push(b' ');
            out.write_all(&stamp)?;
        }
        out.write_all(self.log.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_lines_and_refuses_damaged_ones() {
        let line = br#"{"log":"hi\n","stream":"stderr","time":"2024-01-02T03:04:05.000000001Z","attrs":{}}"#;
        let entry = Entry::parse(line).unwrap();
        assert_eq!(entry.stream, Stream::Stderr);
        assert_eq!(entry.log, "hi\n");
        assert!(!entry.is_partial());
        let mut out = Vec::new();
        entry.write_to(&mut out, true).unwrap();
        assert_eq!(out, b"2024-01-02T03:04:05.000000001Z hi\n");
        for bad in [
            &b""[..],
            b"{",
            br#"{"log":"x","stream":"stdin","time":"2024-01-02T03:04:05Z"}"#,
            br#"{"log":"x","stream":"stdout","time":"yesterday"}"#,
            br#"{"stream":"stdout","time":"2024-01-02T03:04:05Z"}"#,
        ] {
            assert_eq!(Entry::parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
