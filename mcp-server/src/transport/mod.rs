//! Transports: Streamable HTTP ([`http`], feature `http`) and stdio ([`stdio`]).

#[cfg(feature = "http")]
pub mod http;
pub mod stdio;
