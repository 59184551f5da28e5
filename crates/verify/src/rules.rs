//! The certificate rules we add on top of webpki's path validation, each a small function over a
//! parsed certificate so that the verifier (handshake path) and the linter run the same code.
//!
//! Each returns `None` when the certificate passes, or the refusal code with a message saying
//! what was seen. Which requirement a code belongs to is [`Code::requirement`]'s business.

use crate::oids;
use crate::refusal::Code;
use medmij_core::ncsc::{self, CertKey, Confidence, Item, Level, NcscVersion};
use medmij_core::wire::NamedGroup;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

/// Smallest RSA modulus accepted in a leaf: what the NCSC certificate-key table (both editions)
/// and rustls agree on; [`leaf_key`] derives it from the table.
pub const MIN_RSA_BITS: usize = 2048;

/// RFC 5280 §4.1.2.2: serial numbers are at most 20 octets.
pub const MAX_SERIAL_OCTETS: usize = 20;

/// A rule's verdict on one certificate: `None` passes.
pub type RuleResult = Option<(Code, String)>;

/// The subject CN, or the whole DN when there is none; control characters are left to the
/// printers (every human-readable output escapes them).
pub fn common_name(c: &X509Certificate<'_>) -> String {
    c.subject()
        .iter_common_name()
        .next()
        .and_then(|n| n.as_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| c.subject().to_string())
}

/// notBefore/notAfter against `now` (core.tls.311: a valid certificate).
pub fn validity(c: &X509Certificate<'_>, now: i64) -> RuleResult {
    let v = c.validity();
    if now > v.not_after.timestamp() {
        Some((
            Code::Expired,
            format!("`{}` expired at {}", common_name(c), v.not_after),
        ))
    } else if now < v.not_before.timestamp() {
        Some((
            Code::NotYetValid,
            format!("`{}` is valid only from {}", common_name(c), v.not_before),
        ))
    } else {
        None
    }
}

/// The leaf's EKU must contain serverAuth, for server and client certificates alike
/// (core.tls.311); anyExtendedKeyUsage does not stand in for it.
pub fn leaf_eku_server_auth(c: &X509Certificate<'_>) -> RuleResult {
    let why = match c.extended_key_usage() {
        Ok(Some(eku)) if eku.value.server_auth && !eku.value.any => return None,
        // CABF BR 7.1.2.7.10 forbids anyExtendedKeyUsage in a TLS leaf: it would make the
        // certificate good for every purpose, which the PKIoverheid leaves never are.
        Ok(Some(eku)) if eku.value.any && eku.value.server_auth => "has anyExtendedKeyUsage in its EKU, which a TLS leaf must not carry (CABF BR 7.1.2.7.10)".to_string(),
        Ok(Some(eku)) if eku.value.any => "has only anyExtendedKeyUsage in its EKU; MedMij requires serverAuth (TLS Web Server Authentication) itself".to_string(),
        Ok(Some(_)) => "has an EKU without serverAuth (TLS Web Server Authentication); MedMij requires it for client certificates too".to_string(),
        Ok(None) => "has no EKU extension; MedMij requires serverAuth".to_string(),
        Err(e) => return Some((Code::Malformed, format!("`{}` EKU extension: {e}", common_name(c)))),
    };
    Some((
        Code::EkuMissingServerAuth,
        format!("`{}` {why}", common_name(c)),
    ))
}

/// A leaf must not be able to sign certificates (RFC 5280 §4.2.1.3: keyCertSign only with
/// cA=TRUE); webpki accepts such a leaf.
pub fn leaf_not_a_signer(c: &X509Certificate<'_>) -> RuleResult {
    match c.key_usage() {
        Ok(Some(ku)) if ku.value.key_cert_sign() => Some((
            Code::LeafKeyCertSign,
            format!(
                "`{}` is an end-entity certificate with keyUsage keyCertSign (RFC 5280 §4.2.1.3)",
                common_name(c)
            ),
        )),
        _ => None,
    }
}

/// The leaf's key as the NCSC tables name keys.
pub fn cert_key(c: &X509Certificate<'_>) -> CertKey {
    spki_key(c.public_key())
}

/// A public key as the NCSC tables name keys: of a certificate, or of a CSR before ordering.
pub fn spki_key(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> CertKey {
    use x509_parser::public_key::PublicKey;
    let alg = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => CertKey::Rsa {
            bits: u32::try_from(rsa.key_size()).unwrap_or(u32::MAX),
        },
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            let group = match curve.as_str() {
                oids::CURVE_P256 => NamedGroup::SECP256R1,
                oids::CURVE_P384 => NamedGroup::SECP384R1,
                oids::CURVE_P521 => NamedGroup::SECP521R1,
                oids::CURVE_P224 => NamedGroup::SECP224R1,
                oids::CURVE_BRAINPOOL_P256 => NamedGroup::BRAINPOOLP256R1,
                oids::CURVE_BRAINPOOL_P384 => NamedGroup::BRAINPOOLP384R1,
                oids::CURVE_BRAINPOOL_P512 => NamedGroup::BRAINPOOLP512R1,
                _ => return CertKey::Other,
            };
            CertKey::Ec { curve: group }
        }
        Ok(PublicKey::DSA(_)) => CertKey::Dsa { bits: 0 },
        _ if alg == oids::ED25519 => CertKey::Ed25519,
        _ if alg == oids::ED448 => CertKey::Ed448,
        _ => CertKey::Other,
    }
}

/// Whether rustls (aws-lc-rs) can verify a handshake signature made with this key: RSA 2048
/// to 8192 bits, ECDSA on P-256, P-384, P-521, Ed25519. A key outside that set cannot take part
/// in a MedMij TLS connection whatever the NCSC table says of it.
pub fn rustls_can_use(k: CertKey) -> bool {
    match k {
        // rustls-webpki's RSA verification accepts 2048 to 8192 bits.
        CertKey::Rsa { bits } => {
            usize::try_from(bits).is_ok_and(|b| (MIN_RSA_BITS..=8192).contains(&b))
        }
        CertKey::Ec { curve } => matches!(
            curve,
            NamedGroup::SECP256R1 | NamedGroup::SECP384R1 | NamedGroup::SECP521R1
        ),
        CertKey::Ed25519 => true,
        _ => false,
    }
}

/// The leaf's key (core.tls.301), judged by the profile's NCSC edition ([`ncsc::classify`]):
/// refused when the table rates it insufficient (confirmed), or when rustls cannot use it at
/// all (brainpool and Ed448, which 2025-05 rates sufficient; secp224r1, DSA). A key the table
/// rates phase-out or sufficient is accepted on the handshake path (real G1 leaves are
/// RSA-2048, phase-out under 2025-05); the linter and scanner report those levels. webpki checks
/// a leaf's key only when it verifies a handshake signature, so a verdict without a handshake
/// needs this.
pub fn leaf_key(c: &X509Certificate<'_>, edition: NcscVersion) -> RuleResult {
    let why = key_weakness(
        cert_key(c),
        &c.public_key().algorithm.algorithm.to_id_string(),
        edition,
    )?;
    Some((Code::WeakKey, format!("`{}` {why}", common_name(c))))
}

/// Why a key is refused under `edition` (see [`leaf_key`]), or `None`: shared by the handshake
/// and the linter's CSR check. `algorithm` is the SPKI algorithm OID, named for unknown keys.
pub fn key_weakness(key: CertKey, algorithm: &str, edition: NcscVersion) -> Option<String> {
    let rated = ncsc::classify(edition, Item::CertKey(key));
    let describe = describe_key(key, algorithm);
    if rated.level == Level::Insufficient && rated.confidence == Confidence::Confirmed {
        Some(format!(
            "has {describe}, which NCSC {} rates insufficient ({})",
            edition_label(edition),
            rated.source
        ))
    } else if !rustls_can_use(key) {
        Some(format!(
            "has {describe}; the NCSC table rates it {}, but rustls cannot use it in a TLS handshake, so no MedMij node could verify this peer",
            rated.level
        ))
    } else {
        None
    }
}

/// A key in words (`an RSA-2048 key`).
pub fn describe_key(key: CertKey, algorithm: &str) -> String {
    match key {
        CertKey::Rsa { bits } => format!("an RSA-{bits} key"),
        CertKey::Ec { curve } => format!(
            "an EC key on {}",
            curve.name().unwrap_or("an unnamed curve")
        ),
        CertKey::Ed25519 => "an Ed25519 key".into(),
        CertKey::Ed448 => "an Ed448 key".into(),
        CertKey::Dsa { .. } => "a DSA key".into(),
        _ => format!("a key of type {algorithm}"),
    }
}

fn edition_label(v: NcscVersion) -> &'static str {
    match v {
        NcscVersion::V2_1 => "v2.1",
        _ => "2025-05",
    }
}

/// RFC 5280 §4.1.2.2: a serial is a positive integer of at most 20 octets. webpki accepts
/// zero and over-long serials; a CA that issues them is not conforming, and a serial that does
/// not fit the CRL index or OCSP CertID cannot be revocation-checked reliably.
pub fn serial_number(c: &X509Certificate<'_>) -> RuleResult {
    let raw = c.raw_serial();
    let bad = |why: &str| {
        Some((
            Code::InvalidEncoding,
            format!(
                "`{}` has a serial number that {why} (RFC 5280 §4.1.2.2)",
                common_name(c)
            ),
        ))
    };
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        return bad("is negative");
    }
    let value = crate::crl::normalize_serial(raw);
    if value.iter().all(|b| *b == 0) {
        return bad("is zero");
    }
    if raw.len() > MAX_SERIAL_OCTETS {
        return bad(&format!(
            "is {} octets long; at most {MAX_SERIAL_OCTETS} are allowed",
            raw.len()
        ));
    }
    None
}

/// RFC 5280 §4.1.2.4 / §4.1.2.6: every attribute of the subject and issuer names that is a
/// UTF8String, PrintableString or BMPString must decode as one. A name that does not decode
/// cannot be compared or shown faithfully.
pub fn name_strings(c: &X509Certificate<'_>) -> RuleResult {
    for (which, name) in [("subject", c.subject()), ("issuer", c.issuer())] {
        for rdn in name.iter() {
            for atv in rdn.iter() {
                let v = atv.attr_value();
                let ok = match v.tag() {
                    Tag::Utf8String => std::str::from_utf8(v.data).is_ok(),
                    Tag::PrintableString => v
                        .data
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(b)),
                    Tag::BmpString => {
                        v.data.len() % 2 == 0
                            && char::decode_utf16(
                                v.data
                                    .chunks_exact(2)
                                    .map(|p| u16::from_be_bytes([p[0], p[1]])),
                            )
                            .all(|r| r.is_ok())
                    }
                    _ => true,
                };
                if !ok {
                    return Some((
                        Code::InvalidEncoding,
                        format!(
                            "`{}`: an attribute ({}) of the {which} name is not a valid {:?} (RFC 5280 §4.1.2.4)",
                            common_name(c),
                            atv.attr_type().to_id_string(),
                            v.tag()
                        ),
                    ));
                }
            }
        }
    }
    None
}

/// Backchannel certificates never carry a wildcard: whitelist hostnames cannot be wildcards and
/// the PKIoverheid G4 CPS forbids them (core.tls.314).
pub fn no_wildcard(c: &X509Certificate<'_>, sans: &[String]) -> RuleResult {
    let cn_wild = c
        .subject()
        .iter_common_name()
        .filter_map(|n| n.as_str().ok())
        .any(|n| n.contains('*'));
    let wild: Vec<&str> = sans
        .iter()
        .filter(|s| s.contains('*'))
        .map(String::as_str)
        .collect();
    if wild.is_empty() && !cn_wild {
        return None;
    }
    Some((
        Code::WildcardName,
        format!(
            "`{}` has a wildcard name ({}); backchannel certificates name each host exactly (whitelist, PKIoverheid G4)",
            common_name(c),
            if wild.is_empty() {
                "in the subject CN".to_string()
            } else {
                wild.join(", ")
            }
        ),
    ))
}
