//! Agreeing on an era and a version with the server.
//!
//! Unless told otherwise, the client tries the modern era first: `server/discover` with the
//! 2026-07-28 framing. It falls back to the legacy `initialize` handshake when the answer shows a
//! server of the legacy era: a JSON-RPC error other than the modern request errors (`-32020`,
//! `-32021`, `-32602`; T-44), an HTTP status without a modern error body (400, 404, 405, ...), an
//! answer that is not a discover result, or a discover result without a modern version. A 401 or
//! 403, a broken connection or a timeout is returned as it is: the other era would fare no
//! better. A forced era or version skips the other era entirely.

use mcp_core::ErrorCode;
use mcp_core::jsonrpc::Notification;
use mcp_core::types::{
    DiscoverResult, Implementation, InitializeRequestParams, InitializeResult, JsonObject,
    meta_keys, methods,
};
use mcp_core::version::{Era, ProtocolVersion};
use serde_json::Value;

use super::{Negotiated, Session, params_object};
use crate::error::{Error, Malformed, TransportError};
use crate::transport::Framing;

/// The modern version this client speaks.
const MODERN: ProtocolVersion = ProtocolVersion::V2026_07_28;

enum Discovered {
    Modern(Box<Negotiated>),
    /// The server answered `server/discover` but lists no modern version this client speaks.
    NotModern(Vec<String>),
}

/// Negotiates the era and version of a new connection.
pub(crate) async fn negotiate(session: &Session) -> Result<(), Error> {
    let settings = &session.settings;
    let forced = settings.version.map(ProtocolVersion::era).or(settings.era);
    match forced {
        Some(Era::Legacy) => {
            let propose = settings.version.unwrap_or(ProtocolVersion::LATEST_LEGACY);
            initialize(session, propose, settings.version.is_some()).await
        }
        Some(Era::Modern) => match discover(session).await? {
            Discovered::Modern(n) => {
                session.set_state(*n);
                Ok(())
            }
            Discovered::NotModern(supported) => Err(Error::NoCommonVersion { supported }),
        },
        None => match discover(session).await {
            Ok(Discovered::Modern(n)) => {
                session.set_state(*n);
                Ok(())
            }
            Ok(Discovered::NotModern(_)) => {
                initialize(session, ProtocolVersion::LATEST_LEGACY, false).await
            }
            Err(e) if falls_back(&e) => {
                tracing::debug!(error = %e, "server/discover failed; trying initialize");
                initialize(session, ProtocolVersion::LATEST_LEGACY, false).await
            }
            Err(e) => Err(e),
        },
    }
}

/// Whether a failed `server/discover` means "a legacy server" rather than "a real failure".
fn falls_back(e: &Error) -> bool {
    match e {
        Error::Protocol(obj) => !matches!(
            obj.code,
            ErrorCode::HEADER_MISMATCH
                | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
                | ErrorCode::INVALID_PARAMS
        ),
        #[cfg(feature = "http")]
        Error::HttpStatus { .. } => true,
        Error::MalformedResponse(_) => true,
        Error::Transport(TransportError::StreamEnded) => true,
        _ => false,
    }
}

async fn discover(session: &Session) -> Result<Discovered, Error> {
    match discover_once(session).await {
        // -32022 listing our version among the supported ones: a server that refused the first
        // attempt for its own reasons; try once more (SEP-2575).
        Err(Error::Protocol(obj))
            if obj.code == ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
                && obj
                    .data
                    .as_ref()
                    .and_then(|d| d.get("supported"))
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(MODERN.as_str()))) =>
        {
            discover_once(session).await
        }
        other => other,
    }
}

async fn discover_once(session: &Session) -> Result<Discovered, Error> {
    let value = session
        .send_framed(
            Framing::Modern(MODERN),
            methods::SERVER_DISCOVER,
            &JsonObject::new(),
            Vec::new(),
        )
        .await?;
    let result: DiscoverResult =
        serde_json::from_value(value).map_err(|source| Malformed::Result {
            method: methods::SERVER_DISCOVER.into(),
            source,
        })?;
    if !result
        .supported_versions
        .iter()
        .any(|v| v == MODERN.as_str())
    {
        return Ok(Discovered::NotModern(result.supported_versions));
    }
    let server_info = result
        .meta
        .as_ref()
        .and_then(|m| m.get(meta_keys::SERVER_INFO))
        .and_then(|v| serde_json::from_value::<Implementation>(v.clone()).ok());
    Ok(Discovered::Modern(Box::new(Negotiated {
        version: MODERN,
        server_info,
        capabilities: result.capabilities,
        instructions: result.instructions,
    })))
}

/// The legacy handshake: `initialize` proposing `propose`, then `notifications/initialized`.
/// With `strict`, another version in the answer is an error.
pub(crate) async fn initialize(
    session: &Session,
    propose: ProtocolVersion,
    strict: bool,
) -> Result<(), Error> {
    let usable = |v: ProtocolVersion| {
        v.era() == Era::Legacy
            && (v != ProtocolVersion::V2024_11_05 || session.wire.speaks_2024_11_05())
    };
    if !usable(propose) {
        return Err(Error::Unsupported(
            "this protocol version on this transport",
        ));
    }
    let params = InitializeRequestParams {
        protocol_version: propose.as_str().to_owned(),
        capabilities: session.settings.capabilities.clone(),
        client_info: session.settings.client_info.clone(),
        meta: None,
    };
    let params = params_object(Some(serde_json::to_value(params).unwrap_or(Value::Null)))?;
    let value = session
        .send_framed(
            Framing::Legacy(None),
            methods::INITIALIZE,
            &params,
            Vec::new(),
        )
        .await?;
    let result: InitializeResult =
        serde_json::from_value(value).map_err(|source| Malformed::Result {
            method: methods::INITIALIZE.into(),
            source,
        })?;
    let offered = match ProtocolVersion::parse(&result.protocol_version) {
        Some(v) if usable(v) => v,
        Some(_) => {
            return Err(Error::NoCommonVersion {
                supported: vec![result.protocol_version],
            });
        }
        None => return Err(Malformed::UnknownVersion(result.protocol_version).into()),
    };
    if strict && offered != propose {
        return Err(Error::VersionMismatch {
            requested: propose.as_str().to_owned(),
            offered: offered.as_str().to_owned(),
        });
    }
    session.set_state(Negotiated {
        version: offered,
        server_info: Some(result.server_info),
        capabilities: result.capabilities,
        instructions: result.instructions,
    });
    let initialized = Notification::new(methods::NOTIFICATION_INITIALIZED, None);
    session
        .wire
        .notify(initialized, Framing::Legacy(Some(offered)))
        .await
}

/// Replaces an expired legacy session (HTTP 404, T-55) with a new one, unless another request
/// already did since `generation`.
pub(crate) async fn reinitialize(session: &Session, generation: u64) -> Result<(), Error> {
    let _one_at_a_time = session.reinit.lock().await;
    if session.wire.generation() != generation {
        return Ok(());
    }
    let strict = session.settings.version.is_some();
    let propose = session
        .settings
        .version
        .unwrap_or_else(|| session.version());
    tracing::debug!("the session expired; initializing a new one");
    initialize(session, propose, strict).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use mcp_core::ErrorObject;

    #[test]
    fn legacy_answers_fall_back_and_modern_refusals_do_not() {
        let rpc = |code| Error::Protocol(ErrorObject::new(ErrorCode(code), "x"));
        assert!(falls_back(&rpc(-32601)));
        assert!(falls_back(&rpc(-32000)));
        assert!(falls_back(&rpc(-32022)));
        assert!(!falls_back(&rpc(-32020)));
        assert!(!falls_back(&rpc(-32021)));
        assert!(!falls_back(&rpc(-32602)));
        #[cfg(feature = "http")]
        {
            assert!(falls_back(&Error::HttpStatus {
                status: 405,
                body: String::new()
            }));
            assert!(!falls_back(&Error::Unauthorized { challenges: vec![] }));
        }
        assert!(!falls_back(&Error::Timeout(
            std::time::Duration::from_secs(1)
        )));
    }
}
