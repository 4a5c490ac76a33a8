//! Logging for Berth's host programs (the daemon, the app): plain lines on stderr, which
//! `berth start` and the app send to their log files. `BERTH_LOG=debug` for more.

/// Installs the stderr subscriber once; later calls do nothing.
pub fn init_stderr() {
    let level = std::env::var("BERTH_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
