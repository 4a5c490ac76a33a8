//! The one error type of the commands. The contract (docs/app.md) wants a rejected promise
//! to carry a plain string, the engine's or daemon's own message: [`AppError`] serializes
//! as exactly that, never as a Rust debug dump.

use berth_host::daemon::ClientError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Docker(#[from] bollard::errors::Error),
    #[error(transparent)]
    Daemon(#[from] ClientError),
    #[error(transparent)]
    State(#[from] berth_host::state::StateError),
    #[error(transparent)]
    Settings(#[from] berth_host::settings::SettingsError),
    #[error(transparent)]
    Spawn(#[from] berth_host::daemon::SpawnError),
    #[error(transparent)]
    Vm(#[from] berth_host::vm::VmError),
    #[error(transparent)]
    DaemonSetup(#[from] berth_host::daemon::DaemonError),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A bad argument or a refused request, said as the user should read it.
    #[error("{0}")]
    Message(String),
}

pub type CmdResult<T> = Result<T, AppError>;

impl AppError {
    pub fn msg(text: impl Into<String>) -> AppError {
        AppError::Message(text.into())
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> AppError {
        AppError::Io {
            context: context.into(),
            source,
        }
    }

    /// What the UI shows: the engine's message for a Docker error, else the error and
    /// its causes on one line, each said once.
    pub fn message(&self) -> String {
        match self {
            AppError::Docker(e) => docker_message(e),
            other => chain(other),
        }
    }
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.message())
    }
}

/// The engine's own words where it sent some (`{"message": ...}` bodies, error lines in
/// a stream), else bollard's description of what failed on the way.
pub fn docker_message(e: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    match e {
        E::DockerResponseServerError { message, .. } => message.clone(),
        E::DockerStreamError { error } => error.clone(),
        E::DockerContainerWaitError { error, .. } => error.clone(),
        E::SocketNotFoundError(_) => "Berth's engine is not running: start it first".into(),
        other => chain(other),
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        let line = c.to_string();
        if !line.is_empty() && !text.contains(&line) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&line);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_as_the_plain_message() {
        let e = AppError::Docker(bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message: "No such container: web".into(),
        });
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#""No such container: web""#
        );
        let e = AppError::io(
            "Cannot write /x",
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        );
        assert_eq!(e.message(), "Cannot write /x: denied");
        let e = AppError::Daemon(ClientError::NotRunning);
        assert_eq!(e.message(), "Berth is not running: run `berth start`");
    }
}
