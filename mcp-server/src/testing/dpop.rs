//! DPoP keys and proofs for tests: a valid proof by default, and every way to break one.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::auth::dpop::{access_token_hash, jwk_thumbprint};

/// An ES256 key that signs DPoP proofs.
pub struct DpopKey {
    key: EcdsaKeyPair,
    jwk: Map<String, Value>,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey").field("jwk", &self.jwk).finish()
    }
}

impl DpopKey {
    /// A fresh P-256 key.
    pub fn generate() -> std::io::Result<Self> {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| std::io::Error::other("key generation failed"))?;
        let point = key.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        let jwk = json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)});
        Ok(DpopKey {
            key,
            jwk: jwk.as_object().cloned().unwrap_or_default(),
        })
    }

    /// The public JWK.
    pub fn jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// The RFC 7638 thumbprint (the `cnf.jkt` of tokens bound to this key).
    pub fn thumbprint(&self) -> String {
        jwk_thumbprint(&self.jwk).unwrap_or_default()
    }

    /// A proof for a request with `method` to `url` carrying `token`: fresh `jti`, `iat` now,
    /// `ath` of the token.
    pub fn proof(&self, method: &str, url: &str, token: &str) -> ProofBuilder<'_> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut jti = [0u8; 16];
        let _ = getrandom::fill(&mut jti);
        let claims = json!({"htm": method, "htu": url, "iat": iat,
            "jti": URL_SAFE_NO_PAD.encode(jti), "ath": access_token_hash(token)});
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        ProofBuilder {
            signer: self,
            header: header.as_object().cloned().unwrap_or_default(),
            claims: claims.as_object().cloned().unwrap_or_default(),
        }
    }
}

/// One proof under construction.
#[must_use]
pub struct ProofBuilder<'a> {
    signer: &'a DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl<'a> ProofBuilder<'a> {
    /// Sets a header member (`Value::Null` removes it).
    pub fn header(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.header.remove(name);
        } else {
            self.header.insert(name.into(), value);
        }
        self
    }

    /// Sets a claim (`Value::Null` removes it).
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.claims.remove(name);
        } else {
            self.claims.insert(name.into(), value);
        }
        self
    }

    /// Moves `iat` by `secs`.
    pub fn iat_offset(self, secs: i64) -> Self {
        let iat = self.claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
        self.claim("iat", json!(iat.saturating_add_signed(secs)))
    }

    /// Adds the server's nonce.
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", json!(nonce))
    }

    /// Signs with another key while keeping this key's `jwk` in the header.
    pub fn signed_by(mut self, other: &'a DpopKey) -> Self {
        self.signer = other;
        self
    }

    /// The compact JWS (ES256, whatever `alg` the header claims).
    pub fn sign(self) -> String {
        let h = URL_SAFE_NO_PAD.encode(Value::Object(self.header).to_string());
        let c = URL_SAFE_NO_PAD.encode(Value::Object(self.claims).to_string());
        let input = format!("{h}.{c}");
        let sig = self
            .signer
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .map(|s| URL_SAFE_NO_PAD.encode(s.as_ref()))
            .unwrap_or_default();
        format!("{input}.{sig}")
    }
}
