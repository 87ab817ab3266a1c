//! [`ClientBuilder`]: credentials, handlers, identity, era and timeouts, then a transport.

use std::sync::Arc;
use std::time::Duration;

use mcp_core::types::{Implementation, Root};
use mcp_core::version::{Era, ProtocolVersion};
use tokio::io::{AsyncRead, AsyncWrite};

#[cfg(feature = "http")]
use crate::auth::{Auth, NoAuth};
use crate::client::McpClient;
#[cfg(feature = "http")]
use crate::endpoint::IntoEndpoint;
use crate::error::Error;
#[cfg(feature = "http")]
use crate::error::TransportError;
use crate::handlers::{ElicitationHandler, Handlers, SamplingHandler};
use crate::incoming::Incoming;
use crate::session::{Session, Settings, negotiate};
use crate::transport::Wire;
#[cfg(feature = "http")]
use crate::transport::http::HttpWire;
use crate::transport::stdio::StdioWire;

/// The default number of `input_required` rounds one request may take.
const DEFAULT_MAX_INPUT_ROUNDS: usize = 8;

/// Configures and opens a client. Start with [`McpClient::builder`].
///
#[cfg_attr(feature = "http", doc = "```no_run")]
#[cfg_attr(not(feature = "http"), doc = "```ignore")]
/// use std::time::Duration;
/// use mcp_client::{auth::BearerAuth, Era, McpClient};
///
/// # async fn run() -> Result<(), mcp_client::Error> {
/// let client = McpClient::builder()
///     .auth(BearerAuth::new("eyJ..."))
///     .era(Era::Legacy)
///     .request_timeout(Duration::from_secs(30))
///     .connect("http://127.0.0.1:8000/mcp")
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct ClientBuilder {
    #[cfg(feature = "http")]
    auth: Arc<dyn Auth>,
    handlers: Handlers,
    client_info: Implementation,
    era: Option<Era>,
    version: Option<ProtocolVersion>,
    request_timeout: Option<Duration>,
    #[cfg(feature = "http")]
    connect_timeout: Duration,
    #[cfg(feature = "http")]
    http_client: Option<reqwest::Client>,
    max_input_rounds: usize,
    #[cfg(feature = "http")]
    allow_http: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            #[cfg(feature = "http")]
            auth: Arc::new(NoAuth),
            handlers: Handlers::default(),
            client_info: Implementation::new("mcp-client", env!("CARGO_PKG_VERSION")),
            era: None,
            version: None,
            request_timeout: None,
            #[cfg(feature = "http")]
            connect_timeout: Duration::from_secs(30),
            #[cfg(feature = "http")]
            http_client: None,
            max_input_rounds: DEFAULT_MAX_INPUT_ROUNDS,
            #[cfg(feature = "http")]
            allow_http: false,
        }
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_info", &self.client_info)
            .field("era", &self.era)
            .field("version", &self.version)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with no credentials, no handlers, automatic era negotiation and no request
    /// timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// The credentials for HTTP (default: none).
    #[cfg(feature = "http")]
    pub fn auth(mut self, auth: impl Auth) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// Answers the server's elicitation requests (declares the `elicitation` capability).
    pub fn on_elicitation(mut self, handler: impl ElicitationHandler) -> Self {
        self.handlers.elicitation = Some(Arc::new(handler));
        self
    }

    /// Answers the server's sampling requests (declares the `sampling` capability).
    pub fn on_sampling(mut self, handler: impl SamplingHandler) -> Self {
        self.handlers.sampling = Some(Arc::new(handler));
        self
    }

    /// Answers `roots/list` with these roots (declares the `roots` capability).
    pub fn roots(mut self, roots: Vec<Root>) -> Self {
        self.handlers.roots = Some(Arc::new(roots));
        self
    }

    /// Who the client says it is (default: `mcp-client` and this crate's version).
    pub fn client_info(mut self, info: Implementation) -> Self {
        self.client_info = info;
        self
    }

    /// Speaks only this era: no `server/discover` for [`Era::Legacy`], no `initialize` fallback
    /// for [`Era::Modern`].
    pub fn era(mut self, era: Era) -> Self {
        self.era = Some(era);
        self
    }

    /// Speaks only this version (and so its era); a server that offers another is an error.
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Gives up on (and cancels) any request that takes longer (default: no limit).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// How long opening a TCP connection may take (default 30 s; HTTP only).
    #[cfg(feature = "http")]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Uses this HTTP client (proxies, TLS roots, ...) instead of a default one. It must not
    /// follow redirects (build it with `redirect(reqwest::redirect::Policy::none())`): a
    /// followed redirect would carry credentials, the session id and the body to wherever it
    /// points. The client turns any 3xx it sees into [`Error::Redirected`].
    #[cfg(feature = "http")]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Allows credentials over plain `http` to a server that is not on loopback. **Dangerous**:
    /// anyone on the path reads and replays them. Without it, a request that carries
    /// credentials to such a URL fails with [`Error::InsecureUrl`] before it is sent (loopback
    /// hosts, `127.0.0.0/8`, `[::1]` and `localhost`, are always allowed). A warning is logged
    /// when this is set and when it first lets credentials through. OAuth strategies have their
    /// own `dangerously_allow_http()` for their authorization servers.
    #[cfg(feature = "http")]
    pub fn dangerously_allow_http(mut self) -> Self {
        tracing::warn!("dangerously_allow_http(): credentials may be sent over plain http");
        self.allow_http = true;
        self
    }

    /// How many `input_required` rounds one request may take (default 8).
    pub fn max_input_rounds(mut self, rounds: usize) -> Self {
        self.max_input_rounds = rounds;
        self
    }

    fn settings(&self) -> Settings {
        Settings {
            client_info: self.client_info.clone(),
            capabilities: self.handlers.capabilities(),
            era: self.era,
            version: self.version,
            request_timeout: self.request_timeout,
            max_input_rounds: self.max_input_rounds,
        }
    }

    async fn open(self, wire: Wire, incoming: Arc<Incoming>) -> Result<McpClient, Error> {
        let session = Arc::new(Session::new(wire, incoming, self.settings()));
        match self.request_timeout {
            Some(t) => tokio::time::timeout(t, negotiate::negotiate(&session))
                .await
                .map_err(|_| Error::Timeout(t))??,
            None => negotiate::negotiate(&session).await?,
        }
        Ok(McpClient::from_session(session))
    }

    /// Connects to a Streamable HTTP endpoint (`http://host:port/mcp`), given as `&str`,
    /// `String` or [`Url`](crate::Url) (see [`IntoEndpoint`]). A URL that does not parse, or
    /// whose scheme is not `http` (or `https` with the `rustls` feature), is
    /// [`Error::InvalidUrl`].
    #[cfg(feature = "http")]
    pub async fn connect(self, url: impl IntoEndpoint) -> Result<McpClient, Error> {
        let parsed = url.into_endpoint()?;
        let invalid = |reason: String| Error::InvalidUrl {
            url: crate::secure_url::shown(&parsed),
            reason,
        };
        match parsed.scheme() {
            "http" => {}
            "https" if cfg!(feature = "rustls") => {}
            "https" => {
                return Err(invalid(
                    "https needs the `rustls` feature of mcp-client".to_owned(),
                ));
            }
            other => return Err(invalid(format!("unsupported scheme {other:?}"))),
        }
        // Redirects are never followed: they would carry the credentials, the session id and
        // the body elsewhere; a 3xx becomes `Error::Redirected`.
        let client = match &self.http_client {
            Some(c) => c.clone(),
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(concat!("mcp-client/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(TransportError::Http)?,
        };
        let incoming = Incoming::new(self.handlers.clone());
        let wire = HttpWire::new(
            client,
            parsed,
            Arc::clone(&self.auth),
            Arc::clone(&incoming),
            self.allow_http,
        );
        self.open(Wire::Http(wire), incoming).await
    }

    /// Starts a server process and speaks newline-delimited JSON-RPC on its stdin and stdout
    /// (its stderr is left as `command` says). Credentials do not apply.
    #[cfg(feature = "stdio")]
    pub async fn spawn(
        self,
        command: impl Into<tokio::process::Command>,
    ) -> Result<McpClient, Error> {
        let incoming = Incoming::new(self.handlers.clone());
        let wire = StdioWire::spawn(command.into(), Arc::clone(&incoming))?;
        self.open(Wire::Stdio(wire), incoming).await
    }

    /// Speaks newline-delimited JSON-RPC over any pair of byte streams: `reader` carries the
    /// server's output, `writer` the server's input.
    pub async fn connect_io<R, W>(self, reader: R, writer: W) -> Result<McpClient, Error>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let incoming = Incoming::new(self.handlers.clone());
        let wire = StdioWire::start(reader, writer, Arc::clone(&incoming), None);
        self.open(Wire::Stdio(wire), incoming).await
    }
}
