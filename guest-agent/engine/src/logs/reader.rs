//! Reading a container's log: the rotated files oldest first, then the live file, with
//! `docker logs` options (tail, since, until, follow). Blocking by design: the engine runs
//! a follow on its own thread, and the caller decides when it ends (`stopped`) or stops it
//! from the callback (a client went away).

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::ops::ControlFlow;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::lines::{Lines, Next};
use super::tail::start_of_last;
use super::{rotated_path, Entry, LogError};

/// How often a follow looks for new lines (and for a rotation) once it has read everything:
/// soon after activity (a short-lived container's end is noticed within a millisecond or
/// two, which `run` waits on), backing off to the slowest interval when the log is quiet.
const FOLLOW_POLL_MIN: Duration = Duration::from_millis(1);
const FOLLOW_POLL: Duration = Duration::from_millis(50);

fn next_poll(current: Duration) -> Duration {
    (current * 2).min(FOLLOW_POLL)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Only the last N lines that exist when the read starts (applied before since/until,
    /// as Docker does).
    pub tail: Option<usize>,
    /// Skip entries older than this.
    pub since: Option<SystemTime>,
    /// End at the first entry newer than this.
    pub until: Option<SystemTime>,
    /// Keep reading as the log grows, across rotations, until `stopped` says so.
    pub follow: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Entries handed to the callback.
    pub entries: u64,
    /// Lines that were not valid entries, skipped.
    pub malformed: u64,
}

/// Reads the log whose live file is `path`, calling `on_entry` for each entry in order.
/// With `follow`, `stopped` is asked between polls: once it returns true (the container has
/// exited), whatever was written before is still read, then the read ends.
pub fn read(
    path: &Path,
    opts: &ReadOptions,
    mut stopped: impl FnMut() -> bool,
    mut on_entry: impl FnMut(Entry) -> ControlFlow<()>,
) -> Result<ReadStats, LogError> {
    let mut session = Session {
        path,
        opts,
        stats: ReadStats::default(),
        on_entry: &mut on_entry,
    };
    let mut poll = FOLLOW_POLL_MIN;
    let mut live = loop {
        let files = open_all(path)?;
        if !files.is_empty() {
            match session.read_history(files)? {
                Some(live) => break live,
                None => return Ok(session.stats),
            }
        }
        if !opts.follow || stopped() {
            return Ok(session.stats);
        }
        std::thread::sleep(poll);
        poll = next_poll(poll);
    };
    if !opts.follow {
        return Ok(session.stats);
    }
    poll = FOLLOW_POLL_MIN;
    loop {
        let stop = stopped();
        let before = session.stats.entries;
        if session.drain(&mut live)?.is_break() {
            break;
        }
        if session.stats.entries != before {
            poll = FOLLOW_POLL_MIN;
        }
        if let Some(next) = session.after_rotation(&mut live)? {
            live = match next {
                Some(next) => next,
                None => break,
            };
            continue;
        }
        if stop {
            break;
        }
        std::thread::sleep(poll);
        poll = next_poll(poll);
    }
    Ok(session.stats)
}

struct Session<'a, F> {
    path: &'a Path,
    opts: &'a ReadOptions,
    stats: ReadStats,
    on_entry: &'a mut F,
}

impl<F: FnMut(Entry) -> ControlFlow<()>> Session<'_, F> {
    /// Reads `files` (newest first) from the tail's start up to now; returns the live
    /// file's reader, or `None` when the read already ended.
    fn read_history(&mut self, files: Vec<File>) -> Result<Option<Lines>, LogError> {
        let (first, offset) = match self.opts.tail {
            Some(n) => start_of_last(&files, n).map_err(|e| self.read_err(e))?,
            None => (files.len() - 1, 0),
        };
        let mut files: Vec<Lines> = files.into_iter().take(first + 1).map(Lines::new).collect();
        files[first]
            .file
            .seek(SeekFrom::Start(offset))
            .map_err(|e| self.read_err(e))?;
        while let Some(mut lines) = files.pop() {
            if self.drain(&mut lines)?.is_break() {
                return Ok(None);
            }
            if files.is_empty() {
                return Ok(Some(lines));
            }
        }
        Ok(None)
    }

    /// Delivers every complete line the file holds now.
    fn drain(&mut self, lines: &mut Lines) -> Result<ControlFlow<()>, LogError> {
        loop {
            let line = match lines.next_line().map_err(|e| self.read_err(e))? {
                Next::End => return Ok(ControlFlow::Continue(())),
                Next::Oversized => {
                    self.stats.malformed += 1;
                    continue;
                }
                Next::Line(line) => line,
            };
            let Some(entry) = Entry::parse(line) else {
                self.stats.malformed += 1;
                continue;
            };
            if self.opts.since.is_some_and(|since| entry.time < since) {
                continue;
            }
            if self.opts.until.is_some_and(|until| entry.time > until) {
                return Ok(ControlFlow::Break(()));
            }
            self.stats.entries += 1;
            if (self.on_entry)(entry).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
    }

    /// `None` when the live file is still the one we read; otherwise the new live file,
    /// after delivering what the rotated files hold (`Some(None)`: the read ended).
    fn after_rotation(&mut self, live: &mut Lines) -> Result<Option<Option<Lines>>, LogError> {
        let ours = live.file.metadata().map_err(|e| self.read_err(e))?;
        match std::fs::metadata(self.path) {
            Ok(now) if (now.dev(), now.ino()) == (ours.dev(), ours.ino()) => {
                // With one file the writer truncates instead of renaming: start over.
                let read_to = live.file.stream_position().map_err(|e| self.read_err(e))?;
                if now.len() < read_to {
                    live.restart().map_err(|e| self.read_err(e))?;
                }
                return Ok(None);
            }
            Ok(_) => {}
            // Between the writer's rename and its create: look again next time.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.read_err(e)),
        }
        let files = open_all(self.path)?;
        let ours_index = files.iter().position(|f| {
            f.metadata()
                .is_ok_and(|m| (m.dev(), m.ino()) == (ours.dev(), ours.ino()))
        });
        // Newer than ours: everything before it in the newest-first list (all of them when
        // ours is already gone, i.e. more rotations than files happened in one poll).
        let newer = ours_index.unwrap_or(files.len());
        let mut newer: Vec<Lines> = files.into_iter().take(newer).map(Lines::new).collect();
        while let Some(mut lines) = newer.pop() {
            if self.drain(&mut lines)?.is_break() {
                return Ok(Some(None));
            }
            if newer.is_empty() {
                return Ok(Some(Some(lines)));
            }
        }
        Ok(None)
    }

    fn read_err(&self, source: std::io::Error) -> LogError {
        LogError::Read {
            path: self.path.to_path_buf(),
            source,
        }
    }
}

/// The live file and its rotated predecessors, newest first, each opened once so a
/// rotation during the read cannot swap a file under us. A file seen twice (renamed
/// between two opens) is kept once.
fn open_all(path: &Path) -> Result<Vec<File>, LogError> {
    let mut files: Vec<File> = Vec::new();
    let mut seen = Vec::new();
    for n in 0.. {
        let name = rotated_path(path, n);
        let file = match File::open(&name) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && n == 0 => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(source) => return Err(LogError::Read { path: name, source }),
        };
        let meta = file
            .metadata()
            .map_err(|source| LogError::Read { path: name, source })?;
        if !seen.contains(&(meta.dev(), meta.ino())) {
            seen.push((meta.dev(), meta.ino()));
            files.push(file);
        }
    }
    Ok(files)
}
