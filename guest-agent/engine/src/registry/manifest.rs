//! Fetching a manifest or an index, bounded: oci-client reads a whole response body into
//! memory before anyone can look at its size, so manifests are asked here with the same
//! credentials (oci-client's auth flow gives the bearer token) and a body over
//! [`JSON_CAP`] is refused from its `Content-Length`, or, when the registry sends none or
//! keeps sending, as soon as the cap is passed. At most the cap is ever held.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use oci_client::errors::{OciDistributionError, OciEnvelope};
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use sha2::{Digest as _, Sha256};

use super::client::{self, Endpoint};
use super::{RegistryError, Result};
use crate::image::store::media::JSON_CAP;

/// The whole manifest request, body included, takes at most this long.
const TIMEOUT: Duration = Duration::from_secs(60);
/// An error body is read up to this much for its message.
const ERROR_BODY: usize = 64 * 1024;

/// Asks manifests of one registry with the credentials oci-client negotiated.
pub struct ManifestFetcher {
    http: reqwest::Client,
    endpoint: Endpoint,
    auth: RegistryAuth,
    /// The bearer token of oci-client's auth flow, when the registry asked for one.
    token: Option<String>,
}

impl std::fmt::Debug for ManifestFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestFetcher")
            .field("endpoint", &self.endpoint.host)
            .field("token", &self.token.as_ref().map(|_| "..."))
            .finish()
    }
}

/// Why a manifest request failed: the registry's answer (as oci-client would have
/// reported it, so the pull's error mapping and retries apply), or the size cap.
enum Failure {
    Oci(OciDistributionError),
    TooLarge(String),
    Digest(String),
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        Failure::Oci(OciDistributionError::RequestError(e))
    }
}

impl ManifestFetcher {
    /// Runs `auth` through oci-client's flow for pulling `remote` (a bearer token from
    /// the `WWW-Authenticate` realm with its service and scope, or Basic), which also
    /// leaves the token in `oci` for the blob downloads.
    pub async fn connect(
        endpoint: &Endpoint,
        oci: &oci_client::Client,
        remote: &Reference,
        auth: &RegistryAuth,
        map: impl Fn(OciDistributionError, u32) -> RegistryError,
    ) -> Result<ManifestFetcher> {
        let token = client::retry(|| oci.auth(remote, auth, RegistryOperation::Pull))
            .await
            .map_err(|(e, attempts)| map(e, attempts))?;
        Ok(ManifestFetcher {
            http: endpoint.http(TIMEOUT)?,
            endpoint: endpoint.clone(),
            auth: auth.clone(),
            token,
        })
    }

    /// Fetches the manifest `remote` names (of the repository `connect` was given): its
    /// bytes and their digest, checked against the registry's `Docker-Content-Digest`
    /// and the reference's digest.
    pub async fn fetch(
        &self,
        remote: &Reference,
        accept: &[&str],
        show: &str,
        map: impl Fn(OciDistributionError, u32) -> RegistryError,
    ) -> Result<(Bytes, String)> {
        let mut attempt = 1;
        loop {
            match self.once(remote, accept).await {
                Ok(found) => return Ok(found),
                Err(Failure::TooLarge(size)) => {
                    return Err(RegistryError::ManifestTooLarge {
                        reference: show.into(),
                        size,
                    })
                }
                Err(Failure::Digest(message)) => {
                    return Err(RegistryError::Malformed {
                        reference: show.into(),
                        message,
                    })
                }
                Err(Failure::Oci(e)) if attempt < client::ATTEMPTS && client::transient(&e) => {
                    tracing::debug!(attempt, error = %e, "manifest request failed, retrying");
                    tokio::time::sleep(Duration::from_millis(300 * 2u64.pow(attempt))).await;
                    attempt += 1;
                }
                Err(Failure::Oci(e)) => return Err(map(e, attempt)),
            }
        }
    }

    async fn once(
        &self,
        remote: &Reference,
        accept: &[&str],
    ) -> std::result::Result<(Bytes, String), Failure> {
        let reference = remote
            .digest()
            .unwrap_or_else(|| remote.tag().unwrap_or("latest"));
        let url = self.endpoint.url(&format!(
            "/v2/{}/manifests/{reference}",
            remote.repository()
        ));
        let mut request = self.http.get(&url).header("Accept", accept.join(", "));
        request = match (&self.token, &self.auth) {
            (Some(token), _) => request.bearer_auth(token),
            (None, RegistryAuth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            (None, RegistryAuth::Bearer(token)) => request.bearer_auth(token),
            (None, RegistryAuth::Anonymous) => request,
        };
        let mut response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(&mut response, ERROR_BODY)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            return Err(Failure::Oci(status_error(status, &body, &url)));
        }
        if let Some(length) = response.content_length().filter(|l| *l > JSON_CAP) {
            return Err(Failure::TooLarge(format!("{length} bytes")));
        }
        let header = response
            .headers()
            .get("Docker-Content-Digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = read_capped(&mut response, JSON_CAP as usize)
            .await?
            .ok_or_else(|| Failure::TooLarge(format!("more than {JSON_CAP} bytes")))?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
        for (whose, claimed) in [
            ("registry", header.as_deref()),
            ("reference", remote.digest()),
        ] {
            if let Some(claimed) = claimed.filter(|c| *c != digest) {
                return Err(Failure::Digest(format!(
                    "the {whose} says digest {claimed}, the content has {digest}"
                )));
            }
        }
        Ok((body, digest))
    }
}

/// The body, or `None` once it passes `cap` bytes (the rest is never read).
async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
) -> std::result::Result<Option<Bytes>, reqwest::Error> {
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// What oci-client reports for a failed status (its `validate_registry_response`).
fn status_error(status: reqwest::StatusCode, body: &[u8], url: &str) -> OciDistributionError {
    if status.is_client_error() {
        if let Ok(envelope) = serde_json::from_slice::<OciEnvelope>(body) {
            return OciDistributionError::RegistryError {
                envelope,
                url: url.into(),
            };
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return OciDistributionError::UnauthorizedError { url: url.into() };
        }
    }
    OciDistributionError::ServerError {
        code: status.as_u16(),
        url: url.into(),
        message: String::from_utf8_lossy(body).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_become_oci_errors() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        let e = status_error(reqwest::StatusCode::NOT_FOUND, body, "u");
        assert!(
            matches!(e, OciDistributionError::RegistryError { .. }),
            "{e:?}"
        );
        let e = status_error(reqwest::StatusCode::UNAUTHORIZED, b"no", "u");
        assert!(
            matches!(e, OciDistributionError::UnauthorizedError { .. }),
            "{e:?}"
        );
        let e = status_error(reqwest::StatusCode::BAD_GATEWAY, b"down", "u");
        assert!(client::transient(&e));
    }
}
