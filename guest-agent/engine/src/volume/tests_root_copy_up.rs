//! Copy-up of image content into an empty volume: once, inside the image rootfs, links kept.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{VolumeError, VolumeStore};

struct Image {
    _tmp: tempfile::TempDir,
    rootfs: PathBuf,
}

/// An image rootfs with `/data` (0750, 1000:1000) holding a file, a subdirectory, a hard
/// link, an xattr and symlinks aiming at the host's /etc.
fn image() -> Image {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    let data = rootfs.join("data");
    fs::create_dir_all(data.join("sub")).unwrap();
    fs::write(data.join("file"), b"image content").unwrap();
    // chown clears setuid, so it comes first.
    std::os::unix::fs::chown(data.join("file"), Some(1234), Some(4321)).unwrap();
    fs::set_permissions(data.join("file"), fs::Permissions::from_mode(0o4711)).unwrap();
    fs::write(data.join("sub/nested"), b"nested").unwrap();
    fs::hard_link(data.join("file"), data.join("file-link")).unwrap();
    symlink("/etc", data.join("etc-abs")).unwrap();
    symlink("../../../../../../etc", data.join("etc-rel")).unwrap();
    set_xattr(&data.join("sub/nested"), "user.berth.test", b"kept");
    fs::set_permissions(&data, fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::chown(&data, Some(1000), Some(1000)).unwrap();
    // `/conf -> /etc` inside the image, whose own /etc has one file.
    fs::create_dir_all(rootfs.join("etc")).unwrap();
    fs::write(rootfs.join("etc/app.conf"), b"image etc").unwrap();
    symlink("/etc", rootfs.join("conf")).unwrap();
    Image { _tmp: tmp, rootfs }
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) {
    let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: both strings are NUL-terminated and value has value.len() readable bytes.
    let rc = unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
}

fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let name = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: both strings are NUL-terminated and buf has buf.len() writable bytes.
    let n = unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn image_content_is_copied_once_with_metadata_and_links() {
    let img = image();
    let tmp = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(tmp.path()).unwrap();
    let vol = store
        .create(Some("appdata"), "local", BTreeMap::new())
        .unwrap();
    assert!(store
        .copy_up("appdata", &img.rootfs, Path::new("/data"))
        .unwrap());

    let data = &vol.mountpoint;
    assert_eq!(
        names(data),
        ["etc-abs", "etc-rel", "file", "file-link", "sub"]
    );
    assert_eq!(fs::read(data.join("file")).unwrap(), b"image content");
    let file = fs::metadata(data.join("file")).unwrap();
    assert_eq!(file.mode() & 0o7777, 0o4711);
    assert_eq!((file.uid(), file.gid()), (1234, 4321));
    assert_eq!(
        file.ino(),
        fs::metadata(data.join("file-link")).unwrap().ino()
    );
    assert_eq!(fs::read(data.join("sub/nested")).unwrap(), b"nested");
    assert_eq!(
        get_xattr(&data.join("sub/nested"), "user.berth.test").unwrap(),
        b"kept"
    );
    // The volume root looks like the image directory.
    let root = fs::metadata(data).unwrap();
    assert_eq!(root.mode() & 0o7777, 0o750);
    assert_eq!((root.uid(), root.gid()), (1000, 1000));
    // Links to the host's /etc are copied as links, never as the host's files.
    assert_eq!(
        fs::read_link(data.join("etc-abs")).unwrap(),
        Path::new("/etc")
    );
    assert!(fs::symlink_metadata(data.join("etc-rel"))
        .unwrap()
        .file_type()
        .is_symlink());

    // Never again: not after the volume was emptied, not with new image content.
    fs::remove_dir_all(data.join("sub")).unwrap();
    for name in ["etc-abs", "etc-rel", "file", "file-link"] {
        fs::remove_file(data.join(name)).unwrap();
    }
    fs::write(img.rootfs.join("data/later"), b"later").unwrap();
    assert!(!store
        .copy_up("appdata", &img.rootfs, Path::new("/data"))
        .unwrap());
    assert!(names(data).is_empty());
}

#[test]
fn a_target_through_an_image_symlink_resolves_inside_the_image() {
    let img = image();
    let tmp = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(tmp.path()).unwrap();
    let vol = store
        .create(Some("conf"), "local", BTreeMap::new())
        .unwrap();
    // `/conf -> /etc` is the image's /etc: one file, none of the host's.
    assert!(store
        .copy_up("conf", &img.rootfs, Path::new("/conf"))
        .unwrap());
    assert_eq!(names(&vol.mountpoint), ["app.conf"]);
    // `..` cannot climb out of the image either.
    let vol2 = store
        .create(Some("climb"), "local", BTreeMap::new())
        .unwrap();
    assert!(store
        .copy_up("climb", &img.rootfs, Path::new("/../../../conf"))
        .unwrap());
    assert_eq!(names(&vol2.mountpoint), ["app.conf"]);
}

#[test]
fn nothing_is_copied_into_a_volume_with_content_or_from_a_missing_path() {
    let img = image();
    let tmp = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(tmp.path()).unwrap();
    let vol = store
        .create(Some("full"), "local", BTreeMap::new())
        .unwrap();
    fs::write(vol.mountpoint.join("mine"), b"user data").unwrap();
    assert!(!store
        .copy_up("full", &img.rootfs, Path::new("/data"))
        .unwrap());
    assert_eq!(names(&vol.mountpoint), ["mine"]);

    let empty = store
        .create(Some("empty"), "local", BTreeMap::new())
        .unwrap();
    assert!(!store
        .copy_up("empty", &img.rootfs, Path::new("/missing"))
        .unwrap());
    assert!(!store
        .copy_up("empty", &img.rootfs, Path::new("/data/file"))
        .unwrap());
    // No copy happened, so a later mount over a real directory still copies.
    assert!(store
        .copy_up("empty", &img.rootfs, Path::new("/data/sub"))
        .unwrap());
    assert_eq!(names(&empty.mountpoint), ["nested"]);

    let err = store
        .copy_up("ghost", &img.rootfs, Path::new("/data"))
        .unwrap_err();
    assert!(matches!(err, VolumeError::NotFound(_)), "{err}");
}
