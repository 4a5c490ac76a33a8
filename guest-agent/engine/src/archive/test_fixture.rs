//! A container root next to a "host" directory, for the breakout tests: whatever a test reads
//! or writes must stay inside `root`, and `host/SENTINEL` must be neither read nor touched.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

pub(super) const HOST_CONTENT: &[u8] = b"HOST SECRET";
pub(super) const ROOT_CONTENT: &[u8] = b"container file";

#[derive(Debug)]
pub(super) struct Fixture {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub host: PathBuf,
}

impl Fixture {
    /// `root/` with `sentinel` of its own, `host/sentinel` beside it, and in the root the
    /// escape attempts `up -> ../../..`, `slash -> /`, `hostabs -> <host dir>`.
    pub(super) fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let host = tmp.path().join("host");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&host).unwrap();
        fs::write(host.join("sentinel"), HOST_CONTENT).unwrap();
        fs::write(root.join("sentinel"), ROOT_CONTENT).unwrap();
        symlink("../../..", root.join("up")).unwrap();
        symlink("/", root.join("slash")).unwrap();
        symlink(&host, root.join("hostabs")).unwrap();
        Fixture {
            _tmp: tmp,
            root,
            host,
        }
    }

    pub(super) fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The host directory holds exactly its sentinel, unchanged.
    pub(super) fn assert_host_untouched(&self) {
        let names: Vec<_> = fs::read_dir(&self.host)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("sentinel")],
            "host dir changed"
        );
        assert_eq!(fs::read(self.host.join("sentinel")).unwrap(), HOST_CONTENT);
    }
}

/// Every (name, type, content) in a tar.
pub(super) fn entries(tar: &[u8]) -> Vec<(String, tar::EntryType, Vec<u8>)> {
    let mut archive = tar::Archive::new(tar);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        out.push((name, kind, data));
    }
    out
}

pub(super) fn names(tar: &[u8]) -> Vec<String> {
    entries(tar).into_iter().map(|(n, _, _)| n).collect()
}

/// True if some regular file in the tar carries the host's secret.
pub(super) fn leaks_host(tar: &[u8]) -> bool {
    entries(tar).iter().any(|(_, _, data)| data == HOST_CONTENT)
}

pub(super) fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}
