//! Request parts as the Docker API sends them, with errors in its shape: JSON bodies
//! (400 when malformed, 413 when too large), query strings with docker's booleans
//! (`1`, `true`, `True`...), and `filters` (`{"status":["running"]}` or
//! `{"status":{"running":true}}`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::error::ApiError;

/// Largest JSON body accepted (create bodies are a few KiB; docker allows far less than
/// this is generous for).
pub const MAX_JSON_BODY: usize = 4 << 20;

/// A JSON body; an empty body is `T::default()` (docker accepts `POST /networks/x/connect`
/// and friends without one).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = match Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body is larger than {MAX_JSON_BODY} bytes"),
                ))
            }
            Err(rejection) => return Err(ApiError::bad_request(rejection.body_text())),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// The query string; unknown parameters are ignored, as docker does.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|e| ApiError::bad_request(format!("invalid query parameter: {e}")))
    }
}

/// Docker's boolean query values: `1`, `true`, `True` are true; `0`, `false`, empty are
/// false. Use with `#[serde(default, deserialize_with = "docker_bool")]`.
pub fn docker_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        _ => Err(serde::de::Error::custom(format!(
            "invalid boolean value {text:?}"
        ))),
    }
}

/// `filters={...}` parsed: filter name -> accepted values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(pub BTreeMap<String, Vec<String>>);

impl Filters {
    /// Parses the `filters` query value (absent or empty: no filters).
    pub fn parse(text: Option<&str>) -> Result<Filters, ApiError> {
        let text = text.unwrap_or("").trim();
        if text.is_empty() {
            return Ok(Filters::default());
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Values {
            List(Vec<String>),
            Set(BTreeMap<String, bool>),
        }
        let raw: BTreeMap<String, Values> = serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("invalid filters {text:?}: {e}")))?;
        let map = raw
            .into_iter()
            .map(|(key, values)| {
                let values = match values {
                    Values::List(list) => list,
                    Values::Set(set) => set
                        .into_iter()
                        .filter(|(_, on)| *on)
                        .map(|(v, _)| v)
                        .collect(),
                };
                (key, values)
            })
            .collect();
        Ok(Filters(map))
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| !v.is_empty())
    }

    /// Refuses filter names the endpoint does not know, as docker does ("invalid filter").
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(key) => Err(ApiError::bad_request(format!("invalid filter '{key}'"))),
            None => Ok(()),
        }
    }

    /// `label=key` or `label=key=value` filters against a set of labels: all must match.
    pub fn labels_match(&self, labels: &BTreeMap<String, String>) -> bool {
        self.get("label")
            .iter()
            .all(|want| match want.split_once('=') {
                Some((key, value)) => labels.get(key).is_some_and(|v| v == value),
                None => labels.contains_key(want.as_str()),
            })
    }
}

/// Parses a `filters` parameter straight from a query struct field.
pub fn parse_filters(text: &Option<String>) -> Result<Filters, ApiError> {
    Filters::parse(text.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_in_both_shapes() {
        let list = Filters::parse(Some(r#"{"status":["running","paused"]}"#)).unwrap();
        assert_eq!(list.get("status"), ["running", "paused"]);
        let set = Filters::parse(Some(r#"{"dangling":{"true":true}}"#)).unwrap();
        assert_eq!(set.get("dangling"), ["true"]);
        assert!(Filters::parse(Some("{oops")).is_err());
        assert!(list.only(&["status"]).is_ok());
        assert!(list.only(&["name"]).is_err());
    }

    #[test]
    fn labels_match_key_or_key_value() {
        let filters = Filters::parse(Some(r#"{"label":["a","b=2"]}"#)).unwrap();
        let mut labels = BTreeMap::new();
        labels.insert("a".to_string(), "x".to_string());
        assert!(!filters.labels_match(&labels));
        labels.insert("b".to_string(), "2".to_string());
        assert!(filters.labels_match(&labels));
    }
}
