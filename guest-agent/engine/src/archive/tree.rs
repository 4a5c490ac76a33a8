//! Writing a directory tree of the container (or of an image) as a tar stream, fd-relative
//! all the way down: every child is looked at with fstatat(AT_SYMLINK_NOFOLLOW) and opened
//! with O_NOFOLLOW below its parent's fd, and what is written is what the opened fd says
//! (fstat), so a name swapped for a symlink mid-walk is skipped, never followed.
//!
//! Entries as docker writes them: directories with a trailing `/`, symlinks as links, a
//! second name of an inode as a hard link to the first, devices and fifos as nodes, sockets
//! left out. A file that grows or shrinks while read is cut or zero-filled to the size in its
//! header, so the stream stays a valid tar.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, major, minor, FileStat, Mode, SFlag};
use tar::{EntryType, Header};

use super::error::{io_err, ArchiveError};
use super::xattr::{self, XattrPolicy};

/// How deep a walk goes: each level holds a directory fd open.
pub(crate) const MAX_DEPTH: usize = 512;

pub(crate) struct TreeWriter<W: Write> {
    tar: tar::Builder<W>,
    xattrs: XattrPolicy,
    /// First tar name of each multiply-linked inode, by (device, inode).
    links: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> TreeWriter<W> {
    pub(crate) fn new(out: W, xattrs: XattrPolicy) -> Self {
        TreeWriter {
            tar: tar::Builder::new(out),
            xattrs,
            links: HashMap::new(),
        }
    }

    /// Writes `base` of the directory `parent` (not followed) as `name`, with its content.
    pub(crate) fn append_at(
        &mut self,
        parent: &OwnedFd,
        base: &OsStr,
        name: &Path,
        depth: usize,
    ) -> Result<(), ArchiveError> {
        let shown = name.display().to_string();
        let st = match fstatat(Some(parent.as_raw_fd()), base, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            // Removed since the directory was listed: nothing to copy.
            Err(Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(io_err("stat", &shown)(e)),
        };
        match kind(&st) {
            SFlag::S_IFDIR => match open_child(parent, base, OFlag::O_DIRECTORY) {
                Some(dir) => self.append_dir(&dir?, Some(name), depth),
                None => Ok(()),
            },
            SFlag::S_IFREG => match open_child(parent, base, OFlag::O_NONBLOCK) {
                Some(file) => self.append_file(file?, name),
                None => Ok(()),
            },
            SFlag::S_IFLNK => {
                if self.append_hardlink(&st, name)? {
                    return Ok(());
                }
                let target = match readlinkat(Some(parent.as_raw_fd()), base) {
                    Ok(t) => PathBuf::from(OsString::from_vec(t.into_vec())),
                    Err(Errno::ENOENT | Errno::EINVAL) => return Ok(()),
                    Err(e) => return Err(io_err("read the symlink", &shown)(e)),
                };
                let mut header = header(&st, EntryType::Symlink);
                self.tar
                    .append_link(&mut header, name, target)
                    .map_err(ArchiveError::Write)
            }
            SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => {
                if self.append_hardlink(&st, name)? {
                    return Ok(());
                }
                let entry_type = match kind(&st) {
                    SFlag::S_IFCHR => EntryType::Char,
                    SFlag::S_IFBLK => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut header = header(&st, entry_type);
                // Device numbers beyond the header's octal fields cannot be written; such a
                // node is left out rather than recorded wrongly.
                let dev = st.st_rdev;
                if header.set_device_major(major(dev) as u32).is_err()
                    || header.set_device_minor(minor(dev) as u32).is_err()
                {
                    tracing::warn!(entry = %shown, "device number too large for tar; skipped");
                    return Ok(());
                }
                self.tar
                    .append_data(&mut header, name, io::empty())
                    .map_err(ArchiveError::Write)
            }
            // Sockets cannot be archived (docker skips them too).
            _ => Ok(()),
        }
    }

    /// Writes an open directory as `name` (no entry of its own when `None`, for copying only
    /// its content), then everything in it, in name order.
    pub(crate) fn append_dir(
        &mut self,
        dir: &OwnedFd,
        name: Option<&Path>,
        depth: usize,
    ) -> Result<(), ArchiveError> {
        let shown = name.map(|n| n.display().to_string()).unwrap_or_default();
        if depth >= MAX_DEPTH {
            return Err(ArchiveError::TooDeep {
                path: shown,
                max: MAX_DEPTH,
            });
        }
        if let Some(name) = name {
            let st = fstat(dir.as_raw_fd()).map_err(io_err("stat", &shown))?;
            let mut header = header(&st, EntryType::Directory);
            self.pax_xattrs(dir, name)?;
            let mut dir_name = name.as_os_str().to_owned();
            if !dir_name.as_bytes().ends_with(b"/") {
                dir_name.push("/");
            }
            self.tar
                .append_data(&mut header, Path::new(&dir_name), io::empty())
                .map_err(ArchiveError::Write)?;
        }
        let mut children = list_dir(dir).map_err(io_err("list", &shown))?;
        children.sort();
        for child in children {
            let child_name = match name {
                Some(name) => name.join(&child),
                None => PathBuf::from(&child),
            };
            self.append_at(dir, &child, &child_name, depth + 1)?;
        }
        Ok(())
    }

    /// Ends the archive (two zero blocks) and returns the writer.
    pub(crate) fn finish(self) -> Result<W, ArchiveError> {
        self.tar.into_inner().map_err(ArchiveError::Write)
    }

    fn append_file(&mut self, file: OwnedFd, name: &Path) -> Result<(), ArchiveError> {
        let shown = name.display().to_string();
        let st = fstat(file.as_raw_fd()).map_err(io_err("stat", &shown))?;
        // Swapped for something else between the lstat and the open.
        if kind(&st) != SFlag::S_IFREG {
            return Ok(());
        }
        if self.append_hardlink(&st, name)? {
            return Ok(());
        }
        let mut header = header(&st, EntryType::Regular);
        let size = u64::try_from(st.st_size).unwrap_or(0);
        header.set_size(size);
        self.pax_xattrs(&file, name)?;
        let data = File::from(file).take(size).chain(io::repeat(0)).take(size);
        self.tar
            .append_data(&mut header, name, data)
            .map_err(ArchiveError::Write)
    }

    /// A second name of an inode already written becomes a hard link to the first name.
    fn append_hardlink(&mut self, st: &FileStat, name: &Path) -> Result<bool, ArchiveError> {
        if st.st_nlink <= 1 {
            return Ok(false);
        }
        let key = (st.st_dev, st.st_ino);
        let Some(first) = self.links.get(&key) else {
            self.links.insert(key, name.to_path_buf());
            return Ok(false);
        };
        let mut header = header(st, EntryType::Link);
        let first = first.clone();
        self.tar
            .append_link(&mut header, name, first)
            .map_err(ArchiveError::Write)
            .map(|()| true)
    }

    /// A PAX extended header carrying the xattrs of the next entry, if it has any.
    fn pax_xattrs(&mut self, fd: &OwnedFd, name: &Path) -> Result<(), ArchiveError> {
        let attrs = xattr::read(fd.as_raw_fd(), self.xattrs);
        if attrs.is_empty() {
            return Ok(());
        }
        let mut records = Vec::new();
        for (key, value) in attrs {
            let mut body = b"SCHILY.xattr.".to_vec();
            body.extend_from_slice(key.as_bytes());
            body.push(b'=');
            body.extend_from_slice(&value);
            body.push(b'\n');
            records.extend_from_slice(&pax_record(&body));
        }
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::XHeader);
        header.set_mode(0o644);
        header.set_size(records.len() as u64);
        let pax_name = Path::new("PaxHeaders").join(name.file_name().unwrap_or(OsStr::new("x")));
        self.tar
            .append_data(&mut header, pax_name, &records[..])
            .map_err(ArchiveError::Write)
    }
}

impl<W: Write> std::fmt::Debug for TreeWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeWriter")
            .field("xattrs", &self.xattrs)
            .field("links", &self.links.len())
            .finish_non_exhaustive()
    }
}

/// `LEN KEY=VALUE\n`, where LEN counts the whole record including its own digits.
fn pax_record(body: &[u8]) -> Vec<u8> {
    // Adding a digit can push the length over a power of ten; repeat until it is stable.
    let mut len = body.len() + 2;
    loop {
        let total = body.len() + 1 + len.to_string().len();
        if total == len {
            break;
        }
        len = total;
    }
    let mut out = format!("{len} ").into_bytes();
    out.extend_from_slice(body);
    out
}

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

fn header(st: &FileStat, entry_type: EntryType) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(st.st_mode & 0o7777);
    header.set_uid(u64::from(st.st_uid));
    header.set_gid(u64::from(st.st_gid));
    header.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
    header.set_size(0);
    header
}

/// Opens a child found by lstat without following it; `None` when it vanished or was
/// swapped for a symlink or another type since.
fn open_child(
    parent: &OwnedFd,
    base: &OsStr,
    extra: OFlag,
) -> Option<Result<OwnedFd, ArchiveError>> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NOCTTY | extra;
    match openat(Some(parent.as_raw_fd()), base, flags, Mode::empty()) {
        // SAFETY: openat returned a fresh descriptor that nothing else owns.
        Ok(fd) => Some(Ok(unsafe { OwnedFd::from_raw_fd(fd) })),
        Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR | Errno::ENXIO) => None,
        Err(e) => Some(Err(io_err("open", &base.to_string_lossy())(e))),
    }
}

/// The names in a directory, `.` and `..` left out.
pub(crate) fn list_dir(dir: &OwnedFd) -> nix::Result<Vec<OsString>> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    // A fresh open of "." gives the listing its own file offset, leaving `dir` untouched.
    let mut stream = Dir::openat(Some(dir.as_raw_fd()), ".", flags, Mode::empty())?;
    let mut names = Vec::new();
    for entry in stream.iter() {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            names.push(OsString::from_vec(name));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths_count_themselves() {
        for body_len in [
            1usize, 5, 6, 7, 8, 95, 96, 97, 98, 99, 100, 994, 995, 996, 997, 998,
        ] {
            let body = vec![b'a'; body_len];
            let record = pax_record(&body);
            let (len, rest) = record.split_at(record.iter().position(|b| *b == b' ').unwrap());
            let len: usize = std::str::from_utf8(len).unwrap().parse().unwrap();
            assert_eq!(len, record.len(), "body {body_len}");
            assert_eq!(&rest[1..], &body[..]);
        }
    }
}
