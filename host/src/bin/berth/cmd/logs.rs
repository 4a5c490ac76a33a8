//! `berth logs`: the console log (QEMU's serial port), the agent's lines of it, or the
//! daemon's log; `--follow` polls the file for growth (both are plain files on disk).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use berth_host::state::StateDirs;

use super::paths;
use crate::cli::LogSource;

pub async fn logs(
    dirs: &StateDirs,
    source: LogSource,
    follow: bool,
    lines: usize,
) -> anyhow::Result<i32> {
    let path = match source {
        LogSource::Daemon => paths(dirs).log,
        // The QEMU backend's console file (see backend::qemu::files).
        LogSource::Console | LogSource::Agent => dirs.run.join("console.log"),
    };
    let keep = |line: &str| source != LogSource::Agent || is_agent_line(line);
    let mut file = open(&path)?;
    let mut text = Vec::new();
    file.read_to_end(&mut text)?;
    let text = String::from_utf8_lossy(&text);
    let kept: Vec<&str> = text.lines().filter(|l| keep(l)).collect();
    let first = if lines == 0 {
        0
    } else {
        kept.len().saturating_sub(lines)
    };
    let mut out = std::io::stdout().lock();
    for line in &kept[first..] {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    drop(out);
    if !follow {
        return Ok(0);
    }
    let mut offset = file.stream_position()?;
    let mut partial = String::new();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        // A new boot recreates the console log: start again from its beginning.
        let mut file = match open(&path) {
            Ok(f) => f,
            Err(_) => continue,
        };
        let len = file.metadata()?.len();
        if len < offset {
            offset = 0;
        }
        file.seek(SeekFrom::Start(offset))?;
        let mut fresh = Vec::new();
        file.read_to_end(&mut fresh)?;
        offset += fresh.len() as u64;
        partial.push_str(&String::from_utf8_lossy(&fresh));
        let mut out = std::io::stdout().lock();
        while let Some(end) = partial.find('\n') {
            let line: String = partial.drain(..=end).collect();
            if keep(line.trim_end()) {
                out.write_all(line.as_bytes())?;
            }
        }
        out.flush()?;
    }
}

fn open(path: &PathBuf) -> anyhow::Result<std::fs::File> {
    std::fs::File::open(path)
        .with_context(|| format!("No log at {} yet (has Berth been started?)", path.display()))
}

/// The agent prints `[uptime] berth-...: message`; the kernel's lines have no `berth-`.
fn is_agent_line(line: &str) -> bool {
    line.contains("berth-") || !line.trim_start().starts_with('[')
}

#[cfg(test)]
mod tests {
    #[test]
    fn agent_lines_are_told_from_the_kernels() {
        assert!(super::is_agent_line("[    1.2] berth-init: mounting"));
        assert!(!super::is_agent_line("[    0.0] Linux version 6.1"));
    }
}
