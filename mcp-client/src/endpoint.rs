//! [`IntoEndpoint`]: what [`McpClient::connect`](crate::McpClient::connect) and
//! [`ClientBuilder::connect`](crate::ClientBuilder::connect) accept as the server's URL.

use url::Url;

use crate::error::Error;

/// A server URL: `&str`, `String`, `&String`, [`Url`] or `&Url` (`reqwest::Url` is the same
/// type as [`Url`]).
///
/// Text is parsed when the client connects; text that is not an absolute URL becomes
/// [`Error::InvalidUrl`], never a panic. The scheme is checked afterwards, whatever the input:
/// `http`, or `https` with the `rustls` feature.
///
/// ```no_run
/// use mcp_client::auth::NoAuth;
/// use mcp_client::{McpClient, Url};
///
/// # async fn run() -> Result<(), mcp_client::Error> {
/// let from_config: String = std::env::var("MCP_URL").unwrap_or_default();
/// let a = McpClient::connect(from_config, NoAuth).await?;
/// let url = Url::parse("http://127.0.0.1:8000/mcp").expect("a valid URL");
/// let b = McpClient::connect(url, NoAuth).await?;
/// # Ok(()) }
/// ```
///
/// The trait is sealed: it is implemented for the types above only, so that it can change
/// without breaking code outside this crate.
pub trait IntoEndpoint: sealed::Sealed {
    /// The parsed URL, or [`Error::InvalidUrl`].
    fn into_endpoint(self) -> Result<Url, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for super::Url {}
    impl Sealed for &super::Url {}
}

impl IntoEndpoint for &str {
    fn into_endpoint(self) -> Result<Url, Error> {
        Url::parse(self).map_err(|e| Error::InvalidUrl {
            url: self.to_owned(),
            reason: e.to_string(),
        })
    }
}

impl IntoEndpoint for String {
    fn into_endpoint(self) -> Result<Url, Error> {
        self.as_str().into_endpoint()
    }
}

impl IntoEndpoint for &String {
    fn into_endpoint(self) -> Result<Url, Error> {
        self.as_str().into_endpoint()
    }
}

impl IntoEndpoint for Url {
    fn into_endpoint(self) -> Result<Url, Error> {
        Ok(self)
    }
}

impl IntoEndpoint for &Url {
    fn into_endpoint(self) -> Result<Url, Error> {
        Ok(self.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_to_the_same_url() {
        let text = "http://127.0.0.1:8000/mcp";
        let want = Url::parse(text).unwrap();
        assert_eq!(text.into_endpoint().unwrap(), want);
        assert_eq!(text.to_owned().into_endpoint().unwrap(), want);
        assert_eq!((&text.to_owned()).into_endpoint().unwrap(), want);
        assert_eq!((&want).into_endpoint().unwrap(), want);
        assert_eq!(want.clone().into_endpoint().unwrap(), want);
    }

    #[test]
    fn text_that_is_not_a_url_is_an_error() {
        for bad in ["", "not a url", "/mcp", "http://[::1/mcp"] {
            match bad.into_endpoint() {
                Err(Error::InvalidUrl { url, reason }) => {
                    assert_eq!(url, bad);
                    assert!(!reason.is_empty());
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
