//! An in-process OAuth authorization server for tests and examples: ES256 and RS256 keys, a
//! JWKS, RFC 8414 and OpenID metadata, a client-credentials token endpoint, and a minting API
//! for any token a test needs, including broken ones.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

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
}

impl Keys {
    fn generate() -> Result<Self, std::io::Error> {
        let err = |_| std::io::Error::other("key generation failed");
        let es256 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(err)?;
        let rs256 = RsaKeyPair::generate(KeySize::Rsa2048).map_err(err)?;
        Ok(Keys { es256, rs256 })
    }

    fn jwks(&self) -> Value {
        let point = self.es256.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        let rsa = self.rs256.public_key();
        json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "es256-1", "use": "sig", "alg": "ES256",
             "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)},
            {"kty": "RSA", "kid": "rs256-1", "use": "sig", "alg": "RS256",
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

struct Shared {
    keys: Keys,
    issuer: String,
    jwks_fetches: AtomicUsize,
    available: AtomicBool,
    clients: Mutex<HashMap<String, (String, String)>>,
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
            keys: Keys::generate()?,
            issuer: format!("http://{addr}"),
            jwks_fetches: AtomicUsize::new(0),
            available: AtomicBool::new(true),
            clients: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/.well-known/openid-configuration", get(metadata))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
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

    /// The token endpoint (client credentials).
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.shared.issuer)
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
                (client_secret.to_owned(), scopes.to_owned()),
            );
        }
    }

    /// Starts a token for `audience` (the MCP endpoint URL): valid for an hour, subject
    /// `user-1`, client `test-client`, ES256.
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
            kid: Some("es256-1".into()),
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
        self.kid = Some("rs256-1".into());
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
        let sig = self.issuer.shared.keys.sign(self.key, input.as_bytes());
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
        let secret = self.issuer.shared.keys.public_bytes(self.key);
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
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "response_types_supported": ["token"],
            "dpop_signing_alg_values_supported": ["ES256"],
        }),
    )
}

async fn jwks(State(s): State<Arc<Shared>>) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    json_response(StatusCode::OK, &s.keys.jwks())
}

fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
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

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    if !s.available.load(Ordering::SeqCst) {
        return unavailable();
    }
    let form = decode_form(&body);
    let oauth_error =
        |status: StatusCode, error: &str| json_response(status, &json!({"error": error}));
    if form_value(&form, "grant_type") != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => (
            form_value(&form, "client_id").unwrap_or("").to_owned(),
            form_value(&form, "client_secret").unwrap_or("").to_owned(),
        ),
    };
    let registered = s.clients.lock().ok().and_then(|c| c.get(&id).cloned());
    let Some((_, allowed)) = registered.filter(|(sec, _)| *sec == secret) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let allowed: Vec<&str> = allowed.split_whitespace().collect();
    let scope = match form_value(&form, "scope") {
        Some(req) => req
            .split_whitespace()
            .filter(|r| allowed.contains(r))
            .collect::<Vec<_>>()
            .join(" "),
        None => allowed.join(" "),
    };
    let Some(resource) = form_value(&form, "resource") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_target");
    };
    let t = now();
    let claims = json!({
        "iss": s.issuer, "sub": id, "client_id": id, "aud": resource, "scope": scope,
        "iat": t, "nbf": t, "exp": t + 3600, "jti": format!("jti-{}", random_id()),
    });
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": "es256-1"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = s.keys.sign(SigningKey::Es256, input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    json_response(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": scope}),
    )
}
