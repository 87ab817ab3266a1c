//! `JwtValidator` on arbitrary tokens, against a fixed JWKS (an Ed25519 key, a public-only
//! P-256 key, an encryption key): header parsing, the algorithm allow-list and key families,
//! `kid` lookup, the signature check, then the claims (`iss`, `aud`, `exp`/`nbf`/`iat`, `typ`,
//! scopes) of tokens that are really signed.
//!
//! Input: `R:` and a raw token, or else a structured one (header and claims drawn as JSON, optionally fixed up
//! to valid values, signed with the fixed key, the signature kept or tampered with).
//!
//! Invariants: an accepted token is one this harness could vouch for (its own decoding finds
//! the allowed `alg`, the issuer, the audience, a live `exp`, no future `nbf`); a tampered
//! signature is never accepted.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use mcp_fuzz::auth::{TOKEN_VOCAB, validator};
use mcp_fuzz::json::Json;
use mcp_fuzz::keys::{self, ED25519_KID, ISSUER, RESOURCE, Signer};
use mcp_server::auth::{Algorithm, JwtValidator, JwtValidatorConfig, TokenValidator};
use serde_json::{Map, Value, json};

/// Leeway of the validators (their default).
const LEEWAY: u64 = 60;

#[derive(Arbitrary, Debug)]
enum Signature {
    Real,
    Empty,
    Bytes(Vec<u8>),
    FlipBit(u16),
}

/// A structured token.
#[derive(Arbitrary, Debug)]
struct Built {
    header: Json,
    claims: Json,
    /// Which members to set to valid values (bit per member).
    fixes: u16,
    /// `exp`/`nbf`/`iat` offsets from now when fixed.
    offsets: (i32, i32, i32),
    signature: Signature,
}

fn validators() -> &'static [(&'static str, JwtValidator, Vec<Algorithm>)] {
    static V: OnceLock<Vec<(&'static str, JwtValidator, Vec<Algorithm>)>> = OnceLock::new();
    V.get_or_init(|| {
        let default = JwtValidatorConfig::new(ISSUER, "");
        let algs = default.algorithms.clone();
        let strict = JwtValidatorConfig::new(ISSUER, RESOURCE)
            .algorithms([Algorithm::EdDSA])
            .require_at_jwt();
        vec![
            ("default", validator(default), algs),
            ("at+jwt", validator(strict), vec![Algorithm::EdDSA]),
        ]
    })
}

fn offset(now: u64, by: i32) -> u64 {
    now.saturating_add_signed(i64::from(by))
}

/// A structured token, and whether its signature is the real one.
fn build(
    header: &Json,
    claims: &Json,
    fixes: u16,
    offsets: (i32, i32, i32),
    signature: &Signature,
) -> (String, bool) {
    let mut h = header.to_object(&TOKEN_VOCAB);
    let mut c = claims.to_object(&TOKEN_VOCAB);
    let now = keys::now();
    let bit = |i: u16| fixes & (1 << i) != 0;
    let set = |m: &mut Map<String, Value>, k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    if bit(0) {
        set(&mut h, "alg", json!("EdDSA"));
    }
    if bit(1) {
        set(&mut h, "kid", json!(ED25519_KID));
    }
    if bit(2) {
        set(&mut h, "typ", json!("at+jwt"));
    }
    if bit(3) {
        set(&mut c, "iss", json!(ISSUER));
    }
    if bit(4) {
        set(&mut c, "aud", json!(RESOURCE));
    }
    if bit(5) {
        set(&mut c, "aud", json!(["other", RESOURCE]));
    }
    if bit(6) {
        set(&mut c, "exp", json!(offset(now, offsets.0)));
    }
    if bit(7) {
        set(&mut c, "nbf", json!(offset(now, offsets.1)));
    }
    if bit(8) {
        set(&mut c, "iat", json!(offset(now, offsets.2)));
    }
    if bit(9) {
        set(&mut c, "exp", json!(now + 3600));
    }
    let input = keys::signing_input(
        Value::Object(h).to_string().as_bytes(),
        Value::Object(c).to_string().as_bytes(),
    );
    let mut sig = Signer::Ed25519.sign(input.as_bytes());
    let real = match signature {
        Signature::Real => true,
        Signature::Empty => {
            sig.clear();
            false
        }
        Signature::Bytes(b) => {
            let same = *b == sig;
            sig = b.clone();
            same
        }
        Signature::FlipBit(i) => {
            let i = usize::from(*i) % (sig.len() * 8);
            sig[i / 8] ^= 1 << (i % 8);
            false
        }
    };
    (format!("{input}.{}", keys::b64(sig)), real)
}

fn segment(token: &str, i: usize) -> Option<Value> {
    let part = token.split('.').nth(i)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// What any accepted token must satisfy, read independently of the validator.
fn check_accepted(token: &str, algs: &[Algorithm], strict: bool) {
    let header = segment(token, 0).expect("an accepted token has a JSON header");
    let claims = segment(token, 1).expect("an accepted token has JSON claims");
    let alg = header["alg"].as_str().unwrap_or("");
    assert!(
        algs.iter().any(|a| a.name() == alg),
        "accepted alg {alg:?}: {token}"
    );
    assert_eq!(claims["iss"], json!(ISSUER), "accepted issuer: {token}");
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == RESOURCE,
        Value::Array(a) => a.iter().any(|x| x == RESOURCE),
        _ => false,
    };
    assert!(aud_ok, "accepted audience: {token}");
    let now = keys::now();
    let exp = claims["exp"].as_f64().expect("accepted without exp");
    assert!(
        exp + LEEWAY as f64 >= now as f64 - 1.0,
        "accepted expired: {token}"
    );
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_f64) {
        assert!(
            nbf <= (now + LEEWAY + 1) as f64,
            "accepted before nbf: {token}"
        );
    }
    if strict {
        let typ = header["typ"].as_str().unwrap_or("").to_ascii_lowercase();
        assert!(
            typ == "at+jwt" || typ == "application/at+jwt",
            "typ: {token}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (token, real) = match data.strip_prefix(b"R:") {
        Some(raw) => (String::from_utf8_lossy(raw).into_owned(), true),
        None => {
            let Ok(b) = Built::arbitrary_take_rest(Unstructured::new(data)) else {
                return;
            };
            build(&b.header, &b.claims, b.fixes, b.offsets, &b.signature)
        }
    };
    mcp_fuzz::runtime::block_on(async {
        for (name, v, algs) in validators() {
            let result = v.validate(&token, RESOURCE).await;
            if mcp_fuzz::debug() {
                eprintln!("{name}: {:?}", result.as_ref().map(|c| &c.subject));
            }
            if let Ok(ctx) = &result {
                assert!(real, "{name}: a tampered signature was accepted: {token}");
                check_accepted(&token, algs, *name == "at+jwt");
                assert_eq!(ctx.issuer.as_deref(), Some(ISSUER));
                let _ = mcp_server::fuzzing::key_binding(&ctx.claims);
            }
        }
    });
});
