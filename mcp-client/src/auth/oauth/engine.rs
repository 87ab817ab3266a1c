//! The engine every OAuth strategy runs on: its configuration, the cached token and scopes, the
//! DPoP nonces, and the [`Auth`](crate::auth::Auth) hooks (refresh on expiry, re-discovery and a
//! new token after a 401, step-up after a 403 `insufficient_scope`).

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use tokio::sync::Mutex;

use super::client_identity::Client;
use super::discovery::Discovery;
use super::error::OAuthError;
use super::jwt_bearer::AssertionProvider;
use super::redirect::RedirectHandler;
use super::token_endpoint::{Token, TokenEndpointAuth};
use crate::auth::dpop::{DPOP, wants_nonce};
use crate::auth::jose::DpopKey;
use crate::auth::{AuthDecision, AuthError, AuthRequest, AuthResponse};
use crate::challenge::Challenge;
use crate::secure_url::{Verdict, shown, verdict, warn_once};

/// The grant a strategy runs, with what only that grant needs.
pub(super) enum Grant {
    ClientCredentials,
    AuthorizationCode {
        redirect_uri: String,
        handler: Arc<dyn RedirectHandler>,
        client_metadata_url: Option<String>,
        client_name: String,
    },
    JwtBearer(Arc<dyn AssertionProvider>),
}

/// How a strategy is set up (its builder methods change this).
pub(super) struct Config {
    pub(super) http: reqwest::Client,
    pub(super) grant: Grant,
    /// The authorization server the configured credentials are registered with: they go to no
    /// other (`None`: no pre-registered credentials, any issuer the server names is used).
    pub(super) issuer: Option<String>,
    /// Plain `http` to hosts that are not loopback is allowed (`dangerously_allow_http()`).
    pub(super) allow_http: bool,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<String>,
    pub(super) signing_key: Option<DpopKey>,
    pub(super) auth_method: Option<TokenEndpointAuth>,
    pub(super) scopes: Vec<String>,
    pub(super) dpop: Option<DpopKey>,
    pub(super) step_up: bool,
    pub(super) refresh_margin: Duration,
}

/// What the engine learnt: the discovery, registered clients, the token and its scopes.
#[derive(Default)]
pub(super) struct State {
    pub(super) discovery: Option<Discovery>,
    pub(super) clients: HashMap<String, Client>,
    pub(super) token: Option<Token>,
    pub(super) scopes: Vec<String>,
}

/// The configuration, the state behind an async lock, and the last DPoP nonces of the resource
/// server and of the authorization server.
pub(super) struct Engine {
    pub(super) config: Config,
    pub(super) state: Mutex<State>,
    pub(super) rs_nonce: SyncMutex<Option<String>>,
    pub(super) as_nonce: SyncMutex<Option<String>>,
    /// Whether the `dangerously_allow_http()` warning was logged.
    http_warned: AtomicBool,
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

pub(super) fn get_nonce(m: &SyncMutex<Option<String>>) -> Option<String> {
    m.lock().ok().and_then(|n| n.clone())
}

pub(super) fn set_nonce(m: &SyncMutex<Option<String>>, v: Option<String>) {
    if let Ok(mut n) = m.lock() {
        *n = v;
    }
}

impl Engine {
    pub(super) fn new(config: Config) -> Self {
        Engine {
            config,
            state: Mutex::new(State::default()),
            rs_nonce: SyncMutex::new(None),
            as_nonce: SyncMutex::new(None),
            http_warned: AtomicBool::new(false),
        }
    }

    /// Refuses plain `http` to a host that is not loopback (unless allowed by name), before
    /// anything is sent to `url`.
    pub(super) fn check_url(&self, url: &Url) -> Result<(), AuthError> {
        match verdict(url, self.config.allow_http) {
            Verdict::Secure => Ok(()),
            Verdict::AllowedHttp => {
                warn_once(&self.http_warned, "OAuth discovery and token requests", url);
                Ok(())
            }
            Verdict::Refused => Err(OAuthError::InsecureUrl { url: shown(url) }.into()),
        }
    }

    /// Refuses an issuer other than the pinned one (when there is one).
    pub(super) fn check_pinned(&self, discovered: &str) -> Result<(), AuthError> {
        match &self.config.issuer {
            Some(pinned) if !same_issuer(pinned, discovered) => Err(OAuthError::UntrustedIssuer {
                pinned: pinned.clone(),
                discovered: discovered.to_owned(),
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Runs the configured grant for `scopes`.
    async fn obtain(&self, st: &mut State, d: &Discovery) -> Result<Token, AuthError> {
        let scope = st.scopes.join(" ");
        match &self.config.grant {
            Grant::ClientCredentials => self.obtain_client_credentials(st, d, scope).await,
            Grant::JwtBearer(provider) => {
                self.obtain_jwt_bearer(st, d, scope, provider.as_ref())
                    .await
            }
            Grant::AuthorizationCode {
                redirect_uri,
                handler,
                ..
            } => {
                self.obtain_authorization_code(st, d, scope, redirect_uri, handler.as_ref())
                    .await
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
        // A token the server will refuse is not worth asking for.
        if d.dpop_required && self.config.dpop.is_none() {
            return Err(OAuthError::DpopRequired.into());
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

    pub(super) async fn authorize(&self, request: &mut AuthRequest) -> Result<(), AuthError> {
        let mut st = self.state.lock().await;
        // A margin too large to add to now (a user's `Duration::MAX`) means: always renew.
        let expired = st.token.as_ref().is_some_and(|t| {
            t.expires_at.is_some_and(|at| {
                Instant::now()
                    .checked_add(self.config.refresh_margin)
                    .is_none_or(|renew_at| renew_at >= at)
            })
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

    pub(super) fn observe(&self, response: &AuthResponse<'_>) {
        if self.config.dpop.is_some() {
            if let Some(n) = response.dpop_nonce() {
                set_nonce(&self.rs_nonce, Some(n.to_owned()));
            }
        }
    }

    pub(super) async fn on_rejection(
        &self,
        response: &AuthResponse<'_>,
    ) -> Result<AuthDecision, AuthError> {
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

/// The configuration of a new strategy running `grant`, before its builder methods.
pub(super) fn base_config(grant: Grant) -> Config {
    Config {
        http: http_client(),
        grant,
        issuer: None,
        allow_http: false,
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

/// A reqwest client that does not follow redirects, as the OAuth flows need.
pub fn no_redirect_client() -> reqwest::Client {
    http_client()
}

/// Whether two issuer identifiers name the same authorization server: equal after parsing
/// (scheme and host case, default port) and ignoring a trailing slash.
pub(super) fn same_issuer(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => canonical(&a) == canonical(&b) && a.fragment() == b.fragment(),
        _ => a.trim_end_matches('/') == b.trim_end_matches('/'),
    }
}

/// `scheme://host[:port]/path?query` without a trailing slash on the path; scheme and host are
/// lower-case and a default port is left out (the URL parser does both).
pub(super) fn canonical(u: &Url) -> String {
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}{query}",
        u.scheme(),
        u.host_str().unwrap_or_default(),
        u.path().trim_end_matches('/'),
    )
}
