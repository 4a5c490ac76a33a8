//! Terminals: an exec with a TTY in a container. Output goes to a channel (base64 of
//! the raw bytes: xterm.js parses the escape sequences, and a UTF-8 character may be
//! split across reads); input, resize and close come as commands.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::ResizeExecOptions;
use futures_util::StreamExt;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{State, Window};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::docker;
use crate::error::{AppError, CmdResult};
use crate::state::AppState;
use crate::streams::StreamId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TerminalOutput {
    Data { data: String },
    Exit { code: Option<i64> },
}

type Input = Arc<tokio::sync::Mutex<Pin<Box<dyn AsyncWrite + Send>>>>;

struct Terminal {
    exec_id: String,
    input: Input,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("exec_id", &self.exec_id)
            .finish_non_exhaustive()
    }
}

/// The open terminals' inputs, by id (the id of their output stream).
#[derive(Debug, Default, Clone)]
pub struct Terminals {
    open: Arc<Mutex<HashMap<StreamId, Terminal>>>,
}

impl Terminals {
    fn get(&self, id: StreamId) -> CmdResult<(String, Input)> {
        let open = self.open.lock().expect("terminals lock");
        let t = open
            .get(&id)
            .ok_or_else(|| AppError::msg(format!("No terminal {id}: it was closed")))?;
        Ok((t.exec_id.clone(), t.input.clone()))
    }

    /// Drops a terminal's input: the shell sees end-of-file.
    pub fn forget(&self, id: StreamId) {
        self.open.lock().expect("terminals lock").remove(&id);
    }
}

#[tauri::command]
pub async fn terminal_open(
    window: Window,
    state: State<'_, AppState>,
    container_id: String,
    cmd: Option<Vec<String>>,
    cols: u16,
    rows: u16,
    on_output: Channel<TerminalOutput>,
) -> CmdResult<StreamId> {
    let docker = docker::connect(&state.dirs)?;
    let cmd = cmd
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| vec!["sh".to_string()]);
    let exec = docker
        .create_exec(
            &container_id,
            ExecConfig {
                cmd: Some(cmd),
                // [height, width], as Docker wants it; also resized once started.
                console_size: Some(vec![usize::from(rows), usize::from(cols)])
                    .filter(|_| rows > 0 && cols > 0),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(true),
                env: Some(vec!["TERM=xterm-256color".to_string()]),
                ..Default::default()
            },
        )
        .await?;
    let started = docker
        .start_exec(
            &exec.id,
            Some(StartExecOptions {
                detach: false,
                tty: true,
                output_capacity: None,
            }),
        )
        .await?;
    let StartExecResults::Attached { mut output, input } = started else {
        return Err(AppError::msg("The engine started the exec detached"));
    };
    // Sized once it runs (a resize of an exec that has not started is refused).
    let _ = resize(&docker, &exec.id, cols, rows).await;
    let id = state.streams.next_id();
    state.terminals.open.lock().expect("terminals lock").insert(
        id,
        Terminal {
            exec_id: exec.id.clone(),
            input: Arc::new(tokio::sync::Mutex::new(input)),
        },
    );
    let terminals = state.terminals.clone();
    let exec_id = exec.id;
    state.streams.spawn(id, window.label(), async move {
        let b64 = base64::engine::general_purpose::STANDARD;
        while let Some(Ok(chunk)) = output.next().await {
            let data = b64.encode(chunk.into_bytes());
            if on_output.send(TerminalOutput::Data { data }).is_err() {
                break;
            }
        }
        terminals.forget(id);
        let code = docker
            .inspect_exec(&exec_id)
            .await
            .ok()
            .and_then(|e| e.exit_code);
        let _ = on_output.send(TerminalOutput::Exit { code });
    });
    Ok(id)
}

#[tauri::command]
pub async fn terminal_input(
    state: State<'_, AppState>,
    id: StreamId,
    data: String,
) -> CmdResult<()> {
    let (_, input) = state.terminals.get(id)?;
    let mut input = input.lock().await;
    input
        .write_all(data.as_bytes())
        .await
        .map_err(|e| AppError::io("The terminal's shell is gone", e))?;
    input
        .flush()
        .await
        .map_err(|e| AppError::io("The terminal's shell is gone", e))
}

#[tauri::command]
pub async fn terminal_resize(
    state: State<'_, AppState>,
    id: StreamId,
    cols: u16,
    rows: u16,
) -> CmdResult<()> {
    let (exec_id, _) = state.terminals.get(id)?;
    let docker = docker::connect(&state.dirs)?;
    resize(&docker, &exec_id, cols, rows).await
}

async fn resize(docker: &bollard::Docker, exec_id: &str, cols: u16, rows: u16) -> CmdResult<()> {
    if cols == 0 || rows == 0 {
        return Ok(());
    }
    let options = ResizeExecOptions {
        h: i32::from(rows),
        w: i32::from(cols),
    };
    Ok(docker.resize_exec(exec_id, options).await?)
}

/// Closes a terminal: its input ends (the shell exits on end-of-file) and its output
/// stream stops.
#[tauri::command]
pub async fn terminal_close(state: State<'_, AppState>, id: StreamId) -> CmdResult<()> {
    if let Ok((_, input)) = state.terminals.get(id) {
        let _ = input.lock().await.shutdown().await;
    }
    state.terminals.forget(id);
    state.streams.cancel(id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_has_the_contracts_shape() {
        let data = TerminalOutput::Data {
            data: "aGk=".into(),
        };
        assert_eq!(
            serde_json::to_value(data).unwrap(),
            serde_json::json!({"kind": "data", "data": "aGk="})
        );
        assert_eq!(
            serde_json::to_value(TerminalOutput::Exit { code: Some(0) }).unwrap(),
            serde_json::json!({"kind": "exit", "code": 0})
        );
    }
}
