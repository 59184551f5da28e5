//! What a revocation source said about a certificate, typed: where it came from ([`Source`]) and
//! what it said ([`Outcome`]). Verdicts carry these; printers render them (the JSON keeps the
//! strings of schema `medmij-tls/verify/1`: `"crl http://…"`, `"good"`).

use serde::{Serialize, Serializer};
use std::fmt;

/// Where a piece of revocation evidence came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The OCSP response the peer stapled.
    StapledOcsp,
    /// An OCSP answer remembered from an earlier fetch or staple.
    OcspCache,
    /// An OCSP responder (the certificate's AIA), or the OCSP mechanism when no URL applies.
    Ocsp {
        /// The responder URL, if any.
        url: Option<String>,
    },
    /// A CRL fetched from (or cached for) a distribution point.
    Crl {
        /// The distribution point URL.
        url: String,
    },
    /// A CRL from the disk cache of a distribution point.
    CrlDiskCache {
        /// The distribution point URL.
        url: String,
    },
    /// A CRL file the operator configured.
    CrlFile {
        /// The file as named.
        name: String,
    },
    /// The CRL mechanism as a whole (no particular CRL).
    CrlMechanism,
    /// The fail-mode policy deciding when no source was conclusive.
    Policy,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::StapledOcsp => f.write_str("stapled-ocsp"),
            Source::OcspCache => f.write_str("ocsp-cache"),
            Source::Ocsp { url: Some(u) } => write!(f, "ocsp {u}"),
            Source::Ocsp { url: None } => f.write_str("ocsp"),
            Source::Crl { url } => write!(f, "crl {url}"),
            Source::CrlDiskCache { url } => write!(f, "crl {url} (disk cache)"),
            Source::CrlFile { name } => write!(f, "crl-file {name}"),
            Source::CrlMechanism => f.write_str("crl"),
            Source::Policy => f.write_str("policy"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Source {
    /// Whether this is a CRL (from a distribution point, the disk cache or a file).
    pub fn is_crl(&self) -> bool {
        matches!(
            self,
            Source::Crl { .. }
                | Source::CrlDiskCache { .. }
                | Source::CrlFile { .. }
                | Source::CrlMechanism
        )
    }
}

/// What a source said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Outcome {
    /// Not revoked.
    Good,
    /// Revoked.
    Revoked,
    /// The OCSP responder does not know the certificate.
    Unknown,
    /// The source could not be reached or did not answer in time.
    Unavailable,
    /// An answer was received but cannot be used (stale, out of scope, badly signed).
    Unusable,
    /// A stapled response that was not used (never fatal).
    Ignored,
    /// The mechanism does not apply (no URL, no matching file).
    NotApplicable,
    /// Nothing conclusive; every failing mechanism is soft: the session proceeds.
    SoftFail,
    /// Nothing conclusive and a hard mechanism failed: refused.
    HardFail,
}

impl Outcome {
    /// The label used in text and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Good => "good",
            Outcome::Revoked => "revoked",
            Outcome::Unknown => "unknown",
            Outcome::Unavailable => "unavailable",
            Outcome::Unusable => "unusable",
            Outcome::Ignored => "ignored",
            Outcome::NotApplicable => "not-applicable",
            Outcome::SoftFail => "soft-fail",
            Outcome::HardFail => "hard-fail",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One thing a source said about one certificate (the explanation of a decision).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Subject CN (or serial) of the certificate.
    pub certificate: String,
    /// Where it came from.
    pub source: Source,
    /// What it said.
    pub outcome: Outcome,
    /// Details: the error, thisUpdate/nextUpdate, the signer.
    pub detail: String,
}
