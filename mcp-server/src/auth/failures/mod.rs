//! Rate limiting of failed authentications ([`AuthFailureLimits`]): a budget of failures per
//! client address and one per credential, kept with `governor`'s GCRA in bounded tables
//! ([`limiter`]). Over budget, requests are refused with 429 and `Retry-After` before any
//! expensive check runs.

mod keys;
mod limiter;

use std::time::Duration;

pub(crate) use keys::{AddressKey, CredentialKey};
pub(crate) use limiter::FailureGuard;

/// How failed authentications are rate limited: a budget of failures per client address and
/// one per credential, in every mode that authenticates (OAuth bearer and DPoP tokens, API keys,
/// HTTP Basic) and on both protocol eras (the same [`AuthLayer`](super::AuthLayer) serves
/// them). Set it with
/// [`AuthorizationConfig::auth_failure_limits`](super::AuthorizationConfig::auth_failure_limits);
/// it is on by default.
///
/// **What counts.** Only a credential that was checked and refused: an invalid, forged, expired
/// or revoked token, an unknown or revoked API key, a wrong password or unknown user, a
/// malformed token, a bad DPoP proof (a proof refused, replayed or not matching the token's
/// key). A request without credentials (the plain 401 challenge every client gets first) does
/// not count, nor does a DPoP `use_dpop_nonce` answer (a step of the protocol), nor a request
/// with several credentials (400). Successful authentications never consume the budget, and
/// refusals after authentication do not count: 403 `insufficient_scope`, a key on the wrong
/// surface, a workspace not found, a role too low. Answers 503 (a store or the authorization
/// server unavailable, a saturated check) do not count either.
///
/// **Per address.** The client's IP address, as the connection shows it: IPv4 addresses one by
/// one, IPv6 addresses grouped by their /64 prefix (one host usually holds a whole /64), an
/// IPv4-mapped IPv6 address as its IPv4 address. `X-Forwarded-For` and similar headers are
/// never read: behind a reverse proxy every client has the proxy's address, so either give the
/// proxy budget room or turn the address budget off with
/// [`without_per_address`](Self::without_per_address) and limit at the proxy. The address
/// comes from axum's `ConnectInfo<SocketAddr>`, which [`HttpServer::serve`](crate::HttpServer::serve),
/// `serve_listener` and `testing::spawn` provide; a router served
/// another way needs `into_make_service_with_connect_info::<SocketAddr>()`, or the address
/// budget is skipped (a warning is logged once) and only the credential budget applies.
///
/// **Per credential.** The credential presented, whatever address it comes from, so that one
/// leaked-and-revoked credential hammered from many addresses is throttled too: a bearer
/// token (DPoP or not) and an API key by a SHA-256 digest of the exact secret (never the secret
/// itself; so only who holds a secret can spend its budget), a Basic credential by its user
/// name. A DPoP proof refused for a token that is itself valid counts against the address
/// only: a stolen DPoP-bound token cannot be used to lock its holder out. The Basic budget per
/// user name is the classic lockout trade-off: someone guessing a user's password makes that
/// user wait too, for at most the budget's refill time; turn it off with
/// [`without_per_credential`](Self::without_per_credential) if that matters more than
/// guessing.
///
/// **Budgets.** `per_address(n, period)` allows `n` failures in a burst and gives one back every
/// `period / n` (GCRA: a budget emptied refills completely in `period`). Once it is spent, every
/// request that presents a credential from that address (or with that credential) gets `429
/// Too Many Requests` with `Retry-After` (whole seconds until one more failure is allowed), before
/// any expensive check: no password hash, no JWKS fetch, no signature check, no store lookup.
/// A *valid* credential from a throttled address is refused too while the address is over
/// budget (simple, and it gives a guesser no signal); requests without credentials still get
/// the plain 401 challenge. Attempts already past the check when the budget runs out (sent
/// concurrently) are answered 429 as well once they fail.
///
/// **Memory.** Each budget tracks at most [`max_tracked`](Self::max_tracked) keys (addresses,
/// or credentials), about 60 bytes each: the default bounds both tables together at about
/// 12 MB. Keys whose budget is full again are dropped (governor's `retain_recent`) once per
/// period and whenever a table fills up. When a table is still full of live keys, it fails
/// closed for failures: a new key's failed authentication is answered 429 with a `Retry-After` of
/// the budget's period (by then every entry has refilled and can be dropped), and no invalid
/// credential is ever let through; valid credentials are still accepted.
///
/// Every 429 is an audit event (`auth.denied`, reason `too_many_failures`,
/// `auth_failures_table_full` when the table was full) carrying the client address (the /64 for
/// IPv6) and the credential kind, never the credential; a budget running out is also a
/// `WARN` on target `mcp::auth`. The 429 body is `{"error": "too_many_requests",
/// "error_description": ...}`: it never echoes the credential nor says which budget ran out.
///
/// The state lives in this process, shared by everything built from one configuration (and its
/// clones): the MCP endpoint and the routes behind
/// [`auth_layer`](crate::McpServer::auth_layer) spend the same budgets. Several instances each
/// keep their own.
///
/// ```
/// use std::time::Duration;
/// use mcp_server::auth::{ApiKeys, AuthFailureLimits, AuthorizationConfig};
///
/// let limits = AuthFailureLimits::default()
///     .per_address(50, Duration::from_secs(60)) // a NAT with many clients
///     .per_credential(5, Duration::from_secs(600))
///     .max_tracked(20_000);
/// assert_eq!(limits.address_budget(), Some((50, Duration::from_secs(60))));
/// let server = mcp_server::McpServer::builder("app")
///     .authorization(AuthorizationConfig::builtin(ApiKeys::in_memory()).auth_failure_limits(limits))
///     .build()?;
/// # let _ = server;
///
/// // The defaults, and the only way to turn it off: by name.
/// let defaults = AuthFailureLimits::default();
/// assert_eq!(
///     defaults.address_budget(),
///     Some((
///         AuthFailureLimits::DEFAULT_ADDRESS_FAILURES,
///         AuthFailureLimits::DEFAULT_ADDRESS_PERIOD
///     ))
/// );
/// assert!(!AuthFailureLimits::disabled().is_enabled());
/// # Ok::<(), mcp_server::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthFailureLimits {
    /// Failures per client address: `(count, period)`, `None` for no address budget.
    per_address: Option<(u32, Duration)>,
    /// Failures per credential: `(count, period)`, `None` for no credential budget.
    per_credential: Option<(u32, Duration)>,
    /// How many keys each budget tracks at most.
    max_tracked: usize,
}

impl AuthFailureLimits {
    /// The default number of failures allowed per client address in a burst: 30.
    pub const DEFAULT_ADDRESS_FAILURES: u32 = 30;
    /// The default time in which an address's budget refills completely: 60 s (one failure
    /// back every 2 s).
    pub const DEFAULT_ADDRESS_PERIOD: Duration = Duration::from_secs(60);
    /// The default number of failures allowed per credential in a burst: 10.
    pub const DEFAULT_CREDENTIAL_FAILURES: u32 = 10;
    /// The default time in which a credential's budget refills completely: 300 s (one failure
    /// back every 30 s).
    pub const DEFAULT_CREDENTIAL_PERIOD: Duration = Duration::from_secs(300);
    /// The default bound on the keys each budget tracks: 100 000 addresses and 100 000
    /// credentials.
    pub const DEFAULT_MAX_TRACKED: usize = 100_000;
    /// The longest period accepted: one day.
    pub const MAX_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

    /// The defaults (the same as [`Default`]): 30 failures per address per minute, 10 per
    /// credential per 5 minutes, 100 000 keys tracked per budget.
    pub fn new() -> Self {
        AuthFailureLimits {
            per_address: Some((Self::DEFAULT_ADDRESS_FAILURES, Self::DEFAULT_ADDRESS_PERIOD)),
            per_credential: Some((
                Self::DEFAULT_CREDENTIAL_FAILURES,
                Self::DEFAULT_CREDENTIAL_PERIOD,
            )),
            max_tracked: Self::DEFAULT_MAX_TRACKED,
        }
    }

    /// No limit at all: failed authentications are never throttled (logged at WARN when an
    /// endpoint is built). Prefer limiting at a proxy in front if you turn this off.
    pub fn disabled() -> Self {
        AuthFailureLimits {
            per_address: None,
            per_credential: None,
            ..Self::new()
        }
    }

    /// Allows `failures` failed authentications per client address in a burst, one coming back
    /// every `period / failures` (default 30 per 60 s). `failures` must be at least 1 and
    /// `period` between 1 ms and a day, else `build()` refuses the configuration.
    #[must_use]
    pub fn per_address(mut self, failures: u32, period: Duration) -> Self {
        self.per_address = Some((failures, period));
        self
    }

    /// Allows `failures` failed authentications per credential in a burst, one coming back every
    /// `period / failures` (default 10 per 300 s). Same bounds as
    /// [`per_address`](Self::per_address).
    #[must_use]
    pub fn per_credential(mut self, failures: u32, period: Duration) -> Self {
        self.per_credential = Some((failures, period));
        self
    }

    /// No budget per address (behind a reverse proxy that limits by itself, where every client
    /// has the proxy's address); the credential budget stays.
    #[must_use]
    pub fn without_per_address(mut self) -> Self {
        self.per_address = None;
        self
    }

    /// No budget per credential (no Basic lockout); the address budget stays.
    #[must_use]
    pub fn without_per_credential(mut self) -> Self {
        self.per_credential = None;
        self
    }

    /// Tracks at most `keys` addresses and at most `keys` credentials (default 100 000 each).
    /// At least 1.
    #[must_use]
    pub fn max_tracked(mut self, keys: usize) -> Self {
        self.max_tracked = keys;
        self
    }

    /// The budget per address, `(failures, period)`, if any.
    pub fn address_budget(&self) -> Option<(u32, Duration)> {
        self.per_address
    }

    /// The budget per credential, `(failures, period)`, if any.
    pub fn credential_budget(&self) -> Option<(u32, Duration)> {
        self.per_credential
    }

    /// How many keys each budget tracks at most.
    pub fn max_tracked_keys(&self) -> usize {
        self.max_tracked
    }

    /// Whether any failure is limited.
    pub fn is_enabled(&self) -> bool {
        self.per_address.is_some() || self.per_credential.is_some()
    }

    /// What `build()` refuses: a budget of 0 failures, a period of less than 1 ms or more than
    /// a day, no room for keys.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        for (failures, period) in [self.per_address, self.per_credential]
            .into_iter()
            .flatten()
        {
            if failures == 0 {
                return Err(
                    "a budget allows at least 1 failure (turn a budget off with \
                            `without_per_address()` / `without_per_credential()`)",
                );
            }
            if period < Duration::from_millis(1) || period > Self::MAX_PERIOD {
                return Err("a budget's period lies between 1 ms and one day");
            }
            if (period / failures).is_zero() {
                return Err("a budget gives back at most one failure per nanosecond");
            }
        }
        if self.is_enabled() && self.max_tracked == 0 {
            return Err("`max_tracked` is at least 1 (turn the limits off with \
                        `AuthFailureLimits::disabled()`)");
        }
        Ok(())
    }
}

impl Default for AuthFailureLimits {
    /// [`AuthFailureLimits::new`].
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let d = AuthFailureLimits::default();
        assert_eq!(d, AuthFailureLimits::new());
        assert!(d.is_enabled());
        assert_eq!(d.check(), Ok(()));
        assert_eq!(d.credential_budget(), Some((10, Duration::from_secs(300))));
        assert_eq!(d.max_tracked_keys(), 100_000);
        let off = AuthFailureLimits::disabled();
        assert!(!off.is_enabled());
        assert_eq!(off.max_tracked(0).check(), Ok(()));
        assert!(d.per_address(0, Duration::from_secs(1)).check().is_err());
        assert!(d.per_credential(1, Duration::ZERO).check().is_err());
        assert!(
            d.per_credential(1, Duration::from_secs(86_401))
                .check()
                .is_err()
        );
        assert!(
            d.per_address(u32::MAX, Duration::from_millis(1))
                .check()
                .is_err()
        );
        assert!(d.max_tracked(0).check().is_err());
        let one = d.without_per_address();
        assert_eq!(one.address_budget(), None);
        assert!(one.is_enabled());
        assert!(!one.without_per_credential().is_enabled());
    }
}
