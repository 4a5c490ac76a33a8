//! Starting a process inside namespaces, in two steps, because some namespaces only apply
//! to children: the runtime forks stage 1, which joins and creates namespaces (user first,
//! so the others are owned by it), then forks stage 2 — pid 1 of a new pid namespace, or a
//! member of the joined one — and exits. The parent (the runtime) places stage 1 in the
//! cgroup before it does anything, writes id maps when asked, and learns stage 2's pid.

use std::convert::Infallible;

use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, setresgid, setresuid, ForkResult, Gid, Pid, Uid};

use crate::error::{chain, Context, Result, RuntimeError};
use crate::namespaces::Namespaces;
use crate::sync::{Channel, Message};

/// What the parent must do for stage 1 while it runs.
pub trait Parent {
    /// Put the (stage 1) process into the container's cgroup.
    fn join_cgroup(&mut self, pid: Pid) -> Result<()>;
    /// Write uid_map/gid_map of the user namespace stage 1 created.
    fn write_id_maps(&mut self, pid: Pid) -> Result<()>;
}

/// Forks stage 1 and, through it, stage 2, which runs `stage2` and must never return on
/// success (it execs or blocks). Returns stage 2's pid once stage 1 has reported it; the
/// channel stays open for stage 2's messages.
pub fn spawn(
    ns: &Namespaces,
    parent: &mut dyn Parent,
    parent_chan: &Channel,
    child_chan: Channel,
    stage2: impl FnOnce(&Channel) -> Result<Infallible>,
) -> Result<Pid> {
    if single_stage_possible(ns) {
        return spawn_direct(ns, parent, parent_chan, child_chan, stage2);
    }
    // SAFETY: the runtime is single-threaded when it forks, so the child may run normal Rust.
    match unsafe { fork() }.context(|| "Cannot fork the container process".into())? {
        ForkResult::Child => {
            let code = match stage1(ns, &child_chan, stage2) {
                Ok(()) => 0,
                Err(e) => {
                    let _ = child_chan.send(&Message::Error(chain(&e)));
                    1
                }
            };
            // SAFETY: _exit skips atexit handlers and destructors meant for the runtime process.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(child_chan);
            let result = drive_stage1(child, parent, parent_chan);
            let _ = waitpid(child, None);
            result
        }
    }
}

fn drive_stage1(stage1: Pid, parent: &mut dyn Parent, chan: &Channel) -> Result<Pid> {
    parent.join_cgroup(stage1)?;
    chan.send(&Message::Continue)?;
    loop {
        match chan.recv()? {
            Some(Message::UserNsCreated) => {
                parent.write_id_maps(stage1)?;
                chan.send(&Message::Continue)?;
            }
            Some(Message::Pid(pid)) => return Ok(Pid::from_raw(pid)),
            Some(Message::Error(msg)) => return Err(RuntimeError::Init(msg)),
            Some(other) => {
                return Err(RuntimeError::Init(format!(
                    "unexpected set-up message {other:?}"
                )))
            }
            None => {
                return Err(RuntimeError::Init(
                    "the container process exited during set-up".into(),
                ))
            }
        }
    }
}

fn stage1(
    ns: &Namespaces,
    chan: &Channel,
    stage2: impl FnOnce(&Channel) -> Result<Infallible>,
) -> Result<()> {
    chan.wait_continue()?;
    ns.join_all()?;
    if ns.creates(CloneFlags::CLONE_NEWUSER) {
        unshare(CloneFlags::CLONE_NEWUSER).context(|| "Cannot create a user namespace".into())?;
        chan.send(&Message::UserNsCreated)?;
        chan.wait_continue()?;
        setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .context(|| "Cannot become root in the user namespace (is gid 0 mapped?)".into())?;
        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .context(|| "Cannot become root in the user namespace (is uid 0 mapped?)".into())?;
    }
    // The cgroup namespace is created by stage 2, after it is in its cgroup, so the
    // container sees its own cgroup as the root.
    let rest = ns.new - CloneFlags::CLONE_NEWUSER - CloneFlags::CLONE_NEWCGROUP;
    if !rest.is_empty() {
        unshare(rest).context(|| format!("Cannot create namespaces {rest:?}"))?;
    }
    // SAFETY: stage 1 is single-threaded (a fork of the single-threaded runtime).
    match unsafe { fork() }.context(|| "Cannot fork the container's first process".into())? {
        ForkResult::Child => {
            let err = match stage2(chan) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            let _ = chan.send(&Message::Error(chain(&err)));
            // SAFETY: _exit skips destructors meant for the runtime process.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => chan.send(&Message::Pid(child.as_raw())),
    }
}

/// Without a user namespace to create and no pid namespace to join, one clone(2) with the
/// namespace flags makes the container's process directly, saving a fork per container.
fn single_stage_possible(ns: &Namespaces) -> bool {
    !ns.creates(CloneFlags::CLONE_NEWUSER)
        && !ns
            .join
            .iter()
            .any(|(f, _)| *f == CloneFlags::CLONE_NEWPID || *f == CloneFlags::CLONE_NEWUSER)
}

fn spawn_direct(
    ns: &Namespaces,
    parent: &mut dyn Parent,
    parent_chan: &Channel,
    child_chan: Channel,
    stage2: impl FnOnce(&Channel) -> Result<Infallible>,
) -> Result<Pid> {
    // The cgroup namespace is created by the child once it is in its cgroup.
    let flags = (ns.new - CloneFlags::CLONE_NEWCGROUP).bits() as libc::c_ulong;
    // SAFETY: clone without CLONE_VM and with a null stack behaves like fork(2): the child
    // gets a copy of the address space and continues here. The runtime is single-threaded,
    // so no lock can be held by a thread that does not exist in the child.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags | libc::SIGCHLD as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if rc < 0 {
        return Err(nix::Error::last()).context(|| "Cannot create the container process".into());
    }
    if rc == 0 {
        let result = child_chan
            .wait_continue()
            .and_then(|()| ns.join_all())
            .and_then(|()| stage2(&child_chan));
        let err = match result {
            Ok(never) => match never {},
            Err(e) => e,
        };
        let _ = child_chan.send(&Message::Error(chain(&err)));
        // SAFETY: _exit skips destructors meant for the runtime process.
        unsafe { libc::_exit(1) }
    }
    drop(child_chan);
    let pid = Pid::from_raw(rc as i32);
    parent.join_cgroup(pid)?;
    parent_chan.send(&Message::Continue)?;
    Ok(pid)
}
