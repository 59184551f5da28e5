//! The MedMij certificate verifier: PKIoverheid chain validation, EKU, validity, the CRL/OCSP
//! revocation engine and the whitelist, usable directly and as rustls verifiers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod anchors;
pub mod background;
pub mod builder;
pub mod crl;
pub mod der_time;
pub mod evidence;
pub mod http;
pub mod ocsp;
mod oids;
pub mod refusal;
pub mod report;
pub mod revocation;
pub mod rules;
pub mod sigverify;
mod singleflight;
pub mod tls;
pub mod tls_policy;
pub mod verifier;
pub mod whitelist;

// The types every caller starts from, at the crate root.
pub use builder::{BuildError, Channel, VerifierBuilder};
pub use refusal::{Alert, Code, Refusal, Warning};
pub use report::VerifyReport;
pub use tls_policy::{Strictness, TlsPolicy};
pub use verifier::{Peer, Verdict, Verifier};
