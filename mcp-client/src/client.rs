//! [`McpClient`]: the operations of the protocol, the same in both eras and on every transport.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use mcp_core::types::{
    CallToolRequestParams, CallToolResult, CompleteRequestParams, CompleteResult,
    CompletionArgument, GetPromptRequestParams, GetPromptResult, Implementation, JsonObject,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    LoggingLevel, PaginatedRequestParams, Prompt, ReadResourceRequestParams, ReadResourceResult,
    Reference, Resource, ResourceTemplate, ServerCapabilities, SetLevelRequestParams,
    SubscribeRequestParams, SubscriptionFilter, SubscriptionsListenRequestParams, Tool, methods,
};
use mcp_core::version::{Era, ProtocolVersion};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[cfg(feature = "http")]
use crate::auth::Auth;
use crate::builder::ClientBuilder;
use crate::error::{Error, Malformed};
use crate::notifications::{NotificationStream, Subscription};
use crate::options::RequestOptions;
use crate::session::{Session, params_object};
use crate::transport::Framing;

/// The most pages a `list_*` call follows.
const MAX_PAGES: usize = 10_000;

/// A connection to one MCP server, over Streamable HTTP (either era) or stdio.
///
/// Cheap to clone: clones share the connection. Every call is cancellable by dropping its
/// future (the server is told: `notifications/cancelled` in the legacy era and on stdio, a closed
/// stream in the modern era). Call [`close`](Self::close) to end a legacy session or stop a
/// server process cleanly.
#[derive(Clone)]
pub struct McpClient {
    session: Arc<Session>,
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient")
            .field("protocol_version", &self.protocol_version())
            .field("session_id", &self.session_id())
            .finish_non_exhaustive()
    }
}

fn decode<T: DeserializeOwned>(method: &str, value: Value) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|source| {
        Malformed::Result {
            method: method.to_owned(),
            source,
        }
        .into()
    })
}

fn encode(value: impl Serialize, what: &'static str) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|_| Error::InvalidArguments { what })
}

/// Tool arguments as an object; `()` / `null` mean none.
fn arguments(args: impl Serialize) -> Result<Option<JsonObject>, Error> {
    match encode(args, "tool arguments")? {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        _ => Err(Error::InvalidArguments {
            what: "tool arguments",
        }),
    }
}

impl McpClient {
    pub(crate) fn from_session(session: Arc<Session>) -> Self {
        McpClient { session }
    }

    /// A builder: credentials, handlers, era, timeouts.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Connects to a Streamable HTTP endpoint with `auth`, modern era first, legacy fallback.
    /// `url` is a `&str`, `String` or [`Url`](crate::Url) (see [`IntoEndpoint`]); one that does
    /// not parse, or is neither `http` nor `https`, is [`Error::InvalidUrl`].
    ///
    /// [`IntoEndpoint`]: crate::IntoEndpoint
    #[cfg(feature = "http")]
    pub async fn connect(url: impl crate::IntoEndpoint, auth: impl Auth) -> Result<Self, Error> {
        Self::builder().auth(auth).connect(url).await
    }

    /// Starts a server process and talks to it over stdio.
    #[cfg(feature = "stdio")]
    pub async fn spawn(command: impl Into<tokio::process::Command>) -> Result<Self, Error> {
        Self::builder().spawn(command).await
    }

    /// The era in use.
    pub fn era(&self) -> Era {
        self.protocol_version().era()
    }

    /// The protocol version in use.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.session.version()
    }

    /// The server's name and version (modern servers may not say).
    pub fn server_info(&self) -> Option<Implementation> {
        self.session.state().server_info
    }

    /// What the server supports.
    pub fn server_capabilities(&self) -> ServerCapabilities {
        self.session.state().capabilities
    }

    /// The server's instructions for the model, if any.
    pub fn instructions(&self) -> Option<String> {
        self.session.state().instructions
    }

    /// The legacy `Mcp-Session-Id`, if the server issued one.
    pub fn session_id(&self) -> Option<String> {
        self.session.wire.session_id()
    }

    /// Sends any request and returns its raw result (the escape hatch for methods without a
    /// typed call).
    pub async fn request(
        &self,
        method: &str,
        params: Option<Value>,
        options: &RequestOptions,
    ) -> Result<Value, Error> {
        self.session.request(method, params, options).await
    }

    async fn typed<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: P,
        options: &RequestOptions,
    ) -> Result<R, Error> {
        let value = self
            .session
            .request(method, Some(encode(params, "params")?), options)
            .await?;
        decode(method, value)
    }

    async fn page<R: DeserializeOwned>(
        &self,
        method: &str,
        cursor: Option<&str>,
    ) -> Result<R, Error> {
        let params = PaginatedRequestParams {
            cursor: cursor.map(str::to_owned),
            meta: None,
        };
        self.typed(method, params, &RequestOptions::default()).await
    }

    /// Follows `nextCursor` from page to page, handing each page to `take`.
    async fn all_pages<R: DeserializeOwned>(
        &self,
        method: &str,
        mut take: impl FnMut(R) -> Option<String>,
    ) -> Result<(), Error> {
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page: R = self.page(method, cursor.as_deref()).await?;
            match take(page) {
                None => return Ok(()),
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(Malformed::PaginationLoop(next).into());
                }
                Some(next) => cursor = Some(next),
            }
        }
        Ok(())
    }

    /// One page of `tools/list`.
    pub async fn list_tools_page(&self, cursor: Option<&str>) -> Result<ListToolsResult, Error> {
        let page: ListToolsResult = self.page(methods::TOOLS_LIST, cursor).await?;
        self.session.learn_tools(&page.tools);
        Ok(page)
    }

    /// Every tool, following pagination.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, Error> {
        let mut tools = Vec::new();
        self.all_pages(methods::TOOLS_LIST, |page: ListToolsResult| {
            self.session.learn_tools(&page.tools);
            tools.extend(page.tools);
            page.next_cursor
        })
        .await?;
        Ok(tools)
    }

    /// Calls a tool. `arguments` is anything that serializes to a JSON object (or `()` for
    /// none). A tool failure is a result with `isError: true`, not an `Err`: see
    /// [`call_tool_checked`](Self::call_tool_checked).
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<CallToolResult, Error> {
        self.call_tool_with(name, arguments, &RequestOptions::default())
            .await
    }

    /// Calls a tool with options (progress callback, timeout, `_meta`).
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: impl Serialize,
        options: &RequestOptions,
    ) -> Result<CallToolResult, Error> {
        let params = CallToolRequestParams::new(name, self::arguments(arguments)?);
        self.typed(methods::TOOLS_CALL, params, options).await
    }

    /// Calls a tool; a result with `isError: true` becomes [`Error::ToolError`].
    pub async fn call_tool_checked(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<CallToolResult, Error> {
        let result = self.call_tool(name, arguments).await?;
        if result.is_error() {
            return Err(Error::ToolError {
                name: name.to_owned(),
                result: Box::new(result),
            });
        }
        Ok(result)
    }

    /// Calls a tool and deserializes its `structuredContent` into `T`. A tool failure is
    /// [`Error::ToolError`]; a missing or different structure is
    /// [`Error::NoStructuredContent`] or [`Error::InvalidStructuredContent`].
    pub async fn call_tool_typed<T: DeserializeOwned>(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<T, Error> {
        let result = self.call_tool_checked(name, arguments).await?;
        let structured = result
            .structured_content
            .ok_or_else(|| Error::NoStructuredContent {
                name: name.to_owned(),
            })?;
        serde_json::from_value(structured).map_err(|source| Error::InvalidStructuredContent {
            name: name.to_owned(),
            source,
        })
    }

    /// One page of `resources/list`.
    pub async fn list_resources_page(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourcesResult, Error> {
        self.page(methods::RESOURCES_LIST, cursor).await
    }

    /// Every resource, following pagination.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, Error> {
        let mut all = Vec::new();
        self.all_pages(methods::RESOURCES_LIST, |page: ListResourcesResult| {
            all.extend(page.resources);
            page.next_cursor
        })
        .await?;
        Ok(all)
    }

    /// One page of `resources/templates/list`.
    pub async fn list_resource_templates_page(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourceTemplatesResult, Error> {
        self.page(methods::RESOURCES_TEMPLATES_LIST, cursor).await
    }

    /// Every resource template, following pagination.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, Error> {
        let mut all = Vec::new();
        self.all_pages(
            methods::RESOURCES_TEMPLATES_LIST,
            |page: ListResourceTemplatesResult| {
                all.extend(page.resource_templates);
                page.next_cursor
            },
        )
        .await?;
        Ok(all)
    }

    /// Reads a resource.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, Error> {
        let params = ReadResourceRequestParams {
            uri: uri.to_owned(),
            ..ReadResourceRequestParams::default()
        };
        self.typed(methods::RESOURCES_READ, params, &RequestOptions::default())
            .await
    }

    /// One page of `prompts/list`.
    pub async fn list_prompts_page(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListPromptsResult, Error> {
        self.page(methods::PROMPTS_LIST, cursor).await
    }

    /// Every prompt, following pagination.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, Error> {
        let mut all = Vec::new();
        self.all_pages(methods::PROMPTS_LIST, |page: ListPromptsResult| {
            all.extend(page.prompts);
            page.next_cursor
        })
        .await?;
        Ok(all)
    }

    /// Gets a prompt with its arguments, e.g. `[("city", "Oslo")]` (or `None::<(&str, &str)>`).
    pub async fn get_prompt<K, V>(
        &self,
        name: &str,
        arguments: impl IntoIterator<Item = (K, V)>,
    ) -> Result<GetPromptResult, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let arguments: BTreeMap<String, String> = arguments
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let params = GetPromptRequestParams {
            name: name.to_owned(),
            arguments: (!arguments.is_empty()).then_some(arguments),
            ..GetPromptRequestParams::default()
        };
        self.typed(methods::PROMPTS_GET, params, &RequestOptions::default())
            .await
    }

    /// Completes an argument of a prompt or resource template: `argument` is its name,
    /// `value` what was typed so far.
    pub async fn complete(
        &self,
        reference: Reference,
        argument: &str,
        value: &str,
    ) -> Result<CompleteResult, Error> {
        self.complete_with(CompleteRequestParams {
            reference,
            argument: CompletionArgument {
                name: argument.to_owned(),
                value: value.to_owned(),
            },
            context: None,
            meta: None,
        })
        .await
    }

    /// `completion/complete` with every parameter (e.g. already-resolved arguments).
    pub async fn complete_with(
        &self,
        params: CompleteRequestParams,
    ) -> Result<CompleteResult, Error> {
        self.typed(
            methods::COMPLETION_COMPLETE,
            params,
            &RequestOptions::default(),
        )
        .await
    }

    /// Checks that the server answers: `ping` in the legacy era, `server/discover` in the modern
    /// one (which has no `ping`).
    pub async fn ping(&self) -> Result<(), Error> {
        let method = match self.era() {
            Era::Legacy => methods::PING,
            Era::Modern => methods::SERVER_DISCOVER,
        };
        self.session
            .request(method, None, &RequestOptions::default())
            .await
            .map(drop)
    }

    /// The lowest level of log messages the server should send: `logging/setLevel` in the
    /// legacy era; in the modern era, `_meta` of every later request.
    pub async fn set_log_level(&self, level: LoggingLevel) -> Result<(), Error> {
        match self.era() {
            Era::Legacy => {
                let params = SetLevelRequestParams { level, meta: None };
                let _: Value = self
                    .typed(
                        methods::LOGGING_SET_LEVEL,
                        params,
                        &RequestOptions::default(),
                    )
                    .await?;
            }
            Era::Modern => self.session.set_log_level(level),
        }
        Ok(())
    }

    /// Every notification the client receives from now on (progress, logs, list changes,
    /// resource updates), from any stream.
    pub fn notifications(&self) -> NotificationStream {
        NotificationStream::new(self.session.incoming.subscribe())
    }

    /// Opens a change feed for `filter`: in the modern era a `subscriptions/listen` stream
    /// (returns once the server acknowledged it); in the legacy era `resources/subscribe` for each
    /// URI plus the session's GET stream. Dropping the [`Subscription`] ends the feed.
    pub async fn subscribe(&self, filter: SubscriptionFilter) -> Result<Subscription, Error> {
        if self.session.is_closed() {
            return Err(Error::Closed);
        }
        let rx = self.session.incoming.subscribe();
        match self.session.framing() {
            Framing::Modern(version) => {
                let params = SubscriptionsListenRequestParams {
                    notifications: filter,
                    meta: None,
                };
                let params = params_object(Some(encode(params, "params")?))?;
                let call = self.session.call_for(
                    Framing::Modern(version),
                    methods::SUBSCRIPTIONS_LISTEN,
                    &params,
                );
                let (honoured, guard) = self.session.wire.listen(call).await?;
                Ok(Subscription::new(honoured, rx, vec![guard]))
            }
            Framing::Legacy(version) => {
                for uri in filter.resource_subscriptions.iter().flatten() {
                    let params = SubscribeRequestParams {
                        uri: uri.clone(),
                        meta: None,
                    };
                    let _: Value = self
                        .typed(
                            methods::RESOURCES_SUBSCRIBE,
                            params,
                            &RequestOptions::default(),
                        )
                        .await?;
                }
                let mut keep = Vec::new();
                if let Some(v) = version {
                    keep.extend(self.session.wire.legacy_stream(v).await);
                }
                Ok(Subscription::new(filter, rx, keep))
            }
        }
    }

    /// Ends the connection: `DELETE` for a legacy HTTP session, closes a server process's stdin
    /// and waits for it to exit. Later calls fail with [`Error::Closed`].
    pub async fn close(&self) -> Result<(), Error> {
        if self.session.is_closed() {
            return Ok(());
        }
        self.session.mark_closed();
        self.session.wire.close(self.session.framing()).await
    }
}
