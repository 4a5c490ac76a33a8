//! Reaching one registry: HTTPS with the system roots plus the configured CAs, or, for
//! insecure registries (loopback and the configured ones), HTTPS without verification
//! when the registry speaks TLS and plain HTTP when it does not, as docker does.

use std::future::Future;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;

use super::config::RegistryConfig;
use super::{RegistryError, Result};

/// Attempts for a request that failed to connect or timed out.
pub const ATTEMPTS: u32 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// No byte for this long on a transfer is a dead connection.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How to talk to one registry host.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `host[:port]` as requests address it.
    pub host: String,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Skip certificate verification (insecure registries over TLS).
    pub insecure_tls: bool,
    pub extra_roots: Vec<Vec<u8>>,
}

impl Endpoint {
    /// Decides the scheme for `host`, probing an insecure registry for TLS.
    pub async fn discover(host: &str, config: &RegistryConfig) -> Result<Endpoint> {
        let mut extra_roots = Vec::new();
        for path in &config.ca_files {
            let pem = std::fs::read(path).map_err(|e| RegistryError::Config {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            extra_roots.push(pem);
        }
        let mut endpoint = Endpoint {
            host: host.to_string(),
            scheme: "https",
            insecure_tls: false,
            extra_roots,
        };
        if config.is_insecure(host) {
            endpoint.insecure_tls = true;
            if !endpoint.speaks_tls().await {
                endpoint.scheme = "http";
                endpoint.insecure_tls = false;
            }
        }
        Ok(endpoint)
    }

    /// Whether a TLS request to `/v2/` gets any HTTP answer.
    async fn speaks_tls(&self) -> bool {
        let Ok(client) = self.http(PROBE_TIMEOUT) else {
            return false;
        };
        client
            .get(format!("https://{}/v2/", self.host))
            .send()
            .await
            .is_ok()
    }

    /// A plain HTTP client with this endpoint's TLS settings.
    pub fn http(&self, timeout: Duration) -> Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .tls_danger_accept_invalid_certs(self.insecure_tls);
        for pem in &self.extra_roots {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| self.tls_error(e))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder.build().map_err(|e| self.tls_error(e))
    }

    fn tls_error(&self, e: reqwest::Error) -> RegistryError {
        RegistryError::Registry {
            registry: self.host.clone(),
            message: format!("cannot set up TLS: {e}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.host)
    }

    /// An oci-client for this endpoint. Downloads are scheduled by the puller, so the
    /// client's own concurrency setting does not matter.
    pub fn oci(&self) -> oci_client::Client {
        let config = ClientConfig {
            protocol: if self.scheme == "http" {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            accept_invalid_certificates: self.insecure_tls,
            extra_root_certificates: self
                .extra_roots
                .iter()
                .map(|pem| Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: pem.clone(),
                })
                .collect(),
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            ..Default::default()
        };
        oci_client::Client::new(config)
    }
}

/// Whether an error is worth another attempt: the connection failed or timed out.
pub fn transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(e) => e.is_connect() || e.is_timeout(),
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        _ => false,
    }
}

/// Runs `call` up to [`ATTEMPTS`] times while it fails transiently, backing off.
pub async fn retry<T, F, Fut>(mut call: F) -> std::result::Result<T, (OciDistributionError, u32)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, OciDistributionError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                tracing::debug!(attempt, error = %e, "registry request failed, retrying");
                tokio::time::sleep(Duration::from_millis(300 * 2u64.pow(attempt))).await;
                attempt += 1;
            }
            Err(e) => return Err((e, attempt)),
        }
    }
}

/// The first message of an OCI error envelope, or the error itself.
pub fn message(e: &OciDistributionError) -> String {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .map(|e| {
                if e.message.is_empty() {
                    format!("{:?}", e.code)
                } else {
                    e.message.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        OciDistributionError::ServerError { code, message, .. } => {
            format!("status {code}: {}", message.trim())
        }
        OciDistributionError::RequestError(e) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
        other => other.to_string(),
    }
}
