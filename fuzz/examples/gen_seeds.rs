//! Writes the seed corpora of every target under `fuzz/seeds/<target>/`: JSON-RPC messages of
//! both eras (from the spec fixtures and the test suite), tokens and DPoP proofs signed with the
//! fixed keys (long-lived: they stay valid), challenges the server and the test suite send, SSE
//! streams, URI templates, tool arguments, API keys.
//!
//! ```text
//! RUSTFLAGS="--cfg fuzzing" cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds
//! ```
//!
//! Re-running it rewrites the seeds (tokens and the P-256 proofs change: the P-256 key is drawn
//! per run); commit the result.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mcp_fuzz::auth::{ACTIVE_KEY, DISABLED_OWNER_KEY, REST_ONLY_KEY, REVOKED_KEY, WORKSPACE_KEY};
use mcp_fuzz::keys::{self, EC_KID, ED25519_KID, ISSUER, RESOURCE, Signer};
use serde_json::{Value, json};

/// 2100-01-01: `exp` of the seed tokens.
const FAR: u64 = 4_102_444_800;
/// 2025-01-01: `iat`/`nbf` of the seed tokens and proofs.
const PAST: u64 = 1_735_689_600;

struct Seeds {
    root: PathBuf,
}

impl Seeds {
    fn write(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).expect("a seed directory");
        fs::write(dir.join(name), bytes).expect("a seed file");
    }
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
        "io.modelcontextprotocol/clientInfo": {"name": "seed", "version": "0"}
    })
}

fn modern(method: &str, mut params: Value) -> String {
    params["_meta"] = meta();
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}

fn legacy(id: i64, method: &str, params: Option<Value>) -> String {
    let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(p) = params {
        m["params"] = p;
    }
    m.to_string()
}

fn jsonrpc_modern(s: &Seeds) {
    let t = "jsonrpc_modern";
    let calls = [
        ("discover", modern("server/discover", json!({}))),
        ("tools_list", modern("tools/list", json!({}))),
        (
            "tools_list_cursor",
            modern("tools/list", json!({"cursor": "abc"})),
        ),
        (
            "call_add",
            modern(
                "tools/call",
                json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
            ),
        ),
        (
            "call_add_overflow",
            modern(
                "tools/call",
                json!({"name": "add", "arguments": {"a": i64::MAX, "b": 1}}),
            ),
        ),
        (
            "call_echo_unicode",
            modern(
                "tools/call",
                json!({"name": "echo", "arguments": {"text": "h\u{e9}llo \u{1F600}"}}),
            ),
        ),
        (
            "call_progress",
            modern(
                "tools/call",
                json!({"name": "progress", "arguments": {"steps": 3}, "_meta": {"progressToken": "p1"}}),
            ),
        ),
        (
            "call_region",
            modern(
                "tools/call",
                json!({"name": "region", "arguments": {"region": "eu-west", "limit": 5}}),
            ),
        ),
        (
            "call_region_unicode",
            modern(
                "tools/call",
                json!({"name": "region", "arguments": {"region": "\u{e9}t\u{e9} ", "limit": 1.5}}),
            ),
        ),
        (
            "call_unknown",
            modern("tools/call", json!({"name": "nope", "arguments": {}})),
        ),
        ("resources_list", modern("resources/list", json!({}))),
        (
            "templates_list",
            modern("resources/templates/list", json!({})),
        ),
        (
            "read_config",
            modern("resources/read", json!({"uri": "config://app"})),
        ),
        (
            "read_file",
            modern("resources/read", json!({"uri": "file:///srv/notes.txt"})),
        ),
        (
            "read_log",
            modern("resources/read", json!({"uri": "log://mon/2"})),
        ),
        (
            "read_dotdot",
            modern(
                "resources/read",
                json!({"uri": "file:///srv/../etc/passwd"}),
            ),
        ),
        ("prompts_list", modern("prompts/list", json!({}))),
        (
            "prompt_get",
            modern(
                "prompts/get",
                json!({"name": "code_review", "arguments": {"language": "rust", "code": "fn main(){}"}}),
            ),
        ),
        (
            "complete",
            modern(
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "r"}}),
            ),
        ),
        ("ping", modern("ping", json!({}))),
        (
            "listen",
            modern(
                "subscriptions/listen",
                json!({"notifications": {"toolsListChanged": true}}),
            ),
        ),
        ("tasks_get", modern("tasks/get", json!({"taskId": "t-1"}))),
        (
            "removed_set_level",
            modern("logging/setLevel", json!({"level": "debug"})),
        ),
        (
            "initialize_modern",
            modern(
                "initialize",
                json!({"protocolVersion": "2026-07-28", "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}}),
            ),
        ),
    ];
    for (name, body) in calls {
        s.write(t, name, body);
    }
    let mut bad = modern("tools/list", json!({}));
    bad = bad.replace("2026-07-28", "2099-01-01");
    s.write(t, "unsupported_version", bad);
    s.write(
        t,
        "log_level",
        modern("tools/list", json!({"_meta": {}})).replace(
            "\"_meta\":{",
            "\"_meta\":{\"io.modelcontextprotocol/logLevel\":\"debug\",",
        ),
    );
    s.write(t, "notification", json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1, "_meta": meta()}}).to_string());
    s.write(t, "response", r#"{"jsonrpc":"2.0","id":5,"result":{}}"#);
    s.write(
        t,
        "batch",
        format!(
            "[{},{}]",
            modern("ping", json!({})),
            modern("tools/list", json!({}))
        ),
    );
    s.write(t, "not_json", "{\"jsonrpc\":");
    s.write(
        t,
        "wrong_jsonrpc",
        r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
    );
    s.write(
        t,
        "null_id",
        r#"{"jsonrpc":"2.0","id":null,"method":"ping","params":{}}"#,
    );
    s.write(
        t,
        "headers_mismatch",
        format!(
            "content-type: application/json\naccept: application/json, text/event-stream\nmcp-protocol-version: 2026-07-28\nmcp-method: tools/list\nmcp-name: add\n\n{}",
            modern("tools/call", json!({"name": "add", "arguments": {"a": 1, "b": 2}}))
        ),
    );
    s.write(
        t,
        "headers_base64_name",
        format!(
            "content-type: application/json\naccept: application/json\nmcp-protocol-version: 2026-07-28\nmcp-method: tools/call\nmcp-name: =?base64?ZWNobw==?=\n\n{}",
            modern("tools/call", json!({"name": "echo", "arguments": {"text": "x"}}))
        ),
    );
    s.write(
        t,
        "headers_param_mismatch",
        format!(
            "content-type: application/json\naccept: text/event-stream\nmcp-protocol-version: 2026-07-28\nmcp-method: tools/call\nmcp-name: region\nmcp-param-region: =?base64?dXMtZWFzdA==?=\n\n{}",
            modern("tools/call", json!({"name": "region", "arguments": {"region": "eu"}}))
        ),
    );
    s.write(
        t,
        "headers_no_accept",
        format!(
            "content-type: text/plain\nmcp-protocol-version: 2026-07-28\nmcp-method: ping\n\n{}",
            modern("ping", json!({}))
        ),
    );
    s.write(
        t,
        "get",
        "@GET /mcp\naccept: text/event-stream\nmcp-protocol-version: 2026-07-28\n\n",
    );
    s.write(
        t,
        "options",
        "@OPTIONS /mcp\norigin: http://evil.example\nhost: evil.example\n\n",
    );
    s.write(
        t,
        "two_requests",
        format!(
            "{}\n%%\n{}",
            modern("ping", json!({})),
            modern("resources/read", json!({"uri": "log://tue/9"}))
        ),
    );
}

fn jsonrpc_legacy(s: &Seeds) {
    let t = "jsonrpc_legacy";
    let bodies = [
        ("tools_list", legacy(1, "tools/list", None)),
        (
            "call_add",
            legacy(
                2,
                "tools/call",
                Some(json!({"name": "add", "arguments": {"a": 2, "b": 3}})),
            ),
        ),
        (
            "call_progress",
            legacy(
                3,
                "tools/call",
                Some(
                    json!({"name": "progress", "arguments": {"steps": 2}, "_meta": {"progressToken": 7}}),
                ),
            ),
        ),
        (
            "call_bad_args",
            legacy(
                4,
                "tools/call",
                Some(json!({"name": "add", "arguments": {"a": "x"}})),
            ),
        ),
        ("ping", legacy(5, "ping", None)),
        (
            "read_log",
            legacy(6, "resources/read", Some(json!({"uri": "log://mon/2"}))),
        ),
        (
            "read_template_miss",
            legacy(6, "resources/read", Some(json!({"uri": "log://mon/x"}))),
        ),
        (
            "prompt_get",
            legacy(
                7,
                "prompts/get",
                Some(
                    json!({"name": "code_review", "arguments": {"language": "rust", "code": "x", "max": "2"}}),
                ),
            ),
        ),
        (
            "complete",
            legacy(
                8,
                "completion/complete",
                Some(
                    json!({"ref": {"type": "ref/resource", "uri": "file:///srv/{+path}"}, "argument": {"name": "path", "value": "n"}}),
                ),
            ),
        ),
        (
            "set_level",
            legacy(9, "logging/setLevel", Some(json!({"level": "debug"}))),
        ),
        (
            "subscribe",
            legacy(
                10,
                "resources/subscribe",
                Some(json!({"uri": "config://app"})),
            ),
        ),
        (
            "string_id",
            legacy(0, "tools/list", None).replace("\"id\":0", "\"id\":\"req-a\""),
        ),
        (
            "reinitialize",
            legacy(
                11,
                "initialize",
                Some(
                    json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
                ),
            ),
        ),
        ("discover_legacy", legacy(12, "server/discover", None)),
    ];
    for (name, body) in bodies {
        s.write(t, name, body);
    }
    s.write(t, "batch", format!("[{},{},{}]", legacy(1, "ping", None), legacy(2, "tools/list", None), r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#));
    s.write(
        t,
        "batch_dup_ids",
        format!("[{},{}]", legacy(1, "ping", None), legacy(1, "ping", None)),
    );
    s.write(
        t,
        "batch_invalid",
        r#"[1,{"jsonrpc":"2.0"},{"jsonrpc":"2.0","id":3,"method":"ping"}]"#,
    );
    s.write(t, "empty_batch", "[]");
    s.write(
        t,
        "notification",
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
    );
    s.write(
        t,
        "roots_changed",
        r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#,
    );
    s.write(
        t,
        "client_response",
        r#"{"jsonrpc":"2.0","id":"s-1","result":{"roots":[]}}"#,
    );
    s.write(
        t,
        "client_error",
        r#"{"jsonrpc":"2.0","id":"s-1","error":{"code":-32601,"message":"no"}}"#,
    );
    s.write(t, "get_stream", "@GET /mcp\naccept: text/event-stream\nmcp-session-id: $SESSION\nmcp-protocol-version: 2025-11-25\n\n");
    s.write(
        t,
        "get_resume",
        "@GET /mcp\naccept: text/event-stream\nmcp-session-id: $SESSION\nlast-event-id: 0/1\n\n",
    );
    s.write(t, "delete", "@DELETE /mcp\nmcp-session-id: $SESSION\n\n");
    s.write(
        t,
        "wrong_session",
        format!(
            "content-type: application/json\naccept: application/json\nmcp-session-id: nope\n\n{}",
            legacy(1, "ping", None)
        ),
    );
    s.write(
        t,
        "old_version_header",
        format!("content-type: application/json\naccept: application/json, text/event-stream\nmcp-session-id: $SESSION\nmcp-protocol-version: 2025-03-26\n\n{}", legacy(1, "tools/list", None)),
    );
    s.write(
        t,
        "bad_origin",
        format!("content-type: application/json\naccept: application/json\nmcp-session-id: $SESSION\norigin: https://evil.example\nhost: localhost:8000\n\n{}", legacy(1, "ping", None)),
    );
    s.write(
        t,
        "sequence",
        format!(
            "{}\n%%\n{}\n%%\n@GET /mcp\naccept: text/event-stream\nmcp-session-id: $SESSION\n\n",
            legacy(
                1,
                "tools/call",
                Some(json!({"name": "progress", "arguments": {"steps": 1}}))
            ),
            legacy(2, "ping", None)
        ),
    );
}

fn headers(s: &Seeds) {
    let t = "headers";
    let plain = [
        ("bearer", "authorization: Bearer $TOKEN\n"),
        (
            "bearer_scope",
            "@GET /mcp?workspace=ops\nauthorization: Bearer $TOKEN\nx-correlation-id: abc-123\n",
        ),
        ("dpop", "authorization: DPoP $DPOP_TOKEN\ndpop: $PROOF\n"),
        ("dpop_as_bearer", "authorization: Bearer $DPOP_TOKEN\n"),
        (
            "dpop_two_proofs",
            "authorization: DPoP $DPOP_TOKEN\ndpop: $PROOF\ndpop: $PROOF\n",
        ),
        ("basic", "authorization: Basic $BASIC\n"),
        (
            "basic_raw",
            "authorization: basic YWRhOmNvcnJlY3QgaG9yc2U=\n",
        ),
        ("basic_bad", "authorization: Basic !!!\n"),
        ("basic_nocolon", "authorization: Basic YWRh\n"),
        ("api_key_bearer", "authorization: Bearer $KEY\n"),
        ("api_key_header", "x-api-key: $KEY\n"),
        (
            "api_key_both",
            "x-api-key: $KEY\nauthorization: Bearer $KEY\n",
        ),
        ("api_key_query", "@POST /mcp?token=$KEY&workspace=ops\n"),
        ("api_key_rest", "@GET /api\nx-api-key: $KEY\n"),
        ("access_token_query", "@POST /mcp?access_token=$TOKEN&x=1\n"),
        (
            "two_workspaces",
            "@POST /mcp?workspace=ops&workspace=dev\nauthorization: Bearer $KEY\n",
        ),
        (
            "two_authorizations",
            "authorization: Bearer $TOKEN\nauthorization: Bearer $TOKEN\n",
        ),
        ("unknown_scheme", "authorization: Negotiate abc==\n"),
        ("malformed_token", "authorization: Bearer a b\n"),
        (
            "mcp_name_base64",
            "mcp-name: =?base64?aMOpbGxv?=\nmcp-param-region: =?base64?ZXUtd2VzdA==?=\n",
        ),
        ("mcp_name_bad", "mcp-name: =?base64?!!!?=\n"),
    ];
    for (name, text) in plain {
        s.write(t, name, text);
    }
    let token = keys::access_token(&json!({"iat": PAST, "nbf": PAST, "exp": FAR}));
    s.write(
        t,
        "bearer_static",
        format!("authorization: Bearer {token}\n"),
    );
    let proof = proof(Signer::Ed25519, "POST", RESOURCE, &token, None);
    s.write(
        t,
        "dpop_static",
        format!("authorization: DPoP {token}\ndpop: {proof}\n"),
    );
}

fn tokens() -> Vec<(&'static str, String)> {
    let sign = |header: Value, claims: Value| {
        keys::sign_compact(
            Signer::Ed25519,
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
        )
    };
    let h = json!({"typ": "at+jwt", "alg": "EdDSA", "kid": ED25519_KID});
    let c = json!({"iss": ISSUER, "aud": RESOURCE, "sub": "u", "iat": PAST, "nbf": PAST, "exp": FAR, "scope": "read write", "jti": "j"});
    let with = |k: &str, v: Value| {
        let mut c = c.clone();
        c[k] = v;
        c
    };
    let hwith = |k: &str, v: Value| {
        let mut h = h.clone();
        h[k] = v;
        h
    };
    let jkt = mcp_server::fuzzing::jwk_thumbprint(keys::ed25519_jwk().as_object().expect("a jwk"))
        .expect("a thumbprint");
    vec![
        ("valid", sign(h.clone(), c.clone())),
        (
            "aud_array",
            sign(h.clone(), with("aud", json!(["x", RESOURCE]))),
        ),
        ("scp_array", sign(h.clone(), with("scp", json!(["a", "b"])))),
        ("bound", sign(h.clone(), with("cnf", json!({"jkt": jkt})))),
        (
            "bound_mtls",
            sign(h.clone(), with("cnf", json!({"x5t#S256": "abc"}))),
        ),
        (
            "wrong_aud",
            sign(h.clone(), with("aud", json!("https://other.example/mcp"))),
        ),
        (
            "wrong_iss",
            sign(h.clone(), with("iss", json!("https://evil.example"))),
        ),
        ("expired", sign(h.clone(), with("exp", json!(PAST + 10)))),
        ("not_yet", sign(h.clone(), with("nbf", json!(FAR)))),
        ("iat_future", sign(h.clone(), with("iat", json!(FAR)))),
        (
            "no_exp",
            sign(h.clone(), {
                let mut c = c.clone();
                c.as_object_mut().map(|m| m.remove("exp"));
                c
            }),
        ),
        ("no_typ", sign(hwith("typ", Value::Null), c.clone())),
        ("unknown_kid", sign(hwith("kid", json!("other")), c.clone())),
        ("no_kid", sign(hwith("kid", Value::Null), c.clone())),
        ("ec_kid_eddsa", sign(hwith("kid", json!(EC_KID)), c.clone())),
        (
            "es256_claimed",
            sign(hwith("alg", json!("ES256")), c.clone()),
        ),
        ("hs256", sign(hwith("alg", json!("HS256")), c.clone())),
        (
            "alg_none",
            format!(
                "{}.{}.",
                keys::b64(hwith("alg", json!("none")).to_string()),
                keys::b64(c.to_string())
            ),
        ),
        ("enc_kid", sign(hwith("kid", json!("enc")), c.clone())),
        ("three_dots", "a.b.c".to_owned()),
        ("empty", String::new()),
    ]
}

fn jwt(s: &Seeds) {
    for (name, token) in tokens() {
        s.write("jwt", name, format!("R:{token}"));
    }
}

/// A proof for `method` to `htu` carrying `token`, `iat` in the past (accepted by the target's
/// wide window).
fn proof(signer: Signer, method: &str, htu: &str, token: &str, nonce: Option<&str>) -> String {
    let header = json!({"typ": "dpop+jwt", "alg": signer.alg(), "jwk": signer.jwk()});
    let mut claims = json!({"htm": method, "htu": htu, "iat": PAST, "jti": format!("seed-{method}-{}", htu.len()), "ath": keys::ath(token)});
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    keys::sign_compact(
        signer,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
}

fn dpop_proof(s: &Seeds) {
    let t = "dpop_proof";
    let token = "seed-access-token";
    let raw = |method: &str, proof: &str| format!("R:{method}\n{token}\n{proof}");
    let mut seeds = vec![
        (
            "eddsa",
            raw(
                "POST",
                &proof(Signer::Ed25519, "POST", RESOURCE, token, None),
            ),
        ),
        (
            "es256",
            raw("POST", &proof(Signer::P256, "POST", RESOURCE, token, None)),
        ),
        (
            "get_upper_htu",
            raw(
                "GET",
                &proof(
                    Signer::Ed25519,
                    "GET",
                    "HTTPS://MCP.FUZZ.EXAMPLE:443/mcp",
                    token,
                    None,
                ),
            ),
        ),
        (
            "htu_query",
            raw(
                "POST",
                &proof(
                    Signer::Ed25519,
                    "POST",
                    "https://mcp.fuzz.example/mcp?x",
                    token,
                    None,
                ),
            ),
        ),
        (
            "wrong_htm",
            raw(
                "DELETE",
                &proof(Signer::Ed25519, "POST", RESOURCE, token, None),
            ),
        ),
        (
            "with_nonce",
            raw(
                "POST",
                &proof(Signer::Ed25519, "POST", RESOURCE, token, Some("bm9uY2U")),
            ),
        ),
    ];
    let header = |alg: &str, jwk: Value| json!({"typ": "dpop+jwt", "alg": alg, "jwk": jwk});
    let claims =
        json!({"htm": "POST", "htu": RESOURCE, "iat": PAST, "jti": "x", "ath": keys::ath(token)});
    let mut private = keys::ed25519_jwk();
    private["d"] = json!("AAAA");
    let signed = |h: Value, c: &Value| {
        keys::sign_compact(
            Signer::Ed25519,
            h.to_string().as_bytes(),
            c.to_string().as_bytes(),
        )
    };
    seeds.push((
        "private_jwk",
        raw("POST", &signed(header("EdDSA", private), &claims)),
    ));
    seeds.push((
        "alg_mismatch",
        raw(
            "POST",
            &signed(header("ES256", keys::ed25519_jwk()), &claims),
        ),
    ));
    seeds.push((
        "rs256_jwk",
        raw(
            "POST",
            &signed(
                header("RS256", json!({"kty": "RSA", "n": "sXch", "e": "AQAB"})),
                &claims,
            ),
        ),
    ));
    seeds.push((
        "typ_jwt",
        raw(
            "POST",
            &signed(
                json!({"typ": "JWT", "alg": "EdDSA", "jwk": keys::ed25519_jwk()}),
                &claims,
            ),
        ),
    ));
    seeds.push(("two_parts", raw("POST", "eyJhbGciOiJFZERTQSJ9.e30")));
    for (name, seed) in seeds {
        s.write(t, name, seed);
    }
    // Structured inputs: any bytes make one.
    for i in 0u8..4 {
        let bytes: Vec<u8> = (0..96u16)
            .map(|j| (j as u8).wrapping_mul(31).wrapping_add(i * 17))
            .collect();
        s.write(t, &format!("structured_{i}"), bytes);
    }
}

fn www_authenticate(s: &Seeds) {
    let values = [
        r#"Bearer realm="mcp""#,
        r#"Bearer realm="mcp", error="invalid_token", error_description="The access token expired""#,
        r#"Bearer resource_metadata="http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp", scope="read write""#,
        r#"Bearer error="insufficient_scope", scope="tools:add admin", error_description="Need more""#,
        r#"Bearer error="invalid_token", error_description="The token \"expired\"", DPoP algs="ES256 EdDSA""#,
        r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        r#"Basic realm="mcp", charset="UTF-8""#,
        "Negotiate abc+/== , Basic, Bearer realm=x",
        "Bearer resource_metadata=http://h/.well-known/oauth-protected-resource, scope=a",
        "bearer  REALM = \"a\\\\b\\\"c\" ,\terror=invalid_token,,error_description=\"x, y\"",
        r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
        "Bearer realm=\"unterminated",
        "DPoP algs=\"ES256\", error=\"use_dpop_nonce\"\nBearer\nBasic realm=\"x\"",
    ];
    for (i, v) in values.iter().enumerate() {
        s.write("www_authenticate", &format!("value_{i:02}"), v);
    }
}

fn sse_decoder(s: &Seeds) {
    let t = "sse_decoder";
    let msg = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"5"}]}}"#;
    let note = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#;
    let streams = [
        ("one", format!("data: {msg}\n\n")),
        (
            "primed",
            format!(
                "id: 0/0\nretry: 1000\ndata:\n\nid: 0/1\nevent: message\ndata: {note}\n\nid: 0/2\ndata: {msg}\n\n"
            ),
        ),
        ("crlf", format!("id: 7\r\ndata: {msg}\r\n\r\n")),
        ("cr", format!("data: {msg}\r\r")),
        (
            "multiline",
            "data: {\"jsonrpc\":\"2.0\",\ndata: \"method\":\"ping\"}\n\n".to_owned(),
        ),
        ("comment", format!(": keep-alive\n\n:\ndata: {msg}\n\n")),
        (
            "other_event",
            format!("event: endpoint\ndata: /messages\n\nevent: message\ndata: {msg}\n\n"),
        ),
        ("batch", format!("data: [{msg},{note}]\n\n")),
        (
            "invalid",
            "data: {\"jsonrpc\":\"1.0\"}\n\ndata: not json\n\n".to_owned(),
        ),
        ("bom", format!("\u{feff}data: {msg}\n\n")),
        ("no_space", format!("data:{msg}\nid:x\nretry:abc\n\n")),
        ("unterminated", format!("data: {msg}")),
        ("id_nul", format!("id: a\0b\ndata: {msg}\n\n")),
    ];
    for (name, stream) in streams {
        s.write(t, name, stream);
    }
    let stream = format!("id: 1\r\ndata: {msg}\r\n\r\n");
    let mut split = vec![0xFF, 3];
    for p in [5u16, 7, 8] {
        split.extend_from_slice(&p.to_le_bytes());
    }
    split.extend_from_slice(stream.as_bytes());
    s.write(t, "split_crlf", split);
}

fn uri_template(s: &Seeds) {
    let cases = [
        ("file_reserved", "file:///srv/{+path}\nfile:///srv/a/b.txt"),
        (
            "file_dotdot",
            "file:///srv/{+path}\nfile:///srv/../../etc/passwd",
        ),
        ("log", "log://{day}/{page}\nlog://mon/2"),
        ("log_encoded", "log://{day}/{page}\nlog://%2E%2E/%2F"),
        (
            "users",
            "users://{id}/profile\nusers://%C3%A9t%C3%A9/profile",
        ),
        (
            "users_bad_escape",
            "users://{id}/profile\nusers://%zz/profile",
        ),
        (
            "users_control",
            "users://{id}/profile\nusers://a%00b/profile",
        ),
        ("splits", "x://{+a}-{+b}-{+c}\nx://1-2-3-4-5-6-7-8-9-0"),
        ("dotted", "api://{v1.name}/x\napi://k/x"),
        ("adjacent", "a://{x}{y}\na://12"),
        ("duplicate", "a://{x}/{x}\na://1/1"),
        ("modifier", "a://{x:3}\na://abc"),
        ("operator", "a://{/x}\na:///y"),
        ("unclosed", "a://{x\na://"),
        ("fixed", "config://app\nconfig://app"),
        ("scope_rule", "files:read\n"),
        ("tool_rule", "files.list_v2\n"),
    ];
    for (name, text) in cases {
        s.write("uri_template", name, text);
    }
}

fn tool_arguments(s: &Seeds) {
    // [tool index][mode: 0 = JSON text, 1 = drawn, 2 = no arguments][arguments]
    let cases: [(&str, u8, u8, &str); 14] = [
        (
            "numbers",
            0,
            0,
            r#"{"small":255,"signed":-2147483648,"big":18446744073709551615,"ratio":1.5e300,"flag":true}"#,
        ),
        (
            "numbers_overflow",
            0,
            0,
            r#"{"small":256,"signed":1,"big":0,"ratio":0,"flag":false}"#,
        ),
        (
            "numbers_float_int",
            0,
            0,
            r#"{"small":1.0,"signed":1,"big":1,"ratio":1,"flag":false}"#,
        ),
        (
            "texts",
            1,
            0,
            r#"{"name":"n","caseSensitive":true,"letters":["a","\u00e9"]}"#,
        ),
        (
            "texts_default",
            1,
            0,
            r#"{"name":"","repeat":0,"letters":[]}"#,
        ),
        (
            "texts_snake",
            1,
            0,
            r#"{"name":"n","case_sensitive":true,"letters":["ab"]}"#,
        ),
        (
            "shapes",
            2,
            0,
            r#"{"shape":{"circle":{"radius":2}},"more":["point",{"square":3}],"color":"red"}"#,
        ),
        (
            "shapes_bad",
            2,
            0,
            r#"{"shape":"circle","more":[],"color":"blue"}"#,
        ),
        (
            "nested",
            3,
            0,
            r#"{"address":{"street":"Main","zip":12345,"tags":["x"]},"extra":[{"street":"b"}],"labels":{"a":-1,"b":32767}}"#,
        ),
        (
            "nested_null",
            3,
            0,
            r#"{"address":{"street":"Main","zip":null},"extra":null,"labels":{}}"#,
        ),
        ("nothing", 4, 0, "{}"),
        ("nothing_extra", 4, 0, r#"{"x":1}"#),
        ("not_object", 0, 0, "[1,2]"),
        ("absent", 4, 2, ""),
    ];
    for (name, tool, mode, args) in cases {
        let mut bytes = vec![tool, mode];
        bytes.extend_from_slice(args.as_bytes());
        s.write("tool_arguments", name, bytes);
    }
    s.write(
        "tool_arguments",
        "drawn",
        [1u8, 1, 7, 0, 3, 2, 9, 4, 1, 5, 6, 2, 8, 3, 3, 1, 0],
    );
}

fn api_key(s: &Seeds) {
    let t = "api_key";
    for (name, key) in [
        ("active", ACTIVE_KEY),
        ("revoked", REVOKED_KEY),
        ("rest_only", REST_ONLY_KEY),
        ("disabled_owner", DISABLED_OWNER_KEY),
        ("workspace", WORKSPACE_KEY),
    ] {
        s.write(t, name, key);
    }
    s.write(t, "short", &ACTIVE_KEY[..ACTIVE_KEY.len() - 1]);
    s.write(t, "long", format!("{ACTIVE_KEY}0"));
    s.write(t, "wrong_prefix", ACTIVE_KEY.replacen("mcp_", "mcq_", 1));
    s.write(t, "dash", ACTIVE_KEY.replacen('0', "-", 1));
    s.write(t, "leading_space", format!(" {ACTIVE_KEY}"));
    s.write(t, "prefix_only", "mcp_");
    s.write(t, "prefix_candidate", "my_prefix_16char");
    s.write(t, "basic_like", STANDARD.encode("ada:pw"));
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let s = Seeds { root };
    jsonrpc_modern(&s);
    jsonrpc_legacy(&s);
    headers(&s);
    jwt(&s);
    dpop_proof(&s);
    www_authenticate(&s);
    sse_decoder(&s);
    uri_template(&s);
    tool_arguments(&s);
    api_key(&s);
    println!("seeds written under {}", s.root.display());
}
