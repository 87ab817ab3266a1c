//! OAuth 2.1 for MCP: discovery from the server's 401 (RFC 9728 protected-resource metadata,
//! RFC 8414 / OpenID Connect authorization-server metadata), then a token from the client
//! credentials grant ([`ClientCredentialsAuth`]), the authorization code grant with PKCE
//! ([`AuthorizationCodeAuth`]) or a JWT assertion ([`JwtBearerAuth`]), always with the RFC 8707
//! `resource` parameter and optionally DPoP-bound (RFC 9449).
//!
//! All three share one engine: the token is cached until shortly before it expires, refreshed
//! with a refresh token when there is one, obtained again after a 401 (once per request), and —
//! when allowed — re-obtained with more scopes after a 403 `insufficient_scope` (step-up).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::dpop::{DPOP, wants_nonce};
use super::jose::{DpopKey, now_secs, random_string, sha256_b64url};
use super::{Auth, AuthDecision, AuthError, AuthRequest, AuthResponse, Redacted};
use crate::BoxFuture;
use crate::challenge::Challenge;

/// Why an OAuth flow failed. Never carries a secret (tokens, client secrets, codes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// No usable metadata or endpoint was found.
    #[error("OAuth discovery failed: {0}")]
    Discovery(String),
    /// The protected-resource metadata names a resource the server URL does not belong to.
    #[error("the protected resource {resource} does not match the server URL {server}")]
    ResourceMismatch {
        /// The `resource` of the metadata.
        resource: String,
        /// The URL the client connected to.
        server: String,
    },
    /// The authorization-server metadata's `issuer` differs from the issuer it was fetched for.
    #[error("the authorization server metadata names issuer {found}, expected {expected}")]
    IssuerMismatch {
        /// The issuer the metadata was looked up for.
        expected: String,
        /// The `issuer` it contains.
        found: String,
    },
    /// An endpoint answered with an error (`error` / `error_description` of RFC 6749 §5.2).
    #[error("the {endpoint} endpoint answered {status}: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Endpoint {
        /// `token`, `registration`, ...
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code (or a summary).
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// The authorization response (the redirect) was refused: wrong `state`, wrong or missing
    /// `iss` (RFC 9207), an `error` parameter, or no `code`.
    #[error("authorization response rejected: {0}")]
    AuthorizationResponse(String),
    /// The client has no identity for this authorization server (no client ID, no registration
    /// endpoint, no client metadata document support).
    #[error("no client identity for {0}: configure a client ID or enable dynamic registration")]
    NoClient(String),
    /// An HTTP exchange failed.
    #[error("OAuth request to {url} failed: {source}")]
    Http {
        /// The endpoint.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

impl From<OAuthError> for AuthError {
    fn from(e: OAuthError) -> Self {
        AuthError::OAuth(Box::new(e))
    }
}

/// How the client authenticates at the token endpoint (RFC 8414 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEndpointAuth {
    /// HTTP Basic with the client ID and secret (`client_secret_basic`).
    SecretBasic,
    /// ID and secret in the form body (`client_secret_post`).
    SecretPost,
    /// A public client: `client_id` in the body only (`none`).
    None,
    /// An ES256 client assertion (`private_key_jwt`, RFC 7523).
    PrivateKeyJwt,
}

impl TokenEndpointAuth {
    /// The RFC 8414 name of the method.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuth::SecretBasic => "client_secret_basic",
            TokenEndpointAuth::SecretPost => "client_secret_post",
            TokenEndpointAuth::None => "none",
            TokenEndpointAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "client_secret_basic" => TokenEndpointAuth::SecretBasic,
            "client_secret_post" => TokenEndpointAuth::SecretPost,
            "none" => TokenEndpointAuth::None,
            "private_key_jwt" => TokenEndpointAuth::PrivateKeyJwt,
            _ => return None,
        })
    }
}

/// Takes the user through the authorization URL and hands back the URL the authorization server
/// redirected to (with `code`, `state` and maybe `iss`). A closure `Fn(Url) -> Future` works.
pub trait RedirectHandler: Send + Sync + 'static {
    /// Opens `authorization_url` (a browser, a headless GET, ...) and returns the redirect URL.
    fn authorize(&self, authorization_url: Url) -> BoxFuture<'static, Result<Url, AuthError>>;
}

impl<F, Fut> RedirectHandler for F
where
    F: Fn(Url) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Url, AuthError>> + Send + 'static,
{
    fn authorize(&self, authorization_url: Url) -> BoxFuture<'static, Result<Url, AuthError>> {
        Box::pin(self(authorization_url))
    }
}

/// What a JWT-bearer assertion is for: handed to an [`AssertionProvider`].
#[derive(Debug, Clone)]
pub struct AssertionContext {
    /// The authorization server's issuer (the assertion's audience).
    pub issuer: String,
    /// The RFC 8707 resource the token is for.
    pub resource: String,
    /// The scopes about to be requested.
    pub scopes: Vec<String>,
    /// The HTTP client of the flow (no redirects followed).
    pub http: reqwest::Client,
}

/// Produces the assertion of an RFC 7523 JWT-bearer grant (a workload identity token, an
/// identity assertion from an enterprise IdP, ...). A closure `Fn(AssertionContext) -> Future`
/// works.
pub trait AssertionProvider: Send + Sync + 'static {
    /// The assertion (a JWT) for `context`.
    fn assertion(&self, context: AssertionContext)
    -> BoxFuture<'static, Result<String, AuthError>>;
}

impl<F, Fut> AssertionProvider for F
where
    F: Fn(AssertionContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, AuthError>> + Send + 'static,
{
    fn assertion(
        &self,
        context: AssertionContext,
    ) -> BoxFuture<'static, Result<String, AuthError>> {
        Box::pin(self(context))
    }
}

enum Grant {
    ClientCredentials,
    AuthorizationCode {
        redirect_uri: String,
        handler: Arc<dyn RedirectHandler>,
        client_metadata_url: Option<String>,
        client_name: String,
    },
    JwtBearer(Arc<dyn AssertionProvider>),
}

struct Config {
    http: reqwest::Client,
    grant: Grant,
    client_id: Option<String>,
    client_secret: Option<String>,
    signing_key: Option<DpopKey>,
    auth_method: Option<TokenEndpointAuth>,
    scopes: Vec<String>,
    dpop: Option<DpopKey>,
    step_up: bool,
    refresh_margin: Duration,
}

#[derive(Clone)]
struct Client {
    id: String,
    secret: Option<String>,
    method: TokenEndpointAuth,
}

#[derive(Clone)]
struct Discovery {
    resource: String,
    issuer: String,
    metadata: Map<String, Value>,
    token_endpoint: Url,
    authorization_endpoint: Option<Url>,
    registration_endpoint: Option<Url>,
    prm_scopes: Vec<String>,
}

struct Token {
    access: String,
    dpop: bool,
    expires_at: Option<Instant>,
    refresh: Option<String>,
}

#[derive(Default)]
struct State {
    discovery: Option<Discovery>,
    clients: HashMap<String, Client>,
    token: Option<Token>,
    scopes: Vec<String>,
}

struct Engine {
    config: Config,
    state: Mutex<State>,
    rs_nonce: SyncMutex<Option<String>>,
    as_nonce: SyncMutex<Option<String>>,
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

fn err_discovery(msg: impl Into<String>) -> AuthError {
    OAuthError::Discovery(msg.into()).into()
}

fn get_nonce(m: &SyncMutex<Option<String>>) -> Option<String> {
    m.lock().ok().and_then(|n| n.clone())
}

fn set_nonce(m: &SyncMutex<Option<String>>, v: Option<String>) {
    if let Ok(mut n) = m.lock() {
        *n = v;
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether `server` lies under `resource` (same origin, path prefix on segment boundaries).
fn resource_covers(resource: &str, server: &Url) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.origin() != server.origin() {
        return false;
    }
    let rp = r.path().trim_end_matches('/');
    let sp = server.path().trim_end_matches('/');
    rp.is_empty() || sp == rp || sp.starts_with(&format!("{rp}/"))
}

impl Engine {
    fn new(config: Config) -> Self {
        Engine {
            config,
            state: Mutex::new(State::default()),
            rs_nonce: SyncMutex::new(None),
            as_nonce: SyncMutex::new(None),
        }
    }

    async fn get_json(&self, url: &Url) -> Result<Option<Map<String, Value>>, AuthError> {
        let response = self
            .config
            .http
            .get(url.clone())
            .header("accept", "application/json")
            .header("mcp-protocol-version", "2025-11-25")
            .send()
            .await
            .map_err(|source| OAuthError::Http {
                url: url.to_string(),
                source,
            })?;
        if !response.status().is_success() {
            return Ok(None);
        }
        Ok(response
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v.as_object().cloned()))
    }

    /// RFC 9728 metadata: the challenge's `resource_metadata`, else the path-based then the root
    /// well-known URL.
    async fn protected_resource(
        &self,
        server: &Url,
        challenge: Option<&Challenge>,
    ) -> Result<Option<Map<String, Value>>, AuthError> {
        let mut candidates = Vec::new();
        if let Some(u) = challenge
            .and_then(Challenge::resource_metadata)
            .and_then(|u| server.join(u).ok())
        {
            candidates.push(u);
        }
        let path = server.path().trim_end_matches('/');
        if !path.is_empty() {
            if let Ok(u) = server.join(&format!("/.well-known/oauth-protected-resource{path}")) {
                candidates.push(u);
            }
        }
        if let Ok(u) = server.join("/.well-known/oauth-protected-resource") {
            candidates.push(u);
        }
        for url in candidates {
            if let Some(m) = self.get_json(&url).await? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// RFC 8414 / OpenID metadata of `issuer`, in the order of the MCP specification; its
    /// `issuer` must be exactly the one looked up.
    async fn authorization_server(
        &self,
        issuer: &str,
        strict: bool,
    ) -> Result<Option<Map<String, Value>>, AuthError> {
        let base = Url::parse(issuer).map_err(|_| err_discovery(format!("bad issuer {issuer}")))?;
        let path = base.path().trim_end_matches('/');
        let suffixes = if path.is_empty() {
            vec![
                "/.well-known/oauth-authorization-server".to_owned(),
                "/.well-known/openid-configuration".to_owned(),
            ]
        } else {
            vec![
                format!("/.well-known/oauth-authorization-server{path}"),
                format!("/.well-known/openid-configuration{path}"),
                format!("{path}/.well-known/openid-configuration"),
            ]
        };
        for suffix in suffixes {
            let Ok(url) = base.join(&suffix) else {
                continue;
            };
            if let Some(m) = self.get_json(&url).await? {
                let found = m.get("issuer").and_then(Value::as_str).unwrap_or_default();
                if strict && found.trim_end_matches('/') != issuer.trim_end_matches('/') {
                    return Err(OAuthError::IssuerMismatch {
                        expected: issuer.to_owned(),
                        found: found.to_owned(),
                    }
                    .into());
                }
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    async fn discover(
        &self,
        server: &Url,
        challenge: Option<&Challenge>,
    ) -> Result<Discovery, AuthError> {
        let prm = self.protected_resource(server, challenge).await?;
        let mut server_resource = server.clone();
        server_resource.set_fragment(None);
        let (resource, issuer, prm_scopes) = match &prm {
            Some(prm) => {
                let resource = prm
                    .get("resource")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| server_resource.to_string());
                if !resource_covers(&resource, server) {
                    return Err(OAuthError::ResourceMismatch {
                        resource,
                        server: server.to_string(),
                    }
                    .into());
                }
                let issuer = strings(prm.get("authorization_servers"))
                    .into_iter()
                    .next()
                    .ok_or_else(|| err_discovery("no authorization_servers in the metadata"))?;
                (resource, issuer, strings(prm.get("scopes_supported")))
            }
            None => {
                let origin = server.origin().ascii_serialization();
                (server_resource.to_string(), origin, Vec::new())
            }
        };
        // Without protected-resource metadata (2025-03-26 servers) the issuer is only a guess
        // (the server's origin), so the metadata's own `issuer` is taken as it is.
        let metadata = self.authorization_server(&issuer, prm.is_some()).await?;
        let base = Url::parse(&issuer).map_err(|_| err_discovery("bad issuer URL"))?;
        let endpoint = |m: &Option<Map<String, Value>>, key: &str, fallback: &str| match m.as_ref()
        {
            Some(m) => m
                .get(key)
                .and_then(Value::as_str)
                .and_then(|u| Url::parse(u).ok()),
            None => base.join(fallback).ok(),
        };
        let token_endpoint = endpoint(&metadata, "token_endpoint", "/token")
            .ok_or_else(|| err_discovery("no token_endpoint"))?;
        Ok(Discovery {
            authorization_endpoint: endpoint(&metadata, "authorization_endpoint", "/authorize"),
            registration_endpoint: endpoint(&metadata, "registration_endpoint", "/register"),
            resource,
            issuer: metadata
                .as_ref()
                .and_then(|m| m.get("issuer"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or(issuer),
            metadata: metadata.unwrap_or_default(),
            token_endpoint,
            prm_scopes,
        })
    }

    fn supported_methods(d: &Discovery) -> Vec<String> {
        strings(d.metadata.get("token_endpoint_auth_methods_supported"))
    }

    /// Picks the token endpoint authentication of a client with (or without) a secret.
    fn pick_method(&self, d: &Discovery, has_secret: bool) -> TokenEndpointAuth {
        if let Some(m) = self.config.auth_method {
            return m;
        }
        if self.config.signing_key.is_some() {
            return TokenEndpointAuth::PrivateKeyJwt;
        }
        if !has_secret {
            return TokenEndpointAuth::None;
        }
        let supported = Self::supported_methods(d);
        if supported.is_empty() || supported.iter().any(|m| m == "client_secret_basic") {
            TokenEndpointAuth::SecretBasic
        } else if supported.iter().any(|m| m == "client_secret_post") {
            TokenEndpointAuth::SecretPost
        } else {
            TokenEndpointAuth::SecretBasic
        }
    }

    /// The client identity at this authorization server: configured, a client ID metadata
    /// document, an earlier registration with the same issuer, or a new registration.
    async fn client(&self, st: &mut State, d: &Discovery) -> Result<Client, AuthError> {
        if let Some(id) = &self.config.client_id {
            let secret = self.config.client_secret.clone();
            let method = self.pick_method(d, secret.is_some());
            return Ok(Client {
                id: id.clone(),
                secret,
                method,
            });
        }
        let Grant::AuthorizationCode {
            redirect_uri,
            client_metadata_url,
            client_name,
            ..
        } = &self.config.grant
        else {
            return Err(OAuthError::NoClient(d.issuer.clone()).into());
        };
        if let Some(url) = client_metadata_url {
            if d.metadata.get("client_id_metadata_document_supported") == Some(&Value::Bool(true)) {
                return Ok(Client {
                    id: url.clone(),
                    secret: None,
                    method: TokenEndpointAuth::None,
                });
            }
        }
        if let Some(c) = st.clients.get(&d.issuer) {
            return Ok(c.clone());
        }
        let endpoint = d
            .registration_endpoint
            .clone()
            .ok_or_else(|| OAuthError::NoClient(d.issuer.clone()))?;
        let supported = Self::supported_methods(d);
        let requested = ["client_secret_basic", "client_secret_post", "none"]
            .into_iter()
            .find(|m| supported.iter().any(|s| s == m))
            .unwrap_or("client_secret_basic");
        let mut body = json!({
            "client_name": client_name,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": requested,
            "application_type": application_type(redirect_uri),
        });
        if !self.config.scopes.is_empty() {
            body["scope"] = self.config.scopes.join(" ").into();
        }
        let response = self
            .config
            .http
            .post(endpoint.clone())
            .json(&body)
            .send()
            .await
            .map_err(|source| OAuthError::Http {
                url: endpoint.to_string(),
                source,
            })?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(endpoint_error("registration", status, &value).into());
        }
        let id = value
            .get("client_id")
            .and_then(Value::as_str)
            .ok_or_else(|| err_discovery("the registration response has no client_id"))?
            .to_owned();
        let secret = value
            .get("client_secret")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let method = value
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            .and_then(TokenEndpointAuth::parse)
            .or_else(|| TokenEndpointAuth::parse(requested))
            .unwrap_or(TokenEndpointAuth::SecretBasic);
        let method = if secret.is_none() && method != TokenEndpointAuth::PrivateKeyJwt {
            TokenEndpointAuth::None
        } else {
            method
        };
        let client = Client { id, secret, method };
        st.clients.insert(d.issuer.clone(), client.clone());
        Ok(client)
    }

    /// POSTs a token request with client authentication and (optionally) a DPoP proof, retrying
    /// once with the authorization server's nonce.
    async fn token_request(
        &self,
        d: &Discovery,
        client: Option<&Client>,
        params: Vec<(&str, String)>,
    ) -> Result<Token, AuthError> {
        let mut pairs: Vec<(&str, String)> = params;
        let mut headers = HeaderMap::new();
        if let Some(c) = client {
            match c.method {
                TokenEndpointAuth::SecretBasic => {
                    let creds = format!(
                        "{}:{}",
                        form_component(&c.id),
                        form_component(c.secret.as_deref().unwrap_or_default())
                    );
                    let mut v = reqwest::header::HeaderValue::from_str(&format!(
                        "Basic {}",
                        STANDARD.encode(creds)
                    ))
                    .map_err(|_| AuthError::InvalidHeaderValue {
                        header: "authorization".into(),
                    })?;
                    v.set_sensitive(true);
                    headers.insert(AUTHORIZATION, v);
                }
                TokenEndpointAuth::SecretPost => {
                    pairs.push(("client_id", c.id.clone()));
                    pairs.push(("client_secret", c.secret.clone().unwrap_or_default()));
                }
                TokenEndpointAuth::None => pairs.push(("client_id", c.id.clone())),
                TokenEndpointAuth::PrivateKeyJwt => {
                    let key = self
                        .config
                        .signing_key
                        .as_ref()
                        .ok_or(AuthError::Crypto("private_key_jwt needs a signing key"))?;
                    let now = now_secs();
                    let claims = json!({
                        "iss": c.id, "sub": c.id, "aud": d.issuer,
                        "iat": now, "exp": now + 300, "jti": random_string(18)?,
                    });
                    let mut header = Map::new();
                    header.insert("typ".into(), "JWT".into());
                    pairs.push(("client_id", c.id.clone()));
                    pairs.push((
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                    ));
                    pairs.push(("client_assertion", key.sign_jwt(header, &claims)?));
                }
            }
        }
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = form(&borrowed);
        let mut tried_nonce = false;
        loop {
            let mut request = self
                .config
                .http
                .post(d.token_endpoint.clone())
                .headers(headers.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(body.clone());
            if let Some(key) = &self.config.dpop {
                let nonce = get_nonce(&self.as_nonce);
                let proof = key.proof(&Method::POST, &d.token_endpoint, None, nonce.as_deref())?;
                request = request.header(DPOP, proof);
            }
            let response = request.send().await.map_err(|source| OAuthError::Http {
                url: d.token_endpoint.to_string(),
                source,
            })?;
            let status = response.status();
            let nonce = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if nonce.is_some() {
                set_nonce(&self.as_nonce, nonce.clone());
            }
            let value: Value = response.json().await.unwrap_or(Value::Null);
            if !status.is_success() {
                let use_nonce =
                    value.get("error").and_then(Value::as_str) == Some("use_dpop_nonce");
                if use_nonce && nonce.is_some() && !tried_nonce && self.config.dpop.is_some() {
                    tried_nonce = true;
                    continue;
                }
                return Err(endpoint_error("token", status, &value).into());
            }
            let access = value
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| err_discovery("the token response has no access_token"))?
                .to_owned();
            let dpop = self.config.dpop.is_some()
                && value
                    .get("token_type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("dpop"));
            return Ok(Token {
                access,
                dpop,
                expires_at: value
                    .get("expires_in")
                    .and_then(Value::as_u64)
                    .map(|s| Instant::now() + Duration::from_secs(s)),
                refresh: value
                    .get("refresh_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
    }

    /// Runs the configured grant for `scopes`.
    async fn obtain(&self, st: &mut State, d: &Discovery) -> Result<Token, AuthError> {
        let scope = st.scopes.join(" ");
        let mut params: Vec<(&str, String)> = Vec::new();
        match &self.config.grant {
            Grant::ClientCredentials => {
                let client = self.client(st, d).await?;
                params.push(("grant_type", "client_credentials".into()));
                if !scope.is_empty() {
                    params.push(("scope", scope));
                }
                params.push(("resource", d.resource.clone()));
                self.token_request(d, Some(&client), params).await
            }
            Grant::JwtBearer(provider) => {
                let assertion = provider
                    .assertion(AssertionContext {
                        issuer: d.issuer.clone(),
                        resource: d.resource.clone(),
                        scopes: st.scopes.clone(),
                        http: self.config.http.clone(),
                    })
                    .await?;
                let client = match &self.config.client_id {
                    Some(_) => Some(self.client(st, d).await?),
                    None => None,
                };
                params.push((
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                ));
                params.push(("assertion", assertion));
                if !scope.is_empty() {
                    params.push(("scope", scope));
                }
                params.push(("resource", d.resource.clone()));
                self.token_request(d, client.as_ref(), params).await
            }
            Grant::AuthorizationCode {
                redirect_uri,
                handler,
                ..
            } => {
                let client = self.client(st, d).await?;
                let endpoint = d
                    .authorization_endpoint
                    .clone()
                    .ok_or_else(|| err_discovery("no authorization_endpoint"))?;
                let verifier = random_string(32)?;
                let state = random_string(16)?;
                let mut url = endpoint;
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("response_type", "code")
                        .append_pair("client_id", &client.id)
                        .append_pair("redirect_uri", redirect_uri)
                        .append_pair("code_challenge", &sha256_b64url(&verifier))
                        .append_pair("code_challenge_method", "S256")
                        .append_pair("state", &state);
                    if !scope.is_empty() {
                        q.append_pair("scope", &scope);
                    }
                    q.append_pair("resource", &d.resource);
                }
                let callback = handler.authorize(url).await?;
                let code = check_redirect(&callback, &state, d)?;
                params.push(("grant_type", "authorization_code".into()));
                params.push(("code", code));
                params.push(("redirect_uri", redirect_uri.clone()));
                params.push(("code_verifier", verifier));
                params.push(("resource", d.resource.clone()));
                self.token_request(d, Some(&client), params).await
            }
        }
    }

    async fn refresh(&self, st: &mut State) -> Result<bool, AuthError> {
        let (Some(d), Some(refresh)) = (
            st.discovery.clone(),
            st.token.as_ref().and_then(|t| t.refresh.clone()),
        ) else {
            return Ok(false);
        };
        let client = match (&self.config.grant, &self.config.client_id) {
            (Grant::JwtBearer(_), None) => None,
            _ => Some(self.client(st, &d).await?),
        };
        let params = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.clone()),
            ("resource", d.resource.clone()),
        ];
        match self.token_request(&d, client.as_ref(), params).await {
            Ok(mut t) => {
                if t.refresh.is_none() {
                    t.refresh = Some(refresh);
                }
                st.token = Some(t);
                Ok(true)
            }
            Err(e) => {
                tracing::debug!(error = %e, "token refresh failed");
                st.token = None;
                Ok(false)
            }
        }
    }

    /// Adopts a (new) discovery and obtains a token for the current scopes.
    async fn authenticate(&self, st: &mut State, d: Discovery) -> Result<(), AuthError> {
        if st
            .discovery
            .as_ref()
            .is_some_and(|old| old.issuer != d.issuer)
        {
            st.token = None;
        }
        st.discovery = Some(d.clone());
        let token = self.obtain(st, &d).await?;
        st.token = Some(token);
        Ok(())
    }

    fn initial_scopes(&self, challenge: Option<&Challenge>, d_scopes: &[String]) -> Vec<String> {
        let from_challenge: Vec<String> = challenge
            .map(|c| c.scopes().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        if !from_challenge.is_empty() {
            from_challenge
        } else if !self.config.scopes.is_empty() {
            self.config.scopes.clone()
        } else {
            d_scopes.to_vec()
        }
    }

    async fn authorize(&self, request: &mut AuthRequest) -> Result<(), AuthError> {
        let mut st = self.state.lock().await;
        let expired = st.token.as_ref().is_some_and(|t| {
            t.expires_at
                .is_some_and(|at| Instant::now() + self.config.refresh_margin >= at)
        });
        if expired && !self.refresh(&mut st).await? {
            st.token = None;
            if let Some(d) = st.discovery.clone() {
                if !matches!(self.config.grant, Grant::AuthorizationCode { .. }) {
                    st.token = Some(self.obtain(&mut st, &d).await?);
                }
            }
        }
        let Some(token) = &st.token else {
            return Ok(());
        };
        if token.dpop {
            if let Some(key) = &self.config.dpop {
                let nonce = get_nonce(&self.rs_nonce);
                let proof = key.proof(
                    request.method(),
                    request.url(),
                    Some(&token.access),
                    nonce.as_deref(),
                )?;
                request.set_authorization("DPoP", &token.access)?;
                return request.set_secret(DPOP, &proof);
            }
        }
        request.set_authorization("Bearer", &token.access)
    }

    fn observe(&self, response: &AuthResponse<'_>) {
        if self.config.dpop.is_some() {
            if let Some(n) = response.dpop_nonce() {
                set_nonce(&self.rs_nonce, Some(n.to_owned()));
            }
        }
    }

    async fn on_rejection(&self, response: &AuthResponse<'_>) -> Result<AuthDecision, AuthError> {
        let challenge = response
            .challenges()
            .iter()
            .find(|c| c.is_scheme("Bearer") || c.is_scheme("DPoP"));
        let mut st = self.state.lock().await;
        if response.status() == StatusCode::UNAUTHORIZED {
            if self.config.dpop.is_some() && st.token.as_ref().is_some_and(|t| t.dpop) {
                if let Some(nonce) = wants_nonce(response) {
                    set_nonce(&self.rs_nonce, Some(nonce));
                    return Ok(AuthDecision::Retry);
                }
            }
            if response.retries() >= 2 {
                return Ok(AuthDecision::Fail);
            }
            if response.retries() == 0 && st.token.is_some() && self.refresh(&mut st).await? {
                return Ok(AuthDecision::Retry);
            }
            st.token = None;
            let d = self.discover(response.url(), challenge).await?;
            // A challenge that names no scope (e.g. `invalid_token`) keeps the scopes already
            // chosen; widening them to everything the resource supports would ask the
            // authorization server for more than this client may have.
            let named = challenge.is_some_and(|c| !c.scopes().is_empty());
            if named || st.scopes.is_empty() {
                st.scopes = self.initial_scopes(challenge, &d.prm_scopes);
            }
            self.authenticate(&mut st, d).await?;
            return Ok(AuthDecision::Retry);
        }
        let insufficient = challenge.is_some_and(|c| c.error() == Some("insufficient_scope"));
        if response.status() == StatusCode::FORBIDDEN
            && insufficient
            && self.config.step_up
            && response.retries() < 2
        {
            let mut scopes = st.scopes.clone();
            for s in challenge.map(Challenge::scopes).unwrap_or_default() {
                if !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_owned());
                }
            }
            st.scopes = scopes;
            st.token = None;
            let d = self.discover(response.url(), challenge).await?;
            self.authenticate(&mut st, d).await?;
            return Ok(AuthDecision::Retry);
        }
        Ok(AuthDecision::Fail)
    }
}

/// `application/x-www-form-urlencoded` encoding of one component (RFC 6749 §2.3.1).
fn form_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// OpenID `application_type` of a registration: `native` for loopback or custom-scheme redirects.
fn application_type(redirect_uri: &str) -> &'static str {
    match Url::parse(redirect_uri) {
        Ok(u)
            if u.scheme() == "https"
                && !matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) =>
        {
            "web"
        }
        _ => "native",
    }
}

fn endpoint_error(endpoint: &'static str, status: StatusCode, body: &Value) -> OAuthError {
    OAuthError::Endpoint {
        endpoint,
        status: status.as_u16(),
        error: body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("request failed")
            .to_owned(),
        description: body
            .get("error_description")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// Checks the authorization response: `error`, `state`, RFC 9207 `iss`; returns the `code`.
fn check_redirect(callback: &Url, state: &str, d: &Discovery) -> Result<String, AuthError> {
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let reject = |msg: String| -> AuthError { OAuthError::AuthorizationResponse(msg).into() };
    if let Some(error) = param("error") {
        return Err(reject(format!("the authorization server answered {error}")));
    }
    if param("state").as_deref() != Some(state) {
        return Err(reject("state does not match".into()));
    }
    let advertised = d
        .metadata
        .get("authorization_response_iss_parameter_supported")
        == Some(&Value::Bool(true));
    match param("iss") {
        Some(iss) if iss != d.issuer => {
            return Err(reject(format!(
                "iss {iss:?} is not the issuer {:?}",
                d.issuer
            )));
        }
        None if advertised => return Err(reject("iss is missing".into())),
        _ => {}
    }
    param("code").ok_or_else(|| reject("no code".into()))
}

macro_rules! oauth_strategy {
    ($name:ident) => {
        impl Auth for $name {
            fn authorize<'a>(
                &'a self,
                request: &'a mut AuthRequest,
            ) -> BoxFuture<'a, Result<(), AuthError>> {
                Box::pin(self.engine.authorize(request))
            }

            fn observe(&self, response: &AuthResponse<'_>) {
                self.engine.observe(response);
            }

            fn on_rejection<'a>(
                &'a self,
                response: &'a AuthResponse<'_>,
            ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
                Box::pin(self.engine.on_rejection(response))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let c = &self.engine.config;
                f.debug_struct(stringify!($name))
                    .field("client_id", &c.client_id)
                    .field("client_secret", &c.client_secret.as_deref().map(Redacted))
                    .field("scopes", &c.scopes)
                    .field("dpop", &c.dpop)
                    .finish_non_exhaustive()
            }
        }

        impl $name {
            /// Requests these scopes (a 401 challenge's `scope` takes precedence; without
            /// either, the resource's `scopes_supported`; without any, no `scope` at all).
            #[must_use]
            pub fn scopes<I, S>(mut self, scopes: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                self.config_mut().scopes = scopes.into_iter().map(Into::into).collect();
                self
            }

            /// Asks for a DPoP-bound token (token request with a proof) and proves possession of
            /// `key` on every request.
            #[must_use]
            pub fn dpop(mut self, key: DpopKey) -> Self {
                self.config_mut().dpop = Some(key);
                self
            }

            /// Whether a 403 `insufficient_scope` re-obtains a token with the scopes it names
            /// (default: yes).
            #[must_use]
            pub fn step_up(mut self, allowed: bool) -> Self {
                self.config_mut().step_up = allowed;
                self
            }

            /// Forces the token endpoint authentication (default: from the server's metadata).
            #[must_use]
            pub fn token_endpoint_auth(mut self, method: TokenEndpointAuth) -> Self {
                self.config_mut().auth_method = Some(method);
                self
            }

            /// How long before expiry a cached token is renewed (default 30 s).
            #[must_use]
            pub fn refresh_margin(mut self, margin: Duration) -> Self {
                self.config_mut().refresh_margin = margin;
                self
            }

            /// The HTTP client for discovery and token requests (it should not follow
            /// redirects).
            #[must_use]
            pub fn http_client(mut self, client: reqwest::Client) -> Self {
                self.config_mut().http = client;
                self
            }

            fn config_mut(&mut self) -> &mut Config {
                &mut self.engine.config
            }
        }
    };
}

fn base_config(grant: Grant) -> Config {
    Config {
        http: http_client(),
        grant,
        client_id: None,
        client_secret: None,
        signing_key: None,
        auth_method: None,
        scopes: Vec::new(),
        dpop: None,
        step_up: true,
        refresh_margin: Duration::from_secs(30),
    }
}

/// The OAuth client credentials grant with everything discovered from the server's first 401:
/// protected-resource metadata, authorization-server metadata, then `POST token_endpoint` with
/// `grant_type=client_credentials`, `resource` (RFC 8707) and the scopes, authenticated with the
/// client secret (Basic or in the body, as the metadata allows) or a `private_key_jwt`
/// assertion. The token is cached until shortly before it expires.
///
/// ```no_run
/// use mcp_client::auth::ClientCredentialsAuth;
/// # async fn run() -> Result<(), mcp_client::Error> {
/// let auth = ClientCredentialsAuth::new("my-service", "s3cret").scopes(["tools:call"]);
/// let client = mcp_client::McpClient::connect("https://mcp.example.com/mcp", auth).await?;
/// # Ok(()) }
/// ```
pub struct ClientCredentialsAuth {
    engine: Engine,
}

oauth_strategy!(ClientCredentialsAuth);

impl ClientCredentialsAuth {
    /// A confidential client with `client_id` and `client_secret`.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        let mut config = base_config(Grant::ClientCredentials);
        config.client_id = Some(client_id.into());
        config.client_secret = Some(client_secret.into());
        ClientCredentialsAuth {
            engine: Engine::new(config),
        }
    }

    /// A client authenticating with an ES256 `private_key_jwt` assertion (RFC 7523) signed by
    /// `key` (`iss` = `sub` = `client_id`, `aud` = the issuer).
    pub fn private_key_jwt(client_id: impl Into<String>, key: DpopKey) -> Self {
        let mut config = base_config(Grant::ClientCredentials);
        config.client_id = Some(client_id.into());
        config.signing_key = Some(key);
        ClientCredentialsAuth {
            engine: Engine::new(config),
        }
    }
}

/// The RFC 7523 JWT-bearer grant, with the same discovery as [`ClientCredentialsAuth`]: the
/// assertion comes from an [`AssertionProvider`] (a workload identity token, an identity
/// assertion exchanged at an enterprise IdP, ...).
pub struct JwtBearerAuth {
    engine: Engine,
}

oauth_strategy!(JwtBearerAuth);

impl JwtBearerAuth {
    /// Assertions from `provider`; the client does not authenticate itself unless
    /// [`client`](Self::client) is set.
    pub fn new(provider: impl AssertionProvider) -> Self {
        JwtBearerAuth {
            engine: Engine::new(base_config(Grant::JwtBearer(Arc::new(provider)))),
        }
    }

    /// Authenticates the client at the token endpoint too (`client_secret` optional).
    #[must_use]
    pub fn client(mut self, client_id: impl Into<String>, client_secret: Option<String>) -> Self {
        let c = self.config_mut();
        c.client_id = Some(client_id.into());
        c.client_secret = client_secret;
        self
    }
}

/// The authorization code grant with PKCE (S256): after the same discovery, the client gets an
/// identity (a pre-registered client, a client ID metadata document URL when the server supports
/// it, or dynamic registration, RFC 7591, remembered per authorization server), sends the user to
/// the authorization URL through a [`RedirectHandler`], checks `state` and the RFC 9207 `iss` of
/// the redirect, and exchanges the code. Refresh tokens are used when the token expires or is
/// refused.
///
/// ```no_run
/// use mcp_client::auth::{AuthorizationCodeAuth, LoopbackRedirect};
/// # async fn run() -> Result<(), mcp_client::Error> {
/// let redirect = LoopbackRedirect::bind(8765).await?;
/// let auth = AuthorizationCodeAuth::new(redirect.redirect_uri(), redirect);
/// let client = mcp_client::McpClient::connect("https://mcp.example.com/mcp", auth).await?;
/// # Ok(()) }
/// ```
pub struct AuthorizationCodeAuth {
    engine: Engine,
}

oauth_strategy!(AuthorizationCodeAuth);

impl AuthorizationCodeAuth {
    /// A client whose redirects go to `redirect_uri`, handled by `handler`.
    pub fn new(redirect_uri: impl Into<String>, handler: impl RedirectHandler) -> Self {
        AuthorizationCodeAuth {
            engine: Engine::new(base_config(Grant::AuthorizationCode {
                redirect_uri: redirect_uri.into(),
                handler: Arc::new(handler),
                client_metadata_url: None,
                client_name: "mcp-client".into(),
            })),
        }
    }

    /// Uses a pre-registered client (no registration); `client_secret` for a confidential one.
    #[must_use]
    pub fn client(mut self, client_id: impl Into<String>, client_secret: Option<String>) -> Self {
        let c = self.config_mut();
        c.client_id = Some(client_id.into());
        c.client_secret = client_secret;
        self
    }

    /// Uses this client ID metadata document URL as the client ID where the authorization
    /// server supports it (`client_id_metadata_document_supported`).
    #[must_use]
    pub fn client_metadata_url(mut self, url: impl Into<String>) -> Self {
        if let Grant::AuthorizationCode {
            client_metadata_url,
            ..
        } = &mut self.config_mut().grant
        {
            *client_metadata_url = Some(url.into());
        }
        self
    }

    /// The `client_name` sent in dynamic registration (default `mcp-client`).
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        if let Grant::AuthorizationCode { client_name, .. } = &mut self.config_mut().grant {
            *client_name = name.into();
        }
        self
    }
}

/// A [`RedirectHandler`] for command-line apps: listens on `127.0.0.1:<port>`, prints the
/// authorization URL on stderr for the user to open, and takes the first request to
/// `/callback` as the redirect.
#[derive(Debug, Clone)]
pub struct LoopbackRedirect {
    listener: Arc<Mutex<tokio::net::TcpListener>>,
    port: u16,
}

impl LoopbackRedirect {
    /// Binds `127.0.0.1:port` (0 = any free port).
    pub async fn bind(port: u16) -> Result<Self, AuthError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| AuthError::Strategy(Box::new(e)))?;
        let port = listener
            .local_addr()
            .map_err(|e| AuthError::Strategy(Box::new(e)))?
            .port();
        Ok(LoopbackRedirect {
            listener: Arc::new(Mutex::new(listener)),
            port,
        })
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }
}

impl RedirectHandler for LoopbackRedirect {
    fn authorize(&self, authorization_url: Url) -> BoxFuture<'static, Result<Url, AuthError>> {
        let listener = self.listener.clone();
        let base = self.redirect_uri();
        Box::pin(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            eprintln!("Open this URL to authorize:\n{authorization_url}");
            let listener = listener.lock().await;
            loop {
                let (mut socket, _) = listener
                    .accept()
                    .await
                    .map_err(|e| AuthError::Strategy(Box::new(e)))?;
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let page = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nAuthorization received; you may close this window.\n";
                let _ = socket.write_all(page.as_bytes()).await;
                if target.starts_with("/callback") {
                    let url = Url::parse(&base)
                        .and_then(|b| b.join(&target))
                        .map_err(|_| {
                            AuthError::from(OAuthError::AuthorizationResponse(
                                "unreadable callback".into(),
                            ))
                        })?;
                    return Ok(url);
                }
            }
        })
    }
}

/// A [`RedirectHandler`] that follows nothing: it GETs the authorization URL and returns the
/// `Location` of the answer. Only useful against authorization servers that redirect at once
/// (test servers, conformance mocks).
pub fn headless_redirect(
    http: reqwest::Client,
) -> impl Fn(Url) -> BoxFuture<'static, Result<Url, AuthError>> + Send + Sync + 'static {
    move |url: Url| {
        let http = http.clone();
        Box::pin(async move {
            let response =
                http.get(url.clone())
                    .send()
                    .await
                    .map_err(|source| OAuthError::Http {
                        url: url.origin().ascii_serialization(),
                        source,
                    })?;
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    OAuthError::AuthorizationResponse(format!(
                        "the authorization endpoint answered {} without a redirect",
                        response.status()
                    ))
                })?;
            url.join(location)
                .map_err(|_| OAuthError::AuthorizationResponse("unreadable redirect".into()).into())
        }) as BoxFuture<'static, Result<Url, AuthError>>
    }
}

/// A reqwest client that does not follow redirects, as the OAuth flows need.
pub fn no_redirect_client() -> reqwest::Client {
    http_client()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_prefix_rules() -> Result<(), Box<dyn std::error::Error>> {
        let server = Url::parse("http://localhost:1/mcp")?;
        assert!(resource_covers("http://localhost:1/mcp", &server));
        assert!(resource_covers("http://localhost:1/", &server));
        assert!(resource_covers("http://localhost:1", &server));
        assert!(!resource_covers("https://evil.example.com/mcp", &server));
        assert!(!resource_covers("http://localhost:1/mcp2", &server));
        Ok(())
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_component("a b:c"), "a+b%3Ac");
    }
}
