//! What the probes found about one endpoint: observations only, no judgment. Stored in the JSON
//! report as they are, so `scan --from-json` can judge them again under another profile. The
//! `name` and `ncsc` fields of suites and groups are filled in for readers of the report and
//! ignored when a report is read back (the judgment recomputes them).

use medmij_core::ncsc::Level;
use medmij_core::wire::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use serde::{Deserialize, Serialize};

/// One accepted cipher suite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteFact {
    /// The version it was accepted with.
    #[serde(with = "crate::verser")]
    pub version: ProtocolVersion,
    /// The code point.
    #[serde(with = "crate::codeser")]
    pub code: u16,
    /// IANA name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The NCSC level under the report's profile (filled in by the judgment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ncsc: Option<Level>,
}

impl SuiteFact {
    /// The suite.
    pub fn suite(&self) -> CipherSuite {
        CipherSuite(self.code)
    }
}

/// One accepted key-exchange group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFact {
    /// The version it was accepted with (TLS 1.3 via HelloRetryRequest, TLS 1.2 via the
    /// ServerKeyExchange curve).
    #[serde(with = "crate::verser")]
    pub version: ProtocolVersion,
    /// The code point.
    #[serde(with = "crate::codeser")]
    pub code: u16,
    /// Registered name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The NCSC level under the report's profile (filled in by the judgment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ncsc: Option<Level>,
}

impl GroupFact {
    /// The group.
    pub fn group(&self) -> NamedGroup {
        NamedGroup(self.code)
    }
}

/// Finite-field DH parameters a TLS ≤ 1.2 server used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhFact {
    /// How the server was asked: `ffdhe-offered` (RFC 7919 groups in supported_groups) or
    /// `no-groups` (its own choice).
    pub asked: String,
    /// The suite the server picked.
    #[serde(with = "crate::codeser")]
    pub suite: u16,
    /// The prime's size in bits.
    pub prime_bits: usize,
    /// The RFC 7919 group the prime is, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rfc7919: Option<String>,
}

/// TLS 1.2 handshake signatures: what the server signs with when only weak hashes are offered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KexSignatureFacts {
    /// The schemes seen signing a ServerKeyExchange (any probe).
    #[serde(default)]
    pub seen: Vec<SignatureScheme>,
    /// Offered only SHA-1 schemes, the server signed with SHA-1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1_accepted: Option<bool>,
    /// Offered only SHA-224 schemes, the server signed with SHA-224.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha224_accepted: Option<bool>,
}

/// Whether the server asks for a client certificate, and what it does without one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuth {
    /// No CertificateRequest.
    None,
    /// Requested, but the handshake and a request went through without a certificate.
    Optional,
    /// Requested and refused without a certificate.
    Required,
    /// Could not be established (no handshake completed).
    #[default]
    Unknown,
}

/// One certificate as the server sent it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertFact {
    /// DER, base64.
    pub der: String,
    /// Subject DN (for people; `der` is the fact).
    #[serde(default)]
    pub subject: String,
    /// Issuer DN.
    #[serde(default)]
    pub issuer: String,
    /// notAfter, RFC 3339.
    #[serde(default)]
    pub not_after: String,
    /// The certificate names an OCSP responder (AIA id-ad-ocsp).
    #[serde(default)]
    pub ocsp_responder: bool,
}

/// What the real (rustls) handshake saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeFacts {
    /// The handshake completed.
    pub completed: bool,
    /// Why it did not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Negotiated version.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::verser::opt"
    )]
    pub version: Option<ProtocolVersion>,
    /// Negotiated suite.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::codeser::opt"
    )]
    pub suite: Option<u16>,
    /// ALPN protocol negotiated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// A stapled OCSP response came with the certificate.
    pub ocsp_stapled: bool,
    /// A CertificateRequest was received.
    pub certificate_requested: bool,
    /// The acceptable CA names the server sent.
    #[serde(default)]
    pub acceptable_cas: Vec<String>,
    /// What happened after the handshake without a certificate: `http 200`, `alert …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The `Strict-Transport-Security` header of the HTTPS answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hsts: Option<String>,
}

/// 0-RTT: whether a ticket could be had and early data was accepted on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroRttFacts {
    /// The server issued a resumption ticket.
    pub ticket: bool,
    /// The ticket allows early data.
    pub early_data_offered: bool,
    /// Early data sent on it was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
}

/// Plain HTTP on the frontchannel host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainHttpFacts {
    /// The port asked.
    pub port: u16,
    /// Something listened.
    pub listening: bool,
    /// The status line's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The `Location` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Bytes of body after the headers (a redirect page is fine; content is not).
    #[serde(default)]
    pub body_bytes: usize,
    /// Why it could not be asked, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Which bad client certificate a refusal probe presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalProbe {
    /// No certificate at all.
    NoCertificate,
    /// A self-signed certificate.
    SelfSigned,
    /// A certificate from a CA nobody trusts.
    UnknownCa,
    /// A revoked certificate of the probe PKI.
    Revoked,
    /// An expired certificate of the probe PKI.
    Expired,
    /// A not-yet-valid certificate of the probe PKI.
    NotYetValid,
    /// A clientAuth-only certificate of the probe PKI.
    ClientAuthOnly,
    /// A valid probe-PKI certificate whose names are not on the whitelist.
    NotWhitelisted,
}

impl RefusalProbe {
    /// Every probe, in report order.
    pub const ALL: [RefusalProbe; 8] = [
        RefusalProbe::NoCertificate,
        RefusalProbe::SelfSigned,
        RefusalProbe::UnknownCa,
        RefusalProbe::Revoked,
        RefusalProbe::Expired,
        RefusalProbe::NotYetValid,
        RefusalProbe::ClientAuthOnly,
        RefusalProbe::NotWhitelisted,
    ];

    /// The kebab-case label.
    pub fn label(self) -> &'static str {
        match self {
            RefusalProbe::NoCertificate => "no-certificate",
            RefusalProbe::SelfSigned => "self-signed",
            RefusalProbe::UnknownCa => "unknown-ca",
            RefusalProbe::Revoked => "revoked",
            RefusalProbe::Expired => "expired",
            RefusalProbe::NotYetValid => "not-yet-valid",
            RefusalProbe::ClientAuthOnly => "client-auth-only",
            RefusalProbe::NotWhitelisted => "not-whitelisted",
        }
    }
}

/// What a server did with a bad client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RefusalOutcome {
    /// Refused in the handshake with this alert.
    Alert {
        /// The alert's name.
        alert: String,
    },
    /// Refused in the handshake by closing or resetting the connection.
    Closed {
        /// What was seen.
        how: String,
    },
    /// The handshake completed and an HTTP status came back (an HTTP error is not a refusal in
    /// the handshake).
    Http {
        /// The status code.
        status: u16,
    },
    /// The handshake completed and the connection stayed open (accepted).
    Accepted,
    /// The probe could not run (connect failed, budget spent).
    Error {
        /// Why.
        why: String,
    },
}

/// One refusal probe's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalFact {
    /// The probe.
    pub probe: RefusalProbe,
    /// What happened.
    pub outcome: RefusalOutcome,
}

/// A probe that could not get an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeError {
    /// The probe (`suites TLSv1.2`, `handshake`).
    pub probe: String,
    /// What went wrong.
    pub error: String,
}

/// Everything known about one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointFacts {
    /// The address connected to.
    #[serde(default)]
    pub address: String,
    /// The SNI sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The endpoint answered a ClientHello with TLS at all.
    pub speaks_tls: bool,
    /// Versions accepted.
    #[serde(with = "crate::verser::list")]
    pub versions: Vec<ProtocolVersion>,
    /// What each version probe got (evidence).
    #[serde(default)]
    pub version_answers: Vec<(String, String)>,
    /// Accepted suites per version, in the server's order of choice.
    pub cipher_suites: Vec<SuiteFact>,
    /// TLS 1.2: the server picks by its own order (`None`: fewer than two suites, or not probed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_order: Option<bool>,
    /// Groups accepted.
    pub groups: Vec<GroupFact>,
    /// Finite-field DH parameters seen.
    #[serde(default)]
    pub dh: Vec<DhFact>,
    /// TLS 1.2 handshake signatures.
    #[serde(default)]
    pub kex_signatures: KexSignatureFacts,
    /// TLS compression accepted when offered (TLS ≤ 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<bool>,
    /// RFC 5746 renegotiation_info answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_renegotiation: Option<bool>,
    /// RFC 7627 extended_master_secret answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_master_secret: Option<bool>,
    /// The version chosen when every version is offered.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::verser::opt"
    )]
    pub highest_offered_chosen: Option<ProtocolVersion>,
    /// Offered at most TLS 1.2, the ServerHello carried the downgrade sentinel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downgrade_sentinel: Option<bool>,
    /// TLS 1.2: a stapled OCSP response came in the flight when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_stapled_tls12: Option<bool>,
    /// ALPN protocol chosen (TLS 1.2 raw or the real handshake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The chain as sent, leaf first.
    pub chain: Vec<CertFact>,
    /// The version the chain came with.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::verser::opt"
    )]
    pub chain_version: Option<ProtocolVersion>,
    /// A whole TLS ≤ 1.2 first flight (to ServerHelloDone) was read, so what it lacks (a
    /// CertificateRequest) is known to be absent.
    #[serde(default)]
    pub tls12_flight_complete: bool,
    /// A TLS 1.2 CertificateRequest came in the first flight.
    #[serde(default)]
    pub certificate_requested_tls12: bool,
    /// The acceptable CA names of a TLS 1.2 CertificateRequest.
    #[serde(default)]
    pub acceptable_cas_tls12: Vec<String>,
    /// Client-certificate behaviour.
    pub client_auth: ClientAuth,
    /// The real handshake (rustls).
    #[serde(default)]
    pub handshake: HandshakeFacts,
    /// 0-RTT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero_rtt: Option<ZeroRttFacts>,
    /// Plain HTTP (frontchannel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_http: Option<PlainHttpFacts>,
    /// Refusal probes (backchannel).
    #[serde(default)]
    pub refusals: Vec<RefusalFact>,
    /// Probes that got no answer.
    #[serde(default)]
    pub errors: Vec<ProbeError>,
    /// Connections used.
    #[serde(default)]
    pub connections: usize,
    /// Wall time of the scan, milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
}

impl EndpointFacts {
    /// Suites accepted with `v`.
    pub fn suites_of(&self, v: ProtocolVersion) -> impl Iterator<Item = &SuiteFact> {
        self.cipher_suites.iter().filter(move |s| s.version == v)
    }

    /// Whether `v` was accepted.
    pub fn supports(&self, v: ProtocolVersion) -> bool {
        self.versions.contains(&v)
    }
}
