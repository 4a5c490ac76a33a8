//! The breakout corpus, continued (needs root): hard links, whiteouts, entry types and
//! PAX records.

use std::fs;

use tar::EntryType;

use super::test_tars::Layer;
use super::tests_root_breakouts::{
    case, is_symlink, lower_symlink_out, none, read, run, same_inode, Expect,
};

#[test]
fn root_breakouts_by_link_whiteout_and_type() {
    use Expect::{Confined, Error};
    let c = case;
    run(vec![
        c(
            "hard link to an absolute path",
            none,
            |sb| Layer::new().hardlink("h", &sb.outside("/keep")).tar(),
            Error("absolute"),
        ),
        c(
            "hard link up and out",
            none,
            |_| Layer::new().hardlink("h", "../sentinel/keep").tar(),
            Error("`..`"),
        ),
        c(
            "hard link through a symlink to outside",
            none,
            |sb| {
                Layer::new()
                    .symlink("d", &sb.outside(""))
                    .hardlink("h", "d/keep")
                    .tar()
            },
            Error("does not exist"),
        ),
        c(
            "hard link through a relative symlink",
            none,
            |_| {
                Layer::new()
                    .dir("etc", 0o770)
                    .file("etc/passwd", b"inside", 0o644)
                    .dir("breakouts", 0o755)
                    .symlink("breakouts/d1", "../../etc")
                    .hardlink("breakouts/mypasswd", "breakouts/d1/passwd")
                    .tar()
            },
            Confined(|sb| assert!(same_inode(sb, "breakouts/mypasswd", "etc/passwd"))),
        ),
        c(
            "hard link to a symlink pointing outside",
            none,
            |sb| {
                Layer::new()
                    .symlink("s", &sb.outside("/keep"))
                    .hardlink("h", "s")
                    .file("h", b"x", 0o777)
                    .tar()
            },
            Confined(|sb| assert!(is_symlink(sb, "s") && read(sb, "h") == "x")),
        ),
        c(
            "hard link to a symlink, kept",
            none,
            |sb| {
                Layer::new()
                    .symlink("s", &sb.outside("/keep"))
                    .hardlink("h", "s")
                    .tar()
            },
            Confined(|sb| assert!(is_symlink(sb, "h") && same_inode(sb, "h", "s"))),
        ),
        c(
            "hard link to a directory",
            none,
            |_| Layer::new().dir("d", 0o755).hardlink("h", "d").tar(),
            Error("is a directory"),
        ),
        c(
            "hard link to itself",
            none,
            |_| Layer::new().hardlink("h", "h").tar(),
            Error("link itself"),
        ),
        c(
            "hard link to nothing",
            none,
            |_| Layer::new().hardlink("h", "missing").tar(),
            Error("does not exist"),
        ),
        c(
            "whiteout of a lower symlink",
            lower_symlink_out,
            |_| Layer::new().file(".wh.s", b"", 0o644).tar(),
            Confined(|sb| assert!(fs::symlink_metadata(sb.dest.join("s")).is_err())),
        ),
        c(
            "whiteout through a lower symlink",
            lower_symlink_out,
            |_| Layer::new().file("s/.wh.keep", b"", 0o644).tar(),
            Confined(|sb| assert!(is_symlink(sb, "s"))),
        ),
        c(
            "opaque marker through a lower symlink",
            lower_symlink_out,
            |_| Layer::new().file("s/.wh..wh..opq", b"", 0o644).tar(),
            Confined(|sb| assert!(is_symlink(sb, "s"))),
        ),
        c(
            "whiteout through a symlink to /",
            |_| {
                Some(
                    Layer::new()
                        .symlink("s", "/")
                        .file("victim", b"v", 0o644)
                        .tar(),
                )
            },
            |_| Layer::new().file("s/.wh.victim", b"", 0o644).tar(),
            Confined(|sb| assert!(!sb.dest.join("victim").exists())),
        ),
        c(
            "whiteout of dotdot",
            none,
            |_| Layer::new().file(".wh...", b"", 0o644).tar(),
            Error("parent directory"),
        ),
        c(
            "whiteout of dot",
            none,
            |_| Layer::new().file("etc/.wh..", b"", 0o644).tar(),
            Error("parent directory"),
        ),
        c(
            "whiteout of nothing",
            none,
            |_| Layer::new().file(".wh.", b"", 0o644).tar(),
            Error("names nothing"),
        ),
        c(
            "unknown .wh..wh. name",
            none,
            |_| Layer::new().file(".wh..wh.plnk", b"", 0o644).tar(),
            Error("only .wh..wh..opq"),
        ),
        c(
            "whiteout used as a directory",
            none,
            |_| Layer::new().file(".wh.etc/file", b"x", 0o644).tar(),
            Error("as a directory"),
        ),
        c(
            "symlink with an empty target",
            none,
            |_| Layer::new().symlink("s", "").tar(),
            Error("empty"),
        ),
        c(
            "NUL in a PAX name",
            none,
            |_| {
                Layer::new()
                    .raw(
                        EntryType::Regular,
                        b"a",
                        b"",
                        b"",
                        0o644,
                        &[("path", b"a\0/b")],
                    )
                    .tar()
            },
            Error("NUL"),
        ),
        c(
            "overlayfs xattr in a PAX record",
            none,
            |_| {
                Layer::new()
                    .raw(
                        EntryType::Directory,
                        b"d",
                        b"",
                        b"",
                        0o755,
                        &[("SCHILY.xattr.trusted.overlay.redirect", b"/etc")],
                    )
                    .tar()
            },
            Error("overlayfs"),
        ),
        c(
            "GNU sparse entry",
            none,
            |_| {
                Layer::new()
                    .raw(EntryType::GNUSparse, b"sparse", b"", b"", 0o644, &[])
                    .tar()
            },
            Error("unsupported"),
        ),
        c(
            "volume label entry",
            none,
            |_| {
                Layer::new()
                    .raw(EntryType::new(b'V'), b"label", b"", b"", 0o644, &[])
                    .tar()
            },
            Error("unsupported"),
        ),
        c(
            "entry below a file",
            none,
            |_| {
                Layer::new()
                    .file("f", b"f", 0o644)
                    .file("f/x", b"x", 0o644)
                    .tar()
            },
            Error("is not a directory"),
        ),
    ]);
}
