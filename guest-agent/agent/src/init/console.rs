//! The serial console: the only place a VM's init can tell anyone what went wrong.

use std::os::fd::AsRawFd;

/// Makes fds 0-2 the console. The kernel opens /dev/console for init only when the
/// initramfs has that node; after devtmpfs is mounted it always exists.
pub fn attach() {
    // fd 1 valid: the kernel did it already.
    if nix::fcntl::fcntl(1, nix::fcntl::FcntlArg::F_GETFD).is_ok() {
        return;
    }
    let Ok(console) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")
    else {
        return;
    };
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors, which nothing in this process owns
        // yet (the check above found them closed).
        unsafe { libc::dup2(console.as_raw_fd(), fd) };
    }
}

pub fn info(message: &str) {
    eprintln!("{} berth-init: {message}", uptime());
}

/// A warning meant to be seen in a long boot log.
pub fn warn(message: &str) {
    eprintln!("{} berth-init: WARNING: {message}", uptime());
}

/// Seconds since boot in the kernel's own log format, so init's lines sort among the
/// kernel's and show where boot time goes.
fn uptime() -> String {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME) {
        Ok(t) => format!("[{:5}.{:06}]", t.tv_sec(), t.tv_nsec() / 1000),
        Err(_) => String::new(),
    }
}

/// An error and its sources, each once.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !message.contains(&part) {
            message.push_str(": ");
            message.push_str(&part);
        }
        source = s.source();
    }
    message
}
