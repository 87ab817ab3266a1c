//! Prompts ([`PromptDef`]) and completion handlers ([`CompletionHandler`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use mcp_core::types::{
    CompleteRequestParams, CompleteResult, GetPromptResult, Prompt, PromptArgument, PromptMessage,
};

use crate::BoxFuture;
use crate::context::Context;
use crate::error::McpError;

/// The arguments of a `prompts/get` request.
pub type PromptArguments = BTreeMap<String, String>;

type GetFn = dyn Fn(Context, PromptArguments) -> BoxFuture<'static, Result<GetPromptResult, McpError>>
    + Send
    + Sync;

/// A registered prompt.
#[derive(Clone)]
pub struct PromptDef {
    /// The prompt as `prompts/list` shows it.
    pub prompt: Prompt,
    get: Arc<GetFn>,
}

impl std::fmt::Debug for PromptDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptDef")
            .field("prompt", &self.prompt)
            .finish_non_exhaustive()
    }
}

impl PromptDef {
    /// A prompt rendered by `get`. Required arguments (those with `required: true`) are checked
    /// before `get` runs; a missing one is `-32602`.
    ///
    /// ```
    /// use mcp_server::{PromptDef, types::{Prompt, PromptMessage}};
    /// let p = PromptDef::new(
    ///     Prompt { name: "greet".into(), description: Some("Say hi".into()), ..Default::default() },
    ///     |_ctx, _args| async { Ok(vec![PromptMessage::user_text("Hi!")]) },
    /// );
    /// assert_eq!(p.prompt.name, "greet");
    /// ```
    pub fn new<F, Fut, R>(prompt: Prompt, get: F) -> Self
    where
        F: Fn(Context, PromptArguments) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, McpError>> + Send + 'static,
        R: IntoPromptResult,
    {
        PromptDef {
            prompt,
            get: Arc::new(move |ctx, args| {
                let fut = get(ctx, args);
                Box::pin(async move { fut.await.map(IntoPromptResult::into_prompt_result) })
            }),
        }
    }

    /// Adds an argument to the prompt's description.
    #[must_use]
    pub fn argument(mut self, name: &str, description: &str, required: bool) -> Self {
        self.prompt
            .arguments
            .get_or_insert_with(Vec::new)
            .push(PromptArgument {
                name: name.to_owned(),
                description: Some(description.to_owned()),
                required: Some(required),
                ..Default::default()
            });
        self
    }

    pub(crate) fn get(
        &self,
        ctx: Context,
        args: PromptArguments,
    ) -> BoxFuture<'static, Result<GetPromptResult, McpError>> {
        if let Some(missing) = self
            .prompt
            .arguments
            .iter()
            .flatten()
            .find(|a| a.required == Some(true) && !args.contains_key(&a.name))
        {
            let msg = format!("Missing required argument `{}`", missing.name);
            return Box::pin(std::future::ready(Err(McpError::InvalidParams(msg))));
        }
        (self.get)(ctx, args)
    }
}

/// What a prompt handler may return.
pub trait IntoPromptResult: Send + 'static {
    /// The `prompts/get` result.
    fn into_prompt_result(self) -> GetPromptResult;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> GetPromptResult {
        self
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult {
            description: None,
            messages: self,
            meta: None,
        }
    }
}

type CompleteFn = dyn Fn(Context, CompleteRequestParams) -> BoxFuture<'static, Result<CompleteResult, McpError>>
    + Send
    + Sync;

/// Answers `completion/complete` for prompt arguments and template variables.
#[derive(Clone)]
pub struct CompletionHandler(Arc<CompleteFn>);

impl std::fmt::Debug for CompletionHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompletionHandler")
    }
}

impl CompletionHandler {
    /// A handler from an async closure.
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: Fn(Context, CompleteRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CompleteResult, McpError>> + Send + 'static,
    {
        CompletionHandler(Arc::new(move |ctx, p| Box::pin(f(ctx, p))))
    }

    pub(crate) fn complete(
        &self,
        ctx: Context,
        params: CompleteRequestParams,
    ) -> BoxFuture<'static, Result<CompleteResult, McpError>> {
        (self.0)(ctx, params)
    }
}
