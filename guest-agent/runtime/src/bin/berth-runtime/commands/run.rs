//! `run`: create + start, then wait for the container's init while forwarding the signals
//! a user sends to us (Ctrl-C, SIGTERM, ...), then delete. Exit code is the container's.

use std::path::Path;

use anyhow::Context;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::cli::RunArgs;

const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

pub fn run(root: &Path, args: RunArgs) -> anyhow::Result<u8> {
    if args.detach {
        let mut container = super::create::build(root, args.create)?;
        container.start()?;
        return Ok(0);
    }
    // The container's init is orphaned by set-up's intermediate process; as a subreaper we
    // become its parent and can wait for it.
    nix::sys::prctl::set_child_subreaper(true).context("Cannot become a subreaper")?;
    let mut container = super::create::build(root, args.create)?;
    let mut mask = SigSet::empty();
    FORWARDED.iter().for_each(|s| mask.add(*s));
    mask.add(Signal::SIGCHLD);
    mask.thread_block().context("Cannot block signals")?;
    let started = container.start();
    let code = match started {
        Ok(()) => wait_forwarding(Pid::from_raw(container.state.pid), &mask)?,
        Err(e) => {
            let _ = container.clone().delete(true);
            return Err(e.into());
        }
    };
    if !args.keep {
        berth_runtime::Container::load(root, container.id())?.delete(true)?;
    }
    Ok(u8::try_from(code).unwrap_or(255))
}

fn wait_forwarding(init: Pid, mask: &SigSet) -> anyhow::Result<i32> {
    let sfd = SignalFd::new(mask).context("Cannot create a signalfd")?;
    loop {
        // Reap anything that exited (init, or orphans re-parented to us).
        loop {
            match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == init => return Ok(code),
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == init => return Ok(128 + sig as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        let Some(info) = sfd.read_signal().context("Cannot read signals")? else {
            continue;
        };
        let signo = info.ssi_signo as i32;
        if signo != Signal::SIGCHLD as i32 {
            if let Ok(sig) = Signal::try_from(signo) {
                let _ = kill(init, sig);
            }
        }
    }
}
