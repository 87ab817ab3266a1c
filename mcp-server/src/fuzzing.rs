//! Entry points for the fuzz targets (`fuzz/` at the repository root), compiled only with
//! `--cfg fuzzing` (which `cargo fuzz` sets): thin wrappers around crate-private parsers and
//! checks, so that the targets exercise the real code. Not a public API.

#[cfg(feature = "http")]
use serde_json::Map;
#[cfg(feature = "oauth")]
use serde_json::Value;

#[cfg(feature = "builtin-auth")]
use crate::auth::{AuthConfigError, Authenticator, AuthorizationConfig};
#[cfg(feature = "oauth")]
use crate::auth::{DpopConfig, JwtValidator, JwtValidatorConfig};

/// Decodes an `Mcp-Name` / `Mcp-Param-*` header value (plain, or `=?base64?…?=`).
#[cfg(feature = "http")]
pub fn decode_header_value(raw: &str) -> Option<String> {
    crate::transport::http::decode_header_value(raw)
}

/// The DPoP key thumbprint a token's claims bind it to (`cnf.jkt`); `Err` with the reason for a
/// binding the server cannot honour.
#[cfg(feature = "http")]
pub fn key_binding(claims: &Map<String, serde_json::Value>) -> Result<Option<String>, String> {
    crate::auth::dpop::key_binding(claims)
        .map(|jkt| jkt.map(str::to_owned))
        .map_err(|e| e.to_string())
}

/// The normalised form of a DPoP `htu` (`None`: not an acceptable `htu`).
#[cfg(feature = "oauth")]
pub fn normalize_htu(uri: &str) -> Option<String> {
    crate::auth::dpop::normalize_htu(uri)
}

/// The RFC 7638 thumbprint of a public JWK.
#[cfg(feature = "oauth")]
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    crate::auth::dpop::jwk_thumbprint(jwk)
}

/// What a DPoP proof check decided.
#[cfg(feature = "oauth")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofOutcome {
    /// Accepted: the proof key's thumbprint and the replay-cache entry it would take.
    Valid {
        /// The RFC 7638 thumbprint of the proof key.
        jkt: String,
        /// Until when the proof would be remembered (seconds since the epoch).
        replay_until: u64,
    },
    /// Refused as `invalid_dpop_proof`, with the reason.
    Invalid(&'static str),
    /// Refused as `use_dpop_nonce`.
    UseNonce,
}

/// Checks a DPoP proof for a request with `method` to `htu` carrying `token`, as the
/// authenticator does before the replay cache.
#[cfg(feature = "oauth")]
pub fn verify_dpop_proof(
    config: &DpopConfig,
    proof: &str,
    method: &str,
    htu: &str,
    token: &str,
) -> ProofOutcome {
    use crate::auth::dpop::{ProofError, verify_proof};
    match verify_proof(config, proof, method, htu, token) {
        Ok(p) => ProofOutcome::Valid {
            jkt: p.jkt,
            replay_until: p.replay_until,
        },
        Err(ProofError::Invalid(why)) => ProofOutcome::Invalid(why),
        Err(ProofError::UseNonce) => ProofOutcome::UseNonce,
    }
}

/// A JWT validator whose keys are the JWKS `jwks`, never fetched nor refreshed; `None` when
/// `jwks` holds no usable key set.
#[cfg(feature = "oauth")]
pub fn jwt_validator_with_keys(config: JwtValidatorConfig, jwks: &Value) -> Option<JwtValidator> {
    JwtValidator::with_keys(config, jwks)
}

/// An authenticator for `config` (checked as `build()` checks it) whose Basic mode compares
/// passwords with `check` instead of Argon2id.
#[cfg(feature = "builtin-auth")]
pub fn authenticator_with_password_check(
    config: AuthorizationConfig,
    check: fn(&str, &str) -> bool,
) -> Result<Authenticator, AuthConfigError> {
    Authenticator::new(config).map(|a| a.with_password_check(check))
}

/// The longest URI the resource-template matcher reads.
pub const MAX_MATCHED_URI_BYTES: usize = crate::registry::uri_template::MAX_MATCHED_URI_BYTES;

/// The server's matching of `uri` against the resource template `template`: `Err` when the
/// template does not parse, `Ok(None)` when the URI does not match, else the variables.
pub fn match_uri_template(
    template: &str,
    uri: &str,
) -> Result<
    Option<std::collections::BTreeMap<String, String>>,
    mcp_core::uri_template::UriTemplateError,
> {
    let parsed = crate::registry::uri_template::UriTemplate::parse(template)?;
    Ok(parsed.matches(uri))
}
