//! Caps and broken streams (needs root, like every unpack test): decompression bombs stop at
//! the size cap, quickly; entry and header caps; truncated and corrupt streams are errors.

use std::fs;
use std::time::{Duration, Instant};

use tar::{EntryType, Header};

use super::test_tars::{gzip, zstd, Layer, Sandbox};
use super::{unpack, Compression, LayerError, Limits, WhiteoutMode};

const GIB: u64 = 1 << 30;
const CAP: u64 = 64 << 20;

/// A layer holding one 1 GiB file of zeros, compressed as concatenated members/frames (one
/// per MiB), which both decoders accept as one stream: about 1 MB of gzip, 50 KB of zstd.
fn bomb(compress: fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut header = Header::new_gnu();
    header.set_path("zeros").unwrap();
    header.set_entry_type(EntryType::Regular);
    header.set_size(GIB);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    let mut out = compress(header.as_bytes());
    let chunk = compress(&vec![0u8; 1 << 20]);
    for _ in 0..(GIB >> 20) {
        out.extend_from_slice(&chunk);
    }
    out
}

#[test]
fn root_decompression_bombs_stop_at_the_cap() {
    for (compression, blob) in [
        (Compression::Gzip, bomb(gzip)),
        (Compression::Zstd, bomb(zstd)),
    ] {
        assert!(
            blob.len() < 2 << 20,
            "{compression:?} bomb is {} bytes",
            blob.len()
        );
        let sb = Sandbox::new();
        let limits = Limits {
            max_uncompressed: CAP,
            ..Limits::default()
        };
        let start = Instant::now();
        let err = unpack(
            &blob[..],
            compression,
            &sb.dest,
            WhiteoutMode::Apply,
            &limits,
        )
        .unwrap_err();
        let took = start.elapsed();
        assert!(matches!(err, LayerError::TooLarge { max: CAP }), "{err}");
        assert!(err.to_string().contains(&CAP.to_string()), "{err}");
        // Reading the whole GiB would take many times longer than reaching 64 MiB.
        assert!(
            took < Duration::from_secs(30),
            "{compression:?} took {took:?}"
        );
        let written = fs::metadata(sb.dest.join("zeros")).unwrap().len();
        assert!(written <= CAP, "wrote {written} bytes");
        sb.assert_untouched();
    }
}

#[test]
fn root_entry_cap_is_enforced() {
    let mut layer = Layer::new();
    for i in 0..20 {
        layer = layer.file(&format!("f{i}"), b"", 0o644);
    }
    let sb = Sandbox::new();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let tar = layer.tar();
    let err = unpack(
        &tar[..],
        Compression::None,
        &sb.dest,
        WhiteoutMode::Apply,
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(err, LayerError::TooManyEntries { max: 10 }),
        "{err}"
    );
    assert!(err.to_string().contains("10"), "{err}");
    // Exactly at the cap is fine.
    let limits = Limits {
        max_entries: 20,
        ..limits
    };
    let sb = Sandbox::new();
    unpack(
        &tar[..],
        Compression::None,
        &sb.dest,
        WhiteoutMode::Apply,
        &limits,
    )
    .unwrap();
}

#[test]
fn root_oversized_pax_header_is_refused_before_it_is_buffered() {
    let huge = vec![b'a'; 4 << 20];
    let tar = Layer::new()
        .raw(
            EntryType::Regular,
            b"f",
            b"",
            b"",
            0o644,
            &[("comment", &huge)],
        )
        .tar();
    let sb = Sandbox::new();
    let err = unpack(
        &tar[..],
        Compression::None,
        &sb.dest,
        WhiteoutMode::Apply,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, LayerError::HeaderTooLarge { .. }), "{err}");
}

#[test]
fn root_truncated_and_corrupt_streams_are_errors() {
    let tar = Layer::new().file("big", &vec![7u8; 100_000], 0o644).tar();
    let cut = &tar[..50_000];
    let sb = Sandbox::new();
    let err = unpack(
        cut,
        Compression::None,
        &sb.dest,
        WhiteoutMode::Apply,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            LayerError::Truncated {
                expected: 100_000,
                ..
            }
        ),
        "{err}"
    );

    let gz = gzip(&tar);
    let sb = Sandbox::new();
    let err = unpack(
        &gz[..gz.len() / 2],
        Compression::Gzip,
        &sb.dest,
        WhiteoutMode::Apply,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, LayerError::Read(_) | LayerError::Truncated { .. }),
        "{err}"
    );

    let sb = Sandbox::new();
    let garbage = vec![0x1f, 0x8b, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8];
    let err = unpack(
        &garbage[..],
        Compression::Gzip,
        &sb.dest,
        WhiteoutMode::Apply,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, LayerError::Read(_)), "{err}");

    let mut bad_sum = tar.clone();
    bad_sum[0] ^= 1;
    let sb = Sandbox::new();
    let err = unpack(
        &bad_sum[..],
        Compression::None,
        &sb.dest,
        WhiteoutMode::Apply,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("layer stream"), "{err}");
    let missing = sb.dest.join("missing");
    let err = unpack(
        &tar[..],
        Compression::None,
        &missing,
        WhiteoutMode::Apply,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, LayerError::OpenDest { .. }), "{err}");
}
