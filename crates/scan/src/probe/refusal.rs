//! Bad client certificates for the active refusal probes (core.tls.308/309/311): a
//! self-signed one and one from an unknown CA made here with rcgen, and, from a test PKI the
//! server's acceptance environment trusts (`--probe-pki DIR`, made by `pki init`), revoked,
//! expired, not-yet-valid, clientAuth-only and not-whitelisted ones.

use crate::facts::RefusalProbe;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The certificates the refusal probes present.
#[derive(Clone, Debug, Default)]
pub struct RefusalIdentities {
    /// Per probe, the certificate and key.
    pub keys: BTreeMap<u8, (RefusalProbe, Arc<CertifiedKey>)>,
}

fn certified(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>, String> {
    let signer =
        rustls::crypto::aws_lc_rs::sign::any_supported_type(&key).map_err(|e| e.to_string())?;
    Ok(Arc::new(CertifiedKey::new(chain, signer)))
}

fn leaf_params(name: &str) -> Result<rcgen::CertificateParams, String> {
    let mut p = rcgen::CertificateParams::new(vec![name.to_owned()]).map_err(|e| e.to_string())?;
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    p.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    Ok(p)
}

impl RefusalIdentities {
    /// The two made here: a self-signed certificate and a leaf of a CA no one trusts.
    pub fn generated() -> Result<RefusalIdentities, String> {
        let mut ids = RefusalIdentities::default();
        let e = |e: rcgen::Error| e.to_string();
        let key = rcgen::KeyPair::generate().map_err(e)?;
        let cert = leaf_params("self-signed.scan-probe.invalid")?
            .self_signed(&key)
            .map_err(e)?;
        ids.insert(
            RefusalProbe::SelfSigned,
            certified(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )?,
        );
        let ca_key = rcgen::KeyPair::generate().map_err(e)?;
        let mut ca = rcgen::CertificateParams::new(Vec::new()).map_err(e)?;
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "medmij-tls scan unknown CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let leaf_key = rcgen::KeyPair::generate().map_err(e)?;
        let leaf = leaf_params("unknown-ca.scan-probe.invalid")?
            .signed_by(&leaf_key, &issuer)
            .map_err(e)?;
        ids.insert(
            RefusalProbe::UnknownCa,
            certified(
                vec![leaf.der().clone(), ca_cert.der().clone()],
                PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )?,
        );
        Ok(ids)
    }

    fn insert(&mut self, p: RefusalProbe, k: Arc<CertifiedKey>) {
        self.keys.insert(p as u8, (p, k));
    }

    /// Adds the probe PKI's bad certificates (catalogue entries of `pki init`: G1 first, G4
    /// when the PKI has no G1 case).
    pub fn add_probe_pki(&mut self, dir: &Path) -> Result<(), String> {
        let cat_path = dir.join("catalogue.json");
        let text = medmij_core::input::read_text(&cat_path, medmij_core::input::Kind::Catalogue)
            .map_err(|e| e.to_string())?;
        let cat: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a test PKI catalogue: {e}", cat_path.display()))?;
        let entries = cat["entries"]
            .as_array()
            .ok_or_else(|| format!("{}: no entries (made by `pki init`?)", cat_path.display()))?;
        let wanted = [
            (RefusalProbe::Revoked, "revoked"),
            (RefusalProbe::Expired, "expired"),
            (RefusalProbe::NotYetValid, "not-yet-valid"),
            (RefusalProbe::ClientAuthOnly, "client-auth-only"),
            (RefusalProbe::NotWhitelisted, "not-whitelisted"),
        ];
        for (probe, suffix) in wanted {
            let entry = ["g1", "g4"].iter().find_map(|h| {
                entries
                    .iter()
                    .find(|e| e["id"].as_str() == Some(&format!("{h}-{suffix}")))
            });
            let Some(entry) = entry else {
                return Err(format!("{}: no {suffix} certificate", cat_path.display()));
            };
            let file = |k: &str| {
                entry[k]
                    .as_str()
                    .map(|p| dir.join(p))
                    .ok_or_else(|| format!("{}: entry {suffix} has no {k}", cat_path.display()))
            };
            let chain = read_chain(&file("chain")?)?;
            let key = read_key(&file("key")?)?;
            self.insert(probe, certified(chain, key)?);
        }
        Ok(())
    }
}

/// A PEM certificate chain.
pub fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let bytes = medmij_core::input::read(path, medmij_core::input::Kind::Chain)
        .map_err(|e| e.to_string())?;
    let chain: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", path.display()));
    }
    Ok(chain)
}

/// A PEM private key.
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    use rustls::pki_types::pem::PemObject;
    let bytes = medmij_core::input::read(path, medmij_core::input::Kind::PrivateKey)
        .map_err(|e| e.to_string())?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| format!("{}: no private key: {e}", path.display()))
}

/// A client identity from a chain file and a key file.
pub fn identity(chain: &Path, key: &Path) -> Result<Arc<CertifiedKey>, String> {
    certified(read_chain(chain)?, read_key(key)?)
}
