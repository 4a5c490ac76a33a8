//! The Docker API client: bollard over the daemon's `docker.sock`.
//!
//! The app sends no `User-Agent` (hyper adds none, and neither does bollard): the daemon
//! announces each client program by its User-Agent as a `docker-client` event, and the
//! onboarding's "use the docker CLI" step must turn green for the real CLI only, never
//! for the app's own requests.

pub mod raw;

use berth_host::daemon::Paths;
use berth_host::state::StateDirs;
use bollard::{ClientVersion, Docker};

use crate::error::{AppError, CmdResult};

/// The API version the app speaks: the engine's newest (it refuses newer ones, and
/// bollard's default is newer).
pub const API_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 51,
};

/// Seconds a request may wait for its answer's head; streams run longer than that.
const TIMEOUT_SECS: u64 = 120;

/// A client for the daemon's Docker socket. Cheap: call it per command, so a daemon that
/// restarted (a new socket) is picked up at once.
pub fn connect(dirs: &StateDirs) -> CmdResult<Docker> {
    let socket = Paths::new(dirs).docker_socket;
    let path = socket
        .to_str()
        .ok_or_else(|| AppError::msg("The Docker socket's path is not UTF-8"))?;
    Ok(Docker::connect_with_unix(path, TIMEOUT_SECS, &API_VERSION)?)
}

/// True for a 404 from the engine (no such container, image or volume).
pub fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The onboarding depends on it: the app's requests must never look like the CLI's.
    #[tokio::test]
    async fn the_app_sends_no_docker_client_user_agent() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = StateDirs::at(dir.path());
        std::fs::create_dir_all(&dirs.run).unwrap();
        let listener = tokio::net::UnixListener::bind(Paths::new(&dirs).docker_socket).unwrap();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut head = vec![0u8; 4096];
            let n = conn.read(&mut head).await.unwrap();
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nOK",
            )
            .await
            .unwrap();
            String::from_utf8_lossy(&head[..n]).to_string()
        });
        let docker = connect(&dirs).unwrap();
        docker.ping().await.unwrap();
        let head = server.await.unwrap().to_ascii_lowercase();
        assert!(head.starts_with("get /_ping"), "{head}");
        assert!(!head.contains("user-agent"), "{head}");
    }
}
