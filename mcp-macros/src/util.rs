//! Small helpers: doc comments, names, suggestions, `Self` in types.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Expr, ExprLit, Lit, Meta, Type};

/// The text of the `///` comments (`#[doc = ".."]` attributes) among `attrs`, one leading space
/// per line removed, trimmed; `None` when there is none.
pub fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|chunk| {
            chunk
                .split('\n')
                .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let text = lines.join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The closest of `known` to `key`, if it is close enough to be a typo.
pub fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `Some(String::from(text))` or `None`, as an expression.
pub fn opt_string(p: &TokenStream, text: Option<&str>) -> TokenStream {
    match text {
        Some(t) => quote!(#p::Some(#p::String::from(#t))),
        None => quote!(#p::None),
    }
}

/// Replaces `Self` in a type by `self_ty`, so that a method's parameter types can be named
/// outside the impl block.
pub fn replace_self(ty: &mut Type, self_ty: &Type) {
    struct Replace<'a>(&'a Type);
    impl VisitMut for Replace<'_> {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::Path(p) = ty {
                if p.qself.is_none() && p.path.is_ident("Self") {
                    *ty = self.0.clone();
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    Replace(self_ty).visit_type_mut(ty);
}

/// `tokens` with every span set to `span`: paths the macro writes (`::mcp_server::__private::..`)
/// then report errors at the user's token that caused them.
pub fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut out = Group::new(g.delimiter(), respan(g.stream(), span));
                out.set_span(span);
                TokenTree::Group(out)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// `async move { body }` whose `async`, `move` and braces carry `span`, so that a future that
/// is not `Send` is reported at the user's function rather than at the attribute.
pub fn async_block(body: TokenStream, span: Span) -> TokenStream {
    let mut block = Group::new(proc_macro2::Delimiter::Brace, body);
    block.set_span(span);
    let kw = respan(quote!(async move), span);
    quote!(#kw #block)
}

/// `path(args)` with the path and the parentheses at `span`.
pub fn call_at(path: TokenStream, args: TokenStream, span: Span) -> TokenStream {
    let path = respan(path, span);
    let mut parens = Group::new(proc_macro2::Delimiter::Parenthesis, args);
    parens.set_span(span);
    quote!(#path #parens)
}

/// An error at `span`.
pub fn err(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, message)
}

/// Adds `e` to the errors collected so far.
pub fn push_err(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("nmae", &["name", "title"]), Some("name"));
        assert_eq!(
            suggest("required_scope", &["required_scopes"]),
            Some("required_scopes")
        );
        assert_eq!(suggest("zzz", &["name", "title"]), None);
    }

    #[test]
    fn docs() {
        let attrs: Vec<Attribute> = vec![
            syn::parse_quote!(#[doc = " List files."]),
            syn::parse_quote!(#[doc = ""]),
            syn::parse_quote!(#[doc = " More  "]),
            syn::parse_quote!(#[inline]),
        ];
        assert_eq!(doc_text(&attrs).as_deref(), Some("List files.\n\nMore"));
        assert_eq!(doc_text(&[]), None);
    }
}
