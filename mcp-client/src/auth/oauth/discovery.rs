//! Discovery from the server's 401: RFC 9728 protected-resource metadata, then RFC 8414 /
//! OpenID Connect metadata of the authorization server it names.

use reqwest::Url;
use serde_json::{Map, Value};

use super::engine::{Engine, canonical, same_issuer};
use super::error::{OAuthError, err_discovery};
use crate::auth::AuthError;
use crate::challenge::Challenge;
use crate::secure_url::shown;

/// What discovery found: the resource, its authorization server and that server's endpoints.
#[derive(Clone)]
pub(super) struct Discovery {
    pub(super) resource: String,
    /// The issuer, as the authorization server's metadata names it.
    pub(super) issuer: String,
    /// The URL the metadata was looked up for: the issuer itself, except for a 2025-03-26 server
    /// without protected-resource metadata, whose metadata is taken from its own origin as it is.
    /// Dynamically registered clients are kept under this key, so that they are only ever used
    /// with endpoints from the same place.
    pub(super) authority: String,
    pub(super) metadata: Map<String, Value>,
    pub(super) token_endpoint: Url,
    pub(super) authorization_endpoint: Option<Url>,
    pub(super) registration_endpoint: Option<Url>,
    pub(super) prm_scopes: Vec<String>,
    /// The resource accepts only DPoP-bound tokens (`dpop_bound_access_tokens_required`).
    pub(super) dpop_required: bool,
}

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Where a protected-resource metadata document came from, which decides the `resource` it may
/// name (RFC 9728 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrmSource {
    /// The 401 challenge's `resource_metadata` (same origin as the server).
    Challenge,
    /// `/.well-known/oauth-protected-resource<server path>`.
    PathSuffixed,
    /// `/.well-known/oauth-protected-resource`.
    Root,
}

/// Whether metadata found at `source` naming `resource` is about `server` (AZ-06, RFC 9728
/// §3.3): `resource` must be the server URL itself (scheme and host case, a default port and a
/// trailing slash aside; no query, no fragment); only the root well-known URL's document may
/// name the bare origin instead.
fn resource_matches(resource: &str, server: &Url, source: PrmSource) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.fragment().is_some() {
        return false;
    }
    let mut s = server.clone();
    s.set_query(None);
    s.set_fragment(None);
    if canonical(&r) == canonical(&s) {
        return true;
    }
    source == PrmSource::Root
        && r.origin() == s.origin()
        && r.query().is_none()
        && r.path().trim_end_matches('/').is_empty()
}

impl Engine {
    /// GETs a metadata document (after the https rule); `None` unless it answers 2xx with a JSON
    /// object (redirects are not followed).
    async fn get_json(&self, url: &Url) -> Result<Option<Map<String, Value>>, AuthError> {
        self.check_url(url)?;
        let response = self
            .config
            .http
            .get(url.clone())
            .header("accept", "application/json")
            .header("mcp-protocol-version", "2025-11-25")
            .send()
            .await
            .map_err(|source| OAuthError::Http {
                url: url.to_string(),
                source,
            })?;
        if !response.status().is_success() {
            return Ok(None);
        }
        Ok(response
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v.as_object().cloned()))
    }

    /// RFC 9728 metadata: the challenge's `resource_metadata` (refused, unfetched, when it is on
    /// another origin), else the path-suffixed then the root well-known URL.
    async fn protected_resource(
        &self,
        server: &Url,
        challenge: Option<&Challenge>,
    ) -> Result<Option<(Map<String, Value>, PrmSource)>, AuthError> {
        let mut candidates = Vec::new();
        if let Some(u) = challenge
            .and_then(Challenge::resource_metadata)
            .and_then(|u| server.join(u).ok())
        {
            if u.origin() != server.origin() {
                return Err(OAuthError::ForeignResourceMetadata {
                    url: shown(&u),
                    server: shown(server),
                }
                .into());
            }
            candidates.push((u, PrmSource::Challenge));
        }
        let path = server.path().trim_end_matches('/');
        if !path.is_empty() {
            if let Ok(u) = server.join(&format!("/.well-known/oauth-protected-resource{path}")) {
                candidates.push((u, PrmSource::PathSuffixed));
            }
        }
        if let Ok(u) = server.join("/.well-known/oauth-protected-resource") {
            candidates.push((u, PrmSource::Root));
        }
        for (url, source) in candidates {
            if let Some(m) = self.get_json(&url).await? {
                return Ok(Some((m, source)));
            }
        }
        Ok(None)
    }

    /// RFC 8414 / OpenID metadata of `issuer`, in the order of the MCP specification. With
    /// `strict`, its `issuer` must be the one looked up (RFC 8414 §3.3), and the pinned one.
    async fn authorization_server(
        &self,
        issuer: &str,
        strict: bool,
    ) -> Result<Option<Map<String, Value>>, AuthError> {
        let base = Url::parse(issuer).map_err(|_| err_discovery(format!("bad issuer {issuer}")))?;
        let path = base.path().trim_end_matches('/');
        let suffixes = if path.is_empty() {
            vec![
                "/.well-known/oauth-authorization-server".to_owned(),
                "/.well-known/openid-configuration".to_owned(),
            ]
        } else {
            vec![
                format!("/.well-known/oauth-authorization-server{path}"),
                format!("/.well-known/openid-configuration{path}"),
                format!("{path}/.well-known/openid-configuration"),
            ]
        };
        for suffix in suffixes {
            let Ok(url) = base.join(&suffix) else {
                continue;
            };
            if let Some(m) = self.get_json(&url).await? {
                let found = m.get("issuer").and_then(Value::as_str).unwrap_or_default();
                if strict {
                    self.check_pinned(found)?;
                    if !same_issuer(found, issuer) {
                        return Err(OAuthError::IssuerMismatch {
                            expected: issuer.to_owned(),
                            found: found.to_owned(),
                        }
                        .into());
                    }
                }
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// The authorization server to use among those the metadata lists: the pinned one (refusing
    /// a list without it), else the first.
    fn pick_issuer(&self, listed: Vec<String>) -> Result<String, AuthError> {
        if listed.is_empty() {
            return Err(err_discovery("no authorization_servers in the metadata"));
        }
        let Some(pinned) = &self.config.issuer else {
            return Ok(listed.into_iter().next().unwrap_or_default());
        };
        match listed.iter().find(|i| same_issuer(pinned, i)) {
            Some(i) => Ok(i.clone()),
            None => Err(OAuthError::UntrustedIssuer {
                pinned: pinned.clone(),
                discovered: listed.join(", "),
            }
            .into()),
        }
    }

    pub(super) async fn discover(
        &self,
        server: &Url,
        challenge: Option<&Challenge>,
    ) -> Result<Discovery, AuthError> {
        let prm = self.protected_resource(server, challenge).await?;
        let dpop_required = prm.as_ref().is_some_and(|(m, _)| {
            m.get("dpop_bound_access_tokens_required") == Some(&Value::Bool(true))
        });
        let mut server_resource = server.clone();
        server_resource.set_fragment(None);
        let (resource, issuer, prm_scopes) = match &prm {
            Some((prm, source)) => {
                let resource = prm
                    .get("resource")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| server_resource.to_string());
                if !resource_matches(&resource, server, *source) {
                    return Err(OAuthError::ResourceMismatch {
                        resource,
                        server: shown(server),
                    }
                    .into());
                }
                let issuer = self.pick_issuer(strings(prm.get("authorization_servers")))?;
                (resource, issuer, strings(prm.get("scopes_supported")))
            }
            // A 2025-03-26 server has no protected-resource metadata: its authorization server
            // is the one the user named, else the server's own origin (AZ-20).
            None => {
                let issuer = match &self.config.issuer {
                    Some(pinned) => pinned.clone(),
                    None => server.origin().ascii_serialization(),
                };
                (server_resource.to_string(), issuer, Vec::new())
            }
        };
        // Only the origin guessed for a 2025-03-26 server is a guess: its metadata's own
        // `issuer` is taken as it is (it often names a path under the origin), and what is
        // learnt from it stays filed under the origin (`authority`).
        let strict = prm.is_some() || self.config.issuer.is_some();
        let base =
            Url::parse(&issuer).map_err(|_| err_discovery(format!("bad issuer {issuer}")))?;
        self.check_url(&base)?;
        let metadata = self.authorization_server(&issuer, strict).await?;
        let endpoint = |m: &Option<Map<String, Value>>, key: &str, fallback: &str| match m.as_ref()
        {
            Some(m) => m
                .get(key)
                .and_then(Value::as_str)
                .and_then(|u| Url::parse(u).ok()),
            None => base.join(fallback).ok(),
        };
        let token_endpoint = endpoint(&metadata, "token_endpoint", "/token")
            .ok_or_else(|| err_discovery("no token_endpoint"))?;
        Ok(Discovery {
            authorization_endpoint: endpoint(&metadata, "authorization_endpoint", "/authorize"),
            registration_endpoint: endpoint(&metadata, "registration_endpoint", "/register"),
            resource,
            authority: issuer.clone(),
            issuer: metadata
                .as_ref()
                .and_then(|m| m.get("issuer"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or(issuer),
            metadata: metadata.unwrap_or_default(),
            token_endpoint,
            prm_scopes,
            dpop_required,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_must_be_the_server_url_except_at_the_root() {
        use PrmSource::{Challenge, PathSuffixed, Root};
        let server = Url::parse("http://localhost:1/mcp").unwrap();
        for source in [Challenge, PathSuffixed, Root] {
            for same in [
                "http://localhost:1/mcp",
                "http://localhost:1/mcp/",
                "HTTP://LOCALHOST:1/mcp",
            ] {
                assert!(resource_matches(same, &server, source), "{same} {source:?}");
            }
            for other in [
                "https://evil.example.com/mcp",
                "http://localhost:1/mcp2",
                "http://localhost:1/mcp/sub",
                "http://localhost:2/mcp",
                "https://localhost:1/mcp",
                "http://localhost:1/mcp?x=1",
                "http://localhost:1/mcp#f",
                "http://localhost:1/MCP",
                "not a url",
            ] {
                assert!(
                    !resource_matches(other, &server, source),
                    "{other} {source:?}"
                );
            }
        }
        for origin in ["http://localhost:1", "http://localhost:1/"] {
            assert!(resource_matches(origin, &server, Root));
            assert!(!resource_matches(origin, &server, PathSuffixed));
            assert!(!resource_matches(origin, &server, Challenge));
        }
        assert!(!resource_matches("http://localhost:2", &server, Root));
        // The server URL's own query and fragment are not part of the resource.
        let with_query = Url::parse("http://localhost:1/mcp?workspace=a#x").unwrap();
        assert!(resource_matches(
            "http://localhost:1/mcp",
            &with_query,
            PathSuffixed
        ));
    }

    #[test]
    fn issuers_compare_after_normalisation() {
        assert!(same_issuer(
            "https://AS.example.com/",
            "https://as.example.com"
        ));
        assert!(same_issuer(
            "https://as.example.com:443/t1",
            "https://as.example.com/t1/"
        ));
        assert!(!same_issuer(
            "https://as.example.com",
            "http://as.example.com"
        ));
        assert!(!same_issuer(
            "https://as.example.com/t1",
            "https://as.example.com/t2"
        ));
        assert!(!same_issuer(
            "https://as.example.com",
            "https://as.example.com.evil"
        ));
        assert!(!same_issuer("https://as.example.com", ""));
    }
}
