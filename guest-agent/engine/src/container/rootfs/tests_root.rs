//! Container root tests (root: they mount overlayfs). Each mount is undone by a guard, so
//! a failing assertion does not leave mounts behind.

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};

use super::{create_dirs, mount, unmount, RootfsError};
use crate::image::layers::test_images::{hello, image, layer_tar, store};
use crate::image::layers::LayerStore;

/// Unmounts on drop.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = unmount(&self.0);
    }
}

/// The mount options of whatever is mounted at `target`, if anything.
fn mounted_options(target: &Path) -> Option<String> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let target = target.to_str().unwrap();
    info.lines().rev().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        (fields[4] == target).then(|| fields.last().unwrap().to_string())
    })
}

/// A container directory with upper/work and an empty mount target.
fn container(dir: &Path) -> (super::RootfsDirs, PathBuf) {
    let dirs = create_dirs(&dir.join("containers/c1")).unwrap();
    let target = dir.join("containers/c1/rootfs");
    fs::create_dir_all(&target).unwrap();
    (dirs, target)
}

#[test]
fn root_hello_root_shows_the_image_and_keeps_writes_in_upper() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let hello = hello(dir.path(), &store);
    let lowers = LayerStore::open(store.root())
        .unwrap()
        .ensure(&store, &hello)
        .unwrap();
    let (dirs, target) = container(dir.path());

    mount(&lowers, &dirs.upper, &dirs.work, &target).unwrap();
    let guard = Mounted(target.clone());
    assert!(mounted_options(&target).unwrap().contains("lowerdir="));
    assert!(target.join("bin/busybox").is_file());
    let page = fs::read_to_string(target.join("var/www/index.html")).unwrap();
    assert!(page.contains("<html") || page.contains("<!"), "{page}");

    fs::write(target.join("hello.txt"), b"written in the container").unwrap();
    fs::write(target.join("var/www/index.html"), b"changed").unwrap();
    assert_eq!(
        fs::read(dirs.upper.join("hello.txt")).unwrap(),
        b"written in the container"
    );
    assert_eq!(
        fs::read(dirs.upper.join("var/www/index.html")).unwrap(),
        b"changed"
    );
    assert!(!lowers[0].join("hello.txt").exists());
    assert_eq!(
        fs::read_to_string(lowers[0].join("var/www/index.html")).unwrap(),
        page
    );

    drop(guard);
    assert_eq!(mounted_options(&target), None);
    assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
    assert!(!unmount(&target).unwrap(), "a second unmount finds nothing");
}

#[test]
fn root_a_whiteout_in_a_higher_layer_hides_the_lower_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let lower = layer_tar(&[("a", b"a"), ("keep", b"k"), ("d/inner", b"i")]);
    let upper = layer_tar(&[(".wh.a", b""), ("d/.wh..wh..opq", b""), ("d/new", b"n")]);
    let img = image(&store, dir.path(), "test/whiteout", &[lower, upper]);
    let lowers = LayerStore::open(store.root())
        .unwrap()
        .ensure(&store, &img)
        .unwrap();
    let (dirs, target) = container(dir.path());

    mount(&lowers, &dirs.upper, &dirs.work, &target).unwrap();
    let _guard = Mounted(target.clone());
    assert!(!target.join("a").exists());
    assert_eq!(fs::read(target.join("keep")).unwrap(), b"k");
    // The opaque directory shows only the upper layer's content.
    let inside: Vec<_> = fs::read_dir(target.join("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(inside, ["new"]);
    // The lower layer itself is untouched: the file is hidden, not deleted.
    assert_eq!(fs::read(lowers[1].join("a")).unwrap(), b"a");

    // A deletion in the container becomes a whiteout in its upper directory.
    fs::remove_file(target.join("keep")).unwrap();
    let wh = fs::symlink_metadata(dirs.upper.join("keep")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert!(lowers[1].join("keep").is_file());
}

/// `count` layer directories with long names, each holding `layer-<i>` and a shared
/// `which` naming the layer; returned top-most (highest i) first.
fn many_layers(dir: &Path, count: usize) -> Vec<PathBuf> {
    let base = dir.join("layers-with-a-long-name-to-fill-the-mount-option-page-quickly");
    let mut out: Vec<PathBuf> = (0..count)
        .map(|i| {
            let diff = base.join(format!("{i:064}")).join("diff");
            fs::create_dir_all(&diff).unwrap();
            fs::write(diff.join(format!("layer-{i}")), b"").unwrap();
            fs::write(diff.join("which"), i.to_string()).unwrap();
            diff
        })
        .collect();
    out.reverse();
    out
}

#[test]
fn root_layers_past_the_option_page_mount_through_fd_paths() {
    let dir = tempfile::tempdir().unwrap();
    let lowers = many_layers(dir.path(), 60);
    let absolute: usize = lowers.iter().map(|p| p.as_os_str().len() + 1).sum();
    assert!(
        absolute > 4096,
        "the test must overflow one page ({absolute} bytes)"
    );
    let (dirs, target) = container(dir.path());

    mount(&lowers, &dirs.upper, &dirs.work, &target).unwrap();
    let _guard = Mounted(target.clone());
    assert!(mounted_options(&target).unwrap().contains("/proc/self/fd/"));
    assert!(target.join("layer-0").exists() && target.join("layer-59").exists());
    assert_eq!(fs::read_to_string(target.join("which")).unwrap(), "59");
}

#[test]
fn root_hundreds_of_layers_mount_through_the_mount_api() {
    let dir = tempfile::tempdir().unwrap();
    let lowers = many_layers(dir.path(), 260);
    let (dirs, target) = container(dir.path());

    match mount(&lowers, &dirs.upper, &dirs.work, &target) {
        Ok(()) => {
            let _guard = Mounted(target.clone());
            assert!(mounted_options(&target).unwrap().contains("lowerdir+="));
            assert!(target.join("layer-0").exists() && target.join("layer-259").exists());
            assert_eq!(fs::read_to_string(target.join("which")).unwrap(), "259");
        }
        // A kernel without lowerdir+ (before 6.8) must say so rather than fail obscurely.
        Err(e @ RootfsError::TooManyLayers { .. }) => {
            assert!(e.to_string().contains("260 layers") && e.to_string().contains("lowerdir+"));
            assert_eq!(mounted_options(&target), None);
        }
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn root_an_image_without_layers_is_its_upper_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (dirs, target) = container(dir.path());
    mount(&[], &dirs.upper, &dirs.work, &target).unwrap();
    let _guard = Mounted(target.clone());
    fs::create_dir(target.join("etc")).unwrap();
    fs::write(target.join("etc/hostname"), b"c1\n").unwrap();
    assert_eq!(fs::read(dirs.upper.join("etc/hostname")).unwrap(), b"c1\n");
}

#[test]
fn paths_overlayfs_would_misread_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (dirs, target) = container(dir.path());
    for (name, what) in [
        ("a:b", "colon"),
        ("a,upperdir=x", "comma"),
        ("a\\b", "backslash"),
    ] {
        let lower = dir.path().join(name);
        fs::create_dir_all(&lower).unwrap();
        let err = mount(&[lower], &dirs.upper, &dirs.work, &target).unwrap_err();
        assert!(matches!(err, RootfsError::BadPath { .. }), "{err:?}");
        assert!(err.to_string().contains(what), "{err}");
        assert_eq!(mounted_options(&target), None);
    }
    let err = mount(
        &[PathBuf::from("relative")],
        &dirs.upper,
        &dirs.work,
        &target,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no leading /"), "{err}");
}

#[test]
fn create_dirs_is_idempotent_and_refuses_a_symlinked_upper() {
    let dir = tempfile::tempdir().unwrap();
    let first = create_dirs(&dir.path().join("c")).unwrap();
    fs::write(first.upper.join("kept"), b"").unwrap();
    let again = create_dirs(&dir.path().join("c")).unwrap();
    assert_eq!(first, again);
    assert!(
        again.upper.join("kept").exists(),
        "existing content survives"
    );

    let evil = dir.path().join("evil");
    fs::create_dir_all(&evil).unwrap();
    symlink("/etc", evil.join("upper")).unwrap();
    let err = create_dirs(&evil).unwrap_err();
    assert!(err.to_string().contains("evil/upper"), "{err}");
}
