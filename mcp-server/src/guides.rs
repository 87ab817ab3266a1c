//! Guides: task-oriented walkthroughs, from a first tool to several instances behind a load
//! balancer. Each is a page of its own (Markdown under `mcp-server/guides/`, compiled as doc
//! tests by the repository's test suite):
//!
//! - [`tools`]: writing tools, prompts and resources; every macro attribute; results and errors;
//!   talking to the client.
//! - [`authorization`]: picking a mode; OAuth with Keycloak, Auth0, Okta and Entra ID; scopes,
//!   roles from tokens, introspection.
//! - [`dpop`]: sender-constrained tokens (RFC 9449), server and client.
//! - [`api_keys`]: API keys, roles, surfaces, workspaces, users and the audit trail.
//! - [`testing`]: integration tests with the testing kit and the client.
//! - [`scaling`]: several instances behind one URL.
//! - [`observability`]: logs, OpenTelemetry traces and metrics, health probes.
//! - [`migrating_from_rmcp`]: the same server with the official Rust SDK and here.

#[doc = include_str!("../guides/tools.md")]
pub mod tools {}

#[doc = include_str!("../guides/authorization.md")]
pub mod authorization {}

#[doc = include_str!("../guides/dpop.md")]
pub mod dpop {}

#[doc = include_str!("../guides/api-keys.md")]
pub mod api_keys {}

#[doc = include_str!("../guides/testing.md")]
pub mod testing {}

#[doc = include_str!("../guides/scaling.md")]
pub mod scaling {}

#[doc = include_str!("../guides/observability.md")]
pub mod observability {}

#[doc = include_str!("../guides/migrating-from-rmcp.md")]
pub mod migrating_from_rmcp {}
