//! What a token's `cnf` (RFC 7800) binds it to, as far as this server can check it (finding
//! 14a). The only confirmation method checked here is the DPoP one, `cnf.jkt` (RFC 9449 §6,
//! DP-14). A token bound any other way (`x5t#S256` of mTLS, RFC 8705; `jwk`, `jwe`, `jku`,
//! `kid` of RFC 7800) or whose `cnf` is malformed must not pass as a plain Bearer token: its
//! issuer meant it to be usable only with a proof this server cannot ask for, so accepting it
//! unbound would turn a sender-constrained token back into a bearer one.
//!
//! Any member of `cnf` other than `jkt` makes the binding unsupported, even beside a `jkt`: a
//! token confirmed by two methods needs both proved, and this server can prove one. Refusing is
//! the safe reading, and no authorization server known to us issues such tokens.

use serde_json::{Map, Value};

/// Why a token's key binding cannot be honoured: the token is refused (401 `invalid_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum UnsupportedBinding {
    /// `cnf` is not a JSON object (`null`, a string, an array...).
    #[error("the token's cnf claim is not an object")]
    NotAnObject,
    /// `cnf` names no confirmation method at all (`{}`).
    #[error("the token's cnf claim is empty")]
    Empty,
    /// `cnf.jkt` is not a non-empty string.
    #[error("the token's cnf.jkt is not a key thumbprint")]
    MalformedJkt,
    /// `cnf` names a confirmation method other than `jkt` (alone or beside it).
    #[error("the token is bound by a confirmation method this server does not support")]
    OtherMethod,
}

/// The DPoP key thumbprint a token is bound to: `Ok(None)` without `cnf` (a plain Bearer
/// token), `Ok(Some(jkt))` for exactly `cnf: {"jkt": "<non-empty string>"}`, and `Err` for any
/// other `cnf` (see [`UnsupportedBinding`]).
pub(crate) fn key_binding(claims: &Map<String, Value>) -> Result<Option<&str>, UnsupportedBinding> {
    let Some(cnf) = claims.get("cnf") else {
        return Ok(None);
    };
    let cnf = cnf.as_object().ok_or(UnsupportedBinding::NotAnObject)?;
    if cnf.keys().any(|k| k != "jkt") {
        return Err(UnsupportedBinding::OtherMethod);
    }
    match cnf.get("jkt") {
        None => Err(UnsupportedBinding::Empty),
        Some(Value::String(jkt)) if !jkt.is_empty() => Ok(Some(jkt.as_str())),
        Some(_) => Err(UnsupportedBinding::MalformedJkt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    /// Finding 14a (DP-14, DP-15): every shape of `cnf`, and what it binds the token to.
    #[test]
    fn dp14_only_a_lone_string_jkt_is_a_supported_binding() {
        use UnsupportedBinding::*;
        let jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
        type Case<'a> = (&'a str, Value, Result<Option<&'a str>, UnsupportedBinding>);
        let cases: Vec<Case<'_>> = vec![
            ("no cnf", json!({"sub": "u"}), Ok(None)),
            ("jkt", json!({"cnf": {"jkt": jkt}}), Ok(Some(jkt))),
            ("cnf null", json!({"cnf": null}), Err(NotAnObject)),
            ("cnf string", json!({"cnf": jkt}), Err(NotAnObject)),
            (
                "cnf array",
                json!({"cnf": [{"jkt": jkt}]}),
                Err(NotAnObject),
            ),
            ("cnf number", json!({"cnf": 1}), Err(NotAnObject)),
            ("cnf true", json!({"cnf": true}), Err(NotAnObject)),
            ("cnf empty", json!({"cnf": {}}), Err(Empty)),
            ("jkt empty", json!({"cnf": {"jkt": ""}}), Err(MalformedJkt)),
            ("jkt null", json!({"cnf": {"jkt": null}}), Err(MalformedJkt)),
            ("jkt number", json!({"cnf": {"jkt": 42}}), Err(MalformedJkt)),
            (
                "jkt array",
                json!({"cnf": {"jkt": [jkt]}}),
                Err(MalformedJkt),
            ),
            (
                "jkt object",
                json!({"cnf": {"jkt": {"v": jkt}}}),
                Err(MalformedJkt),
            ),
            (
                "mTLS",
                json!({"cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}),
                Err(OtherMethod),
            ),
            (
                "jwk",
                json!({"cnf": {"jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}}}),
                Err(OtherMethod),
            ),
            (
                "jku",
                json!({"cnf": {"jku": "https://client.example/jwks", "kid": "k"}}),
                Err(OtherMethod),
            ),
            ("kid", json!({"cnf": {"kid": "k1"}}), Err(OtherMethod)),
            (
                "jwe",
                json!({"cnf": {"jwe": "a.b.c.d.e"}}),
                Err(OtherMethod),
            ),
            (
                "jkt and mTLS",
                json!({"cnf": {"jkt": jkt, "x5t#S256": "x"}}),
                Err(OtherMethod),
            ),
            (
                "jkt and unknown",
                json!({"cnf": {"jkt": jkt, "future": 1}}),
                Err(OtherMethod),
            ),
            (
                "bad jkt and mTLS",
                json!({"cnf": {"jkt": 1, "x5t#S256": "x"}}),
                Err(OtherMethod),
            ),
        ];
        for (what, c, expected) in cases {
            assert_eq!(key_binding(&claims(c)), expected, "{what}");
        }
    }

    #[test]
    fn refusals_never_echo_the_claim() {
        let c = claims(json!({"cnf": {"x5t#S256": "SECRET-THUMB"}}));
        let e = key_binding(&c).unwrap_err();
        assert!(!e.to_string().contains("SECRET"));
        assert!(!format!("{e:?}").contains("SECRET"));
    }
}
