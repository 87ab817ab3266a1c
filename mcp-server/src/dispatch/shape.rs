//! How a result looks on each wire: as is in the legacy era; in 2026-07-28 with `resultType`,
//! `_meta["io.modelcontextprotocol/serverInfo"]` (L-02, L-05) and, for lists, reads and
//! discovery, `ttlMs` and `cacheScope` (L-70, L-71).

use mcp_core::jsonrpc::ErrorObject;
use mcp_core::types::{
    CallToolResult, CompleteResult, EmptyResult, GetPromptResult, Meta, ReadResourceResult,
    meta_keys,
};
use mcp_core::version::Era;
use serde::Serialize;
use serde_json::value::RawValue;

use super::Outcome;
use crate::server::ServerInner;

/// Results whose `_meta` the framework may extend.
pub(crate) trait WithMeta {
    fn meta_mut(&mut self) -> &mut Option<Meta>;
}

macro_rules! with_meta {
    ($($t:ty),*) => {$(
        impl WithMeta for $t {
            fn meta_mut(&mut self) -> &mut Option<Meta> {
                &mut self.meta
            }
        }
    )*};
}
with_meta!(
    CallToolResult,
    ReadResourceResult,
    GetPromptResult,
    CompleteResult,
    EmptyResult
);

/// Serializes any value as a result.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Outcome {
    serde_json::value::to_raw_value(value).map_err(|e| {
        ErrorObject::internal_error(format!("failed to serialize the result: {e}")).into()
    })
}

#[derive(Serialize)]
struct Modern<'a, T: Serialize> {
    #[serde(flatten)]
    inner: &'a T,
    #[serde(rename = "resultType")]
    result_type: &'static str,
    #[serde(rename = "ttlMs", skip_serializing_if = "Option::is_none")]
    ttl_ms: Option<u64>,
    #[serde(rename = "cacheScope", skip_serializing_if = "Option::is_none")]
    cache_scope: Option<&'static str>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<&'a RawValue>,
}

/// Whether a result may be cached, and by whom.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cache {
    /// Not a cacheable result.
    No,
    /// The same for every caller.
    Public,
    /// Depends on the caller (filtered by authorization).
    Private,
}

/// Encodes `result` for `era`. `result` must not carry its own `_meta` when passed through
/// `encode_page`-style structs; typed results get the server info merged into their `_meta`.
pub(crate) fn shape<T: Serialize + WithMeta>(
    server: &ServerInner,
    era: Era,
    mut result: T,
    cache: Cache,
) -> Outcome {
    if era == Era::Legacy {
        return encode(&result);
    }
    match result.meta_mut() {
        None => shape_raw(server, era, &result, cache, true),
        Some(meta) => {
            meta.insert(
                meta_keys::SERVER_INFO.to_owned(),
                server.server_info_value.clone(),
            );
            shape_raw(server, era, &result, cache, false)
        }
    }
}

/// Encodes a result that has no `_meta` of its own (list pages, discovery).
pub(crate) fn shape_raw<T: Serialize>(
    server: &ServerInner,
    era: Era,
    result: &T,
    cache: Cache,
    add_meta: bool,
) -> Outcome {
    if era == Era::Legacy {
        return encode(result);
    }
    let (ttl_ms, cache_scope) = match cache {
        Cache::No => (None, None),
        Cache::Public => (Some(server.cache_ttl_ms), Some("public")),
        Cache::Private => (Some(server.cache_ttl_ms), Some("private")),
    };
    encode(&Modern {
        inner: result,
        result_type: "complete",
        ttl_ms,
        cache_scope,
        meta: add_meta.then_some(&*server.server_info_meta),
    })
}
