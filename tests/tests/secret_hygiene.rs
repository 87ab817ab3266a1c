//! Secret hygiene (AZ-19: "never log tokens"; the audit trail "never carries a secret"): the
//! whole authorization matrix against real servers, with every log line of the process captured
//! at TRACE, the crates' dependencies included (axum, hyper, reqwest: `tracing` events and spans
//! and `log` records alike), plus the audit trail (an in-memory sink and the JSON-lines files),
//! plus every response the clients got, plus every span and metric exported through
//! OpenTelemetry (feature `otel`: a `tracing-opentelemetry` layer over an in-memory span
//! exporter, an in-memory metric exporter on the global meter provider; issue 14), plus RFC 8693
//! token exchanges (issue 17: the caller's token, the exchanged one, the exchanging client's
//! secret, in success and refusal, with the exchanged token's `Debug` logged). No token,
//! DPoP proof, API key, password, client secret or `?token=` value appears anywhere, nor any
//! 16-character window of one.
//!
//! A test binary of its own: the capture is a global `tracing` subscriber and a global `log`
//! logger (the only way to see what runs on other threads: the multi-threaded runtime's workers,
//! blocking pools), which the one-binary suite forbids.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use mcp_client::McpClient;
use mcp_client::auth::{ApiKeyAuth, BasicAuth, BearerAuth, ClientCredentialsAuth};
use mcp_server::auth::{
    ApiKeys, AuditEvent, AuditSink, AuthorizationConfig, Danger, DpopConfig, ExchangeError,
    ExchangeRequest, IntrospectionConfig, IntrospectionValidator, JsonlFileSink, JwtValidator,
    JwtValidatorConfig, MemoryAuditSink, MemoryStore, NewApiKey, Surface, TokenExchangeConfig,
    TokenExchanger, User, UserStore, hash_password,
};
use mcp_server::testing::{DpopKey, TestIssuer, TestListener, TestServer, spawn};
use mcp_server::{Context, McpServer, NoArgs, ToolDef};
use mcp_tests::{RawResponse, post};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// The capture: every `tracing` event and span, every `log` record, of every thread.

/// Everything logged so far.
static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

#[derive(Clone, Copy)]
struct Writer;

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `log` records (reqwest logs through `log`), into the same capture.
struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!(
            "log {} {}: {}\n",
            record.level(),
            record.target(),
            record.args()
        );
        let _ = Writer.write(line.as_bytes());
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// What OpenTelemetry exported: spans and metrics, in memory.
struct Exported {
    tracer: SdkTracerProvider,
    spans: InMemorySpanExporter,
    meter: SdkMeterProvider,
    metrics: InMemoryMetricExporter,
}

impl Exported {
    /// Everything exported, as text (every name, attribute, event and data point).
    fn text(&self) -> (usize, String) {
        let _ = self.tracer.force_flush();
        let _ = self.meter.force_flush();
        let spans = self.spans.get_finished_spans().unwrap();
        let metrics = self.metrics.get_finished_metrics().unwrap();
        (spans.len(), format!("{spans:?}\n{metrics:?}"))
    }
}

fn install_capture() -> Exported {
    use tracing_subscriber::layer::SubscriberExt as _;
    let spans = InMemorySpanExporter::default();
    let tracer = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let meter = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(meter.clone());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::TRACE)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_span_events(
                    tracing_subscriber::fmt::format::FmtSpan::NEW
                        | tracing_subscriber::fmt::format::FmtSpan::CLOSE,
                )
                .with_writer(|| Writer),
        )
        .with(tracing_opentelemetry::layer().with_tracer(tracer.tracer("secret-hygiene")));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    log::set_logger(&LOGGER).expect("the only logger");
    log::set_max_level(log::LevelFilter::Trace);
    Exported {
        tracer,
        spans,
        meter,
        metrics,
    }
}

fn captured() -> String {
    String::from_utf8_lossy(&CAPTURED.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The audit trail: a memory sink and the JSONL files, both fed every event.

struct Tee {
    memory: MemoryAuditSink,
    file: Arc<JsonlFileSink>,
}

impl AuditSink for Tee {
    fn record(&self, event: &AuditEvent) {
        self.memory.record(event);
        self.file.record(event);
    }
}

fn temp_dir() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("mcp-hygiene-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------------
// The servers

fn tools(builder: mcp_server::McpServerBuilder) -> McpServer {
    builder
        .tool(
            ToolDef::from_fn("whoami", |ctx: Context, _: NoArgs| async move {
                ctx.auth()
                    .and_then(|a| a.subject.clone())
                    .unwrap_or_default()
            })
            .description("Who is calling"),
        )
        .build()
        .unwrap()
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

/// Everything the clients were told, to search too.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn keep(&mut self, r: RawResponse) -> RawResponse {
        let headers: Vec<String> = r
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        self.0.push(format!("{}\n{}", headers.join("\n"), r.body));
        r
    }
}

/// POSTs `initialize` with these headers to `url`, then (when admitted) calls `whoami` in the
/// session: authentication, the tool-call audit events, and the session check all run.
async fn exercise(seen: &mut Seen, url: &str, headers: &[(&str, &str)]) -> u16 {
    let r = seen.keep(post(url, headers, INIT).await);
    if r.status != 200 {
        return r.status;
    }
    let sid = r.header("mcp-session-id").unwrap_or_default().to_owned();
    let mut h = headers.to_vec();
    h.push(("mcp-session-id", &sid));
    h.push(("mcp-protocol-version", "2025-11-25"));
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
    seen.keep(post(url, &h, call).await).status
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn az19_no_secret_reaches_a_log_line_the_audit_trail_or_a_response() {
    let exported = install_capture();
    let dir = temp_dir();
    let memory = MemoryAuditSink::new();
    let file = Arc::new(JsonlFileSink::open(&dir, 7).unwrap());
    let tee = || Tee {
        memory: memory.clone(),
        file: Arc::clone(&file),
    };
    let mut secrets: Vec<String> = Vec::new();
    let mut seen = Seen::default();

    // --- OAuth: bearer JWTs, DPoP ---------------------------------------------------------------
    let issuer = TestIssuer::start().await.unwrap();
    let listener = TestListener::bind().await.unwrap();
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap())
        .dpop(DpopConfig::allowed())
        .audit(tee());
    let oauth: TestServer = listener.spawn(tools(McpServer::builder("oauth").authorization(auth)));
    let url = oauth.url();
    let valid = issuer.token(&url).scope("read").sign();
    let cases = [
        (valid.clone(), 200),
        (issuer.token(&url).tampered(), 401),
        (issuer.token(&url).expires_in(-3600).sign(), 401),
        (issuer.token("https://other.example/mcp").sign(), 401),
        (issuer.token(&url).unsigned(), 401),
        (issuer.token(&url).hs256_with_public_key(), 401),
        (issuer.token(&url).rs256().sign(), 200),
    ];
    for (token, status) in cases {
        let got = exercise(&mut seen, &url, &[("authorization", &bearer(&token))]).await;
        assert_eq!(got, status, "bearer case");
        secrets.push(token);
    }
    // DPoP: a valid proof, the same proof replayed, a proof signed by another key, a bound
    // token sent as Bearer.
    let key = DpopKey::generate().unwrap();
    let other = DpopKey::generate().unwrap();
    let bound = issuer.token(&url).cnf_jkt(&key.thumbprint()).sign();
    let dpop_auth = format!("DPoP {bound}");
    let proof = key.proof("POST", &url, &bound).sign();
    let r = seen.keep(
        post(
            &url,
            &[("authorization", &dpop_auth), ("dpop", &proof)],
            INIT,
        )
        .await,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let replayed = seen.keep(
        post(
            &url,
            &[("authorization", &dpop_auth), ("dpop", &proof)],
            INIT,
        )
        .await,
    );
    assert_eq!(replayed.status, 401, "DP-12 replay");
    let forged = key.proof("POST", &url, &bound).signed_by(&other).sign();
    let r = seen.keep(
        post(
            &url,
            &[("authorization", &dpop_auth), ("dpop", &forged)],
            INIT,
        )
        .await,
    );
    assert_eq!(r.status, 401, "forged proof");
    assert_eq!(
        exercise(&mut seen, &url, &[("authorization", &bearer(&bound))]).await,
        401,
        "DP-15 downgrade"
    );
    secrets.extend([bound.clone(), proof, forged]);
    // The companion client: a static bearer, and client credentials from the issuer.
    let client = McpClient::connect(&url, BearerAuth::new(valid.clone()))
        .await
        .unwrap();
    client.call_tool("whoami", json!({})).await.unwrap();
    let client_secret = "svc-client-secret-9f2c41d07b6a4e58";
    issuer.register_client("svc", client_secret, "read");
    let client = McpClient::connect(
        &url,
        ClientCredentialsAuth::new(issuer.issuer(), "svc", client_secret).scopes(["read"]),
    )
    .await
    .unwrap();
    client.call_tool("whoami", json!({})).await.unwrap();
    secrets.push(client_secret.to_owned());
    secrets.extend(issuer.issued_tokens());
    assert!(!issuer.issued_tokens().is_empty());

    // --- Introspection: active, revoked, unknown opaque tokens -----------------------------------
    let rs_secret = "rs-introspection-secret-3c7d52e1a9b8";
    issuer.register_client("rs", rs_secret, "");
    let listener = TestListener::bind().await.unwrap();
    let config = IntrospectionConfig::new(issuer.introspection_endpoint(), "rs", rs_secret)
        .issuer(issuer.issuer());
    let auth = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(IntrospectionValidator::new(config).unwrap())
        .audit(tee());
    let introspected = listener.spawn(tools(McpServer::builder("intro").authorization(auth)));
    let iurl = introspected.url();
    let active = issuer.token(&iurl).scope("read").opaque();
    let revoked = issuer.token(&iurl).scope("read").opaque();
    issuer.revoke(&revoked);
    let unknown = "opaque-never-issued-5b1e0c9d7a3f";
    for (token, status) in [(&active, 200), (&revoked, 401), (&unknown.to_owned(), 401)] {
        let got = exercise(&mut seen, &iurl, &[("authorization", &bearer(token))]).await;
        assert_eq!(got, status, "introspection case");
    }
    assert!(issuer.introspections() >= 3);
    secrets.extend([active, revoked, unknown.to_owned(), rs_secret.to_owned()]);

    // --- Token exchange (RFC 8693): a tool trades the caller's token for an upstream's --------
    // Once accepted (the exchanged token is cached, then reused), once refused (a wrong client
    // secret: the authorization server's `invalid_client` reaches the tool error and the logs).
    let front_secret = "front-exchange-secret-8e3b5f0a2d71";
    issuer.register_client("front", front_secret, "");
    let mut exchange_servers = Vec::new();
    for (secret, refused) in [
        (front_secret, false),
        ("front-wrong-secret-51c9e7d3a0b4", true),
    ] {
        let listener = TestListener::bind().await.unwrap();
        let exchange = TokenExchanger::new(TokenExchangeConfig::new(
            issuer.token_endpoint(),
            "front",
            secret,
        ))
        .unwrap();
        let auth = issuer
            .authorization(listener.url())
            .unwrap()
            .token_exchange(exchange)
            .audit(tee());
        let tool = ToolDef::from_fn("upstream", |ctx: Context, _: NoArgs| async move {
            let token = ctx
                .upstream_token(ExchangeRequest::resource("https://upstream.example/api"))
                .await?;
            tracing::info!(?token, "exchanged");
            Ok::<_, ExchangeError>(format!("{token:?}"))
        });
        let srv = listener.spawn(
            McpServer::builder("front")
                .authorization(auth)
                .tool(tool)
                .build()
                .unwrap(),
        );
        let user = issuer
            .token(&srv.url())
            .subject("alice")
            .scope("read")
            .sign();
        let client = McpClient::connect(&srv.url(), BearerAuth::new(&user))
            .await
            .unwrap();
        for _ in 0..2 {
            let r = client.call_tool("upstream", json!({})).await.unwrap();
            assert_eq!(r.is_error(), refused, "token exchange case");
            seen.0.push(serde_json::to_string(&r).unwrap());
        }
        secrets.extend([user, secret.to_owned()]);
        exchange_servers.push(srv);
    }
    assert!(issuer.token_exchanges() >= 3);
    secrets.extend(issuer.issued_tokens());

    // --- Built-in: API keys (header, bearer, query), revoked and unknown keys, JWTs beside ------
    let keys = ApiKeys::in_memory();
    let listener = TestListener::bind().await.unwrap();
    let config = AuthorizationConfig::builtin(keys.clone())
        .authorization_server(issuer.issuer())
        .resource(listener.url())
        .validator(JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap())
        .dangerously_allow(Danger::QueryToken)
        .audit(tee());
    let builtin = listener.spawn(tools(McpServer::builder("builtin").authorization(config)));
    let burl = builtin.url();
    let key = keys
        .create(NewApiKey::new("ci", "operator").surface(Surface::Mcp))
        .await
        .unwrap();
    let gone = keys
        .create(NewApiKey::new("gone", "viewer").surface(Surface::Mcp))
        .await
        .unwrap();
    let k = key.secret.expose().to_owned();
    let g = gone.secret.expose().to_owned();
    assert_eq!(exercise(&mut seen, &burl, &[("x-api-key", &g)]).await, 200);
    keys.revoke(&gone.key.id).await.unwrap();
    let unknown_key = format!("mcp_{}", "Q7".repeat(21) + "x");
    for (headers, status) in [
        (vec![("x-api-key", k.as_str())], 200),
        (vec![("authorization", &bearer(&k) as &str)], 200),
        (vec![("x-api-key", g.as_str())], 401),
        (vec![("x-api-key", unknown_key.as_str())], 401),
    ] {
        assert_eq!(exercise(&mut seen, &burl, &headers).await, status);
    }
    // `?token=` (Danger::QueryToken): accepted, and a wrong one refused.
    for (token, status) in [(k.as_str(), 200), (unknown_key.as_str(), 401)] {
        let qurl = format!("{burl}?token={token}");
        assert_eq!(exercise(&mut seen, &qurl, &[]).await, status, "query token");
    }
    let jwt_beside = issuer.token(&burl).subject("dana").sign();
    assert_eq!(
        exercise(&mut seen, &burl, &[("authorization", &bearer(&jwt_beside))]).await,
        200
    );
    let client = McpClient::connect(&burl, ApiKeyAuth::new(k.clone()))
        .await
        .unwrap();
    client.call_tool("whoami", json!({})).await.unwrap();
    secrets.extend([k, g, unknown_key, jwt_beside]);

    // --- Basic: right and wrong passwords, unknown user ------------------------------------------
    let store = Arc::new(MemoryStore::new());
    let password = "ada-correct-horse-battery-7781";
    store
        .put_user(User::new("ada", "admin").password_hash(hash_password(password).unwrap()))
        .await
        .unwrap();
    let basic_srv = spawn(tools(
        McpServer::builder("basic")
            .authorization(AuthorizationConfig::basic(Arc::clone(&store)).audit(tee())),
    ))
    .await
    .unwrap();
    let basic_url = basic_srv.url();
    let b64 =
        |u: &str, p: &str| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
    let wrong = "ada-wrong-password-zebra-0412";
    for (user, pass, status) in [
        ("ada", password, 200),
        ("ada", wrong, 401),
        ("nobody", "nobody-password-quartz-5530", 401),
    ] {
        let header = format!("Basic {}", b64(user, pass));
        assert_eq!(
            exercise(&mut seen, &basic_url, &[("authorization", &header)]).await,
            status,
            "basic {user}"
        );
        secrets.extend([pass.to_owned(), b64(user, pass)]);
    }
    let client = McpClient::connect(&basic_url, BasicAuth::new("ada", password))
        .await
        .unwrap();
    client.call_tool("whoami", json!({})).await.unwrap();

    // --- Gather everything and search it ----------------------------------------------------------
    file.flush();
    oauth.shutdown().await;
    introspected.shutdown().await;
    for srv in exchange_servers {
        srv.shutdown().await;
    }
    builtin.shutdown().await;
    basic_srv.shutdown().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = captured();
    let (span_count, otel) = exported.text();
    let events = memory.events();
    let audit_json = serde_json::to_string(&events).unwrap();
    let mut files = String::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        files.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    // The capture saw what it must have seen, or an empty search would pass for nothing.
    assert!(logs.contains("mcp::audit"), "the audit events are logged");
    assert!(
        logs.contains("TRACE") && logs.lines().count() > 100,
        "TRACE lines are captured"
    );
    assert!(
        logs.contains("log ") && logs.contains("reqwest"),
        "the dependencies' `log` records are captured"
    );
    assert!(events.len() > 30 && files.lines().count() == events.len());
    assert!(seen.0.len() > 20);
    assert!(
        span_count > 50
            && otel.contains("mcp.auth.outcome")
            && otel.contains("mcp.server.auth.refusals"),
        "the authorization decisions were exported: {span_count} spans, outcome {}, refusals {}",
        otel.contains("mcp.auth.outcome"),
        otel.contains("mcp.server.auth.refusals")
    );

    let haystacks: Vec<(&str, &str)> = [
        ("log", logs.as_str()),
        ("audit", &audit_json),
        ("audit file", &files),
        ("OpenTelemetry export", &otel),
    ]
    .into_iter()
    .chain(seen.0.iter().map(|s| ("response", s.as_str())))
    .collect();
    for secret in &secrets {
        assert!(
            secret.len() >= 16,
            "every secret is long enough to search for"
        );
        let windows: Vec<&str> = (0..=secret.len() - 16)
            .filter_map(|i| secret.get(i..i + 16))
            .collect();
        for (what, hay) in &haystacks {
            if let Some(w) = windows.iter().find(|w| hay.contains(**w)) {
                panic!(
                    "a secret ({}…) appears in a {what}: the window {w:?}",
                    secret.get(..8).unwrap_or_default()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
