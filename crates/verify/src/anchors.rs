//! Trust anchors: the certificate files an operator installs (or `anchors fetch` downloads),
//! matched against the profile's pins (subject + SHA-256).
//!
//! Any anchor file may be configured (a test PKI root extends or replaces the real ones), but in
//! production an anchor that is not one of the profile's pins is reported as a warning.

use crate::http::HttpClient;
use crate::refusal::Warning;
use aws_lc_rs::digest;
use medmij_core::checks::names;
use medmij_core::profile::{AnchorSpec, Environment, Profile};
use rustls_pki_types::{CertificateDer, TrustAnchor};
use std::path::{Path, PathBuf};

/// One anchor.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// The certificate.
    pub der: Vec<u8>,
    /// Subject CN (or the whole DN).
    pub name: String,
    /// Raw subject Name.
    pub subject: Vec<u8>,
    /// SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
    /// SHA-256 of the DER.
    pub sha256: [u8; 32],
    /// The profile pin it matches, if any.
    pub pinned: Option<String>,
    /// Not trusted from this instant (Unix seconds).
    pub trusted_until: Option<i64>,
    /// The certificate's notBefore (Unix seconds).
    pub not_before: i64,
    /// The certificate's notAfter (Unix seconds): past it the anchor is not used.
    pub not_after: i64,
    /// The file it came from.
    pub file: PathBuf,
}

/// Why anchors could not be loaded or fetched.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file holds no certificate or a malformed one.
    #[error("{}: {reason}", path.display())]
    Bad {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A downloaded anchor does not match its pin: not stored.
    #[error(
        "{url}: downloaded certificate has SHA-256 {got}, the profile pins {want}: not stored"
    )]
    PinMismatch {
        /// Where it came from.
        url: String,
        /// Its fingerprint.
        got: String,
        /// The pin.
        want: String,
    },
    /// The download failed.
    #[error("{0}")]
    Fetch(#[from] crate::http::FetchError),
    /// No anchors at all.
    #[error(
        "no trust anchors configured: install the PKIoverheid roots (or a test PKI's root) and name them"
    )]
    None,
}

/// The anchors a verifier trusts.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Anchor>,
    /// Messages for the operator (unpinned anchors in production, expired pins).
    pub warnings: Vec<crate::refusal::Warning>,
}

use medmij_core::hex::encode as hex;

/// Every certificate in a PEM or DER file.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, AnchorError> {
    let bytes = medmij_core::input::read(path, medmij_core::input::Kind::Anchors).map_err(|e| {
        AnchorError::Read {
            path: path.to_path_buf(),
            source: e.into_io(),
        }
    })?;
    certificates_from_bytes(&bytes).map_err(|reason| AnchorError::Bad {
        path: path.to_path_buf(),
        reason,
    })
}

/// Largest certificate accepted: 64 KiB. rustls-webpki and x509-parser refuse larger ones
/// (with an opaque "trailing data"); real PKIoverheid certificates are about 2 KiB.
pub const MAX_CERTIFICATE_BYTES: usize = 65_535;

/// Why one DER certificate does not parse, in words.
fn der_problem(der: &[u8]) -> Option<String> {
    if der.len() > MAX_CERTIFICATE_BYTES {
        return Some(format!(
            "{} bytes; certificates over {MAX_CERTIFICATE_BYTES} bytes are not accepted",
            der.len()
        ));
    }
    match crate::sigverify::tlv_len(der) {
        None if der.first() != Some(&0x30) => {
            return Some("not DER (does not start with a SEQUENCE)".into())
        }
        None => return Some("truncated: the DER length runs past the end of the data".into()),
        Some((_, total)) if total != der.len() => {
            return Some(format!(
                "{} bytes of trailing data after the certificate",
                der.len() - total
            ))
        }
        Some(_) => {}
    }
    match x509_parser::parse_x509_certificate(der) {
        Ok(_) => None,
        Err(x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e)) => {
            Some(format!("not an X.509 certificate ({e})"))
        }
        Err(x509_parser::nom::Err::Incomplete(_)) => Some("truncated".into()),
    }
}

fn pem_problem(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { end_marker } => {
            let m = String::from_utf8_lossy(end_marker);
            let m = m.trim();
            if m.starts_with("-----") {
                format!("no `{m}` line closes it")
            } else {
                format!("no `-----END {m}-----` line closes it")
            }
        }
        E::IllegalSectionStart { line } => format!(
            "malformed BEGIN line `{}`",
            String::from_utf8_lossy(line).escape_debug()
        ),
        E::Base64Decode(why) => format!("the base64 inside does not decode ({why})"),
        other => other.to_string(),
    }
}

/// Every certificate in PEM text, or the single DER certificate. Errors say which certificate
/// and what is wrong with it in words.
pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    certificates_from_bytes_at_most(bytes, usize::MAX)
}

/// As [`certificates_from_bytes`], stopping after `max` + 1 certificates: a caller with a count
/// limit (a peer chain) learns the limit was passed without parsing the rest of a huge file.
pub fn certificates_from_bytes_at_most(bytes: &[u8], max: usize) -> Result<Vec<Vec<u8>>, String> {
    use rustls_pki_types::pem::PemObject;
    if bytes.first() == Some(&0x30) {
        if let Some(why) = der_problem(bytes) {
            return Err(format!("DER certificate: {why}"));
        }
        return Ok(vec![bytes.to_vec()]);
    }
    let mut out = Vec::new();
    for (i, c) in CertificateDer::pem_slice_iter(bytes)
        .enumerate()
        .take(max.saturating_add(1))
    {
        let c = c.map_err(|e| format!("PEM block {}: {}", i + 1, pem_problem(&e)))?;
        if let Some(why) = der_problem(c.as_ref()) {
            return Err(format!("certificate {}: {why}", i + 1));
        }
        out.push(c.as_ref().to_vec());
    }
    if out.is_empty() {
        return Err(if bytes.is_empty() {
            "the file is empty; expected PEM CERTIFICATE blocks or one DER certificate".into()
        } else {
            "no CERTIFICATE found (expected PEM `-----BEGIN CERTIFICATE-----` blocks or one DER certificate)".into()
        });
    }
    Ok(out)
}

impl TrustStore {
    /// Loads anchor files and matches them with the profile's pins.
    pub fn load(
        profile: &Profile,
        environment: Environment,
        files: &[PathBuf],
    ) -> Result<TrustStore, AnchorError> {
        let mut store = TrustStore::default();
        for f in files {
            for der in read_certificates(f)? {
                store.add(profile, environment, der, f)?;
            }
        }
        if store.anchors.is_empty() {
            return Err(AnchorError::None);
        }
        Ok(store)
    }

    /// Builds a store from certificates already in memory (`origin` names them in messages).
    pub fn from_ders(
        profile: &Profile,
        environment: Environment,
        ders: Vec<Vec<u8>>,
        origin: &str,
    ) -> Result<TrustStore, AnchorError> {
        let mut store = TrustStore::default();
        for der in ders {
            store.add(profile, environment, der, Path::new(origin))?;
        }
        if store.anchors.is_empty() {
            return Err(AnchorError::None);
        }
        Ok(store)
    }

    fn add(
        &mut self,
        profile: &Profile,
        environment: Environment,
        der: Vec<u8>,
        file: &Path,
    ) -> Result<(), AnchorError> {
        let (_, x) = x509_parser::parse_x509_certificate(&der).map_err(|e| AnchorError::Bad {
            path: file.into(),
            reason: e.to_string(),
        })?;
        let sha: [u8; 32] = digest::digest(&digest::SHA256, &der)
            .as_ref()
            .try_into()
            .map_err(|_| AnchorError::Bad {
                path: file.into(),
                reason: "digest".into(),
            })?;
        let name = x
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| x.subject().to_string());
        let pin: Option<&AnchorSpec> = profile
            .backchannel
            .anchors
            .iter()
            .find(|a| a.sha256.0 == sha);
        if pin.is_none() && environment != Environment::Test {
            self.warnings.push(Warning::new(names::ANCHOR_PINNED, format!(
                "trust anchor `{name}` ({}) from {} is not one of profile {}'s pinned anchors; acceptable for a test PKI, not in {}",
                hex(&sha),
                file.display(),
                profile.id,
                environment.label()
            )));
        }
        // Anchors that can no longer end a path, said once at load (the verifier refuses such
        // paths per handshake, at the handshake's own time).
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let not_after = x.validity().not_after.timestamp();
        if now > not_after {
            self.warnings.push(Warning::new(
                names::ANCHOR_VALID,
                format!(
                    "trust anchor `{name}` from {} expired at {}; paths ending at it are refused",
                    file.display(),
                    crate::der_time::rfc3339(not_after)
                ),
            ));
        }
        if let Some(until) = pin
            .and_then(|p| p.trusted_until)
            .filter(|u| now >= u.unix_timestamp())
        {
            self.warnings.push(Warning::new(names::ANCHOR_NOT_CUT_OFF, format!(
                "trust anchor `{name}` from {} is trusted by profile {} only until {}; paths ending at it are refused",
                file.display(),
                profile.id,
                crate::der_time::rfc3339(until.unix_timestamp())
            )));
        }
        self.anchors.push(Anchor {
            name,
            subject: x.subject().as_raw().to_vec(),
            spki: x.public_key().raw.to_vec(),
            sha256: sha,
            pinned: pin.map(|p| p.name.clone()),
            trusted_until: pin
                .and_then(|p| p.trusted_until)
                .map(|t| t.unix_timestamp()),
            file: file.to_path_buf(),
            not_before: x.validity().not_before.timestamp(),
            not_after: x.validity().not_after.timestamp(),
            der,
        });
        Ok(())
    }

    /// The anchors.
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// webpki trust anchors (owned).
    pub fn webpki_anchors(&self) -> Vec<TrustAnchor<'static>> {
        self.anchors
            .iter()
            .filter_map(|a| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(a.der.as_slice()))
                    .ok()
                    .map(|t| t.to_owned())
            })
            .collect()
    }

    /// The anchor with this SubjectPublicKeyInfo *contents* (as webpki's TrustAnchor holds it).
    pub fn by_spki_value(&self, spki_value: &[u8]) -> Option<&Anchor> {
        self.anchors
            .iter()
            .find(|a| crate::sigverify::contents(&a.spki) == Some(spki_value))
    }
}

/// Downloads every anchor of `profile` that names a publication URL (or `overrides` name=URL)
/// into `dir` as PEM, keeping a file only when its SHA-256 matches the pin.
pub fn fetch(
    profile: &Profile,
    dir: &Path,
    overrides: &[(String, String)],
    http: &HttpClient,
) -> Result<Vec<PathBuf>, AnchorError> {
    let mut written = Vec::new();
    for a in &profile.backchannel.anchors {
        let url = overrides
            .iter()
            .find(|(n, _)| *n == a.name || a.name.contains(n.as_str()))
            .map(|(_, u)| u.clone())
            .or_else(|| a.publication_url.clone());
        let Some(url) = url else { continue };
        let body = http.get(&url)?;
        let der = match certificates_from_bytes(&body) {
            Ok(mut v) if v.len() == 1 => v.remove(0),
            Ok(_) => {
                return Err(AnchorError::Bad {
                    path: url.clone().into(),
                    reason: "expected exactly one certificate".into(),
                })
            }
            Err(reason) => {
                return Err(AnchorError::Bad {
                    path: url.clone().into(),
                    reason,
                })
            }
        };
        let got = digest::digest(&digest::SHA256, &der);
        if got.as_ref() != a.sha256.0 {
            return Err(AnchorError::PinMismatch {
                url,
                got: hex(got.as_ref()),
                want: a.sha256.hex(),
            });
        }
        std::fs::create_dir_all(dir).map_err(|source| AnchorError::Read {
            path: dir.into(),
            source,
        })?;
        let file = dir.join(format!(
            "{}.pem",
            a.name
                .to_lowercase()
                .replace([' ', '-'], "_")
                .replace("__", "_")
                .replace("__", "_")
        ));
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}-----END CERTIFICATE-----\n",
            wrap64(&der)
        );
        std::fs::write(&file, pem).map_err(|source| AnchorError::Read {
            path: file.clone(),
            source,
        })?;
        written.push(file);
    }
    Ok(written)
}

fn wrap64(der: &[u8]) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    b.as_bytes()
        .chunks(64)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect()
}
