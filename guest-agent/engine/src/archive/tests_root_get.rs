//! `get`: tars of files and directories named as docker names them, and symlinks that try to
//! lead the copy out of the root.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use tar::EntryType;

use super::test_fixture::{entries, leaks_host, names, Fixture, ROOT_CONTENT};
use super::{get, open, ArchiveError};

fn tar_of(fx: &Fixture, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    get(&fx.root, Path::new(path), &mut out).unwrap();
    out
}

#[test]
fn a_file_is_one_entry_named_by_its_base_name() {
    let fx = Fixture::new();
    fs::create_dir(fx.path("etc")).unwrap();
    fs::write(fx.path("etc/hosts"), b"127.0.0.1 localhost\n").unwrap();
    fs::set_permissions(fx.path("etc/hosts"), fs::Permissions::from_mode(0o604)).unwrap();
    std::os::unix::fs::chown(fx.path("etc/hosts"), Some(1234), Some(5678)).unwrap();

    let mut out = Vec::new();
    let stat = get(&fx.root, Path::new("/etc/hosts"), &mut out).unwrap();
    assert_eq!(stat.name, "hosts");
    let mut archive = tar::Archive::new(&out[..]);
    let mut all = archive.entries().unwrap();
    let mut entry = all.next().unwrap().unwrap();
    assert_eq!(&*entry.path_bytes(), b"hosts");
    assert_eq!(entry.header().mode().unwrap(), 0o604);
    assert_eq!(entry.header().uid().unwrap(), 1234);
    assert_eq!(entry.header().gid().unwrap(), 5678);
    let mut data = String::new();
    std::io::Read::read_to_string(&mut entry, &mut data).unwrap();
    assert_eq!(data, "127.0.0.1 localhost\n");
    assert!(all.next().is_none());
}

#[test]
fn a_directory_is_rooted_at_its_base_name_with_links_kept() {
    let fx = Fixture::new();
    fs::create_dir_all(fx.path("srv/app/sub")).unwrap();
    fs::write(fx.path("srv/app/a.txt"), b"a").unwrap();
    fs::write(fx.path("srv/app/sub/b.txt"), b"bb").unwrap();
    fs::hard_link(fx.path("srv/app/a.txt"), fx.path("srv/app/hard")).unwrap();
    symlink("a.txt", fx.path("srv/app/soft")).unwrap();
    nix::unistd::mkfifo(
        &fx.path("srv/app/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();

    let tar = tar_of(&fx, "/srv/app");
    assert_eq!(
        names(&tar),
        [
            "app/",
            "app/a.txt",
            "app/fifo",
            "app/hard",
            "app/soft",
            "app/sub/",
            "app/sub/b.txt"
        ]
    );
    let all = entries(&tar);
    let kind = |name: &str| all.iter().find(|(n, _, _)| n == name).unwrap().1;
    assert_eq!(kind("app/"), EntryType::Directory);
    assert_eq!(kind("app/fifo"), EntryType::Fifo);
    assert_eq!(kind("app/hard"), EntryType::Link);
    assert_eq!(kind("app/soft"), EntryType::Symlink);
    let b = all.iter().find(|(n, _, _)| n == "app/sub/b.txt").unwrap();
    assert_eq!(b.2, b"bb");
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        match &*entry.path_bytes() {
            b"app/hard" => assert_eq!(&*entry.link_name_bytes().unwrap(), b"app/a.txt"),
            b"app/soft" => assert_eq!(&*entry.link_name_bytes().unwrap(), b"a.txt"),
            _ => {}
        }
    }
    // With a trailing `/.` the content is rooted at `.`.
    let dot = tar_of(&fx, "/srv/app/.");
    assert_eq!(names(&dot)[0], "./");
    assert!(
        names(&dot).contains(&"sub/b.txt".to_string()),
        "{:?}",
        names(&dot)
    );
}

#[test]
fn the_capability_xattr_travels_in_pax_records() {
    let fx = Fixture::new();
    fs::write(fx.path("ping"), b"binary").unwrap();
    // A valid v2 file capability: cap_net_raw permitted.
    let mut cap = [0u8; 20];
    cap[..4].copy_from_slice(&0x0200_0000u32.to_le_bytes());
    cap[4..8].copy_from_slice(&(1u32 << 13).to_le_bytes());
    let path =
        std::ffi::CString::new(fx.path("ping").into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: both strings are NUL-terminated and cap is cap.len() readable bytes.
    let rc = unsafe {
        libc::setxattr(
            path.as_ptr(),
            c"security.capability".as_ptr(),
            cap.as_ptr().cast(),
            cap.len(),
            0,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    let tar = tar_of(&fx, "/ping");
    let mut archive = tar::Archive::new(&tar[..]);
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let pax = entry.pax_extensions().unwrap().expect("a PAX header");
    let record = pax
        .map(Result::unwrap)
        .find(|r| r.key().unwrap() == "SCHILY.xattr.security.capability")
        .expect("the capability record");
    assert_eq!(record.value_bytes(), &cap[..]);
}

#[test]
fn symlinks_out_of_the_root_are_read_inside_it() {
    let fx = Fixture::new();
    // Through `up -> ../../..` and `slash -> /`: the container's own sentinel.
    for path in ["/up/sentinel", "/slash/sentinel", "/up/up/slash/sentinel"] {
        let tar = tar_of(&fx, path);
        let all = entries(&tar);
        assert_eq!(all.len(), 1, "{path}");
        assert_eq!(all[0].2, ROOT_CONTENT, "{path}");
    }
    // The host's absolute path is not the host inside the root.
    let err = get(&fx.root, Path::new("/hostabs/sentinel"), Vec::new()).unwrap_err();
    assert!(matches!(err, ArchiveError::NotFound { .. }), "{err}");
    // The links themselves are archived as links, never followed.
    let tar = tar_of(&fx, "/");
    assert!(!leaks_host(&tar));
    let all = entries(&tar);
    let hostabs = all.iter().find(|(n, _, _)| n == "hostabs").unwrap();
    assert_eq!(hostabs.1, EntryType::Symlink);
    // A directory holding a link to the host's directory copies the link only.
    fs::create_dir(fx.path("d")).unwrap();
    symlink(&fx.host, fx.path("d/h")).unwrap();
    let tar = tar_of(&fx, "/d");
    assert_eq!(names(&tar), ["d/", "d/h"]);
    assert!(!leaks_host(&tar));
    // Asked with a trailing slash, the link is followed, inside the root: not found.
    assert!(get(&fx.root, Path::new("/d/h/"), Vec::new()).is_err());
    fx.assert_host_untouched();
}

#[test]
fn a_directory_swapped_for_a_symlink_after_resolution_is_not_followed() {
    let fx = Fixture::new();
    fs::create_dir_all(fx.path("data/inner")).unwrap();
    fs::write(fx.path("data/inner/x"), b"x").unwrap();
    // Resolve, then swap (CVE-2018-15664): the source keeps the fds it resolved.
    let source = open(&fx.root, Path::new("/data")).unwrap();
    fs::rename(fx.path("data"), fx.path("moved")).unwrap();
    symlink(&fx.host, fx.path("data")).unwrap();
    let tar = source.write_tar(Vec::new()).unwrap();
    assert!(!leaks_host(&tar));
    assert_eq!(names(&tar), ["data/", "data/inner/", "data/inner/x"]);
    // A child swapped for a link to the host is archived as the link.
    fs::remove_file(fx.path("data")).unwrap();
    fs::rename(fx.path("moved"), fx.path("data")).unwrap();
    let source = open(&fx.root, Path::new("/data")).unwrap();
    fs::rename(fx.path("data/inner"), fx.path("inner-moved")).unwrap();
    symlink(&fx.host, fx.path("data/inner")).unwrap();
    let tar = source.write_tar(Vec::new()).unwrap();
    assert!(!leaks_host(&tar));
    assert_eq!(names(&tar), ["data/", "data/inner"]);
    fx.assert_host_untouched();
}
