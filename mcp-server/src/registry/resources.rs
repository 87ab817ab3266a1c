//! Resources with a fixed URI ([`ResourceDef`]), resource templates ([`ResourceTemplateDef`]),
//! and what can be registered as either ([`IntoResource`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use mcp_core::types::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};

use crate::BoxFuture;
use crate::context::Context;
use crate::error::McpError;
use crate::registry::prompts::{Completer, CompletionHandler, find_completer};
use crate::registry::uri_template::{UriTemplate, UriTemplateError};

/// What a resource read returns: one or more contents.
pub type ReadResult = Result<ReadResourceResult, McpError>;

type ReadFn = dyn Fn(Context, String, BTreeMap<String, String>) -> BoxFuture<'static, ReadResult>
    + Send
    + Sync;

/// A resource with a fixed URI.
#[derive(Clone)]
pub struct ResourceDef {
    /// The resource as `resources/list` shows it.
    pub resource: Resource,
    read: Arc<ReadFn>,
}

impl std::fmt::Debug for ResourceDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceDef")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

impl ResourceDef {
    /// A resource served by `read`, which gets the context and the URI.
    ///
    /// ```
    /// use mcp_server::{ResourceDef, types::{Resource, ResourceContents}};
    /// let r = ResourceDef::new(
    ///     Resource { uri: "mem://hello".into(), name: "hello".into(), ..Default::default() },
    ///     |_ctx, uri| async move { Ok(vec![ResourceContents::text(uri, Some("text/plain".into()), "hi")]) },
    /// );
    /// assert_eq!(r.resource.uri, "mem://hello");
    /// ```
    pub fn new<F, Fut, C>(resource: Resource, read: F) -> Self
    where
        F: Fn(Context, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, McpError>> + Send + 'static,
        C: IntoReadResult,
    {
        ResourceDef {
            resource,
            read: Arc::new(move |ctx, uri, _| {
                let fut = read(ctx, uri);
                Box::pin(async move { fut.await.map(IntoReadResult::into_read_result) })
            }),
        }
    }

    pub(crate) fn read(&self, ctx: Context, uri: String) -> BoxFuture<'static, ReadResult> {
        (self.read)(ctx, uri, BTreeMap::new())
    }
}

/// A family of resources whose URIs match an RFC 6570 template.
#[derive(Clone)]
pub struct ResourceTemplateDef {
    /// The template as `resources/templates/list` shows it.
    pub template: ResourceTemplate,
    pub(crate) matcher: UriTemplate,
    read: Arc<ReadFn>,
    completions: Vec<(String, CompletionHandler)>,
}

impl std::fmt::Debug for ResourceTemplateDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTemplateDef")
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

impl ResourceTemplateDef {
    /// A template served by `read`, which gets the context, the URI and the template's variables.
    pub fn new<F, Fut, C>(template: ResourceTemplate, read: F) -> Result<Self, UriTemplateError>
    where
        F: Fn(Context, String, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, McpError>> + Send + 'static,
        C: IntoReadResult,
    {
        let matcher = UriTemplate::parse(&template.uri_template)?;
        Ok(ResourceTemplateDef {
            template,
            matcher,
            read: Arc::new(move |ctx, uri, vars| {
                let fut = read(ctx, uri, vars);
                Box::pin(async move { fut.await.map(IntoReadResult::into_read_result) })
            }),
            completions: Vec::new(),
        })
    }

    /// Suggests values for the template variable `variable` (`completion/complete` with a
    /// `ref/resource` reference to this template). See [`Completer`] for the accepted forms.
    #[must_use]
    pub fn complete<M>(
        mut self,
        variable: impl Into<String>,
        completer: impl Completer<M>,
    ) -> Self {
        self.completions
            .push((variable.into(), completer.into_completion_handler()));
        self
    }

    /// The completer of `variable`, if one was registered.
    pub(crate) fn completer(&self, variable: &str) -> Option<&CompletionHandler> {
        find_completer(&self.completions, variable)
    }

    /// Whether any variable has a completer.
    pub(crate) fn has_completions(&self) -> bool {
        !self.completions.is_empty()
    }

    pub(crate) fn read(
        &self,
        ctx: Context,
        uri: String,
        vars: BTreeMap<String, String>,
    ) -> BoxFuture<'static, ReadResult> {
        (self.read)(ctx, uri, vars)
    }
}

/// A resource or a resource template, as [`IntoResource`] hands them to the server builder.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyResource {
    /// A resource with a fixed URI.
    Fixed(ResourceDef),
    /// A resource template.
    Template(ResourceTemplateDef),
}

/// Something that can be registered with
/// [`McpServerBuilder::resource`](crate::McpServerBuilder::resource): a [`ResourceDef`], a
/// [`ResourceTemplateDef`] (or the `Result` of [`ResourceTemplateDef::new`]), or a function
/// marked `#[resource]`. A template that does not parse fails the server's `build()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a resource",
    label = "expected a `ResourceDef`, a `ResourceTemplateDef` or a function marked `#[resource]`"
)]
pub trait IntoResource {
    /// The resource or template.
    fn into_resource(self) -> Result<AnyResource, UriTemplateError>;
}

impl IntoResource for ResourceDef {
    fn into_resource(self) -> Result<AnyResource, UriTemplateError> {
        Ok(AnyResource::Fixed(self))
    }
}

impl IntoResource for ResourceTemplateDef {
    fn into_resource(self) -> Result<AnyResource, UriTemplateError> {
        Ok(AnyResource::Template(self))
    }
}

impl IntoResource for Result<ResourceTemplateDef, UriTemplateError> {
    fn into_resource(self) -> Result<AnyResource, UriTemplateError> {
        self.map(AnyResource::Template)
    }
}

/// What a resource handler may return.
pub trait IntoReadResult: Send + 'static {
    /// The `resources/read` result.
    fn into_read_result(self) -> ReadResourceResult;
}

impl IntoReadResult for ReadResourceResult {
    fn into_read_result(self) -> ReadResourceResult {
        self
    }
}

impl IntoReadResult for ResourceContents {
    fn into_read_result(self) -> ReadResourceResult {
        ReadResourceResult {
            contents: vec![self],
            meta: None,
        }
    }
}

impl IntoReadResult for Vec<ResourceContents> {
    fn into_read_result(self) -> ReadResourceResult {
        ReadResourceResult {
            contents: self,
            meta: None,
        }
    }
}
