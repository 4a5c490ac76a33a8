//! `--console-socket`: the runtime hands the pty master to the caller.

use std::fs::File;
use std::io::{IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use serde_json::json;

use crate::common::sandbox::path_str;
use crate::common::Sandbox;

/// Accepts one connection and returns the first fd it passes with SCM_RIGHTS.
fn receive_fd(listener: &UnixListener) -> Result<OwnedFd, String> {
    let (stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .map_err(|e| format!("recvmsg: {e}"))?;
    for cmsg in msg.cmsgs().map_err(|e| format!("cmsgs: {e}"))? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel installed this descriptor in our table for
                // this message; nothing else owns it.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err("the runtime's message carried no file descriptor".to_owned())
}

/// Reads the pty master until the slave side closes (EIO) or EOF.
fn read_until_hangup(master: OwnedFd) -> String {
    let mut file = File::from(master);
    let mut text = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n) = file.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&text).into_owned()
}

#[test]
fn console_socket_receives_a_pty_master_attached_to_the_process() {
    let sandbox = Sandbox::new("console");
    let socket = sandbox.path().join("console.sock");
    let listener = UnixListener::bind(&socket).expect("bind console socket");
    let (connected_tx, connected) = mpsc::channel();
    let (text_tx, text) = mpsc::channel();
    // Reads as soon as the master arrives, so no output is lost while the test
    // calls `start`.
    thread::spawn(move || match receive_fd(&listener) {
        Ok(master) => {
            let _ = connected_tx.send(Ok(()));
            let _ = text_tx.send(read_until_hangup(master));
        }
        Err(e) => {
            let _ = connected_tx.send(Err(e));
        }
    });

    let mut bundle = sandbox.bundle("c");
    bundle.spec["process"]["terminal"] = json!(true);
    bundle.sh("tty; test -t 1 && echo stdout-is-a-tty");
    sandbox
        .create_as(
            &bundle,
            &bundle.id,
            &["--console-socket", path_str(&socket)],
        )
        .expect_ok();
    connected
        .recv_timeout(Duration::from_secs(30))
        .expect("the runtime never connected to the console socket")
        .unwrap_or_else(|e| panic!("{e}"));
    sandbox.runtime(&["start", &bundle.id]).expect_ok();
    let text = text
        .recv_timeout(Duration::from_secs(30))
        .expect("the pty never hung up");
    sandbox.wait_status(&bundle.id, "stopped");
    assert_eq!(text.replace('\r', ""), "/dev/pts/0\nstdout-is-a-tty\n");
}
