//! `stat` on files, directories and symlinks, and symlinks that try to leave the root.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use super::test_fixture::Fixture;
use super::{go_file_mode, stat, ArchiveError};

#[test]
fn stat_of_a_file_a_directory_and_a_symlink() {
    let fx = Fixture::new();
    fs::create_dir(fx.path("dir")).unwrap();
    fs::set_permissions(fx.path("dir"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::write(fx.path("dir/file"), b"hello").unwrap();
    fs::set_permissions(fx.path("dir/file"), fs::Permissions::from_mode(0o640)).unwrap();
    let mtime = UNIX_EPOCH + Duration::new(1_600_000_000, 250_000_000);
    fs::File::options()
        .write(true)
        .open(fx.path("dir/file"))
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    symlink("/dir/file", fx.path("link")).unwrap();

    let file = stat(&fx.root, Path::new("/dir/file")).unwrap();
    assert_eq!(file.name, "file");
    assert_eq!(file.size, 5);
    assert_eq!(file.mode, 0o640);
    assert_eq!(file.mtime, mtime);
    assert_eq!(file.link_target, "");

    let dir = stat(&fx.root, Path::new("dir")).unwrap();
    assert_eq!(dir.name, "dir");
    assert_eq!(dir.mode, (1 << 31) | 0o750);

    let link = stat(&fx.root, Path::new("/link")).unwrap();
    assert_eq!(link.name, "link");
    assert_eq!(link.mode, go_file_mode(libc::S_IFLNK | 0o777));
    assert_eq!(link.size, "/dir/file".len() as i64);
    assert_eq!(link.link_target, "/dir/file");

    let json: serde_json::Value = serde_json::from_str(&file.to_json()).unwrap();
    assert_eq!(json["name"], "file");
    assert_eq!(json["mode"], 0o640);
    assert_eq!(json["mtime"], "2020-09-13T12:26:40.25Z");
    assert_eq!(json["linkTarget"], "");
}

#[test]
fn a_trailing_slash_follows_the_final_symlink() {
    let fx = Fixture::new();
    fs::create_dir(fx.path("real")).unwrap();
    symlink("real", fx.path("ln")).unwrap();
    let followed = stat(&fx.root, Path::new("/ln/")).unwrap();
    assert_eq!(followed.name, "ln");
    assert_eq!(followed.mode & (1 << 31), 1 << 31, "not the directory");
    let dot = stat(&fx.root, Path::new("/ln/.")).unwrap();
    assert_eq!(dot.name, ".");
    assert_eq!(dot.mode & (1 << 31), 1 << 31);
}

#[test]
fn symlinks_out_of_the_root_resolve_inside_it() {
    let fx = Fixture::new();
    // `up -> ../../..` stops at the root: up/sentinel is the container's own file.
    let inside = stat(&fx.root, Path::new("/up/sentinel")).unwrap();
    assert_eq!(inside.size, super::test_fixture::ROOT_CONTENT.len() as i64);
    assert_eq!(stat(&fx.root, Path::new("/up")).unwrap().link_target, "/");
    assert_eq!(
        stat(&fx.root, Path::new("/slash")).unwrap().link_target,
        "/"
    );
    // The host directory's absolute path means nothing inside the root.
    let err = stat(&fx.root, Path::new("/hostabs/sentinel")).unwrap_err();
    assert!(matches!(err, ArchiveError::NotFound { .. }), "{err}");
    let dangling = stat(&fx.root, Path::new("/hostabs")).unwrap();
    assert_eq!(dangling.link_target, fx.host.display().to_string());
    // `..` in the asked path is clamped at the root as well.
    let clamped = stat(&fx.root, Path::new("../../../sentinel")).unwrap();
    assert_eq!(clamped.size, super::test_fixture::ROOT_CONTENT.len() as i64);
}

#[test]
fn missing_paths_are_not_found_with_the_path_in_the_message() {
    let fx = Fixture::new();
    let err = stat(&fx.root, Path::new("/nope/file")).unwrap_err();
    assert!(matches!(err, ArchiveError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("/nope/file"), "{err}");
    let err = stat(&fx.root, Path::new("/sentinel/below")).unwrap_err();
    assert!(matches!(err, ArchiveError::NotFound { .. }), "{err}");
}
