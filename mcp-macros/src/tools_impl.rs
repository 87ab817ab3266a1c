//! `#[tools]` on an impl block: every method marked `#[tool]` becomes a tool sharing the value
//! (behind an `Arc`) through `&self`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl};

use crate::attrs::{ToolAttrs, ToolsAttrs, private_path};
use crate::params::{self, Kind};
use crate::tool::ToolFn;
use crate::util::{err, push_err};

/// Whether `attr` is `#[tool]` / `#[mcp_server::tool]` / ...: by the last path segment.
fn is_attr(attr: &syn::Attribute, name: &str) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == name)
}

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut imp: ItemImpl = syn::parse2(item).map_err(|e| {
        err(
            e.span(),
            "`#[tools]` applies to an impl block: `#[tools] impl MyTools { #[tool] fn .. }`",
        )
    })?;
    let attrs = ToolsAttrs::parse(attr)?;
    if let Some((_, path, _)) = &imp.trait_ {
        return Err(syn::Error::new_spanned(
            path,
            "`#[tools]` applies to inherent impl blocks (`impl MyTools { .. }`), not to trait impls",
        ));
    }
    if !imp.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &imp.generics,
            "`#[tools]` impl blocks cannot be generic: tool schemas are derived from concrete types",
        ));
    }
    if let Some(u) = &imp.unsafety {
        return Err(err(u.span(), "`#[tools]` impl blocks cannot be `unsafe`"));
    }
    let p = private_path(attrs.krate.as_ref());
    let self_ty = (*imp.self_ty).clone();

    let mut errors: Option<syn::Error> = None;
    let mut tools: Vec<ToolFn> = Vec::new();
    for item in &mut imp.items {
        let ImplItem::Fn(method) = item else { continue };
        for other in ["prompt", "resource", "tools"] {
            if let Some(a) = method.attrs.iter().find(|a| is_attr(a, other)) {
                push_err(
                    &mut errors,
                    syn::Error::new_spanned(
                        a,
                        format!("`#[{other}]` applies to free functions, not to methods"),
                    ),
                );
            }
        }
        let mut tool_attrs = method.attrs.iter().filter(|a| is_attr(a, "tool"));
        let Some(first) = tool_attrs.next().cloned() else {
            continue;
        };
        if let Some(second) = tool_attrs.next() {
            push_err(
                &mut errors,
                syn::Error::new_spanned(second, "duplicate `#[tool]` attribute"),
            );
        }
        method.attrs.retain(|a| !is_attr(a, "tool"));
        let args = match &first.meta {
            syn::Meta::Path(_) => Ok(ToolAttrs::default()),
            syn::Meta::List(l) => ToolAttrs::parse(l.tokens.clone()),
            syn::Meta::NameValue(nv) => Err(err(nv.span(), "expected `#[tool]` or `#[tool(..)]`")),
        };
        let tool = match args {
            Ok(a) => ToolFn::new(a, &mut method.sig, &method.attrs, true),
            Err(mut e) => {
                if let Err(e2) = params::analyze(&mut method.sig, Kind::Tool, true) {
                    e.combine(e2);
                }
                Err(e)
            }
        };
        match tool {
            Ok(t) => {
                if let Some(a) = &t.attrs.common.krate {
                    push_err(
                        &mut errors,
                        err(
                            a.span(),
                            "set `crate = ..` on `#[tools(..)]`, not on its methods",
                        ),
                    );
                }
                if tools.iter().any(|o| o.name == t.name) {
                    push_err(
                        &mut errors,
                        err(
                            t.name_span,
                            format!("two tools are named `{}` in this impl block", t.name),
                        ),
                    );
                }
                tools.push(t);
            }
            Err(e) => push_err(&mut errors, e),
        }
    }
    if let Some(e) = errors {
        let e = e.to_compile_error();
        return Ok(quote!(#e #imp));
    }
    if tools.is_empty() {
        return Err(syn::Error::new_spanned(
            &imp.self_ty,
            "this `#[tools]` impl block has no tools: mark its tool methods with `#[tool]`",
        ));
    }

    let mut items = Vec::new();
    let mut defs = Vec::new();
    for t in &tools {
        let method = &t.fn_ident;
        let args_ident = format_ident!("__McpArgs_{}", method);
        let handler_ident = format_ident!("__McpTool_{}", method);
        items.push(t.args_struct(&p, &args_ident, Some(&self_ty)));
        let body = t.handler_body(&p, &args_ident, &quote!(<#self_ty>::#method));
        let ctx_param = if t.uses_context() {
            quote!(__mcp_ctx)
        } else {
            quote!(_)
        };
        let this = t
            .params
            .iter()
            .any(|p| matches!(p, params::Param::Receiver(_)))
            .then(|| quote!(let __mcp_this = #p::Arc::clone(&self.0);));
        items.push(quote! {
            #[allow(non_camel_case_types)]
            struct #handler_ident(#p::Arc<#self_ty>);

            impl #p::ToolHandler for #handler_ident {
                fn call(
                    &self,
                    #ctx_param: #p::Context,
                    __mcp_arguments: #p::Option<#p::JsonObject>,
                ) -> #p::BoxFuture<'static, #p::CallToolResult> {
                    #this
                    #body
                }
            }
        });
        defs.push(t.tool_def(
            &p,
            &args_ident,
            &quote!(#handler_ident(#p::Arc::clone(&__mcp_this))),
            Some(&self_ty),
        ));
    }
    let toolset = quote_spanned!(self_ty.span()=> #p::ToolSet);
    Ok(quote! {
        #imp

        #[allow(deprecated)]
        const _: () = {
            #(#items)*

            impl #toolset for #self_ty {
                fn tool_defs(__mcp_this: #p::Arc<Self>) -> #p::Vec<#p::ToolDef> {
                    #p::Vec::from([#(#defs),*])
                }
            }

            impl #p::IntoTools for #self_ty {
                fn into_tools(self) -> #p::Vec<#p::ToolDef> {
                    <Self as #p::ToolSet>::tool_defs(#p::Arc::new(self))
                }
            }
        };
    })
}
