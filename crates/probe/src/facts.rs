//! What the probe saw of each connection: stored whole, so a report can be judged again.

use crate::cases::Case;
use crate::hello::ClientHelloFacts;
use serde::{Deserialize, Serialize};

/// How a connection ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum Outcome {
    /// No ClientHello was read (not TLS, nothing sent, over a budget).
    #[default]
    NoHello,
    /// The handshake completed: the client accepted the certificate.
    Completed,
    /// The client aborted the handshake with this alert.
    ClientAlert(String),
    /// The client closed the connection during the handshake without an alert.
    Closed,
    /// The client went silent during the handshake past the deadline.
    Timeout,
    /// The probe's side failed (no common version or suite, a TLS error from the client).
    ServerError,
}

impl Outcome {
    /// Whether the client refused (aborted the handshake itself).
    pub fn refused(&self) -> bool {
        matches!(self, Outcome::ClientAlert(_) | Outcome::Closed)
    }
}

/// One connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionFacts {
    /// Order of arrival (from 0).
    pub index: usize,
    /// The client's address.
    pub peer: String,
    /// Milliseconds after the run started.
    pub at_ms: u64,
    /// Milliseconds from accept to close.
    pub duration_ms: u64,
    /// The case it counted for (`None`: a name the probe does not serve).
    pub case: Option<Case>,
    /// The certificate served (the good one for a name the probe does not know).
    pub served: Option<Case>,
    /// SHA-256 of the leaf served (hex).
    pub leaf_sha256: Option<String>,
    /// The ClientHello.
    pub hello: Option<ClientHelloFacts>,
    /// How it ended.
    pub outcome: Outcome,
    /// The error text, when there was one.
    pub error: Option<String>,
    /// Negotiated version (code point).
    pub version: Option<u16>,
    /// Negotiated suite.
    pub suite: Option<u16>,
    /// Negotiated group.
    pub group: Option<u16>,
    /// The client's certificate chain, as sent (base64 DER).
    pub client_chain: Vec<String>,
    /// What a MedMij server's verifier says of that chain (the test PKI's roots, revocation
    /// soft-fail, no whitelist: the probe does not know the network's): `None` when none was
    /// sent or it was not judged.
    pub client_chain_verdict: Option<ChainVerdict>,
    /// Application data came before the server's Finished (TLS 1.2 False Start).
    pub false_start: bool,
    /// Early data bytes the probe accepted (TLS 1.3 0-RTT on a resumed session).
    pub early_data_bytes: usize,
    /// The first line of the request sent after the handshake.
    pub request: Option<String>,
}

/// The verifier's verdict on a client's chain, as a MedMij server would take it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainVerdict {
    /// Accepted.
    pub accepted: bool,
    /// Each reason: `requirement code: message`.
    pub reasons: Vec<String>,
}
