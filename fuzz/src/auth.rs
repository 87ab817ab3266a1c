//! The authorization side of the targets: API keys with known secrets in every state, a user
//! for HTTP Basic, JWT validators on the fixed keys, and three guarded routers (builtin mode
//! with JWTs, DPoP and `?token=`; OAuth with DPoP required and nonces; Basic) whose handler
//! checks what authentication must have removed from the request.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::routing::any;
use http::Uri;
use mcp_server::auth::{
    ApiKeys, AuthFailureLimits, AuthLayer, AuthorizationConfig, Caller, Danger, DpopConfig,
    JwtValidator, JwtValidatorConfig, MemoryStore, NewApiKey, NonceIssuer, Surface, User,
    UserStore, WorkspaceAccess,
};
use mcp_server::fuzzing;
use serde_json::{Value, json};

use crate::keys::{self, ISSUER, RESOURCE, Signer};
use futures_util::FutureExt;

/// The prefix of the keys.
pub const PREFIX: &str = "mcp_";
/// An active key, accepted on the MCP surface.
pub const ACTIVE_KEY: &str = "mcp_FuzzActiveKey000000000000000000000000000000";
/// A revoked key.
pub const REVOKED_KEY: &str = "mcp_FuzzRevokedKey00000000000000000000000000000";
/// A key accepted on the REST surface only (403 on the MCP endpoint).
pub const REST_ONLY_KEY: &str = "mcp_FuzzRestOnlyKey0000000000000000000000000000";
/// A key owned by a disabled user.
pub const DISABLED_OWNER_KEY: &str = "mcp_FuzzDisabledOwnerKey00000000000000000000000";
/// A key limited to the workspace `ops`.
pub const WORKSPACE_KEY: &str = "mcp_FuzzWorkspaceKey000000000000000000000000000";
/// The Basic user, and their password.
pub const BASIC_USER: &str = "ada";
/// The Basic user's password.
pub const BASIC_PASSWORD: &str = "correct horse";
/// The key of the DPoP nonces of the OAuth router.
pub const NONCE_KEY: &[u8] = b"mcp-fuzz dpop nonce key, 32 byte";

/// Each key's name and secret, as created.
pub const KEYS: [(&str, &str); 5] = [
    ("active", ACTIVE_KEY),
    ("revoked", REVOKED_KEY),
    ("rest-only", REST_ONLY_KEY),
    ("disabled-owner", DISABLED_OWNER_KEY),
    ("workspace", WORKSPACE_KEY),
];

/// Whether `token` has the shape of a key with `prefix`: the prefix, then exactly 43 ASCII
/// letters and digits (what `ApiKeys` documents; checked here independently).
pub fn well_formed_key(token: &str, prefix: &str) -> bool {
    token
        .strip_prefix(prefix)
        .is_some_and(|body| body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The Basic password check of the fuzz builds: the stored "hash" is `$fuzz$<password>`
/// (Argon2id itself is not what is fuzzed, and costs tens of milliseconds a check).
pub fn cheap_password_check(password: &str, phc: &str) -> bool {
    phc.strip_prefix("$fuzz$") == Some(password)
}

async fn make_keys() -> ApiKeys {
    let store = MemoryStore::new();
    store
        .put_user(User::new("bob", "developer"))
        .await
        .expect("a user");
    let keys = ApiKeys::new(store);
    let news = [
        NewApiKey::new("active", "operator")
            .surface(Surface::Mcp)
            .scopes(["read", "write"]),
        NewApiKey::new("revoked", "operator").surface(Surface::Mcp),
        NewApiKey::new("rest-only", "operator").surface(Surface::RestApi),
        NewApiKey::new("disabled-owner", "developer")
            .surface(Surface::Mcp)
            .user_owned("bob"),
        NewApiKey::new("workspace", "viewer")
            .surface(Surface::Mcp)
            .workspace("ops", "operator"),
    ];
    for (new, (name, secret)) in news.into_iter().zip(KEYS) {
        let created = keys.create(new).await.expect("a key");
        let digest = mcp_server::auth::KeyDigest::of(secret);
        let prefix = secret.get(..8).unwrap_or(secret);
        keys.store()
            .replace_secret(&created.key.id, digest, prefix, keys::now())
            .await
            .expect("a known secret");
        if name == "revoked" {
            keys.revoke(&created.key.id).await.expect("revoked");
        }
    }
    if let Some(users) = keys.users() {
        users
            .set_user_disabled("bob", true)
            .await
            .expect("disabled");
    }
    keys
}

/// The API keys (a memory store holding [`KEYS`]), created once per process.
pub fn api_keys() -> ApiKeys {
    static KEYS_ONCE: OnceLock<ApiKeys> = OnceLock::new();
    // Memory stores answer at once: no runtime is needed (and callers may be inside one).
    KEYS_ONCE
        .get_or_init(|| {
            make_keys()
                .now_or_never()
                .expect("memory stores answer at once")
        })
        .clone()
}

/// A JWT validator trusting [`keys::jwks`], configured by `config`.
pub fn validator(config: JwtValidatorConfig) -> JwtValidator {
    fuzzing::jwt_validator_with_keys(config, &keys::jwks()).expect("a validator on fixed keys")
}

/// A valid access token (an hour), and one bound to the Ed25519 key (`cnf.jkt`).
pub struct Tokens {
    /// Scopes `read write`, unbound.
    pub bearer: String,
    /// Bound to the Ed25519 key.
    pub dpop: String,
}

/// The tokens of this process.
pub fn tokens() -> &'static Tokens {
    static TOKENS: OnceLock<Tokens> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let jwk = keys::ed25519_jwk();
        let jkt = jwk
            .as_object()
            .and_then(fuzzing::jwk_thumbprint)
            .unwrap_or_default();
        Tokens {
            bearer: keys::access_token(&json!({})),
            dpop: keys::access_token(&json!({"cnf": {"jkt": jkt}})),
        }
    })
}

/// The nonces the OAuth router accepts.
pub fn nonces() -> NonceIssuer {
    NonceIssuer::new(NONCE_KEY, Duration::from_secs(300))
}

/// A fresh, valid DPoP proof by the Ed25519 key for `method` on the endpoint, for `token`,
/// carrying the current nonce.
pub fn fresh_proof(method: &str, token: &str) -> String {
    static JTI: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = JTI.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": keys::ed25519_jwk()});
    let claims = json!({"htm": method, "htu": RESOURCE, "iat": keys::now(),
        "jti": format!("jti-{}-{n}", std::process::id()), "ath": keys::ath(token),
        "nonce": nonces().current()});
    keys::sign_compact(
        Signer::Ed25519,
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
}

/// What a guarded route answers: the caller's credential kind.
async fn whoami(uri: Uri, caller: Caller) -> String {
    // `?token=` and `?access_token=` never reach a handler (they could be logged).
    for (name, _) in form_pairs(uri.query().unwrap_or("")) {
        assert!(
            name != "token" && name != "access_token",
            "a credential reached the handler in the query: {uri}"
        );
    }
    caller
        .context()
        .map_or("anonymous", |c| c.credential.as_str())
        .to_owned()
}

/// `application/x-www-form-urlencoded` pairs, decoded leniently (an invalid escape or UTF-8 is
/// kept as written).
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(n), decode(v))
        })
        .collect()
}

/// One guarded router and what it accepts.
pub struct Guarded {
    /// A name for messages.
    pub name: &'static str,
    /// `/mcp` (surface `mcp`) and `/api` (surface `rest_api`), both answering [`whoami`].
    pub router: Router,
    /// Whether it accepts `?token=`.
    pub query_token: bool,
    /// Whether it accepts `X-API-Key`.
    pub api_key_header: bool,
}

fn guarded(name: &'static str, config: AuthorizationConfig) -> Guarded {
    let query_token = config.allows(Danger::QueryToken);
    let api_key_header = config.mode() == mcp_server::auth::AuthMode::Builtin;
    let build = |config| {
        fuzzing::authenticator_with_password_check(config, cheap_password_check)
            .expect("a valid configuration")
    };
    let mcp = Arc::new(build(config.clone()));
    let rest = Arc::new(build(config).surface(Surface::RestApi));
    let router = Router::new()
        .route("/mcp", any(whoami).layer(AuthLayer::new(mcp)))
        .route("/api", any(whoami).layer(AuthLayer::new(rest)));
    Guarded {
        name,
        router,
        query_token,
        api_key_header,
    }
}

/// The three guarded routers, built once per process. Without failure budgets: every input
/// must get the answer its credential deserves, not a 429 earned by earlier inputs.
pub fn routers() -> &'static [Guarded] {
    static ROUTERS: OnceLock<Vec<Guarded>> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        let _runtime = crate::runtime::runtime().enter();
        let builtin = AuthorizationConfig::builtin(api_keys())
            .validator(validator(JwtValidatorConfig::new(ISSUER, "")))
            .authorization_server(ISSUER)
            .resource(RESOURCE)
            .dpop(DpopConfig::allowed())
            .known_workspaces(["ops", "dev"])
            .dangerously_allow(Danger::QueryToken)
            .auth_failure_limits(AuthFailureLimits::disabled());
        let oauth = AuthorizationConfig::enabled()
            .validator(validator(JwtValidatorConfig::new(ISSUER, "")))
            .authorization_server(ISSUER)
            .resource(RESOURCE)
            .required_scopes(["read"])
            .dpop(DpopConfig::required().with_nonces(NONCE_KEY, Duration::from_secs(300)))
            .auth_failure_limits(AuthFailureLimits::disabled());
        let store = MemoryStore::new();
        store
            .put_user(
                User::new(BASIC_USER, "admin")
                    .password_hash(format!("$fuzz${BASIC_PASSWORD}"))
                    .workspaces(WorkspaceAccess::All),
            )
            .now_or_never()
            .and_then(Result::ok)
            .expect("a user");
        let basic =
            AuthorizationConfig::basic(store).auth_failure_limits(AuthFailureLimits::disabled());
        vec![
            guarded("builtin", builtin),
            guarded("oauth", oauth),
            guarded("basic", basic),
        ]
    })
}

/// The credentials a header value may name: `$TOKEN`, `$DPOP_TOKEN`, `$PROOF` (a fresh proof for
/// the request's method and `$DPOP_TOKEN`), `$KEY` (the active key), `$BASIC` (the Basic user's
/// `base64(user:password)`).
pub fn substitute(value: &str, method: &str) -> String {
    if !value.contains('$') {
        return value.to_owned();
    }
    use base64::Engine;
    let t = tokens();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{BASIC_USER}:{BASIC_PASSWORD}"));
    let mut out = value
        .replace("$DPOP_TOKEN", &t.dpop)
        .replace("$TOKEN", &t.bearer)
        .replace("$KEY", ACTIVE_KEY)
        .replace("$BASIC", &basic);
    if out.contains("$PROOF") {
        out = out.replace("$PROOF", &fresh_proof(method, &t.dpop));
    }
    out
}

/// The credential-bearing parts of a request, for the invariants.
#[derive(Debug, Default)]
pub struct Presented {
    /// `Authorization` headers.
    pub authorization: usize,
    /// `X-API-Key` headers.
    pub api_key: usize,
    /// `token` query parameters.
    pub query_tokens: usize,
}

impl Presented {
    /// What `headers` and `uri` present.
    pub fn of(headers: &http::HeaderMap, uri: &Uri) -> Self {
        let query = uri.query().unwrap_or("");
        Presented {
            authorization: headers.get_all(http::header::AUTHORIZATION).iter().count(),
            api_key: headers.get_all("x-api-key").iter().count(),
            query_tokens: form_pairs(query)
                .iter()
                .filter(|(n, _)| n == "token")
                .count(),
        }
    }
}

/// The schemes a 401's challenges may have.
pub const SCHEMES: [&str; 3] = ["Bearer", "DPoP", "Basic"];

/// Checks that a 401 says how to authenticate: at least one challenge, each of a known scheme.
pub fn check_challenges(headers: &http::HeaderMap, context: &str) {
    let values: Vec<&str> = headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| {
            v.to_str()
                .unwrap_or_else(|_| panic!("a non-text challenge: {context}"))
        })
        .collect();
    let challenges = mcp_client::challenge::parse_www_authenticate(values.iter().copied());
    assert!(
        !challenges.is_empty(),
        "a 401 without a challenge: {context}"
    );
    for c in &challenges {
        assert!(
            SCHEMES.iter().any(|s| c.is_scheme(s)),
            "an unknown scheme {:?}: {context}",
            c.scheme()
        );
    }
}

/// The members of [`Value`] objects the token targets draw names from.
pub const TOKEN_VOCAB: [&str; 24] = [
    "typ",
    "alg",
    "kid",
    "jwk",
    "iss",
    "aud",
    "sub",
    "exp",
    "nbf",
    "iat",
    "jti",
    "scope",
    "scp",
    "cnf",
    "jkt",
    "client_id",
    "azp",
    "EdDSA",
    "ES256",
    "RS256",
    "none",
    "HS256",
    "at+jwt",
    "dpop+jwt",
];

/// Keeps the names of [`Value`] members in a set (for checks that need them).
pub fn member_names(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}
