//! Black-box tests of resource templates against path traversal (security finding 6): a real
//! server on 127.0.0.1:0, raw HTTP, template handlers that record every value they receive.
//! Requirement ids refer to `tests/spec/CHECKLIST.md` (R-02 not-found codes, R-03 traversal).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mcp_server::registry::resolve_under;
use mcp_server::testing::{TestServer, spawn};
use mcp_server::types::{ResourceContents, ResourceTemplate};
use mcp_server::{McpError, McpServer, ResourceTemplateDef};
use mcp_tests::{JSON_AND_SSE, RawResponse, Session, send};
use reqwest::Method;
use serde_json::{Value, json};

/// What the handlers were handed, in order.
type Seen = Arc<Mutex<Vec<String>>>;

/// A directory `root/` holding `notes.txt`, with `secret.txt` beside it (outside the root).
struct Files {
    base: PathBuf,
    root: PathBuf,
}

impl Files {
    fn new() -> Files {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let base = std::env::temp_dir().join(format!(
            "mcp-resource-templates-{}-{nanos}",
            std::process::id()
        ));
        let root = base.join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("notes.txt"), "public notes").unwrap();
        std::fs::write(base.join("secret.txt"), "TOP-SECRET").unwrap();
        Files { base, root }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// The conformance fixture's template `test://template/{id}/data`, and `file:///srv/{+path}`
/// serving files under `root` through `resolve_under`; both record what they receive.
async fn server(root: PathBuf) -> (TestServer, Seen, Seen) {
    let ids: Seen = Arc::default();
    let paths: Seen = Arc::default();
    let seen = Arc::clone(&ids);
    let data = ResourceTemplateDef::new(
        ResourceTemplate::new("test://template/{id}/data", "template"),
        move |_ctx, uri, vars| {
            let id = vars.get("id").cloned().unwrap_or_default();
            seen.lock().unwrap().push(id.clone());
            async move { Ok(ResourceContents::text(uri, None, format!("data for {id}"))) }
        },
    );
    let seen = Arc::clone(&paths);
    let files = ResourceTemplateDef::new(
        ResourceTemplate::new("file:///srv/{+path}", "srv_file"),
        move |_ctx, uri, vars| {
            let path = vars.get("path").cloned().unwrap_or_default();
            seen.lock().unwrap().push(path.clone());
            let root = root.clone();
            async move {
                let not_found = || McpError::resource_not_found(uri.clone());
                let file = resolve_under(&root, &path).map_err(|_| not_found())?;
                let text = std::fs::read_to_string(file).map_err(|_| not_found())?;
                Ok(ResourceContents::text(uri.clone(), None, text))
            }
        },
    );
    let server = McpServer::builder("templates")
        .resource(data)
        .resource(files)
        .build()
        .expect("the server builds");
    let running = spawn(server).await.expect("server starts");
    (running, ids, paths)
}

fn read(id: i64, uri: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"resources/read","params":{"uri":uri}})
}

/// A 2026-07-28 `resources/read` (stateless, `_meta` and headers of that wire).
async fn modern_read(url: &str, uri: &str) -> RawResponse {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{
        "uri": uri,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
        },
    }})
    .to_string();
    let headers = [
        ("content-type", "application/json"),
        ("accept", JSON_AND_SSE),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "resources/read"),
        ("mcp-name", uri),
    ];
    send(Method::POST, url, &headers, Some(&body)).await
}

/// Values of `{id}` that would climb out of a directory, or carry NUL, once decoded.
const HOSTILE_IDS: [&str; 10] = [
    "..%2F..%2Fetc%2Fpasswd",
    "..%2f..%2fetc%2fpasswd",
    "..%5C..%5Cwindows%5Cwin.ini",
    "%2E%2E",
    "%2e%2e%2F%2e%2e",
    "..",
    ".",
    "passwd%00.txt",
    "a%0Ab",
    "%C0%AE%C0%AE",
];

#[tokio::test]
async fn r03_an_encoded_traversal_in_a_simple_variable_never_reaches_the_handler() {
    let files = Files::new();
    let (srv, ids, _) = server(files.root.clone()).await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    for (n, id) in (10..).zip(HOSTILE_IDS) {
        let uri = format!("test://template/{id}/data");
        let r = s.post(&read(n, &uri)).await;
        assert_eq!(r.error_code(), -32002, "R-02 legacy: {uri} → {}", r.body);
        assert_eq!(r.json()["error"]["data"]["uri"], uri.as_str());
        let r = modern_read(&srv.url(), &uri).await;
        assert_eq!(r.error_code(), -32602, "R-02 modern: {uri} → {}", r.body);
    }
    assert!(
        ids.lock().unwrap().is_empty(),
        "the handler saw {:?}",
        ids.lock().unwrap()
    );

    // Ordinary values still match, decoded.
    let r = s.post(&read(1, "test://template/123/data")).await;
    assert_eq!(r.result()["contents"][0]["text"], "data for 123");
    let r = modern_read(&srv.url(), "test://template/caf%C3%A9%20au%20lait/data").await;
    assert_eq!(r.result()["contents"][0]["text"], "data for café au lait");
    assert_eq!(*ids.lock().unwrap(), ["123", "café au lait"]);
}

#[tokio::test]
async fn r03_a_reserved_path_leaving_its_root_gets_not_found_and_no_file_contents() {
    let files = Files::new();
    let (srv, _, paths) = server(files.root.clone()).await;
    let s = Session::open(&srv.url(), "2025-11-25", json!({})).await;
    let r = s.post(&read(1, "file:///srv/notes.txt")).await;
    assert_eq!(r.result()["contents"][0]["text"], "public notes");

    let hostile = [
        "file:///srv/../secret.txt",
        "file:///srv/..%2Fsecret.txt",
        "file:///srv/%2E%2E/secret.txt",
        "file:///srv/%2Fetc%2Fpasswd",
        "file:///srv//etc/passwd",
        "file:///srv/..%5Csecret.txt",
        "file:///srv/notes.txt%00",
    ];
    for (n, uri) in (10..).zip(hostile) {
        let r = s.post(&read(n, uri)).await;
        assert_eq!(r.error_code(), -32002, "R-02 legacy: {uri} → {}", r.body);
        assert!(!r.body.contains("TOP-SECRET") && !r.body.contains("root:"));
        let r = modern_read(&srv.url(), uri).await;
        assert_eq!(r.error_code(), -32602, "R-02 modern: {uri} → {}", r.body);
        assert!(!r.body.contains("TOP-SECRET") && !r.body.contains("root:"));
    }
    // `{+path}` hands `..` to the handler (RFC 6570 reserved expansion), never NUL: the URI
    // with `%00` did not match at all.
    let seen = paths.lock().unwrap().clone();
    assert!(seen.contains(&"../secret.txt".to_owned()), "{seen:?}");
    assert!(seen.iter().all(|p| !p.contains('\0')), "{seen:?}");
}
