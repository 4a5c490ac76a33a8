//! `docker login`: checks credentials against the registry the way docker does. `/v2/`
//! answers 200 (no auth needed), or 401 with a challenge: for `Bearer` a token is asked
//! from the realm with the credentials, for `Basic` `/v2/` is asked again with them.
//! A refusal carries the registry's own message.

use std::time::Duration;

use oci_client::Reference;

use super::auth::Credentials;
use super::client::Endpoint;
use super::config::{strip_scheme, RegistryConfig};
use super::{RegistryError, Result};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The registry a login without a server address is for: where an unqualified image
/// name resolves (the reference normalisation's default registry).
pub fn default_registry() -> String {
    Reference::try_from("library/x")
        .map(|r| r.resolve_registry().to_string())
        .unwrap_or_default()
}

/// Checks `credentials` against `server` (`host[:port]`, possibly with a scheme and path).
pub async fn login(server: &str, credentials: &Credentials, config: &RegistryConfig) -> Result<()> {
    let host = match strip_scheme(server) {
        "" => default_registry(),
        h => h.to_string(),
    };
    let endpoint = Endpoint::discover(&host, config).await?;
    let http = endpoint.http(TIMEOUT)?;
    let url = endpoint.url("/v2/");
    let unreachable = |e: reqwest::Error| RegistryError::Unreachable {
        registry: host.clone(),
        attempts: 1,
        message: error_chain(&e),
    };
    let first = http.get(&url).send().await.map_err(unreachable)?;
    if first.status().is_success() {
        return Ok(());
    }
    let challenge = first
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if first.status() != reqwest::StatusCode::UNAUTHORIZED || challenge.is_none() {
        return Err(refused(&url, first).await);
    }
    let challenge = challenge.unwrap_or_default();
    let (scheme, params) = parse_challenge(&challenge);
    let answer = if scheme.eq_ignore_ascii_case("bearer") {
        let realm = params
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| RegistryError::Registry {
                registry: host.clone(),
                message: format!("a Bearer challenge without a realm: {challenge}"),
            })?;
        let mut query: Vec<(&str, &str)> = vec![("account", &credentials.username)];
        if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
            query.push(("service", service));
        }
        http.get(&realm)
            .query(&query)
            .basic_auth(&credentials.username, Some(&credentials.password))
            .send()
            .await
            .map_err(unreachable)?
    } else {
        http.get(&url)
            .basic_auth(&credentials.username, Some(&credentials.password))
            .send()
            .await
            .map_err(unreachable)?
    };
    if answer.status().is_success() {
        return Ok(());
    }
    let url = answer.url().to_string();
    Err(refused(&url, answer).await)
}

/// The registry's refusal with its message (the first of an OCI error envelope).
async fn refused(url: &str, response: reqwest::Response) -> RegistryError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v["errors"][0]["message"]
                .as_str()
                .or(v["details"].as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.trim().chars().take(200).collect());
    RegistryError::LoginFailed {
        url: url.to_string(),
        status: status.to_string(),
        message: if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        },
    }
}

/// `Bearer realm="x",service="y"` -> (`Bearer`, [(realm, x), (service, y)]).
fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.push((key, value.to_string()));
        rest = after.trim_start_matches([',', ' ']);
    }
    (scheme.to_string(), params)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.lan/token",service="reg",scope="a:b:pull""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(params[0], ("realm".into(), "https://auth.lan/token".into()));
        assert_eq!(params[1], ("service".into(), "reg".into()));
        assert_eq!(params[2], ("scope".into(), "a:b:pull".into()));
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((scheme.as_str(), params.len()), ("Basic", 1));
    }
}
