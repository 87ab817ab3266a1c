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

/// The default bound on one answer of an authorization server (a JWKS, a discovery document, an
/// introspection answer): 1 MiB. Real ones are a few kilobytes; a larger answer is refused
/// unread past the bound, so a broken or hostile endpoint cannot make the server buffer an
/// unbounded body.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why an answer's body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is larger than the bound (by its `Content-Length`, or once that many bytes
    /// arrived): the rest is never read.
    TooLarge(usize),
    /// The connection failed or timed out while reading (the error carries no URL).
    Read(reqwest::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge(limit) => write!(f, "the answer is larger than {limit} bytes"),
            BodyError::Read(e) => write!(f, "{e}"),
        }
    }
}

/// Reads the body of `response`, at most `limit` bytes: a body announced or found larger is
/// [`BodyError::TooLarge`], and the rest of it is never read (the connection is dropped).
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| BodyError::Read(e.without_url()))?
    {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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
