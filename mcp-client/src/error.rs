//! The errors of the client: one [`Error`] for every operation, with the HTTP-level refusals
//! ([`Unauthorized`](Error::Unauthorized), [`Forbidden`](Error::Forbidden)), the server's
//! JSON-RPC errors ([`Protocol`](Error::Protocol)), tool failures
//! ([`ToolError`](Error::ToolError)), transport failures ([`TransportError`]) and responses that
//! do not follow the protocol ([`Malformed`]) kept apart.

#[cfg(feature = "http")]
use std::fmt;
use std::time::Duration;

use mcp_core::ErrorObject;
use mcp_core::types::CallToolResult;

#[cfg(feature = "http")]
use crate::auth::AuthError;
#[cfg(feature = "http")]
use crate::challenge::Challenge;

/// Why an operation of the client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server URL cannot be used (not an absolute `http` or `https` URL).
    #[cfg(feature = "http")]
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// HTTP 401: the server wants (other) credentials. The challenges of its
    /// `WWW-Authenticate` header say which (`resource_metadata`, `scope`, `error`, ...).
    #[cfg(feature = "http")]
    #[error("unauthorized (HTTP 401){}", Describe(.challenges))]
    Unauthorized {
        /// The parsed `WWW-Authenticate` challenges, in order.
        challenges: Vec<Challenge>,
    },
    /// HTTP 403: the credentials are valid but not sufficient.
    #[cfg(feature = "http")]
    #[error("forbidden (HTTP 403){}", Describe(.challenges))]
    Forbidden {
        /// The parsed `WWW-Authenticate` challenges, in order.
        challenges: Vec<Challenge>,
        /// The scopes the server asked for with `error="insufficient_scope"` (empty when it
        /// named none).
        missing_scopes: Vec<String>,
    },
    /// The server answered with a JSON-RPC error.
    #[error("the server answered with an error: {0}")]
    Protocol(ErrorObject),
    /// The connection failed or broke.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with a redirect (3xx). Redirects are never followed: credentials,
    /// the session id and the request body stay with the configured URL. Connect to the
    /// `location` directly if it is where the server really lives.
    #[cfg(feature = "http")]
    #[error(
        "the server answered HTTP {status} redirecting to {}; redirects are not followed",
        location.as_deref().unwrap_or("(no Location)")
    )]
    Redirected {
        /// The 3xx status code.
        status: u16,
        /// The `Location` header, if there was a readable one.
        location: Option<String>,
    },
    /// Credentials would have gone over plain `http` to a host that is not loopback; nothing
    /// was sent. Use `https`, or [`ClientBuilder::dangerously_allow_http`].
    ///
    /// [`ClientBuilder::dangerously_allow_http`]: crate::ClientBuilder::dangerously_allow_http
    #[cfg(feature = "http")]
    #[error(
        "refusing to send credentials over plain http to {url}: use https (plain http is only \
         allowed on loopback, or with ClientBuilder::dangerously_allow_http())"
    )]
    InsecureUrl {
        /// The server URL.
        url: String,
    },
    /// The server answered with an HTTP status the protocol does not explain, without a
    /// JSON-RPC error in the body.
    #[cfg(feature = "http")]
    #[error("unexpected HTTP status {status}{}", snippet(.body))]
    HttpStatus {
        /// The status code.
        status: u16,
        /// The start of the body, for diagnostics.
        body: String,
    },
    /// The server's answer does not follow the protocol.
    #[error("malformed response from the server: {0}")]
    MalformedResponse(#[from] Malformed),
    /// A tool reported a failure (`isError: true`); only the `*_checked` and typed calls turn
    /// that into an error.
    #[error("tool {name:?} failed: {}", tool_text(.result))]
    ToolError {
        /// The tool's name.
        name: String,
        /// The tool's result, with its error content.
        result: Box<CallToolResult>,
    },
    /// A typed tool call got no `structuredContent`.
    #[error("tool {name:?} returned no structured content")]
    NoStructuredContent {
        /// The tool's name.
        name: String,
    },
    /// A typed tool call got `structuredContent` of another shape.
    #[error("the structured content of tool {name:?} does not fit the requested type: {source}")]
    InvalidStructuredContent {
        /// The tool's name.
        name: String,
        /// Why it does not deserialize.
        #[source]
        source: serde_json::Error,
    },
    /// Arguments or parameters that do not serialize to a JSON object.
    #[error("{what} must serialize to a JSON object")]
    InvalidArguments {
        /// What was being serialized.
        what: &'static str,
    },
    /// The legacy session expired (HTTP 404) and a new one could not be used either.
    #[error("the session expired and could not be re-established")]
    SessionExpired,
    /// The server negotiated another protocol version than the one this client was told to use.
    #[error("protocol version {requested} was required, the server offered {offered}")]
    VersionMismatch {
        /// The version the client required.
        requested: String,
        /// The version the server chose.
        offered: String,
    },
    /// The server supports no protocol version this client speaks.
    #[error("no common protocol version (the server supports {supported:?})")]
    NoCommonVersion {
        /// The versions the server listed.
        supported: Vec<String>,
    },
    /// The request did not complete in time (it was cancelled).
    #[error("the request timed out after {0:?}")]
    Timeout(Duration),
    /// The client was closed.
    #[error("the client is closed")]
    Closed,
    /// A credential could not be produced or attached.
    #[cfg(feature = "http")]
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A handler of this client (elicitation, sampling, roots) could not answer what the server
    /// asked during a multi-round-trip request.
    #[error("the client could not answer {method}: {error}")]
    Handler {
        /// The method the server asked for.
        method: String,
        /// The handler's error.
        error: ErrorObject,
    },
    /// The server kept asking for input (`input_required`) beyond the client's limit.
    #[error("the server asked for input more than {0} times")]
    TooManyInputRounds(usize),
    /// The operation does not exist on this transport or in this protocol era.
    #[error("{0} is not supported on this connection")]
    Unsupported(&'static str),
    /// The server process could not be started.
    #[error("could not start the server process: {0}")]
    Spawn(#[source] std::io::Error),
}

impl Error {
    /// The JSON-RPC error, if the server answered with one.
    pub fn protocol_error(&self) -> Option<&ErrorObject> {
        match self {
            Error::Protocol(e) => Some(e),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` challenges of a 401 or 403 (empty otherwise).
    #[cfg(feature = "http")]
    pub fn challenges(&self) -> &[Challenge] {
        match self {
            Error::Unauthorized { challenges } | Error::Forbidden { challenges, .. } => challenges,
            _ => &[],
        }
    }
}

/// How the connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The HTTP request failed (connection refused, reset, TLS, ...).
    #[cfg(feature = "http")]
    #[error("HTTP request failed: {}", Chain(.0))]
    Http(#[from] reqwest::Error),
    /// Reading or writing the server process's pipes failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Reading an event stream failed.
    #[error("reading the event stream failed: {0}")]
    Stream(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The event stream ended before the response arrived, and could not be resumed.
    #[error("the event stream ended before the response arrived")]
    StreamEnded,
    /// The server closed the connection (stdio: its stdout ended).
    #[error("the server closed the connection")]
    ConnectionClosed,
}

/// How a server's answer breaks the protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The body is not a JSON-RPC message.
    #[error("the body is not a JSON-RPC message: {0}")]
    NotJsonRpc(String),
    /// The body is a JSON-RPC message, but not a response.
    #[error("expected a response, got a {0}")]
    NotAResponse(&'static str),
    /// The response answers another request.
    #[error("the response answers request {got}, not {expected}")]
    WrongId {
        /// The id that was sent.
        expected: String,
        /// The id that came back.
        got: String,
    },
    /// The `Content-Type` is neither JSON nor an event stream.
    #[error("unexpected content type {0:?}")]
    ContentType(String),
    /// HTTP 202 (no body) for a request that needs a response.
    #[error("HTTP 202 Accepted without a response to a request")]
    Accepted,
    /// The body is larger than the client accepts.
    #[error("the response body exceeds {0} bytes")]
    TooLarge(usize),
    /// An event of the stream is not a JSON-RPC message.
    #[error("the event stream carries something that is not JSON-RPC: {0}")]
    Sse(String),
    /// The result does not have the shape its method defines.
    #[error("the result of {method} does not have the expected shape: {source}")]
    Result {
        /// The method that was called.
        method: String,
        /// Why it does not deserialize.
        #[source]
        source: serde_json::Error,
    },
    /// Pagination returned a cursor it had returned before.
    #[error("the server's pagination repeats the cursor {0:?}")]
    PaginationLoop(String),
    /// `input_required` for a method that cannot have it, or without what it must hold.
    #[error("invalid input_required result for {0}")]
    InputRequired(String),
    /// `initialize` answered with a version this client does not know.
    #[error("the server chose the unknown protocol version {0:?}")]
    UnknownVersion(String),
}

/// An error with its causes: `a: b: c`.
#[cfg(feature = "http")]
struct Chain<'a>(&'a dyn std::error::Error);

#[cfg(feature = "http")]
impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

#[cfg(feature = "http")]
struct Describe<'a>(&'a [Challenge]);

#[cfg(feature = "http")]
impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(c) = self.0.first() else {
            return Ok(());
        };
        write!(f, ": {}", c.scheme())?;
        if let Some(e) = c.error() {
            write!(f, " error={e}")?;
        }
        if let Some(d) = c.error_description() {
            write!(f, " ({d})")?;
        }
        if let Some(s) = c.scope() {
            write!(f, " scope=\"{s}\"")?;
        }
        Ok(())
    }
}

#[cfg(feature = "http")]
fn snippet(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

fn tool_text(result: &CallToolResult) -> String {
    result
        .text_content()
        .unwrap_or_else(|| "(no text content)".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[cfg(feature = "http")]
    #[test]
    fn messages_name_the_challenge() {
        let e = Error::Forbidden {
            challenges: vec![
                Challenge::new("Bearer")
                    .with_param("error", "insufficient_scope")
                    .with_param("scope", "a b"),
            ],
            missing_scopes: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "forbidden (HTTP 403): Bearer error=insufficient_scope scope=\"a b\""
        );
        assert_eq!(e.challenges().len(), 1);
    }

    #[test]
    fn tool_errors_show_their_text() {
        let e = Error::ToolError {
            name: "t".into(),
            result: Box::new(CallToolResult::error_text("nope")),
        };
        assert_eq!(e.to_string(), "tool \"t\" failed: nope");
        assert!(std::mem::size_of::<Error>() <= 96);
    }
}
