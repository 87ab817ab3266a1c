//! What a 2026-07-28 request declares about itself in `_meta` (T-38): its protocol version, the
//! client's capabilities, identity and log level. Every transport reads it the same way.

use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::types::{
    ClientCapabilities, Implementation, LoggingLevel, UnsupportedProtocolVersionData, meta_keys,
};
use mcp_core::version::{Era, ProtocolVersion};
use serde_json::Value;

use crate::server::ServerInner;

/// The `_meta` of a modern request.
pub(crate) struct RequestMeta {
    pub version: String,
    pub capabilities: ClientCapabilities,
    pub client_info: Option<Implementation>,
    pub log_level: Option<LoggingLevel>,
}

/// Reads `params._meta`; the error names what is missing or malformed (`-32602`).
pub(crate) fn read_meta(params: Option<&Value>) -> Result<RequestMeta, &'static str> {
    let meta = params
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
        .ok_or("params._meta is required")?;
    let version = meta
        .get(meta_keys::PROTOCOL_VERSION)
        .and_then(Value::as_str)
        .ok_or("_meta[\"io.modelcontextprotocol/protocolVersion\"] is required")?;
    let capabilities = meta
        .get(meta_keys::CLIENT_CAPABILITIES)
        .filter(|c| c.is_object())
        .ok_or("_meta[\"io.modelcontextprotocol/clientCapabilities\"] is required")?;
    let capabilities = serde_json::from_value(capabilities.clone())
        .map_err(|_| "_meta[\"io.modelcontextprotocol/clientCapabilities\"] is malformed")?;
    let client_info = meta
        .get(meta_keys::CLIENT_INFO)
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let log_level = match meta.get(meta_keys::LOG_LEVEL) {
        None => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|_| "_meta[\"io.modelcontextprotocol/logLevel\"] is not a log level")?,
        ),
    };
    Ok(RequestMeta {
        version: version.to_owned(),
        capabilities,
        client_info,
        log_level,
    })
}

/// The protocol version a message's `params._meta` carries, if any. A request carrying one is
/// in the modern form whatever the version (VERSIONS §3; an unknown one is then `-32022`, never
/// a legacy request).
pub(crate) fn declared_version(params: Option<&Value>) -> Option<&Value> {
    params?.get("_meta")?.get(meta_keys::PROTOCOL_VERSION)
}

/// The version `requested` names when this server speaks it in the modern era; otherwise the
/// `-32022` error with the supported versions in `data`.
pub(crate) fn modern_version(
    server: &ServerInner,
    requested: &str,
) -> Result<ProtocolVersion, ErrorObject> {
    match ProtocolVersion::parse(requested)
        .filter(|v| v.era() == Era::Modern && server.supports(*v))
    {
        Some(v) => Ok(v),
        None => {
            let data = UnsupportedProtocolVersionData {
                supported: server
                    .versions
                    .iter()
                    .map(|v| v.as_str().to_owned())
                    .collect(),
                requested: requested.to_owned(),
            };
            Err(ErrorObject::new(
                ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                "Unsupported protocol version",
            )
            .with_data(serde_json::to_value(data).unwrap_or(Value::Null)))
        }
    }
}
