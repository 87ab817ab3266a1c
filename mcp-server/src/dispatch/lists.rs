//! `tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`: stable order
//! (TL-02) and pagination (L-55): the server picks the page size, cursors are opaque, an invalid
//! cursor is `-32602`, and `nextCursor` appears only when more items follow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_core::jsonrpc::ErrorObject;
use mcp_core::types::{Cursor, PaginatedRequestParams};
use mcp_core::version::Era;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use super::shape::{Cache, shape_raw};
use super::{Outcome, parse_params};
use crate::auth::AuthContext;
use crate::server::ServerInner;

/// One page: the items under their method's key, and the cursor of the next page.
struct Page<'a, T> {
    key: &'static str,
    items: &'a [&'a T],
    next_cursor: Option<Cursor>,
}

impl<T: Serialize> Serialize for Page<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(self.key, self.items)?;
        if let Some(c) = &self.next_cursor {
            m.serialize_entry("nextCursor", c)?;
        }
        m.end()
    }
}

fn page<T: Serialize>(
    server: &ServerInner,
    era: Era,
    params: Option<Value>,
    key: &'static str,
    all: &[&T],
    cache: Cache,
) -> Outcome {
    let p: PaginatedRequestParams = parse_params(params)?;
    let offset = match p.cursor.as_deref() {
        None => 0,
        Some(c) => decode_cursor(c)
            .filter(|&o| o <= all.len())
            .ok_or_else(|| ErrorObject::invalid_params("Invalid cursor"))?,
    };
    let end = offset.saturating_add(server.page_size).min(all.len());
    let result = Page {
        key,
        items: &all[offset..end],
        next_cursor: (end < all.len()).then(|| encode_cursor(end)),
    };
    shape_raw(server, era, &result, cache, true)
}

fn encode_cursor(offset: usize) -> Cursor {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

/// With `filter_tools`, the caller sees only the tools its scopes and role allow (the list is
/// then `private`, AZ-17); with authorization on, a missing caller has no scopes and no role.
pub(super) fn tools(
    server: &ServerInner,
    era: Era,
    params: Option<Value>,
    caller: Option<&AuthContext>,
) -> Outcome {
    let r = server.registry.load();
    let filter = server.auth.is_enabled() && server.auth.filter_tools;
    let all: Vec<_> = r
        .tools
        .values()
        .filter(|t| !filter || server.auth.authorize_tool(t.requirements(), caller).is_ok())
        .map(|t| &t.tool)
        .collect();
    let cache = if filter {
        Cache::Private
    } else {
        Cache::Public
    };
    page(server, era, params, "tools", &all, cache)
}

pub(super) fn resources(server: &ServerInner, era: Era, params: Option<Value>) -> Outcome {
    let r = server.registry.load();
    let all: Vec<_> = r.resources.values().map(|d| &d.resource).collect();
    page(server, era, params, "resources", &all, Cache::Public)
}

pub(super) fn templates(server: &ServerInner, era: Era, params: Option<Value>) -> Outcome {
    let r = server.registry.load();
    let all: Vec<_> = r.templates.iter().map(|d| &d.template).collect();
    page(
        server,
        era,
        params,
        "resourceTemplates",
        &all,
        Cache::Public,
    )
}

pub(super) fn prompts(server: &ServerInner, era: Era, params: Option<Value>) -> Outcome {
    let r = server.registry.load();
    let all: Vec<_> = r.prompts.values().map(|p| &p.prompt).collect();
    page(server, era, params, "prompts", &all, Cache::Public)
}
