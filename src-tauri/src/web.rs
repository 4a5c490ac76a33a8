//! `probe_url` (the onboarding checks a published port serves what it should) and
//! `open_url` (the user's browser). Both validate first: the probe reaches only this
//! machine's loopback, and the browser opens only web pages, never a file or a scheme
//! handler.

use std::time::Duration;

use serde::Serialize;
use tauri::AppHandle;
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::error::{AppError, CmdResult};

/// Enough of a page to check it, not enough to hurt.
const PROBE_LIMIT: usize = 64 * 1024;
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub status: u16,
    pub body: String,
}

/// An `http://` URL on 127.0.0.1 or localhost, else why not.
pub fn probe_target(url: &str) -> CmdResult<Url> {
    let parsed = Url::parse(url).map_err(|e| AppError::msg(format!("Invalid URL {url:?}: {e}")))?;
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost")) | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
    );
    if parsed.scheme() != "http" || !loopback || !parsed.username().is_empty() {
        return Err(AppError::msg(format!(
            "Only http://127.0.0.1 and http://localhost URLs can be probed, not {url:?}"
        )));
    }
    Ok(parsed)
}

/// An `http` or `https` URL, else why not.
pub fn browser_target(url: &str) -> CmdResult<Url> {
    let parsed = Url::parse(url).map_err(|e| AppError::msg(format!("Invalid URL {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(AppError::msg(format!(
            "Only http and https pages can be opened, not {url:?}"
        )));
    }
    Ok(parsed)
}

#[tauri::command]
pub async fn probe_url(url: String) -> CmdResult<Probe> {
    let target = probe_target(&url)?;
    let client = reqwest::Client::builder()
        .no_proxy()
        // A redirect could lead off the machine: the status says it redirected.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROBE_TIMEOUT)
        .build()
        .map_err(|e| AppError::msg(format!("Cannot make an HTTP client: {e}")))?;
    let failed = |e: reqwest::Error| AppError::msg(format!("Cannot load {url}: {}", cause(&e)));
    let mut response = client.get(target).send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        body.extend_from_slice(&chunk);
        if body.len() >= PROBE_LIMIT {
            body.truncate(PROBE_LIMIT);
            break;
        }
    }
    Ok(Probe {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The innermost cause: reqwest's own text ("error sending request") says little.
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

#[tauri::command]
pub async fn open_url(app: AppHandle, url: String) -> CmdResult<()> {
    let target = browser_target(&url)?;
    app.opener()
        .open_url(target.as_str(), None::<&str>)
        .map_err(|e| AppError::msg(format!("Cannot open {url}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn probes_reach_only_loopback_over_http() {
        for ok in [
            "http://127.0.0.1:8080/",
            "http://localhost:8080/index.html",
            "http://LOCALHOST/",
        ] {
            assert!(probe_target(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://127.0.0.1/",
            "http://example.com/",
            "http://10.0.0.1/",
            "http://127.0.0.2/",
            "http://[::1]/",
            "http://user@localhost/",
            "http://localhost.evil.com/",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(probe_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_browser_opens_only_web_pages() {
        assert!(browser_target("https://docs.docker.com/").is_ok());
        assert!(browser_target("http://localhost:8080").is_ok());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ssh://host",
            "mailto:a@b",
        ] {
            assert!(browser_target(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_probe_returns_the_status_and_a_bounded_body() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let body = "x".repeat(100 * 1024);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes()).await;
            let _ = conn.write_all(body.as_bytes()).await;
        });
        let probe = probe_url(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap();
        assert_eq!(probe.status, 200);
        assert_eq!(probe.body.len(), PROBE_LIMIT);
        // Nothing listens on a port just freed.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let err = probe_url(format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            err.message().starts_with("Cannot load"),
            "{}",
            err.message()
        );
    }
}
