//! docker's `noOverwriteDirNonDir` for a PUT, in front of the layer unpacker: before the
//! unpacker gets the headers of an entry, the entry is compared with what is at its place in
//! the destination, and one that would replace a directory with a non-directory (or the
//! reverse) stops the extraction with that error.
//!
//! The unpacker reads a stream strictly in order and only asks for an entry's headers once it
//! has finished the previous entry, so the check, made when the stream reaches the next
//! header, sees the destination as every earlier entry left it. Reads are therefore never
//! allowed to run past the next header's position. Anything the gate cannot make sense of
//! (truncated or malformed headers, sparse files, the end marker) is passed on unchanged for
//! the unpacker to refuse or finish, and is no longer checked.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use berth_runtime::rootfs::safe_path::retry_eagain;
use nix::fcntl::{openat2, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, SFlag};
use tar::EntryType;

use super::error::ArchiveError;

const BLOCK: usize = 512;
/// Extension headers (PAX records, GNU long names) before one entry; the unpacker's own cap.
const HEADERS_MAX: usize = (1 << 20) + 8 * BLOCK;

#[derive(Debug)]
pub(super) struct Gate<'a, R> {
    inner: R,
    dest: &'a OwnedFd,
    dest_abs: &'a str,
    /// Bytes handed to the unpacker so far.
    pos: u64,
    /// Where the next entry's headers start.
    boundary: u64,
    /// The next entry's headers, read ahead and checked, being handed out.
    held: Vec<u8>,
    held_off: usize,
    /// No more checks: the rest of the stream goes through as it is.
    passthrough: bool,
    refused: Option<ArchiveError>,
}

impl<'a, R: Read> Gate<'a, R> {
    pub(super) fn new(inner: R, dest: &'a OwnedFd, dest_abs: &'a str, check: bool) -> Self {
        Gate {
            inner,
            dest,
            dest_abs,
            pos: 0,
            boundary: 0,
            held: Vec::new(),
            held_off: 0,
            passthrough: !check,
            refused: None,
        }
    }

    /// The refusal that made a read fail, if one did.
    pub(super) fn take_refusal(&mut self) -> Option<ArchiveError> {
        self.refused.take()
    }

    /// Reads the next entry's headers into `held` and checks the entry.
    fn next_headers(&mut self) -> io::Result<()> {
        self.held.clear();
        self.held_off = 0;
        loop {
            let start = self.held.len();
            self.held.resize(start + BLOCK, 0);
            let n = read_full(&mut self.inner, &mut self.held[start..])?;
            self.held.truncate(start + n);
            let block = &self.held[start..];
            if n < BLOCK || block.iter().all(|b| *b == 0) {
                self.passthrough = true;
                return Ok(());
            }
            let header = tar::Header::from_byte_slice(block);
            let recognised = header.as_gnu().is_some() || header.as_ustar().is_some();
            let kind = header.entry_type();
            if !(recognised
                && (kind.is_gnu_longname()
                    || kind.is_gnu_longlink()
                    || kind.is_pax_local_extensions()))
            {
                break;
            }
            let padded = header.entry_size().ok().and_then(padded);
            let Some(padded) = padded.filter(|p| self.held.len() + p <= HEADERS_MAX) else {
                self.passthrough = true;
                return Ok(());
            };
            let start = self.held.len();
            self.held.resize(start + padded, 0);
            let n = read_full(&mut self.inner, &mut self.held[start..])?;
            self.held.truncate(start + n);
            if n < padded {
                self.passthrough = true;
                return Ok(());
            }
        }
        let parsed = {
            let mut archive = tar::Archive::new(&self.held[..]);
            let entry = archive.entries().and_then(|mut e| e.next().transpose());
            match entry {
                Ok(Some(entry)) => describe(&entry),
                _ => None,
            }
        };
        let Some((size, is_dir, rel)) = parsed else {
            self.passthrough = true;
            return Ok(());
        };
        self.boundary = self.pos + self.held.len() as u64 + size as u64;
        match rel {
            Some(rel) => self.check(&rel, is_dir),
            None => Ok(()),
        }
    }

    fn check(&mut self, rel: &Path, is_dir: bool) -> io::Result<()> {
        let Some(base) = rel.file_name() else {
            return Ok(());
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        let Some(existing) = existing_kind(self.dest, parent, base) else {
            return Ok(());
        };
        let path = Path::new(self.dest_abs).join(rel).display().to_string();
        let existing_dir = existing == SFlag::S_IFDIR;
        let refusal = match (existing_dir, is_dir) {
            (true, false) => ArchiveError::DirWithNonDir { path },
            (false, true) => ArchiveError::NonDirWithDir { path },
            _ => return Ok(()),
        };
        self.refused = Some(refusal);
        Err(io::Error::other(
            "entry would overwrite a directory with a non-directory",
        ))
    }
}

impl<R: Read> Read for Gate<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.held_off < self.held.len() {
            let n = buf.len().min(self.held.len() - self.held_off);
            buf[..n].copy_from_slice(&self.held[self.held_off..self.held_off + n]);
            self.held_off += n;
            self.pos += n as u64;
            return Ok(n);
        }
        if self.passthrough {
            return self.inner.read(buf);
        }
        if self.pos < self.boundary {
            let left = usize::try_from(self.boundary - self.pos).unwrap_or(usize::MAX);
            let want = buf.len().min(left);
            let n = self.inner.read(&mut buf[..want])?;
            self.pos += n as u64;
            return Ok(n);
        }
        // At the next headers: every earlier entry is in place now.
        self.next_headers()?;
        if self.held.is_empty() {
            return Ok(0);
        }
        self.read(buf)
    }
}

/// What is at `parent/base` below dest, resolved as the unpacker resolves it (inside dest,
/// final component not followed); `None` when nothing is there.
fn existing_kind(dest: &OwnedFd, parent: &Path, base: &OsStr) -> Option<SFlag> {
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = retry_eagain(|| openat2(dest.as_raw_fd(), parent, how)).ok()?;
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    match fstatat(Some(fd.as_raw_fd()), base, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Some(SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())),
        Err(_) => None,
    }
}

/// An entry's padded data size, whether it makes a directory, and its path to check (`None`
/// for entries that name nothing to compare); `None` altogether for a sparse file, whose
/// layout the gate does not follow.
fn describe<R: Read>(entry: &tar::Entry<'_, R>) -> Option<(usize, bool, Option<PathBuf>)> {
    let kind = entry.header().entry_type();
    if kind.is_gnu_sparse() {
        return None;
    }
    let size = padded(entry.size())?;
    let typeflag = entry.header().as_bytes()[156];
    let raw = entry.path_bytes();
    // Pre-POSIX tars mark directories by a trailing slash only (the unpacker reads them so).
    let is_dir = kind == EntryType::Directory
        || (kind == EntryType::Regular && typeflag == 0 && raw.ends_with(b"/"));
    let rel = match kind {
        EntryType::XGlobalHeader => None,
        _ => normalise(&raw),
    };
    Some((size, is_dir, rel))
}

/// A tar name as a relative path, `None` for one the unpacker refuses anyway (absolute, `..`,
/// NUL) or the root itself.
fn normalise(raw: &[u8]) -> Option<PathBuf> {
    if raw.starts_with(b"/") || raw.contains(&0) {
        return None;
    }
    let mut out = PathBuf::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return None,
            _ => out.push(OsStr::from_bytes(part)),
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn padded(size: u64) -> Option<usize> {
    let size = usize::try_from(size).ok()?;
    Some(size.checked_add(BLOCK - 1)? & !(BLOCK - 1))
}

/// Fills `buf` unless the stream ends first; returns how much was read.
pub(super) fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
