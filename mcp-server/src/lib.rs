//! # mcp-server
//!
//! An MCP server framework: register tools, resources, prompts and completions on an
//! [`McpServer`], then serve them over Streamable HTTP (both protocol eras on one endpoint, with
//! sessions, SSE, resumable streams and DNS-rebinding protection) or over stdio.
//!
//! Tools, prompts and resources are plain functions marked [`tool`], [`prompt`] and
//! [`resource`] (and impl blocks marked [`tools`], whose methods share `&self`): the parameters
//! are the arguments, whose JSON Schema is derived from their types; doc comments are the
//! descriptions; the return value is the result.
//!
//! ```no_run
//! use std::path::Path;
//!
//! use mcp_server::prelude::*;
//! use mcp_server::registry::resolve_under;
//!
//! /// Add two integers.
//! #[tool(annotations(read_only))]
//! fn add(
//!     /// The first addend.
//!     a: i64,
//!     /// The second addend.
//!     b: i64,
//! ) -> Result<i64, String> {
//!     a.checked_add(b).ok_or_else(|| "the sum overflows".to_owned())
//! }
//!
//! /// Delete a file; needs the `files:delete` scope when authorization is on.
//! #[tool(required_scopes = ["files:delete"], annotations(destructive))]
//! async fn delete_file(path: String, ctx: &Context) -> Result<String, std::io::Error> {
//!     ctx.progress(0.0, None, Some("deleting"));
//!     std::fs::remove_file(&path)?;
//!     Ok(format!("deleted {path}"))
//! }
//!
//! /// A file under `/srv/files`, the only directory this server shows. A `{+path}` value may
//! /// hold `..` (RFC 6570): `resolve_under` refuses any path that leaves the directory.
//! #[resource(uri = "file:///srv/files/{+path}", mime_type = "text/plain")]
//! async fn file(path: String) -> Result<String, McpError> {
//!     let not_found = || McpError::resource_not_found(format!("file:///srv/files/{path}"));
//!     let found = resolve_under(Path::new("/srv/files"), &path).map_err(|_| not_found())?;
//!     std::fs::read_to_string(found).map_err(|_| not_found())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = McpServer::builder("files")
//!         .tool(add)
//!         .tool(delete_file)
//!         .resource(file)
//!         .build()?;
//!     server.serve("127.0.0.1:8000").await?; // http://127.0.0.1:8000/mcp
//!     Ok(())
//! }
//! ```
//!
//! Everything the macros do can be written by hand: [`ToolDef::from_fn`] takes an async closure
//! over an arguments struct, [`PromptDef::new`], [`ResourceDef::new`] and
//! [`ResourceTemplateDef::new`] take closures too.
//!
//! ```
//! use mcp_server::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Add {
//!     /// The first addend.
//!     a: i64,
//!     /// The second addend.
//!     b: i64,
//! }
//!
//! let server = McpServer::builder("calculator")
//!     .tool(
//!         ToolDef::from_fn("add", |_ctx: Context, Add { a, b }| async move { a + b })
//!             .description("Add two integers"),
//!     )
//!     .build()
//!     .expect("a valid server");
//! assert_eq!(server.tool_names(), ["add"]);
//! ```
//!
//! ## Authorization
//!
//! [`McpServerBuilder::authorization`] protects the HTTP endpoint (stdio is never protected) in
//! one of four modes of [`auth::AuthorizationConfig`]: OAuth 2.1 resource server (JWTs checked
//! against the authorization server's keys, RFC 9728 metadata, DPoP), built-in API keys with
//! roles and workspaces, HTTP Basic, or none. `build()` refuses a configuration it could not
//! enforce, with an [`auth::AuthConfigError`] saying how to fix it; settings that weaken it are
//! only reachable by name ([`auth::Danger`]). A tool's `required_scopes` and `min_role` are
//! checked before it runs; the caller is [`Context::auth`]. The same [`auth::AuthLayer`] guards
//! your own axum routes ([`McpServer::auth_layer`]).
//!
//! ```no_run
//! use mcp_server::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
//! use mcp_server::prelude::*;
//!
//! /// Delete a file.
//! #[tool(required_scopes = ["files:delete"])]
//! fn delete_file(path: String) -> String {
//!     format!("deleted {path}")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = "https://auth.example.com";
//! let server = McpServer::builder("files")
//!     .authorization(
//!         AuthorizationConfig::enabled()
//!             .authorization_server(issuer)
//!             .required_scopes(["read"])
//!             // The public URL of the endpoint: the audience tokens must name.
//!             .resource("https://mcp.example.com/mcp")
//!             .validator(JwtValidator::new(JwtValidatorConfig::new(issuer, ""))?),
//!     )
//!     .tool(delete_file)
//!     .build()?;
//! server.serve("127.0.0.1:8000").await?;
//! # Ok(()) }
//! ```
//!
//! With the `testing` feature, `mcp_server::testing` has an in-process authorization server minting real
//! tokens and helpers starting a server on an ephemeral loopback port.
//!
//! The [`guides`] walk through writing tools, authorization (Keycloak, Auth0, Okta, Entra ID),
//! DPoP, API keys and roles, testing, several instances, observability, and migrating from the
//! official Rust SDK.
//!
//! ## Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | *(none)* | the macros, the registry, dispatch of both protocol eras, stdio, tasks, in-memory stores |
//! | `http` (default) | Streamable HTTP on axum ([`HttpServer`]), the authorization layer, custom token validators |
//! | `oauth` (default) | JWTs via JWKS, RFC 7662 introspection, DPoP; needs `aws-lc` or `rustcrypto` |
//! | `builtin-auth` (default) | API keys (memory, SQLite), users and HTTP Basic (Argon2id), the JSONL audit file |
//! | `aws-lc` (default) | signature checks and HTTPS on aws-lc-rs (fastest; C toolchain) |
//! | `rustcrypto` | signature checks in pure Rust (p256, p384, rsa, ed25519-dalek); HTTPS on rustls with ring unless the application installs a rustls `CryptoProvider` |
//! | `redis` | Redis stores shared by several instances |
//! | `testing` | `testing::{spawn, TestListener, TestIssuer, DpopKey}` |
//!
//! `aws-lc` wins when both backends are enabled. Hashing and HMAC (request-state seals, cache
//! keys, API-key digests) run on RustCrypto's `sha2`/`hmac` in every build.

// The docs are written for the default features: a build that leaves a feature out does not
// fail on the links to what it left out.
#![cfg_attr(
    not(all(feature = "http", feature = "oauth", feature = "builtin-auth")),
    allow(rustdoc::broken_intra_doc_links)
)]

pub mod auth;
mod client_state;
mod clock;
pub(crate) mod crypto;

#[cfg(all(
    feature = "oauth",
    not(any(feature = "aws-lc", feature = "rustcrypto"))
))]
compile_error!(
    "feature `oauth` checks signatures: enable a crypto backend, `aws-lc` (the default) or \
     `rustcrypto` (pure Rust)"
);
mod context;
mod dispatch;
mod error;
#[cfg(feature = "oauth")]
mod form;
// Rendered by rustdoc; their examples need the client and every feature, so the repository's
// test crate compiles them (`tests/src/lib.rs`), not this crate's doc tests.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(not(doctest))]
pub mod guides;
mod mrtr;
pub mod registry;
mod schema;
mod server;
pub mod store;
pub mod tasks;
pub mod telemetry;
#[cfg(test)]
mod test_util;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

use std::future::Future;
use std::pin::Pin;

pub use context::{Context, HttpRequestParts};
pub use error::{ClientRequestError, McpError};
pub use mcp_core as core;
pub use mcp_core::types;
pub use mcp_macros::{prompt, resource, tool, tools};
pub use registry::prompts::{
    Completer, CompletionHandler, IntoCompletion, IntoPrompt, IntoPromptResult, PromptArguments,
    PromptDef,
};
pub use registry::resources::{
    AnyResource, IntoReadResult, IntoResource, ResourceDef, ResourceTemplateDef,
};
pub use registry::tools::{
    IntoTool, IntoToolResult, IntoTools, Json, NoArgs, ToolDef, ToolError, ToolHandler, ToolSet,
};
pub use server::{BuildError, McpServer, McpServerBuilder};
#[cfg(feature = "http")]
pub use transport::http::HttpServer;
#[cfg(feature = "http")]
pub use transport::http::config::{HttpConfig, HttpConfigError, SessionMode};

/// A boxed, sendable future, as handlers return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The names most servers need: `use mcp_server::prelude::*;`.
pub mod prelude {
    pub use crate::types::{
        CallToolResult, Content, GetPromptResult, Prompt, PromptMessage, ReadResourceResult,
        Resource, ResourceContents, ResourceTemplate, ToolAnnotations,
    };
    pub use crate::{
        CompletionHandler, Context, Json, McpError, McpServer, McpServerBuilder, NoArgs, PromptDef,
        ResourceDef, ResourceTemplateDef, ToolDef, ToolError,
    };
    #[cfg(feature = "http")]
    pub use crate::{HttpConfig, HttpServer, SessionMode};
    pub use crate::{prompt, resource, tool, tools};
}

/// Paths used by code that `mcp-macros` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::registry::tools::parse_arguments;
    pub use crate::schema::object_schema_for;
    pub use schemars;
    pub use serde;
    pub use serde_json;

    pub use crate::BoxFuture;
    pub use crate::context::Context;
    pub use crate::registry::prompts::{IntoPrompt, PromptArguments, PromptDef};
    pub use crate::registry::resources::{IntoResource, ResourceDef, ResourceTemplateDef};
    pub use crate::registry::tools::{IntoTool, IntoToolResult, IntoTools, ToolDef, ToolHandler};
    pub use mcp_core::types::{
        CallToolResult, Icon, JsonObject, Meta, Prompt, PromptArgument, Resource, ResourceTemplate,
        Tool, ToolAnnotations,
    };

    use crate::error::McpError;
    use crate::registry::prompts::IntoPromptResult;
    use crate::registry::resources::IntoReadResult;
    use mcp_core::types::{GetPromptResult, PromptMessage, ReadResourceResult, ResourceContents};
    pub use std::boxed::Box;
    pub use std::default::Default;
    pub use std::option::Option::{self, None, Some};
    pub use std::result::Result::{self, Err, Ok};
    pub use std::string::String;
    pub use std::sync::Arc;
    pub use std::vec::Vec;

    use std::any::Any;
    use std::fmt::Display;
    use std::str::FromStr;

    pub use crate::registry::resources::AnyResource;
    pub use crate::registry::uri_template::UriTemplateError;

    /// The variables of a matched URI template.
    pub type TemplateVariables = std::collections::BTreeMap<String, String>;

    pub use crate::registry::tools::ToolSet;

    /// A type a `#[tool]` parameter may have: the argument is deserialized into it and its
    /// schema is derived from it.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a tool argument",
        label = "tool arguments implement `serde::Deserialize` and `schemars::JsonSchema`",
        note = "derive both on your type: `#[derive(serde::Deserialize, schemars::JsonSchema)]`",
        note = "borrowed types such as `&str` cannot be arguments: use owned ones such as `String`"
    )]
    pub trait ToolArgument: serde::de::DeserializeOwned + schemars::JsonSchema {}
    impl<T: serde::de::DeserializeOwned + schemars::JsonSchema> ToolArgument for T {}

    /// Checks at compile time that `T` can be a tool argument.
    pub fn assert_tool_argument<T: ToolArgument>() {}

    /// Checks at compile time that a tool, prompt or resource future can run on the server.
    pub fn assert_send<F: std::future::Future + Send>(f: F) -> F {
        f
    }

    /// A type a `#[prompt]` parameter or a `#[resource]` template variable may have: it is
    /// parsed from the argument's text with [`FromStr`].
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be parsed from a prompt argument or a URI template variable",
        label = "expected `String` or a type implementing `FromStr` whose error implements `Display`"
    )]
    pub trait FromArgument: Sized {
        /// Parses the argument's text.
        fn from_argument(text: &str) -> Result<Self, String>;
    }

    impl<T: FromStr> FromArgument for T
    where
        T::Err: Display,
    {
        fn from_argument(text: &str) -> Result<Self, String> {
            T::from_str(text).map_err(|e| e.to_string())
        }
    }

    /// Checks at compile time that `T` can be parsed from an argument.
    pub fn assert_from_argument<T: FromArgument>() {}

    /// Parses the text of the argument `name`; a failure is `-32602` naming the argument.
    pub fn parse_argument<T: FromArgument>(name: &str, text: &str) -> Result<T, McpError> {
        T::from_argument(text)
            .map_err(|e| McpError::InvalidParams(format!("Invalid argument `{name}`: {e}")))
    }

    /// The error of a required argument that is absent.
    pub fn missing_argument(name: &str) -> McpError {
        McpError::InvalidParams(format!("Missing required argument `{name}`"))
    }

    /// An error a prompt or resource function returned: an [`McpError`] as it is, any other
    /// error as `-32603` with its text.
    fn into_mcp_error<E: Display + 'static>(error: E) -> McpError {
        let mut slot = Some(error);
        if let Some(own) = (&mut slot as &mut dyn Any).downcast_mut::<Option<McpError>>() {
            if let Some(e) = own.take() {
                return e;
            }
        }
        McpError::Internal(slot.map(|e| e.to_string()).unwrap_or_default())
    }

    /// What a `#[prompt]` function may return.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be returned from a prompt",
        label = "prompts return `Vec<PromptMessage>`, `PromptMessage`, `GetPromptResult`, text, or `Result<_, E: Display>` of those"
    )]
    pub trait PromptOutput: Send + 'static {
        /// The `prompts/get` result.
        fn into_prompt_output(self) -> Result<GetPromptResult, McpError>;
    }

    impl<T: IntoPromptResult> PromptOutput for T {
        fn into_prompt_output(self) -> Result<GetPromptResult, McpError> {
            Ok(self.into_prompt_result())
        }
    }

    impl PromptOutput for PromptMessage {
        fn into_prompt_output(self) -> Result<GetPromptResult, McpError> {
            Ok(vec![self].into_prompt_result())
        }
    }

    impl PromptOutput for String {
        fn into_prompt_output(self) -> Result<GetPromptResult, McpError> {
            PromptMessage::user_text(self).into_prompt_output()
        }
    }

    impl PromptOutput for &'static str {
        fn into_prompt_output(self) -> Result<GetPromptResult, McpError> {
            PromptMessage::user_text(self).into_prompt_output()
        }
    }

    impl<T: PromptOutput, E: Display + Send + 'static> PromptOutput for Result<T, E> {
        fn into_prompt_output(self) -> Result<GetPromptResult, McpError> {
            self.map_err(into_mcp_error)
                .and_then(PromptOutput::into_prompt_output)
        }
    }

    /// Checks at compile time that `T` can be returned from a prompt.
    pub fn assert_prompt_output<T: PromptOutput>() {}

    /// What a `#[resource]` function may return.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be returned from a resource",
        label = "resources return text (`String`), bytes (`Vec<u8>`), `Json<T>`, `ResourceContents`, `Vec<ResourceContents>`, `ReadResourceResult`, or `Result<_, E: Display>` of those"
    )]
    pub trait ResourceOutput: Send + 'static {
        /// The `resources/read` result for `uri`; `mime_type` is the one the attribute gave.
        fn into_resource_output(
            self,
            uri: String,
            mime_type: Option<&'static str>,
        ) -> Result<ReadResourceResult, McpError>;
    }

    impl<T: IntoReadResult> ResourceOutput for T {
        fn into_resource_output(
            self,
            _uri: String,
            _mime_type: Option<&'static str>,
        ) -> Result<ReadResourceResult, McpError> {
            Ok(self.into_read_result())
        }
    }

    impl ResourceOutput for String {
        fn into_resource_output(
            self,
            uri: String,
            mime_type: Option<&'static str>,
        ) -> Result<ReadResourceResult, McpError> {
            let mime = mime_type.map(str::to_owned);
            Ok(ResourceContents::text(uri, mime, self).into_read_result())
        }
    }

    impl ResourceOutput for &'static str {
        fn into_resource_output(
            self,
            uri: String,
            mime_type: Option<&'static str>,
        ) -> Result<ReadResourceResult, McpError> {
            String::from(self).into_resource_output(uri, mime_type)
        }
    }

    impl ResourceOutput for Vec<u8> {
        fn into_resource_output(
            self,
            uri: String,
            mime_type: Option<&'static str>,
        ) -> Result<ReadResourceResult, McpError> {
            use base64::Engine;
            let blob = base64::engine::general_purpose::STANDARD.encode(self);
            let mime = mime_type.unwrap_or("application/octet-stream");
            Ok(ResourceContents::blob(uri, mime, blob).into_read_result())
        }
    }

    impl<T: serde::Serialize + Send + 'static> ResourceOutput for crate::Json<T> {
        fn into_resource_output(
            self,
            uri: String,
            mime_type: Option<&'static str>,
        ) -> Result<ReadResourceResult, McpError> {
            let text = serde_json::to_string(&self.0).map_err(|e| {
                McpError::Internal(format!("Failed to serialize the resource: {e}"))
            })?;
            text.into_resource_output(uri, mime_type.or(Some("application/json")))
        }
    }

    impl<T: ResourceOutput, E: Display + Send + 'static> ResourceOutput for Result<T, E> {
        fn into_resource_output(
            self,
            uri: String,
            mime_type: Option<&'static str>,
        ) -> Result<ReadResourceResult, McpError> {
            self.map_err(into_mcp_error)
                .and_then(|v| v.into_resource_output(uri, mime_type))
        }
    }

    /// Checks at compile time that `T` can be returned from a resource.
    pub fn assert_resource_output<T: ResourceOutput>() {}

    /// A resource template built by `#[resource]`; its template was checked at compile time, and
    /// should the runtime parser still reject it, the server's `build()` reports it.
    pub fn template(
        result: Result<ResourceTemplateDef, UriTemplateError>,
    ) -> Result<AnyResource, UriTemplateError> {
        result.map(AnyResource::Template)
    }
}
