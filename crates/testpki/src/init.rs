//! `pki init`: create a whole test PKI with its catalogue of good and bad certificates.

use crate::ca::{ca_issuers_url, crl_url, serial_hex, LeafSpec, LoadedCa};
use crate::catalogue::{Catalogue, Entry, Expect, Role, CATALOGUE_FORMAT};
use crate::error::{PkiError, Result};
use crate::ext;
use crate::hierarchy::{ca_specs, CaSpec, Hierarchy};
use crate::keys::{Key, KeyStyle, SigAlg};
use crate::store::{
    pem, write_atomic, CaRecord, IssuedRecord, Manifest, PkiDir, ResponderRecord, Revocation,
    RevocationState, MANIFEST_FORMAT,
};
use crate::validity::{Validity, Window};
use medmij_core::ids::*;
use medmij_core::RequirementId;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose as Eku, IsCa, KeyUsagePurpose as Ku, SerialNumber,
    SubjectPublicKeyInfo,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// The default base URL: `pki serve` listens here unless told otherwise.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8990";

/// How long a CRL is valid after it is made. PKIoverheid renews at least every 48 h
/// (g4-trial README); a week keeps a demo usable without a running server.
pub const CRL_VALIDITY: time::Duration = time::Duration::days(7);

/// The weak key for the RSA-1024 fixture: aws-lc-rs refuses to generate keys under 2048 bits,
/// so a committed key (made once with `openssl genpkey`) stands in. Never use it elsewhere.
const RSA1024_KEY_PEM: &str = include_str!("../fixtures/rsa1024-weak.key.pem");
const RSA1024_PUB_PEM: &str = include_str!("../fixtures/rsa1024-weak.pub.pem");

/// Options for `pki init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Seed for names, serials and P-256 keys.
    pub seed: String,
    /// Base URL of `pki serve`, written into CRL DP and AIA.
    pub base_url: String,
    /// Key style for hierarchies not named in `key_style_for`.
    pub key_style: KeyStyle,
    /// Per-hierarchy key style.
    pub key_style_for: BTreeMap<Hierarchy, KeyStyle>,
    /// Replace an existing non-empty directory.
    pub force: bool,
    /// The moment the PKI is made: every validity window is relative to it
    /// ([`crate::validity`]).
    pub at: OffsetDateTime,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            seed: "medmij".into(),
            base_url: DEFAULT_BASE_URL.into(),
            key_style: KeyStyle::Rsa,
            key_style_for: BTreeMap::new(),
            force: false,
            at: OffsetDateTime::now_utc(),
        }
    }
}

impl InitOptions {
    fn style(&self, h: Hierarchy) -> KeyStyle {
        self.key_style_for
            .get(&h)
            .copied()
            .unwrap_or(self.key_style)
    }
}

/// Checks a `pki serve` base URL before it is written into every certificate's CRL
/// distribution point and AIA: `http://HOST[:PORT][/PATH]` with a DNS name, IPv4 or bracketed
/// IPv6 host, a port from 1 to 65535, and a path of URL-safe characters only (no spaces,
/// quotes, control characters, query or fragment). Err says what is wrong.
pub fn check_base_url(url: &str) -> std::result::Result<(), String> {
    let rest = url.strip_prefix("http://").ok_or(
        "expected http://HOST[:PORT][/PATH] (CRL and OCSP URLs are plain HTTP, as in PKIoverheid)",
    )?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']').ok_or("an IPv6 host needs its closing `]`")?;
        let host = &v6[..end];
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{host}` is not an IPv6 address"))?;
        (host, v6[end + 1..].strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing".into());
    }
    let dns_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    if !authority.starts_with('[') && !dns_ok {
        return Err(format!(
            "`{}` is not a hostname or IP address",
            host.escape_debug()
        ));
    }
    if let Some(p) = port {
        if !matches!(p.parse::<u16>(), Ok(n) if n > 0) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "port `{}` is not a number from 1 to 65535",
                p.escape_debug()
            ));
        }
    }
    if let Some(bad) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~/".contains(*c)))
    {
        return Err(format!(
            "the path holds {:?}; only letters, digits and -._~/ are allowed",
            bad
        ));
    }
    Ok(())
}

/// Creates the PKI in `target`. Everything is written to a temporary sibling first and renamed
/// into place, so a failure leaves nothing half-written behind.
pub fn init(target: &Path, opts: &InitOptions) -> Result<Catalogue> {
    check_base_url(&opts.base_url).map_err(|why| {
        PkiError::Invalid(format!(
            "base URL `{}`: {why}",
            opts.base_url.escape_debug()
        ))
    })?;
    if target.exists() {
        let non_empty = std::fs::read_dir(target)
            .map_err(PkiError::io(target))?
            .next()
            .is_some();
        if non_empty && !opts.force {
            return Err(PkiError::Invalid(format!(
                "{}: directory exists and is not empty (a test PKI made by this tool is replaced only when that is asked for)",
                target.display()
            )));
        }
        // --force replaces a PKI this tool made (its manifest says so), never anything else.
        if non_empty && PkiDir::new(target).manifest().is_err() {
            return Err(PkiError::Invalid(format!(
                "{}: not a test PKI made by medmij-tls (no valid pki.json); only such a directory is ever replaced, so nothing was deleted",
                target.display()
            )));
        }
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| PkiError::Invalid(format!("{}: not a directory name", target.display())))?
        .to_string_lossy()
        .to_string();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    // Named after the target: the temporary sibling is our business, not the operator's.
    std::fs::create_dir_all(&tmp).map_err(PkiError::io(target))?;
    let result = build(&PkiDir::new(&tmp), opts);
    let catalogue = match result {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if target.exists() {
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        std::fs::rename(target, &old).map_err(PkiError::io(target))?;
        if let Err(e) = std::fs::rename(&tmp, target) {
            let _ = std::fs::rename(&old, target);
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(PkiError::Io {
                path: target.to_path_buf(),
                source: e,
            });
        }
        std::fs::remove_dir_all(&old).map_err(PkiError::io(&old))?;
    } else {
        std::fs::rename(&tmp, target).map_err(PkiError::io(target))?;
    }
    Ok(catalogue)
}

/// A serial number derived from the seed: 16 bytes, positive, no leading zero byte.
pub fn serial_for(seed: &str, label: &str) -> Vec<u8> {
    let d = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("medmij-testpki/serial/{seed}/{label}").as_bytes(),
    );
    let mut s = d.as_ref()[..16].to_vec();
    s[0] = (s[0] & 0x7f) | 0x40;
    s
}

/// countryName (and the OIN serialNumber) as PrintableString, as the real PKIoverheid
/// certificates and RFC 5280 (Appendix A: X520countryName) have them; rcgen would write UTF8String.
pub(crate) fn printable(s: &str) -> Result<DnValue> {
    rcgen::string::PrintableString::try_from(s)
        .map(DnValue::PrintableString)
        .map_err(|e| PkiError::Invalid(format!("`{s}` is not a PrintableString: {e}")))
}

/// A CA's subject: C (PrintableString), O, CN (UTF8String), the encoding of the real roots.
fn ca_name(spec: &CaSpec, cn: &str) -> Result<DistinguishedName> {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, printable(spec.country)?);
    dn.push(DnType::OrganizationName, spec.org);
    dn.push(DnType::CommonName, cn);
    Ok(dn)
}

fn ca_params(
    spec: &CaSpec,
    parent: Option<&CaRecord>,
    base_url: &str,
    opts: &InitOptions,
    depth: u8,
) -> Result<CertificateParams> {
    let seed = opts.seed.as_str();
    let mut p = CertificateParams::default();
    let w = Validity::new(opts.at).ca(depth);
    p.not_before = w.not_before;
    p.not_after = w.not_after;
    p.serial_number = Some(SerialNumber::from_slice(&serial_for(seed, spec.id)));
    p.distinguished_name = ca_name(spec, spec.cn)?;
    p.is_ca = IsCa::Ca(match spec.pathlen {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![Ku::KeyCertSign, Ku::CrlSign];
    // The G4 CAs sign their OCSP answers themselves (no delegated responder), which RFC 5280
    // §4.2.1.3 puts under digitalSignature; the real G4 CAs carry it.
    if spec.hierarchy == Hierarchy::G4 {
        p.key_usages.push(Ku::DigitalSignature);
    }
    p.extended_key_usages = spec.eku.clone();
    if !spec.policies.is_empty() {
        p.custom_extensions
            .push(ext::certificate_policies(spec.policies)?);
    }
    if let Some(parent) = parent {
        p.use_authority_key_identifier_extension = true;
        p.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![crl_url(base_url, &parent.id)],
        }];
        p.custom_extensions.push(ext::authority_info_access(
            None,
            Some(&ca_issuers_url(base_url, &parent.id)),
        )?);
    }
    Ok(p)
}

/// A delegated OCSP responder for `ca` (EKU OCSPSigning, id-pkix-ocsp-nocheck).
fn responder(
    ca: &LoadedCa,
    spec: &CaSpec,
    style: KeyStyle,
    opts: &InitOptions,
    base_url: &str,
) -> Result<(Vec<u8>, Key)> {
    let seed = opts.seed.as_str();
    let key = Key::generate(style.alg(2048), seed, &format!("{}-ocsp", spec.id))?;
    let mut p = CertificateParams::default();
    let w = Validity::new(opts.at).responder();
    p.not_before = w.not_before;
    p.not_after = w.not_after;
    p.serial_number = Some(SerialNumber::from_slice(&serial_for(
        seed,
        &format!("{}-ocsp", spec.id),
    )));
    p.distinguished_name = ca_name(spec, &format!("{} OCSP Responder", spec.cn))?;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![Ku::DigitalSignature];
    p.extended_key_usages = vec![Eku::OcspSigning];
    p.use_authority_key_identifier_extension = true;
    p.custom_extensions.push(ext::ocsp_nocheck());
    p.custom_extensions.push(ext::authority_info_access(
        None,
        Some(&ca_issuers_url(base_url, spec.id)),
    )?);
    let der = ca.sign(&p, key.pair(), None)?;
    Ok((der, key))
}

/// What is wrong with a catalogue entry (or nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Defect {
    /// Nothing wrong with the certificate itself.
    Sound,
    NoPolicy,
    ClientAuthOnly,
    NoEku,
    Expired,
    NotYetValid,
    Revoked,
    SelfSigned,
    MissingIntermediate,
    IncludesRoot,
    Sha1,
    Rsa1024,
    IpSan,
    KeyCertSign,
    LongSerial,
}

struct EntrySpec {
    id: &'static str,
    description: &'static str,
    hierarchy: Hierarchy,
    role: Role,
    hostnames: &'static [&'static str],
    defect: Defect,
    /// On the catalogue's whitelist.
    whitelisted: bool,
    expect: Expect,
    violates: &'static [RequirementId],
    severity: Option<&'static str>,
    note: Option<&'static str>,
}

/// The checks each catalogue entry fails (its `checks` in catalogue.json): the failing fixtures
/// of the check registry. Valid entries fail none.
fn failing_checks(id: &str) -> &'static [&'static str] {
    use medmij_core::checks::names::*;
    match id {
        // The DV CA is established in the US: also the (warning) fixture of the GDPR check.
        "public-dv" => &[FRONTCHANNEL_GDPR_CA, FRONTCHANNEL_OV_OR_BETTER],
        "public-ov-no-policy" => &[FRONTCHANNEL_OV_OR_BETTER],
        "public-ov-wildcard" => &[FRONTCHANNEL_NO_WILDCARD],
        "public-ov-multi-owner" => &[FRONTCHANNEL_SINGLE_OWNER],
        "g1-no-policy" => &[LEAF_POLICY_OID],
        "g1-client-auth-only" | "g1-no-eku" => &[LEAF_EKU_SERVER_AUTH],
        "g1-expired" | "g1-not-yet-valid" => &[CERT_VALIDITY],
        "g1-revoked" | "g4-revoked" => &[REVOCATION_NOT_REVOKED],
        "g1-unknown-root" | "g1-self-signed" => &[CHAIN_TRUSTED_ANCHOR],
        "g1-missing-intermediate" => &[CHAIN_COMPLETE],
        "g1-chain-with-root" => &[CHAIN_NO_ROOT],
        "g1-sha1" => &[CERT_SIGNATURE_ALGORITHM],
        "g1-rsa1024" => &[LEAF_KEY_STRENGTH],
        "g1-wildcard" => &[LEAF_NO_WILDCARD],
        "g1-leaf-key-cert-sign" => &[LEAF_NO_KEY_CERT_SIGN],
        "g1-serial-21-octets" => &[CERT_RFC5280_ENCODING],
        "g4-ip-san" => &[LEAF_NO_IP_SAN],
        "g1-not-whitelisted" => &[PEER_WHITELISTED],
        _ => &[],
    }
}

fn entry_specs() -> Vec<EntrySpec> {
    use Defect::*;
    use Hierarchy::*;
    let e = |id, description, hierarchy, role, hostnames, defect, expect, violates| EntrySpec {
        id,
        description,
        hierarchy,
        role,
        hostnames,
        defect,
        whitelisted: role == Role::Backchannel,
        expect,
        violates,
        severity: None,
        note: None,
    };
    let (b, f) = (Role::Backchannel, Role::Frontchannel);
    let (ok, bad) = (Expect::Valid, Expect::Invalid);
    vec![
        e("g1-za", "valid G1 node certificate of a care provider (ZA) node", G1, b, &["za.zorgaanbieder.example"], Sound, ok, &[]),
        e("g1-pgo", "valid G1 node certificate of a PGO node", G1, b, &["pgo.pgo-leverancier.example"], Sound, ok, &[]),
        e("g4-za", "valid G4 node certificate (RSASSA-PSS-SHA512 chain when RSA keys are used)", G4, b, &["za-g4.zorgaanbieder.example"], Sound, ok, &[]),
        e("g4-pgo", "valid G4 node certificate of a PGO node", G4, b, &["pgo-g4.pgo-leverancier.example"], Sound, ok, &[]),
        e("public-ov", "valid public OV frontchannel certificate", PublicOv, f, &["login.zorgaanbieder.example"], Sound, ok, &[]),
        e("public-ov-multi-same-domain", "valid OV certificate with two SANs under one registrable domain", PublicOv, f, &["login.zorgaanbieder.example", "app.zorgaanbieder.example"], Sound, ok, &[]),
        EntrySpec {
            note: Some("acceptable in environment `test` (AF-1273 §6.4); refused in production and acceptance"),
            ..e("public-dv", "DV-only frontchannel certificate (policy 2.23.140.1.2.1)", PublicDv, f, &["portal.pgo-leverancier.example"], Sound, bad, &[CORE_TLS_315])
        },
        e("public-ov-wildcard", "wildcard SAN dNSName on a frontchannel certificate", PublicOv, f, &["*.zorgaanbieder.example"], Sound, bad, &[CORE_TLS_315]),
        EntrySpec {
            severity: Some("warning"),
            note: Some("SANs under unrelated registrable domains: allowed only with one owner, which needs manual confirmation"),
            ..e("public-ov-multi-owner", "multi-domain certificate spanning unrelated registrable domains", PublicOv, f, &["login.zorgaanbieder.example", "www.andere-eigenaar.example"], Sound, bad, &[CORE_TLS_315])
        },
        e("public-ov-no-policy", "frontchannel certificate without any certificatePolicies OID", PublicOv, f, &["info.zorgaanbieder.example"], NoPolicy, bad, &[CORE_TLS_315]),
        EntrySpec {
            note: Some("a handshake accepts it: policy OIDs are the linter's check (core.tls.311 note)"),
            ..e("g1-no-policy", "G1 node certificate without the Private Services Server policy OID", G1, b, &["nopolicy.zorgaanbieder.example"], NoPolicy, bad, &[CORE_TLS_314])
        },
        e("g1-client-auth-only", "G1 certificate whose EKU is clientAuth only", G1, b, &["clientonly.pgo-leverancier.example"], ClientAuthOnly, bad, &[CORE_TLS_311]),
        e("g1-no-eku", "G1 certificate without an EKU extension (webpki alone would accept it)", G1, b, &["noeku.pgo-leverancier.example"], NoEku, bad, &[CORE_TLS_311]),
        e("g1-expired", "G1 certificate that expired a month before the PKI was made", G1, b, &["expired.zorgaanbieder.example"], Expired, bad, &[CORE_TLS_311]),
        e("g1-not-yet-valid", "G1 certificate valid only from a month after the PKI was made", G1, b, &["future.zorgaanbieder.example"], NotYetValid, bad, &[CORE_TLS_311]),
        e("g1-revoked", "G1 certificate revoked a week before the PKI was made (in the CRL, and OCSP answers revoked)", G1, b, &["revoked.zorgaanbieder.example"], Revoked, bad, &[CORE_TLS_309]),
        e("g4-revoked", "G4 certificate revoked a week before the PKI was made (PSS-signed CRL and OCSP with RSA keys)", G4, b, &["revoked-g4.zorgaanbieder.example"], Revoked, bad, &[CORE_TLS_309]),
        EntrySpec {
            note: Some("the rogue root copies the G1 root's name but has its own key"),
            ..e("g1-unknown-root", "node certificate issued under a root that is not a trust anchor", Rogue, b, &["rogue-ca.zorgaanbieder.example"], Sound, bad, &[CORE_TLS_311, CORE_TLS_314])
        },
        e("g1-self-signed", "self-signed node certificate", G1, b, &["selfsigned.zorgaanbieder.example"], SelfSigned, bad, &[CORE_TLS_311]),
        e("g1-missing-intermediate", "chain file lacks the issuing TSP CA", G1, b, &["incomplete.zorgaanbieder.example"], MissingIntermediate, bad, &[CORE_TLS_313]),
        EntrySpec {
            note: Some("the path still validates; the scanner and linter flag the root in the chain"),
            ..e("g1-chain-with-root", "chain file includes the self-signed root", G1, b, &["withroot.zorgaanbieder.example"], IncludesRoot, bad, &[CORE_TLS_313])
        },
        EntrySpec {
            note: Some("issued by a P-256 TSP CA so the SHA-1 signature can be made with any key style"),
            ..e("g1-sha1", "certificate signed with ecdsa-with-SHA1", G1, b, &["sha1.zorgaanbieder.example"], Sha1, bad, &[CORE_TLS_301])
        },
        e("g1-rsa1024", "certificate with an RSA-1024 public key", G1, b, &["rsa1024.zorgaanbieder.example"], Rsa1024, bad, &[CORE_TLS_301]),
        e("g1-wildcard", "G1 certificate with a wildcard SAN dNSName besides its own name", G1, b, &["wild.zorgaanbieder.example", "*.zorgaanbieder.example"], Sound, bad, &[CORE_TLS_314]),
        e("g1-leaf-key-cert-sign", "G1 end-entity certificate whose keyUsage includes keyCertSign", G1, b, &["signer.zorgaanbieder.example"], KeyCertSign, bad, &[CORE_TLS_311]),
        e("g1-serial-21-octets", "G1 certificate with a 21-octet serial number (RFC 5280 allows 20)", G1, b, &["longserial.zorgaanbieder.example"], LongSerial, bad, &[CORE_TLS_311]),
        EntrySpec {
            note: Some("G4 prohibits IP addresses in SAN (pkioverheid/g4-trial README)"),
            ..e("g4-ip-san", "G4 certificate with an iPAddress SAN", G4, b, &["ipsan.zorgaanbieder.example"], IpSan, bad, &[CORE_TLS_307, CORE_TLS_314])
        },
        EntrySpec {
            whitelisted: false,
            note: Some("the certificate itself is valid; the hostname is absent from the catalogue's whitelist.xml"),
            ..e("g1-not-whitelisted", "valid G1 certificate for a hostname that is not on the whitelist", G1, b, &["rogue.onbekend.example"], Sound, bad, &[MEDMIJ_WHITELIST])
        },
    ]
}

struct Built {
    manifest: Manifest,
    loaded: BTreeMap<String, LoadedCa>,
}

impl Built {
    fn ca(&self, id: &str) -> Result<&LoadedCa> {
        self.loaded
            .get(id)
            .ok_or_else(|| PkiError::Invalid(format!("no CA `{id}`")))
    }

    /// The intermediates a server sends for a leaf issued by `ca`: `ca` and its parents, no root.
    fn intermediates(&self, ca: &str) -> Result<Vec<&LoadedCa>> {
        let mut out = Vec::new();
        let mut cur = Some(ca.to_string());
        while let Some(id) = cur {
            let c = self.ca(&id)?;
            if c.record.parent.is_some() {
                out.push(c);
            }
            cur = c.record.parent.clone();
        }
        Ok(out)
    }
}

fn build(dir: &PkiDir, opts: &InitOptions) -> Result<Catalogue> {
    let base = opts.base_url.trim_end_matches('/').to_string();
    let mut built = Built {
        manifest: Manifest {
            format: MANIFEST_FORMAT.into(),
            seed: opts.seed.clone(),
            base_url: base.clone(),
            cas: vec![],
            issued: vec![],
        },
        loaded: BTreeMap::new(),
    };

    for spec in ca_specs() {
        let style = opts.style(spec.hierarchy);
        let key = Key::generate(spec.key_alg(style), &opts.seed, spec.id)?;
        let sig_alg = spec.sig_alg(key.alg());
        let parent = spec.parent.map(|p| built.ca(p)).transpose()?;
        // How far below its root this CA sits (parents come first in ca_specs()).
        let mut depth = 0u8;
        let mut up = spec.parent;
        while let Some(pid) = up {
            depth += 1;
            up = ca_specs()
                .into_iter()
                .find(|c| c.id == pid)
                .and_then(|c| c.parent);
        }
        let params = ca_params(&spec, parent.map(|p| &p.record), &base, opts, depth)?;
        let der = match parent {
            Some(p) => p.sign(&params, key.pair(), None)?,
            None => {
                let c = params
                    .self_signed(key.pair())
                    .map_err(PkiError::build(spec.id))?;
                crate::keys::resign_certificate(c.der(), &key, sig_alg)?
            }
        };
        let record = CaRecord {
            id: spec.id.into(),
            hierarchy: spec.hierarchy.label().into(),
            name: spec.cn.into(),
            parent: spec.parent.map(Into::into),
            cert: format!("ca/{}.pem", spec.id),
            key: format!("ca/{}.key.pem", spec.id),
            sig_alg,
            crl: format!("crl/{}.crl", spec.id),
            ocsp_responder: None,
        };
        dir.write(&record.cert, pem("CERTIFICATE", &der).as_bytes())?;
        dir.write(&format!("ca/{}.cer", spec.id), &der)?;
        write_key(dir, &record.key, &key.pem())?;
        let mut loaded = LoadedCa {
            record,
            cert_der: der,
            key,
        };
        if spec.delegated_ocsp {
            let (rder, rkey) = responder(&loaded, &spec, style, opts, &base)?;
            let rec = ResponderRecord {
                cert: format!("ca/{}-ocsp.pem", spec.id),
                key: format!("ca/{}-ocsp.key.pem", spec.id),
            };
            dir.write(&rec.cert, pem("CERTIFICATE", &rder).as_bytes())?;
            write_key(dir, &rec.key, &rkey.pem())?;
            loaded.record.ocsp_responder = Some(rec);
        }
        built.manifest.cas.push(loaded.record.clone());
        built.loaded.insert(spec.id.to_string(), loaded);
    }

    let mut revocations = RevocationState::default();
    let mut entries = Vec::new();
    let mut whitelist = Vec::new();
    for spec in entry_specs() {
        entries.push(make_entry(dir, &mut built, &spec, opts, &mut revocations)?);
        if spec.whitelisted {
            // The whitelist schema allows no wildcards: only exact names go on it.
            whitelist.extend(
                spec.hostnames
                    .iter()
                    .filter(|h| !h.contains('*'))
                    .map(|h| h.to_string()),
            );
        }
    }

    // The first CRLs are made at the init time too, so a PKI made `--at` an instant is
    // consistent at that instant.
    for ca in built.loaded.values() {
        let crl = ca.crl(&revocations.revoked, 1, opts.at, CRL_VALIDITY)?;
        revocations.crl_numbers.insert(ca.record.id.clone(), 1);
        dir.write(&ca.record.crl, &crl)?;
    }

    dir.write("whitelist.xml", whitelist_xml(&whitelist, 1).as_bytes())?;
    let mut roots = BTreeMap::new();
    for h in Hierarchy::ALL {
        roots.insert(h.label().to_string(), format!("ca/{}.pem", h.root_ca()));
    }
    let catalogue = Catalogue {
        format: CATALOGUE_FORMAT.into(),
        seed: opts.seed.clone(),
        base_url: base,
        whitelist: "whitelist.xml".into(),
        roots,
        entries,
    };
    let mut text = serde_json::to_vec_pretty(&catalogue).map_err(|source| PkiError::Json {
        path: dir.path("catalogue.json"),
        source,
    })?;
    text.push(b'\n');
    dir.write("catalogue.json", &text)?;
    dir.write_revocations(&revocations)?;
    dir.write_manifest(&built.manifest)?;
    Ok(catalogue)
}

/// Writes a private key readable by the owner only.
pub(crate) fn write_key(dir: &PkiDir, rel: &str, pem_text: &str) -> Result<()> {
    let path = dir.path(rel);
    write_atomic(&path, pem_text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(PkiError::io(&path))?;
    }
    Ok(())
}

/// The leaf template of a hierarchy for `hostnames`.
pub fn leaf_template(
    h: Hierarchy,
    hostnames: Vec<String>,
    serial: Vec<u8>,
    window: Window,
) -> LeafSpec {
    let (organization, oin, organization_identifier) = match h {
        Hierarchy::G1 | Hierarchy::Rogue => (
            "TEST Zorgaanbieder B.V.",
            Some("00000001234567890000".to_string()),
            None,
        ),
        Hierarchy::G4 => (
            "TEST Zorgaanbieder B.V.",
            None,
            Some("NTRNL-12345678".to_string()),
        ),
        Hierarchy::PublicOv => ("TEST Zorgaanbieder B.V.", None, None),
        Hierarchy::PublicDv => ("TEST Zorgaanbieder B.V.", None, None),
    };
    LeafSpec {
        hostnames,
        ips: vec![],
        common_name: None,
        organization: organization.into(),
        oin,
        organization_identifier,
        eku: h.leaf_eku(),
        key_usages: vec![Ku::DigitalSignature, Ku::KeyEncipherment],
        policies: h.leaf_policies(),
        not_before: window.not_before,
        not_after: window.not_after,
        serial,
        with_ocsp: true,
        with_crl: true,
        sig_alg: None,
    }
}

fn make_entry(
    dir: &PkiDir,
    built: &mut Built,
    spec: &EntrySpec,
    opts: &InitOptions,
    revocations: &mut RevocationState,
) -> Result<Entry> {
    use Defect::{
        ClientAuthOnly, Expired, IncludesRoot, IpSan, KeyCertSign, LongSerial, MissingIntermediate,
        NoEku, NoPolicy, NotYetValid, Revoked, Rsa1024, SelfSigned, Sha1,
    };
    let h = spec.hierarchy;
    let hostnames: Vec<String> = spec.hostnames.iter().map(|s| s.to_string()).collect();
    let validity = Validity::new(opts.at);
    let window = if h.is_backchannel() {
        validity.leaf()
    } else {
        validity.public_leaf()
    };
    let mut leaf = leaf_template(
        h,
        hostnames.clone(),
        serial_for(&opts.seed, spec.id),
        window,
    );
    let mut issuer_id = h.issuing_ca().to_string();
    match spec.defect {
        NoPolicy => leaf.policies.clear(),
        ClientAuthOnly => leaf.eku = vec![Eku::ClientAuth],
        NoEku => leaf.eku.clear(),
        Expired => {
            let w = validity.expired();
            leaf.not_before = w.not_before;
            leaf.not_after = w.not_after;
        }
        NotYetValid => {
            let w = validity.not_yet_valid();
            leaf.not_before = w.not_before;
            leaf.not_after = w.not_after;
        }
        Sha1 => {
            issuer_id = "g1-legacy".into();
            leaf.sig_alg = Some(SigAlg::EcdsaSha1);
        }
        KeyCertSign => leaf.key_usages.push(Ku::KeyCertSign),
        LongSerial => {
            leaf.serial = serial_for(&opts.seed, spec.id);
            leaf.serial.extend_from_slice(&[0x5a; 5]);
        }
        IpSan => {
            leaf.ips = vec!["192.0.2.10"
                .parse()
                .map_err(|_| PkiError::Invalid("ip".into()))?]
        }
        _ => {}
    }
    // keyEncipherment belongs to RSA keys only (CA/B BR 7.1.2.7.11; RFC 5480 §3 for EC keys).
    let leaf_alg = opts.style(h).alg(h.leaf_rsa_bits());
    if !matches!(leaf_alg, crate::keys::KeyAlg::Rsa(_)) && spec.defect != Rsa1024 {
        leaf.key_usages.retain(|k| *k != Ku::KeyEncipherment);
    }
    let key_pem;
    let der = if spec.defect == SelfSigned {
        let key = Key::generate(opts.style(h).alg(h.leaf_rsa_bits()), &opts.seed, spec.id)?;
        let params = leaf.params(None, &built.manifest.base_url)?;
        key_pem = key.pem();
        params
            .self_signed(key.pair())
            .map_err(PkiError::build(spec.id))?
            .der()
            .to_vec()
    } else {
        let ca = built.ca(&issuer_id)?;
        let params = leaf.params(Some(&ca.record), &built.manifest.base_url)?;
        if spec.defect == Rsa1024 {
            let spki_der = crate::store::pem_blocks(RSA1024_PUB_PEM, "PUBLIC KEY")?
                .into_iter()
                .next()
                .ok_or_else(|| PkiError::Invalid("RSA-1024 fixture".into()))?;
            let spki = SubjectPublicKeyInfo::from_der(&spki_der)
                .map_err(PkiError::build("RSA-1024 public key"))?;
            key_pem = RSA1024_KEY_PEM.to_string();
            ca.sign(&params, &spki, leaf.sig_alg)?
        } else {
            let key = Key::generate(opts.style(h).alg(h.leaf_rsa_bits()), &opts.seed, spec.id)?;
            key_pem = key.pem();
            ca.sign(&params, key.pair(), leaf.sig_alg)?
        }
    };
    let serial = serial_hex(&der)?;
    let base = format!("certs/{}", spec.id);
    let cert_rel = format!("{base}/cert.pem");
    let chain_rel = format!("{base}/chain.pem");
    let key_rel = format!("{base}/key.pem");
    dir.write(&cert_rel, pem("CERTIFICATE", &der).as_bytes())?;
    write_key(dir, &key_rel, &key_pem)?;
    let mut chain = pem("CERTIFICATE", &der);
    if spec.defect != SelfSigned {
        let mut inter = built.intermediates(&issuer_id)?;
        if spec.defect == MissingIntermediate {
            inter.remove(0);
        }
        for c in &inter {
            chain.push_str(&c.cert_pem());
        }
        if spec.defect == IncludesRoot {
            chain.push_str(&built.ca(h.root_ca())?.cert_pem());
        }
    }
    dir.write(&chain_rel, chain.as_bytes())?;
    let issuer_ca = (spec.defect != SelfSigned).then(|| issuer_id.clone());
    if let Some(ca) = &issuer_ca {
        built.manifest.issued.push(IssuedRecord {
            ca: ca.clone(),
            serial: serial.clone(),
            subject: hostnames.first().cloned().unwrap_or_default(),
            cert: cert_rel.clone(),
        });
    }
    if spec.defect == Revoked {
        revocations.revoked.push(Revocation {
            ca: issuer_id.clone(),
            serial: serial.clone(),
            revoked_at: validity
                .revoked_at()
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| PkiError::Invalid(format!("revocation time: {e}")))?,
            reason: Some("keyCompromise".into()),
        });
    }
    // The anchor to judge against: a rogue chain is judged against the real-looking G1 root.
    let anchor = if h == Hierarchy::Rogue {
        Hierarchy::G1
    } else {
        h
    };
    Ok(Entry {
        id: spec.id.into(),
        description: spec.description.into(),
        hierarchy: h.label().into(),
        role: spec.role,
        hostnames,
        cert: cert_rel,
        chain: chain_rel,
        key: key_rel,
        root: format!("ca/{}.pem", anchor.root_ca()),
        expect: spec.expect,
        violates: spec.violates.iter().map(|r| r.0.to_string()).collect(),
        checks: failing_checks(spec.id)
            .iter()
            .map(|c| c.to_string())
            .collect(),
        severity: spec.severity.map(Into::into),
        note: spec.note.map(Into::into),
        serial,
        issuer_ca,
    })
}

/// A MedMij whitelist (release2 namespace) naming `hostnames`.
pub fn whitelist_xml(hostnames: &[String], volgnummer: u64) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Whitelist xmlns=\"xmlns://afsprakenstelsel.medmij.nl/whitelist/release2/\">\n");
    s.push_str("    <Tijdstempel>2025-01-01T00:00:00Z</Tijdstempel>\n");
    s.push_str(&format!(
        "    <Volgnummer>{volgnummer}</Volgnummer>\n    <MedMijNodes>\n"
    ));
    for h in hostnames {
        s.push_str(&format!(
            "        <MedMijNode>\n            <Hostname>{h}</Hostname>\n        </MedMijNode>\n"
        ));
    }
    s.push_str("    </MedMijNodes>\n</Whitelist>\n");
    s
}
