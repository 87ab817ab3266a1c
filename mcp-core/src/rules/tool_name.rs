//! Tool names (MCP 2025-11-25, "Tool names"): 1 to [`MAX_LEN`] characters, each one of
//! `A-Z a-z 0-9 _ - .` (ASCII only; case matters, so `Add` and `add` are two names).
//!
//! ```
//! use mcp_core::rules::tool_name::{self, ToolNameErrorKind};
//!
//! assert!(tool_name::is_valid("admin.tools-list_2"));
//! let e = tool_name::validate("grüße").unwrap_err();
//! assert_eq!(e.kind, ToolNameErrorKind::ForbiddenChar { ch: 'ü', position: 2 });
//! ```

use std::fmt;

use super::describe_char;

/// The longest tool name, in characters (all of them ASCII, so also in bytes).
pub const MAX_LEN: usize = 128;

/// What the rule asks for, as error messages end.
pub const ALLOWED: &str = "use 1 to 128 characters of `A-Z a-z 0-9 _ - .`";

/// Whether `c` may appear in a tool name.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Whether `name` is a valid tool name (see the [module docs](self)).
pub fn is_valid(name: &str) -> bool {
    (1..=MAX_LEN).contains(&name.len()) && name.chars().all(is_name_char)
}

/// Checks `name`; the error says what is wrong and where.
///
/// A name with both a forbidden character and too many characters reports the first forbidden
/// character (fixing the length alone would not make it valid).
pub fn validate(name: &str) -> Result<(), ToolNameError> {
    let kind = if name.is_empty() {
        ToolNameErrorKind::Empty
    } else if let Some((position, ch)) = name.chars().enumerate().find(|(_, c)| !is_name_char(*c)) {
        ToolNameErrorKind::ForbiddenChar { ch, position }
    } else if name.len() > MAX_LEN {
        // Only ASCII is left: bytes are characters.
        ToolNameErrorKind::TooLong { len: name.len() }
    } else {
        return Ok(());
    };
    Err(ToolNameError {
        name: name.to_owned(),
        kind,
    })
}

/// An invalid tool name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tool name `{name}`: {kind}")]
pub struct ToolNameError {
    /// The name as given.
    pub name: String,
    /// What is wrong with it.
    pub kind: ToolNameErrorKind,
}

/// What is wrong with a tool name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolNameErrorKind {
    /// The name is empty.
    Empty,
    /// The name has more than [`MAX_LEN`] characters.
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The name holds a character outside `A-Z a-z 0-9 _ - .`.
    ForbiddenChar {
        /// The first such character.
        ch: char,
        /// Its position among the name's characters, from 0.
        position: usize,
    },
}

impl fmt::Display for ToolNameErrorKind {
    /// The reason, followed by [`ALLOWED`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolNameErrorKind::Empty => write!(f, "it is empty; {ALLOWED}"),
            ToolNameErrorKind::TooLong { len } => {
                write!(
                    f,
                    "it has {len} characters, {} too many; {ALLOWED}",
                    len - MAX_LEN
                )
            }
            ToolNameErrorKind::ForbiddenChar { ch, position } => write!(
                f,
                "{} (character {}) is not allowed; {ALLOWED}",
                describe_char(*ch),
                position + 1
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> Option<ToolNameErrorKind> {
        validate(name).err().map(|e| e.kind)
    }

    #[test]
    fn valid_names() {
        for name in [
            "a",
            "Z",
            "0",
            "_",
            "-",
            ".",
            "list_files",
            "a.b-c_D9",
            "ADD",
            "...",
        ] {
            assert_eq!(validate(name), Ok(()), "{name}");
            assert!(is_valid(name), "{name}");
        }
    }

    #[test]
    fn empty() {
        assert_eq!(kind(""), Some(ToolNameErrorKind::Empty));
        assert!(!is_valid(""));
    }

    #[test]
    fn length_limit_is_inclusive() {
        let max = "x".repeat(MAX_LEN);
        assert_eq!(validate(&max), Ok(()));
        assert!(is_valid(&max));
        let over = "x".repeat(MAX_LEN + 1);
        assert_eq!(kind(&over), Some(ToolNameErrorKind::TooLong { len: 129 }));
        assert!(!is_valid(&over));
    }

    #[test]
    fn forbidden_ascii_characters() {
        for c in [
            ' ', '!', '/', ':', ',', '@', '"', '\\', '+', '*', '(', '\t', '\n', '\0', '\u{7f}',
        ] {
            let name = format!("ab{c}d");
            assert_eq!(
                kind(&name),
                Some(ToolNameErrorKind::ForbiddenChar { ch: c, position: 2 }),
                "{name:?}"
            );
            assert!(!is_valid(&name), "{name:?}");
        }
    }

    #[test]
    fn non_ascii_is_refused_even_when_alphanumeric() {
        assert_eq!(
            kind("grüße"),
            Some(ToolNameErrorKind::ForbiddenChar {
                ch: 'ü',
                position: 2
            })
        );
        assert!(!is_valid("日本"));
        // Unicode digits and full-width letters are alphanumeric, but not ASCII.
        assert!(!is_valid("a\u{0663}"));
        assert!(!is_valid("\u{ff21}"));
        // Positions count characters, not bytes.
        assert_eq!(
            kind("éa b"),
            Some(ToolNameErrorKind::ForbiddenChar {
                ch: 'é',
                position: 0
            })
        );
        assert_eq!(
            kind("aé b"),
            Some(ToolNameErrorKind::ForbiddenChar {
                ch: 'é',
                position: 1
            })
        );
    }

    #[test]
    fn a_long_name_with_a_bad_character_reports_the_character() {
        let name = format!("{} x", "a".repeat(200));
        assert_eq!(
            kind(&name),
            Some(ToolNameErrorKind::ForbiddenChar {
                ch: ' ',
                position: 200
            })
        );
        // 64 non-ASCII characters fit in 128 bytes: still refused for the characters.
        assert!(!is_valid(&"é".repeat(64)));
    }

    #[test]
    fn messages_say_what_where_and_how_to_fix() {
        let msg = |n: &str| validate(n).unwrap_err().to_string();
        assert_eq!(
            msg("delete file!"),
            "invalid tool name `delete file!`: a space (character 7) is not allowed; use 1 to 128 characters of `A-Z a-z 0-9 _ - .`"
        );
        assert_eq!(
            msg(""),
            "invalid tool name ``: it is empty; use 1 to 128 characters of `A-Z a-z 0-9 _ - .`"
        );
        assert!(msg(&"x".repeat(130)).ends_with(
            ": it has 130 characters, 2 too many; use 1 to 128 characters of `A-Z a-z 0-9 _ - .`"
        ));
        assert!(msg("a\tb").contains("the control character U+0009 (character 2) is not allowed"));
    }
}
