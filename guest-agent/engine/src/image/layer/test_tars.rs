//! Test support: layers built in memory, including shapes the `tar` crate's Builder refuses
//! to write (absolute names, `..`), and a sandbox whose sentinel directory next to dest must
//! come out of every unpack untouched.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::{unpack, Compression, LayerError, Limits, Unpacked, WhiteoutMode};

pub(super) const MTIME: u64 = 1_600_000_000;

/// A layer under construction. Names and link targets go into the header bytes as given.
pub(super) struct Layer {
    builder: tar::Builder<Vec<u8>>,
    uid: u64,
    gid: u64,
    mtime: u64,
}

impl Layer {
    pub(super) fn new() -> Self {
        Layer {
            builder: tar::Builder::new(Vec::new()),
            uid: 0,
            gid: 0,
            mtime: MTIME,
        }
    }

    /// Owner of the entries added next.
    pub(super) fn owner(mut self, uid: u64, gid: u64) -> Self {
        (self.uid, self.gid) = (uid, gid);
        self
    }

    /// mtime of the entries added next.
    pub(super) fn mtime(mut self, mtime: u64) -> Self {
        self.mtime = mtime;
        self
    }

    pub(super) fn dir(self, name: &str, mode: u32) -> Self {
        self.raw(EntryType::Directory, name.as_bytes(), b"", b"", mode, &[])
    }

    pub(super) fn file(self, name: &str, data: &[u8], mode: u32) -> Self {
        self.raw(EntryType::Regular, name.as_bytes(), b"", data, mode, &[])
    }

    pub(super) fn symlink(self, name: &str, target: &str) -> Self {
        let (name, target) = (name.as_bytes(), target.as_bytes());
        self.raw(EntryType::Symlink, name, target, b"", 0o777, &[])
    }

    pub(super) fn hardlink(self, name: &str, target: &str) -> Self {
        let (name, target) = (name.as_bytes(), target.as_bytes());
        self.raw(EntryType::Link, name, target, b"", 0o644, &[])
    }

    pub(super) fn node(
        self,
        name: &str,
        kind: EntryType,
        major: u32,
        minor: u32,
        mode: u32,
    ) -> Self {
        let mut layer = self;
        let mut header = layer.header(kind, name.as_bytes(), b"", 0, mode);
        header.set_device_major(major).unwrap();
        header.set_device_minor(minor).unwrap();
        header.set_cksum();
        layer.builder.append(&header, &b""[..]).unwrap();
        layer
    }

    /// Any entry; `pax` records precede it. Names longer than the header field go to PAX.
    pub(super) fn raw(
        mut self,
        kind: EntryType,
        name: &[u8],
        link: &[u8],
        data: &[u8],
        mode: u32,
        pax: &[(&str, &[u8])],
    ) -> Self {
        let mut records: Vec<(&str, &[u8])> = pax.to_vec();
        if name.len() > 100 {
            records.push(("path", name));
        }
        if link.len() > 100 {
            records.push(("linkpath", link));
        }
        if !records.is_empty() {
            self.builder.append_pax_extensions(records).unwrap();
        }
        let header = self.header(kind, name, link, data.len() as u64, mode);
        self.builder.append(&header, data).unwrap();
        self
    }

    fn header(&self, kind: EntryType, name: &[u8], link: &[u8], size: u64, mode: u32) -> Header {
        let mut header = Header::new_gnu();
        let old = header.as_old_mut();
        let n = name.len().min(100);
        old.name[..n].copy_from_slice(&name[..n]);
        let l = link.len().min(100);
        old.linkname[..l].copy_from_slice(&link[..l]);
        header.set_entry_type(kind);
        if kind == EntryType::GNUSparse {
            // A well-formed sparse header, so that the unpacker (not the parser) judges it.
            header.as_gnu_mut().unwrap().set_real_size(size);
        }
        header.set_size(size);
        header.set_mode(mode);
        header.set_uid(self.uid);
        header.set_gid(self.gid);
        header.set_mtime(self.mtime);
        header.set_cksum();
        header
    }

    pub(super) fn tar(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub(super) fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).unwrap()
}

/// Unpacks a plain tar with default limits.
pub(super) fn apply(dest: &Path, tar: &[u8], mode: WhiteoutMode) -> Result<Unpacked, LayerError> {
    unpack(tar, Compression::None, dest, mode, &Limits::default())
}

/// A temporary base holding `dest/` (empty) and `sentinel/` (a file, a directory, a
/// symlink), whose state is recorded so that `assert_untouched` can compare.
pub(super) struct Sandbox {
    _base: tempfile::TempDir,
    pub base: PathBuf,
    pub dest: PathBuf,
    pub sentinel: PathBuf,
    before: BTreeMap<PathBuf, String>,
}

impl Sandbox {
    pub(super) fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().to_path_buf();
        let dest = base.join("dest");
        let sentinel = base.join("sentinel");
        std::fs::create_dir(&dest).unwrap();
        std::fs::create_dir_all(sentinel.join("dir")).unwrap();
        std::fs::write(sentinel.join("keep"), "sentinel").unwrap();
        std::fs::set_permissions(
            sentinel.join("keep"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        std::fs::write(sentinel.join("dir/inner"), "inner").unwrap();
        std::os::unix::fs::symlink("keep", sentinel.join("link")).unwrap();
        let before = snapshot(&base, &["sentinel"]);
        Sandbox {
            _base: tmp,
            base,
            dest,
            sentinel,
            before,
        }
    }

    /// The sentinel's absolute path plus `rest`, as a hostile layer would name it.
    pub(super) fn outside(&self, rest: &str) -> String {
        format!("{}{rest}", self.sentinel.display())
    }

    pub(super) fn assert_untouched(&self) {
        let names: Vec<_> = std::fs::read_dir(&self.base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "something appeared next to dest: {names:?}");
        assert_eq!(
            snapshot(&self.base, &["sentinel"]),
            self.before,
            "the sentinel changed"
        );
    }
}

/// Every path below `base/<dirs>` with its type, mode, owner, times and content.
pub(super) fn snapshot(base: &Path, dirs: &[&str]) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| base.join(d)).collect();
    while let Some(path) = stack.pop() {
        let md = std::fs::symlink_metadata(&path).unwrap();
        let content = if md.is_file() {
            String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()
        } else if md.file_type().is_symlink() {
            std::fs::read_link(&path).unwrap().display().to_string()
        } else {
            String::new()
        };
        let line = format!(
            "{:o} {}:{} {} {} {content}",
            md.mode(),
            md.uid(),
            md.gid(),
            md.mtime(),
            md.nlink()
        );
        if md.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        }
        out.insert(path.strip_prefix(base).unwrap().to_path_buf(), line);
    }
    out
}

/// lgetxattr(2) for the assertions.
pub(super) fn get_xattr(path: &Path, key: &str) -> Option<Vec<u8>> {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    let key = CString::new(key).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: both strings are NUL-terminated and buf has buf.len() writable bytes.
    let n = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            key.as_ptr(),
            buf.as_mut_ptr().cast::<libc::c_void>(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).ok()?;
    buf.truncate(n);
    Some(buf)
}
