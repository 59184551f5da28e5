//! The on-disk layout of a test PKI directory and its two JSON files.
//!
//! ```text
//! DIR/pki.json            manifest: seed, base URL, CAs, issued certificates
//! DIR/revocations.json    revocation state (pki revoke writes it, pki serve reads it)
//! DIR/catalogue.json      the catalogue (docs/catalogue-format.md)
//! DIR/whitelist.xml       a MedMij whitelist naming the catalogue's backchannel nodes
//! DIR/ca/ID.pem, ID.key.pem, ID.cer (DER), ID-ocsp.pem/.key.pem (delegated responder)
//! DIR/crl/ID.crl          DER CRL of each CA
//! DIR/certs/NAME/         cert.pem, chain.pem (leaf + intermediates), key.pem
//! ```
//! Paths inside the JSON files are relative to DIR.

use crate::error::{PkiError, Result};
use crate::keys::SigAlg;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest format tag.
pub const MANIFEST_FORMAT: &str = "medmij-testpki/1";

/// One CA of the PKI.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaRecord {
    /// Short ID, used in URLs (`g1-tsp`).
    pub id: String,
    /// The hierarchy (`g1`, `g4`, `public-ov`, `public-dv`, `rogue`).
    pub hierarchy: String,
    /// Subject CN.
    pub name: String,
    /// Issuing CA ID; `None` for a root.
    pub parent: Option<String>,
    /// Certificate (PEM).
    pub cert: String,
    /// Private key (PKCS#8 PEM).
    pub key: String,
    /// The algorithm this CA signs certificates, CRLs and OCSP responses with.
    pub sig_alg: SigAlg,
    /// The current CRL (DER).
    pub crl: String,
    /// A delegated OCSP responder (certificate, key), when the CA does not sign OCSP itself.
    pub ocsp_responder: Option<ResponderRecord>,
}

/// A delegated OCSP responder certificate and key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResponderRecord {
    /// Certificate (PEM).
    pub cert: String,
    /// Key (PEM).
    pub key: String,
}

/// A certificate issued by a CA of this PKI (so the OCSP responder can answer good vs unknown).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedRecord {
    /// Issuing CA ID.
    pub ca: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// The first hostname or subject CN.
    pub subject: String,
    /// Certificate (PEM).
    pub cert: String,
}

/// `pki.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// The seed the PKI was made from.
    pub seed: String,
    /// Base URL of the CRL/OCSP server named in the certificates.
    pub base_url: String,
    /// The CAs, parents before children.
    pub cas: Vec<CaRecord>,
    /// Every certificate issued by these CAs.
    pub issued: Vec<IssuedRecord>,
}

impl Manifest {
    /// A CA by ID.
    pub fn ca(&self, id: &str) -> Result<&CaRecord> {
        self.cas.iter().find(|c| c.id == id).ok_or_else(|| {
            PkiError::Invalid(format!(
                "no CA `{id}` in this PKI (known: {})",
                self.cas
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Issuing CA ID.
    pub ca: String,
    /// Serial, lowercase hex.
    pub serial: String,
    /// When (RFC 3339).
    pub revoked_at: String,
    /// RFC 5280 reason name (`keyCompromise`, `superseded`, ...), if given.
    pub reason: Option<String>,
}

/// `revocations.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RevocationState {
    /// Revoked certificates.
    pub revoked: Vec<Revocation>,
    /// Last CRL number per CA.
    pub crl_numbers: std::collections::BTreeMap<String, u64>,
}

impl RevocationState {
    /// The revocation of `serial` under `ca`, if any.
    pub fn find(&self, ca: &str, serial: &str) -> Option<&Revocation> {
        self.revoked
            .iter()
            .find(|r| r.ca == ca && r.serial == serial)
    }
}

/// A PKI directory.
#[derive(Clone, Debug)]
pub struct PkiDir {
    root: PathBuf,
}

impl PkiDir {
    /// Wraps a directory (no I/O).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        PkiDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// An absolute path for a DIR-relative one.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads a DIR-relative file.
    pub fn read(&self, rel: &str) -> Result<Vec<u8>> {
        let p = self.path(rel);
        std::fs::read(&p).map_err(PkiError::io(p))
    }

    /// Reads a DIR-relative text file.
    pub fn read_string(&self, rel: &str) -> Result<String> {
        let p = self.path(rel);
        std::fs::read_to_string(&p).map_err(PkiError::io(p))
    }

    /// Writes a DIR-relative file atomically (temp file + rename), creating parent folders.
    pub fn write(&self, rel: &str, data: &[u8]) -> Result<()> {
        write_atomic(&self.path(rel), data)
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, rel: &str) -> Result<T> {
        let p = self.path(rel);
        let bytes = std::fs::read(&p).map_err(PkiError::io(&p))?;
        serde_json::from_slice(&bytes).map_err(|source| PkiError::Json { path: p, source })
    }

    fn write_json<T: Serialize>(&self, rel: &str, v: &T) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(v).map_err(|source| PkiError::Json {
            path: self.path(rel),
            source,
        })?;
        text.push(b'\n');
        self.write(rel, &text)
    }

    /// Takes the directory's lock, waiting for another process that holds it.
    pub fn lock(&self) -> Result<DirLock> {
        let p = self.path(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(PkiError::io(&p))?;
        file.lock().map_err(PkiError::io(&p))?;
        Ok(DirLock { _file: file })
    }

    /// Reads `pki.json` and checks its format tag.
    pub fn manifest(&self) -> Result<Manifest> {
        let m: Manifest = self.read_json("pki.json")?;
        if m.format != MANIFEST_FORMAT {
            return Err(PkiError::Invalid(format!(
                "{}: format `{}` is not `{MANIFEST_FORMAT}`",
                self.path("pki.json").display(),
                m.format
            )));
        }
        Ok(m)
    }

    /// Writes `pki.json`.
    pub fn write_manifest(&self, m: &Manifest) -> Result<()> {
        self.write_json("pki.json", m)
    }

    /// Reads `revocations.json` (absent = nothing revoked).
    pub fn revocations(&self) -> Result<RevocationState> {
        if !self.path("revocations.json").exists() {
            return Ok(RevocationState::default());
        }
        self.read_json("revocations.json")
    }

    /// Writes `revocations.json`.
    pub fn write_revocations(&self, s: &RevocationState) -> Result<()> {
        self.write_json("revocations.json", s)
    }
}

/// An exclusive advisory lock on a PKI directory (`DIR/.lock`), held across a command's
/// read-modify-write of `pki.json` / `revocations.json` and the CRL it re-issues. Two `pki
/// revoke` (or `pki issue`, or a `pki serve` re-issuing a stale CRL) never interleave, so no
/// revocation or record is lost and no two CRLs share a number. Released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

/// Writes a file atomically ([`medmij_core::atomic_file`]), so a reader never sees half a file.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    medmij_core::atomic_file::write(path, data).map_err(PkiError::io(path))
}

/// PEM-encodes DER with a label.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Decodes every PEM block with `label` in `text`.
pub fn pem_blocks(text: &str, label: &str) -> Result<Vec<Vec<u8>>> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&begin) {
        let after = &rest[i + begin.len()..];
        let j = after
            .find(&end)
            .ok_or_else(|| PkiError::Invalid(format!("PEM block `{label}` without END line")))?;
        let body: String = after[..j].chars().filter(|c| !c.is_whitespace()).collect();
        out.push(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|e| PkiError::Invalid(format!("PEM block `{label}`: {e}")))?,
        );
        rest = &after[j + end.len()..];
    }
    Ok(out)
}

pub use medmij_core::hex::encode as hex;
