//! `pki issue`, `pki revoke` and `pki csr`: day-to-day operations on an existing test PKI.

use crate::ca::{reason_from_name, serial_hex, unhex, LoadedCa};
use crate::catalogue::Role;
use crate::error::{PkiError, Result};
use crate::hierarchy::Hierarchy;
use crate::init::{leaf_template, write_key};
use crate::keys::{Key, KeyStyle};
use crate::serve::reissue_crl_locked;
use crate::store::{pem, pem_blocks, IssuedRecord, PkiDir, Revocation};
use rcgen::{CertificateParams, DistinguishedName, DnType, SanType};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Checks a hostname the way the MedMij whitelist XSD does (lowercase labels, at least two),
/// with a leading `*.` allowed only where the caller permits wildcards.
pub fn check_hostname(h: &str) -> Result<()> {
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let labels: Vec<&str> = h.split('.').collect();
    if h.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| ok_label(l)) {
        return Err(PkiError::Invalid(format!("hostname `{h}`: expected lowercase DNS labels a-z, 0-9, '-' with at least one dot (MedMij whitelist pattern)")));
    }
    Ok(())
}

/// What `pki issue` should make.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// Hierarchy to issue from.
    pub hierarchy: Hierarchy,
    /// Backchannel (G1/G4) or frontchannel (public OV/DV).
    pub role: Role,
    /// SAN dNSNames.
    pub hostnames: Vec<String>,
    /// Folder name under `certs/` (default: first hostname).
    pub name: Option<String>,
    /// Validity in days from `at`.
    pub days: u32,
    /// Key style (RSA with the hierarchy's real size, or P-256).
    pub key_style: KeyStyle,
    /// When it is issued (the CLI: now; tests: a fixed clock).
    pub at: OffsetDateTime,
}

/// Paths of an issued certificate (absolute).
#[derive(Clone, Debug)]
pub struct Issued {
    /// Leaf PEM.
    pub cert: PathBuf,
    /// Leaf + intermediates PEM.
    pub chain: PathBuf,
    /// Key PEM.
    pub key: PathBuf,
    /// Serial (hex).
    pub serial: String,
}

/// Deliberate departures from a hierarchy's node certificate, for fixtures made after `init`
/// (the client probe's cases). The default is the hierarchy's template.
#[derive(Clone, Debug)]
pub struct LeafOptions {
    /// Validity window instead of `at - 1 h .. at + days`.
    pub window: Option<crate::validity::Window>,
    /// Extended key usages instead of the hierarchy's.
    pub eku: Option<Vec<rcgen::ExtendedKeyUsagePurpose>>,
    /// Name the CRL distribution point.
    pub with_crl: bool,
    /// Name the OCSP responder.
    pub with_ocsp: bool,
}

impl Default for LeafOptions {
    fn default() -> Self {
        LeafOptions {
            window: None,
            eku: None,
            with_crl: true,
            with_ocsp: true,
        }
    }
}

/// Issues a node certificate from the hierarchy's issuing CA and records it for OCSP.
pub fn issue(dir: &PkiDir, req: &IssueRequest) -> Result<Issued> {
    issue_with(dir, req, &LeafOptions::default())
}

/// [`issue`] with departures from the template (validity, EKU, which revocation pointers).
pub fn issue_with(dir: &PkiDir, req: &IssueRequest, opts: &LeafOptions) -> Result<Issued> {
    let h = req.hierarchy;
    match (req.role, h.is_backchannel()) {
        (Role::Backchannel, false) => return Err(PkiError::Invalid(format!("hierarchy `{h}` issues frontchannel certificates; backchannel needs g1 or g4"))),
        (Role::Frontchannel, true) => return Err(PkiError::Invalid(format!("hierarchy `{h}` is a PKIoverheid-like private hierarchy; frontchannel needs public-ov or public-dv"))),
        _ => {}
    }
    if req.hostnames.is_empty() {
        return Err(PkiError::Invalid(
            "at least one hostname is required".into(),
        ));
    }
    for hn in &req.hostnames {
        check_hostname(hn)?;
    }
    // Held until the record is written: parallel issues each add theirs.
    let _lock = dir.lock()?;
    let mut manifest = dir.manifest()?;
    let ca = LoadedCa::load(dir, manifest.ca(h.issuing_ca())?)?;
    let name = req.name.clone().unwrap_or_else(|| req.hostnames[0].clone());
    if name.contains('/') || name.starts_with('.') {
        return Err(PkiError::Invalid(format!(
            "name `{name}` must be a plain folder name"
        )));
    }
    let rel = format!("certs/{name}");
    if dir.path(&rel).exists() {
        return Err(PkiError::Invalid(format!(
            "{}: already exists; choose another name",
            dir.path(&rel).display()
        )));
    }
    let mut serial = vec![0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| PkiError::Crypto {
        what: "serial".into(),
        reason: "no randomness".into(),
    })?;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    let now = req.at;
    let mut leaf = leaf_template(
        h,
        req.hostnames.clone(),
        serial,
        opts.window.unwrap_or(crate::validity::Window {
            not_before: now - time::Duration::hours(1),
            not_after: now + time::Duration::days(i64::from(req.days)),
        }),
    );
    if let Some(eku) = &opts.eku {
        leaf.eku = eku.clone();
    }
    leaf.with_crl = opts.with_crl;
    leaf.with_ocsp = opts.with_ocsp;
    let key = Key::generate(
        req.key_style.alg(h.leaf_rsa_bits()),
        &manifest.seed,
        &format!("issue/{name}/{}", now.unix_timestamp_nanos()),
    )?;
    let params = leaf.params(Some(&ca.record), &manifest.base_url)?;
    let der = ca.sign(&params, key.pair(), None)?;
    let serial = serial_hex(&der)?;
    let mut chain = pem("CERTIFICATE", &der);
    let mut cur = Some(ca.record.clone());
    while let Some(c) = cur {
        if c.parent.is_none() {
            break;
        }
        chain.push_str(&dir.read_string(&c.cert)?);
        cur = c
            .parent
            .as_deref()
            .map(|p| manifest.ca(p))
            .transpose()?
            .cloned();
    }
    dir.write(
        &format!("{rel}/cert.pem"),
        pem("CERTIFICATE", &der).as_bytes(),
    )?;
    dir.write(&format!("{rel}/chain.pem"), chain.as_bytes())?;
    write_key(dir, &format!("{rel}/key.pem"), &key.pem())?;
    manifest.issued.push(IssuedRecord {
        ca: ca.record.id.clone(),
        serial: serial.clone(),
        subject: req.hostnames[0].clone(),
        cert: format!("{rel}/cert.pem"),
    });
    dir.write_manifest(&manifest)?;
    Ok(Issued {
        cert: dir.path(&format!("{rel}/cert.pem")),
        chain: dir.path(&format!("{rel}/chain.pem")),
        key: dir.path(&format!("{rel}/key.pem")),
        serial,
    })
}

/// Which certificate to revoke.
#[derive(Clone, Debug)]
pub enum RevokeTarget {
    /// A certificate file (the issuing CA is looked up from the manifest).
    Cert(PathBuf),
    /// A serial under a CA.
    Serial {
        /// CA ID.
        ca: String,
        /// Serial (hex).
        serial: String,
    },
}

/// Revokes a certificate: records it, re-issues the CA's CRL; OCSP answers revoked at once.
pub fn revoke(
    dir: &PkiDir,
    target: &RevokeTarget,
    reason: Option<&str>,
    at: OffsetDateTime,
) -> Result<Revocation> {
    if let Some(r) = reason {
        reason_from_name(r)?;
    }
    // Held across reading the state, writing it and re-issuing the CRL: parallel revokes each
    // land, and CRL numbers stay unique.
    let _lock = dir.lock()?;
    let manifest = dir.manifest()?;
    let (ca, serial) = match target {
        RevokeTarget::Cert(path) => {
            let text = std::fs::read_to_string(path).map_err(PkiError::io(path))?;
            let der = pem_blocks(&text, "CERTIFICATE")?
                .into_iter()
                .next()
                .ok_or_else(|| PkiError::Invalid(format!("{}: no certificate", path.display())))?;
            let serial = serial_hex(&der)?;
            // The certificate itself, not only its serial: another PKI made with the same seed
            // issues the same serials.
            let rec = manifest
                .issued
                .iter()
                .filter(|i| i.serial == serial)
                .find(|i| {
                    dir.read_string(&i.cert)
                        .ok()
                        .and_then(|t| pem_blocks(&t, "CERTIFICATE").ok())
                        .and_then(|b| b.into_iter().next())
                        .is_some_and(|issued| issued == der)
                })
                .ok_or_else(|| {
                    PkiError::Invalid(format!(
                        "{}: this certificate (serial {serial}) was not issued by this PKI",
                        path.display()
                    ))
                })?;
            (rec.ca.clone(), serial)
        }
        RevokeTarget::Serial { ca, serial } => {
            manifest.ca(ca)?;
            (ca.clone(), crate::store::hex(&unhex(serial)?))
        }
    };
    let mut state = dir.revocations()?;
    if let Some(existing) = state.find(&ca, &serial) {
        return Err(PkiError::Invalid(format!(
            "serial {serial} of `{ca}` is already revoked (at {})",
            existing.revoked_at
        )));
    }
    let rev = Revocation {
        ca: ca.clone(),
        serial,
        revoked_at: at
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| PkiError::Invalid(e.to_string()))?,
        reason: reason.map(Into::into),
    };
    state.revoked.push(rev.clone());
    dir.write_revocations(&state)?;
    reissue_crl_locked(dir, &ca, at)?;
    Ok(rev)
}

/// Whether two output paths name one file: the same path after resolving the directory
/// (`k.pem`, `./k.pem`, `d/../k.pem`), or, for files that exist, the same inode (a hard link).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    let resolved = |p: &Path| -> Option<PathBuf> {
        let parent = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
    };
    if let (Some(x), Some(y)) = (resolved(a), resolved(b)) {
        if x == y {
            return true;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// What `pki csr` should make.
#[derive(Clone, Debug)]
pub struct CsrRequest {
    /// SAN dNSNames; the first is the CN.
    pub hostnames: Vec<String>,
    /// Subject O.
    pub organization: Option<String>,
    /// Subject C.
    pub country: String,
    /// OIN for subject serialNumber (PKIoverheid G1).
    pub oin: Option<String>,
    /// organizationIdentifier (G4: `NTRNL-` + KvK number).
    pub organization_identifier: Option<String>,
    /// Key: RSA bits (3072 for G4, 2048+ for G1) or P-256.
    pub key: crate::keys::KeyAlg,
}

/// Generates a key and a CSR on this machine (core.tls.315: the key is made on the platform
/// that uses it). Writes the key with mode 0600; refuses to overwrite either file.
pub fn csr(req: &CsrRequest, key_out: &Path, csr_out: &Path) -> Result<()> {
    if same_file(key_out, csr_out) {
        return Err(PkiError::Invalid(format!(
            "the key and the CSR would both be written to {}: the CSR would overwrite the private key; give two different paths",
            key_out.display()
        )));
    }
    for p in [key_out, csr_out] {
        if p.exists() {
            return Err(PkiError::Invalid(format!(
                "{}: exists; refusing to overwrite",
                p.display()
            )));
        }
    }
    if req.hostnames.is_empty() {
        return Err(PkiError::Invalid(
            "at least one hostname is required".into(),
        ));
    }
    for h in &req.hostnames {
        check_hostname(h)?;
    }
    let key = match req.key {
        // Seed derivation is for reproducible test PKIs; a key for a real certificate is random.
        crate::keys::KeyAlg::EcdsaP256 => {
            let crypto = |e: aws_lc_rs::error::Unspecified| PkiError::Crypto {
                what: "P-256 key".into(),
                reason: e.to_string(),
            };
            let k = aws_lc_rs::signature::EcdsaKeyPair::generate(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            )
            .map_err(crypto)?;
            Key::from_pkcs8(k.to_pkcs8v1().map_err(crypto)?.as_ref())?
        }
        rsa => Key::generate(rsa, "", "")?,
    };
    // ISO 3166-1 alpha-2 (RFC 5280 Appendix A: countryName is exactly two PrintableString
    // characters).
    if !(req.country.len() == 2 && req.country.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(PkiError::Invalid(format!(
            "country `{}`: expected an ISO 3166 two-letter country code such as NL",
            req.country.escape_debug()
        )));
    }
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, crate::init::printable(&req.country)?);
    if let Some(o) = &req.organization {
        dn.push(DnType::OrganizationName, o.as_str());
    }
    if let Some(oi) = &req.organization_identifier {
        dn.push(
            DnType::CustomDnType(crate::oids::DN_ORGANIZATION_IDENTIFIER.to_vec()),
            oi.as_str(),
        );
    }
    if let Some(oin) = &req.oin {
        dn.push(
            DnType::CustomDnType(crate::oids::DN_SERIAL_NUMBER.to_vec()),
            crate::init::printable(oin)?,
        );
    }
    dn.push(DnType::CommonName, req.hostnames[0].as_str());
    p.distinguished_name = dn;
    for h in &req.hostnames {
        p.subject_alt_names.push(SanType::DnsName(
            h.as_str()
                .try_into()
                .map_err(|e| PkiError::Invalid(format!("hostname `{h}`: {e}")))?,
        ));
    }
    let csr = p
        .serialize_request(key.pair())
        .map_err(PkiError::build("CSR"))?;
    let csr_pem = csr.pem().map_err(PkiError::build("CSR PEM"))?;
    let dir = PkiDir::new(key_out.parent().unwrap_or(Path::new(".")));
    let key_name = key_out
        .file_name()
        .ok_or_else(|| PkiError::Invalid(format!("{}: not a file name", key_out.display())))?
        .to_string_lossy()
        .to_string();
    write_key(&dir, &key_name, &key.pem())?;
    crate::store::write_atomic(csr_out, csr_pem.as_bytes())
}
