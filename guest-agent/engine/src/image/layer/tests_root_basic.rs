//! Unpacking ordinary layers (needs root: owners, devices, xattrs): every entry type, modes
//! with setuid/setgid/sticky, owners, times, xattrs, compressions and the diff_id.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use oci_spec::image::Digest;
use sha2::{Digest as _, Sha256};
use tar::EntryType;

use super::test_tars::{apply, get_xattr, gzip, zstd, Layer, Sandbox, MTIME};
use super::{unpack, unpack_verified, Compression, LayerError, Limits, WhiteoutMode};

fn sha256(data: &[u8]) -> Digest {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
        .parse()
        .unwrap()
}

fn sample() -> Vec<u8> {
    Layer::new()
        .dir("etc", 0o755)
        .file("etc/hosts", b"127.0.0.1 localhost\n", 0o644)
        .hardlink("etc/hosts.allow", "etc/hosts")
        .symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
        .file("./usr/bin/su", b"#!su", 0o4755)
        .dir("tmp/", 0o1777)
        .owner(1234, 5678)
        .mtime(1_500_000_000)
        .dir("srv", 0o2775)
        .file("srv/data", b"data", 0o600)
        .owner(42, 43)
        .symlink("srv/link", "data")
        .tar()
}

#[test]
fn root_unpacks_entries_with_their_metadata() {
    let sb = Sandbox::new();
    apply(&sb.dest, &sample(), WhiteoutMode::Apply).unwrap();
    let d = &sb.dest;
    assert_eq!(
        fs::read(d.join("etc/hosts")).unwrap(),
        b"127.0.0.1 localhost\n"
    );
    let hosts = fs::metadata(d.join("etc/hosts")).unwrap();
    let allow = fs::metadata(d.join("etc/hosts.allow")).unwrap();
    assert_eq!(hosts.ino(), allow.ino(), "hard link shares the inode");
    assert_eq!(hosts.nlink(), 2);
    assert_eq!(
        fs::read_link(d.join("etc/localtime")).unwrap().to_str(),
        Some("/usr/share/zoneinfo/UTC")
    );
    let mode = |p: &str| fs::symlink_metadata(d.join(p)).unwrap().mode() & 0o7777;
    assert_eq!(mode("usr/bin/su"), 0o4755, "setuid kept");
    assert_eq!(mode("tmp"), 0o1777, "sticky kept");
    assert_eq!(mode("srv"), 0o2775, "setgid kept");
    assert_eq!(mode("srv/data"), 0o600);
    assert_eq!(mode("usr"), 0o755, "implicit parents are 0755");
    let srv = fs::metadata(d.join("srv")).unwrap();
    assert_eq!((srv.uid(), srv.gid()), (1234, 5678));
    let link = fs::symlink_metadata(d.join("srv/link")).unwrap();
    assert_eq!(
        (link.uid(), link.gid()),
        (42, 43),
        "symlink owner, not its target's"
    );
    assert_eq!(fs::metadata(d.join("srv/data")).unwrap().uid(), 1234);
    // Times: files as given, directories too even though entries were created in them later.
    assert_eq!(
        fs::metadata(d.join("etc/hosts")).unwrap().mtime() as u64,
        MTIME
    );
    assert_eq!(fs::metadata(d.join("etc")).unwrap().mtime() as u64, MTIME);
    assert_eq!(srv.mtime(), 1_500_000_000);
    assert_eq!(link.mtime(), 1_500_000_000);
    sb.assert_untouched();
}

#[test]
fn root_compressions_agree_and_diff_id_is_the_uncompressed_sha256() {
    let mut tar = sample();
    // Writers pad to a record size after the end marker; the diff_id covers the padding.
    tar.extend_from_slice(&[0u8; 8192]);
    let expected = sha256(&tar);
    for (compression, blob) in [
        (Compression::None, tar.clone()),
        (Compression::Gzip, gzip(&tar)),
        (Compression::Zstd, zstd(&tar)),
    ] {
        assert_eq!(Compression::sniff(&blob), compression);
        let sb = Sandbox::new();
        let limits = Limits::default();
        let out = unpack(
            &blob[..],
            compression,
            &sb.dest,
            WhiteoutMode::Apply,
            &limits,
        )
        .unwrap();
        assert_eq!(out.diff_id, expected, "{compression:?}");
        assert_eq!(out.size, tar.len() as u64);
        assert_eq!(fs::read(sb.dest.join("srv/data")).unwrap(), b"data");
        let again = Sandbox::new();
        let mode = WhiteoutMode::Apply;
        unpack_verified(
            &blob[..],
            compression,
            &again.dest,
            mode,
            &limits,
            &expected,
        )
        .unwrap();
    }
}

#[test]
fn root_diff_id_mismatch_names_both_digests() {
    let sb = Sandbox::new();
    let tar = sample();
    let wrong = sha256(b"another layer");
    let err = unpack_verified(
        &tar[..],
        Compression::None,
        &sb.dest,
        WhiteoutMode::Apply,
        &Limits::default(),
        &wrong,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, LayerError::DiffIdMismatch { .. }), "{msg}");
    assert!(
        msg.contains(wrong.digest()) && msg.contains(sha256(&tar).digest()),
        "{msg}"
    );
    let sha512: Digest = format!("sha512:{}", "a".repeat(128)).parse().unwrap();
    let err = unpack_verified(
        &tar[..],
        Compression::None,
        &sb.dest,
        WhiteoutMode::Apply,
        &Limits::default(),
        &sha512,
    )
    .unwrap_err();
    assert!(matches!(err, LayerError::UnsupportedDigest(_)), "{err}");
}

#[test]
fn root_devices_and_fifos_are_created() {
    let sb = Sandbox::new();
    let tar = Layer::new()
        .node("dev/null", EntryType::Char, 1, 3, 0o666)
        .node("dev/loop0", EntryType::Block, 7, 0, 0o660)
        .owner(5, 6)
        .node("run/fifo", EntryType::Fifo, 0, 0, 0o4644)
        .tar();
    apply(&sb.dest, &tar, WhiteoutMode::Apply).unwrap();
    let null = fs::symlink_metadata(sb.dest.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    assert_eq!(null.mode() & 0o7777, 0o666, "mode is exact, not umasked");
    let lp = fs::symlink_metadata(sb.dest.join("dev/loop0")).unwrap();
    assert!(lp.file_type().is_block_device());
    assert_eq!(lp.rdev(), nix::sys::stat::makedev(7, 0));
    let fifo = fs::symlink_metadata(sb.dest.join("run/fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o4644);
    assert_eq!((fifo.uid(), fifo.gid()), (5, 6));
    assert_eq!(fifo.mtime() as u64, MTIME);
}

#[test]
fn root_pax_long_names_fractional_times_and_xattrs() {
    let sb = Sandbox::new();
    let long = format!("{}/{}", "d".repeat(120), "f".repeat(120));
    let xattr: &[(&str, &[u8])] = &[
        ("SCHILY.xattr.user.berth", b"yes"),
        ("mtime", b"1700000000.25"),
    ];
    let tar = Layer::new()
        .raw(
            EntryType::Regular,
            long.as_bytes(),
            b"",
            b"long",
            0o644,
            xattr,
        )
        .raw(EntryType::Directory, b"x", b"", b"", 0o755, xattr)
        .tar();
    apply(&sb.dest, &tar, WhiteoutMode::Apply).unwrap();
    let md = fs::metadata(sb.dest.join(&long)).unwrap();
    assert_eq!((md.mtime(), md.mtime_nsec()), (1_700_000_000, 250_000_000));
    assert_eq!(
        get_xattr(&sb.dest.join(&long), "user.berth").as_deref(),
        Some(&b"yes"[..])
    );
    assert_eq!(
        get_xattr(&sb.dest.join("x"), "user.berth").as_deref(),
        Some(&b"yes"[..])
    );
    assert_eq!(
        fs::metadata(sb.dest.join("x")).unwrap().mtime(),
        1_700_000_000
    );
}

#[test]
fn root_existing_entries_are_replaced_as_tar_does() {
    let sb = Sandbox::new();
    let lower = Layer::new()
        .file("a/x", b"lower", 0o644)
        .file("b", b"lower", 0o644)
        .file("c", b"lower", 0o644)
        .hardlink("c2", "c")
        .file("d/old", b"lower", 0o644)
        .tar();
    apply(&sb.dest, &lower, WhiteoutMode::Apply).unwrap();
    let upper = Layer::new()
        .file("a", b"file now", 0o644)
        .dir("b", 0o750)
        .file("b/y", b"in b", 0o644)
        .file("c", b"upper", 0o644)
        .dir("d", 0o700)
        .tar();
    apply(&sb.dest, &upper, WhiteoutMode::Apply).unwrap();
    let d = &sb.dest;
    assert_eq!(fs::read(d.join("a")).unwrap(), b"file now");
    assert_eq!(fs::read(d.join("b/y")).unwrap(), b"in b");
    assert_eq!(fs::read(d.join("c")).unwrap(), b"upper");
    assert_eq!(
        fs::read(d.join("c2")).unwrap(),
        b"lower",
        "hard link was rewritten"
    );
    assert_eq!(
        fs::read(d.join("d/old")).unwrap(),
        b"lower",
        "directories merge"
    );
    assert_eq!(fs::metadata(d.join("d")).unwrap().mode() & 0o7777, 0o700);
    sb.assert_untouched();
}
