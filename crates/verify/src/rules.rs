//! The certificate rules we add on top of webpki's path validation, each a small function over a
//! parsed certificate so that the verifier (handshake path) and the linter run the same code.
//!
//! Each returns `None` when the certificate passes, or the refusal code with a message saying
//! what was seen. Which requirement a code belongs to is [`Code::requirement`]'s business.

use crate::refusal::Code;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

/// Smallest RSA modulus accepted in a leaf (NCSC certificate-key table: RSA below 2048 bits is
/// insufficient; core.tls.301).
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
    let name = common_name(c);
    if now > v.not_after.timestamp() {
        Some((
            Code::Expired,
            format!("`{name}` expired at {}", v.not_after),
        ))
    } else if now < v.not_before.timestamp() {
        Some((
            Code::NotYetValid,
            format!("`{name}` is valid only from {}", v.not_before),
        ))
    } else {
        None
    }
}

/// The leaf's EKU must contain serverAuth, for server and client certificates alike
/// (core.tls.311); anyExtendedKeyUsage does not stand in for it.
pub fn leaf_eku_server_auth(c: &X509Certificate<'_>) -> RuleResult {
    let name = common_name(c);
    match c.extended_key_usage() {
        // CABF BR 7.1.2.7.10 forbids anyExtendedKeyUsage in a TLS leaf: it would make the
        // certificate good for every purpose, which the PKIoverheid leaves never are.
        Ok(Some(eku)) if eku.value.any && eku.value.server_auth => Some((Code::EkuMissingServerAuth, format!("`{name}` has anyExtendedKeyUsage in its EKU, which a TLS leaf must not carry (CABF BR 7.1.2.7.10)"))),
        Ok(Some(eku)) if eku.value.any => Some((Code::EkuMissingServerAuth, format!("`{name}` has only anyExtendedKeyUsage in its EKU; core.tls.311 requires serverAuth (TLS Web Server Authentication) itself"))),
        Ok(Some(eku)) if eku.value.server_auth => None,
        Ok(Some(_)) => Some((Code::EkuMissingServerAuth, format!("`{name}` has an EKU without serverAuth (TLS Web Server Authentication); core.tls.311 requires it for client certificates too"))),
        Ok(None) => Some((Code::EkuMissingServerAuth, format!("`{name}` has no EKU extension; core.tls.311 requires serverAuth"))),
        Err(e) => Some((Code::Malformed, format!("`{name}` EKU extension: {e}"))),
    }
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

/// The leaf's key (NCSC certificate-key table, core.tls.301): RSA of at least
/// [`MIN_RSA_BITS`], ECDSA on P-256/P-384/P-521, or Ed25519/Ed448. webpki checks a leaf's key
/// only when it verifies a handshake signature, so a verdict without a handshake needs this.
pub fn leaf_key(c: &X509Certificate<'_>) -> RuleResult {
    use x509_parser::public_key::PublicKey;
    let name = common_name(c);
    let alg = c.public_key().algorithm.algorithm.to_id_string();
    let why = match c.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() < MIN_RSA_BITS => format!(
            "has an RSA-{} key; at least {MIN_RSA_BITS} bits are required (NCSC: insufficient)",
            rsa.key_size()
        ),
        Ok(PublicKey::RSA(_)) => return None,
        Ok(PublicKey::EC(_)) => {
            let curve = c
                .public_key()
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" | "1.3.132.0.34" | "1.3.132.0.35" => return None,
                // NCSC 2025-05 rates brainpool curves sufficient, but rustls (and so every MedMij
                // node built on it) cannot verify a handshake signature with them.
                "1.3.36.3.3.2.8.1.1.7" | "1.3.36.3.3.2.8.1.1.11" | "1.3.36.3.3.2.8.1.1.13" => {
                    format!("has an EC key on brainpool curve {curve}; the NCSC table rates it sufficient, but rustls cannot use it in a TLS handshake, so no MedMij node could verify this peer")
                }
                other => {
                    format!("has an EC key on curve {other}, which the NCSC table does not rate sufficient")
                }
            }
        }
        _ if alg == "1.3.101.112" || alg == "1.3.101.113" => return None,
        Ok(PublicKey::DSA(_)) => "has a DSA key (NCSC: insufficient)".into(),
        _ => format!("has a key of type {alg}, which is not accepted"),
    };
    Some((Code::WeakKey, format!("`{name}` {why}")))
}

/// RFC 5280 §4.1.2.2: a serial is a positive integer of at most 20 octets. webpki accepts
/// zero and over-long serials; a CA that issues them is not conforming, and a serial that does
/// not fit the CRL index or OCSP CertID cannot be revocation-checked reliably.
pub fn serial_number(c: &X509Certificate<'_>) -> RuleResult {
    let raw = c.raw_serial();
    let name = common_name(c);
    let bad = |why: &str| {
        Some((
            Code::InvalidEncoding,
            format!("`{name}` has a serial number that {why} (RFC 5280 §4.1.2.2)"),
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
