//! The crypto backend of the build (`aws-lc` or `rustcrypto`) made effective in the crates that
//! choose theirs at run time: `jsonwebtoken` (signature checks) and rustls (HTTPS to
//! authorization servers).

/// Why a token validator could not be set up: the HTTP client it fetches keys or introspects
/// with could not be built (TLS initialisation failed).
#[derive(Debug, thiserror::Error)]
#[error("the token validator's HTTP client could not be built: {0}")]
pub struct ValidatorSetupError(#[source] reqwest::Error);

/// An HTTP client for an authorization server: `timeout` per request, no redirects followed
/// (a redirect could carry credentials elsewhere).
pub(crate) fn http_client(
    timeout: std::time::Duration,
) -> Result<reqwest::Client, ValidatorSetupError> {
    select_tls_backend();
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ValidatorSetupError)
}

/// Makes `jsonwebtoken` check signatures on this build's backend (`aws-lc` when enabled, else
/// `rustcrypto`), whatever other crates in the build turned on. Idempotent; called before the
/// first token is signed or checked.
pub(crate) fn select_jwt_backend() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(feature = "aws-lc")]
        let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
        #[cfg(not(feature = "aws-lc"))]
        let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
        // An application that installed a provider of its own keeps it.
        let _ = provider.install_default();
    });
}

/// Gives rustls a crypto provider for HTTPS to authorization servers. With `aws-lc`, reqwest
/// brings its own; with `rustcrypto` alone, rustls on ring is installed as the process default
/// unless the application installed a provider first. Idempotent; called before the first
/// HTTP client is built.
pub(crate) fn select_tls_backend() {
    #[cfg(not(feature = "aws-lc"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if rustls::crypto::CryptoProvider::get_default().is_none() {
                let _ = rustls::crypto::ring::default_provider().install_default();
            }
        });
    }
}
