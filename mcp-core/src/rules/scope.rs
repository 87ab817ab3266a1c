//! OAuth scope tokens (RFC 6749 §3.3): `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, that is
//! one or more printable ASCII characters other than space, `"` and `\`.
//!
//! A scope *list* (the `scope` parameter or claim) is tokens joined by single spaces: each
//! element checked here is one token, never a list.
//!
//! ```
//! use mcp_core::rules::scope;
//!
//! assert!(scope::is_valid("files:read"));
//! assert!(scope::is_valid("https://api.example.com/read"));
//! assert_eq!(
//!     scope::validate("files read").unwrap_err().to_string(),
//!     "invalid scope `files read`: a space (character 6) is not allowed; use printable ASCII \
//!      without spaces, `\"` or `\\`, and give several scopes as several strings"
//! );
//! ```

use std::fmt;

use super::describe_char;

/// What the rule asks for, as error messages end.
pub const ALLOWED: &str = "use printable ASCII without spaces, `\"` or `\\`";

/// Whether `c` may appear in a scope token: `%x21 / %x23-5B / %x5D-7E`.
pub fn is_scope_char(c: char) -> bool {
    matches!(u32::from(c), 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// Whether `scope` is one valid scope token.
pub fn is_valid(scope: &str) -> bool {
    !scope.is_empty() && scope.chars().all(is_scope_char)
}

/// Checks that `scope` is one scope token; the error says what is wrong and where.
pub fn validate(scope: &str) -> Result<(), ScopeError> {
    let kind = if scope.is_empty() {
        ScopeErrorKind::Empty
    } else if let Some((position, ch)) = scope.chars().enumerate().find(|(_, c)| !is_scope_char(*c))
    {
        ScopeErrorKind::ForbiddenChar { ch, position }
    } else {
        return Ok(());
    };
    Err(ScopeError {
        scope: scope.to_owned(),
        kind,
    })
}

/// An invalid scope token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope{}: {kind}", if scope.is_empty() { String::new() } else { format!(" `{scope}`") })]
pub struct ScopeError {
    /// The scope as given.
    pub scope: String,
    /// What is wrong with it.
    pub kind: ScopeErrorKind,
}

/// What is wrong with a scope token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeErrorKind {
    /// The scope is empty.
    Empty,
    /// The scope holds a space, `"`, `\`, a control or a non-ASCII character.
    ForbiddenChar {
        /// The first such character.
        ch: char,
        /// Its position among the scope's characters, from 0.
        position: usize,
    },
}

impl fmt::Display for ScopeErrorKind {
    /// The reason, followed by [`ALLOWED`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeErrorKind::Empty => write!(f, "it is empty; {ALLOWED}"),
            ScopeErrorKind::ForbiddenChar { ch, position } => {
                write!(
                    f,
                    "{} (character {}) is not allowed; {ALLOWED}",
                    describe_char(*ch),
                    position + 1
                )?;
                if *ch == ' ' {
                    f.write_str(", and give several scopes as several strings")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<ScopeErrorKind> {
        validate(s).err().map(|e| e.kind)
    }

    #[test]
    fn valid_scopes() {
        for s in [
            "read",
            "files:read",
            "https://api.example.com/files.read",
            "!",
            "~",
            "#",
            "[",
            "]",
            "a'b",
            "{x}",
            "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
        ] {
            assert_eq!(validate(s), Ok(()), "{s}");
            assert!(is_valid(s), "{s}");
        }
        // No length limit in the grammar.
        assert!(is_valid(&"s".repeat(10_000)));
    }

    #[test]
    fn empty() {
        assert_eq!(kind(""), Some(ScopeErrorKind::Empty));
        assert!(!is_valid(""));
    }

    #[test]
    fn every_ascii_character_outside_the_grammar_is_refused() {
        for b in 0u8..=0x7f {
            let c = char::from(b);
            let allowed = b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
            assert_eq!(is_scope_char(c), allowed, "{b:#04x}");
            let s = format!("a{c}");
            assert_eq!(is_valid(&s), allowed, "{s:?}");
            if !allowed {
                assert_eq!(
                    kind(&s),
                    Some(ScopeErrorKind::ForbiddenChar { ch: c, position: 1 })
                );
            }
        }
    }

    #[test]
    fn the_edges_of_the_ranges() {
        assert!(!is_scope_char(' ')); // 0x20
        assert!(is_scope_char('!')); // 0x21
        assert!(!is_scope_char('"')); // 0x22
        assert!(is_scope_char('#')); // 0x23
        assert!(is_scope_char('[')); // 0x5B
        assert!(!is_scope_char('\\')); // 0x5C
        assert!(is_scope_char(']')); // 0x5D
        assert!(is_scope_char('~')); // 0x7E
        assert!(!is_scope_char('\u{7f}'));
    }

    #[test]
    fn non_ascii_is_refused() {
        assert_eq!(
            kind("fichiers:lecture-é"),
            Some(ScopeErrorKind::ForbiddenChar {
                ch: 'é',
                position: 17
            })
        );
        assert!(!is_valid("日本"));
        assert!(!is_valid("a\u{a0}b"));
        assert!(!is_valid("\u{ff01}"));
    }

    #[test]
    fn a_space_separated_list_is_not_one_token() {
        assert_eq!(
            kind("files:read files:write"),
            Some(ScopeErrorKind::ForbiddenChar {
                ch: ' ',
                position: 10
            })
        );
        assert!(!is_valid(" read"));
        assert!(!is_valid("read "));
    }

    #[test]
    fn messages_say_what_where_and_how_to_fix() {
        let msg = |s: &str| validate(s).unwrap_err().to_string();
        assert_eq!(
            msg(""),
            "invalid scope: it is empty; use printable ASCII without spaces, `\"` or `\\`"
        );
        assert_eq!(
            msg("a\"b"),
            "invalid scope `a\"b`: `\"` (character 2) is not allowed; use printable ASCII without spaces, `\"` or `\\`"
        );
        assert!(msg("a b").ends_with(", and give several scopes as several strings"));
    }
}
