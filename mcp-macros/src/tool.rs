//! `#[tool]`: a tool's description, its arguments struct and its handler, for free functions
//! and for the methods of a `#[tools]` impl block.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, Signature, Type};

use crate::attrs::{DefaultAttr, MetaAttr, ToolAttrs};
use crate::item;
use crate::params::{self, Kind, Param, Receiver};
use crate::util::{async_block, call_at, doc_text, err, opt_string, replace_self, respan};

/// One tool, read from a function or a method.
pub struct ToolFn {
    pub attrs: ToolAttrs,
    pub name: String,
    pub name_span: Span,
    pub description: Option<String>,
    pub params: Vec<Param>,
    pub ret: Type,
    pub is_async: bool,
    pub fn_ident: Ident,
}

impl ToolFn {
    /// Reads a tool from its attribute arguments, its signature (whose parameters are cleaned of
    /// the macro's attributes) and its doc comments.
    pub fn new(
        attrs: ToolAttrs,
        sig: &mut Signature,
        fn_attrs: &[syn::Attribute],
        in_impl: bool,
    ) -> syn::Result<Self> {
        let what = if in_impl { "a tool method" } else { "a tool" };
        let sig_check = item::check_signature(sig, what);
        let params = params::analyze(sig, Kind::Tool, in_impl);
        let (name, name_span) = match &attrs.common.name {
            Some(n) => (n.value(), n.span()),
            None => (sig.ident.unraw().to_string(), sig.ident.span()),
        };
        let name_check = mcp_core::rules::tool_name::validate(&name).map_err(|e| {
            let hint = if attrs.common.name.is_none() {
                "; set one with `#[tool(name = \"..\")]`"
            } else {
                ""
            };
            err(name_span, format!("{e}{hint}"))
        });
        let params = combine(combine(sig_check, name_check), params)?;
        let description = attrs
            .common
            .description
            .as_ref()
            .map(syn::LitStr::value)
            .or_else(|| doc_text(fn_attrs));
        Ok(ToolFn {
            attrs,
            name,
            name_span,
            description,
            params,
            ret: item::return_type(sig),
            is_async: sig.asyncness.is_some(),
            fn_ident: sig.ident.clone(),
        })
    }

    /// The arguments struct `ident` (fields: the arguments, with their docs and `#[arg]`
    /// settings) and the functions giving its defaults.
    pub fn args_struct(
        &self,
        p: &TokenStream,
        ident: &Ident,
        self_ty: Option<&Type>,
    ) -> TokenStream {
        let serde_crate = quote!(#p::serde).to_string();
        let schemars_crate = quote!(#p::schemars).to_string();
        let mut fields = Vec::new();
        let mut default_fns = Vec::new();
        for a in params::args(&self.params) {
            let mut ty = a.ty.clone();
            if let Some(st) = self_ty {
                replace_self(&mut ty, st);
            }
            let field = &a.ident;
            let docs = &a.docs;
            let pass = &a.passthrough;
            let rename = a
                .attrs
                .rename
                .as_ref()
                .map(|r| quote!(#[serde(rename = #r)]));
            let description = a
                .attrs
                .description
                .as_ref()
                .map(|d| quote!(#[schemars(description = #d)]));
            let default = match &a.attrs.default {
                None => quote!(),
                Some(DefaultAttr::Trait(span)) => quote_spanned!(*span=> #[serde(default)]),
                Some(DefaultAttr::Expr(e)) => {
                    let f = format_ident!("__mcp_default_{}_{}", ident, field.unraw());
                    default_fns.push(quote! {
                        #[allow(non_snake_case)]
                        fn #f() -> #ty { #e }
                    });
                    let path = f.to_string();
                    quote!(#[serde(default = #path)])
                }
            };
            fields.push(quote! {
                #(#docs)*
                #rename
                #description
                #default
                #(#pass)*
                #field: #ty
            });
        }
        quote! {
            #[derive(#p::serde::Deserialize, #p::schemars::JsonSchema)]
            #[serde(crate = #serde_crate, deny_unknown_fields)]
            #[schemars(crate = #schemars_crate)]
            #[allow(non_camel_case_types)]
            struct #ident {
                #(#fields,)*
            }
            #(#default_fns)*
        }
    }

    /// The body of `ToolHandler::call`: parse the arguments, call `target`, convert the result;
    /// all inside the returned future, so that a panic anywhere is caught by the server.
    /// `this` is the handler's `Arc` of the impl block's value, when there is one.
    pub fn handler_body(
        &self,
        p: &TokenStream,
        args_ident: &Ident,
        target: &TokenStream,
    ) -> TokenStream {
        let has_args = params::args(&self.params).next().is_some();
        let call_args = self.params.iter().map(|param| match param {
            Param::Receiver(Receiver::Ref) => quote!(&*__mcp_this),
            Param::Receiver(Receiver::Arc) => quote!(__mcp_this),
            Param::Context { by_ref: true } => quote!(&__mcp_ctx),
            Param::Context { by_ref: false } => quote!(__mcp_ctx),
            Param::Arg(a) => {
                let f = &a.ident;
                quote!(__mcp_args.#f)
            }
        });
        let parse = if has_args {
            quote! {
                let __mcp_args = match #p::parse_arguments::<#args_ident>(__mcp_arguments) {
                    #p::Ok(__mcp_args) => __mcp_args,
                    #p::Err(__mcp_error) => return __mcp_error,
                };
            }
        } else {
            quote! {
                if let #p::Err(__mcp_error) = #p::parse_arguments::<#args_ident>(__mcp_arguments) {
                    return __mcp_error;
                }
            }
        };
        let await_ = self.is_async.then(|| quote!(.await));
        let convert = respan(
            quote!(#p::IntoToolResult::into_tool_result(__mcp_out)),
            self.ret.span(),
        );
        let fut = async_block(
            quote! {
                #parse
                let __mcp_out = #target(#(#call_args),*) #await_;
                #convert
            },
            self.fn_ident.span(),
        );
        let span = self.fn_ident.span();
        let fut = call_at(quote!(#p::assert_send), fut, span);
        call_at(quote!(#p::Box::pin), fut, span)
    }

    /// Whether the handler needs the context.
    pub fn uses_context(&self) -> bool {
        self.params
            .iter()
            .any(|p| matches!(p, Param::Context { .. }))
    }

    /// An expression building the `ToolDef` with `handler`.
    pub fn tool_def(
        &self,
        p: &TokenStream,
        args_ident: &Ident,
        handler: &TokenStream,
        self_ty: Option<&Type>,
    ) -> TokenStream {
        let name = &self.name;
        let mut asserts = Vec::new();
        for a in params::args(&self.params) {
            let mut ty = a.ty.clone();
            if let Some(st) = self_ty {
                replace_self(&mut ty, st);
            }
            asserts.push(quote_spanned!(ty.span()=> #p::assert_tool_argument::<#ty>();));
        }
        let ret = &self.ret;
        let output_schema = respan(quote!(#p::IntoToolResult), ret.span());
        let common = &self.attrs.common;
        let title = opt_string(p, common.title.as_ref().map(syn::LitStr::value).as_deref());
        let description = opt_string(p, self.description.as_deref());
        let annotations = match &self.attrs.annotations {
            None => quote!(#p::None),
            Some(a) => {
                let mut sets = Vec::new();
                let flags = [
                    (&a.read_only, quote!(read_only_hint)),
                    (&a.destructive, quote!(destructive_hint)),
                    (&a.idempotent, quote!(idempotent_hint)),
                    (&a.open_world, quote!(open_world_hint)),
                ];
                for (v, field) in flags {
                    if let Some(b) = v {
                        sets.push(quote!(__mcp_a.#field = #p::Some(#b);));
                    }
                }
                if let Some(t) = &a.title {
                    sets.push(quote!(__mcp_a.title = #p::Some(#p::String::from(#t));));
                }
                quote!(#p::Some({
                    let mut __mcp_a = <#p::ToolAnnotations as #p::Default>::default();
                    #(#sets)*
                    __mcp_a
                }))
            }
        };
        let icons = icons(p, common.icons.as_deref());
        let meta = meta(p, common.meta.as_ref());
        let scopes = self
            .attrs
            .required_scopes
            .as_ref()
            .map(|s| quote!(.required_scopes([#(#s),*])));
        let role = self.attrs.min_role.as_ref().map(|r| quote!(.min_role(#r)));
        quote! {{
            #(#asserts)*
            let mut __mcp_tool = #p::Tool::new(#name, #p::object_schema_for::<#args_ident>());
            __mcp_tool.title = #title;
            __mcp_tool.description = #description;
            __mcp_tool.output_schema = <#ret as #output_schema>::output_schema();
            __mcp_tool.annotations = #annotations;
            __mcp_tool.icons = #icons;
            __mcp_tool.meta = #meta;
            #p::ToolDef::new(__mcp_tool, #handler) #scopes #role
        }}
    }
}

fn combine<T>(a: syn::Result<()>, b: syn::Result<T>) -> syn::Result<T> {
    match (a, b) {
        (Ok(()), b) => b,
        (Err(e), Ok(_)) => Err(e),
        (Err(mut e), Err(e2)) => {
            e.combine(e2);
            Err(e)
        }
    }
}

/// `Some(vec![Icon::new(..), ..])` or `None`.
pub fn icons(p: &TokenStream, icons: Option<&[syn::LitStr]>) -> TokenStream {
    match icons {
        Some(srcs) => quote!(#p::Some(#p::Vec::from([#(#p::Icon::new(#srcs)),*]))),
        None => quote!(#p::None),
    }
}

/// `Some(meta)` or `None`.
pub fn meta(p: &TokenStream, meta: Option<&MetaAttr>) -> TokenStream {
    match meta {
        None => quote!(#p::None),
        Some(MetaAttr::Expr(e)) => quote_spanned!(e.span()=> #p::Some(#e)),
        Some(MetaAttr::Pairs(pairs)) => {
            let inserts = pairs.iter().map(|(k, v)| {
                quote!(__mcp_m.insert(#p::String::from(#k), #p::serde_json::Value::from(#v));)
            });
            quote!(#p::Some({
                let mut __mcp_m = #p::Meta::new();
                #(#inserts)*
                __mcp_m
            }))
        }
    }
}

/// `#[tool]` on a free function.
pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut f: ItemFn = syn::parse2(item).map_err(|e| {
        err(
            e.span(),
            "`#[tool]` applies to a `fn` or `async fn` (or to the methods of an impl block marked `#[tools]`)",
        )
    })?;
    let attrs = ToolAttrs::parse(attr);
    let fn_attrs = item::take_attrs(&mut f.attrs);
    let tool = match attrs {
        Ok(attrs) => ToolFn::new(attrs, &mut f.sig, &fn_attrs.docs, false),
        Err(mut e) => {
            // Report the parameters' errors too.
            if let Err(e2) = params::analyze(&mut f.sig, Kind::Tool, false) {
                e.combine(e2);
            }
            Err(e)
        }
    };
    let tool = match tool {
        Ok(t) => t,
        Err(e) => {
            // Keep the function so that its uses do not add errors of their own.
            let ItemFn {
                vis, sig, block, ..
            } = &f;
            let attrs = fn_attrs
                .cfg
                .iter()
                .chain(&fn_attrs.docs)
                .chain(&fn_attrs.other);
            let e = e.to_compile_error();
            return Ok(quote!(#e #(#attrs)* #vis #sig #block));
        }
    };
    let p = tool.attrs.common.private();
    let ident = &f.sig.ident;
    let args_ident = format_ident!("__McpArgs");
    let args_struct = tool.args_struct(&p, &args_ident, None);
    let body = tool.handler_body(&p, &args_ident, &quote!(#ident::call));
    let ctx_param = if tool.uses_context() {
        quote!(__mcp_ctx)
    } else {
        quote!(_)
    };
    let def = tool.tool_def(&p, &args_ident, &quote!(__McpHandler), None);
    let items = item::struct_and_call(&f, &fn_attrs, "tool");
    let cfg = &fn_attrs.cfg;
    Ok(quote! {
        #items

        #(#cfg)*
        #[allow(deprecated)]
        const _: () = {
            #args_struct

            struct __McpHandler;

            impl #p::ToolHandler for __McpHandler {
                fn call(
                    &self,
                    #ctx_param: #p::Context,
                    __mcp_arguments: #p::Option<#p::JsonObject>,
                ) -> #p::BoxFuture<'static, #p::CallToolResult> {
                    #body
                }
            }

            impl #p::IntoTool for #ident {
                fn into_tool(self) -> #p::ToolDef {
                    #def
                }
            }
        };
    })
}
