//! [`McpServer`] and its builder: what the server is called, what it offers, how it behaves.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use mcp_core::types::meta_keys;
use mcp_core::types::{
    Icon, Implementation, PromptsCapability, ResourcesCapability, ServerCapabilities,
    ToolsCapability,
};
use mcp_core::version::{DEFAULT_LEGACY_VERSIONS, ProtocolVersion};

use crate::auth::AuthorizationConfig;
use crate::mrtr::StateCodec;
use crate::registry::Registry;
use crate::registry::prompts::{CompletionHandler, IntoPrompt, PromptDef};
use crate::registry::resources::{AnyResource, IntoResource, ResourceDef, ResourceTemplateDef};
use crate::registry::tools::{IntoTool, IntoTools, ToolDef};
use crate::registry::uri_template::UriTemplateError;

/// Why a server could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two tools share a name.
    #[error("two tools are named {0:?}")]
    DuplicateTool(String),
    /// A tool name is outside `[A-Za-z0-9_.-]{{1,128}}`.
    #[error("{}", tool_name_error(.0))]
    InvalidToolName(String),
    /// A tool's input schema is not an object schema.
    #[error("the input schema of tool {0:?} must have \"type\": \"object\" at its root")]
    InvalidInputSchema(String),
    /// Two prompts share a name.
    #[error("two prompts are named {0:?}")]
    DuplicatePrompt(String),
    /// Two resources share a URI.
    #[error("two resources have the URI {0:?}")]
    DuplicateResource(String),
    /// A resource template's URI template does not parse.
    #[error(transparent)]
    InvalidUriTemplate(#[from] UriTemplateError),
    /// No protocol version is enabled.
    #[error("no supported protocol version")]
    NoProtocolVersion,
    /// The MRTR state key is shorter than 32 bytes.
    #[error("the request-state key must be at least 32 bytes")]
    WeakRequestStateKey,
    /// The authorization configuration cannot be enforced as written.
    #[error("authorization: {0}")]
    Authorization(#[from] crate::auth::AuthConfigError),
    /// No request-state key was given and the operating system's random number generator
    /// failed, so none could be drawn.
    #[error("the operating system's random number generator failed: no request-state key")]
    Randomness,
    /// A tool's `min_role` is not on the server's role ladder.
    #[error("tool {tool:?} needs the role {role:?}, which is not on the role ladder")]
    UnknownRole {
        /// The tool.
        tool: String,
        /// Its `min_role`.
        role: String,
    },
}

/// A change of what the server offers, pushed to connected clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Tools,
    Prompts,
    Resources,
    ResourceUpdated(String),
}

/// Something that forwards changes to its clients (an HTTP session table, a stdio connection).
pub(crate) trait ChangeListener: Send + Sync {
    fn on_change(&self, change: &Change);
}

pub(crate) struct ServerInner {
    pub info: Implementation,
    pub instructions: Option<String>,
    pub capabilities: ServerCapabilities,
    pub versions: Vec<ProtocolVersion>,
    pub registry: ArcSwap<Registry>,
    pub completion: Option<CompletionHandler>,
    pub page_size: usize,
    pub client_request_timeout: Option<Duration>,
    /// The most server→client requests one client may have unanswered at once.
    pub max_pending_client_requests: usize,
    /// How long a handler (tool, resource, prompt, completion) may run.
    pub request_timeout: Option<Duration>,
    /// How the HTTP endpoint is protected.
    pub auth: AuthorizationConfig,
    /// `serverInfo` as a JSON value, for modern results' `_meta`.
    pub server_info_value: serde_json::Value,
    /// `{"io.modelcontextprotocol/serverInfo": ...}`, serialized once.
    pub server_info_meta: Box<serde_json::value::RawValue>,
    /// `ttlMs` of cacheable modern results.
    pub cache_ttl_ms: u64,
    /// Seals and opens MRTR `requestState`.
    pub(crate) state_codec: StateCodec,
    /// Tasks extension (SEP-2663): records and running task handlers.
    pub(crate) tasks: Arc<crate::tasks::TaskManager>,
    /// The MCP metrics (feature `otel`), on the global meter provider of build time.
    pub(crate) metrics: crate::telemetry::ServerMetrics,
    listeners: Mutex<Vec<Weak<dyn ChangeListener>>>,
}

impl ServerInner {
    pub fn supports(&self, v: ProtocolVersion) -> bool {
        self.versions.contains(&v)
    }

    pub fn add_listener(&self, listener: Weak<dyn ChangeListener>) {
        let mut l = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        l.retain(|w| w.strong_count() > 0);
        l.push(listener);
    }

    fn broadcast(&self, change: &Change) {
        let listeners: Vec<_> = {
            let l = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
            l.iter().filter_map(Weak::upgrade).collect()
        };
        for listener in listeners {
            listener.on_change(change);
        }
    }
}

/// An MCP server: what it offers and how it behaves. Cheap to clone; serve it over HTTP with
/// [`serve`](McpServer::serve) or [`into_router`](McpServer::into_router), or over stdio with
/// [`serve_stdio`](McpServer::serve_stdio).
#[derive(Clone)]
pub struct McpServer {
    pub(crate) inner: Arc<ServerInner>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("info", &self.inner.info)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// The server's authorization settings.
    pub fn authorization_config(&self) -> &AuthorizationConfig {
        &self.inner.auth
    }

    /// The default of [`McpServerBuilder::max_pending_client_requests`]: 16.
    pub const DEFAULT_MAX_PENDING_CLIENT_REQUESTS: usize = 16;
    /// The default of [`McpServerBuilder::request_timeout`]: 5 minutes.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

    /// Starts describing a server called `name`.
    pub fn builder(name: impl Into<String>) -> McpServerBuilder {
        McpServerBuilder {
            info: Implementation::new(name.into(), "1.0.0".to_owned()),
            instructions: None,
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            invalid_template: None,
            completion: None,
            page_size: 100,
            client_request_timeout: Some(Duration::from_secs(300)),
            max_pending_client_requests: Self::DEFAULT_MAX_PENDING_CLIENT_REQUESTS,
            request_timeout: Some(Self::DEFAULT_REQUEST_TIMEOUT),
            versions: std::iter::once(ProtocolVersion::V2026_07_28)
                .chain(DEFAULT_LEGACY_VERSIONS)
                .collect(),
            auth: AuthorizationConfig::default(),
            cache_ttl: Duration::ZERO,
            request_state_key: None,
            request_state_ttl: Duration::from_secs(600),
            tasks: crate::tasks::TaskConfig::default(),
        }
    }

    /// The server's name, version and other self-description.
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// The capabilities the server declares.
    pub fn capabilities(&self) -> &ServerCapabilities {
        &self.inner.capabilities
    }

    /// Adds or replaces a tool at run time and tells connected clients (`list_changed`).
    pub fn add_tool(&self, tool: impl IntoTool) -> Result<(), BuildError> {
        let tool = tool.into_tool();
        check_tool(&tool)?;
        check_tool_roles(&self.inner.auth, &tool)?;
        self.inner.registry.rcu(|r| {
            let mut r = Registry::clone(r);
            r.tools
                .insert(tool.tool.name.clone(), Arc::new(tool.clone()));
            r
        });
        self.inner.broadcast(&Change::Tools);
        Ok(())
    }

    /// Removes a tool at run time; returns whether it existed.
    pub fn remove_tool(&self, name: &str) -> bool {
        let mut removed = false;
        self.inner.registry.rcu(|r| {
            let mut r = Registry::clone(r);
            removed = r.tools.shift_remove(name).is_some();
            r
        });
        if removed {
            self.inner.broadcast(&Change::Tools);
        }
        removed
    }

    /// Adds or replaces a prompt at run time and tells connected clients.
    pub fn add_prompt(&self, prompt: impl IntoPrompt) {
        let prompt = prompt.into_prompt();
        self.inner.registry.rcu(|r| {
            let mut r = Registry::clone(r);
            r.prompts
                .insert(prompt.prompt.name.clone(), Arc::new(prompt.clone()));
            r
        });
        self.inner.broadcast(&Change::Prompts);
    }

    /// Adds or replaces a resource at run time and tells connected clients.
    pub fn add_resource(&self, resource: ResourceDef) {
        self.inner.registry.rcu(|r| {
            let mut r = Registry::clone(r);
            r.resources
                .insert(resource.resource.uri.clone(), Arc::new(resource.clone()));
            r
        });
        self.inner.broadcast(&Change::Resources);
    }

    /// Tells clients subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`).
    pub fn notify_resource_updated(&self, uri: impl Into<String>) {
        self.inner.broadcast(&Change::ResourceUpdated(uri.into()));
    }

    /// The names of the registered tools, in order.
    pub fn tool_names(&self) -> Vec<String> {
        self.inner.registry.load().tools.keys().cloned().collect()
    }
}

/// Why `name` is not a valid tool name, as [`mcp_core::rules::tool_name`] says.
fn tool_name_error(name: &str) -> String {
    match mcp_core::rules::tool_name::validate(name) {
        Err(e) => e.to_string(),
        Ok(()) => format!("invalid tool name `{name}`"),
    }
}

fn check_tool(tool: &ToolDef) -> Result<(), BuildError> {
    let name = &tool.tool.name;
    if !mcp_core::rules::tool_name::is_valid(name) {
        return Err(BuildError::InvalidToolName(name.clone()));
    }
    if tool.tool.input_schema.get("type").and_then(|t| t.as_str()) != Some("object") {
        return Err(BuildError::InvalidInputSchema(name.clone()));
    }
    Ok(())
}

/// A tool's `min_role` must be on the ladder, and enforceable in this authorization mode
/// (never silently ignored).
fn check_tool_roles(auth: &AuthorizationConfig, tool: &ToolDef) -> Result<(), BuildError> {
    let Some(role) = &tool.min_role else {
        return Ok(());
    };
    if !auth.roles.contains(role) {
        return Err(BuildError::UnknownRole {
            tool: tool.tool.name.clone(),
            role: role.clone(),
        });
    }
    auth.check_min_role(&tool.tool.name, role)?;
    Ok(())
}

/// Describes an [`McpServer`]. Nothing is checked until [`build`](McpServerBuilder::build).
#[must_use]
pub struct McpServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    tools: Vec<ToolDef>,
    resources: Vec<ResourceDef>,
    templates: Vec<ResourceTemplateDef>,
    prompts: Vec<PromptDef>,
    invalid_template: Option<UriTemplateError>,
    completion: Option<CompletionHandler>,
    page_size: usize,
    client_request_timeout: Option<Duration>,
    max_pending_client_requests: usize,
    request_timeout: Option<Duration>,
    versions: Vec<ProtocolVersion>,
    auth: AuthorizationConfig,
    cache_ttl: Duration,
    request_state_key: Option<Vec<u8>>,
    request_state_ttl: Duration,
    tasks: crate::tasks::TaskConfig,
}

impl McpServerBuilder {
    /// How long 2026-07-28 clients may cache lists, reads and discovery (`ttlMs`, default 0).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// The key that signs MRTR `requestState` (at least 32 bytes). Give every instance behind a
    /// load balancer the same key; by default each server draws a random one.
    pub fn request_state_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.request_state_key = Some(key.into());
        self
    }

    /// Task settings of the tasks extension (`ttlMs`, `pollIntervalMs`, the record store).
    /// The extension is declared in `server/discover` as soon as a tool supports tasks
    /// ([`ToolDef::task_support`](crate::ToolDef::task_support)).
    pub fn tasks(mut self, config: crate::tasks::TaskConfig) -> Self {
        self.tasks = config;
        self
    }

    /// How long an MRTR `requestState` stays valid (default 10 minutes).
    pub fn request_state_ttl(mut self, ttl: Duration) -> Self {
        self.request_state_ttl = ttl;
        self
    }

    /// The server's version (default `1.0.0`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.info.version = version.into();
        self
    }

    /// A human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// A description of the server.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.info.description = Some(description.into());
        self
    }

    /// The server's website.
    pub fn website_url(mut self, url: impl Into<String>) -> Self {
        self.info.website_url = Some(url.into());
        self
    }

    /// The server's icons.
    pub fn icons(mut self, icons: Vec<Icon>) -> Self {
        self.info.icons = Some(icons);
        self
    }

    /// Instructions for the client's model on how to use the server.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Registers a tool: a [`ToolDef`], or a function marked `#[tool]`.
    pub fn tool(mut self, tool: impl IntoTool) -> Self {
        self.tools.push(tool.into_tool());
        self
    }

    /// Registers several tools: e.g. a value whose impl block is marked `#[tools]`.
    pub fn tools(mut self, tools: impl IntoTools) -> Self {
        self.tools.extend(tools.into_tools());
        self
    }

    /// Registers a resource or a resource template: a [`ResourceDef`], a [`ResourceTemplateDef`]
    /// (or the `Result` of [`ResourceTemplateDef::new`]), or a function marked `#[resource]`.
    pub fn resource(mut self, resource: impl IntoResource) -> Self {
        match resource.into_resource() {
            Ok(AnyResource::Fixed(r)) => self.resources.push(r),
            Ok(AnyResource::Template(t)) => self.templates.push(t),
            Err(e) => {
                self.invalid_template.get_or_insert(e);
            }
        }
        self
    }

    /// Registers a resource template; the same as [`resource`](Self::resource).
    pub fn resource_template(self, template: impl IntoResource) -> Self {
        self.resource(template)
    }

    /// Registers a prompt: a [`PromptDef`], or a function marked `#[prompt]`.
    pub fn prompt(mut self, prompt: impl IntoPrompt) -> Self {
        self.prompts.push(prompt.into_prompt());
        self
    }

    /// Sets the `completion/complete` handler (and declares the `completions` capability).
    ///
    /// Completers registered on prompts and templates ([`PromptDef::complete`],
    /// [`ResourceTemplateDef::complete`], `complete(..)` in `#[prompt]` and `#[resource]`) answer
    /// first; this handler answers every other request.
    pub fn completion(mut self, handler: CompletionHandler) -> Self {
        self.completion = Some(handler);
        self
    }

    /// How many items a list page holds (default 100).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// How long a request to the client (sampling, elicitation, roots) may wait for its answer
    /// (default 5 minutes; `None` waits until the request is cancelled).
    pub fn client_request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.client_request_timeout = timeout;
        self
    }

    /// The most requests to one client (sampling, elicitation, roots) that may wait for their
    /// answers at once (default 16, at least 1): a session's budget, or the stdio client's.
    /// One more fails at once with [`ClientRequestError::TooManyPending`](crate::ClientRequestError::TooManyPending).
    pub fn max_pending_client_requests(mut self, n: usize) -> Self {
        self.max_pending_client_requests = n.max(1);
        self
    }

    /// How long one handler call (a tool, a resource read, a prompt, a completion) may run
    /// (default 5 minutes; `None` for no bound). Past it the handler is dropped (cancelled at its
    /// next `.await`) and the request is answered with `-32603` naming the limit; the server
    /// keeps serving everyone else. Tasks (2026-07-28) are bounded by their own `ttl` instead.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The protocol versions to speak (default: 2026-07-28 and every legacy version from
    /// 2025-03-26 on).
    pub fn protocol_versions(
        mut self,
        versions: impl IntoIterator<Item = ProtocolVersion>,
    ) -> Self {
        self.versions = versions.into_iter().collect();
        self
    }

    /// Protects the HTTP endpoint (see [`AuthorizationConfig`]); `build()` checks that it can be
    /// enforced. stdio is never protected.
    pub fn authorization(mut self, config: AuthorizationConfig) -> Self {
        self.auth = config;
        self
    }

    /// Checks everything and builds the server.
    pub fn build(self) -> Result<McpServer, BuildError> {
        self.auth.check()?;
        if self.versions.is_empty() {
            return Err(BuildError::NoProtocolVersion);
        }
        if let Some(e) = self.invalid_template {
            return Err(BuildError::InvalidUriTemplate(e));
        }
        let has_completers = self.prompts.iter().any(PromptDef::has_completions)
            || self
                .templates
                .iter()
                .any(ResourceTemplateDef::has_completions);
        let mut registry = Registry::default();
        for tool in self.tools {
            check_tool(&tool)?;
            check_tool_roles(&self.auth, &tool)?;
            let name = tool.tool.name.clone();
            if registry
                .tools
                .insert(name.clone(), Arc::new(tool))
                .is_some()
            {
                return Err(BuildError::DuplicateTool(name));
            }
        }
        for prompt in self.prompts {
            let name = prompt.prompt.name.clone();
            if registry
                .prompts
                .insert(name.clone(), Arc::new(prompt))
                .is_some()
            {
                return Err(BuildError::DuplicatePrompt(name));
            }
        }
        for resource in self.resources {
            let uri = resource.resource.uri.clone();
            if registry
                .resources
                .insert(uri.clone(), Arc::new(resource))
                .is_some()
            {
                return Err(BuildError::DuplicateResource(uri));
            }
        }
        registry.templates = self.templates.into_iter().map(Arc::new).collect();

        let capabilities = ServerCapabilities {
            tools: Some(ToolsCapability {
                list_changed: Some(true),
            }),
            resources: Some(ResourcesCapability {
                subscribe: Some(true),
                list_changed: Some(true),
            }),
            prompts: Some(PromptsCapability {
                list_changed: Some(true),
            }),
            logging: Some(Default::default()),
            completions: (self.completion.is_some() || has_completers).then(Default::default),
            ..Default::default()
        };
        let server_info_value = serde_json::to_value(&self.info).unwrap_or_default();
        let server_info_meta = serde_json::value::to_raw_value(&serde_json::json!({
            meta_keys::SERVER_INFO: server_info_value
        }))
        .map_err(|_| BuildError::NoProtocolVersion)?;
        let state_codec = match &self.request_state_key {
            Some(key) if key.len() >= 32 => StateCodec::new(key, self.request_state_ttl),
            Some(_) => return Err(BuildError::WeakRequestStateKey),
            None => {
                StateCodec::random(self.request_state_ttl).map_err(|_| BuildError::Randomness)?
            }
        };
        let metrics = crate::telemetry::ServerMetrics::from_global();
        Ok(McpServer {
            inner: Arc::new_cyclic(|server| ServerInner {
                server_info_value,
                server_info_meta,
                cache_ttl_ms: u64::try_from(self.cache_ttl.as_millis()).unwrap_or(u64::MAX),
                state_codec,
                tasks: Arc::new(crate::tasks::TaskManager::new(self.tasks, metrics.clone())),
                info: self.info,
                instructions: self.instructions,
                capabilities,
                versions: self.versions,
                registry: ArcSwap::from_pointee(registry),
                completion: if has_completers {
                    Some(routed_completion(server.clone(), self.completion))
                } else {
                    self.completion
                },
                page_size: self.page_size,
                client_request_timeout: self.client_request_timeout,
                max_pending_client_requests: self.max_pending_client_requests,
                request_timeout: self.request_timeout,
                auth: self.auth,
                listeners: Mutex::new(Vec::new()),
                metrics,
            }),
        })
    }
}

/// The `completion/complete` handler of a server whose prompts or templates have completers: the
/// completer registered for the referenced argument answers, else `fallback`, else no values.
fn routed_completion(
    server: Weak<ServerInner>,
    fallback: Option<CompletionHandler>,
) -> CompletionHandler {
    use mcp_core::types::{CompleteResult, Reference};
    CompletionHandler::new(move |ctx, params| {
        let registry = server.upgrade().map(|s| s.registry.load_full());
        let argument = params.argument.name.as_str();
        let found = registry.as_deref().and_then(|r| match &params.reference {
            Reference::Prompt(p) => r.prompts.get(&p.name)?.completer(argument).cloned(),
            Reference::Resource(t) => r
                .templates
                .iter()
                .find(|d| d.template.uri_template == t.uri)?
                .completer(argument)
                .cloned(),
        });
        let run = found
            .or_else(|| fallback.clone())
            .map(|h| h.complete(ctx, params));
        async move {
            match run {
                Some(run) => run.await,
                None => Ok(CompleteResult::new(Vec::new())),
            }
        }
    })
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct NoArgs {}

    fn tool(name: &str) -> ToolDef {
        ToolDef::from_fn(name, |_ctx: crate::Context, NoArgs {}| async { "" })
    }

    /// Hand-made tools meet mcp-core's tool-name rule, the one `#[tool]` checks at compile time.
    #[test]
    fn tool_names_follow_the_core_rule() {
        let long = "x".repeat(129);
        for bad in ["", "delete file!", "grüße", long.as_str()] {
            let err = check_tool(&tool(bad)).unwrap_err();
            assert!(
                matches!(&err, BuildError::InvalidToolName(n) if n == bad),
                "{bad}"
            );
            let core = mcp_core::rules::tool_name::validate(bad).unwrap_err();
            assert_eq!(err.to_string(), core.to_string());
        }
        assert!(check_tool(&tool("files.list_v2-beta")).is_ok());
        assert!(check_tool(&tool(&"x".repeat(128))).is_ok());
    }
}
