//! The admin API's requests and refusals: JSON bodies read within a size and time bound, with
//! `Content-Type: application/json` (413, 415, 408), parsed into typed requests whose errors
//! name the field (400), and every refusal as `{error, error_description, field?}` with a
//! precise status.

use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::auth::{ApiKeyError, AuthRejection, StoreError};

/// How long a request body may take to arrive.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an admin request failed: the status, the body's `error` and `error_description`, the
/// field at fault (400, 409) and the reason the audit event records.
#[derive(Debug)]
pub(super) enum AdminError {
    /// A refusal of the authorization layer's kind (403: not an administrator).
    Auth(AuthRejection),
    /// Any other refusal.
    Plain {
        status: StatusCode,
        error: &'static str,
        reason: &'static str,
        description: String,
        field: Option<String>,
    },
}

impl AdminError {
    fn plain(
        status: StatusCode,
        error: &'static str,
        reason: &'static str,
        description: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        AdminError::Plain {
            status,
            error,
            reason,
            description: description.into(),
            field,
        }
    }

    /// 400 naming `field`.
    pub(super) fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::plain(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "invalid_request",
            description,
            Some(field.into()),
        )
    }

    /// 400 about the body as a whole.
    fn bad_body(description: impl Into<String>) -> Self {
        Self::plain(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "invalid_request",
            description,
            None,
        )
    }

    /// 404.
    pub(super) fn not_found(description: impl Into<String>) -> Self {
        Self::plain(
            StatusCode::NOT_FOUND,
            "not_found",
            "not_found",
            description,
            None,
        )
    }

    /// 409 naming `field`.
    pub(super) fn conflict(field: Option<&str>, description: impl Into<String>) -> Self {
        Self::plain(
            StatusCode::CONFLICT,
            "conflict",
            "conflict",
            description,
            field.map(str::to_owned),
        )
    }

    /// 500: something on the server side that retrying will not fix.
    pub(super) fn internal(reason: &'static str) -> Self {
        Self::plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            reason,
            "the request could not be carried out",
            None,
        )
    }

    /// 503 with `Retry-After`: the store does not answer.
    pub(super) fn unavailable() -> Self {
        Self::plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "store_unavailable",
            "the key store is unavailable; retry later",
            None,
        )
    }

    /// The refusal in one line (a tool error's text): the error, the field, the description.
    pub(super) fn message(&self) -> String {
        match self {
            AdminError::Auth(r) => format!("{}: {}", r.reason(), r.description()),
            AdminError::Plain {
                error,
                description,
                field: Some(f),
                ..
            } => format!("{error} ({f}): {description}"),
            AdminError::Plain {
                error, description, ..
            } => format!("{error}: {description}"),
        }
    }

    /// The reason the audit event records.
    pub(super) fn reason(&self) -> &'static str {
        match self {
            AdminError::Auth(r) => r.reason(),
            AdminError::Plain { reason, .. } => reason,
        }
    }

    /// A store's failure: a conflict is 409, anything else 503 (details logged, never sent).
    pub(super) fn store(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => Self::conflict(None, "a record with this name exists"),
            StoreError::Unsupported(why) => Self::plain(
                StatusCode::NOT_IMPLEMENTED,
                "not_implemented",
                "unsupported",
                why,
                None,
            ),
            StoreError::Corrupt(why) => {
                tracing::error!(error = %why, "the key store holds an unreadable record");
                Self::internal("store_corrupt")
            }
            StoreError::Backend(why) => {
                tracing::error!(error = %why, "the key store is unavailable");
                Self::unavailable()
            }
        }
    }

    /// A refusal of [`ApiKeys`](crate::auth::ApiKeys), mapped to a status and the field at
    /// fault.
    pub(super) fn keys(e: ApiKeyError) -> Self {
        let message = e.to_string();
        match e {
            ApiKeyError::InvalidName(_) => Self::invalid("name", message),
            ApiKeyError::NameTaken(_) => Self::conflict(Some("name"), message),
            ApiKeyError::NotFound(_) => Self::not_found(message),
            ApiKeyError::Role(_) | ApiKeyError::ScopedRole { .. } => Self::invalid("role", message),
            ApiKeyError::Workspace(_) => Self::invalid("workspaces", message),
            ApiKeyError::NoSurfaces => Self::invalid("surfaces", message),
            ApiKeyError::ExpiryInPast => Self::invalid("expires_at", message),
            ApiKeyError::UnknownOwner(_) => Self::invalid("owner", message),
            ApiKeyError::InvalidField(what) => {
                let field = if what.starts_with("scopes") {
                    "scopes"
                } else if what.starts_with("description") {
                    "description"
                } else if what.starts_with("service account") {
                    "service_account"
                } else {
                    "body"
                };
                Self::invalid(field, message)
            }
            ApiKeyError::Revoked(_) => Self::conflict(None, message),
            ApiKeyError::GraceTooLong { .. } => Self::invalid("grace_seconds", message),
            ApiKeyError::Store(StoreError::Unsupported(why)) => Self::invalid("grace_seconds", why),
            ApiKeyError::Store(e) => Self::store(e),
            ApiKeyError::Randomness(_) => {
                tracing::error!("no randomness for a new API key");
                Self::internal("no_randomness")
            }
            ApiKeyError::InvalidPrefix(_) => Self::internal("misconfigured"),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            AdminError::Auth(r) => r.into_response(),
            AdminError::Plain {
                status,
                error,
                description,
                field,
                ..
            } => {
                let mut body = Map::new();
                body.insert("error".into(), Value::from(error));
                body.insert("error_description".into(), Value::from(description));
                if let Some(f) = field {
                    body.insert("field".into(), Value::from(f));
                }
                let mut r = json_response(status, &Value::Object(body));
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    r.headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from_static("5"));
                }
                r
            }
        }
    }
}

/// A JSON response. Nothing the admin API answers is cached: some answers hold a secret.
pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = (status, bytes).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads a JSON object body within `limit` bytes. `None` when there is no body at all and
/// `optional` (a rotation or revocation with the defaults); an empty object otherwise.
pub(super) async fn read_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    optional: bool,
) -> Result<Option<Map<String, Value>>, AdminError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(too_large(limit));
    }
    let collect = Limited::new(body, limit).collect();
    let bytes = match tokio::time::timeout(BODY_READ_TIMEOUT, collect).await {
        Err(_) => {
            return Err(AdminError::plain(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "request_timeout",
                "the request body was not received in time",
                None,
            ));
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(too_large(limit));
        }
        Ok(Err(_)) => return Err(AdminError::bad_body("the request body could not be read")),
        Ok(Ok(c)) => c.to_bytes(),
    };
    if bytes.is_empty() && optional && headers.get(CONTENT_TYPE).is_none() {
        return Ok(None);
    }
    if !is_json(headers) {
        return Err(AdminError::plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "unsupported_media_type",
            "Content-Type must be application/json",
            None,
        ));
    }
    if bytes.is_empty() && optional {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(AdminError::bad_body("the body must be a JSON object")),
        Err(e) => Err(AdminError::bad_body(format!(
            "the body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))),
    }
}

fn too_large(limit: usize) -> AdminError {
    AdminError::plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "payload_too_large",
        format!("the request body exceeds {limit} bytes"),
        None,
    )
}

/// The object as a `T`: a member not in `known` is refused by name, and a member of the wrong
/// type by its path. The values of `secret` members are never quoted.
pub(super) fn parse<T: DeserializeOwned>(
    object: Map<String, Value>,
    known: &[&str],
    secret: &[&str],
) -> Result<T, AdminError> {
    if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
        let shown: String = unknown.chars().take(64).collect();
        return Err(AdminError::invalid(
            shown.clone(),
            format!(
                "unknown field {shown:?}; expected one of: {}",
                known.join(", ")
            ),
        ));
    }
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
        let path = e.path().to_string();
        let top = path.split(['.', '[']).next().unwrap_or_default().to_owned();
        if secret.contains(&top.as_str()) {
            AdminError::invalid(path, format!("{top} must be a string"))
        } else {
            let inner = e.into_inner().to_string();
            AdminError::invalid(path.clone(), format!("{path}: {inner}"))
        }
    })
}

/// `{"error": ...}` for tests and tools: the refusal as JSON.
#[cfg_attr(not(test), allow(dead_code))]
pub(super) fn describe(e: &AdminError) -> Value {
    match e {
        AdminError::Auth(r) => json!({"error": "forbidden", "reason": r.reason()}),
        AdminError::Plain {
            error,
            description,
            field,
            ..
        } => json!({"error": error, "error_description": description, "field": field}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct T {
        #[allow(dead_code)]
        name: Option<String>,
        #[allow(dead_code)]
        n: Option<u64>,
        #[allow(dead_code)]
        password: Option<String>,
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn fields_are_named_and_secrets_never_quoted() {
        let known = ["name", "n", "password"];
        let e = parse::<T>(obj(json!({"nme": "x"})), &known, &[]).unwrap_err();
        assert_eq!(describe(&e)["field"], "nme");
        let e = parse::<T>(obj(json!({"n": "seven"})), &known, &[]).unwrap_err();
        assert_eq!(describe(&e)["field"], "n");
        let e = parse::<T>(obj(json!({"password": 123456789})), &known, &["password"]).unwrap_err();
        let text = describe(&e).to_string();
        assert!(!text.contains("123456789"), "{text}");
        assert!(parse::<T>(obj(json!({"name": "a", "n": 1})), &known, &[]).is_ok());
    }

    #[tokio::test]
    async fn bodies_are_bounded_and_typed() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let big = Body::from(vec![b' '; 100]);
        let e = read_object(&h, big, 10, false).await.unwrap_err();
        assert!(
            matches!(e, AdminError::Plain { status, .. } if status == StatusCode::PAYLOAD_TOO_LARGE)
        );
        let e = read_object(&h, Body::from("{nope"), 100, false)
            .await
            .unwrap_err();
        assert!(matches!(e, AdminError::Plain { status, .. } if status == StatusCode::BAD_REQUEST));
        let e = read_object(&HeaderMap::new(), Body::from("{}"), 100, false)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AdminError::Plain { status, .. } if status == StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        assert!(
            read_object(&HeaderMap::new(), Body::empty(), 100, true)
                .await
                .unwrap()
                .is_none()
        );
        let ok = read_object(&h, Body::from(r#"{"a":1}"#), 100, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ok["a"], 1);
    }
}
