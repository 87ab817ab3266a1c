//! The parameters of a marked function: injected ones (`&self`, `&Context`) and arguments, with
//! the attributes that only the macro understands taken off the signature.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, Pat, Signature, Type};

use crate::attrs::ArgAttrs;
use crate::util::{err, push_err};

/// What the marked function is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tool,
    Prompt,
    Resource,
}

impl Kind {
    pub fn attr(self) -> &'static str {
        match self {
            Kind::Tool => "#[tool]",
            Kind::Prompt => "#[prompt]",
            Kind::Resource => "#[resource]",
        }
    }
}

/// How a method of a `#[tools]` impl block receives its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    /// `&self`
    Ref,
    /// `self: Arc<Self>`
    Arc,
}

/// One argument: a field of the arguments struct (tools) or a named argument (prompts,
/// resource-template variables).
pub struct Arg {
    pub ident: Ident,
    pub ty: Type,
    /// The name on the wire (the parameter's name, or `#[arg(rename = "..")]`).
    pub wire: String,
    pub wire_span: Span,
    pub attrs: ArgAttrs,
    pub docs: Vec<Attribute>,
    /// `#[serde(..)]` and `#[schemars(..)]` attributes, for the arguments struct.
    pub passthrough: Vec<Attribute>,
}

/// One parameter.
pub enum Param {
    Receiver(Receiver),
    /// `&Context` (`by_ref`) or `Context`.
    Context {
        by_ref: bool,
    },
    Arg(Box<Arg>),
}

/// The arguments among `params`.
pub fn args(params: &[Param]) -> impl Iterator<Item = &Arg> {
    params.iter().filter_map(|p| match p {
        Param::Arg(a) => Some(&**a),
        _ => None,
    })
}

/// Whether `ty` names the framework's `Context` (by its last path segment).
fn is_context_path(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Context" && s.arguments.is_none()),
        Type::Group(g) => is_context_path(&g.elem),
        Type::Paren(p) => is_context_path(&p.elem),
        _ => false,
    }
}

fn is_arc_self(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident != "Arc" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return false;
    };
    matches!(a.args.first(), Some(syn::GenericArgument::Type(Type::Path(s))) if s.path.is_ident("Self"))
}

/// An argument type the macro can tell is wrong without the compiler.
fn check_arg_type(ty: &Type, kind: Kind) -> syn::Result<()> {
    let owned = match kind {
        Kind::Tool => "tool arguments are deserialized into owned values",
        Kind::Prompt => "prompt arguments are parsed into owned values",
        Kind::Resource => "template variables are parsed into owned values",
    };
    match ty {
        Type::Reference(r) => {
            let hint = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => "; use `String`".to_owned(),
                Type::Slice(_) => "; use a `Vec`".to_owned(),
                other => format!(
                    "; use `{}`",
                    quote::quote!(#other).to_string().replace(' ', "")
                ),
            };
            Err(syn::Error::new_spanned(
                ty,
                format!("unsupported parameter type: {owned}, not references{hint}"),
            ))
        }
        Type::ImplTrait(_) => Err(syn::Error::new_spanned(
            ty,
            "unsupported parameter type: `impl Trait` cannot be an argument; name a concrete type",
        )),
        Type::TraitObject(_) | Type::Infer(_) | Type::Never(_) | Type::BareFn(_) | Type::Ptr(_) => {
            Err(syn::Error::new_spanned(
                ty,
                format!(
                    "unsupported parameter type: {owned}; use a type such as `String`, a number, `Option<T>`, `Vec<T>` or a struct or enum{}",
                    if kind == Kind::Tool {
                        " deriving `Deserialize` and `JsonSchema`"
                    } else {
                        " implementing `FromStr`"
                    }
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Reads the parameters of `sig` and takes the macro's attributes off them. `in_impl` allows
/// `&self` and `self: Arc<Self>`.
pub fn analyze(sig: &mut Signature, kind: Kind, in_impl: bool) -> syn::Result<Vec<Param>> {
    let mut errors: Option<syn::Error> = None;
    let mut params = Vec::new();
    let mut context_seen = false;
    for input in &mut sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                let ok = if !in_impl {
                    Err(syn::Error::new_spanned(
                        &*r,
                        format!(
                            "`{}` on a method needs `#[tools]` on its impl block",
                            kind.attr()
                        ),
                    ))
                } else if r.colon_token.is_some() {
                    if is_arc_self(&r.ty) {
                        Ok(Receiver::Arc)
                    } else {
                        Err(syn::Error::new_spanned(
                            &r.ty,
                            "unsupported receiver: tools take `&self` or `self: Arc<Self>`",
                        ))
                    }
                } else if r.reference.is_none() {
                    Err(syn::Error::new_spanned(
                        &*r,
                        "unsupported receiver: tools take `&self` (the value is shared by concurrent calls), not `self`",
                    ))
                } else if r.mutability.is_some() {
                    Err(syn::Error::new_spanned(
                        &*r,
                        "unsupported receiver: tools take `&self`, not `&mut self`: calls run concurrently, so use interior mutability (`Mutex`, atomics) for state that changes",
                    ))
                } else {
                    Ok(Receiver::Ref)
                };
                match ok {
                    Ok(recv) => params.push(Param::Receiver(recv)),
                    Err(e) => push_err(&mut errors, e),
                }
            }
            FnArg::Typed(pt) => match param(pt, kind, &mut context_seen) {
                Ok(p) => params.push(p),
                Err(e) => push_err(&mut errors, e),
            },
        }
    }
    // Two arguments with one wire name.
    let mut seen: Vec<&Arg> = Vec::new();
    for a in args(&params) {
        if seen.iter().any(|s| s.wire == a.wire) {
            push_err(
                &mut errors,
                err(a.wire_span, format!("two arguments are named `{}`", a.wire)),
            );
        }
        seen.push(a);
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(params),
    }
}

fn param(pt: &mut syn::PatType, kind: Kind, context_seen: &mut bool) -> syn::Result<Param> {
    let mut errors: Option<syn::Error> = None;
    let mut docs = Vec::new();
    let mut passthrough = Vec::new();
    let mut attrs = ArgAttrs::default();
    let mut arg_attr_span = None;
    let mut kept = Vec::new();
    for attr in std::mem::take(&mut pt.attrs) {
        let path = attr.path();
        if path.is_ident("doc") {
            docs.push(attr);
        } else if path.is_ident("arg") {
            arg_attr_span.get_or_insert(attr.span());
            if let Err(e) = attrs.parse_into(&attr) {
                push_err(&mut errors, e);
            }
        } else if path.is_ident("serde") || path.is_ident("schemars") {
            if kind == Kind::Tool {
                passthrough.push(attr);
            } else {
                push_err(
                    &mut errors,
                    syn::Error::new_spanned(
                        &attr,
                        format!(
                            "`#[serde]` and `#[schemars]` apply to `#[tool]` arguments only, not to `{}` ones",
                            kind.attr()
                        ),
                    ),
                );
            }
        } else {
            kept.push(attr);
        }
    }
    pt.attrs = kept;

    if let Type::Reference(r) = &*pt.ty {
        if is_context_path(&r.elem) {
            if r.mutability.is_some() {
                push_err(
                    &mut errors,
                    syn::Error::new_spanned(
                        &pt.ty,
                        "take the context as `&Context`, not `&mut Context`",
                    ),
                );
            }
            return context(pt, true, arg_attr_span, context_seen, errors);
        }
    } else if is_context_path(&pt.ty) {
        return context(pt, false, arg_attr_span, context_seen, errors);
    }

    let ident = match &*pt.pat {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => Some(pi.ident.clone()),
        _ => None,
    };
    let Some(ident) = ident else {
        let e = syn::Error::new_spanned(
            &pt.pat,
            format!(
                "`{}` parameters must be plain names: the name is the argument's name",
                kind.attr()
            ),
        );
        push_err(&mut errors, e);
        return Err(errors.unwrap_or_else(|| err(pt.span(), "invalid parameter")));
    };
    if let Err(e) = check_arg_type(&pt.ty, kind) {
        push_err(&mut errors, e);
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let (wire, wire_span) = match &attrs.rename {
        Some(r) => (r.value(), r.span()),
        None => (ident.unraw().to_string(), ident.span()),
    };
    Ok(Param::Arg(Box::new(Arg {
        ident,
        ty: (*pt.ty).clone(),
        wire,
        wire_span,
        attrs,
        docs,
        passthrough,
    })))
}

fn context(
    pt: &syn::PatType,
    by_ref: bool,
    arg_attr: Option<Span>,
    context_seen: &mut bool,
    mut errors: Option<syn::Error>,
) -> syn::Result<Param> {
    if let Some(span) = arg_attr {
        push_err(
            &mut errors,
            err(
                span,
                "the context is injected by the server, not an argument: `#[arg]` does not apply",
            ),
        );
    }
    if std::mem::replace(context_seen, true) {
        push_err(
            &mut errors,
            syn::Error::new_spanned(pt, "only one parameter may take the context"),
        );
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(Param::Context { by_ref }),
    }
}

/// `Some(T)` when `ty` is `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return None;
    };
    match (a.args.len(), a.args.first()) {
        (1, Some(syn::GenericArgument::Type(t))) => Some(t),
        _ => None,
    }
}

/// Whether `ty` is spelled `String` (or `std::string::String`).
pub fn is_string(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "String" && s.arguments.is_none()),
        _ => false,
    }
}
