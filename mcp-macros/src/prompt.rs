//! `#[prompt]`: a prompt whose arguments are the function's parameters, and what prompts and
//! resources share: reading string arguments into typed parameters.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, LitStr, Type};

use crate::attrs::{DefaultAttr, PromptAttrs};
use crate::item;
use crate::params::{self, Arg, Kind, Param, is_string, option_inner};
use crate::tool::{icons, meta};
use crate::util::{async_block, call_at, doc_text, err, opt_string, push_err, respan};

/// The statements binding each argument to a local `__mcp_arg_N`, read from the owned map
/// `source` (`PromptArguments` or the template's variables), and the compile-time checks of
/// their types.
pub fn extract_args(
    p: &TokenStream,
    params: &[Param],
    source: &TokenStream,
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let mut lets = Vec::new();
    let mut asserts = Vec::new();
    for (i, a) in params::args(params).enumerate() {
        let local = format_ident!("__mcp_arg_{}", i);
        let wire = &a.wire;
        let ty = &a.ty;
        let opt = option_inner(ty);
        let inner = opt.unwrap_or(ty);
        let convert = if is_string(inner) {
            quote!(__mcp_v)
        } else {
            asserts.push(quote_spanned!(inner.span()=> #p::assert_from_argument::<#inner>();));
            quote_spanned!(inner.span()=> #p::parse_argument::<#inner>(#wire, &__mcp_v)?)
        };
        let present = if opt.is_some() {
            quote!(#p::Some(#convert))
        } else {
            convert
        };
        let missing = match (&a.attrs.default, opt) {
            (Some(DefaultAttr::Expr(e)), _) => quote_spanned!(e.span()=> #e),
            (Some(DefaultAttr::Trait(span)), _) => {
                quote_spanned!(*span=> <#ty as #p::Default>::default())
            }
            (None, Some(_)) => quote!(#p::None),
            (None, None) => quote!(return #p::Err(#p::missing_argument(#wire))),
        };
        lets.push(quote! {
            let #local: #ty = match #source.remove(#wire) {
                #p::Some(__mcp_v) => #present,
                #p::None => #missing,
            };
        });
    }
    (lets, asserts)
}

/// The arguments passed to `call`, in order.
pub fn call_args(params: &[Param]) -> Vec<TokenStream> {
    let mut i = 0usize;
    params
        .iter()
        .map(|param| match param {
            Param::Context { by_ref: true } => quote!(&__mcp_ctx),
            Param::Context { by_ref: false } => quote!(__mcp_ctx),
            Param::Arg(_) => {
                let local = format_ident!("__mcp_arg_{}", i);
                i += 1;
                quote!(#local)
            }
            // Free functions have no receiver (rejected by `params::analyze`).
            Param::Receiver(_) => quote!(),
        })
        .collect()
}

/// `.complete(name, completer)` for each completer, after checking that `name` is one of
/// `names` (the prompt's arguments or the template's variables).
pub fn completers(
    complete: &[(LitStr, Expr)],
    names: &[String],
    what: &str,
) -> syn::Result<Vec<TokenStream>> {
    let mut errors = None;
    let mut out = Vec::new();
    for (k, e) in complete {
        if !names.contains(&k.value()) {
            let list = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            push_err(
                &mut errors,
                err(
                    k.span(),
                    format!(
                        "`{}` is not {what}{}",
                        k.value(),
                        if list.is_empty() {
                            String::new()
                        } else {
                            format!("; expected one of: {list}")
                        }
                    ),
                ),
            );
        }
        out.push(quote_spanned!(e.span()=> .complete(#k, #e)));
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The description of an argument: `#[arg(description)]`, else its doc comment.
pub fn arg_description(a: &Arg) -> Option<String> {
    a.attrs
        .description
        .as_ref()
        .map(LitStr::value)
        .or_else(|| doc_text(&a.docs))
}

/// The function kept, with the errors, so that its uses add no errors of their own.
pub fn fallback(f: &ItemFn, attrs: &item::FnAttrs, e: syn::Error) -> TokenStream {
    let ItemFn {
        vis, sig, block, ..
    } = f;
    let all = attrs.cfg.iter().chain(&attrs.docs).chain(&attrs.other);
    let e = e.to_compile_error();
    quote!(#e #(#all)* #vis #sig #block)
}

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut f: ItemFn = syn::parse2(item)
        .map_err(|e| err(e.span(), "`#[prompt]` applies to a `fn` or `async fn`"))?;
    let fn_attrs = item::take_attrs(&mut f.attrs);
    let mut errors = None;
    let attrs = PromptAttrs::parse(attr)
        .map_err(|e| push_err(&mut errors, e))
        .ok();
    if let Err(e) = item::check_signature(&f.sig, "a prompt") {
        push_err(&mut errors, e);
    }
    let params = params::analyze(&mut f.sig, Kind::Prompt, false)
        .map_err(|e| push_err(&mut errors, e))
        .ok();
    let (Some(attrs), Some(params), None) = (attrs, params, errors.take()) else {
        let e = errors.unwrap_or_else(|| err(f.sig.ident.span(), "invalid prompt"));
        return Ok(fallback(&f, &fn_attrs, e));
    };
    let names: Vec<String> = params::args(&params).map(|a| a.wire.clone()).collect();
    let completers = match completers(&attrs.complete, &names, "an argument of this prompt") {
        Ok(c) => c,
        Err(e) => return Ok(fallback(&f, &fn_attrs, e)),
    };

    let p = attrs.common.private();
    let ident = &f.sig.ident;
    let crate::attrs::Described {
        name,
        title,
        description,
    } = attrs.common.described(&p, ident, &fn_attrs.docs);
    let icons = icons(&p, attrs.common.icons.as_deref());
    let meta = meta(&p, attrs.common.meta.as_ref());
    let arguments: Vec<TokenStream> = params::args(&params)
        .map(|a| {
            let wire = &a.wire;
            let required = option_inner(&a.ty).is_none() && a.attrs.default.is_none();
            let description = opt_string(&p, arg_description(a).as_deref());
            quote!({
                let mut __mcp_a = <#p::PromptArgument as #p::Default>::default();
                __mcp_a.name = #p::String::from(#wire);
                __mcp_a.description = #description;
                __mcp_a.required = #p::Some(#required);
                __mcp_a
            })
        })
        .collect();
    let arguments = if arguments.is_empty() {
        quote!(#p::None)
    } else {
        quote!(#p::Some(#p::Vec::from([#(#arguments),*])))
    };
    let (lets, mut asserts) = extract_args(&p, &params, &quote!(__mcp_args));
    let ret: Type = item::return_type(&f.sig);
    asserts.push(quote_spanned!(ret.span()=> #p::assert_prompt_output::<#ret>();));
    let call = call_args(&params);
    let await_ = f.sig.asyncness.is_some().then(|| quote!(.await));
    let ctx = if params.iter().any(|x| matches!(x, Param::Context { .. })) {
        quote!(__mcp_ctx)
    } else {
        quote!(_)
    };
    let args = if names.is_empty() {
        quote!(_)
    } else {
        quote!(mut __mcp_args)
    };
    let convert = respan(
        quote!(#p::PromptOutput::into_prompt_output(__mcp_out)),
        ret.span(),
    );
    let fut = async_block(
        quote! {
            #(#lets)*
            let __mcp_out = #ident::call(#(#call),*) #await_;
            #convert
        },
        ident.span(),
    );
    let fut = call_at(quote!(#p::assert_send), fut, ident.span());
    let get = quote! {
        |#ctx: #p::Context, #args: #p::PromptArguments| #fut
    };
    let items = item::struct_and_call(&f, &fn_attrs, "prompt");
    let cfg = &fn_attrs.cfg;
    Ok(quote! {
        #items

        #(#cfg)*
        #[allow(deprecated)]
        const _: () = {
            impl #p::IntoPrompt for #ident {
                fn into_prompt(self) -> #p::PromptDef {
                    #(#asserts)*
                    let mut __mcp_prompt = #p::Prompt::new(#name);
                    __mcp_prompt.title = #title;
                    __mcp_prompt.description = #description;
                    __mcp_prompt.arguments = #arguments;
                    __mcp_prompt.icons = #icons;
                    __mcp_prompt.meta = #meta;
                    #p::PromptDef::new(__mcp_prompt, #get) #(#completers)*
                }
            }
        };
    })
}
