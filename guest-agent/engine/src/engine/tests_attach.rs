//! Attach's pure parts: detach-key parsing, the detach watch across reads, the demuxer.

use std::io::Write;

use super::attach::{parse_detach_keys, AttachError, Demux, DetachWatch};
use super::ErrorKind;

#[test]
fn detach_keys_parse_docker_specs() {
    assert_eq!(parse_detach_keys(None).unwrap(), vec![0x10, 0x11]);
    assert_eq!(parse_detach_keys(Some("ctrl-a,x")).unwrap(), vec![1, b'x']);
    assert_eq!(
        parse_detach_keys(Some("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,CTRL-Z")).unwrap(),
        vec![0, 27, 28, 29, 30, 31, 26]
    );
    for bad in ["", "ctrl-", "ctrl-1", "ab", "ctrl-p,,ctrl-q", "alt-x"] {
        let err = parse_detach_keys(Some(bad)).unwrap_err();
        assert!(matches!(err, AttachError::DetachKeys(_)), "{bad:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
}

#[test]
fn detach_watch_holds_back_a_prefix_and_finds_the_sequence_across_reads() {
    let keys = [0x10, 0x11];
    let mut watch = DetachWatch::new(&keys);
    let mut out = Vec::new();
    assert!(!watch.feed(b"ab\x10", &mut out));
    assert_eq!(out, b"ab");
    assert_eq!(watch.pending(), b"\x10");
    // A broken sequence is passed on; a new start is held again.
    assert!(!watch.feed(b"c\x10\x10", &mut out));
    assert_eq!(out, b"ab\x10c\x10");
    assert!(watch.feed(b"\x11 after", &mut out));
    assert_eq!(out, b"ab\x10c\x10");

    let single = [b'q'];
    let mut watch = DetachWatch::new(&single);
    let mut out = Vec::new();
    assert!(watch.feed(b"xyq", &mut out));
    assert_eq!(out, b"xy");
}

#[test]
fn demux_splits_frames_written_in_any_pieces() {
    let stream = b"\x01\x00\x00\x00\x00\x00\x00\x03out\x02\x00\x00\x00\x00\x00\x00\x03err\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01!";
    for piece in [1, 3, 7, stream.len()] {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut demux = Demux::new(&mut stdout, &mut stderr);
        for chunk in stream.chunks(piece) {
            demux.write_all(chunk).unwrap();
        }
        drop(demux);
        assert_eq!(stdout, b"out!", "pieces of {piece}");
        assert_eq!(stderr, b"err");
    }
}

#[test]
fn raw_terminal_is_entered_on_a_terminal_only_and_restored_on_drop() {
    use std::os::fd::AsFd;

    use nix::sys::termios::{tcgetattr, LocalFlags};

    use super::RawTerminal;

    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = pty.slave.as_fd();
    assert!(tcgetattr(slave)
        .unwrap()
        .local_flags
        .contains(LocalFlags::ICANON));
    let raw = RawTerminal::enter(slave).unwrap().unwrap();
    assert!(!tcgetattr(slave)
        .unwrap()
        .local_flags
        .contains(LocalFlags::ICANON));
    drop(raw);
    assert!(tcgetattr(slave)
        .unwrap()
        .local_flags
        .contains(LocalFlags::ICANON));

    let file = tempfile::tempfile().unwrap();
    assert!(RawTerminal::enter(file.as_fd()).unwrap().is_none());
}
