//! `container_logs`: a container's output as lines on a channel.

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{State, Window};

use crate::docker;
use crate::error::CmdResult;
use crate::state::AppState;
use crate::streams::StreamId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LogLine {
    Line {
        stream: Stream,
        text: String,
    },
    /// The read is over: all of a non-follow read, or a followed container stopped.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[tauri::command]
pub async fn container_logs(
    window: Window,
    state: State<'_, AppState>,
    id: String,
    follow: bool,
    timestamps: bool,
    tail: Option<u32>,
    on_line: Channel<LogLine>,
) -> CmdResult<StreamId> {
    let docker = docker::connect(&state.dirs)?;
    // Ask once before streaming, so a bad id rejects the command instead of ending an
    // empty stream.
    docker.inspect_container(&id, None).await?;
    let options = LogsOptions {
        follow,
        stdout: true,
        stderr: true,
        timestamps,
        tail: tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
        ..Default::default()
    };
    let stream_id = state.streams.next_id();
    state.streams.spawn(stream_id, window.label(), async move {
        let mut logs = docker.logs(&id, Some(options));
        let mut lines = LineSplitter::default();
        let send = |line: LogLine| on_line.send(line).is_ok();
        while let Some(Ok(chunk)) = logs.next().await {
            let (stream, bytes) = match chunk {
                LogOutput::StdErr { message } => (Stream::Stderr, message),
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    (Stream::Stdout, message)
                }
                LogOutput::StdIn { .. } => continue,
            };
            if !lines.feed(stream, &bytes).into_iter().all(send) {
                return;
            }
        }
        if lines.finish().into_iter().all(send) {
            send(LogLine::End);
        }
    });
    Ok(stream_id)
}

/// Cuts each stream's bytes into lines. A frame may hold several lines or part of one
/// (a TTY container writes what it likes); a partial line waits for its end.
#[derive(Debug, Default)]
pub struct LineSplitter {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl LineSplitter {
    pub fn feed(&mut self, stream: Stream, bytes: &[u8]) -> Vec<LogLine> {
        let buffer = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            out.push(line_of(stream, &line[..end]));
        }
        out
    }

    /// The partial lines left when the stream ends.
    pub fn finish(&mut self) -> Vec<LogLine> {
        let mut out = Vec::new();
        for (stream, buffer) in [
            (Stream::Stdout, &mut self.stdout),
            (Stream::Stderr, &mut self.stderr),
        ] {
            if !buffer.is_empty() {
                out.push(line_of(stream, buffer));
                buffer.clear();
            }
        }
        out
    }
}

fn line_of(stream: Stream, bytes: &[u8]) -> LogLine {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    LogLine::Line {
        stream,
        text: String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(stream: Stream, text: &str) -> LogLine {
        LogLine::Line {
            stream,
            text: text.into(),
        }
    }

    #[test]
    fn frames_are_cut_into_lines_per_stream() {
        let mut s = LineSplitter::default();
        assert_eq!(
            s.feed(Stream::Stdout, b"hello\nwor"),
            vec![line(Stream::Stdout, "hello")]
        );
        assert_eq!(
            s.feed(Stream::Stderr, b"oops\r\n"),
            vec![line(Stream::Stderr, "oops")]
        );
        assert_eq!(
            s.feed(Stream::Stdout, b"ld\n\nlast"),
            vec![line(Stream::Stdout, "world"), line(Stream::Stdout, "")]
        );
        assert_eq!(s.finish(), vec![line(Stream::Stdout, "last")]);
        assert_eq!(s.finish(), vec![]);
        let json = serde_json::to_value(line(Stream::Stderr, "x")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "line", "stream": "stderr", "text": "x"})
        );
        assert_eq!(
            serde_json::to_value(LogLine::End).unwrap(),
            serde_json::json!({"kind": "end"})
        );
    }
}
