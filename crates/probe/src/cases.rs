//! The certificates the probe serves: one good certificate and the deliberately bad ones, made
//! from the test PKI (`--pki-dir`) for the probe's hostname, and a good one with a stapled
//! OCSP response.
//!
//! Every case certificate names the probe's hostname and `<case>.<hostname>`, so one set
//! serves both ways of choosing a case: by SNI label, or in sequence on the bare hostname. The
//! certificates are kept in the PKI directory (`certs/probe-<case>.<hostname>`) and reused on
//! the next run, so the revoked ones stay revoked and nothing is issued twice.

use medmij_core::checks::names::*;
use medmij_testpki::catalogue::Role as PkiRole;
use medmij_testpki::hierarchy::Hierarchy;
use medmij_testpki::keys::{KeyStyle, SigAlg};
use medmij_testpki::ops::{self, IssueRequest, LeafOptions, RevokeTarget};
use medmij_testpki::store::{pem_blocks, PkiDir};
use medmij_testpki::validity::Window;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// One thing the probe serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Case {
    /// A valid G1 certificate for the name asked for, with its intermediates.
    Good,
    /// The good certificate with a stapled, valid OCSP response.
    Stapled,
    /// The good certificate over TLS 1.2 only: where False Start would show.
    Tls12,
    /// Expired yesterday.
    Expired,
    /// Revoked; names only its CRL (no OCSP responder).
    RevokedCrl,
    /// Revoked; names only its OCSP responder (no CRL distribution point).
    RevokedOcsp,
    /// Issued under a root that is not a PKIoverheid root (the test PKI's rogue hierarchy).
    UnknownRoot,
    /// Valid, but for another hostname.
    WrongHostname,
    /// EKU clientAuth only.
    ClientAuthOnly,
    /// The leaf alone, without its intermediates.
    MissingIntermediate,
    /// Valid, for a name that is not on the probe's whitelist (SNI only: a client that checks
    /// the whitelist never connects to it).
    NotWhitelisted,
}

impl Case {
    /// Every case, in the documented order (the order served on the bare hostname, where
    /// `not-whitelisted` cannot be told apart and is left out).
    pub const ALL: [Case; 11] = [
        Case::Good,
        Case::Stapled,
        Case::Tls12,
        Case::Expired,
        Case::RevokedCrl,
        Case::RevokedOcsp,
        Case::UnknownRoot,
        Case::WrongHostname,
        Case::ClientAuthOnly,
        Case::MissingIntermediate,
        Case::NotWhitelisted,
    ];

    /// The label (the SNI label and the report's name).
    pub fn label(self) -> &'static str {
        match self {
            Case::Good => "good",
            Case::Stapled => "stapled",
            Case::Tls12 => "tls12",
            Case::Expired => "expired",
            Case::RevokedCrl => "revoked-crl",
            Case::RevokedOcsp => "revoked-ocsp",
            Case::UnknownRoot => "unknown-root",
            Case::WrongHostname => "wrong-hostname",
            Case::ClientAuthOnly => "client-auth-only",
            Case::MissingIntermediate => "missing-intermediate",
            Case::NotWhitelisted => "not-whitelisted",
        }
    }

    /// The case with this label.
    pub fn from_label(s: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|c| c.label() == s)
    }

    /// The check that judges how a client handled it.
    pub fn check(self) -> &'static str {
        match self {
            Case::Good => CLIENT_ACCEPTS_GOOD,
            Case::Stapled => CLIENT_ACCEPTS_STAPLED,
            Case::Tls12 => CLIENT_NO_FALSE_START,
            Case::Expired => CLIENT_REFUSES_EXPIRED,
            Case::RevokedCrl => CLIENT_REFUSES_REVOKED_CRL,
            Case::RevokedOcsp => CLIENT_REFUSES_REVOKED_OCSP,
            Case::UnknownRoot => CLIENT_REFUSES_UNKNOWN_ROOT,
            Case::WrongHostname => CLIENT_REFUSES_WRONG_HOSTNAME,
            Case::ClientAuthOnly => CLIENT_REFUSES_CLIENT_AUTH_ONLY,
            Case::MissingIntermediate => CLIENT_REFUSES_MISSING_INTERMEDIATE,
            Case::NotWhitelisted => CLIENT_REFUSES_NOT_WHITELISTED,
        }
    }

    /// Whether a compliant client completes the handshake.
    pub fn should_accept(self) -> bool {
        matches!(self, Case::Good | Case::Stapled | Case::Tls12)
    }

    /// The name a client asks for to get this case by SNI.
    pub fn sni(self, hostname: &str) -> String {
        format!("{}.{hostname}", self.label())
    }
}

/// What is served for one case.
pub struct Material {
    /// The case.
    pub case: Case,
    /// Chain, key and (for `stapled`) the OCSP response.
    pub key: Arc<CertifiedKey>,
    /// The leaf's SHA-256 (hex), for the report.
    pub leaf_sha256: String,
}

/// Why the cases could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The test PKI refused or failed.
    #[error("test PKI {dir}: {error}")]
    Pki {
        /// The directory.
        dir: String,
        /// What went wrong.
        error: medmij_testpki::PkiError,
    },
    /// A certificate or key kept from an earlier run does not fit any more.
    #[error("{0}")]
    Stale(String),
    /// The staple could not be made.
    #[error("OCSP staple: {0}")]
    Staple(String),
    /// rustls refused the key.
    #[error("{file}: {error}")]
    Key {
        /// The key file.
        file: String,
        /// Why.
        error: String,
    },
}

fn folder(case: Case, hostname: &str) -> String {
    format!("probe-{}.{hostname}", case.label())
}

/// Makes (or reuses) every case's certificate in `dir` for `hostname`.
pub fn prepare(
    dir: &PkiDir,
    hostname: &str,
    now: OffsetDateTime,
) -> Result<Vec<Material>, CaseError> {
    let pki = |error| CaseError::Pki {
        dir: dir.root().display().to_string(),
        error,
    };
    ops::check_hostname(hostname).map_err(pki)?;
    let manifest = dir.manifest().map_err(pki)?;
    // Keys in the PKI's own style (an ECDSA test PKI, for fast tests, gets ECDSA leaves), read
    // off how its G1 issuing CA signs, without loading that CA's key.
    let style = match manifest
        .ca(Hierarchy::G1.issuing_ca())
        .map_err(pki)?
        .sig_alg
    {
        SigAlg::EcdsaSha256 | SigAlg::EcdsaSha1 => KeyStyle::Ecdsa,
        SigAlg::RsaPkcs1Sha256 | SigAlg::RsaPssSha512 => KeyStyle::Rsa,
    };
    let mut out = Vec::new();
    // The good certificate serves `good`, `stapled` and `tls12`: read once.
    let mut loaded: BTreeMap<Case, Loaded> = BTreeMap::new();
    for case in Case::ALL {
        let source = if matches!(case, Case::Stapled | Case::Tls12) {
            Case::Good
        } else {
            case
        };
        let (mut chain, signing) = match loaded.get(&source) {
            Some(l) => l.clone(),
            None => {
                let rel = format!("certs/{}", folder(source, hostname));
                if !dir.path(&rel).join("chain.pem").exists() {
                    issue(dir, hostname, source, style, now).map_err(pki)?;
                }
                let l = load(dir, &rel, source, now)?;
                loaded.insert(source, l.clone());
                l
            }
        };
        let leaf_sha256 = sha256_hex(chain.first().map(|c| c.as_ref()).unwrap_or_default());
        let ocsp = if case == Case::Stapled {
            Some(staple(dir, &chain, now)?)
        } else {
            None
        };
        if case == Case::MissingIntermediate {
            chain.truncate(1);
        }
        let mut ck = CertifiedKey::new(chain, signing);
        ck.ocsp = ocsp;
        out.push(Material {
            case,
            key: Arc::new(ck),
            leaf_sha256,
        });
    }
    Ok(out)
}

/// A case's chain as issued and its signing key.
type Loaded = (
    Vec<CertificateDer<'static>>,
    Arc<dyn rustls::sign::SigningKey>,
);

/// Issues the certificate of `source` (revoking it for the revoked cases).
fn issue(
    dir: &PkiDir,
    hostname: &str,
    source: Case,
    style: KeyStyle,
    now: OffsetDateTime,
) -> medmij_testpki::Result<()> {
    let names = match source {
        Case::WrongHostname => vec![format!("elsewhere.{hostname}")],
        // The good certificate serves `good`, `stapled` and `tls12` by SNI.
        Case::Good => vec![
            hostname.to_owned(),
            Case::Good.sni(hostname),
            Case::Stapled.sni(hostname),
            Case::Tls12.sni(hostname),
        ],
        c => vec![hostname.to_owned(), c.sni(hostname)],
    };
    let mut opts = LeafOptions::default();
    match source {
        Case::Expired => {
            opts.window = Some(Window {
                not_before: now - time::Duration::days(90),
                not_after: now - time::Duration::days(1),
            })
        }
        Case::RevokedCrl => opts.with_ocsp = false,
        Case::RevokedOcsp => opts.with_crl = false,
        Case::ClientAuthOnly => opts.eku = Some(vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth]),
        _ => {}
    }
    let req = IssueRequest {
        hierarchy: if source == Case::UnknownRoot {
            Hierarchy::Rogue
        } else {
            Hierarchy::G1
        },
        role: PkiRole::Backchannel,
        hostnames: names,
        name: Some(folder(source, hostname)),
        days: 90,
        key_style: style,
        at: now,
    };
    let issued = ops::issue_with(dir, &req, &opts)?;
    if matches!(source, Case::RevokedCrl | Case::RevokedOcsp) {
        ops::revoke(
            dir,
            &RevokeTarget::Cert(issued.cert),
            Some("keyCompromise"),
            now,
        )?;
    }
    Ok(())
}

/// Reads the chain and key kept in `rel`; a certificate that should be current but has
/// expired is an error naming the folder to remove.
fn load(dir: &PkiDir, rel: &str, source: Case, now: OffsetDateTime) -> Result<Loaded, CaseError> {
    let pki = |error| CaseError::Pki {
        dir: dir.root().display().to_string(),
        error,
    };
    let chain_file = dir.path(rel).join("chain.pem");
    let chain_text = dir.read_string(&format!("{rel}/chain.pem")).map_err(pki)?;
    let chain: Vec<CertificateDer<'static>> = pem_blocks(&chain_text, "CERTIFICATE")
        .map_err(pki)?
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let leaf = chain
        .first()
        .ok_or_else(|| CaseError::Stale(format!("{}: no certificate", chain_file.display())))?;
    if source != Case::Expired {
        let (_, x) = x509_parser::parse_x509_certificate(leaf.as_ref())
            .map_err(|e| CaseError::Stale(format!("{}: {e}", chain_file.display())))?;
        if x.validity().not_after.timestamp() < now.unix_timestamp() + 3600 {
            return Err(CaseError::Stale(format!(
                "{}: the probe's `{}` certificate from an earlier run has expired; remove {} and run again",
                chain_file.display(),
                source.label(),
                dir.path(rel).display()
            )));
        }
    }
    let key_file = format!("{rel}/key.pem");
    let key_pem = dir.read_string(&key_file).map_err(pki)?;
    let key_der = pem_blocks(&key_pem, "PRIVATE KEY")
        .map_err(pki)?
        .into_iter()
        .next()
        .ok_or_else(|| CaseError::Key {
            file: key_file.clone(),
            error: "no PRIVATE KEY block".into(),
        })?;
    let signing =
        rustls::crypto::aws_lc_rs::sign::any_supported_type(&PrivateKeyDer::Pkcs8(key_der.into()))
            .map_err(|e| CaseError::Key {
                file: key_file,
                error: e.to_string(),
            })?;
    Ok((chain, signing))
}

fn sha256_hex(b: &[u8]) -> String {
    use aws_lc_rs::digest;
    medmij_core::hex::encode(digest::digest(&digest::SHA256, b).as_ref())
}

/// A fresh OCSP response for `chain[0]` from the PKI's own responder (in process: the probe
/// staples even when `pki serve` is not running), validated as a client would.
fn staple(
    dir: &PkiDir,
    chain: &[CertificateDer<'static>],
    now: OffsetDateTime,
) -> Result<Vec<u8>, CaseError> {
    let (leaf, issuer) = match chain {
        [l, i, ..] => (l, i),
        _ => return Err(CaseError::Staple("the good chain has no issuing CA".into())),
    };
    let (_, l) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| CaseError::Staple(e.to_string()))?;
    let (_, i) = x509_parser::parse_x509_certificate(issuer.as_ref())
        .map_err(|e| CaseError::Staple(e.to_string()))?;
    let subject = medmij_verify::ocsp::Subject {
        serial: l.raw_serial(),
        issuer_name: i.subject().as_raw(),
        issuer_spki: i.public_key().raw,
    };
    let req =
        medmij_verify::ocsp::request(&subject).map_err(|e| CaseError::Staple(e.to_string()))?;
    let responder =
        medmij_testpki::ocsp::Responder::load(dir).map_err(|e| CaseError::Staple(e.to_string()))?;
    let state = dir
        .revocations()
        .map_err(|e| CaseError::Staple(e.to_string()))?;
    let (resp, _) = responder.respond(&req, &state, now);
    let answer = medmij_verify::ocsp::validate(&resp, &subject, now.unix_timestamp())
        .map_err(|e| CaseError::Staple(e.to_string()))?;
    match answer.status {
        medmij_verify::ocsp::Status::Good => Ok(resp),
        s => Err(CaseError::Staple(format!(
            "the responder says {s:?} for the good certificate"
        ))),
    }
}

/// The whitelist a client under test should use: the probe's hostname and every case name but
/// `not-whitelisted.<hostname>` (written next to the report; the demo and tests load it).
pub fn whitelist(hostname: &str, volgnummer: u64) -> String {
    let mut names = vec![hostname.to_owned(), format!("elsewhere.{hostname}")];
    names.extend(
        Case::ALL
            .into_iter()
            .filter(|c| *c != Case::NotWhitelisted)
            .map(|c| c.sni(hostname)),
    );
    medmij_testpki::init::whitelist_xml(&names, volgnummer)
}
