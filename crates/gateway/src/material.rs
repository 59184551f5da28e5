//! A listener's own certificate and key, checked the way the real start needs them: readable,
//! the key matching the leaf, a path from the chain to an anchor (a missing intermediate names
//! the issuer it needs), no root sent (dropped with a warning, core.tls.313).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::path::Path;
use std::sync::Arc;
use x509_parser::prelude::*;

/// A certificate chain and key ready to serve, and what was said about them.
#[derive(Debug)]
pub struct Material {
    /// The certified key (chain without a root).
    pub key: Arc<CertifiedKey>,
    /// The private key, for the TLS policy's config builders.
    pub key_der: PrivateKeyDer<'static>,
    /// Warnings (a root dropped).
    pub warnings: Vec<String>,
    /// The leaf's subject, for logs.
    pub subject: String,
}

/// Why material cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MaterialError(pub String);

fn err<T>(s: impl Into<String>) -> Result<T, MaterialError> {
    Err(MaterialError(s.into()))
}

/// Loads `chain` and `key`; `anchor_subjects` are the DER subjects the path may end at (empty:
/// not checked, the frontchannel without a system store).
pub fn load(
    chain: &Path,
    key: &Path,
    anchor_subjects: &[Vec<u8>],
) -> Result<Material, MaterialError> {
    let bytes = medmij_core::input::read(chain, medmij_core::input::Kind::Chain)
        .map_err(|e| MaterialError(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| MaterialError(format!("{}: {e}", chain.display())))?;
    if certs.is_empty() {
        return err(format!("{}: no certificate in the file", chain.display()));
    }
    let kbytes = medmij_core::input::read(key, medmij_core::input::Kind::PrivateKey)
        .map_err(|e| MaterialError(e.to_string()))?;
    let pk = PrivateKeyDer::from_pem_slice(&kbytes)
        .map_err(|e| MaterialError(format!("{}: no private key: {e}", key.display())))?;
    let mut warnings = Vec::new();
    let mut parsed = Vec::new();
    for (i, c) in certs.iter().enumerate() {
        match X509Certificate::from_der(c.as_ref()) {
            Ok((_, x)) => parsed.push(x),
            Err(e) => {
                return err(format!(
                    "{}: certificate {} does not parse: {e}",
                    chain.display(),
                    i + 1
                ))
            }
        }
    }
    // Drop self-signed roots: a receiver has them (core.tls.313).
    let mut keep = Vec::new();
    for (i, x) in parsed.iter().enumerate() {
        if i > 0 && x.subject().as_raw() == x.issuer().as_raw() {
            warnings.push(format!(
                "{}: certificate {} is a root ({}); not sent (core.tls.313)",
                chain.display(),
                i + 1,
                x.subject()
            ));
        } else {
            keep.push(i);
        }
    }
    // Follow issuer links from the leaf; the last one must be issued by an anchor.
    let mut at = 0usize;
    let mut seen = vec![0usize];
    loop {
        let issuer = parsed[at].issuer().as_raw();
        match keep
            .iter()
            .copied()
            .find(|&j| !seen.contains(&j) && parsed[j].subject().as_raw() == issuer)
        {
            Some(j) => {
                seen.push(j);
                at = j;
            }
            None => break,
        }
    }
    let last = &parsed[at];
    let ends_at_anchor = anchor_subjects
        .iter()
        .any(|s| s.as_slice() == last.issuer().as_raw())
        || (last.subject().as_raw() == last.issuer().as_raw() && at != 0);
    if !anchor_subjects.is_empty() && !ends_at_anchor {
        return err(format!(
            "{}: missing intermediate: {} is issued by {}, which is neither in the file nor a trust anchor",
            chain.display(),
            last.subject(),
            last.issuer()
        ));
    }
    let order: Vec<usize> = seen.into_iter().filter(|i| keep.contains(i)).collect();
    let served: Vec<CertificateDer<'static>> = order.iter().map(|&i| certs[i].clone()).collect();
    let signer = rustls::crypto::aws_lc_rs::sign::any_supported_type(&pk)
        .map_err(|e| MaterialError(format!("{}: {e}", key.display())))?;
    let ck = CertifiedKey::new(served, signer);
    if ck.keys_match().is_err() {
        return err(format!(
            "{}: the key does not match the certificate {}",
            key.display(),
            chain.display()
        ));
    }
    Ok(Material {
        key: Arc::new(ck),
        key_der: pk,
        warnings,
        subject: parsed[0].subject().to_string(),
    })
}

/// The DER subjects of the certificates in `files` (trust anchors).
pub fn subjects(files: &[std::path::PathBuf]) -> Result<Vec<Vec<u8>>, MaterialError> {
    let mut out = Vec::new();
    for f in files {
        let bytes = medmij_core::input::read(f, medmij_core::input::Kind::Anchors)
            .map_err(|e| MaterialError(e.to_string()))?;
        for c in CertificateDer::pem_slice_iter(&bytes) {
            let c = c.map_err(|e| MaterialError(format!("{}: {e}", f.display())))?;
            if let Ok((_, x)) = X509Certificate::from_der(c.as_ref()) {
                out.push(x.subject().as_raw().to_vec());
            }
        }
    }
    Ok(out)
}
