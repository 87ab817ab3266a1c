//! The small amount of JOSE the client needs: base64url, SHA-256, random strings, ES256 keys and
//! compact JWS, all on `aws-lc-rs`.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SystemRandom, fill};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::{Method, Url};
use serde_json::{Map, Value, json};

use super::AuthError;

/// base64url without padding.
pub(crate) fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// base64url(SHA-256(`data`)): PKCE `S256` challenges and DPoP `ath`.
pub(crate) fn sha256_b64url(data: &str) -> String {
    b64url(digest::digest(&digest::SHA256, data.as_bytes()).as_ref())
}

/// `n` random bytes, base64url-encoded.
pub(crate) fn random_string(n: usize) -> Result<String, AuthError> {
    let mut bytes = vec![0u8; n];
    fill(&mut bytes).map_err(|_| AuthError::Crypto("the system random generator failed"))?;
    Ok(b64url(&bytes))
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An ES256 (ECDSA P-256 / SHA-256) key pair: the key of DPoP proofs (RFC 9449) and of
/// `private_key_jwt` client assertions (RFC 7523). Cheap to clone; the private half never shows
/// in `Debug` (only the public key's RFC 7638 thumbprint does).
#[derive(Clone)]
pub struct DpopKey {
    inner: Arc<Inner>,
}

struct Inner {
    pair: EcdsaKeyPair,
    jwk: Map<String, Value>,
    thumbprint: String,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &"ES256")
            .field("jkt", &self.inner.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A fresh random P-256 key.
    pub fn generate() -> Result<Self, AuthError> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| AuthError::Crypto("could not generate a P-256 key"))?;
        Self::from_pair(pair)
    }

    /// A key from an unencrypted PKCS#8 (DER) P-256 private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, AuthError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| AuthError::Crypto("not a PKCS#8 P-256 private key"))?;
        Self::from_pair(pair)
    }

    /// A key from a PEM `-----BEGIN PRIVATE KEY-----` block (PKCS#8, P-256).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, AuthError> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && !l.is_empty())
            .collect();
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|_| AuthError::Crypto("the PEM key is not valid base64"))?;
        Self::from_pkcs8_der(&der)
    }

    /// The private key as a PKCS#8 PEM block, to store it (keep the result secret).
    pub fn to_pkcs8_pem(&self) -> Result<String, AuthError> {
        let doc = self
            .inner
            .pair
            .to_pkcs8v1()
            .map_err(|_| AuthError::Crypto("could not serialize the key"))?;
        let b64 = STANDARD.encode(doc.as_ref());
        let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END PRIVATE KEY-----\n");
        Ok(out)
    }

    fn from_pair(pair: EcdsaKeyPair) -> Result<Self, AuthError> {
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(AuthError::Crypto("unexpected P-256 public key encoding"));
        }
        let (x, y) = (b64url(&point[1..33]), b64url(&point[33..65]));
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let thumbprint = sha256_b64url(&canonical);
        let mut jwk = Map::new();
        jwk.insert("kty".into(), "EC".into());
        jwk.insert("crv".into(), "P-256".into());
        jwk.insert("x".into(), x.into());
        jwk.insert("y".into(), y.into());
        Ok(DpopKey {
            inner: Arc::new(Inner {
                pair,
                jwk,
                thumbprint,
            }),
        })
    }

    /// The public key as a JWK (`kty`, `crv`, `x`, `y`).
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.inner.jwk
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key (a DPoP-bound token's `cnf.jkt`).
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// A compact JWS (ES256) of `claims` with `header` (to which `alg` is added).
    pub(crate) fn sign_jwt(
        &self,
        mut header: Map<String, Value>,
        claims: &Value,
    ) -> Result<String, AuthError> {
        header.insert("alg".into(), "ES256".into());
        let header = serde_json::to_vec(&header)
            .map_err(|_| AuthError::Crypto("could not encode a JWS header"))?;
        let claims = serde_json::to_vec(claims)
            .map_err(|_| AuthError::Crypto("could not encode JWT claims"))?;
        let input = format!("{}.{}", b64url(&header), b64url(&claims));
        let signature = self
            .inner
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| AuthError::Crypto("signing failed"))?;
        Ok(format!("{input}.{}", b64url(signature.as_ref())))
    }

    /// A DPoP proof (RFC 9449 §4) for `method url`: `typ: dpop+jwt`, the public JWK, a fresh
    /// `jti`, `iat`, `htm`, `htu` (without query and fragment), plus `ath` when `access_token` is
    /// given and `nonce` when the server asked for one.
    pub fn proof(
        &self,
        method: &Method,
        url: &Url,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, AuthError> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let mut claims = json!({
            "jti": random_string(18)?,
            "htm": method.as_str(),
            "htu": htu.as_str(),
            "iat": now_secs(),
        });
        if let Some(obj) = claims.as_object_mut() {
            if let Some(token) = access_token {
                obj.insert("ath".into(), sha256_b64url(token).into());
            }
            if let Some(nonce) = nonce {
                obj.insert("nonce".into(), nonce.into());
            }
        }
        let mut header = Map::new();
        header.insert("typ".into(), "dpop+jwt".into());
        header.insert("jwk".into(), Value::Object(self.inner.jwk.clone()));
        self.sign_jwt(header, &claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_thumbprint() -> Result<(), AuthError> {
        let key = DpopKey::generate()?;
        let again = DpopKey::from_pkcs8_pem(&key.to_pkcs8_pem()?)?;
        assert_eq!(key.thumbprint(), again.thumbprint());
        assert!(!format!("{key:?}").contains("PRIVATE"));
        Ok(())
    }

    #[test]
    fn proofs_are_fresh_and_carry_ath() -> Result<(), AuthError> {
        let key = DpopKey::generate()?;
        let url = Url::parse("http://h/mcp?x=1").map_err(|_| AuthError::Crypto("url"))?;
        let a = key.proof(&Method::POST, &url, Some("tok"), Some("n1"))?;
        let b = key.proof(&Method::POST, &url, Some("tok"), None)?;
        assert_ne!(a, b);
        let claims = a.split('.').nth(1).unwrap_or_default();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(claims["htu"], "http://h/mcp");
        assert_eq!(claims["ath"], sha256_b64url("tok"));
        assert_eq!(claims["nonce"], "n1");
        Ok(())
    }
}
