//! The verifier as rustls `ServerCertVerifier` (outbound) and `ClientCertVerifier` (inbound).
//!
//! rustls calls these synchronously inside the handshake; a revocation fetch on a cache miss
//! blocks the calling thread within the engine's deadline. Async servers run the handshake on a
//! multi-threaded runtime (or under `block_in_place`) so other connections keep going. A refusal
//! becomes the rustls error that sends the alert [`crate::refusal::Code::alert`] names, and every
//! reason is logged.

use crate::verifier::{Peer, Verifier};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use std::sync::Arc;

fn secs(now: UnixTime) -> i64 {
    i64::try_from(now.as_secs()).unwrap_or(i64::MAX)
}

/// The handshake-signature half of both verifier traits: the same for server and client peers,
/// delegated to rustls with the provider's algorithms.
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

fn log_anchor_warnings(verifier: &Verifier) {
    for w in &verifier.anchors().warnings {
        tracing::warn!(warning = %w, "trust anchors");
    }
}

fn decide(
    verifier: &Verifier,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    peer: Peer,
    ocsp: &[u8],
    now: UnixTime,
) -> Result<(), Error> {
    let inter: Vec<&[u8]> = intermediates.iter().map(|c| c.as_ref()).collect();
    let stapled = (!ocsp.is_empty()).then_some(ocsp);
    let verdict = verifier.decide(end_entity.as_ref(), &inter, &peer, stapled, secs(now));
    // Anchor warnings were logged once when the verifier was made; chain warnings per handshake.
    for w in verdict
        .warnings
        .iter()
        .filter(|w| !verifier.anchors().warnings.contains(w))
    {
        tracing::warn!(warning = %w, "peer certificate");
    }
    match verdict.first_reason() {
        None => Ok(()),
        Some(first) => {
            for r in &verdict.reasons {
                tracing::warn!(requirement = %r.requirement, code = r.code.label(), alert = r.alert().name(), reason = %r.message, "peer certificate refused");
            }
            Err(Error::InvalidCertificate(first.code.rustls_error()))
        }
    }
}

/// Outbound: verifies the server a node connects to (hostname must match and be whitelisted).
#[derive(Debug)]
pub struct MedmijServerVerifier {
    verifier: Arc<Verifier>,
    provider: Arc<CryptoProvider>,
}

impl MedmijServerVerifier {
    /// Wraps a verifier; `provider` supplies the handshake signature algorithms.
    pub fn new(verifier: Arc<Verifier>, provider: Arc<CryptoProvider>) -> Self {
        log_anchor_warnings(&verifier);
        MedmijServerVerifier { verifier, provider }
    }
}

impl ServerCertVerifier for MedmijServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let hostname = match server_name {
            ServerName::DnsName(d) => Some(d.as_ref().to_string()),
            // MedMij nodes are named by hostname (whitelist); an IP has no place on the list.
            other => Some(other.to_str().to_string()),
        };
        decide(
            &self.verifier,
            end_entity,
            intermediates,
            Peer::Server { hostname },
            ocsp_response,
            now,
        )
        .map(|_| ServerCertVerified::assertion())
    }

    handshake_signatures!();
}

/// Inbound: requires and verifies a client certificate (core.tls.308, 309, 311, whitelist).
#[derive(Debug)]
pub struct MedmijClientVerifier {
    verifier: Arc<Verifier>,
    provider: Arc<CryptoProvider>,
    hints: Vec<DistinguishedName>,
}

impl MedmijClientVerifier {
    /// Wraps a verifier; the anchors' subjects are sent as acceptable CA names.
    pub fn new(verifier: Arc<Verifier>, provider: Arc<CryptoProvider>) -> Self {
        log_anchor_warnings(&verifier);
        let hints = verifier
            .anchors()
            .anchors()
            .iter()
            .map(|a| DistinguishedName::from(a.subject.clone()))
            .collect();
        MedmijClientVerifier {
            verifier,
            provider,
            hints,
        }
    }
}

impl ClientCertVerifier for MedmijClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        decide(
            &self.verifier,
            end_entity,
            intermediates,
            Peer::Client,
            &[],
            now,
        )
        .map(|_| ClientCertVerified::assertion())
    }

    handshake_signatures!();
}
