//! The parent <-> child channel used while a container (or an exec) is being set up: a
//! SOCK_SEQPACKET socketpair, one JSON message per packet, so message boundaries survive
//! and a dead peer reads as end-of-file instead of hanging.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::{Deserialize, Serialize};

use crate::error::{Context, Result, RuntimeError};

const MAX_MESSAGE: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Child -> parent: the first child created a user namespace; write its id maps.
    UserNsCreated,
    /// Child -> parent: the pid (in the parent's pid namespace) of the process that will
    /// become the container's process.
    Pid(i32),
    /// Init -> parent: namespaces are ready; run the prestart and createRuntime hooks.
    RunCreateRuntimeHooks,
    /// Init -> parent: set-up is complete; waiting for `start` (or exec'ing for exec).
    Ready,
    /// Child -> parent: set-up failed; the message carries the whole error chain.
    Error(String),
    /// Parent -> child: carry on.
    Continue,
}

#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context(|| "Cannot create the set-up socketpair".into())?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    pub fn send(&self, message: &Message) -> Result<()> {
        let bytes = serde_json::to_vec(message).expect("message serialises");
        send(self.fd.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL)
            .context(|| "Cannot talk to the container set-up peer".into())?;
        Ok(())
    }

    /// Next message, or `None` when the peer closed its end (exited or exec'd).
    pub fn recv(&self) -> Result<Option<Message>> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        let n = loop {
            match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(nix::Error::EINTR) => continue,
                other => break other,
            }
        }
        .context(|| "Cannot hear from the container set-up peer".into())?;
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n])
            .map(Some)
            .map_err(|e| RuntimeError::Setup(format!("garbled set-up message: {e}")))
    }

    /// Waits for `Continue`; anything else is a protocol error.
    pub fn wait_continue(&self) -> Result<()> {
        match self.recv()? {
            Some(Message::Continue) => Ok(()),
            Some(other) => Err(RuntimeError::Setup(format!(
                "unexpected set-up message {other:?}"
            ))),
            None => Err(RuntimeError::Setup(
                "the runtime went away during set-up".into(),
            )),
        }
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_their_boundaries_and_eof_is_none() {
        let (a, b) = pair().unwrap();
        a.send(&Message::Pid(42)).unwrap();
        a.send(&Message::Error("boom: x".into())).unwrap();
        assert_eq!(b.recv().unwrap(), Some(Message::Pid(42)));
        assert_eq!(b.recv().unwrap(), Some(Message::Error("boom: x".into())));
        drop(a);
        assert_eq!(b.recv().unwrap(), None);
    }
}
