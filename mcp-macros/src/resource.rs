//! `#[resource(uri = "..")]`: a resource with a fixed URI, or a resource template whose
//! variables are bound to the function's parameters.

use mcp_core::uri_template::UriTemplate;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, Type};

use crate::attrs::ResourceAttrs;
use crate::item;
use crate::params::{self, Kind, Param};
use crate::prompt::{call_args, completers, extract_args, fallback};
use crate::tool::{icons, meta};
use crate::util::{async_block, call_at, err, opt_string, push_err, respan};

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut f: ItemFn = syn::parse2(item)
        .map_err(|e| err(e.span(), "`#[resource]` applies to a `fn` or `async fn`"))?;
    let fn_attrs = item::take_attrs(&mut f.attrs);
    let mut errors = None;
    let attrs = ResourceAttrs::parse(attr)
        .map_err(|e| push_err(&mut errors, e))
        .ok();
    if let Err(e) = item::check_signature(&f.sig, "a resource") {
        push_err(&mut errors, e);
    }
    let params = params::analyze(&mut f.sig, Kind::Resource, false)
        .map_err(|e| push_err(&mut errors, e))
        .ok();
    let (Some(attrs), Some(params)) = (attrs, params) else {
        let e = errors.unwrap_or_else(|| err(f.sig.ident.span(), "invalid resource"));
        return Ok(fallback(&f, &fn_attrs, e));
    };

    // The template's variables and the parameters, one to one.
    // The grammar is mcp-core's, the one the server parses templates with.
    let uri = attrs.uri.value();
    // An invalid template has no variables to bind: its one error is enough.
    let mut template_ok = true;
    let vars: Vec<String> = match UriTemplate::parse(&uri) {
        Ok(t) => t.variables().map(str::to_owned).collect(),
        Err(e) => {
            template_ok = false;
            push_err(
                &mut errors,
                err(
                    attrs.uri.span(),
                    format!("invalid URI template: {}", e.reason()),
                ),
            );
            Vec::new()
        }
    };
    let is_template = uri.contains('{');
    for a in params::args(&params) {
        if let Some(d) = &a.attrs.default {
            let span = match d {
                crate::attrs::DefaultAttr::Trait(s) => *s,
                crate::attrs::DefaultAttr::Expr(e) => e.span(),
            };
            push_err(
                &mut errors,
                err(
                    span,
                    "template variables are always present: `default` does not apply",
                ),
            );
        }
        if template_ok && !vars.contains(&a.wire) {
            let msg = if is_template {
                format!(
                    "`{}` is not a variable of the URI template `{uri}`; resource parameters are bound to its variables",
                    a.wire
                )
            } else {
                format!(
                    "a resource with a fixed URI takes no arguments; to bind `{0}`, make the URI a template such as `scheme:///{{{0}}}`",
                    a.wire
                )
            };
            push_err(&mut errors, err(a.wire_span, msg));
        }
    }
    for v in &vars {
        if !params::args(&params).any(|a| &a.wire == v) {
            push_err(
                &mut errors,
                err(
                    attrs.uri.span(),
                    format!(
                        "the template variable `{v}` has no parameter: add `{v}: String` to the function"
                    ),
                ),
            );
        }
    }
    let completers = if template_ok {
        completers(&attrs.complete, &vars, "a variable of this URI template")
            .map_err(|e| push_err(&mut errors, e))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    if let Some(e) = errors {
        return Ok(fallback(&f, &fn_attrs, e));
    }

    let p = attrs.common.private();
    let ident = &f.sig.ident;
    let crate::attrs::Described {
        name,
        title,
        description,
    } = attrs.common.described(&p, ident, &fn_attrs.docs);
    let mime = attrs.mime_type.as_ref().map(LitStr::value);
    let mime_field = opt_string(&p, mime.as_deref());
    let mime_static = match &mime {
        Some(m) => quote!(#p::Some(#m)),
        None => quote!(#p::None),
    };
    let icons = icons(&p, attrs.common.icons.as_deref());
    let meta = meta(&p, attrs.common.meta.as_ref());

    let (lets, mut asserts) = extract_args(&p, &params, &quote!(__mcp_vars));
    let ret: Type = item::return_type(&f.sig);
    asserts.push(quote_spanned!(ret.span()=> #p::assert_resource_output::<#ret>();));
    let call = call_args(&params);
    let await_ = f.sig.asyncness.is_some().then(|| quote!(.await));
    let ctx = if params.iter().any(|x| matches!(x, Param::Context { .. })) {
        quote!(__mcp_ctx)
    } else {
        quote!(_)
    };
    let convert = respan(
        quote!(#p::ResourceOutput::into_resource_output(__mcp_out, __mcp_uri, #mime_static)),
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
    let body = quote!(#fut);
    let def = if is_template {
        let vars_param = if vars.is_empty() {
            quote!(_)
        } else {
            quote!(mut __mcp_vars)
        };
        quote! {
            let mut __mcp_t = #p::ResourceTemplate::new(#uri, #name);
            __mcp_t.title = #title;
            __mcp_t.description = #description;
            __mcp_t.mime_type = #mime_field;
            __mcp_t.icons = #icons;
            __mcp_t.meta = #meta;
            #p::template(
                #p::ResourceTemplateDef::new(
                    __mcp_t,
                    |#ctx: #p::Context, __mcp_uri: #p::String, #vars_param: #p::TemplateVariables| #body,
                )
                .map(|__mcp_t| __mcp_t #(#completers)*),
            )
        }
    } else {
        quote! {
            let mut __mcp_r = #p::Resource::new(#uri, #name);
            __mcp_r.title = #title;
            __mcp_r.description = #description;
            __mcp_r.mime_type = #mime_field;
            __mcp_r.icons = #icons;
            __mcp_r.meta = #meta;
            #p::Ok(#p::AnyResource::Fixed(#p::ResourceDef::new(
                __mcp_r,
                |#ctx: #p::Context, __mcp_uri: #p::String| #body,
            )))
        }
    };
    let items = item::struct_and_call(&f, &fn_attrs, "resource");
    let cfg = &fn_attrs.cfg;
    Ok(quote! {
        #items

        #(#cfg)*
        #[allow(deprecated)]
        const _: () = {
            impl #p::IntoResource for #ident {
                fn into_resource(self) -> #p::Result<#p::AnyResource, #p::UriTemplateError> {
                    #(#asserts)*
                    #def
                }
            }
        };
    })
}
