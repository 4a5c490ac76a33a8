//! The breakout corpus (needs root), after containerd's TestBreakouts: each hostile layer
//! either fails with a clear error or is confined to dest, and in both cases the sentinel
//! directory next to dest is untouched. Each case runs in both whiteout modes.

use std::fs;
use std::os::unix::fs::MetadataExt;

use tar::EntryType;

use super::test_tars::{apply, Layer, Sandbox};
use super::WhiteoutMode;

pub(super) enum Expect {
    /// Refused; the message contains this.
    Error(&'static str),
    /// Accepted in Apply mode, and the check sees where things landed.
    Confined(fn(&Sandbox)),
}

pub(super) struct Case {
    name: &'static str,
    /// What dest holds before (the lower layers), given as a layer applied first.
    lower: fn(&Sandbox) -> Option<Vec<u8>>,
    layer: fn(&Sandbox) -> Vec<u8>,
    expect: Expect,
}

pub(super) fn none(_: &Sandbox) -> Option<Vec<u8>> {
    None
}

pub(super) fn lower_symlink_out(sb: &Sandbox) -> Option<Vec<u8>> {
    Some(Layer::new().symlink("s", &sb.outside("")).tar())
}

pub(super) fn read(sb: &Sandbox, path: &str) -> String {
    fs::read_to_string(sb.dest.join(path)).unwrap()
}

pub(super) fn is_symlink(sb: &Sandbox, path: &str) -> bool {
    fs::symlink_metadata(sb.dest.join(path))
        .unwrap()
        .file_type()
        .is_symlink()
}

pub(super) fn same_inode(sb: &Sandbox, a: &str, b: &str) -> bool {
    let ino = |p: &str| fs::symlink_metadata(sb.dest.join(p)).unwrap().ino();
    ino(a) == ino(b)
}

pub(super) fn case(
    name: &'static str,
    lower: fn(&Sandbox) -> Option<Vec<u8>>,
    layer: fn(&Sandbox) -> Vec<u8>,
    expect: Expect,
) -> Case {
    Case {
        name,
        lower,
        layer,
        expect,
    }
}

/// Runs each case in both whiteout modes, each time in a fresh sandbox.
pub(super) fn run(cases: Vec<Case>) {
    for case in cases {
        for mode in [WhiteoutMode::Apply, WhiteoutMode::Overlay] {
            let sb = Sandbox::new();
            if let Some(lower) = (case.lower)(&sb) {
                apply(&sb.dest, &lower, mode).unwrap();
            }
            let result = apply(&sb.dest, &(case.layer)(&sb), mode);
            match (&case.expect, result) {
                (Expect::Error(text), Err(err)) => {
                    assert!(err.to_string().contains(text), "{}: {err}", case.name)
                }
                (Expect::Error(_), Ok(_)) => panic!("{} ({mode:?}): accepted", case.name),
                (Expect::Confined(check), Ok(_)) if mode == WhiteoutMode::Apply => check(&sb),
                (Expect::Confined(_), Err(err)) if mode == WhiteoutMode::Apply => {
                    panic!("{}: {err}", case.name)
                }
                // Overlay mode expects an empty dest; with a lower layer in it only the
                // confinement is checked.
                (Expect::Confined(_), _) => {}
            }
            sb.assert_untouched();
        }
    }
}

#[test]
fn root_breakouts_by_name_and_symlink() {
    use Expect::{Confined, Error};
    let c = case;
    run(vec![
        c(
            "absolute name",
            none,
            |sb| Layer::new().file(&sb.outside("/keep"), b"x", 0o644).tar(),
            Error("absolute"),
        ),
        c(
            "dotdot name",
            none,
            |_| Layer::new().file("../sentinel/keep", b"x", 0o644).tar(),
            Error("`..`"),
        ),
        c(
            "dotdot inside a name",
            none,
            |_| {
                Layer::new()
                    .file("a/../../sentinel/keep", b"x", 0o644)
                    .tar()
            },
            Error("`..`"),
        ),
        c(
            "symlink named dotdot",
            none,
            |sb| Layer::new().symlink("..", &sb.outside("")).tar(),
            Error("`..`"),
        ),
        c(
            "symlink named dotdot below",
            none,
            |sb| Layer::new().symlink("a/sub/..", &sb.outside("")).tar(),
            Error("`..`"),
        ),
        c(
            "empty name",
            none,
            |_| Layer::new().file("", b"x", 0o644).tar(),
            Error("empty"),
        ),
        c(
            "file named as the root",
            none,
            |_| Layer::new().file(".", b"x", 0o644).tar(),
            Error("root"),
        ),
        c(
            "symlink to outside, then a file through it",
            none,
            |sb| {
                Layer::new()
                    .symlink("esc", &sb.outside(""))
                    .file("esc/keep", b"x", 0o644)
                    .tar()
            },
            Error("symlink to a missing directory"),
        ),
        c(
            "symlink to /, then a file through it",
            none,
            |_| {
                Layer::new()
                    .symlink("esc", "/")
                    .file("esc/keep", b"x", 0o644)
                    .tar()
            },
            Confined(|sb| assert_eq!(read(sb, "keep"), "x")),
        ),
        c(
            "symlink up and out, then a file through it",
            none,
            |_| {
                Layer::new()
                    .symlink("esc", "../..")
                    .file("esc/sentinel/keep", b"x", 0o644)
                    .tar()
            },
            Confined(|sb| assert_eq!(read(sb, "sentinel/keep"), "x")),
        ),
        c(
            "symlink chain",
            none,
            |_| {
                Layer::new()
                    .dir("d", 0o755)
                    .symlink("d/up", "../../..")
                    .symlink("chain", "d/up/d/up")
                    .file("chain/sentinel/keep", b"x", 0o644)
                    .tar()
            },
            Confined(|sb| assert_eq!(read(sb, "sentinel/keep"), "x")),
        ),
        c(
            "symlink multiple absolute",
            none,
            |_| {
                Layer::new()
                    .dir("etc", 0o755)
                    .dir("dummy", 0o755)
                    .symlink("dummy/etc", "/etc")
                    .symlink("localetc", "/dummy/etc")
                    .file("localetc/unbroken", b"x", 0o644)
                    .tar()
            },
            Confined(|sb| assert_eq!(read(sb, "etc/unbroken"), "x")),
        ),
        c(
            "symlink loop",
            none,
            |_| {
                Layer::new()
                    .symlink("a", "b")
                    .symlink("b", "a")
                    .file("a/x", b"x", 0o644)
                    .tar()
            },
            Error("parent"),
        ),
        c(
            "file written through a symlink",
            none,
            |sb| {
                Layer::new()
                    .symlink("link", &sb.outside("/keep"))
                    .file("link", b"x", 0o644)
                    .tar()
            },
            Confined(|sb| assert_eq!(read(sb, "link"), "x")),
        ),
        c(
            "file written through a lower symlink",
            lower_symlink_out,
            |_| Layer::new().file("s", b"x", 0o600).tar(),
            Confined(|sb| assert_eq!(read(sb, "s"), "x")),
        ),
        c(
            "directory replacing a symlink",
            none,
            |sb| {
                Layer::new()
                    .symlink("d", &sb.outside(""))
                    .dir("d", 0o777)
                    .file("d/keep", b"x", 0o644)
                    .tar()
            },
            Confined(|sb| assert_eq!(read(sb, "d/keep"), "x")),
        ),
        c(
            "directory replacing a lower symlink",
            lower_symlink_out,
            |_| {
                Layer::new()
                    .dir("s", 0o777)
                    .file("s/keep", b"x", 0o644)
                    .tar()
            },
            Confined(|sb| assert!(!is_symlink(sb, "s") && read(sb, "s/keep") == "x")),
        ),
        c(
            "device through a symlink",
            none,
            |sb| {
                Layer::new()
                    .symlink("dev", &sb.outside(""))
                    .node("dev/null", EntryType::Char, 1, 3, 0o666)
                    .tar()
            },
            Error("symlink to a missing directory"),
        ),
    ]);
}
