//! API keys: prefixed high-entropy secrets shown once, stored as a domain-separated SHA-256
//! digest, limited by surface, role and workspace, attributed to a user or a service account,
//! with expiry, revocation and rotation.
//!
//! ```
//! use mcp_server::auth::{ApiKeys, AuthorizationConfig, NewApiKey, Surface};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = ApiKeys::in_memory(); // ApiKeys::sqlite("auth.db")? in production
//! let created = keys
//!     .create(NewApiKey::new("ci", "operator").surface(Surface::Mcp))
//!     .await?;
//! println!("your key (shown once): {}", created.secret.expose());
//! let server = mcp_server::McpServer::builder("workflows")
//!     .authorization(AuthorizationConfig::builtin(keys))
//!     .build()?;
//! # let _ = server;
//! # Ok(()) }
//! ```

mod memory;
mod model;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
mod secret;
mod service;
mod sqlite;
mod store;

pub use memory::MemoryStore;
pub(crate) use model::now_secs;
pub use model::{ApiKey, CreatedApiKey, KeyStatus, NewApiKey, StoredApiKey};
#[cfg(feature = "postgres")]
pub(crate) use postgres::pg_error;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use secret::{ApiKeySecret, DIGEST_VERSION, KeyDigest};
pub use service::{ApiKeyError, ApiKeys, DEFAULT_PREFIX, KeyRejection};
pub use sqlite::SqliteStore;
pub use store::{ApiKeyStore, StoreError};
