//! URI templates (RFC 6570), in the subset MCP servers here support for resource templates.
//!
//! A template is literal text and expressions in braces. Two expressions are supported:
//!
//! | Expression | [`Operator`] | A value may hold |
//! |---|---|---|
//! | `{name}` | [`Operator::Simple`] | one path segment (no `/`, `?`, `#`) |
//! | `{+name}` | [`Operator::Reserved`] | reserved characters too, so several segments |
//!
//! Variable names follow RFC 6570 (`varname = varchar *( ["."] varchar )`), without
//! percent-encoded characters: letters, digits and `_`, with single dots between them
//! (`id`, `user_id`, `page.size`). Rules beyond the RFC, so that a URI matches a template in
//! one way only and a variable binds to one value:
//!
//! - each expression holds one variable, without modifiers (no `{a,b}`, `{a:3}`, `{a*}`);
//! - two expressions are separated by a literal (`{a}/{b}`, never `{a}{b}`);
//! - a variable appears once.
//!
//! The other RFC 6570 operators (`#`, `.`, `/`, `;`, `?`, `&`) and the reserved ones (`=`, `,`,
//! `!`, `@`, `|`) are refused with an error naming them. Literal text is taken as is (braces
//! aside); it is compared with URIs character for character.
//!
//! This module parses and validates; matching URIs against a template is the server's job.
//!
//! ```
//! use mcp_core::uri_template::{Operator, Part, UriTemplate};
//!
//! let t = UriTemplate::parse("file:///{+path}?v={version}").unwrap();
//! assert_eq!(t.variables().collect::<Vec<_>>(), ["path", "version"]);
//! assert!(matches!(&t.parts()[1], Part::Expression(e) if e.operator == Operator::Reserved));
//!
//! let e = UriTemplate::parse("db://{table}{id}").unwrap_err();
//! assert_eq!(
//!     e.reason(),
//!     "`{id}` (character 13) directly follows another expression: put a literal between \
//!      them, such as `/`, so that matching can tell where one value ends"
//! );
//! ```

use std::fmt;
use std::str::FromStr;

/// A parsed, valid URI template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

/// A piece of a template: literal text or an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Part {
    /// Text matched as is; never empty.
    Literal(String),
    /// An expression, `{name}` or `{+name}`.
    Expression(Expression),
}

/// An expression: an operator and one variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expression {
    /// How the variable is expanded.
    pub operator: Operator,
    /// The variable's name.
    pub variable: String,
}

/// The operator of an expression (RFC 6570 §3.2); only these two are supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `{name}`: simple string expansion; the value is one segment.
    Simple,
    /// `{+name}`: reserved expansion; the value may hold reserved characters such as `/`.
    Reserved,
}

impl Operator {
    /// The operator's character in a template: `""` or `"+"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Simple => "",
            Operator::Reserved => "+",
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}{}}}", self.operator.as_str(), self.variable)
    }
}

impl UriTemplate {
    /// Parses and validates `template` (see the [module docs](self) for the grammar).
    pub fn parse(template: &str) -> Result<Self, UriTemplateError> {
        let err = |position, kind| UriTemplateError {
            template: template.to_owned(),
            position,
            kind,
        };
        let mut parts: Vec<Part> = Vec::new();
        let mut literal = String::new();
        let mut chars = template.chars().enumerate();
        while let Some((open, c)) = chars.next() {
            match c {
                '}' => return Err(err(open, UriTemplateErrorKind::UnmatchedClose)),
                '{' => {}
                c => {
                    literal.push(c);
                    continue;
                }
            }
            // An expression: read up to its `}`.
            let mut body = String::new();
            loop {
                match chars.next() {
                    None => return Err(err(open, UriTemplateErrorKind::Unclosed)),
                    Some((_, '{')) => return Err(err(open, UriTemplateErrorKind::Unclosed)),
                    Some((_, '}')) => break,
                    Some((_, c)) => body.push(c),
                }
            }
            let expr = parse_expression(&body).map_err(|(offset, kind)| {
                // Positions inside the expression count from its `{`.
                err(open + 1 + offset, kind)
            })?;
            if literal.is_empty() {
                if let Some(Part::Expression(prev)) = parts.last() {
                    return Err(err(
                        open,
                        UriTemplateErrorKind::AdjacentExpressions {
                            previous: prev.to_string(),
                            expression: expr.to_string(),
                        },
                    ));
                }
            } else {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            let duplicate = parts
                .iter()
                .any(|p| matches!(p, Part::Expression(e) if e.variable == expr.variable));
            if duplicate {
                return Err(err(
                    open,
                    UriTemplateErrorKind::DuplicateVariable {
                        name: expr.variable,
                    },
                ));
            }
            parts.push(Part::Expression(expr));
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(UriTemplate {
            source: template.to_owned(),
            parts,
        })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The literals and expressions, in order; two expressions never follow each other.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The expressions, in order.
    pub fn expressions(&self) -> impl Iterator<Item = &Expression> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expression(e) => Some(e),
            Part::Literal(_) => None,
        })
    }

    /// The variable names, in order, each once.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.expressions().map(|e| e.variable.as_str())
    }

    /// Whether the template has an expression (else it is one fixed URI).
    pub fn has_expressions(&self) -> bool {
        self.expressions().next().is_some()
    }
}

impl FromStr for UriTemplate {
    type Err = UriTemplateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UriTemplate::parse(s)
    }
}

impl fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Parses what is between `{` and `}`; errors carry a position within `body`.
fn parse_expression(body: &str) -> Result<Expression, (usize, UriTemplateErrorKind)> {
    let operator = match body.chars().next() {
        None => return Err((0, UriTemplateErrorKind::EmptyExpression)),
        Some('+') => Operator::Reserved,
        Some(c @ ('#' | '.' | '/' | ';' | '?' | '&')) => {
            return Err((0, UriTemplateErrorKind::UnsupportedOperator(c)));
        }
        Some(c @ ('=' | ',' | '!' | '@' | '|')) => {
            return Err((0, UriTemplateErrorKind::ReservedOperator(c)));
        }
        Some(_) => Operator::Simple,
    };
    let start = usize::from(operator == Operator::Reserved);
    let name: String = body.chars().skip(start).collect();
    if name.is_empty() {
        return Err((start, UriTemplateErrorKind::EmptyExpression));
    }
    let len = name.chars().count();
    let mut prev = None;
    for (i, c) in name.chars().enumerate() {
        let position = start + i;
        let kind = match c {
            c if c.is_ascii_alphanumeric() || c == '_' => None,
            '.' if prev.is_some_and(|p| p != '.') && i + 1 < len => {
                // A dot between two characters; a second dot is caught at the next one.
                None
            }
            '.' => Some(UriTemplateErrorKind::MisplacedDot),
            ',' => Some(UriTemplateErrorKind::VariableList),
            ':' | '*' => Some(UriTemplateErrorKind::Modifier(c)),
            c => Some(UriTemplateErrorKind::InvalidVariableChar(c)),
        };
        if let Some(kind) = kind {
            return Err((position, kind));
        }
        prev = Some(c);
    }
    Ok(Expression {
        operator,
        variable: name,
    })
}

/// A template that does not parse, or uses what is not supported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI template {template:?}: {}", self.reason())]
pub struct UriTemplateError {
    /// The template.
    pub template: String,
    /// Where the problem is: the position of the offending character among the template's
    /// characters, from 0 (for an expression-wide problem, its `{`).
    pub position: usize,
    /// What is wrong.
    pub kind: UriTemplateErrorKind,
}

impl UriTemplateError {
    /// What is wrong, where, and how to fix it, without the template itself (for messages that
    /// already show it).
    pub fn reason(&self) -> String {
        let at = self.position + 1;
        let name_rule = "use letters, digits and `_`, with single dots between them";
        match &self.kind {
            UriTemplateErrorKind::Unclosed => {
                format!("the `{{` at character {at} is not closed: end the expression with `}}`")
            }
            UriTemplateErrorKind::UnmatchedClose => format!(
                "the `}}` at character {at} closes no expression: remove it or add the `{{` it closes"
            ),
            UriTemplateErrorKind::EmptyExpression => format!(
                "the expression at character {at} names no variable: write `{{name}}` or `{{+name}}`"
            ),
            UriTemplateErrorKind::UnsupportedOperator(op) => format!(
                "the RFC 6570 operator `{op}` (character {at}) is not supported: use `{{name}}` or `{{+name}}`{}",
                match op {
                    '?' | '&' => ", with the query written out as a literal, such as `?q={q}`",
                    _ => "",
                }
            ),
            UriTemplateErrorKind::ReservedOperator(op) => format!(
                "`{op}` (character {at}) is reserved by RFC 6570 for future operators: use `{{name}}` or `{{+name}}`"
            ),
            UriTemplateErrorKind::VariableList => format!(
                "an expression holds one variable, and a `,` (character {at}) starts a list: write `{{a}},{{b}}` instead of `{{a,b}}`"
            ),
            UriTemplateErrorKind::Modifier(m) => format!(
                "the modifier `{m}` (character {at}) is not supported: write the bare variable, such as `{{name}}`"
            ),
            UriTemplateErrorKind::InvalidVariableChar(c) => format!(
                "{} (character {at}) is not allowed in a variable name: {name_rule}",
                crate::rules::describe_char(*c)
            ),
            UriTemplateErrorKind::MisplacedDot => {
                format!("the `.` at character {at} is not between two name characters: {name_rule}")
            }
            UriTemplateErrorKind::AdjacentExpressions {
                previous: _,
                expression,
            } => format!(
                "`{expression}` (character {at}) directly follows another expression: put a literal between them, such as `/`, so that matching can tell where one value ends"
            ),
            UriTemplateErrorKind::DuplicateVariable { name } => format!(
                "the variable `{name}` appears a second time at character {at}: a variable binds to one value, so rename one of them"
            ),
        }
    }
}

/// What is wrong with a URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriTemplateErrorKind {
    /// A `{` without its `}` (or with another `{` first).
    Unclosed,
    /// A `}` outside any expression.
    UnmatchedClose,
    /// `{}` or `{+}`: no variable.
    EmptyExpression,
    /// An RFC 6570 operator other than `+`: `#`, `.`, `/`, `;`, `?` or `&`.
    UnsupportedOperator(char),
    /// An operator RFC 6570 reserves for future use: `=`, `,`, `!`, `@` or `|`.
    ReservedOperator(char),
    /// Several variables in one expression (`{a,b}`).
    VariableList,
    /// A prefix (`:`) or explode (`*`) modifier.
    Modifier(char),
    /// A character not allowed in a variable name.
    InvalidVariableChar(char),
    /// A `.` at the end of a variable name or next to another `.`.
    MisplacedDot,
    /// Two expressions with no literal between them (`{a}{b}`).
    AdjacentExpressions {
        /// The first expression, as written.
        previous: String,
        /// The second one.
        expression: String,
    },
    /// A variable that appears twice.
    DuplicateVariable {
        /// Its name.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(t: &str) -> Vec<Part> {
        UriTemplate::parse(t).unwrap().parts().to_vec()
    }

    fn lit(s: &str) -> Part {
        Part::Literal(s.to_owned())
    }

    fn simple(v: &str) -> Part {
        Part::Expression(Expression {
            operator: Operator::Simple,
            variable: v.to_owned(),
        })
    }

    fn reserved(v: &str) -> Part {
        Part::Expression(Expression {
            operator: Operator::Reserved,
            variable: v.to_owned(),
        })
    }

    /// The kind and position of the error for `t`.
    fn error(t: &str) -> (UriTemplateErrorKind, usize) {
        let e = UriTemplate::parse(t).unwrap_err();
        assert_eq!(e.template, t);
        (e.kind, e.position)
    }

    #[test]
    fn fixed_uris_are_one_literal() {
        assert_eq!(parts("config://app"), [lit("config://app")]);
        let t = UriTemplate::parse("config://app").unwrap();
        assert!(!t.has_expressions());
        assert_eq!(t.variables().count(), 0);
        assert_eq!(parts(""), []);
    }

    #[test]
    fn simple_and_reserved_expressions() {
        assert_eq!(
            parts("db://{table}/{id}"),
            [lit("db://"), simple("table"), lit("/"), simple("id")]
        );
        assert_eq!(
            parts("file:///{+path}"),
            [lit("file:///"), reserved("path")]
        );
        assert_eq!(parts("{a}"), [simple("a")]);
        assert_eq!(parts("{+a}.txt"), [reserved("a"), lit(".txt")]);
        let t = UriTemplate::parse("x://{+a}-{b}").unwrap();
        assert!(t.has_expressions());
        assert_eq!(t.variables().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(t.as_str(), "x://{+a}-{b}");
        assert_eq!(t.to_string(), "x://{+a}-{b}");
        assert_eq!("x://{+a}-{b}".parse::<UriTemplate>(), Ok(t.clone()));
        assert_eq!(
            t.expressions().map(ToString::to_string).collect::<Vec<_>>(),
            ["{+a}", "{b}"]
        );
    }

    #[test]
    fn variable_names() {
        for name in ["a", "A9", "_", "user_id", "page.size", "a.b.c", "9"] {
            assert_eq!(
                parts(&format!("x://{{{name}}}")),
                [lit("x://"), simple(name)]
            );
        }
        assert_eq!(
            error("x://{a-b}"),
            (UriTemplateErrorKind::InvalidVariableChar('-'), 6)
        );
        assert_eq!(
            error("x://{a b}"),
            (UriTemplateErrorKind::InvalidVariableChar(' '), 6)
        );
        assert_eq!(
            error("x://{a%20}"),
            (UriTemplateErrorKind::InvalidVariableChar('%'), 6)
        );
        assert_eq!(
            error("x://{+a+b}"),
            (UriTemplateErrorKind::InvalidVariableChar('+'), 7)
        );
        assert_eq!(
            error("x://{é}"),
            (UriTemplateErrorKind::InvalidVariableChar('é'), 5)
        );
        assert_eq!(
            error("x://{日本}"),
            (UriTemplateErrorKind::InvalidVariableChar('日'), 5)
        );
        assert_eq!(error("x://{a.}"), (UriTemplateErrorKind::MisplacedDot, 6));
        assert_eq!(error("x://{a..b}"), (UriTemplateErrorKind::MisplacedDot, 7));
        assert_eq!(error("x://{+.a}"), (UriTemplateErrorKind::MisplacedDot, 6));
    }

    #[test]
    fn every_other_operator_is_refused_by_name() {
        for op in ['#', '.', '/', ';', '?', '&'] {
            assert_eq!(
                error(&format!("x://a{{{op}v}}")),
                (UriTemplateErrorKind::UnsupportedOperator(op), 6),
                "{op}"
            );
        }
        for op in ['=', ',', '!', '@', '|'] {
            assert_eq!(
                error(&format!("x://a{{{op}v}}")),
                (UriTemplateErrorKind::ReservedOperator(op), 6),
                "{op}"
            );
        }
    }

    #[test]
    fn lists_and_modifiers_are_refused() {
        assert_eq!(error("x://{a,b}"), (UriTemplateErrorKind::VariableList, 6));
        assert_eq!(error("x://{+a,b}"), (UriTemplateErrorKind::VariableList, 7));
        assert_eq!(error("x://{a:3}"), (UriTemplateErrorKind::Modifier(':'), 6));
        assert_eq!(error("x://{a*}"), (UriTemplateErrorKind::Modifier('*'), 6));
    }

    #[test]
    fn empty_expressions() {
        assert_eq!(error("x://{}"), (UriTemplateErrorKind::EmptyExpression, 5));
        assert_eq!(error("x://{+}"), (UriTemplateErrorKind::EmptyExpression, 6));
    }

    #[test]
    fn unbalanced_braces() {
        assert_eq!(error("x://{a"), (UriTemplateErrorKind::Unclosed, 4));
        assert_eq!(error("{"), (UriTemplateErrorKind::Unclosed, 0));
        assert_eq!(error("x://{a{b}"), (UriTemplateErrorKind::Unclosed, 4));
        assert_eq!(error("x://{a}/{b"), (UriTemplateErrorKind::Unclosed, 8));
        assert_eq!(error("x://a}"), (UriTemplateErrorKind::UnmatchedClose, 5));
        assert_eq!(error("}"), (UriTemplateErrorKind::UnmatchedClose, 0));
        // A stray `}` before an expression, not only after the last one.
        assert_eq!(
            error("x://a}/{b}"),
            (UriTemplateErrorKind::UnmatchedClose, 5)
        );
        assert_eq!(error("x://{a}}"), (UriTemplateErrorKind::UnmatchedClose, 7));
        // Positions count characters, not bytes.
        assert_eq!(error("é://{a"), (UriTemplateErrorKind::Unclosed, 4));
    }

    #[test]
    fn expressions_need_a_literal_between_them() {
        assert_eq!(
            error("x://{a}{+b}"),
            (
                UriTemplateErrorKind::AdjacentExpressions {
                    previous: "{a}".to_owned(),
                    expression: "{+b}".to_owned()
                },
                7
            )
        );
        assert!(UriTemplate::parse("x://{a}-{b}").is_ok());
    }

    #[test]
    fn a_variable_appears_once() {
        assert_eq!(
            error("x://{a}/{a}"),
            (
                UriTemplateErrorKind::DuplicateVariable {
                    name: "a".to_owned()
                },
                8
            )
        );
        // Whatever the operators.
        assert_eq!(
            error("x://{a}/{+a}").0,
            UriTemplateErrorKind::DuplicateVariable {
                name: "a".to_owned()
            }
        );
        // Names are case-sensitive.
        assert!(UriTemplate::parse("x://{a}/{A}").is_ok());
    }

    #[test]
    fn literals_are_kept_as_written() {
        assert_eq!(
            parts("x://ü?q=%20&r={r}#f"),
            [lit("x://ü?q=%20&r="), simple("r"), lit("#f")]
        );
    }

    #[test]
    fn messages_say_what_where_and_how_to_fix() {
        let reason = |t: &str| UriTemplate::parse(t).unwrap_err().reason();
        assert_eq!(
            reason("file:///{path"),
            "the `{` at character 9 is not closed: end the expression with `}`"
        );
        assert_eq!(
            UriTemplate::parse("x://a}").unwrap_err().to_string(),
            "invalid URI template \"x://a}\": the `}` at character 6 closes no expression: remove it or add the `{` it closes"
        );
        assert!(reason("x://{?q}").contains("operator `?` (character 6) is not supported"));
        assert!(reason("x://{?q}").contains("`?q={q}`"));
        assert!(reason("x://{a}/{a}").contains("`a` appears a second time at character 9"));
        assert!(
            reason("x://{a-b}").contains("`-` (character 7) is not allowed in a variable name")
        );
        assert!(reason("x://{a,b}").contains("`{a},{b}`"));
    }
}
