//! `top`: the container's processes as `ps` shows them (docker runs `ps` on the host and
//! keeps the rows whose PID is in the container's cgroup; so do we).

use std::process::Command;

use super::{Engine, EngineError};
use crate::container::lifecycle::{ErrorKind, LifecycleError};
use crate::container::record::Status;

/// The `ps` columns (`-o` format) shown by default.
pub const DEFAULT_PS_FORMAT: &str = "pid,user,time,args";

/// Column titles and one row per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TopError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("Cannot run ps")]
    Spawn(#[source] std::io::Error),
    #[error("ps failed: {0}")]
    Ps(String),
    #[error("Unexpected output from ps: {0:?}")]
    Output(String),
}

impl From<EngineError> for TopError {
    fn from(e: EngineError) -> Self {
        TopError::Engine(Box::new(e))
    }
}

impl TopError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            TopError::Engine(e) => e.kind(),
            _ => ErrorKind::Internal,
        }
    }
}

impl Engine {
    /// The processes of the running (or paused) container `reference`.
    pub fn top(&self, reference: &str) -> Result<Top, TopError> {
        let pids = self.inner.locked(reference, |ctx, record| {
            match ctx.containers.status(&record.id)?.status {
                Status::Running | Status::Paused => {}
                _ => return Err(LifecycleError::NotRunning(record.id.clone())),
            }
            let container = berth_runtime::Container::load(ctx.runtime_root, &record.id)?;
            Ok(container.pids()?)
        })?;
        let output = Command::new("ps")
            .args(["-e", "-ww", "-o", DEFAULT_PS_FORMAT])
            .env("LC_ALL", "C")
            .output()
            .map_err(TopError::Spawn)?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(TopError::Ps(stderr.trim().to_string()));
        }
        parse(&String::from_utf8_lossy(&output.stdout), &pids)
    }
}

/// `ps` output: a header, then rows whose last column (the command) may hold spaces. Only
/// the rows of `pids` are kept.
pub fn parse(text: &str, pids: &[i32]) -> Result<Top, TopError> {
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| TopError::Output(text.into()))?;
    let titles: Vec<String> = header.split_whitespace().map(str::to_string).collect();
    let pid_column = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| TopError::Output(header.into()))?;
    let mut processes = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let row = split_row(line, titles.len());
        let pid: i32 = row
            .get(pid_column)
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| TopError::Output(line.into()))?;
        if pids.contains(&pid) {
            processes.push(row);
        }
    }
    Ok(Top { titles, processes })
}

fn split_row(line: &str, columns: usize) -> Vec<String> {
    let mut row = Vec::with_capacity(columns);
    let mut rest = line.trim_start();
    while row.len() + 1 < columns {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        row.push(rest[..end].to_string());
        rest = rest[end..].trim_start();
    }
    row.push(rest.trim_end().to_string());
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_containers_rows_and_the_spaces_of_the_command() {
        let text = "  PID USER         TIME COMMAND\n    1 root     00:00:01 /sbin/init\n  42 root     00:00:00 sh -c sleep  30\n";
        let top = parse(text, &[42]).unwrap();
        assert_eq!(top.titles, ["PID", "USER", "TIME", "COMMAND"]);
        assert_eq!(
            top.processes,
            [vec!["42", "root", "00:00:00", "sh -c sleep  30"]]
        );
    }

    #[test]
    fn output_without_a_pid_column_is_an_error() {
        assert!(parse("USER\nroot\n", &[1]).is_err());
        assert!(parse("", &[1]).is_err());
    }
}
