//! Minting tokens directly, good or deliberately broken ([`TokenBuilder`]), without the token
//! endpoint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::keys::SigningKey;
use super::{TestIssuer, now, random_id};

impl TestIssuer {
    /// Starts a token for `audience` (the MCP endpoint URL): valid for an hour, subject
    /// `user-1`, client `test-client`, ES256 with the current key.
    pub fn token(&self, audience: &str) -> TokenBuilder<'_> {
        let t = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.shared.issuer));
        claims.insert("sub".into(), json!("user-1"));
        claims.insert("aud".into(), json!(audience));
        claims.insert("client_id".into(), json!("test-client"));
        claims.insert("iat".into(), json!(t));
        claims.insert("nbf".into(), json!(t));
        claims.insert("exp".into(), json!(t + 3600));
        claims.insert("jti".into(), json!(format!("jti-{}", random_id())));
        TokenBuilder {
            issuer: self,
            header: json!({"typ": "at+jwt"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            claims,
            key: SigningKey::Es256,
            kid: Some(self.shared.keys().es_kid.clone()),
        }
    }
}

/// Builds one token, good or deliberately broken.
#[must_use]
pub struct TokenBuilder<'a> {
    issuer: &'a TestIssuer,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    key: SigningKey,
    kid: Option<String>,
}

impl TokenBuilder<'_> {
    /// Sets `scope` (space-separated).
    pub fn scope(mut self, scope: &str) -> Self {
        self.claims.insert("scope".into(), json!(scope));
        self
    }

    /// Sets the subject.
    pub fn subject(mut self, sub: &str) -> Self {
        self.claims.insert("sub".into(), json!(sub));
        self
    }

    /// Sets any claim (`Value::Null` removes it).
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.claims.remove(name);
        } else {
            self.claims.insert(name.into(), value);
        }
        self
    }

    /// Sets a header member (`Value::Null` removes it).
    pub fn header(mut self, name: &str, value: Value) -> Self {
        if value.is_null() {
            self.header.remove(name);
        } else {
            self.header.insert(name.into(), value);
        }
        self
    }

    /// Expires `secs` seconds from now (negative: already expired).
    pub fn expires_in(self, secs: i64) -> Self {
        let exp = now().saturating_add_signed(secs);
        self.claim("exp", json!(exp))
    }

    /// Binds the token to a DPoP key (`cnf.jkt`, RFC 9449 §6).
    pub fn cnf_jkt(self, thumbprint: &str) -> Self {
        self.claim("cnf", json!({"jkt": thumbprint}))
    }

    /// Signs with the RSA key.
    pub fn rs256(mut self) -> Self {
        self.key = SigningKey::Rs256;
        self.kid = Some(self.issuer.shared.keys().rs_kid.clone());
        self
    }

    /// Names another `kid` (an unknown one makes the token unverifiable).
    pub fn kid(mut self, kid: Option<&str>) -> Self {
        self.kid = kid.map(str::to_owned);
        self
    }

    fn encode_parts(&self, alg: &str) -> String {
        let mut header = self.header.clone();
        header.insert("alg".into(), json!(alg));
        if let Some(kid) = &self.kid {
            header.insert("kid".into(), json!(kid));
        }
        let h = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
        let c = URL_SAFE_NO_PAD.encode(Value::Object(self.claims.clone()).to_string());
        format!("{h}.{c}")
    }

    /// The signed token.
    pub fn sign(self) -> String {
        let alg = match self.key {
            SigningKey::Es256 => "ES256",
            SigningKey::Rs256 => "RS256",
        };
        let input = self.encode_parts(alg);
        let sig = self.issuer.shared.keys().sign(self.key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// An opaque token (random, not a JWT) with these claims, known to the issuer's
    /// introspection endpoint (RFC 7662) until it expires or is revoked.
    pub fn opaque(self) -> String {
        let token = format!("opaque-{}", random_id());
        if let Ok(mut opaque) = self.issuer.shared.opaque.lock() {
            opaque.insert(token.clone(), self.claims);
        }
        token
    }

    /// An unsigned token (`alg: none`).
    pub fn unsigned(self) -> String {
        format!("{}.", self.encode_parts("none"))
    }

    /// An HS256 token whose HMAC key is the issuer's public key bytes: the algorithm-confusion
    /// attack.
    pub fn hs256_with_public_key(self) -> String {
        let input = self.encode_parts("HS256");
        let secret = self.issuer.shared.keys().public_bytes(self.key);
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// A correctly signed token whose payload was changed afterwards.
    pub fn tampered(self) -> String {
        let token = self.sign();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        if let Some(claims) = parts.get_mut(1) {
            let mut decoded: Value = URL_SAFE_NO_PAD
                .decode(claims.as_bytes())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            decoded["scope"] = json!("read files:delete admin");
            *claims = URL_SAFE_NO_PAD.encode(decoded.to_string());
        }
        parts.join(".")
    }
}
