//! The MedMij gateway: the compliant TLS front of a node. A library with a thin subcommand
//! (`medmij-tls gateway run|check-config`), so the demo and the client probe can start
//! gateways in-process.
//!
//! - `config.rs`: the TOML configuration, validated with `FILE:line:column: key: why`.
//! - `material.rs`: a listener's certificate and key (key match, path to an anchor, no root).
//! - `server.rs`: `prepare` (everything a start needs, checked) and `start` (the listeners).
//! - `proxy.rs`: the reverse proxy to the loopback upstream and the redirect listener.
//!
//! Built: the backchannel (mTLS, verifier with revocation from memory kept warm, a first
//! contact fetched in the handshake within the chain budget, whitelist refreshed), the
//! frontchannel (TLS, HSTS, HTTP/1.1 and HTTP/2), the redirect listener, limits, drain on
//! shutdown, the outbound proxy, hot reload, metrics, OCSP stapling of the own certificate.

pub mod config;
pub mod material;
pub mod metrics;
pub mod outbound;
pub mod proxy;
pub mod server;
pub mod stapling;

pub use config::{Config, ConfigError};
pub use server::{prepare, start, Prepared, Running, StartError};
