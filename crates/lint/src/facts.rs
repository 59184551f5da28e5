//! Facts read off a certificate or CSR, once, in the form the judgment needs: no I/O and no
//! verdicts here. Names that are not valid UTF-8 are kept lossily (U+FFFD), never dropped, so a
//! hostile name is still judged and shown (printers escape control characters).

use medmij_core::ncsc::CertKey;
use x509_parser::prelude::*;

/// A name attribute's value as text, lossily when it is not UTF-8.
fn text(a: &AttributeTypeAndValue<'_>) -> String {
    match a.as_str() {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(a.attr_value().data).into_owned(),
    }
}

/// A DN as text (`CN=…, O=…`); an attribute that does not decode as its string type is shown
/// lossily instead of the whole name being lost.
pub fn dn_text(name: &X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter() {
        for a in rdn.iter() {
            let t = a.attr_type();
            let key = x509_parser::objects::oid2abbrev(t, x509_parser::objects::oid_registry())
                .map(str::to_string)
                .unwrap_or_else(|_| t.to_id_string());
            parts.push(format!("{key}={}", text(a)));
        }
    }
    parts.join(", ")
}

/// The extended key usages of a certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eku {
    /// id-kp-serverAuth.
    pub server_auth: bool,
    /// id-kp-clientAuth.
    pub client_auth: bool,
    /// anyExtendedKeyUsage.
    pub any: bool,
    /// Other purposes (dotted OIDs).
    pub other: Vec<String>,
}

/// The keyUsage bits by name (RFC 5280 §4.2.1.3), in bit order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyUsageBits(pub Vec<&'static str>);

impl KeyUsageBits {
    /// Whether the bit is set.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(&name)
    }
}

/// What the judgment needs of one certificate.
#[derive(Clone, Debug)]
pub struct CertFacts {
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Raw subject (for issuer links).
    pub subject_raw: Vec<u8>,
    /// Raw issuer.
    pub issuer_raw: Vec<u8>,
    /// Serial, hex.
    pub serial: String,
    /// Subject and issuer are the same name.
    pub self_issued: bool,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// Subject common names.
    pub common_names: Vec<String>,
    /// SAN dNSNames (as written, not lowercased).
    pub dns_names: Vec<String>,
    /// SAN iPAddresses, as text.
    pub ip_sans: Vec<String>,
    /// A subjectAltName extension is present.
    pub has_san: bool,
    /// certificatePolicies OIDs.
    pub policies: Vec<String>,
    /// extKeyUsage, when present.
    pub eku: Option<Eku>,
    /// keyUsage, when present.
    pub key_usage: Option<KeyUsageBits>,
    /// The public key as the NCSC tables name keys.
    pub key: CertKey,
    /// The SPKI algorithm OID.
    pub key_algorithm: String,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// Issuer organizationName values.
    pub issuer_organizations: Vec<String>,
    /// Issuer countryName values.
    pub issuer_countries: Vec<String>,
    /// The OIN: subject serialNumber or organizationIdentifier.
    pub oin: Option<String>,
    /// Extensions present more than once (dotted OIDs).
    pub duplicate_extensions: Vec<String>,
    /// Critical extensions the parser does not know (dotted OIDs).
    pub unknown_critical: Vec<String>,
    /// The signature algorithm (its short name, else the dotted OID).
    pub signature_algorithm: String,
}

/// Subject serialNumber (PKIoverheid carries the OIN there).
const OID_SERIAL_NUMBER: &str = "2.5.4.5";
/// organizationIdentifier (ETSI EN 319 412-1; G4 `NTRNL-…`).
const OID_ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";

/// The names and SANs a certificate and a CSR share.
fn san_facts<'a>(
    exts: impl Iterator<Item = &'a ParsedExtension<'a>>,
    dns: &mut Vec<String>,
    ips: &mut Vec<String>,
) -> bool {
    let mut has = false;
    for e in exts {
        if let ParsedExtension::SubjectAlternativeName(san) = e {
            has = true;
            for n in &san.general_names {
                match n {
                    GeneralName::DNSName(d) => dns.push((*d).to_string()),
                    GeneralName::IPAddress(b) => ips.push(ip_text(b)),
                    _ => {}
                }
            }
        }
    }
    has
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("{} bytes", b.len()),
    }
}

fn key_usage_bits(ku: &KeyUsage) -> KeyUsageBits {
    let all = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "contentCommitment"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    KeyUsageBits(all.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect())
}

impl CertFacts {
    /// Reads the facts of a certificate that parses (see [`crate::input::parse`]).
    pub fn read(der: &[u8]) -> Result<CertFacts, String> {
        Ok(CertFacts::of(der, &parse(der)?))
    }

    /// The facts of a parsed certificate (`der` is its encoding).
    pub fn of(der: &[u8], c: &X509Certificate<'_>) -> CertFacts {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
        let mut f = CertFacts {
            sha256: medmij_core::hex::encode(digest.as_ref()),
            subject: dn_text(c.subject()),
            issuer: dn_text(c.issuer()),
            subject_raw: c.subject().as_raw().to_vec(),
            issuer_raw: c.issuer().as_raw().to_vec(),
            serial: medmij_core::hex::encode(c.raw_serial()),
            self_issued: c.subject().as_raw() == c.issuer().as_raw(),
            is_ca: false,
            common_names: c.subject().iter_common_name().map(text).collect(),
            dns_names: vec![],
            ip_sans: vec![],
            has_san: false,
            policies: vec![],
            eku: None,
            key_usage: None,
            key: medmij_verify::rules::cert_key(c),
            key_algorithm: c.public_key().algorithm.algorithm.to_id_string(),
            not_before: c.validity().not_before.timestamp(),
            not_after: c.validity().not_after.timestamp(),
            issuer_organizations: c.issuer().iter_organization().map(text).collect(),
            issuer_countries: c.issuer().iter_country().map(text).collect(),
            oin: None,
            duplicate_extensions: vec![],
            unknown_critical: vec![],
            signature_algorithm: x509_parser::objects::oid2sn(
                &c.signature_algorithm.algorithm,
                x509_parser::objects::oid_registry(),
            )
            .map(str::to_string)
            .unwrap_or_else(|_| c.signature_algorithm.algorithm.to_id_string()),
        };
        for a in c.subject().iter_attributes() {
            let t = a.attr_type().to_id_string();
            if (t == OID_SERIAL_NUMBER || t == OID_ORGANIZATION_IDENTIFIER) && f.oin.is_none() {
                f.oin = Some(text(a));
            }
        }
        let exts = c.extensions();
        let mut seen: Vec<String> = Vec::new();
        for e in exts {
            let oid = e.oid.to_id_string();
            if seen.contains(&oid) {
                if !f.duplicate_extensions.contains(&oid) {
                    f.duplicate_extensions.push(oid.clone());
                }
            } else {
                seen.push(oid.clone());
            }
            if e.critical && e.parsed_extension().unsupported() {
                f.unknown_critical.push(oid);
            }
            match e.parsed_extension() {
                ParsedExtension::CertificatePolicies(p) => {
                    f.policies
                        .extend(p.iter().map(|pi| pi.policy_id.to_id_string()));
                }
                ParsedExtension::ExtendedKeyUsage(k) => {
                    f.eku = Some(Eku {
                        server_auth: k.server_auth,
                        client_auth: k.client_auth,
                        any: k.any,
                        other: k.other.iter().map(|o| o.to_id_string()).collect(),
                    })
                }
                ParsedExtension::KeyUsage(ku) => f.key_usage = Some(key_usage_bits(ku)),
                ParsedExtension::BasicConstraints(bc) => f.is_ca = bc.ca,
                _ => {}
            }
        }
        f.has_san = san_facts(
            exts.iter().map(|e| e.parsed_extension()),
            &mut f.dns_names,
            &mut f.ip_sans,
        );
        f
    }

    /// Whether this certificate's subject issued `other`.
    pub fn issued(&self, other: &CertFacts) -> bool {
        self.subject_raw == other.issuer_raw
    }

    /// A short name for messages: the first CN, else the subject DN.
    pub fn name(&self) -> &str {
        self.common_names
            .first()
            .map_or(self.subject.as_str(), String::as_str)
    }
}

/// Parses one certificate, with nothing after it.
pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok(([], c)) => Ok(c),
        Ok((rest, _)) => Err(format!("{} bytes after its end", rest.len())),
        Err(e) => Err(crate::input::explain_parse_error(&e.to_string())),
    }
}

/// What the judgment needs of a CSR (the checks that apply before ordering).
#[derive(Clone, Debug)]
pub struct CsrFacts {
    /// Subject DN.
    pub subject: String,
    /// Subject common names.
    pub common_names: Vec<String>,
    /// Requested SAN dNSNames.
    pub dns_names: Vec<String>,
    /// Requested SAN iPAddresses.
    pub ip_sans: Vec<String>,
    /// A subjectAltName is requested.
    pub has_san: bool,
    /// The public key.
    pub key: CertKey,
    /// The SPKI algorithm OID.
    pub key_algorithm: String,
    /// The CSR's self-signature verifies (proof of possession).
    pub signature_ok: bool,
}

impl CsrFacts {
    /// Reads the facts of a CSR that parses.
    pub fn read(der: &[u8]) -> Result<CsrFacts, String> {
        use x509_parser::certification_request::X509CertificationRequest;
        let r = match X509CertificationRequest::from_der(der) {
            Ok(([], r)) => r,
            Ok((rest, _)) => return Err(format!("{} bytes after its end", rest.len())),
            Err(e) => return Err(crate::input::explain_parse_error(&e.to_string())),
        };
        let info = &r.certification_request_info;
        let mut f = CsrFacts {
            subject: dn_text(&info.subject),
            common_names: info.subject.iter_common_name().map(text).collect(),
            dns_names: vec![],
            ip_sans: vec![],
            has_san: false,
            key: medmij_verify::rules::spki_key(&info.subject_pki),
            key_algorithm: info.subject_pki.algorithm.algorithm.to_id_string(),
            signature_ok: r.verify_signature().is_ok(),
        };
        if let Some(exts) = r.requested_extensions() {
            f.has_san = san_facts(exts, &mut f.dns_names, &mut f.ip_sans);
        }
        Ok(f)
    }
}
