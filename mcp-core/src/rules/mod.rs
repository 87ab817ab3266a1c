//! Naming rules of the protocol, each implemented once.
//!
//! The same rule is checked in two places: at compile time by the `#[tool]` macros (which turn
//! an error into a compile error pointing at the offending literal) and at run time by the
//! server (for tools and scopes registered by hand). Both call the functions here, so the two
//! can never disagree.
//!
//! - [`tool_name`]: the tool-name guidance of MCP 2025-11-25 (1 to 128 of `A-Z a-z 0-9 _ - .`).
//! - [`scope`]: an OAuth scope token (RFC 6749 §3.3).
//!
//! URI templates, a grammar rather than a naming rule, are in [`crate::uri_template`].
//!
//! Every error names the offending value, says what is wrong and where (a character position,
//! counted from 1 in messages), and how to fix it.
//!
//! ```
//! use mcp_core::rules::{scope, tool_name};
//!
//! assert!(tool_name::validate("files.list").is_ok());
//! let e = tool_name::validate("list files").unwrap_err();
//! assert_eq!(
//!     e.to_string(),
//!     "invalid tool name `list files`: a space (character 5) is not allowed; \
//!      use 1 to 128 characters of `A-Z a-z 0-9 _ - .`"
//! );
//! assert!(scope::is_valid("files:read"));
//! assert!(!scope::is_valid("files read"));
//! ```

pub mod scope;
pub mod tool_name;

/// How a character is named in error messages: `a space`, `` `é` ``, `the control character
/// U+0009`.
pub(crate) fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c if c.is_whitespace() => format!("the whitespace U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_char;

    #[test]
    fn characters_are_described_readably() {
        assert_eq!(describe_char(' '), "a space");
        assert_eq!(describe_char('\t'), "the control character U+0009");
        assert_eq!(describe_char('\u{a0}'), "the whitespace U+00A0");
        assert_eq!(describe_char('é'), "`é`");
        assert_eq!(describe_char('"'), "`\"`");
    }
}
