//! What every OAuth strategy has in common on top of the engine: the [`Auth`](crate::auth::Auth)
//! implementation, a `Debug` that hides the secret, and the builder methods of the shared
//! settings (scopes, DPoP, step-up, token endpoint authentication, refresh margin, HTTP client).

/// Implements [`Auth`](crate::auth::Auth), `Debug` and the shared builder methods for a strategy
/// struct with an `engine` field.
macro_rules! oauth_strategy {
    ($name:ident) => {
        impl $crate::auth::Auth for $name {
            fn authorize<'a>(
                &'a self,
                request: &'a mut $crate::auth::AuthRequest,
            ) -> $crate::BoxFuture<'a, Result<(), $crate::auth::AuthError>> {
                Box::pin(self.engine.authorize(request))
            }

            fn observe(&self, response: &$crate::auth::AuthResponse<'_>) {
                self.engine.observe(response);
            }

            fn on_rejection<'a>(
                &'a self,
                response: &'a $crate::auth::AuthResponse<'_>,
            ) -> $crate::BoxFuture<'a, Result<$crate::auth::AuthDecision, $crate::auth::AuthError>>
            {
                Box::pin(self.engine.on_rejection(response))
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let c = &self.engine.config;
                f.debug_struct(stringify!($name))
                    .field("issuer", &c.issuer)
                    .field("client_id", &c.client_id)
                    .field(
                        "client_secret",
                        &c.client_secret.as_deref().map($crate::auth::Redacted),
                    )
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
            pub fn dpop(mut self, key: $crate::auth::DpopKey) -> Self {
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
            pub fn token_endpoint_auth(mut self, method: $crate::auth::TokenEndpointAuth) -> Self {
                self.config_mut().auth_method = Some(method);
                self
            }

            /// How long before expiry a cached token is renewed (default 30 s).
            #[must_use]
            pub fn refresh_margin(mut self, margin: ::std::time::Duration) -> Self {
                self.config_mut().refresh_margin = margin;
                self
            }

            /// The HTTP client for discovery and token requests. It must not follow redirects
            /// (build it with `redirect(reqwest::redirect::Policy::none())`, or start from
            /// [`no_redirect_client`](crate::auth::no_redirect_client)): a followed redirect
            /// would carry the client's credentials to wherever it points.
            #[must_use]
            pub fn http_client(mut self, client: reqwest::Client) -> Self {
                self.config_mut().http = client;
                self
            }

            /// Allows plain `http` to authorization servers, metadata URLs and token endpoints
            /// that are not on loopback. **Dangerous**: anyone on the path reads the client's
            /// credentials and tokens. Without it such a URL fails with
            /// [`OAuthError::InsecureUrl`](crate::auth::OAuthError::InsecureUrl) before
            /// anything is sent (loopback hosts are always allowed). A warning is logged when
            /// this is set and when it first lets a request through.
            #[must_use]
            pub fn dangerously_allow_http(mut self) -> Self {
                tracing::warn!(
                    strategy = stringify!($name),
                    "dangerously_allow_http(): OAuth credentials may be sent over plain http"
                );
                self.config_mut().allow_http = true;
                self
            }

            fn config_mut(&mut self) -> &mut $crate::auth::oauth::engine::Config {
                &mut self.engine.config
            }
        }
    };
}

pub(super) use oauth_strategy;
