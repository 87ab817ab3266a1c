//! An in-process OAuth authorization server for tests and examples: ES256 and RS256 keys, a
//! JWKS, RFC 8414 and OpenID metadata, a client-credentials token endpoint, and a minting API
//! for any token a test needs, including broken ones.
//!
//! For client tests it also has: a configurable token lifetime (globally or per client), a
//! token request counter, DPoP-bound tokens (RFC 9449: a `/token` request with a `DPoP` proof
//! gets `token_type: DPoP` and `cnf.jkt`), an optional authorization-server DPoP nonce, key
//! rotation (tokens signed with the old keys become unverifiable), and the authorization code
//! grant with PKCE (S256) and refresh tokens, whose `/authorize` redirects at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Which key signs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKey {
    /// The issuer's P-256 key (`kid` `es256-1`).
    Es256,
    /// The issuer's RSA-2048 key (`kid` `rs256-1`).
    Rs256,
}

struct Keys {
    es256: EcdsaKeyPair,
    rs256: RsaKeyPair,
    es_kid: String,
    rs_kid: String,
}

impl Keys {
    fn generate(generation: usize) -> Result<Self, std::io::Error> {
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

    fn kid(&self, key: SigningKey) -> &str {
        match key {
            SigningKey::Es256 => &self.es_kid,
            SigningKey::Rs256 => &self.rs_kid,
        }
    }

    fn jwks(&self) -> Value {
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

    fn sign(&self, key: SigningKey, input: &[u8]) -> Vec<u8> {
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

    /// The SubjectPublicKeyInfo-less raw forms used to forge HMAC tokens with a public key.
    fn public_bytes(&self, key: SigningKey) -> Vec<u8> {
        match key {
            SigningKey::Es256 => self.es256.public_key().as_ref().to_vec(),
            SigningKey::Rs256 => self.rs256.public_key().as_ref().to_vec(),
        }
    }
}

/// A registered client: its secret (`None`: a public client, authorization code only), its
/// allowed scopes and an optional token lifetime of its own.
#[derive(Clone)]
struct ClientEntry {
    secret: Option<String>,
    scopes: String,
    lifetime: Option<Duration>,
}

/// An authorization code waiting to be exchanged.
struct PendingCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    resource: String,
}

/// A refresh token's grant.
#[derive(Clone)]
struct RefreshGrant {
    client_id: String,
    scope: String,
    resource: String,
}

struct Shared {
    keys: RwLock<Arc<Keys>>,
    generation: AtomicUsize,
    issuer: String,
    jwks_fetches: AtomicUsize,
    token_requests: AtomicUsize,
    grants: Mutex<Vec<String>>,
    available: AtomicBool,
    clients: Mutex<HashMap<String, ClientEntry>>,
    lifetime: Mutex<Duration>,
    dpop_nonce: Mutex<Option<String>>,
    codes: Mutex<HashMap<String, PendingCode>>,
    refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    issued: Mutex<Vec<String>>,
}

impl Shared {
    fn keys(&self) -> Arc<Keys> {
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// An authorization server on `127.0.0.1:<ephemeral port>`.
pub struct TestIssuer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.shared.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl TestIssuer {
    /// Starts an issuer with fresh keys.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            keys: RwLock::new(Arc::new(Keys::generate(1)?)),
            generation: AtomicUsize::new(1),
            issuer: format!("http://{addr}"),
            jwks_fetches: AtomicUsize::new(0),
            token_requests: AtomicUsize::new(0),
            grants: Mutex::new(Vec::new()),
            available: AtomicBool::new(true),
            clients: Mutex::new(HashMap::new()),
            lifetime: Mutex::new(Duration::from_secs(3600)),
            dpop_nonce: Mutex::new(None),
            codes: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/.well-known/openid-configuration", get(metadata))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/authorize", get(authorize))
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(TestIssuer {
            shared,
            addr,
            stop: Some(stop),
        })
    }

    /// The issuer identifier (`http://127.0.0.1:<port>`).
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The issuer's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The JWKS URL.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.shared.issuer)
    }

    /// The token endpoint (client credentials, authorization code, refresh token).
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.shared.issuer)
    }

    /// The authorization endpoint (redirects at once with a code and `iss`).
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/authorize", self.shared.issuer)
    }

    /// How many requests reached the token endpoint (any grant, successful or not).
    pub fn token_requests(&self) -> usize {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    /// The `grant_type` of every token request so far, in order.
    pub fn token_grants(&self) -> Vec<String> {
        self.shared
            .grants
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// The access tokens the token endpoint issued, in order.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared
            .issued
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// The lifetime (`exp` and `expires_in`) of tokens from the token endpoint for clients
    /// without one of their own (default one hour). Minted tokens are not affected.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        if let Ok(mut l) = self.shared.lifetime.lock() {
            *l = lifetime;
        }
    }

    /// The lifetime of tokens issued to `client_id` (registered already), overriding the
    /// global one.
    pub fn set_client_token_lifetime(&self, client_id: &str, lifetime: Duration) {
        if let Ok(mut c) = self.shared.clients.lock() {
            if let Some(e) = c.get_mut(client_id) {
                e.lifetime = Some(lifetime);
            }
        }
    }

    /// Requires a DPoP nonce in token-request proofs (RFC 9449 §8): a proof without the current
    /// one gets 400 `use_dpop_nonce` and a `DPoP-Nonce` header. `false` turns it off.
    pub fn require_dpop_nonce(&self, required: bool) {
        if let Ok(mut n) = self.shared.dpop_nonce.lock() {
            *n = required.then(|| format!("as-nonce-{}", random_id()));
        }
    }

    /// Replaces both signing keys with fresh ones under new `kid`s (`es256-2`, ...): tokens
    /// signed before are no longer verifiable with the JWKS.
    pub fn rotate_keys(&self) -> std::io::Result<()> {
        let generation = self.shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let keys = Arc::new(Keys::generate(generation)?);
        if let Ok(mut k) = self.shared.keys.write() {
            *k = keys;
        }
        Ok(())
    }

    /// The current `kid` of the ES256 key.
    pub fn current_kid(&self) -> String {
        self.shared.keys().es_kid.clone()
    }

    /// Registers a public client (no secret) for the authorization code grant; tokens get
    /// `scope` (the requested scopes, limited to these) and refresh tokens.
    pub fn register_public_client(&self, client_id: &str, scopes: &str) {
        if let Ok(mut c) = self.shared.clients.lock() {
            c.insert(
                client_id.to_owned(),
                ClientEntry {
                    secret: None,
                    scopes: scopes.to_owned(),
                    lifetime: None,
                },
            );
        }
    }

    /// How often the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Makes the issuer unreachable-like (503 on every endpoint) or reachable again.
    pub fn set_available(&self, available: bool) {
        self.shared.available.store(available, Ordering::SeqCst);
    }

    /// Registers a confidential client for the client-credentials grant; tokens get `scope`
    /// (the requested scopes, limited to these) and `aud` from the `resource` parameter.
    pub fn register_client(&self, client_id: &str, client_secret: &str, scopes: &str) {
        if let Ok(mut c) = self.shared.clients.lock() {
            c.insert(
                client_id.to_owned(),
                ClientEntry {
                    secret: Some(client_secret.to_owned()),
                    scopes: scopes.to_owned(),
                    lifetime: None,
                },
            );
        }
    }

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

fn random_id() -> String {
    let mut b = [0u8; 12];
    let _ = getrandom::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
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

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response()
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut r = (status, value.to_string()).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    r
}

async fn metadata(State(s): State<Arc<Shared>>) -> Response {
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let i = &s.issuer;
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": i,
            "jwks_uri": format!("{i}/jwks"),
            "token_endpoint": format!("{i}/token"),
            "authorization_endpoint": format!("{i}/authorize"),
            "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "dpop_signing_alg_values_supported": ["ES256"],
        }),
    )
}

async fn jwks(State(s): State<Arc<Shared>>) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    json_response(StatusCode::OK, &s.keys().jwks())
}

fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn form_decode(s: &str) -> String {
    decode_form(&format!("x={s}"))
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn decode_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                let bytes = s.as_bytes();
                let mut out = Vec::with_capacity(bytes.len());
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' && i + 2 < bytes.len() {
                        if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                            out.push(b);
                            i += 3;
                            continue;
                        }
                    }
                    out.push(bytes[i]);
                    i += 1;
                }
                String::from_utf8_lossy(&out).into_owned()
            };
            Some((dec(k), dec(v)))
        })
        .collect()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// `application/x-www-form-urlencoded` encoding of one component.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn sha256_b64url(input: &str) -> String {
    URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes()).as_ref())
}

/// Checks the DPoP proof of a token request (RFC 9449 §4.3, minimally: `typ`, ES256 signature
/// by the embedded public key, `htm` POST, `htu` the token endpoint, a fresh `iat`, a `jti`, the
/// nonce when one is required) and returns the key's thumbprint.
fn check_token_proof(s: &Shared, proof: &str) -> Result<String, Box<Response>> {
    use crate::auth::dpop::{jwk_thumbprint, normalize_htu};
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let invalid = |d: &str| {
        Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
            d,
        ))
    };
    let header = proof
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
        .ok_or_else(|| invalid("the proof header is malformed"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("typ must be dpop+jwt"));
    }
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(invalid("only ES256 proofs are supported"));
    }
    let jwk_value = header
        .get("jwk")
        .and_then(Value::as_object)
        .filter(|j| !j.contains_key("d"))
        .ok_or_else(|| invalid("the proof has no public jwk"))?;
    let jwk: Jwk = serde_json::from_value(Value::Object(jwk_value.clone()))
        .map_err(|_| invalid("the proof jwk is malformed"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("the proof jwk is malformed"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = decode::<Map<String, Value>>(proof, &key, &validation)
        .map_err(|_| invalid("the proof signature is invalid"))?
        .claims;
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("htm") != Some("POST") {
        return Err(invalid("htm must be POST"));
    }
    let expected = normalize_htu(&format!("{}/token", s.issuer));
    let htu = text("htu").and_then(normalize_htu);
    if htu.is_none() || htu != expected {
        return Err(invalid("htu must be the token endpoint"));
    }
    let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
    let t = now();
    if iat + 300 < t || iat > t + 300 {
        return Err(invalid("the proof is not fresh"));
    }
    if text("jti").is_none_or(str::is_empty) {
        return Err(invalid("the proof has no jti"));
    }
    let nonce = s.dpop_nonce.lock().ok().and_then(|n| n.clone());
    if let Some(nonce) = nonce {
        if text("nonce") != Some(nonce.as_str()) {
            let mut r = oauth_error(
                StatusCode::BAD_REQUEST,
                "use_dpop_nonce",
                "the authorization server requires a DPoP nonce",
            );
            if let Ok(v) = axum::http::HeaderValue::from_str(&nonce) {
                r.headers_mut().insert("dpop-nonce", v);
            }
            return Err(Box::new(r));
        }
    }
    jwk_thumbprint(jwk_value).ok_or_else(|| invalid("the proof jwk is malformed"))
}

/// The scopes granted: the requested ones the client may have, or all of them.
fn grant_scopes(requested: Option<&str>, allowed: &str) -> String {
    let allowed: Vec<&str> = allowed.split_whitespace().collect();
    match requested {
        Some(req) => req
            .split_whitespace()
            .filter(|r| allowed.contains(r))
            .collect::<Vec<_>>()
            .join(" "),
        None => allowed.join(" "),
    }
}

struct Issue<'a> {
    client_id: &'a str,
    scope: &'a str,
    resource: &'a str,
    lifetime: Duration,
    jkt: Option<String>,
    refresh: bool,
}

fn issue(s: &Shared, i: Issue<'_>) -> Response {
    let t = now();
    let secs = i.lifetime.as_secs().max(1);
    let mut claims = json!({
        "iss": s.issuer, "sub": i.client_id, "client_id": i.client_id, "aud": i.resource,
        "scope": i.scope, "iat": t, "nbf": t, "exp": t + secs,
        "jti": format!("jti-{}", random_id()),
    });
    if let Some(jkt) = &i.jkt {
        claims["cnf"] = json!({"jkt": jkt});
    }
    let keys = s.keys();
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": keys.kid(SigningKey::Es256)});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = keys.sign(SigningKey::Es256, input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    if let Ok(mut issued) = s.issued.lock() {
        issued.push(token.clone());
    }
    let token_type = if i.jkt.is_some() { "DPoP" } else { "Bearer" };
    let mut body = json!({"access_token": token, "token_type": token_type,
        "expires_in": secs, "scope": i.scope});
    if i.refresh {
        let rt = format!("rt-{}", random_id());
        if let Ok(mut r) = s.refresh_tokens.lock() {
            r.insert(
                rt.clone(),
                RefreshGrant {
                    client_id: i.client_id.to_owned(),
                    scope: i.scope.to_owned(),
                    resource: i.resource.to_owned(),
                },
            );
        }
        body["refresh_token"] = json!(rt);
    }
    json_response(StatusCode::OK, &body)
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    let form = decode_form(&body);
    let grant = form_value(&form, "grant_type").unwrap_or("").to_owned();
    if let Ok(mut g) = s.grants.lock() {
        g.push(grant.clone());
    }
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let jkt = match headers.get("dpop") {
        None => None,
        Some(v) => match check_token_proof(&s, v.to_str().unwrap_or("")) {
            Ok(jkt) => Some(jkt),
            Err(r) => return *r,
        },
    };
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (form_decode(a), Some(form_decode(b))))
        });
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => (
            form_value(&form, "client_id").unwrap_or("").to_owned(),
            form_value(&form, "client_secret").map(str::to_owned),
        ),
    };
    let registered = s.clients.lock().ok().and_then(|c| c.get(&id).cloned());
    let Some(client) = registered else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    };
    let authenticated = match &client.secret {
        Some(expected) => secret.as_deref() == Some(expected.as_str()),
        None => secret.is_none(),
    };
    if !authenticated {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let global = s
        .lifetime
        .lock()
        .map(|l| *l)
        .unwrap_or(Duration::from_secs(3600));
    let lifetime = client.lifetime.unwrap_or(global);
    match grant.as_str() {
        "client_credentials" => {
            if client.secret.is_none() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    "public clients cannot use client credentials",
                );
            }
            let scope = grant_scopes(form_value(&form, "scope"), &client.scopes);
            let Some(resource) = form_value(&form, "resource") else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_target", "no resource");
            };
            issue(
                &s,
                Issue {
                    client_id: &id,
                    scope: &scope,
                    resource,
                    lifetime,
                    jkt,
                    refresh: false,
                },
            )
        }
        "authorization_code" => {
            let code = form_value(&form, "code").unwrap_or("");
            let pending = s.codes.lock().ok().and_then(|mut c| c.remove(code));
            let Some(p) = pending else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown code");
            };
            if p.client_id != id {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "wrong client");
            }
            if form_value(&form, "redirect_uri") != Some(p.redirect_uri.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "wrong redirect_uri",
                );
            }
            let verifier = form_value(&form, "code_verifier").unwrap_or("");
            if verifier.len() < 43 || sha256_b64url(verifier) != p.challenge {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE failed");
            }
            let resource = form_value(&form, "resource").unwrap_or(&p.resource);
            if resource != p.resource {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_target", "wrong resource");
            }
            issue(
                &s,
                Issue {
                    client_id: &id,
                    scope: &p.scope,
                    resource,
                    lifetime,
                    jkt,
                    refresh: true,
                },
            )
        }
        "refresh_token" => {
            let rt = form_value(&form, "refresh_token").unwrap_or("");
            // Rotated: a refresh token works once.
            let g = s.refresh_tokens.lock().ok().and_then(|mut r| r.remove(rt));
            let Some(g) = g.filter(|g| g.client_id == id) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "bad refresh token",
                );
            };
            let resource = form_value(&form, "resource").unwrap_or(&g.resource);
            issue(
                &s,
                Issue {
                    client_id: &id,
                    scope: &g.scope,
                    resource,
                    lifetime,
                    jkt,
                    refresh: true,
                },
            )
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant",
        ),
    }
}

/// `/authorize`: no login, no consent; checks the request and redirects at once with a code,
/// the `state` and `iss` (RFC 9207).
async fn authorize(State(s): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    let q: HashMap<String, String> = decode_form(uri.query().unwrap_or_default())
        .into_iter()
        .collect();
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_owned()).into_response();
    let get = |k: &str| q.get(k).map(String::as_str);
    let Some(client_id) = get("client_id") else {
        return bad("no client_id");
    };
    let registered = s
        .clients
        .lock()
        .ok()
        .and_then(|c| c.get(client_id).cloned());
    let Some(client) = registered else {
        return bad("unknown client");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return bad("no redirect_uri");
    };
    if get("response_type") != Some("code") {
        return bad("response_type must be code");
    }
    if get("code_challenge_method") != Some("S256") {
        return bad("PKCE with S256 is required");
    }
    let Some(challenge) = get("code_challenge") else {
        return bad("no code_challenge");
    };
    let code = format!("code-{}", random_id());
    let pending = PendingCode {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        challenge: challenge.to_owned(),
        scope: grant_scopes(get("scope"), &client.scopes),
        resource: get("resource").unwrap_or_default().to_owned(),
    };
    if let Ok(mut c) = s.codes.lock() {
        c.insert(code.clone(), pending);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut location = format!(
        "{redirect_uri}{sep}code={}&iss={}",
        form_encode(&code),
        form_encode(&s.issuer)
    );
    if let Some(state) = get("state") {
        location.push_str(&format!("&state={}", form_encode(state)));
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    r
}
