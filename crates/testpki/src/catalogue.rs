//! `catalogue.json`: every certificate the test PKI made, what it should do, and which
//! requirement it violates. The format is documented in `docs/catalogue-format.md`.

use crate::error::{PkiError, Result};
use crate::store::PkiDir;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The catalogue format tag.
pub const CATALOGUE_FORMAT: &str = "medmij-testpki-catalogue/1";

/// Whether a verifier for the entry's role should accept the certificate (production rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Accept.
    Valid,
    /// Refuse (or, with `severity: warning`, flag for manual confirmation).
    Invalid,
}

/// Which kind of traffic the certificate is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Server-to-server mTLS with PKIoverheid private certificates.
    Backchannel,
    /// Browser-facing TLS with public certificates.
    Frontchannel,
}

/// One catalogue entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// Stable ID (`g1-expired`).
    pub id: String,
    /// What is special about it.
    pub description: String,
    /// The hierarchy it was issued in.
    pub hierarchy: String,
    /// Backchannel or frontchannel.
    pub role: Role,
    /// The SAN dNSNames (the hostnames a test should connect to / expect).
    pub hostnames: Vec<String>,
    /// Leaf certificate (PEM).
    pub cert: String,
    /// Leaf plus intermediates as a server would send them (PEM; no root unless the fixture is about that).
    pub chain: String,
    /// Leaf private key (PKCS#8 PEM).
    pub key: String,
    /// The trust anchor to judge the entry against (PEM).
    pub root: String,
    /// Accept or refuse.
    pub expect: Expect,
    /// Requirement IDs the certificate violates (empty for valid entries).
    pub violates: Vec<String>,
    /// The checks ([`medmij_core::checks`]) it fails: this entry is their failing fixture.
    #[serde(default)]
    pub checks: Vec<String>,
    /// `warning` where the rule asks for manual confirmation rather than refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Extra context (environments where it is acceptable, how the fixture was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// The CA that signed the leaf (absent for a self-signed leaf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_ca: Option<String>,
}

/// `catalogue.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Catalogue {
    /// [`CATALOGUE_FORMAT`].
    pub format: String,
    /// The seed.
    pub seed: String,
    /// Base URL of the CRL/OCSP server.
    pub base_url: String,
    /// A MedMij whitelist naming the backchannel nodes meant to be allowed.
    pub whitelist: String,
    /// Root certificate (PEM) per hierarchy.
    pub roots: BTreeMap<String, String>,
    /// The entries.
    pub entries: Vec<Entry>,
}

impl Catalogue {
    /// Reads `DIR/catalogue.json`.
    pub fn load(dir: &PkiDir) -> Result<Catalogue> {
        let p = dir.path("catalogue.json");
        let bytes = std::fs::read(&p).map_err(PkiError::io(&p))?;
        let c: Catalogue = serde_json::from_slice(&bytes).map_err(|source| PkiError::Json {
            path: p.clone(),
            source,
        })?;
        if c.format != CATALOGUE_FORMAT {
            return Err(PkiError::Invalid(format!(
                "{}: format `{}` is not `{CATALOGUE_FORMAT}`",
                p.display(),
                c.format
            )));
        }
        Ok(c)
    }

    /// An entry by ID.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }
}
