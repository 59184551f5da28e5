//! Why a certificate is refused: typed, tied to a requirement, mapped to one TLS alert.

use medmij_core::checks::Check;
use medmij_core::outcome::{Finding, Status};
use medmij_core::RequirementId;
use rustls::CertificateError;
use serde::Serialize;
use std::fmt;

/// The TLS alert a refusal is sent as (RFC 8446 §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    /// unknown_ca (48): the chain does not lead to an allowed anchor; revocation status unknown.
    UnknownCa,
    /// bad_certificate (42): malformed, bad signature, weak key.
    BadCertificate,
    /// certificate_expired (45): outside its validity period.
    CertificateExpired,
    /// certificate_revoked (44).
    CertificateRevoked,
    /// unsupported_certificate (43): wrong purpose (EKU).
    UnsupportedCertificate,
    /// access_denied (49): a valid certificate for a node that may not take part (whitelist).
    AccessDenied,
}

impl Alert {
    /// The alert's RFC name.
    pub fn name(self) -> &'static str {
        match self {
            Alert::UnknownCa => "unknown_ca",
            Alert::BadCertificate => "bad_certificate",
            Alert::CertificateExpired => "certificate_expired",
            Alert::CertificateRevoked => "certificate_revoked",
            Alert::UnsupportedCertificate => "unsupported_certificate",
            Alert::AccessDenied => "access_denied",
        }
    }
}

/// The machine code of a refusal.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The certificate or chain does not parse.
    Malformed,
    /// No path to an allowed trust anchor.
    UnknownIssuer,
    /// The chain sent is incomplete or out of order: an intermediate is missing (core.tls.313).
    IncompleteChain,
    /// The path ends at an anchor that is no longer trusted (the EV root after 2022-12-04).
    AnchorNoLongerTrusted,
    /// An intermediate is not on the profile's allow-list.
    IntermediateNotAllowed,
    /// The path's trust anchor is outside its own validity period.
    AnchorExpired,
    /// A certificate in the path has expired.
    Expired,
    /// A certificate in the path is not yet valid.
    NotYetValid,
    /// The leaf's EKU lacks serverAuth (core.tls.311: also for client certificates).
    EkuMissingServerAuth,
    /// A signature is bad or uses an algorithm that is not accepted (SHA-1, MD5).
    BadSignature,
    /// The leaf's key is too weak (RSA < 2048) or of an unaccepted type.
    WeakKey,
    /// A certificate in the path is revoked.
    Revoked,
    /// Revocation could not be established and the policy is hard-fail.
    RevocationUnknown,
    /// The server certificate is not valid for the hostname connected to.
    HostnameMismatch,
    /// Not on the MedMij whitelist.
    NotWhitelisted,
    /// A wildcard name in a backchannel certificate (core.tls.314: whitelist names are exact,
    /// PKIoverheid G4 forbids wildcards).
    WildcardName,
    /// An end-entity certificate with keyUsage keyCertSign (RFC 5280 §4.2.1.3).
    LeafKeyCertSign,
    /// A serial number or name that RFC 5280 does not allow (zero, negative or over 20 octets;
    /// a string that does not decode as its type).
    InvalidEncoding,
}

/// Never used: stands in should a code's check be missing from the registry, which the unit
/// test `every_code_has_a_registered_check` rules out.
static FALLBACK: Check = Check {
    name: "unregistered",
    requirement: medmij_core::ids::CORE_TLS_311,
    title: "",
    source: medmij_core::checks::RuleSource::Medmij,
    citation: "",
    effective: None,
    ineffective: None,
    stages: &[],
    fix: "",
    fixtures: medmij_core::checks::Fixtures::Tests(&[]),
};

/// One reason a certificate is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The check that failed.
    pub check: &'static str,
    /// The requirement it breaks.
    pub requirement: RequirementId,
    /// The machine code.
    pub code: Code,
    /// What, where, why.
    pub message: String,
}

/// Something an operator should know that does not refuse the certificate: typed like a
/// refusal, with the check and requirement it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The check that raised it.
    pub check: &'static str,
    /// Its requirement (from the check registry).
    pub requirement: RequirementId,
    /// What, where, why.
    pub message: String,
}

impl Warning {
    /// A warning from the check named `check` (a [`medmij_core::checks::names`] constant).
    pub fn new(check: &'static str, message: impl Into<String>) -> Warning {
        let requirement = medmij_core::checks::check(check)
            .map(|c| c.requirement)
            .unwrap_or(FALLBACK.requirement);
        Warning {
            check,
            requirement,
            message: message.into(),
        }
    }
}

impl Warning {
    /// As a [`Finding`] of the outcome model (status warning).
    pub fn to_finding(&self) -> Option<Finding> {
        Finding::of(self.check, Status::Warning, self.message.clone())
    }
}

impl Refusal {
    /// As a [`Finding`] of the outcome model (status fail).
    pub fn to_finding(&self) -> Option<Finding> {
        Finding::of(self.check, Status::Fail, self.message.clone())
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.requirement, self.check, self.message)
    }
}

impl Refusal {
    /// A refusal with the requirement that `code` belongs to.
    pub fn new(code: Code, message: impl Into<String>) -> Refusal {
        Refusal {
            check: code.check().name,
            requirement: code.requirement(),
            code,
            message: message.into(),
        }
    }

    /// The alert to send.
    pub fn alert(&self) -> Alert {
        self.code.alert()
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}]: {}",
            self.requirement,
            self.code.label(),
            self.message
        )
    }
}

impl Code {
    /// Every code, in the order the troubleshooting page lists them.
    pub const ALL: [Code; 18] = [
        Code::Malformed,
        Code::UnknownIssuer,
        Code::IncompleteChain,
        Code::AnchorNoLongerTrusted,
        Code::IntermediateNotAllowed,
        Code::AnchorExpired,
        Code::Expired,
        Code::NotYetValid,
        Code::EkuMissingServerAuth,
        Code::BadSignature,
        Code::WeakKey,
        Code::Revoked,
        Code::RevocationUnknown,
        Code::HostnameMismatch,
        Code::NotWhitelisted,
        Code::WildcardName,
        Code::LeafKeyCertSign,
        Code::InvalidEncoding,
    ];

    /// For the troubleshooting page: what happened, and what to check first.
    pub fn explain(self) -> (&'static str, &'static str) {
        match self {
            Code::Malformed => ("a certificate the peer sent is not well-formed DER X.509, or it sent more than ten", "the peer's chain file: PEM blocks intact, nothing edited, no private key or CSR in it"),
            Code::UnknownIssuer => ("no path leads from the peer's certificate to one of the trust anchors: an intermediate is missing, the root is not one of ours, or a look-alike issuer does not carry the real issuer's signature", "`medmij-tls verify --trust-anchor ROOT.pem CHAIN.pem` on the peer's chain; that the peer sends its intermediates; that the anchors are the PKIoverheid G1/G4 roots (test: the test PKI's roots)"),
            Code::IncompleteChain => ("the peer sent its certificate without the intermediate that issued it", "the peer's configured chain: leaf, then the issuing CA, then its issuer (`medmij-tls lint CHAIN.pem`)"),
            Code::AnchorNoLongerTrusted => ("the only path ends at a root the profile no longer trusts (the PKIoverheid EV root after 2022-12-04)", "which root the peer's certificate chains to; it needs a G1 or G4 certificate"),
            Code::IntermediateNotAllowed => ("the path goes through an intermediate that is not on the profile's allow-list", "the profile's intermediate allow-list and the peer's issuing CA"),
            Code::AnchorExpired => ("the trust anchor the path ends at has expired", "the root files installed (`medmij-tls anchors list`, `anchors fetch`)"),
            Code::Expired => ("a certificate of the path is past its notAfter", "the peer's certificate dates, and this machine's clock (NTP)"),
            Code::NotYetValid => ("a certificate of the path is before its notBefore", "this machine's clock and the peer's (a freshly issued certificate on a machine that is behind)"),
            Code::EkuMissingServerAuth => ("the peer's certificate has an extended key usage without serverAuth; MedMij requires serverAuth on client certificates too", "the certificate ordered: a PKIoverheid services (server) certificate, not a clientAuth-only one"),
            Code::BadSignature => ("a signature in the path uses a refused algorithm (SHA-1, MD5) or does not verify", "the peer's certificates' signature algorithms (`medmij-tls lint`)"),
            Code::WeakKey => ("the peer's key is too weak (RSA below 2048 bits) or of a type not accepted", "the peer's key size; order a new certificate with an RSA 3072 or EC P-256 key"),
            Code::Revoked => ("the CA revoked a certificate of the path (a fresh CRL or OCSP answer says so)", "whether the peer knows (its certificate must be replaced); `medmij-tls verify --format json` shows which source said revoked"),
            Code::RevocationUnknown => ("the revocation status could not be established and the policy is hard-fail (no fresh CRL, OCSP did not answer)", "that this machine reaches the CRL distribution point and OCSP responder in the certificate (proxy, firewall), and the CRL's nextUpdate; the gateway's metrics show each CRL's age"),
            Code::HostnameMismatch => ("the server's certificate is not valid for the hostname connected to", "the hostname in the whitelist and the certificate's SAN dNSNames"),
            Code::NotWhitelisted => ("none of the certificate's SAN dNSNames (inbound) or the hostname connected to (outbound) is on the whitelist", "`medmij-tls whitelist contains HOST --whitelist SOURCE`, the whitelist's Volgnummer and age (gateway metrics)"),
            Code::WildcardName => ("a backchannel certificate names a wildcard; whitelist names are exact", "order a certificate that names each host"),
            Code::LeafKeyCertSign => ("an end-entity certificate allows keyCertSign", "have the CA reissue it; a node certificate must not sign certificates"),
            Code::InvalidEncoding => ("a serial number or name in a certificate breaks RFC 5280 (zero, negative or over 20 octets; a string not valid for its type)", "have the CA reissue it; a conforming CA never issues these"),
        }
    }

    /// The check (and through it the requirement and fix) a code belongs to: the registry in
    /// [`medmij_core::checks`] is the one source of that metadata.
    pub fn check(self) -> &'static Check {
        use medmij_core::checks::names::*;
        let name = match self {
            Code::Malformed => CHAIN_PARSES,
            Code::UnknownIssuer => CHAIN_TRUSTED_ANCHOR,
            Code::IncompleteChain => CHAIN_COMPLETE,
            Code::AnchorNoLongerTrusted => ANCHOR_NOT_CUT_OFF,
            Code::IntermediateNotAllowed => CHAIN_ALLOWED_INTERMEDIATES,
            Code::AnchorExpired => ANCHOR_VALID,
            Code::Expired | Code::NotYetValid => CERT_VALIDITY,
            Code::EkuMissingServerAuth => LEAF_EKU_SERVER_AUTH,
            Code::BadSignature => CERT_SIGNATURE_ALGORITHM,
            Code::WeakKey => LEAF_KEY_STRENGTH,
            Code::Revoked => REVOCATION_NOT_REVOKED,
            Code::RevocationUnknown => REVOCATION_STATUS_KNOWN,
            Code::HostnameMismatch => LEAF_HOSTNAME,
            Code::NotWhitelisted => PEER_WHITELISTED,
            Code::WildcardName => LEAF_NO_WILDCARD,
            Code::LeafKeyCertSign => LEAF_NO_KEY_CERT_SIGN,
            Code::InvalidEncoding => CERT_RFC5280_ENCODING,
        };
        // Every name above is in the registry (a unit test walks every code).
        medmij_core::checks::check(name).unwrap_or(&FALLBACK)
    }

    /// The requirement a code belongs to (its check's).
    pub fn requirement(self) -> RequirementId {
        self.check().requirement
    }

    /// The label used in JSON and text.
    pub fn label(self) -> &'static str {
        match self {
            Code::Malformed => "malformed",
            Code::UnknownIssuer => "unknown-issuer",
            Code::IncompleteChain => "incomplete-chain",
            Code::AnchorNoLongerTrusted => "anchor-no-longer-trusted",
            Code::IntermediateNotAllowed => "intermediate-not-allowed",
            Code::Expired => "expired",
            Code::NotYetValid => "not-yet-valid",
            Code::EkuMissingServerAuth => "eku-missing-server-auth",
            Code::BadSignature => "bad-signature",
            Code::WeakKey => "weak-key",
            Code::Revoked => "revoked",
            Code::RevocationUnknown => "revocation-unknown",
            Code::HostnameMismatch => "hostname-mismatch",
            Code::NotWhitelisted => "not-whitelisted",
            Code::AnchorExpired => "anchor-expired",
            Code::WildcardName => "wildcard-name",
            Code::LeafKeyCertSign => "leaf-key-cert-sign",
            Code::InvalidEncoding => "invalid-encoding",
        }
    }

    /// The one function that maps a refusal to a TLS alert.
    pub fn alert(self) -> Alert {
        match self {
            Code::Malformed
            | Code::BadSignature
            | Code::WeakKey
            | Code::HostnameMismatch
            | Code::WildcardName
            | Code::LeafKeyCertSign
            | Code::InvalidEncoding => Alert::BadCertificate,
            Code::UnknownIssuer
            | Code::IncompleteChain
            | Code::AnchorNoLongerTrusted
            | Code::IntermediateNotAllowed
            | Code::RevocationUnknown => Alert::UnknownCa,
            Code::Expired | Code::NotYetValid | Code::AnchorExpired => Alert::CertificateExpired,
            Code::EkuMissingServerAuth => Alert::UnsupportedCertificate,
            Code::Revoked => Alert::CertificateRevoked,
            Code::NotWhitelisted => Alert::AccessDenied,
        }
    }

    /// The rustls error that makes rustls send [`Code::alert`].
    pub fn rustls_error(self) -> CertificateError {
        match self.alert() {
            Alert::UnknownCa => CertificateError::UnknownIssuer,
            // NotValidForName sends the same alert and says what happened.
            Alert::BadCertificate if self == Code::HostnameMismatch => {
                CertificateError::NotValidForName
            }
            Alert::BadCertificate => CertificateError::BadEncoding,
            Alert::CertificateExpired => {
                if self == Code::NotYetValid {
                    CertificateError::NotValidYet
                } else {
                    CertificateError::Expired
                }
            }
            Alert::CertificateRevoked => CertificateError::Revoked,
            Alert::UnsupportedCertificate => CertificateError::InvalidPurpose,
            Alert::AccessDenied => CertificateError::ApplicationVerificationFailure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::AlertDescription;

    /// A new code fails to compile here until it is given a place, and then this test fails
    /// until `Code::ALL` (the troubleshooting page) lists it.
    #[test]
    fn all_lists_every_code_once() {
        use Code::*;
        let place = |c: Code| match c {
            Malformed => 0,
            UnknownIssuer => 1,
            IncompleteChain => 2,
            AnchorNoLongerTrusted => 3,
            IntermediateNotAllowed => 4,
            AnchorExpired => 5,
            Expired => 6,
            NotYetValid => 7,
            EkuMissingServerAuth => 8,
            BadSignature => 9,
            WeakKey => 10,
            Revoked => 11,
            RevocationUnknown => 12,
            HostnameMismatch => 13,
            NotWhitelisted => 14,
            WildcardName => 15,
            LeafKeyCertSign => 16,
            InvalidEncoding => 17,
        };
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(place(*c), i, "{c:?}");
            let (what, check) = c.explain();
            assert!(!what.is_empty() && !check.is_empty(), "{c:?}");
        }
    }

    #[test]
    fn every_code_has_a_registered_check_and_makes_rustls_send_the_alert_we_report() {
        use Code::*;
        for c in [
            Malformed,
            UnknownIssuer,
            IncompleteChain,
            AnchorNoLongerTrusted,
            IntermediateNotAllowed,
            Expired,
            NotYetValid,
            EkuMissingServerAuth,
            BadSignature,
            WeakKey,
            Revoked,
            RevocationUnknown,
            HostnameMismatch,
            NotWhitelisted,
            AnchorExpired,
            WildcardName,
            LeafKeyCertSign,
            InvalidEncoding,
        ] {
            assert_ne!(
                c.check().name,
                "unregistered",
                "{c:?} has no registered check"
            );
            assert!(
                c.check().runs_at(medmij_core::checks::Stage::Handshake),
                "{c:?}"
            );
            let sent = AlertDescription::from(c.rustls_error());
            let want = match c.alert() {
                Alert::UnknownCa => AlertDescription::UnknownCA,
                Alert::BadCertificate => AlertDescription::BadCertificate,
                Alert::CertificateExpired => AlertDescription::CertificateExpired,
                Alert::CertificateRevoked => AlertDescription::CertificateRevoked,
                Alert::UnsupportedCertificate => AlertDescription::UnsupportedCertificate,
                Alert::AccessDenied => AlertDescription::AccessDenied,
            };
            assert_eq!(sent, want, "{c:?}");
        }
    }
}
