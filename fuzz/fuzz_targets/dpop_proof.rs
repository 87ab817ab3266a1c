//! DPoP proof checks (RFC 9449 §4.3) on arbitrary proofs: the compact-JWS split, header
//! (`typ`, `alg` allow-list, public `jwk` only), the RFC 7638 thumbprint, key parsing for the
//! algorithm, the signature, then `htm`, `htu` normalisation, `iat` window, `jti`, `ath` and
//! nonces, under three settings (default window; nonces required; a window wide enough for the
//! seeds' fixed `iat`).
//!
//! Input: `R:` and lines `METHOD`, access token, raw proof; or else a structured proof (header and
//! claims drawn as JSON, optionally fixed up to valid values, signed by a real key, the
//! signature kept or tampered with).
//!
//! Invariants: an accepted proof passes this harness's own reading of every rule; a tampered
//! signature is never accepted; the thumbprint ignores members other than the required ones.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use mcp_fuzz::auth::{NONCE_KEY, nonces};
use mcp_fuzz::json::Json;
use mcp_fuzz::keys::{self, RESOURCE, Signer};
use mcp_server::auth::DpopConfig;
use mcp_server::fuzzing::{ProofOutcome, jwk_thumbprint, normalize_htu, verify_dpop_proof};
use serde_json::{Map, Value, json};

const VOCAB: [&str; 26] = [
    "typ", "alg", "jwk", "kty", "crv", "x", "y", "n", "e", "d", "htm", "htu", "iat", "jti", "ath",
    "nonce", "dpop+jwt", "EdDSA", "ES256", "ES384", "RS256", "PS256", "EC", "OKP", "P-256",
    "Ed25519",
];

/// Spellings of the endpoint's URI, some equal to it once normalised.
const HTUS: [&str; 6] = [
    RESOURCE,
    "HTTPS://MCP.FUZZ.EXAMPLE:443/mcp",
    "https://mcp.fuzz.example/mcp?x=1",
    "https://mcp.fuzz.example/%6dcp",
    "https://mcp.fuzz.example:8443/mcp",
    "http://mcp.fuzz.example/mcp",
];

const METHODS: [&str; 4] = ["POST", "GET", "DELETE", "post"];

#[derive(Arbitrary, Debug)]
enum Signature {
    Real,
    Empty,
    Bytes(Vec<u8>),
    FlipBit(u16),
}

/// A structured proof.
#[derive(Arbitrary, Debug)]
struct Built {
    header: Json,
    claims: Json,
    p256: bool,
    fixes: u16,
    htu: u8,
    method: u8,
    iat_offset: i32,
    token: String,
    signature: Signature,
}

/// The settings each input is checked under, with their `iat` window and whether nonces are on.
fn configs() -> &'static [(DpopConfig, u64, bool)] {
    static C: OnceLock<Vec<(DpopConfig, u64, bool)>> = OnceLock::new();
    C.get_or_init(|| {
        let wide = 200 * 365 * 86_400;
        vec![
            (DpopConfig::allowed(), 300, false),
            (
                DpopConfig::allowed().with_nonces(NONCE_KEY, Duration::from_secs(300)),
                300,
                true,
            ),
            (
                DpopConfig::allowed().iat_window(Duration::from_secs(wide)),
                wide,
                false,
            ),
        ]
    })
}

fn segment(proof: &str, i: usize) -> Option<Map<String, Value>> {
    let part = proof.split('.').nth(i)?;
    match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Every rule an accepted proof must satisfy, read independently of the checker.
fn check_accepted(proof: &str, method: &str, token: &str, window: u64, nonce: bool, jkt: &str) {
    assert_eq!(proof.split('.').count(), 3, "accepted a non-JWS: {proof}");
    let h = segment(proof, 0).expect("accepted without a JSON header");
    let c = segment(proof, 1).expect("accepted without JSON claims");
    assert_eq!(h["typ"], "dpop+jwt", "typ: {proof}");
    let jwk = h["jwk"].as_object().expect("accepted without a jwk");
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert!(
            !jwk.contains_key(private),
            "accepted a private jwk: {proof}"
        );
    }
    assert_eq!(jwk_thumbprint(jwk).as_deref(), Some(jkt), "jkt: {proof}");
    assert_eq!(c["htm"], method, "htm: {proof}");
    let htu = c["htu"].as_str().expect("accepted without htu");
    assert!(!htu.contains(['?', '#']), "htu with a query: {proof}");
    assert_eq!(normalize_htu(htu), normalize_htu(RESOURCE), "htu: {proof}");
    let iat = c["iat"].as_u64().expect("accepted without an integer iat");
    let now = keys::now();
    assert!(
        iat.abs_diff(now) <= window + 1,
        "iat {iat} outside the window: {proof}"
    );
    let jti = c["jti"].as_str().expect("accepted without jti");
    assert!(!jti.is_empty() && jti.len() <= 256, "jti: {proof}");
    assert_eq!(c["ath"], keys::ath(token).as_str(), "ath: {proof}");
    if nonce {
        let n = c["nonce"].as_str().expect("accepted without a nonce");
        assert!(nonces().is_valid(n), "nonce: {proof}");
    }
}

/// RFC 7638: only the required members count, in any order.
fn check_thumbprint(jwk: &Map<String, Value>) {
    let Some(t) = jwk_thumbprint(jwk) else { return };
    let mut reordered: Map<String, Value> = jwk
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    reordered.insert("kid".to_owned(), json!("ignored"));
    reordered.insert("use".to_owned(), json!("sig"));
    assert_eq!(jwk_thumbprint(&reordered).as_deref(), Some(t.as_str()));
}

fn build(input: &Built) -> (String, String, String, bool) {
    let Built {
        header,
        claims,
        p256,
        fixes,
        htu,
        method,
        iat_offset,
        token,
        signature,
    } = input;
    let signer = if *p256 { Signer::P256 } else { Signer::Ed25519 };
    let method = METHODS[usize::from(*method) % METHODS.len()].to_owned();
    let mut h = header.to_object(&VOCAB);
    let mut c = claims.to_object(&VOCAB);
    let bit = |i: u16| fixes & (1 << i) != 0;
    let set = |m: &mut Map<String, Value>, k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    if bit(0) {
        set(&mut h, "typ", json!("dpop+jwt"));
    }
    if bit(1) {
        set(&mut h, "alg", json!(signer.alg()));
    }
    if bit(2) {
        set(&mut h, "jwk", signer.jwk());
    }
    if bit(3) {
        set(&mut c, "htm", json!(method));
    }
    if bit(4) {
        set(&mut c, "htu", json!(HTUS[usize::from(*htu) % HTUS.len()]));
    }
    if bit(5) {
        let iat = keys::now().saturating_add_signed(i64::from(*iat_offset));
        set(&mut c, "iat", json!(iat));
    }
    if bit(6) {
        set(&mut c, "jti", json!(format!("jti-{fixes}-{iat_offset}")));
    }
    if bit(7) {
        set(&mut c, "ath", json!(keys::ath(token)));
    }
    if bit(8) {
        set(&mut c, "nonce", json!(nonces().current()));
    }
    let input = keys::signing_input(
        Value::Object(h).to_string().as_bytes(),
        Value::Object(c).to_string().as_bytes(),
    );
    let mut sig = signer.sign(input.as_bytes());
    let real = match signature {
        Signature::Real => true,
        Signature::Empty => {
            sig.clear();
            false
        }
        Signature::Bytes(b) => {
            sig = b.clone();
            false
        }
        Signature::FlipBit(i) => {
            let i = usize::from(*i) % (sig.len() * 8).max(1);
            if let Some(byte) = sig.get_mut(i / 8) {
                *byte ^= 1 << (i % 8);
            }
            false
        }
    };
    (
        format!("{input}.{}", keys::b64(sig)),
        method,
        token.clone(),
        real,
    )
}

fuzz_target!(|data: &[u8]| {
    let (proof, method, token, real) = match data.strip_prefix(b"R:") {
        Some(raw) => {
            let text = String::from_utf8_lossy(raw);
            let mut lines = text.splitn(3, '\n');
            let method = lines.next().unwrap_or("").to_owned();
            let token = lines.next().unwrap_or("").to_owned();
            let proof = lines.next().unwrap_or("").to_owned();
            (proof, method, token, true)
        }
        None => {
            let Ok(b) = Built::arbitrary_take_rest(Unstructured::new(data)) else {
                return;
            };
            build(&b)
        }
    };
    for (config, window, nonce) in configs() {
        let outcome = verify_dpop_proof(config, &proof, &method, RESOURCE, &token);
        if mcp_fuzz::debug() {
            eprintln!("window {window} nonce {nonce}: {outcome:?}");
        }
        match outcome {
            ProofOutcome::Valid { jkt, replay_until } => {
                // A tampered ES256 signature of the right length could in theory still verify
                // only with a forgery: never.
                assert!(real, "a tampered signature was accepted: {proof}");
                check_accepted(&proof, &method, &token, *window, *nonce, &jkt);
                assert!(
                    replay_until >= keys::now().saturating_sub(1),
                    "replay_until in the past"
                );
            }
            ProofOutcome::UseNonce => assert!(*nonce, "a nonce asked for without nonces"),
            ProofOutcome::Invalid(_) => {}
        }
    }
    if let Some(h) = segment(&proof, 0) {
        if let Some(jwk) = h.get("jwk").and_then(Value::as_object) {
            check_thumbprint(jwk);
        }
        if let Some(htu) = segment(&proof, 1).and_then(|c| c.get("htu").cloned())
            && let Some(n) = htu.as_str().and_then(normalize_htu)
        {
            assert!(
                !n.contains(['?', '#']) && (n.starts_with("http://") || n.starts_with("https://")),
                "normalised htu {n:?}"
            );
        }
    }
});
