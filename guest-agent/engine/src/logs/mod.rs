//! Container logs in Docker's `json-file` format: one JSON object per line,
//! `{"log":"text\n","stream":"stdout","time":"2024-01-02T03:04:05.000000001Z"}`, so tools that
//! read Docker's log files read ours, and `docker logs` options map one to one.
//!
//! The monitor writes ([`Writer`]); the engine reads ([`read`]), also while the file grows and
//! rotates. Files: `<dir>/<id>-json.log` is the live file, `.1` the newest rotated one,
//! `.2` older, and so on.
//!
//! Defaults (the engine's cap when a container sets none): rotate at [`DEFAULT_MAX_SIZE`]
//! (10 MiB) and keep [`DEFAULT_MAX_FILES`] (3) files, so one container's logs never take
//! more than about 30 MiB. Docker itself does not rotate by default; a desktop VM disk
//! filling up with one chatty container's output is worse than losing old lines.

mod encode;
mod entry;
mod lines;
mod reader;
mod tail;
pub(crate) mod time;
mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use entry::{Entry, Stream};
pub use reader::{read, ReadOptions, ReadStats};
pub use time::{format_rfc3339_nano, parse_rfc3339};
pub use writer::{Writer, WriterOptions};

/// The longest text one entry carries, newline included (Docker's 16 KiB buffer). A longer
/// line becomes several entries whose text has no trailing newline ("partial" entries),
/// so neither the writer nor any reader ever holds more than this of one line.
pub const LINE_LIMIT: usize = 16 * 1024;

/// Rotation size when the container asks for none.
pub const DEFAULT_MAX_SIZE: u64 = 10 * 1024 * 1024;

/// Files kept (the live one included) when the container asks for none.
pub const DEFAULT_MAX_FILES: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("Cannot open log file {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot write log file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot rotate log file {path}")]
    Rotate {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot read log file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The live log file of container `id` in its directory.
pub fn log_path(container_dir: &Path, id: &str) -> PathBuf {
    container_dir.join(format!("{id}-json.log"))
}

/// The `n`th rotated file (1 = newest) next to the live file `path`; 0 is the live file.
pub fn rotated_path(path: &Path, n: usize) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}
