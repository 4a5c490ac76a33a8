//! `GET /exec/{id}/json`.

use axum::extract::{Path, State};
use axum::Json;
use bollard_stubs::models::{ExecInspectResponse, ProcessConfig};

use crate::api::error::ApiResult;
use crate::api::state::AppState;

pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExecInspectResponse>> {
    let session = state.execs.get(&id)?;
    let config = &session.config;
    let cmd = config.cmd.clone().unwrap_or_default();
    let exec_state = session.state();
    Ok(Json(ExecInspectResponse {
        can_remove: Some(false),
        detach_keys: Some(config.detach_keys.clone().unwrap_or_default()),
        id: Some(session.id.clone()),
        running: Some(exec_state.running),
        exit_code: exec_state.exit_code,
        process_config: Some(ProcessConfig {
            privileged: Some(config.privileged.unwrap_or(false)),
            user: Some(config.user.clone().unwrap_or_default()),
            tty: Some(config.tty.unwrap_or(false)),
            entrypoint: cmd.first().cloned(),
            arguments: Some(cmd.iter().skip(1).cloned().collect()),
        }),
        open_stdin: Some(config.attach_stdin.unwrap_or(false)),
        open_stderr: Some(config.attach_stderr.unwrap_or(false)),
        open_stdout: Some(config.attach_stdout.unwrap_or(false)),
        container_id: Some(session.container_id.clone()),
        pid: Some(0),
    }))
}
