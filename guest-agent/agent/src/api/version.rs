//! API versions: every path may start with `/vX.Y`; the prefix is checked against the range
//! Berth serves and stripped before routing, and the version reaches handlers as
//! [`ApiVersion`] (the newest when the client sent none).

use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The oldest version Berth answers (docker's own minimum for the CLI it still supports).
pub const MIN_VERSION: ApiVersion = ApiVersion(1, 24);
/// The version Berth speaks (Docker Engine 28.3); the CLI on this machine asks for 1.50.
pub const CURRENT_VERSION: ApiVersion = ApiVersion(1, 51);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u32, pub u32);

impl ApiVersion {
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.split_once('.')?;
        Some(ApiVersion(major.parse().ok()?, minor.parse().ok()?))
    }

    /// At least `major.minor`: for answers whose shape changed between versions.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= ApiVersion(major, minor)
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Splits `/v1.50/containers/json` into the version and `/containers/json`.
fn split_version(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let (version, tail) = rest.split_at(end);
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    Some((version, tail))
}

pub async fn strip_prefix(mut request: Request, next: Next) -> Response {
    let mut version = CURRENT_VERSION;
    if let Some((text, tail)) = split_version(request.uri().path()) {
        let Some(asked) = ApiVersion::parse(text) else {
            return ApiError::bad_request(format!("invalid API version {text:?}")).into_response();
        };
        if asked < MIN_VERSION {
            return ApiError::bad_request(format!(
                "client version {asked} is too old. Minimum supported API version is \
                 {MIN_VERSION}, please upgrade your client to a newer version"
            ))
            .into_response();
        }
        if asked > CURRENT_VERSION {
            return ApiError::bad_request(format!(
                "client version {asked} is too new. Maximum supported API version is \
                 {CURRENT_VERSION}"
            ))
            .into_response();
        }
        version = asked;
        let tail = if tail.is_empty() { "/" } else { tail };
        let path_and_query = match request.uri().query() {
            Some(query) => format!("{tail}?{query}"),
            None => tail.to_string(),
        };
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = path_and_query.parse().ok();
        match Uri::from_parts(parts) {
            Ok(uri) => *request.uri_mut() = uri,
            Err(_) => return ApiError::bad_request("invalid request path").into_response(),
        }
    }
    request.extensions_mut().insert(version);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_split_and_compare() {
        assert_eq!(
            split_version("/v1.50/containers/json"),
            Some(("1.50", "/containers/json"))
        );
        assert_eq!(split_version("/v1.24"), Some(("1.24", "")));
        assert_eq!(split_version("/volumes"), None);
        assert_eq!(split_version("/containers/json"), None);
        assert!(ApiVersion::parse("1.9").unwrap() < ApiVersion::parse("1.24").unwrap());
        assert!(ApiVersion(1, 50).at_least(1, 42));
        assert_eq!(ApiVersion::parse("x.1"), None);
    }
}
