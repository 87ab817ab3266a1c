//! `McpClient::connect` and `ClientBuilder::connect` take the URL as `&str`, `String`,
//! `&String` or `Url`, against a tiny legacy-era HTTP server written here with plain tokio.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use mcp_client::auth::NoAuth;
use mcp_client::{Era, Error, McpClient, Url};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A server that answers `initialize` (legacy era) and accepts everything else; it records the
/// request line of every request it gets.
struct FakeServer {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl FakeServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&log)));
            }
        });
        FakeServer { url, seen }
    }

    fn request_lines(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(stream: TcpStream, log: Arc<Mutex<Vec<String>>>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if read.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        read.read_exact(&mut body).await.unwrap();
        log.lock().unwrap().push(request_line.trim_end().to_owned());

        let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let response = match message.get("method").and_then(Value::as_str) {
            Some("initialize") => {
                let answer = json!({
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "result": {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "serverInfo": {"name": "fake", "version": "0.0.0"}
                    }
                })
                .to_string();
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     mcp-session-id: s1\r\ncontent-length: {}\r\n\r\n{answer}",
                    answer.len()
                )
            }
            _ => "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n".to_owned(),
        };
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn connect_and_close(url: impl mcp_client::IntoEndpoint, server: &FakeServer) {
    let before = server.request_lines().len();
    let client = McpClient::builder()
        .era(Era::Legacy)
        .connect(url)
        .await
        .unwrap();
    assert_eq!(client.session_id().as_deref(), Some("s1"));
    client.close().await.unwrap();
    let lines = server.request_lines();
    assert_eq!(lines[before], "POST /mcp HTTP/1.1", "{lines:?}");
}

#[tokio::test]
async fn the_builder_takes_str_string_and_url() {
    let server = FakeServer::start().await;
    let text: &str = &server.url;
    connect_and_close(text, &server).await;
    connect_and_close(server.url.clone(), &server).await;
    connect_and_close(&server.url, &server).await;
    let url = Url::parse(&server.url).unwrap();
    connect_and_close(&url, &server).await;
    connect_and_close(url, &server).await;
}

#[tokio::test]
async fn mcp_client_connect_takes_a_string_and_a_url() {
    let server = FakeServer::start().await;
    // `connect` tries the modern era first; this server answers `initialize` only, so the
    // client falls back to the legacy era.
    let owned: String = server.url.clone();
    let client = McpClient::connect(owned, NoAuth).await.unwrap();
    assert_eq!(client.era(), Era::Legacy);
    client.close().await.unwrap();

    let url: Url = server.url.parse().unwrap();
    let client = McpClient::connect(url, NoAuth).await.unwrap();
    assert_eq!(client.era(), Era::Legacy);
    client.close().await.unwrap();

    // `reqwest::Url` is the same type.
    let url: mcp_client::reqwest::Url = server.url.parse().unwrap();
    let client = McpClient::connect(url, NoAuth).await.unwrap();
    client.close().await.unwrap();
}

#[tokio::test]
async fn bad_urls_are_errors_not_panics() {
    for bad in [
        String::new(),
        "not a url".to_owned(),
        "/mcp".to_owned(),
        "ftp://127.0.0.1/mcp".to_owned(),
        "http://[::1/mcp".to_owned(),
    ] {
        match McpClient::connect(bad.clone(), NoAuth).await {
            Err(Error::InvalidUrl { reason, .. }) => assert!(!reason.is_empty(), "{bad:?}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let ftp = Url::parse("ftp://127.0.0.1/mcp").unwrap();
    match McpClient::connect(ftp, NoAuth).await {
        Err(Error::InvalidUrl { url, reason }) => {
            assert_eq!(url, "ftp://127.0.0.1/mcp");
            assert!(reason.contains("ftp"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}
