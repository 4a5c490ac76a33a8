//! `--log` / `--log-format`: podman and conmon read the runtime's log file (JSON lines
//! with a `msg` field) to explain failures to their users.

use std::fs::OpenOptions;
use std::sync::Mutex;

use tracing::level_filters::LevelFilter;

use crate::cli::{Global, LogFormat};

pub fn init(global: &Global) -> std::io::Result<()> {
    let level = if global.debug {
        LevelFilter::DEBUG
    } else {
        LevelFilter::WARN
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false);
    match (&global.log, global.log_format) {
        (Some(path), format) => {
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            let writer = Mutex::new(file);
            if format == LogFormat::Json {
                builder
                    .json()
                    .flatten_event(true)
                    .with_writer(writer)
                    .init();
            } else {
                builder.with_ansi(false).with_writer(writer).init();
            }
        }
        (None, LogFormat::Json) => builder
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .init(),
        // On stderr the final error is printed plainly by main; only warnings/debug here.
        (None, LogFormat::Text) => builder.with_writer(std::io::stderr).without_time().init(),
    }
    Ok(())
}
