//! Writer and reader together: the file format, partial lines, rotation, and the read
//! options, including a follow that crosses a rotation.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn setup(opts: WriterOptions) -> (tempfile::TempDir, PathBuf, Writer) {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(dir.path(), "c1");
    let writer = Writer::open(&path, opts).unwrap();
    (dir, path, writer)
}

fn read_all(path: &Path, opts: &ReadOptions) -> (Vec<Entry>, ReadStats) {
    let mut entries = Vec::new();
    let stats = read(
        path,
        opts,
        || true,
        |e| {
            entries.push(e);
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    (entries, stats)
}

fn texts(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| e.log.clone()).collect()
}

#[test]
fn lines_become_docker_json_entries_per_stream() {
    let (_dir, path, mut w) = setup(WriterOptions::default());
    w.write(Stream::Stdout, b"one\ntw", at(1)).unwrap();
    w.write(Stream::Stderr, b"err\n", at(2)).unwrap();
    w.write(Stream::Stdout, b"o\n", at(3)).unwrap();
    w.write(Stream::Stderr, b"tail", at(4)).unwrap();
    w.finish(Stream::Stderr, at(5)).unwrap();
    let raw = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        raw.lines().next().unwrap(),
        r#"{"log":"one\n","stream":"stdout","time":"2023-11-14T22:13:21.000000000Z"}"#
    );
    let (entries, stats) = read_all(&path, &ReadOptions::default());
    assert_eq!(stats.malformed, 0);
    let got: Vec<_> = entries.iter().map(|e| (e.stream, e.log.as_str())).collect();
    assert_eq!(
        got,
        [
            (Stream::Stdout, "one\n"),
            (Stream::Stderr, "err\n"),
            (Stream::Stdout, "two\n"),
            (Stream::Stderr, "tail"),
        ]
    );
    assert_eq!(entries[2].time, at(3));
    assert!(entries[3].is_partial());
}

#[test]
fn fifty_megabytes_without_newline_become_bounded_partial_entries() {
    let (_dir, path, mut w) = setup(WriterOptions {
        max_size: None,
        max_files: 1,
    });
    let chunk = vec![b'a'; 64 * 1024];
    let total = 50 * 1000 * 1000;
    let mut written = 0;
    let mut peak = 0;
    while written < total {
        let n = chunk.len().min(total - written);
        w.write(Stream::Stdout, &chunk[..n], at(1)).unwrap();
        written += n;
        peak = peak.max(w.buffered_capacity());
    }
    w.finish(Stream::Stdout, at(2)).unwrap();
    // Two line buffers and one batch, whatever the volume.
    assert!(
        peak <= 2 * LINE_LIMIT + 2 * 32 * 1024 + LINE_LIMIT,
        "peak {peak}"
    );
    let (entries, stats) = read_all(&path, &ReadOptions::default());
    assert_eq!(stats.malformed, 0);
    assert!(entries
        .iter()
        .all(|e| e.log.len() <= LINE_LIMIT && e.is_partial()));
    assert_eq!(entries.iter().map(|e| e.log.len()).sum::<usize>(), total);
    assert_eq!(entries.len(), total.div_ceil(LINE_LIMIT));
}

#[test]
fn partial_entries_never_cut_a_character_and_a_full_line_fits_the_limit() {
    let (_dir, path, mut w) = setup(WriterOptions::default());
    let long = "€".repeat(20_000); // 60,000 bytes
    w.write(Stream::Stdout, long.as_bytes(), at(1)).unwrap();
    w.write(Stream::Stdout, b"\n", at(1)).unwrap();
    // The limit counts the newline: LIMIT-1 characters fit one entry, LIMIT do not.
    let exact = "x".repeat(LINE_LIMIT - 1);
    let over = "y".repeat(LINE_LIMIT);
    w.write(
        Stream::Stderr,
        format!("{exact}\n{over}\n").as_bytes(),
        at(1),
    )
    .unwrap();
    let (entries, _) = read_all(&path, &ReadOptions::default());
    let (out, err): (Vec<_>, Vec<_>) = entries.iter().partition(|e| e.stream == Stream::Stdout);
    assert!(out
        .iter()
        .all(|e| e.log.len() <= LINE_LIMIT && !e.log.contains('\u{fffd}')));
    assert_eq!(
        out.iter().map(|e| e.log.as_str()).collect::<String>(),
        long + "\n"
    );
    assert_eq!(
        texts(&err.into_iter().cloned().collect::<Vec<_>>()),
        [exact + "\n", over, "\n".to_owned()]
    );
}

#[test]
fn rotation_keeps_at_most_max_files_and_reads_in_order() {
    let (_dir, path, mut w) = setup(WriterOptions {
        max_size: Some(1000),
        max_files: 3,
    });
    for i in 0..200 {
        w.write(Stream::Stdout, format!("line {i}\n").as_bytes(), at(i))
            .unwrap();
    }
    for n in 0..3 {
        let size = std::fs::metadata(rotated_path(&path, n)).unwrap().len();
        assert!(size > 0 && size <= 1000, "file {n}: {size} bytes");
    }
    assert!(!rotated_path(&path, 3).exists());
    let (entries, _) = read_all(&path, &ReadOptions::default());
    let first: usize = entries[0].log["line ".len()..].trim().parse().unwrap();
    let want: Vec<String> = (first..200).map(|i| format!("line {i}\n")).collect();
    assert_eq!(texts(&entries), want);
    assert!(
        first > 150,
        "three 1000-byte files hold ~36 of these entries"
    );
}

#[test]
fn a_single_file_is_truncated_instead_of_rotated() {
    let (_dir, path, mut w) = setup(WriterOptions {
        max_size: Some(500),
        max_files: 1,
    });
    for i in 0..50 {
        w.write(Stream::Stdout, format!("{i}\n").as_bytes(), at(i))
            .unwrap();
    }
    assert!(std::fs::metadata(&path).unwrap().len() <= 500);
    assert!(!rotated_path(&path, 1).exists());
    let (entries, _) = read_all(&path, &ReadOptions::default());
    assert_eq!(entries.last().unwrap().log, "49\n");
}

#[test]
fn tail_since_and_until_select_entries_across_rotated_files() {
    let (_dir, path, mut w) = setup(WriterOptions {
        max_size: Some(400),
        max_files: 10,
    });
    for i in 0..30 {
        w.write(Stream::Stdout, format!("{i}\n").as_bytes(), at(i))
            .unwrap();
    }
    assert!(rotated_path(&path, 2).exists(), "the log must span files");
    let cases: [(ReadOptions, std::ops::Range<u64>); 5] = [
        (ReadOptions::default(), 0..30),
        (
            ReadOptions {
                tail: Some(12),
                ..Default::default()
            },
            18..30,
        ),
        (
            ReadOptions {
                tail: Some(0),
                ..Default::default()
            },
            0..0,
        ),
        (
            ReadOptions {
                since: Some(at(25)),
                ..Default::default()
            },
            25..30,
        ),
        (
            ReadOptions {
                since: Some(at(3)),
                until: Some(at(7)),
                tail: Some(28),
                ..Default::default()
            },
            3..8,
        ),
    ];
    for (opts, want) in cases {
        let (entries, _) = read_all(&path, &opts);
        let want: Vec<String> = want.map(|i| format!("{i}\n")).collect();
        assert_eq!(texts(&entries), want, "{opts:?}");
    }
}

#[test]
fn malformed_lines_are_counted_and_skipped() {
    let (_dir, path, mut w) = setup(WriterOptions::default());
    w.write(Stream::Stdout, b"before\n", at(1)).unwrap();
    let mut raw = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut raw, b"not json\n{\"log\":1}\n\n").unwrap();
    w.write(Stream::Stdout, b"after\n", at(2)).unwrap();
    let (entries, stats) = read_all(&path, &ReadOptions::default());
    assert_eq!(texts(&entries), ["before\n", "after\n"]);
    assert_eq!(
        stats,
        ReadStats {
            entries: 2,
            malformed: 3
        }
    );
    let mut out = Vec::new();
    entries[1].write_to(&mut out, true).unwrap();
    assert_eq!(out, b"2023-11-14T22:13:22.000000000Z after\n");
}

#[test]
fn follow_sees_appended_lines_and_a_rotation_then_stops() {
    let (_dir, path, mut w) = setup(WriterOptions {
        max_size: Some(300),
        max_files: 3,
    });
    w.write(Stream::Stdout, b"old 1\nold 2\n", at(0)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let opts = ReadOptions {
                tail: Some(1),
                follow: true,
                ..Default::default()
            };
            read(
                &path,
                &opts,
                || stop.load(Ordering::SeqCst),
                |e| {
                    tx.send(e.log).unwrap();
                    ControlFlow::Continue(())
                },
            )
            .unwrap()
        })
    };
    let recv = || rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(recv(), "old 2\n");
    // Each entry is ~75 bytes: these rotate the 300-byte file several times, slowly
    // enough that the reader sees each rotation.
    for i in 0..12 {
        w.write(Stream::Stdout, format!("new {i}\n").as_bytes(), at(1))
            .unwrap();
        assert_eq!(recv(), format!("new {i}\n"));
        if i % 3 == 0 {
            std::thread::sleep(Duration::from_millis(120));
        }
    }
    assert!(rotated_path(&path, 2).exists());
    // Written just before the stop: still delivered.
    w.write(Stream::Stdout, b"last\n", at(2)).unwrap();
    stop.store(true, Ordering::SeqCst);
    let stats = reader.join().unwrap();
    assert_eq!(recv(), "last\n");
    assert_eq!(stats.entries, 14);
}

#[test]
fn follow_waits_for_the_log_to_appear_and_ends_after_until() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(dir.path(), "late");
    let reader = {
        let path = path.clone();
        std::thread::spawn(move || {
            let opts = ReadOptions {
                until: Some(at(5)),
                follow: true,
                ..Default::default()
            };
            let mut got = Vec::new();
            read(
                &path,
                &opts,
                || false,
                |e| {
                    got.push(e.log);
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
            got
        })
    };
    std::thread::sleep(Duration::from_millis(150));
    let mut w = Writer::open(&path, WriterOptions::default()).unwrap();
    w.write(Stream::Stdout, b"early\n", at(4)).unwrap();
    w.write(Stream::Stdout, b"late\n", at(6)).unwrap();
    assert_eq!(reader.join().unwrap(), ["early\n"]);
}
