//! Procedural macros for `mcp-server` (placeholder docs, replaced below).

mod attrs;
mod item;
mod params;
mod prompt;
mod resource;
mod tool;
mod tools_impl;
mod util;

use proc_macro::TokenStream;

fn output(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Marks a function as an MCP tool.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(tool::expand(attr.into(), item.into()))
}

/// Marks an impl block whose `#[tool]` methods are tools sharing `&self`.
#[proc_macro_attribute]
pub fn tools(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(tools_impl::expand(attr.into(), item.into()))
}

/// Marks a function as an MCP prompt.
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(prompt::expand(attr.into(), item.into()))
}

/// Marks a function as an MCP resource or resource template.
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    output(resource::expand(attr.into(), item.into()))
}
