//! What a server offers: tools, resources, resource templates, prompts and completions, kept in
//! registration order so that lists are stable (TL-02).

mod confine;
pub(crate) mod prompts;
pub(crate) mod resources;
pub(crate) mod tools;
pub(crate) mod uri_template;

pub use confine::{PathError, resolve_under};

use std::collections::BTreeMap;
use std::sync::Arc;

use indexmap::IndexMap;

use prompts::PromptDef;
use resources::{ResourceDef, ResourceTemplateDef};
use tools::ToolDef;

/// One immutable snapshot of everything registered. Changes replace the snapshot.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    pub tools: IndexMap<String, Arc<ToolDef>>,
    pub resources: IndexMap<String, Arc<ResourceDef>>,
    pub templates: Vec<Arc<ResourceTemplateDef>>,
    pub prompts: IndexMap<String, Arc<PromptDef>>,
}

/// A resource found for a URI: a fixed resource, or a template with its variables.
pub(crate) enum ResourceMatch<'a> {
    Fixed(&'a Arc<ResourceDef>),
    Template(&'a Arc<ResourceTemplateDef>, BTreeMap<String, String>),
}

impl Registry {
    pub fn find_resource(&self, uri: &str) -> Option<ResourceMatch<'_>> {
        if let Some(r) = self.resources.get(uri) {
            return Some(ResourceMatch::Fixed(r));
        }
        self.templates.iter().find_map(|t| {
            t.matcher
                .matches(uri)
                .map(|vars| ResourceMatch::Template(t, vars))
        })
    }
}

/// Whether a tool name follows the 2025-11-25 guidance: 1–128 of `[A-Za-z0-9_.-]` (TL-13).
/// The rule is mcp-core's ([`mcp_core::rules::tool_name`]), shared with the `#[tool]` macro.
pub use mcp_core::rules::tool_name::is_valid as is_valid_tool_name;
