//! [`DpopAuth`]: a DPoP-bound access token (RFC 9449) with a fresh proof per request.

use std::fmt;
use std::sync::Mutex;

use reqwest::StatusCode;
use reqwest::header::HeaderName;

use super::jose::DpopKey;
use super::{Auth, AuthDecision, AuthError, AuthRequest, AuthResponse, Redacted};
use crate::BoxFuture;

/// The `DPoP` request header.
pub(crate) const DPOP: HeaderName = HeaderName::from_static("dpop");

/// Whether a rejection asks for a (new) DPoP nonce: `error="use_dpop_nonce"` in a challenge, with
/// a `DPoP-Nonce` header.
pub(crate) fn wants_nonce(response: &AuthResponse<'_>) -> Option<String> {
    let asks = response
        .challenges()
        .iter()
        .any(|c| c.error() == Some("use_dpop_nonce"));
    if asks && response.status() == StatusCode::UNAUTHORIZED {
        response.dpop_nonce().map(str::to_owned)
    } else {
        None
    }
}

/// Sends `Authorization: DPoP <token>` with a fresh `DPoP` proof on every request (unique `jti`,
/// `htm`, `htu`, `iat`, `ath` = hash of the token). When the server answers 401
/// `error="use_dpop_nonce"` with a `DPoP-Nonce`, the request is sent once more with that nonce,
/// and the nonce (or any later rotated one) is kept for the following requests.
///
/// ```
/// use mcp_client::auth::{DpopAuth, DpopKey};
///
/// let key = DpopKey::generate()?;
/// let auth = DpopAuth::new("eyJ...", key.clone());
/// assert_eq!(auth.key().thumbprint(), key.thumbprint());
/// # Ok::<(), mcp_client::auth::AuthError>(())
/// ```
pub struct DpopAuth {
    token: String,
    key: DpopKey,
    nonce: Mutex<Option<String>>,
}

impl fmt::Debug for DpopAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopAuth")
            .field("token", &Redacted(&self.token))
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl DpopAuth {
    /// A DPoP-bound `access_token`, proven with `key` (the key the token is bound to).
    pub fn new(access_token: impl Into<String>, key: DpopKey) -> Self {
        DpopAuth {
            token: access_token.into(),
            key,
            nonce: Mutex::new(None),
        }
    }

    /// The same with a freshly generated ES256 key (useful when the token is obtained later
    /// with [`DpopAuth::key`]'s thumbprint).
    pub fn generate(access_token: impl Into<String>) -> Result<Self, AuthError> {
        Ok(Self::new(access_token, DpopKey::generate()?))
    }

    /// The proof key.
    pub fn key(&self) -> &DpopKey {
        &self.key
    }

    fn nonce(&self) -> Option<String> {
        self.nonce.lock().ok().and_then(|n| n.clone())
    }

    fn set_nonce(&self, nonce: String) {
        if let Ok(mut n) = self.nonce.lock() {
            *n = Some(nonce);
        }
    }
}

impl Auth for DpopAuth {
    fn authorize<'a>(
        &'a self,
        request: &'a mut AuthRequest,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        let result = (|| {
            let nonce = self.nonce();
            let proof = self.key.proof(
                request.method(),
                request.url(),
                Some(&self.token),
                nonce.as_deref(),
            )?;
            request.set_authorization("DPoP", &self.token)?;
            request.set_secret(DPOP, &proof)
        })();
        Box::pin(std::future::ready(result))
    }

    fn observe(&self, response: &AuthResponse<'_>) {
        if let Some(nonce) = response.dpop_nonce() {
            self.set_nonce(nonce.to_owned());
        }
    }

    fn on_rejection<'a>(
        &'a self,
        response: &'a AuthResponse<'_>,
    ) -> BoxFuture<'a, Result<AuthDecision, AuthError>> {
        let decision = match wants_nonce(response) {
            Some(nonce) if response.retries() == 0 => {
                self.set_nonce(nonce);
                AuthDecision::Retry
            }
            _ => AuthDecision::Fail,
        };
        Box::pin(std::future::ready(Ok(decision)))
    }
}
