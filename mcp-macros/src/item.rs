//! What every marked free function becomes: a unit struct with the function's name (the value
//! the server builder takes) and an inherent `call` holding the function, signature and body
//! as written.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, ItemFn, Type};

/// The function's attributes, sorted by where they go.
pub struct FnAttrs {
    /// `#[cfg(..)]`: on every generated item.
    pub cfg: Vec<Attribute>,
    /// `///` comments and `#[deprecated]`: on the struct and on `call`.
    pub docs: Vec<Attribute>,
    /// Everything else: on `call`.
    pub other: Vec<Attribute>,
}

/// Sorts the attributes of `f` (taking them off it).
pub fn take_attrs(attrs: &mut Vec<Attribute>) -> FnAttrs {
    let mut out = FnAttrs {
        cfg: Vec::new(),
        docs: Vec::new(),
        other: Vec::new(),
    };
    for a in std::mem::take(attrs) {
        if a.path().is_ident("cfg") {
            out.cfg.push(a);
        } else if a.path().is_ident("doc") || a.path().is_ident("deprecated") {
            out.docs.push(a);
        } else {
            out.other.push(a);
        }
    }
    out
}

/// Rejects what no marked function may be: generic, `const`, `unsafe`, `extern`, variadic.
pub fn check_signature(sig: &syn::Signature, what: &str) -> syn::Result<()> {
    if let Some(c) = &sig.constness {
        return Err(syn::Error::new_spanned(
            c,
            format!("{what} cannot be `const fn`"),
        ));
    }
    if let Some(u) = &sig.unsafety {
        return Err(syn::Error::new_spanned(
            u,
            format!("{what} cannot be `unsafe`"),
        ));
    }
    if let Some(a) = &sig.abi {
        return Err(syn::Error::new_spanned(
            a,
            format!("{what} cannot be `extern`"),
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            v,
            format!("{what} cannot be variadic"),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "{what} cannot be generic: its arguments' schema is derived from concrete types"
            ),
        ));
    }
    if let Some(w) = &sig.generics.where_clause {
        return Err(syn::Error::new_spanned(
            w,
            format!("{what} cannot have a `where` clause"),
        ));
    }
    Ok(())
}

/// The declared return type, `()` when there is none.
pub fn return_type(sig: &syn::Signature) -> Type {
    match &sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    }
}

/// The unit struct named like the function and its inherent `call`, for a function whose
/// attributes were taken with [`take_attrs`] and whose parameters were cleaned.
pub fn struct_and_call(f: &ItemFn, attrs: &FnAttrs, what: &str) -> TokenStream {
    let ident = &f.sig.ident;
    let vis = &f.vis;
    let cfg = &attrs.cfg;
    let docs = &attrs.docs;
    let other = &attrs.other;
    let mut sig = f.sig.clone();
    sig.ident = format_ident!("call", span = ident.span());
    let block = &f.block;
    let call_doc = if docs.iter().any(|a| a.path().is_ident("doc")) {
        quote!()
    } else {
        let text = format!("Runs the {what} function directly.");
        quote!(#[doc = #text])
    };
    quote! {
        #(#cfg)*
        #(#docs)*
        #[allow(non_camel_case_types)]
        #vis struct #ident;

        #(#cfg)*
        #[allow(deprecated)]
        impl #ident {
            #(#docs)*
            #call_doc
            #(#other)*
            #vis #sig #block
        }
    }
}
