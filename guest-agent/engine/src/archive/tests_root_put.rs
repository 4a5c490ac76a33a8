//! `put`: extraction into a container directory, docker's `noOverwriteDirNonDir`, and tars
//! and symlinks that try to write out of the root.

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;

use tar::{EntryType, Header};

use super::test_fixture::{exists, Fixture};
use super::{put, ArchiveError};

/// A tar entry with a name written raw (the tar crate refuses `..` and absolute names).
fn raw_entry(out: &mut Vec<u8>, name: &str, kind: EntryType, data: &[u8], link: &str) {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(if kind == EntryType::Directory {
        0o755
    } else {
        0o644
    });
    header.set_size(data.len() as u64);
    header.set_mtime(1_600_000_000);
    header.set_uid(0);
    header.set_gid(0);
    header.set_cksum();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn tar(entries: &[(&str, EntryType, &[u8], &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, data, link) in entries {
        raw_entry(&mut out, name, *kind, data, link);
    }
    out.resize(out.len() + 1024, 0);
    out
}

const F: EntryType = EntryType::Regular;
const D: EntryType = EntryType::Directory;
const L: EntryType = EntryType::Symlink;

#[test]
fn a_tar_is_extracted_into_the_directory() {
    let fx = Fixture::new();
    fs::create_dir(fx.path("dest")).unwrap();
    let input = tar(&[
        ("app/", D, b"", ""),
        ("app/config.txt", F, b"key=value\n", ""),
        ("app/current", L, b"", "config.txt"),
        ("top.txt", F, b"top", ""),
    ]);
    put(&fx.root, Path::new("/dest"), &input[..], true).unwrap();
    assert_eq!(
        fs::read(fx.path("dest/app/config.txt")).unwrap(),
        b"key=value\n"
    );
    assert_eq!(fs::read(fx.path("dest/top.txt")).unwrap(), b"top");
    assert_eq!(
        fs::read_link(fx.path("dest/app/current")).unwrap(),
        Path::new("config.txt")
    );

    // gzip-compressed input is accepted too (docker's PUT takes compressed tars).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar(&[("zipped.txt", F, b"z", "")])).unwrap();
    put(
        &fx.root,
        Path::new("/dest"),
        &gz.finish().unwrap()[..],
        true,
    )
    .unwrap();
    assert_eq!(fs::read(fx.path("dest/zipped.txt")).unwrap(), b"z");

    // Long names (GNU long-name headers) pass the overwrite check and are extracted.
    let long = "n".repeat(150);
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o600);
    header.set_uid(0);
    header.set_gid(0);
    builder
        .append_data(&mut header, &long, &b"long"[..])
        .unwrap();
    put(
        &fx.root,
        Path::new("/dest"),
        &builder.into_inner().unwrap()[..],
        true,
    )
    .unwrap();
    assert_eq!(fs::read(fx.path("dest").join(&long)).unwrap(), b"long");
}

#[test]
fn the_destination_must_exist_and_be_a_directory() {
    let fx = Fixture::new();
    let input = tar(&[("x", F, b"x", "")]);
    let err = put(&fx.root, Path::new("/missing"), &input[..], true).unwrap_err();
    assert!(matches!(err, ArchiveError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("/missing"), "{err}");
    let err = put(&fx.root, Path::new("/sentinel"), &input[..], true).unwrap_err();
    assert!(matches!(err, ArchiveError::NotADirectory { .. }), "{err}");
    // A destination through the host's absolute path is not found inside the root.
    let err = put(&fx.root, Path::new("/hostabs"), &input[..], true).unwrap_err();
    assert!(matches!(err, ArchiveError::NotFound { .. }), "{err}");
    fx.assert_host_untouched();
}

#[test]
fn destinations_through_symlinks_stay_inside_the_root() {
    let fx = Fixture::new();
    fs::create_dir(fx.path("real")).unwrap();
    symlink("/real", fx.path("link")).unwrap();
    let input = tar(&[("sentinel", F, b"overwritten", ""), ("new", F, b"n", "")]);
    put(&fx.root, Path::new("/link"), &input[..], true).unwrap();
    assert_eq!(fs::read(fx.path("real/new")).unwrap(), b"n");
    // `up -> ../../..` and `slash -> /` are the container root.
    for dest in ["/up", "/slash", "/up/slash/.."] {
        put(&fx.root, Path::new(dest), &input[..], true).unwrap();
        assert_eq!(
            fs::read(fx.path("sentinel")).unwrap(),
            b"overwritten",
            "{dest}"
        );
    }
    fx.assert_host_untouched();
}

#[test]
fn hostile_names_and_links_in_the_tar_cannot_write_outside() {
    let fx = Fixture::new();
    fs::create_dir(fx.path("dest")).unwrap();
    // `..` and absolute names are refused outright.
    for name in ["../sentinel", "a/../../sentinel", "/sentinel"] {
        let input = tar(&[(name, F, b"evil", "")]);
        let err = put(&fx.root, Path::new("/dest"), &input[..], false).unwrap_err();
        assert!(matches!(err, ArchiveError::Extract(_)), "{name}: {err}");
    }
    // A link the archive makes, or one the container has, is resolved inside the
    // destination: writes through it land below dest, never on the host.
    symlink(&fx.host, fx.path("dest/tohost")).unwrap();
    let hostile = fx.host.display().to_string();
    let input = tar(&[
        ("esc", L, b"", "../../../../../.."),
        ("esc/sentinel", F, b"evil", ""),
        ("abs", L, b"", &hostile),
        ("tohost/sentinel", F, b"evil", ""),
    ]);
    let result = put(&fx.root, Path::new("/dest"), &input[..], false);
    fx.assert_host_untouched();
    assert_eq!(
        fs::read(fx.path("sentinel")).unwrap(),
        super::test_fixture::ROOT_CONTENT
    );
    assert_eq!(fs::read(fx.path("dest/sentinel")).unwrap(), b"evil");
    // `tohost` is dangling inside dest, so that entry is refused.
    assert!(result.is_err());
    assert!(!exists(&fx.host.join("evil")));
}

#[test]
fn no_overwrite_dir_non_dir_refuses_type_changes() {
    let fx = Fixture::new();
    fs::create_dir_all(fx.path("dest/dir/kept")).unwrap();
    fs::write(fx.path("dest/file"), b"f").unwrap();
    let file_over_dir = tar(&[("dir", F, b"x", "")]);
    let err = put(&fx.root, Path::new("/dest"), &file_over_dir[..], true).unwrap_err();
    assert!(matches!(err, ArchiveError::DirWithNonDir { .. }), "{err}");
    assert!(err.to_string().contains("/dest/dir"), "{err}");
    assert!(fx.path("dest/dir/kept").is_dir());
    let dir_over_file = tar(&[("file/", D, b"", "")]);
    let err = put(&fx.root, Path::new("/dest"), &dir_over_file[..], true).unwrap_err();
    assert!(matches!(err, ArchiveError::NonDirWithDir { .. }), "{err}");
    assert_eq!(fs::read(fx.path("dest/file")).unwrap(), b"f");
    // An entry the same archive made earlier counts too.
    let within = tar(&[
        ("new/", D, b"", ""),
        ("new/x", F, b"x", ""),
        ("new", F, b"y", ""),
    ]);
    let err = put(&fx.root, Path::new("/dest"), &within[..], true).unwrap_err();
    assert!(matches!(err, ArchiveError::DirWithNonDir { .. }), "{err}");
    assert_eq!(fs::read(fx.path("dest/new/x")).unwrap(), b"x");
    // Same types merge; without the flag, types are replaced as tar does.
    let merge = tar(&[
        ("dir/", D, b"", ""),
        ("dir/added", F, b"a", ""),
        ("file", F, b"g", ""),
    ]);
    put(&fx.root, Path::new("/dest"), &merge[..], true).unwrap();
    assert!(fx.path("dest/dir/kept").is_dir());
    assert_eq!(fs::read(fx.path("dest/file")).unwrap(), b"g");
    put(&fx.root, Path::new("/dest"), &file_over_dir[..], false).unwrap();
    assert_eq!(fs::read(fx.path("dest/dir")).unwrap(), b"x");
}
