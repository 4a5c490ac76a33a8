//! `--log` / `--log-format`: podman and conmon read the runtime's log file (JSON lines
//! with a `msg` field) to explain failures to their users.

use std::fs::OpenOptions;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

use crate::cli::{Global, LogFormat};

pub fn init(global: &Global) -> std::io::Result<()> {
    let level = if global.debug { "debug" } else { "warn" };
    let filter = EnvFilter::try_from_env("BERTH_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    match (&global.log, global.log_format) {
        (Some(path), format) => {
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            let writer = Mutex::new(file);
            if format == LogFormat::Json {
                builder.json().flatten_event(true).with_writer(writer).init();
            } else {
                builder.with_ansi(false).with_writer(writer).init();
            }
        }
        (None, LogFormat::Json) => builder.json().flatten_event(true).with_writer(std::io::stderr).init(),
        // On stderr the final error is printed plainly by main; only warnings/debug here.
        (None, LogFormat::Text) => builder.with_writer(std::io::stderr).without_time().init(),
    }
    Ok(())
}
