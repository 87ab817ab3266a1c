//! URI templates: mcp-core's parser (the grammar the `#[resource]` macro checks at compile
//! time) and mcp-server's matcher (resource templates), plus the naming rules of
//! `mcp_core::rules` (tool names, scopes).
//!
//! Input: the template, a newline, the URI to match (the rest).
//!
//! Invariants: the server's parser agrees with the core's; a parsed template's parts spell it
//! (non-empty literals, no adjacent expressions); a match binds every variable, and each value keeps what the matcher's docs
//! promise (non-empty, no control character; a `{var}` value is one segment: no `/` or `\`,
//! never `.` or `..`); a URI over the size bound never matches; each rule's `is_valid` agrees
//! with its `validate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_core::rules::{scope, tool_name};
use mcp_core::uri_template::{Operator, Part, UriTemplate as CoreTemplate};
use mcp_server::fuzzing::{MAX_MATCHED_URI_BYTES, match_uri_template};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (template, uri) = text.split_once('\n').unwrap_or((&text, ""));
    assert_eq!(
        tool_name::is_valid(template),
        tool_name::validate(template).is_ok()
    );
    assert_eq!(scope::is_valid(template), scope::validate(template).is_ok());

    let core = CoreTemplate::parse(template);
    let matched = match_uri_template(template, uri);
    assert_eq!(
        core.is_ok(),
        matched.is_ok(),
        "the parsers disagree on {template:?}"
    );
    if let Err(e) = &core {
        let _ = e.reason();
    }
    let (Ok(core), Ok(matched)) = (core, matched) else {
        return;
    };
    assert_eq!(core.as_str(), template);
    let mut rendered = String::new();
    let mut previous_was_expression = false;
    for part in core.parts() {
        match part {
            Part::Literal(l) => {
                assert!(!l.is_empty(), "an empty literal in {template:?}");
                rendered.push_str(l);
                previous_was_expression = false;
            }
            Part::Expression(e) => {
                assert!(
                    !previous_was_expression,
                    "adjacent expressions in {template:?}"
                );
                rendered.push_str(&e.to_string());
                previous_was_expression = true;
            }
        }
    }
    assert_eq!(rendered, template, "the parts do not spell the template");
    let simple: Vec<(String, bool)> = core
        .parts()
        .iter()
        .filter_map(|p| match p {
            Part::Expression(e) => Some((e.variable.clone(), e.operator == Operator::Simple)),
            Part::Literal(_) => None,
        })
        .collect();
    assert_eq!(core.variables().count(), simple.len());
    assert_eq!(core.has_expressions(), !simple.is_empty());

    let Some(vars) = matched else {
        return;
    };
    assert!(
        uri.len() <= MAX_MATCHED_URI_BYTES,
        "an oversized URI matched"
    );
    for (name, is_simple) in &simple {
        let value = vars
            .get(name)
            .unwrap_or_else(|| panic!("{name} unbound: {template:?} {uri:?}"));
        assert!(!value.is_empty(), "{name} empty: {template:?} {uri:?}");
        assert!(
            !value.chars().any(char::is_control),
            "{name} has a control character: {template:?} {uri:?}"
        );
        if *is_simple {
            assert!(
                !value.contains(['/', '\\']) && value != "." && value != "..",
                "{name} = {value:?} leaves its segment: {template:?} {uri:?}"
            );
        }
    }
});
