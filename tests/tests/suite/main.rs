//! The workspace's integration tests, as one test binary (one link of the workspace instead of
//! one per file). Each module was a test binary of its own: they now share one process, so none
//! of them may rely on process-wide state (a global tracing subscriber, environment variables, a
//! static counter) that another module could see or change.
//!
//! Run one module with a filter: `cargo test -p mcp-tests --test suite auth_dpop::`.

mod auth_builtin;
mod auth_dpop;
mod auth_hardening;
mod auth_introspection;
mod auth_oauth;
mod auth_rate_limit;
mod auth_secure_by_construction;
mod bounds;
mod client_auth;
mod client_dpop;
mod client_http;
mod client_malformed;
mod client_oauth;
mod client_protected;
mod client_security;
mod client_stdio;
mod clock_skew;
mod faults_auth;
mod faults_handlers;
mod health;
mod idp_roles;
mod key_admin;
mod layers;
mod legacy_http;
mod macros;
mod modern_http;
mod postgres_store;
mod redis_events;
mod redis_replay;
mod redis_tasks;
mod resource_templates;
mod shared_sessions;
mod stdio;
mod tasks;
mod token_exchange;
mod transport_bounds;
