//! Powering the VM off: what PID 1 does instead of exiting (init exiting, or panicking,
//! is a kernel panic, and a VM that hangs silently is worse than one that stops).

use std::time::Duration;

/// Syncs and powers off; never returns.
pub fn power_off() -> ! {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    // SAFETY: reboot(2) with a valid command; as PID 1 with CAP_SYS_BOOT it does not
    // return on success.
    unsafe { libc::reboot(libc::RB_POWER_OFF) };
    // Not PID 1, or no CAP_SYS_BOOT: there is nothing better to do than wait.
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// A fatal init error: say why on the console, give the serial log time to flush, stop.
pub fn fatal(reason: &str) -> ! {
    eprintln!("berth-init: FATAL: {reason}");
    eprintln!("berth-init: powering off in 5 seconds");
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    std::thread::sleep(Duration::from_secs(5));
    power_off()
}

/// A panic in PID 1 would abort (release builds use panic=abort) and panic the kernel:
/// report it and power off instead.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| fatal(&format!("panic: {info}"))));
}

/// Stops every other process: SIGTERM, a moment, SIGKILL. For the last step of shutdown.
pub fn kill_everything(grace: Duration) {
    // SAFETY: kill(-1) signals every process but init itself, which is what shutdown wants.
    unsafe { libc::kill(-1, libc::SIGTERM) };
    std::thread::sleep(grace);
    // SAFETY: as above.
    unsafe { libc::kill(-1, libc::SIGKILL) };
}
