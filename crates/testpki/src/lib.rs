//! A test PKI shaped like PKIoverheid's private G1 and G4 hierarchies, a public OV and a DV
//! hierarchy, with a catalogue of deliberately bad certificates and a CRL/OCSP server.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod ca;
pub mod catalogue;
pub mod error;
pub mod ext;
pub mod hierarchy;
pub mod init;
pub mod keys;
pub mod ocsp;
pub mod oids;
pub mod ops;
pub mod serve;
pub mod store;

pub use error::{PkiError, Result};
pub mod validity;
