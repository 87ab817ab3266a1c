//! Discovery from the server's 401: RFC 9728 protected-resource metadata, then RFC 8414 /
//! OpenID Connect metadata of the authorization server it names.

use reqwest::Url;
use serde_json::{Map, Value};

use super::engine::Engine;
use super::error::{OAuthError, err_discovery};
use crate::auth::AuthError;
use crate::challenge::Challenge;

/// What discovery found: the resource, its authorization server and that server's endpoints.
#[derive(Clone)]
pub(super) struct Discovery {
    pub(super) resource: String,
    pub(super) issuer: String,
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

/// Whether `server` lies under `resource` (same origin, path prefix on segment boundaries).
fn resource_covers(resource: &str, server: &Url) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.origin() != server.origin() {
        return false;
    }
    let rp = r.path().trim_end_matches('/');
    let sp = server.path().trim_end_matches('/');
    rp.is_empty() || sp == rp || sp.starts_with(&format!("{rp}/"))
}

impl Engine {
    async fn get_json(&self, url: &Url) -> Result<Option<Map<String, Value>>, AuthError> {
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

    /// RFC 9728 metadata: the challenge's `resource_metadata`, else the path-based then the root
    /// well-known URL.
    async fn protected_resource(
        &self,
        server: &Url,
        challenge: Option<&Challenge>,
    ) -> Result<Option<Map<String, Value>>, AuthError> {
        let mut candidates = Vec::new();
        if let Some(u) = challenge
            .and_then(Challenge::resource_metadata)
            .and_then(|u| server.join(u).ok())
        {
            candidates.push(u);
        }
        let path = server.path().trim_end_matches('/');
        if !path.is_empty() {
            if let Ok(u) = server.join(&format!("/.well-known/oauth-protected-resource{path}")) {
                candidates.push(u);
            }
        }
        if let Ok(u) = server.join("/.well-known/oauth-protected-resource") {
            candidates.push(u);
        }
        for url in candidates {
            if let Some(m) = self.get_json(&url).await? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// RFC 8414 / OpenID metadata of `issuer`, in the order of the MCP specification; its
    /// `issuer` must be exactly the one looked up.
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
                if strict && found.trim_end_matches('/') != issuer.trim_end_matches('/') {
                    return Err(OAuthError::IssuerMismatch {
                        expected: issuer.to_owned(),
                        found: found.to_owned(),
                    }
                    .into());
                }
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    pub(super) async fn discover(
        &self,
        server: &Url,
        challenge: Option<&Challenge>,
    ) -> Result<Discovery, AuthError> {
        let prm = self.protected_resource(server, challenge).await?;
        let dpop_required = prm.as_ref().is_some_and(|m| {
            m.get("dpop_bound_access_tokens_required") == Some(&Value::Bool(true))
        });
        let mut server_resource = server.clone();
        server_resource.set_fragment(None);
        let (resource, issuer, prm_scopes) = match &prm {
            Some(prm) => {
                let resource = prm
                    .get("resource")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| server_resource.to_string());
                if !resource_covers(&resource, server) {
                    return Err(OAuthError::ResourceMismatch {
                        resource,
                        server: server.to_string(),
                    }
                    .into());
                }
                let issuer = strings(prm.get("authorization_servers"))
                    .into_iter()
                    .next()
                    .ok_or_else(|| err_discovery("no authorization_servers in the metadata"))?;
                (resource, issuer, strings(prm.get("scopes_supported")))
            }
            None => {
                let origin = server.origin().ascii_serialization();
                (server_resource.to_string(), origin, Vec::new())
            }
        };
        // Without protected-resource metadata (2025-03-26 servers) the issuer is only a guess
        // (the server's origin), so the metadata's own `issuer` is taken as it is.
        let metadata = self.authorization_server(&issuer, prm.is_some()).await?;
        let base = Url::parse(&issuer).map_err(|_| err_discovery("bad issuer URL"))?;
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
mod tests {
    use super::*;

    #[test]
    fn resource_prefix_rules() -> Result<(), Box<dyn std::error::Error>> {
        let server = Url::parse("http://localhost:1/mcp")?;
        assert!(resource_covers("http://localhost:1/mcp", &server));
        assert!(resource_covers("http://localhost:1/", &server));
        assert!(resource_covers("http://localhost:1", &server));
        assert!(!resource_covers("https://evil.example.com/mcp", &server));
        assert!(!resource_covers("http://localhost:1/mcp2", &server));
        Ok(())
    }
}
