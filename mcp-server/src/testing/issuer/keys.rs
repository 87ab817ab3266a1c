//! The issuer's signing keys (ES256 and RS256, rotated by generation) and their JWKS.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Which key signs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKey {
    /// The issuer's P-256 key (`kid` `es256-1`).
    Es256,
    /// The issuer's RSA-2048 key (`kid` `rs256-1`).
    Rs256,
}

/// One generation of keys, with their `kid`s.
pub(super) struct Keys {
    es256: EcdsaKeyPair,
    rs256: RsaKeyPair,
    pub(super) es_kid: String,
    pub(super) rs_kid: String,
}

impl Keys {
    pub(super) fn generate(generation: usize) -> Result<Self, std::io::Error> {
        let err = |_| std::io::Error::other("key generation failed");
        let es256 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(err)?;
        let rs256 = RsaKeyPair::generate(KeySize::Rsa2048).map_err(err)?;
        Ok(Keys {
            es256,
            rs256,
            es_kid: format!("es256-{generation}"),
            rs_kid: format!("rs256-{generation}"),
        })
    }

    pub(super) fn kid(&self, key: SigningKey) -> &str {
        match key {
            SigningKey::Es256 => &self.es_kid,
            SigningKey::Rs256 => &self.rs_kid,
        }
    }

    pub(super) fn jwks(&self) -> Value {
        let point = self.es256.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        let rsa = self.rs256.public_key();
        json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": self.es_kid, "use": "sig", "alg": "ES256",
             "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)},
            {"kty": "RSA", "kid": self.rs_kid, "use": "sig", "alg": "RS256",
             "n": URL_SAFE_NO_PAD.encode(rsa.modulus().big_endian_without_leading_zero()),
             "e": URL_SAFE_NO_PAD.encode(rsa.exponent().big_endian_without_leading_zero())},
        ]})
    }

    pub(super) fn sign(&self, key: SigningKey, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match key {
            SigningKey::Es256 => self
                .es256
                .sign(&rng, input)
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_default(),
            SigningKey::Rs256 => {
                let mut sig = vec![0; self.rs256.public_modulus_len()];
                match self.rs256.sign(&RSA_PKCS1_SHA256, &rng, input, &mut sig) {
                    Ok(()) => sig,
                    Err(_) => Vec::new(),
                }
            }
        }
    }

    /// Whether `sig` is this generation's signature of `input` under the key named by `alg`
    /// and `kid` (ES256 or RS256 only, as the issuer signs).
    pub(super) fn verify(&self, alg: &str, kid: Option<&str>, input: &[u8], sig: &[u8]) -> bool {
        match (alg, kid) {
            ("ES256", Some(kid)) if kid == self.es_kid => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.es256.public_key().as_ref())
                    .verify(input, sig)
                    .is_ok()
            }
            ("RS256", Some(kid)) if kid == self.rs_kid => UnparsedPublicKey::new(
                &RSA_PKCS1_2048_8192_SHA256,
                self.rs256.public_key().as_ref(),
            )
            .verify(input, sig)
            .is_ok(),
            _ => false,
        }
    }

    /// The SubjectPublicKeyInfo-less raw forms used to forge HMAC tokens with a public key.
    pub(super) fn public_bytes(&self, key: SigningKey) -> Vec<u8> {
        match key {
            SigningKey::Es256 => self.es256.public_key().as_ref().to_vec(),
            SigningKey::Rs256 => self.rs256.public_key().as_ref().to_vec(),
        }
    }
}
