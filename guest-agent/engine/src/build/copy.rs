//! COPY and ADD as one tar: each source arrives as a tar rooted at its base name (from the
//! context through `archive::get`, or from another stage's image), its entries are renamed
//! below the destination (a directory's content goes into it; a file into it or onto it),
//! owners set by `--chown`, modes by `--chmod`. A local archive given to ADD contributes its
//! entries instead. The result is extracted into the container's root by `archive::put`,
//! which resolves every name inside the root.
//!
//! The content hash (names, types, modes, owners, link targets and data, not times) is the
//! cache key of the step.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

use crate::image::layer::Compression;

/// Owner and mode overrides.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub owner: Option<(u32, u32)>,
    pub mode: Option<u32>,
}

/// The combined tar being assembled.
pub struct Assembly {
    tar: tar::Builder<File>,
    hasher: Sha256,
    overrides: Overrides,
}

impl std::fmt::Debug for Assembly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembly").finish_non_exhaustive()
    }
}

impl Assembly {
    pub fn new(tmp: &Path, overrides: Overrides) -> io::Result<Assembly> {
        Ok(Assembly {
            tar: tar::Builder::new(tempfile::tempfile_in(tmp)?),
            hasher: Sha256::new(),
            overrides,
        })
    }

    /// An explicit directory entry (a destination that does not exist yet).
    pub fn add_dir(&mut self, dest: &str) -> io::Result<()> {
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        header.set_uid(0);
        header.set_gid(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        header.set_mtime(now);
        if let Some((uid, gid)) = self.overrides.owner {
            header.set_uid(u64::from(uid));
            header.set_gid(u64::from(gid));
        }
        self.hash_header(&header, Path::new(dest), None);
        self.tar.append_data(&mut header, rel(dest), io::empty())
    }

    /// Adds the entries of `source`, a tar rooted at the source's base name, below `dest`
    /// (`into_dir`: dest is a directory to copy into; else the source's own name becomes
    /// `dest`).
    pub fn add_source(&mut self, source: impl Read, dest: &str, into_dir: bool) -> io::Result<()> {
        let mut archive = tar::Archive::new(source);
        for entry in archive.entries()? {
            let entry = entry?;
            let path = entry.path()?.into_owned();
            // The context root itself comes as `./...`: no base name to strip.
            let at_root = matches!(path.components().next(), Some(Component::CurDir));
            let mut parts = path
                .components()
                .filter(|c| matches!(c, Component::Normal(_)));
            let base = if at_root { None } else { parts.next() };
            let rest: PathBuf = parts.collect();
            if at_root && rest.as_os_str().is_empty() {
                continue;
            }
            let Some(base) = base.or(Some(Component::CurDir)) else {
                continue;
            };
            let is_dir = entry.header().entry_type() == EntryType::Directory;
            let name = if rest.as_os_str().is_empty() {
                if is_dir {
                    // The source directory itself: its content goes into dest.
                    continue;
                }
                if into_dir {
                    Path::new(dest).join(base)
                } else {
                    PathBuf::from(dest)
                }
            } else {
                Path::new(dest).join(rest)
            };
            self.append(entry, &name, |link| {
                // Hard links name the first path of the inode in the same tar.
                let mut parts = link
                    .components()
                    .filter(|c| matches!(c, Component::Normal(_)));
                if !at_root {
                    parts.next();
                }
                let rest: PathBuf = parts.collect();
                if rest.as_os_str().is_empty() {
                    PathBuf::from(dest)
                } else {
                    Path::new(dest).join(rest)
                }
            })?;
        }
        Ok(())
    }

    /// Adds the entries of a local archive (ADD), extracted into the directory `dest`.
    pub fn add_archive(&mut self, archive: impl Read, dest: &str) -> io::Result<()> {
        let mut archive = tar::Archive::new(archive);
        for entry in archive.entries()? {
            let entry = entry?;
            let path = entry.path()?.into_owned();
            let cleaned = berth_runtime::rootfs::safe_path::clean(&path);
            if cleaned.as_os_str().is_empty() {
                continue;
            }
            let name = Path::new(dest).join(cleaned);
            self.append(entry, &name, |link| {
                Path::new(dest).join(berth_runtime::rootfs::safe_path::clean(link))
            })?;
        }
        Ok(())
    }

    fn append<R: Read>(
        &mut self,
        mut entry: tar::Entry<'_, R>,
        name: &Path,
        hard_link: impl Fn(&Path) -> PathBuf,
    ) -> io::Result<()> {
        let mut header = entry.header().clone();
        if let Some((uid, gid)) = self.overrides.owner {
            header.set_uid(u64::from(uid));
            header.set_gid(u64::from(gid));
        }
        let kind = header.entry_type();
        if let Some(mode) = self.overrides.mode {
            if kind != EntryType::Symlink {
                header.set_mode(mode);
            }
        }
        let link = entry.link_name()?.map(|l| l.into_owned());
        match kind {
            EntryType::Symlink => {
                let target = link.unwrap_or_default();
                self.hash_header(&header, name, Some(&target));
                self.tar.append_link(&mut header, rel_path(name), target)
            }
            EntryType::Link => {
                let target = hard_link(&link.unwrap_or_default());
                self.hash_header(&header, name, Some(&target));
                self.tar
                    .append_link(&mut header, rel_path(name), rel_path(&target))
            }
            _ => {
                self.hash_header(&header, name, None);
                // Data is hashed as it streams into the tar.
                let mut hashing = HashingReader {
                    inner: &mut entry,
                    hasher: &mut self.hasher,
                };
                if kind == EntryType::Regular || kind == EntryType::Continuous {
                    self.tar
                        .append_data(&mut header, rel_path(name), &mut hashing)
                } else {
                    self.tar
                        .append_data(&mut header, rel_path(name), io::empty())
                }
            }
        }
    }

    fn hash_header(&mut self, header: &Header, name: &Path, link: Option<&Path>) {
        let text = format!(
            "{}\0{:?}\0{:o}\0{}:{}\0{}\0{}\0",
            name.display(),
            header.entry_type(),
            header.mode().unwrap_or(0),
            header.uid().unwrap_or(0),
            header.gid().unwrap_or(0),
            header.size().unwrap_or(0),
            link.map(|l| l.display().to_string()).unwrap_or_default(),
        );
        self.hasher.update(text.as_bytes());
    }

    /// The finished tar, rewound, and the content hash.
    pub fn finish(self) -> io::Result<(File, String)> {
        let mut file = self.tar.into_inner()?;
        file.flush()?;
        file.seek(SeekFrom::Start(0))?;
        Ok((file, hex::encode(self.hasher.finalize())))
    }
}

struct HashingReader<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn rel(dest: &str) -> PathBuf {
    rel_path(Path::new(dest))
}

/// Names in the combined tar are relative to the container root.
fn rel_path(path: &Path) -> PathBuf {
    let cleaned = berth_runtime::rootfs::safe_path::clean(path);
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

/// Whether `file` holds a tar archive (plain, gzip or zstd), for ADD's auto-extraction;
/// the file is rewound either way.
pub fn is_archive(file: &mut File) -> io::Result<bool> {
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    let compression = Compression::sniff(&magic[..n]);
    let mut head = vec![0u8; 512];
    let mut decoder = compression.decoder(&mut *file)?;
    let mut got = 0;
    while got < head.len() {
        match decoder.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(_) => break,
        }
    }
    drop(decoder);
    file.seek(SeekFrom::Start(0))?;
    Ok(got == 512 && &head[257..262] == b"ustar")
}

/// A decompressing reader over an archive file.
pub fn open_archive(file: File) -> io::Result<Box<dyn Read>> {
    let mut file = file;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    let compression = Compression::sniff(&magic[..n]);
    Ok(Box::new(compression.decoder(file)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = Header::new_gnu();
            if name.ends_with('/') {
                h.set_entry_type(EntryType::Directory);
                h.set_mode(0o755);
            } else {
                h.set_mode(0o644);
            }
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn names(file: File) -> Vec<(String, u64)> {
        let mut a = tar::Archive::new(file);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().uid().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn sources_are_renamed_below_the_destination() {
        let tmp = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            owner: Some((7, 8)),
            mode: None,
        };
        let mut a = Assembly::new(tmp.path(), overrides).unwrap();
        a.add_source(&source(&[("dir/", b""), ("dir/a", b"x")])[..], "/app", true)
            .unwrap();
        a.add_source(&source(&[("f", b"y")])[..], "/app/", true)
            .unwrap();
        a.add_source(&source(&[("f", b"y")])[..], "/renamed", false)
            .unwrap();
        let (file, hash) = a.finish().unwrap();
        assert_eq!(
            names(file),
            [
                ("app/a".to_string(), 7),
                ("app/f".to_string(), 7),
                ("renamed".to_string(), 7)
            ]
        );
        let mut b = Assembly::new(tmp.path(), Overrides::default()).unwrap();
        b.add_source(&source(&[("dir/", b""), ("dir/a", b"z")])[..], "/app", true)
            .unwrap();
        assert_ne!(b.finish().unwrap().1, hash);
    }
}
