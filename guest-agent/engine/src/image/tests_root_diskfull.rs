//! Disk full (root: mounts a small tmpfs as the store's root): an import that runs out of
//! space while writing blobs, and a layer unpack that runs out of space, fail with an error
//! that says so and names what was being done, leave no partial blob, layer, image or
//! temporary file, and succeed once space is freed.

use std::error::Error;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::image::import::{import_path, ImportOptions};
use crate::image::layers::LayerStore;
use crate::image::store::Store;

/// A tmpfs mounted on a fresh directory, unmounted (lazily, so a failed test still
/// cleans up) when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        assert!(
            nix::unistd::geteuid().is_root(),
            "needs root (CI runs as root)"
        );
        let dir = tempfile::Builder::new()
            .prefix("diskfull")
            .tempdir_in("/tmp")
            .unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount tmpfs: {status}");
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the filesystem of `dir` until a write fails with ENOSPC, then gives back
/// `spare` bytes. Returns the filler's path.
fn fill(dir: &Path, spare: u64) -> PathBuf {
    let path = dir.join("filler");
    let mut file = File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOSPC) => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    file.set_len(written.saturating_sub(spare)).unwrap();
    path
}

/// The whole message chain of an error, outermost first.
fn chain(e: &dyn Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// berth/hello's OCI layout, built outside the tmpfs.
fn hello_layout(dir: &Path) -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../images/hello/build");
    let out = dir.join("hello-build");
    let status = Command::new(&script).arg(&out).output().unwrap();
    assert!(status.status.success(), "{status:?}");
    out.join("oci")
}

fn assert_no_space(err: &dyn Error, doing: &str) {
    let text = chain(err);
    let enospc = io::Error::from_raw_os_error(nix::libc::ENOSPC).to_string();
    assert!(text.contains(&enospc), "not ENOSPC: {text}");
    assert!(text.contains(doing), "does not say {doing:?}: {text}");
}

#[test]
fn root_import_into_a_full_disk_fails_cleanly_and_succeeds_after_freeing_space() {
    let build = tempfile::tempdir().unwrap();
    let layout = hello_layout(build.path());
    let disk = Tmpfs::mount("8m");
    let root = disk.path().join("root");
    let store = Store::open(&root).unwrap();
    // Less than the ~1 MiB gzip layer: the blob write runs out of space.
    let filler = fill(disk.path(), 256 * 1024);

    let err = import_path(&store, &layout, &ImportOptions::default()).unwrap_err();
    assert_no_space(&err, "blob storage");
    assert!(names(&root.join("blobs/sha256")).is_empty());
    assert!(
        names(&root.join("blobs/.tmp")).is_empty(),
        "temp files left"
    );
    assert!(store.images().unwrap().is_empty());
    assert!(store.resolve("berth/hello").is_err());
    let stray: Vec<String> = names(&root).into_iter().filter(|n| n != "blobs").collect();
    assert!(
        stray.iter().all(|n| n == "images.json"),
        "stray files: {stray:?}"
    );

    fs::remove_file(filler).unwrap();
    import_path(&store, &layout, &ImportOptions::default()).unwrap();
    assert!(store.resolve("berth/hello").is_ok());
    assert!(names(&root.join("blobs/.tmp")).is_empty());
}

#[test]
fn root_a_layer_unpack_on_a_full_disk_fails_cleanly_and_succeeds_after_freeing_space() {
    let build = tempfile::tempdir().unwrap();
    let layout = hello_layout(build.path());
    let disk = Tmpfs::mount("8m");
    let root = disk.path().join("root");
    let store = Store::open(&root).unwrap();
    import_path(&store, &layout, &ImportOptions::default()).unwrap();
    let image = store.resolve("berth/hello").unwrap();
    let layers = LayerStore::open(&root).unwrap();
    // Less than the ~1.9 MiB the layer unpacks to.
    let filler = fill(disk.path(), 256 * 1024);

    let err = layers.ensure(&store, &image).unwrap_err();
    assert_no_space(&err, "Cannot unpack layer sha256:");
    let layer_dir = root.join("layers");
    assert_eq!(names(&layer_dir), [".lock", ".locks", ".tmp"]);
    assert!(names(&layer_dir.join(".tmp")).is_empty(), "temp dirs left");
    assert!(layers.list().unwrap().is_empty());

    fs::remove_file(filler).unwrap();
    let lowers = layers.ensure(&store, &image).unwrap();
    assert_eq!(lowers.len(), 1);
    assert!(lowers[0].join("bin/busybox").is_file());
    assert!(names(&layer_dir.join(".tmp")).is_empty());
}
