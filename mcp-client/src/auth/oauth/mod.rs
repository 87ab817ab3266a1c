//! OAuth 2.1 for MCP: discovery from the server's 401 (RFC 9728 protected-resource metadata,
//! RFC 8414 / OpenID Connect authorization-server metadata), then a token from the client
//! credentials grant ([`ClientCredentialsAuth`]), the authorization code grant with PKCE
//! ([`AuthorizationCodeAuth`]) or a JWT assertion ([`JwtBearerAuth`]), always with the RFC 8707
//! `resource` parameter and optionally DPoP-bound (RFC 9449).
//!
//! All three share one engine: the token is cached until shortly before it expires, refreshed
//! with a refresh token when there is one, obtained again after a 401 (once per request), and —
//! when allowed — re-obtained with more scopes after a 403 `insufficient_scope` (step-up).
//!
//! What the engine trusts:
//!
//! - **Pinned issuers.** Pre-registered credentials (a client secret, a `private_key_jwt` key)
//!   are configured with the issuer they are registered with —
//!   `ClientCredentialsAuth::new(issuer, client_id, secret)`, `.client(issuer, client_id,
//!   secret)` — and only ever sent there: protected-resource metadata that does not list that
//!   issuer, or authorization-server metadata naming another, is
//!   [`OAuthError::UntrustedIssuer`]. Dynamically registered clients are kept per
//!   authorization server and only used with it.
//! - **https.** Authorization servers, metadata URLs and endpoints must be `https`, except on
//!   loopback, unless the strategy's `dangerously_allow_http()` says otherwise
//!   ([`OAuthError::InsecureUrl`]); redirects are not followed.
//! - **The resource.** Protected-resource metadata from the path-suffixed well-known URL or the
//!   challenge's `resource_metadata` (same origin only, else
//!   [`OAuthError::ForeignResourceMetadata`]) must name the server URL; only the root document
//!   may name the bare origin (RFC 9728 §3.3, else [`OAuthError::ResourceMismatch`]).
//! - **Numbers.** `expires_in` is clamped (a year at most); no value a server sends overflows.

mod authorization_code;
mod client_credentials;
mod client_identity;
mod discovery;
mod engine;
mod error;
mod jwt_bearer;
mod redirect;
mod strategy;
mod token_endpoint;

pub use authorization_code::AuthorizationCodeAuth;
pub use client_credentials::ClientCredentialsAuth;
pub use engine::no_redirect_client;
pub use error::OAuthError;
pub use jwt_bearer::{AssertionContext, AssertionProvider, JwtBearerAuth};
pub use redirect::{LoopbackRedirect, RedirectHandler, headless_redirect};
pub use token_endpoint::TokenEndpointAuth;
