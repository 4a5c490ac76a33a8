//! The unpack loop: read each tar entry, validate its name and type, create it fd-relative
//! below dest, and give directories their times once everything inside them exists.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{futimens, Mode, SFlag};
use nix::sys::time::TimeSpec;
use tar::EntryType;

use super::compression::Compression;
use super::entry::{self, Prior};
use super::error::{io_err, LayerError};
use super::meta::Meta;
use super::name::{self, Meaning};
use super::root::{open_at, Root};
use super::stream::{HashingReader, Meter};
use super::whiteout::{self, LayerPaths};
use super::{Limits, Unpacked, WhiteoutMode};

const COPY_BUFFER: usize = 256 * 1024;

struct Unpacker {
    root: Root,
    mode: WhiteoutMode,
    meter: Rc<Meter>,
    /// This layer's paths, for whiteouts to spare them (Apply mode only).
    layer: LayerPaths,
    /// Directories and their times, set at the end: creating entries inside a directory
    /// moves its mtime.
    dirs: Vec<(PathBuf, TimeSpec, TimeSpec)>,
    buf: Vec<u8>,
}

pub(super) fn run(
    layer: impl Read,
    compression: Compression,
    dest: &Path,
    mode: WhiteoutMode,
    limits: &Limits,
) -> Result<Unpacked, LayerError> {
    let root = Root::open(dest).map_err(|e| LayerError::OpenDest {
        path: dest.display().to_string(),
        source: e.into(),
    })?;
    let meter = Meter::new(limits.max_uncompressed);
    let decoder = compression.decoder(layer).map_err(LayerError::Read)?;
    let mut archive = tar::Archive::new(HashingReader::new(decoder, meter.clone()));
    let mut unpacker = Unpacker {
        root,
        mode,
        meter: meter.clone(),
        layer: LayerPaths::default(),
        dirs: Vec::new(),
        buf: vec![0; COPY_BUFFER],
    };
    read_entries(&mut archive, &mut unpacker, limits)?;
    unpacker.finish_dirs()?;
    let (diff_id, size) = archive.into_inner().finish()?;
    Ok(Unpacked { diff_id, size })
}

fn read_entries<R: Read>(
    archive: &mut tar::Archive<R>,
    unpacker: &mut Unpacker,
    limits: &Limits,
) -> Result<(), LayerError> {
    let meter = unpacker.meter.clone();
    let mut entries = archive.entries().map_err(LayerError::Read)?;
    let mut count = 0u64;
    loop {
        meter.enter_header();
        let next = entries.next();
        meter.leave_header();
        let Some(entry) = next else { break };
        let mut entry = entry.map_err(|e| meter.classify(e))?;
        count += 1;
        if count > limits.max_entries {
            return Err(LayerError::TooManyEntries {
                max: limits.max_entries,
            });
        }
        unpacker.entry(&mut entry)?;
        // Whatever the entry carried beyond what was used is read here, so that the next
        // header phase only reads headers.
        io::copy(&mut entry, &mut io::sink()).map_err(|e| meter.classify(e))?;
    }
    Ok(())
}

impl Unpacker {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), LayerError> {
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let Some(kind) = kind_of(entry, &raw, &name)? else {
            return Ok(());
        };
        let invalid = |reason| LayerError::InvalidName {
            name: name.clone(),
            reason,
        };
        let rel = name::parse(&raw).map_err(invalid)?;
        match name::meaning(&rel).map_err(|reason| LayerError::InvalidWhiteout {
            name: name.clone(),
            reason,
        })? {
            Meaning::Whiteout(target) => {
                return whiteout::whiteout(&self.root, self.mode, &self.layer, &rel, &target, &name)
            }
            Meaning::Opaque => {
                return whiteout::opaque(&self.root, self.mode, &self.layer, &rel, &name)
            }
            Meaning::Entry => {}
        }
        if rel.as_os_str().is_empty() {
            // The root itself (`./`): dest's own owner and mode are the caller's to choose.
            return match kind {
                Kind::Dir => Ok(()),
                _ => Err(invalid("names the layer root but is not a directory")),
            };
        }
        let meta = Meta::read(entry, &name)?;
        let (parent_rel, base) = name::split(&rel);
        let parent = self.root.parent_for(parent_rel, &name)?;
        match kind {
            Kind::File => {
                let size = entry.size();
                let fd = entry::regular(
                    &parent,
                    base,
                    entry,
                    size,
                    &mut self.buf,
                    &self.meter,
                    &name,
                )?;
                meta.apply_fd(&fd, &name)?;
                meta.set_times_fd(&fd, &name)?;
            }
            Kind::Dir => {
                let (fd, prior) = entry::directory(&parent, base, &name)?;
                meta.apply_fd(&fd, &name)?;
                if self.mode == WhiteoutMode::Overlay && prior == Prior::Whiteout {
                    // The layer deleted NAME and made a new directory there: in overlayfs
                    // terms that is an opaque directory, or the lower one would show through.
                    whiteout::mark_opaque(&fd, &name)?;
                }
                let (atime, mtime) = meta.times();
                self.dirs.push((rel.clone(), atime, mtime));
            }
            Kind::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                entry::symlink(&parent, base, &target, &name)?;
                meta.apply_at(parent.as_raw_fd(), base, None, &name)?;
            }
            Kind::Hardlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                // A hard link shares its target's inode, whose metadata is the target's.
                entry::hardlink(&self.root, &parent, base, &rel, &target, &name)?;
            }
            Kind::Node(flag) => {
                let (major, minor) = device(entry, &name)?;
                let fd = entry::node(&parent, base, flag, major, minor, &name)?;
                meta.apply_at(parent.as_raw_fd(), base, Some(&fd), &name)?;
            }
        }
        if self.mode == WhiteoutMode::Apply {
            self.layer.insert(&rel);
        }
        Ok(())
    }

    /// Directory times, last: a directory removed or replaced meanwhile is skipped.
    fn finish_dirs(&mut self) -> Result<(), LayerError> {
        for (rel, atime, mtime) in self.dirs.drain(..).rev() {
            let (parent_rel, base) = name::split(&rel);
            let name = rel.display().to_string();
            let Ok(parent) = self.root.open_dir(parent_rel, OFlag::O_PATH) else {
                continue;
            };
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
            let dir = match open_at(parent.as_raw_fd(), base, flags, Mode::empty()) {
                Ok(dir) => dir,
                Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => continue,
                Err(e) => return Err(io_err("open the directory", &name)(e)),
            };
            futimens(dir.as_raw_fd(), &atime, &mtime).map_err(io_err("set times", &name))?;
        }
        Ok(())
    }
}

/// What an entry creates; the tar types Berth can represent.
#[derive(Clone, Copy, Debug)]
enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Node(SFlag),
}

/// The entry's kind, `None` for one to skip, an error for a type that cannot be represented
/// (GNU sparse, volume labels, multi-volume continuations, unknown letters).
fn kind_of<R: Read>(
    entry: &tar::Entry<'_, R>,
    raw: &[u8],
    name: &str,
) -> Result<Option<Kind>, LayerError> {
    let typeflag = entry.header().as_bytes()[156];
    Ok(Some(match entry.header().entry_type() {
        // Pre-POSIX tars mark directories only by a trailing slash.
        EntryType::Regular if typeflag == 0 && raw.ends_with(b"/") => Kind::Dir,
        EntryType::Regular | EntryType::Continuous => Kind::File,
        EntryType::Directory => Kind::Dir,
        EntryType::Symlink => Kind::Symlink,
        EntryType::Link => Kind::Hardlink,
        EntryType::Char => Kind::Node(SFlag::S_IFCHR),
        EntryType::Block => Kind::Node(SFlag::S_IFBLK),
        EntryType::Fifo => Kind::Node(SFlag::S_IFIFO),
        // Global PAX records carry nothing Berth applies (and the tar crate does not apply
        // them either); skipping them keeps a layer from meaning two things.
        EntryType::XGlobalHeader => return Ok(None),
        other => {
            return Err(LayerError::UnsupportedType {
                name: name.to_string(),
                kind: char::from(other.as_byte()),
            })
        }
    }))
}

/// Device numbers; absent ones (fifos, old headers) are 0.
fn device<R: Read>(entry: &tar::Entry<'_, R>, name: &str) -> Result<(u32, u32), LayerError> {
    let bad = |field| LayerError::BadHeader {
        name: name.to_string(),
        field,
    };
    let header = entry.header();
    let major = header
        .device_major()
        .map_err(|_| bad("device major"))?
        .unwrap_or(0);
    let minor = header
        .device_minor()
        .map_err(|_| bad("device minor"))?
        .unwrap_or(0);
    Ok((major, minor))
}
