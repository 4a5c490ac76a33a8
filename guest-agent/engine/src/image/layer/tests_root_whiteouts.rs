//! Whiteouts and opaque directories in both modes (needs root: trusted xattrs, mknod and an
//! overlayfs mount that checks the two modes give the same merged tree).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::test_tars::{apply, get_xattr, Layer, Sandbox};
use super::WhiteoutMode;

fn lower() -> Vec<u8> {
    Layer::new()
        .file("a/x", b"x", 0o644)
        .file("a/y", b"y", 0o644)
        .file("b/z", b"z", 0o644)
        .file("c", b"c", 0o644)
        .file("d/old", b"old", 0o644)
        .file("d/sub/old2", b"old2", 0o644)
        .file("e/old", b"old", 0o644)
        .file("g/old", b"old", 0o644)
        .file("h/old", b"old", 0o644)
        .tar()
}

/// Whiteouts and opaque markers both before and after this layer's own entries.
fn upper() -> Vec<u8> {
    Layer::new()
        .file(".wh.b", b"", 0o644)
        .file("a/.wh.x", b"", 0o644)
        .file(".wh.nonexistent", b"", 0o644)
        .dir("d", 0o755)
        .file("d/.wh..wh..opq", b"", 0o644)
        .file("d/new", b"new", 0o644)
        .file("e/new", b"new", 0o644)
        .file("e/sub/f", b"f", 0o644)
        .file("e/.wh..wh..opq", b"", 0o644)
        .file("f", b"f", 0o644)
        .file(".wh.f", b"", 0o644)
        .file("g/new", b"new", 0o644)
        .file(".wh.g", b"", 0o644)
        .file(".wh.h", b"", 0o644)
        .dir("h", 0o755)
        .file("h/new", b"new", 0o644)
        .tar()
}

/// Relative path -> type and content, for comparing trees.
fn tree(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let md = fs::symlink_metadata(&path).unwrap();
            let what = if md.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if md.is_file() {
                format!("file {}", fs::read_to_string(&path).unwrap())
            } else {
                format!("node {:o} {}", md.mode(), md.rdev())
            };
            out.insert(path.strip_prefix(root).unwrap().to_path_buf(), what);
        }
    }
    out
}

fn expected_merge() -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for dir in ["a", "d", "e", "e/sub", "g", "h"] {
        out.insert(PathBuf::from(dir), "dir".to_string());
    }
    for (file, content) in [
        ("a/y", "y"),
        ("c", "c"),
        ("d/new", "new"),
        ("e/new", "new"),
        ("e/sub/f", "f"),
        ("f", "f"),
        ("g/new", "new"),
        ("h/new", "new"),
    ] {
        out.insert(PathBuf::from(file), format!("file {content}"));
    }
    out
}

#[test]
fn root_apply_mode_deletes_lower_content_only() {
    let sb = Sandbox::new();
    apply(&sb.dest, &lower(), WhiteoutMode::Apply).unwrap();
    apply(&sb.dest, &upper(), WhiteoutMode::Apply).unwrap();
    assert_eq!(tree(&sb.dest), expected_merge());
    sb.assert_untouched();
}

fn is_whiteout(path: &Path) -> bool {
    let md = fs::symlink_metadata(path).unwrap();
    md.file_type().is_char_device() && md.rdev() == 0
}

fn is_opaque(path: &Path) -> bool {
    get_xattr(path, "trusted.overlay.opaque").as_deref() == Some(&b"y"[..])
}

#[test]
fn root_overlay_mode_keeps_whiteouts_for_overlayfs() {
    let sb = Sandbox::new();
    apply(&sb.dest, &upper(), WhiteoutMode::Overlay).unwrap();
    let d = &sb.dest;
    assert!(is_whiteout(&d.join("b")) && is_whiteout(&d.join("a/x")));
    assert!(is_whiteout(&d.join("nonexistent")));
    assert!(is_opaque(&d.join("d")) && is_opaque(&d.join("e")));
    assert!(
        is_opaque(&d.join("g")),
        "whiteout after the layer's own directory"
    );
    assert!(
        is_opaque(&d.join("h")),
        "directory replacing the layer's whiteout"
    );
    assert!(!is_opaque(&d.join("a")));
    assert_eq!(
        fs::read(d.join("f")).unwrap(),
        b"f",
        "the layer's own file wins"
    );
    let names = tree(d);
    assert!(
        names.keys().all(|p| !p.to_string_lossy().contains(".wh.")),
        "{names:?}"
    );
    sb.assert_untouched();
}

/// Unmounts (lazily) when dropped, so a failed assertion leaves no mount behind.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

#[test]
fn root_overlay_layers_stacked_by_overlayfs_match_apply_mode() {
    let base = tempfile::tempdir().unwrap();
    let (l1, l2, merged) = (
        base.path().join("l1"),
        base.path().join("l2"),
        base.path().join("m"),
    );
    for dir in [&l1, &l2, &merged] {
        fs::create_dir(dir).unwrap();
    }
    apply(&l1, &lower(), WhiteoutMode::Overlay).unwrap();
    apply(&l2, &upper(), WhiteoutMode::Overlay).unwrap();
    let options = format!("lowerdir={}:{}", l2.display(), l1.display());
    mount(
        Some("overlay"),
        &merged,
        Some("overlay"),
        MsFlags::MS_RDONLY,
        Some(options.as_str()),
    )
    .unwrap();
    let _guard = Mounted(merged.clone());
    assert_eq!(tree(&merged), expected_merge());
}

#[test]
fn root_invalid_whiteouts_leave_lower_content_alone() {
    for name in [
        ".wh.",
        ".wh..",
        ".wh...",
        "a/.wh..",
        ".wh..wh.foo",
        ".wh.a/x",
    ] {
        let sb = Sandbox::new();
        apply(&sb.dest, &lower(), WhiteoutMode::Apply).unwrap();
        let before = tree(&sb.dest);
        let layer = Layer::new().file(name, b"", 0o644).tar();
        let err = apply(&sb.dest, &layer, WhiteoutMode::Apply).unwrap_err();
        assert!(err.to_string().contains("whiteout"), "{name}: {err}");
        assert_eq!(tree(&sb.dest), before, "{name}");
    }
}
