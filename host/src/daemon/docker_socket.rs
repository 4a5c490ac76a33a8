//! The Docker socket: each client connection gets its own vsock connection to the
//! engine's API (DESIGN.md: one connection per stream) and `copy_bidirectional`, which
//! passes each direction's end on (the [`HalfClose`] frames carry it over vsock), so
//! `docker run` without `-i`, `docker cp` and hijacked attach/exec streams work.
//!
//! The daemon also notes which client programs talk to it (the `User-Agent` of a
//! connection's first request): the app's onboarding turns its "use the docker CLI" step
//! green when a `Docker-Client/...` request arrives.
//!
//! [`HalfClose`]: berth_protocol::halfclose::HalfClose

use berth_protocol::halfclose::COPY_BUF;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use super::proto::{EventKind, Phase};
use super::shared::Shared;

/// The same client is announced again only after this long (the docker CLI opens a
/// connection per request; one event per command is plenty).
const CLIENT_EVENT_INTERVAL: Duration = Duration::from_secs(30);

/// Serves the Docker socket for the daemon's life.
pub async fn serve_docker(listener: UnixListener, shared: Shared) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        tokio::spawn(serve_client(client, shared.clone()));
    }
}

async fn serve_client(mut client: UnixStream, shared: Shared) {
    let vm = shared.vm();
    let mut guest = match vm.docker_api().await {
        Ok(guest) => guest,
        Err(e) => {
            tracing::debug!("docker.sock: cannot reach the engine: {e}");
            let _ = unavailable(&mut client, shared.phase()).await;
            return;
        }
    };
    // The first chunk usually holds the whole request head; it is passed on unchanged
    // after a look at its User-Agent.
    let mut first = vec![0u8; 8192];
    let n = match client.read(&mut first).await {
        Ok(0) | Err(_) => return,
        Ok(n) => n,
    };
    if let Some(agent) = user_agent(&first[..n]) {
        note_client(&shared, agent);
    }
    if guest.write_all(&first[..n]).await.is_err() {
        return;
    }
    let _ =
        tokio::io::copy_bidirectional_with_sizes(&mut client, &mut guest, COPY_BUF, COPY_BUF).await;
}

/// The `User-Agent` header of an HTTP request head (or the part of it at hand).
fn user_agent(head: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(head);
    let head = head.split("\r\n\r\n").next()?;
    head.split("\r\n").skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("user-agent")
            .then(|| value.trim().chars().take(200).collect())
    })
}

fn note_client(shared: &Shared, agent: String) {
    let now = Instant::now();
    {
        let mut inner = shared.lock();
        if let Some((last, at)) = &inner.last_docker_client {
            if *last == agent && now.duration_since(*at) < CLIENT_EVENT_INTERVAL {
                return;
            }
        }
        inner.last_docker_client = Some((agent.clone(), now));
    }
    shared.event(EventKind::DockerClient, agent);
}

/// Answers a Docker client while the engine cannot be reached, so `docker` prints why
/// instead of "EOF".
async fn unavailable(client: &mut UnixStream, phase: Phase) -> std::io::Result<()> {
    // Read the request head first: closing on unread bytes would reset the connection
    // and lose the answer.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
            match client.read(&mut buf).await? {
                0 => break,
                n => head.extend_from_slice(&buf[..n]),
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), read_head).await;
    let message = match phase {
        Phase::Stopped | Phase::Failed => {
            "Berth's VM is not running: run `berth start`".to_string()
        }
        phase => format!("Berth's VM is not ready yet ({})", phase.describe()),
    };
    let body = serde_json::json!({ "message": message }).to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(answer.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::user_agent;

    #[test]
    fn the_user_agent_is_read_from_the_request_head() {
        let head = b"GET /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.3.0 (linux)\r\n\r\n";
        assert_eq!(
            user_agent(head).as_deref(),
            Some("Docker-Client/28.3.0 (linux)")
        );
        assert_eq!(user_agent(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        // A body that looks like a header does not count.
        assert_eq!(
            user_agent(b"POST / HTTP/1.1\r\nHost: x\r\n\r\nUser-Agent: no"),
            None
        );
        assert_eq!(user_agent(b"\xff\xfe garbage"), None);
    }
}
