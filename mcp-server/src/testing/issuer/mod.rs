//! An in-process OAuth authorization server for tests and examples: ES256 and RS256 keys, a
//! JWKS, RFC 8414 and OpenID metadata, a client-credentials token endpoint, and a minting API
//! for any token a test needs, including broken ones.
//!
//! For client tests it also has: a configurable token lifetime (globally or per client), a
//! token request counter, DPoP-bound tokens (RFC 9449: a `/token` request with a `DPoP` proof
//! gets `token_type: DPoP` and `cnf.jkt`), an optional authorization-server DPoP nonce, key
//! rotation (tokens signed with the old keys become unverifiable), and the authorization code
//! grant with PKCE (S256) and refresh tokens, whose `/authorize` redirects at once.
//!
//! Servers that call upstream APIs on their caller's behalf get the token exchange grant
//! (RFC 8693) at the same token endpoint: a registered confidential client trades a caller's
//! token for one whose `aud` is the upstream, `sub` the caller and `act.sub` the client (see
//! `exchange.rs` for every check and error), optionally limited to an allow list of targets
//! ([`TestIssuer::restrict_exchange_targets`]) and counted ([`TestIssuer::token_exchanges`]).

mod authorize;
mod dpop;
mod endpoints;
mod exchange;
mod form;
mod introspect;
mod keys;
mod mint;
mod token_endpoint;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use keys::Keys;

use crate::auth::{AuthorizationConfig, JwtValidator, JwtValidatorConfig};
pub use keys::SigningKey;
pub use mint::TokenBuilder;

/// A registered client: its secret (`None`: a public client, authorization code only), its
/// allowed scopes and an optional token lifetime of its own.
#[derive(Clone)]
struct ClientEntry {
    secret: Option<String>,
    scopes: String,
    lifetime: Option<Duration>,
    /// The only resources and audiences it may exchange tokens for, when restricted.
    exchange_targets: Option<Vec<String>>,
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

/// What the endpoints and the [`TestIssuer`] handle share.
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
    opaque: Mutex<HashMap<String, Map<String, Value>>>,
    revoked: Mutex<HashSet<String>>,
    introspections: AtomicUsize,
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
            opaque: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashSet::new()),
            introspections: AtomicUsize::new(0),
        });
        let app = endpoints::router(Arc::clone(&shared));
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

    /// An OAuth [`AuthorizationConfig`] that trusts this issuer's tokens for the endpoint at
    /// `resource` (their audience): the JWT validator with keys from this issuer, the issuer
    /// published as the authorization server. Add scopes, DPoP, roles with the builder methods.
    ///
    /// ```
    /// use mcp_server::McpServer;
    /// use mcp_server::testing::{TestIssuer, TestListener};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = TestIssuer::start().await?;
    /// let listener = TestListener::bind().await?;
    /// let server = McpServer::builder("test")
    ///     .authorization(issuer.authorization(listener.url())?.required_scopes(["read"]))
    ///     .build()?;
    /// let running = listener.spawn(server);
    /// let token = issuer.token(&running.url()).scope("read").sign();
    /// # let _ = token;
    /// running.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn authorization(
        &self,
        resource: impl Into<String>,
    ) -> Result<AuthorizationConfig, crate::auth::ValidatorSetupError> {
        let validator = JwtValidator::new(JwtValidatorConfig::new(self.issuer(), ""))?;
        Ok(AuthorizationConfig::enabled()
            .authorization_server(self.issuer())
            .resource(resource)
            .validator(validator))
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

    /// The token endpoint (client credentials, authorization code, refresh token, token
    /// exchange).
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
                    exchange_targets: None,
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

    /// The RFC 7662 introspection endpoint (registered clients authenticate as at `/token`).
    pub fn introspection_endpoint(&self) -> String {
        format!("{}/introspect", self.shared.issuer)
    }

    /// How many introspection requests arrived.
    pub fn introspections(&self) -> usize {
        self.shared.introspections.load(Ordering::SeqCst)
    }

    /// Revokes a token: introspection calls it inactive from now on.
    pub fn revoke(&self, token: &str) {
        if let Ok(mut r) = self.shared.revoked.lock() {
            r.insert(token.to_owned());
        }
    }

    /// Limits the resources and audiences `client_id` (registered already) may exchange tokens
    /// for (RFC 8693): any other target is refused with `invalid_target`. Unrestricted by
    /// default.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let issuer = mcp_server::testing::TestIssuer::start().await?;
    /// issuer.register_client("front", "front-secret", "");
    /// issuer.restrict_exchange_targets("front", &["https://api.example.com"]);
    /// # Ok(()) }
    /// ```
    pub fn restrict_exchange_targets(&self, client_id: &str, targets: &[&str]) {
        if let Ok(mut c) = self.shared.clients.lock() {
            if let Some(e) = c.get_mut(client_id) {
                e.exchange_targets = Some(targets.iter().map(|t| (*t).to_owned()).collect());
            }
        }
    }

    /// How many token exchange requests (RFC 8693 grant) reached the token endpoint,
    /// successful or not.
    ///
    /// ```
    /// use mcp_server::testing::TestIssuer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = TestIssuer::start().await?;
    /// issuer.register_client("front", "front-secret", "");
    /// let caller = issuer.token("http://127.0.0.1:1/mcp").subject("alice").scope("read").sign();
    /// let form = [
    ///     ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
    ///     ("subject_token", caller.as_str()),
    ///     ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
    ///     ("resource", "https://api.example.com"),
    /// ];
    /// let body = form_urlencoded::Serializer::new(String::new())
    ///     .extend_pairs(form)
    ///     .finish();
    /// let answer: serde_json::Value = reqwest::Client::builder()
    ///     .no_proxy()
    ///     .build()?
    ///     .post(issuer.token_endpoint())
    ///     .basic_auth("front", Some("front-secret"))
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(body)
    ///     .send()
    ///     .await?
    ///     .json()
    ///     .await?;
    /// assert_eq!(answer["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
    /// assert_eq!(issuer.token_exchanges(), 1);
    /// # Ok(()) }
    /// ```
    pub fn token_exchanges(&self) -> usize {
        self.token_grants()
            .iter()
            .filter(|g| *g == crate::auth::TOKEN_EXCHANGE_GRANT)
            .count()
    }

    /// Registers a confidential client for the client-credentials grant; tokens get `scope`
    /// (the requested scopes, limited to these) and `aud` from the `resource` parameter. The
    /// client may also exchange tokens (RFC 8693): a caller's token, sent as `subject_token`,
    /// for one of another audience on the caller's behalf.
    pub fn register_client(&self, client_id: &str, client_secret: &str, scopes: &str) {
        if let Ok(mut c) = self.shared.clients.lock() {
            c.insert(
                client_id.to_owned(),
                ClientEntry {
                    secret: Some(client_secret.to_owned()),
                    scopes: scopes.to_owned(),
                    lifetime: None,
                    exchange_targets: None,
                },
            );
        }
    }
}

fn random_id() -> String {
    let mut b = [0u8; 12];
    let _ = getrandom::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}
