//! Prompts ([`PromptDef`]), what can be registered as one ([`IntoPrompt`]), and completions:
//! server-wide handlers ([`CompletionHandler`]) and per-argument suggestions ([`Completer`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use mcp_core::types::{
    CompleteRequestParams, CompleteResult, Completion, GetPromptResult, Prompt, PromptArgument,
    PromptMessage,
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
    completions: Vec<(String, CompletionHandler)>,
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
            completions: Vec::new(),
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

    /// Suggests values for the argument `argument` (`completion/complete` with a `ref/prompt`
    /// reference to this prompt). Registering a prompt with completions declares the server's
    /// `completions` capability.
    ///
    /// ```
    /// use mcp_server::{PromptDef, types::{Prompt, PromptMessage}};
    /// fn languages(typed: &str) -> Vec<String> {
    ///     ["rust", "python"].into_iter().filter(|l| l.starts_with(typed)).map(String::from).collect()
    /// }
    /// let p = PromptDef::new(Prompt::new("review"), |_ctx, _args| async {
    ///     Ok(vec![PromptMessage::user_text("Review this")])
    /// })
    /// .argument("language", "The language", true)
    /// .complete("language", languages);
    /// # let _ = p;
    /// ```
    #[must_use]
    pub fn complete<M>(
        mut self,
        argument: impl Into<String>,
        completer: impl Completer<M>,
    ) -> Self {
        self.completions
            .push((argument.into(), completer.into_completion_handler()));
        self
    }

    /// The completer of `argument`, if one was registered.
    pub(crate) fn completer(&self, argument: &str) -> Option<&CompletionHandler> {
        find_completer(&self.completions, argument)
    }

    /// Whether any argument has a completer.
    pub(crate) fn has_completions(&self) -> bool {
        !self.completions.is_empty()
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

pub(crate) fn find_completer<'a>(
    completions: &'a [(String, CompletionHandler)],
    argument: &str,
) -> Option<&'a CompletionHandler> {
    completions
        .iter()
        .find(|(name, _)| name == argument)
        .map(|(_, handler)| handler)
}

/// Something that can be registered as a prompt: a [`PromptDef`], or what `#[prompt]` generates.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a prompt",
    label = "expected a `PromptDef` or a function marked `#[prompt]`"
)]
pub trait IntoPrompt {
    /// The prompt.
    fn into_prompt(self) -> PromptDef;
}

impl IntoPrompt for PromptDef {
    fn into_prompt(self) -> PromptDef {
        self
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

/// Suggests values for one prompt argument or resource-template variable: registered with
/// [`PromptDef::complete`], [`ResourceTemplateDef::complete`](crate::ResourceTemplateDef::complete)
/// or `complete(name = function)` in `#[prompt]` / `#[resource]`.
///
/// Implemented for
/// - `fn(&str) -> R`: gets what the user typed so far and answers at once;
/// - `async fn(String) -> R`: the same, asynchronously;
/// - [`CompletionHandler`]: gets the context and the whole request;
///
/// where `R` is `Vec<String>`, `Vec<&'static str>`, [`CompleteResult`] or a `Result` of one of
/// those with [`McpError`]. At most 100 values are sent.
///
/// The marker `M` only tells the forms apart; it is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot suggest completions",
    label = "expected `fn(&str) -> Vec<String>`, `async fn(String) -> Vec<String>` or a `CompletionHandler`",
    note = "a closure needs its parameter type written out: `|typed: &str| ..`"
)]
pub trait Completer<M>: Send + Sync + 'static {
    /// The completer as a handler of `completion/complete` requests.
    fn into_completion_handler(self) -> CompletionHandler;
}

impl Completer<CompletionHandler> for CompletionHandler {
    fn into_completion_handler(self) -> CompletionHandler {
        self
    }
}

impl<F, R> Completer<fn(&str) -> R> for F
where
    F: Fn(&str) -> R + Send + Sync + 'static,
    R: IntoCompletion,
{
    fn into_completion_handler(self) -> CompletionHandler {
        CompletionHandler::new(move |_ctx, params: CompleteRequestParams| {
            std::future::ready(self(&params.argument.value).into_completion())
        })
    }
}

impl<F, Fut> Completer<fn(String) -> Fut> for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoCompletion,
{
    fn into_completion_handler(self) -> CompletionHandler {
        CompletionHandler::new(move |_ctx, params: CompleteRequestParams| {
            let fut = self(params.argument.value);
            async move { fut.await.into_completion() }
        })
    }
}

/// What a [`Completer`] may return.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a completer",
    label = "completers return `Vec<String>`, `Vec<&'static str>`, `CompleteResult`, or `Result<_, McpError>` of those"
)]
pub trait IntoCompletion: Send + 'static {
    /// The `completion/complete` result.
    fn into_completion(self) -> Result<CompleteResult, McpError>;
}

impl IntoCompletion for CompleteResult {
    fn into_completion(self) -> Result<CompleteResult, McpError> {
        Ok(self)
    }
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Result<CompleteResult, McpError> {
        Ok(CompleteResult {
            completion: self,
            meta: None,
        })
    }
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Result<CompleteResult, McpError> {
        Ok(CompleteResult::new(self))
    }
}

impl IntoCompletion for Vec<&'static str> {
    fn into_completion(self) -> Result<CompleteResult, McpError> {
        Ok(CompleteResult::new(
            self.into_iter().map(str::to_owned).collect(),
        ))
    }
}

impl<T: IntoCompletion> IntoCompletion for Result<T, McpError> {
    fn into_completion(self) -> Result<CompleteResult, McpError> {
        self.and_then(IntoCompletion::into_completion)
    }
}
