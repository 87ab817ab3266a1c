//! Parsing the arguments of `#[tool(..)]`, `#[prompt(..)]`, `#[resource(..)]`, `#[tools(..)]`
//! and `#[arg(..)]`. Every value is checked here, so that expansion never meets a bad one.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitBool, LitStr, Path, Token};

use crate::util::suggest;

/// A value given once; a second one is an error at its key.
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!(
            "duplicate attribute `{}`",
            meta.path.to_token_stream()
        )));
    }
    *slot = Some(value);
    Ok(())
}

fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    meta.path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_else(|| meta.path.to_token_stream().to_string().replace(' ', ""))
}

fn unknown(meta: &ParseNestedMeta<'_>, what: &str, known: &[&str]) -> syn::Error {
    let key = key_name(meta);
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = match suggest(&key, known) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    };
    meta.error(format!(
        "unknown `{what}` attribute `{key}`{hint}\nexpected one of: {list}"
    ))
}

/// `key = "text"`, non-empty.
fn lit_str(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            if s.value().is_empty() {
                Err(syn::Error::new(s.span(), "expected a non-empty string"))
            } else {
                Ok(s)
            }
        }
        other => Err(syn::Error::new(
            other.span(),
            format!(
                "`{}` takes a string literal",
                meta.path.to_token_stream().to_string().replace(' ', "")
            ),
        )),
    }
}

/// `key = ["a", "b"]` (or `key = "a"`): string literals only.
fn lit_str_list(meta: &ParseNestedMeta<'_>, what: &str) -> syn::Result<Vec<LitStr>> {
    let expr: Expr = meta.value()?.parse()?;
    let elems: Vec<Expr> = match expr {
        Expr::Array(a) => a.elems.into_iter().collect(),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => return Ok(vec![s]),
        other => {
            return Err(syn::Error::new(
                other.span(),
                format!(
                    "expected an array of string literals: `[\"a\", \"b\"]`; {what} must be known at compile time"
                ),
            ));
        }
    };
    elems
        .into_iter()
        .map(|e| match e {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(s),
            other => Err(syn::Error::new(
                other.span(),
                format!("{what} must be string literals, known at compile time"),
            )),
        })
        .collect()
}

/// A bare flag (`true`) or `flag = true|false`.
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<LitBool> {
    if meta.input.peek(Token![=]) {
        let expr: Expr = meta.value()?.parse()?;
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) => Ok(b),
            other => Err(syn::Error::new(other.span(), "expected `true` or `false`")),
        }
    } else {
        Ok(LitBool::new(true, meta.path.span()))
    }
}

/// `crate = "path::to::mcp_server"`.
fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let s = lit_str(meta)?;
    s.parse::<Path>()
        .map_err(|_| syn::Error::new(s.span(), "expected a path such as `my_crate::mcp_server`"))
}

/// Tool annotations: `annotations(read_only, destructive = false, idempotent, open_world, title = "..")`.
#[derive(Default)]
pub struct Annotations {
    pub title: Option<LitStr>,
    pub read_only: Option<LitBool>,
    pub destructive: Option<LitBool>,
    pub idempotent: Option<LitBool>,
    pub open_world: Option<LitBool>,
}

const ANNOTATION_KEYS: &[&str] = &[
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "title",
];

fn annotations(meta: &ParseNestedMeta<'_>) -> syn::Result<Annotations> {
    let mut a = Annotations::default();
    meta.parse_nested_meta(|m| {
        if m.path.is_ident("read_only") {
            set_once(&mut a.read_only, flag(&m)?, &m)
        } else if m.path.is_ident("destructive") {
            set_once(&mut a.destructive, flag(&m)?, &m)
        } else if m.path.is_ident("idempotent") {
            set_once(&mut a.idempotent, flag(&m)?, &m)
        } else if m.path.is_ident("open_world") {
            set_once(&mut a.open_world, flag(&m)?, &m)
        } else if m.path.is_ident("title") {
            set_once(&mut a.title, lit_str(&m)?, &m)
        } else {
            Err(unknown(&m, "annotations", ANNOTATION_KEYS))
        }
    })?;
    Ok(a)
}

/// `_meta`: `meta = expr` (an expression of type `Meta`) or `meta(key = literal, "a/b" = literal)`.
pub enum MetaAttr {
    Expr(Expr),
    Pairs(Vec<(LitStr, Lit)>),
}

fn meta_attr(meta: &ParseNestedMeta<'_>) -> syn::Result<MetaAttr> {
    if meta.input.peek(Token![=]) {
        return Ok(MetaAttr::Expr(meta.value()?.parse()?));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let pairs = Punctuated::<(LitStr, Lit), Token![,]>::parse_terminated_with(&content, |input| {
        let key = if input.peek(LitStr) {
            input.parse::<LitStr>()?
        } else {
            let ident: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            LitStr::new(&ident.to_string(), ident.span())
        };
        input.parse::<Token![=]>()?;
        let value: Lit = input.parse()?;
        match value {
            Lit::Str(_) | Lit::Int(_) | Lit::Float(_) | Lit::Bool(_) => Ok((key, value)),
            other => Err(syn::Error::new(
                other.span(),
                "`meta` values are string, number or boolean literals; use `meta = expr` for anything else",
            )),
        }
    })?;
    Ok(MetaAttr::Pairs(pairs.into_iter().collect()))
}

/// `complete(argument = completer, ..)`.
fn completions(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<(LitStr, Expr)>> {
    let mut out: Vec<(LitStr, Expr)> = Vec::new();
    meta.parse_nested_meta(|m| {
        let key = match m.path.get_ident() {
            Some(i) => LitStr::new(&syn::ext::IdentExt::unraw(i).to_string(), i.span()),
            None => return Err(m.error("expected an argument name")),
        };
        if out.iter().any(|(k, _)| k.value() == key.value()) {
            return Err(m.error(format!("duplicate completer for `{}`", key.value())));
        }
        let value: Expr = m.value()?.parse()?;
        out.push((key, value));
        Ok(())
    })?;
    Ok(out)
}

/// What `#[tool]`, `#[prompt]` and `#[resource]` share.
#[derive(Default)]
pub struct Common {
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub icons: Option<Vec<LitStr>>,
    pub meta: Option<MetaAttr>,
    pub krate: Option<Path>,
}

/// The descriptive parts every generated item shares, as tokens.
pub struct Described {
    /// The wire name (the attribute's `name`, else the fn's).
    pub name: String,
    /// `Option<String>` tokens of the title.
    pub title: proc_macro2::TokenStream,
    /// `Option<String>` tokens of the description (attribute, else the doc comment).
    pub description: proc_macro2::TokenStream,
}

impl Common {
    /// Name, title and description of an item defined by `ident` with `docs`.
    pub fn described(
        &self,
        p: &proc_macro2::TokenStream,
        ident: &syn::Ident,
        docs: &[syn::Attribute],
    ) -> Described {
        use syn::ext::IdentExt;
        let name = self
            .name
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_else(|| ident.unraw().to_string());
        let title = crate::util::opt_string(p, self.title.as_ref().map(LitStr::value).as_deref());
        let description = crate::util::opt_string(
            p,
            self.description
                .as_ref()
                .map(LitStr::value)
                .or_else(|| crate::util::doc_text(docs))
                .as_deref(),
        );
        Described {
            name,
            title,
            description,
        }
    }

    fn try_parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        if meta.path.is_ident("name") {
            set_once(&mut self.name, lit_str(meta)?, meta)?;
        } else if meta.path.is_ident("title") {
            set_once(&mut self.title, lit_str(meta)?, meta)?;
        } else if meta.path.is_ident("description") {
            set_once(&mut self.description, lit_str(meta)?, meta)?;
        } else if meta.path.is_ident("icons") {
            set_once(&mut self.icons, lit_str_list(meta, "icons")?, meta)?;
        } else if meta.path.is_ident("meta") {
            set_once(&mut self.meta, meta_attr(meta)?, meta)?;
        } else if meta.path.is_ident("crate") {
            set_once(&mut self.krate, crate_path(meta)?, meta)?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The path of `mcp_server::__private`.
    pub fn private(&self) -> TokenStream {
        private_path(self.krate.as_ref())
    }
}

/// The path of `__private` under the `crate = ..` override, or `::mcp_server`.
pub fn private_path(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(p) => quote::quote!(#p::__private),
        None => quote::quote!(::mcp_server::__private),
    }
}

/// The arguments of `#[tool(..)]`.
#[derive(Default)]
pub struct ToolAttrs {
    pub common: Common,
    pub required_scopes: Option<Vec<LitStr>>,
    pub min_role: Option<LitStr>,
    pub annotations: Option<Annotations>,
}

const TOOL_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "required_scopes",
    "min_role",
    "annotations",
    "icons",
    "meta",
    "crate",
];

impl ToolAttrs {
    pub fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut a = ToolAttrs::default();
        syn::meta::parser(|meta| {
            if a.common.try_parse(&meta)? {
                Ok(())
            } else if meta.path.is_ident("required_scopes") {
                let scopes = lit_str_list(&meta, "scopes")?;
                for s in &scopes {
                    mcp_core::rules::scope::validate(&s.value())
                        .map_err(|e| syn::Error::new(s.span(), e))?;
                }
                set_once(&mut a.required_scopes, scopes, &meta)
            } else if meta.path.is_ident("min_role") {
                set_once(&mut a.min_role, lit_str(&meta)?, &meta)
            } else if meta.path.is_ident("annotations") {
                set_once(&mut a.annotations, annotations(&meta)?, &meta)
            } else {
                Err(unknown(&meta, "#[tool]", TOOL_KEYS))
            }
        })
        .parse2(tokens)?;
        Ok(a)
    }
}

/// The arguments of `#[prompt(..)]`.
#[derive(Default)]
pub struct PromptAttrs {
    pub common: Common,
    pub complete: Vec<(LitStr, Expr)>,
}

const PROMPT_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "icons",
    "meta",
    "complete",
    "crate",
];

impl PromptAttrs {
    pub fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut a = PromptAttrs::default();
        let mut seen_complete = false;
        syn::meta::parser(|meta| {
            if a.common.try_parse(&meta)? {
                Ok(())
            } else if meta.path.is_ident("complete") {
                if std::mem::replace(&mut seen_complete, true) {
                    return Err(meta.error("duplicate attribute `complete`"));
                }
                a.complete = completions(&meta)?;
                Ok(())
            } else {
                Err(unknown(&meta, "#[prompt]", PROMPT_KEYS))
            }
        })
        .parse2(tokens)?;
        Ok(a)
    }
}

/// The arguments of `#[resource(..)]`.
pub struct ResourceAttrs {
    pub common: Common,
    pub uri: LitStr,
    pub mime_type: Option<LitStr>,
    pub complete: Vec<(LitStr, Expr)>,
}

const RESOURCE_KEYS: &[&str] = &[
    "uri",
    "name",
    "title",
    "description",
    "mime_type",
    "icons",
    "meta",
    "complete",
    "crate",
];

impl ResourceAttrs {
    pub fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut common = Common::default();
        let mut uri = None;
        let mut mime_type = None;
        let mut complete = None;
        syn::meta::parser(|meta| {
            if common.try_parse(&meta)? {
                Ok(())
            } else if meta.path.is_ident("uri") {
                set_once(&mut uri, lit_str(&meta)?, &meta)
            } else if meta.path.is_ident("mime_type") {
                set_once(&mut mime_type, lit_str(&meta)?, &meta)
            } else if meta.path.is_ident("complete") {
                set_once(&mut complete, completions(&meta)?, &meta)
            } else {
                Err(unknown(&meta, "#[resource]", RESOURCE_KEYS))
            }
        })
        .parse2(tokens)?;
        let Some(uri) = uri else {
            return Err(syn::Error::new(
                Span::call_site(),
                "`#[resource]` needs a URI: `#[resource(uri = \"config://app\")]` or a template such as `#[resource(uri = \"file:///{path}\")]`",
            ));
        };
        Ok(ResourceAttrs {
            common,
            uri,
            mime_type,
            complete: complete.unwrap_or_default(),
        })
    }
}

/// The arguments of `#[tools(..)]`.
#[derive(Default)]
pub struct ToolsAttrs {
    pub krate: Option<Path>,
}

impl ToolsAttrs {
    pub fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut a = ToolsAttrs::default();
        syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                set_once(&mut a.krate, crate_path(&meta)?, &meta)
            } else {
                Err(unknown(&meta, "#[tools]", &["crate"]))
            }
        })
        .parse2(tokens)?;
        Ok(a)
    }
}

/// A default value of an argument: `#[arg(default)]` or `#[arg(default = expr)]`.
pub enum DefaultAttr {
    Trait(Span),
    Expr(Box<Expr>),
}

/// The arguments of `#[arg(..)]` on a parameter.
#[derive(Default)]
pub struct ArgAttrs {
    pub default: Option<DefaultAttr>,
    pub rename: Option<LitStr>,
    pub description: Option<LitStr>,
}

const ARG_KEYS: &[&str] = &["default", "rename", "description"];

impl ArgAttrs {
    /// Adds the keys of one `#[arg(..)]` attribute.
    pub fn parse_into(&mut self, attr: &syn::Attribute) -> syn::Result<()> {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                let value = if meta.input.peek(Token![=]) {
                    DefaultAttr::Expr(Box::new(meta.value()?.parse()?))
                } else {
                    DefaultAttr::Trait(meta.path.span())
                };
                set_once(&mut self.default, value, &meta)
            } else if meta.path.is_ident("rename") {
                set_once(&mut self.rename, lit_str(&meta)?, &meta)
            } else if meta.path.is_ident("description") {
                set_once(&mut self.description, lit_str(&meta)?, &meta)
            } else {
                Err(unknown(&meta, "#[arg]", ARG_KEYS))
            }
        })
    }
}
