//! Transports: Streamable HTTP ([`http`]) and stdio ([`stdio`]).

pub mod http;
pub mod stdio;
