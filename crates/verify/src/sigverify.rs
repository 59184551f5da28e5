//! Signature checks over exact received bytes (CRL `tbsCertList`, OCSP `tbsResponseData`).
//!
//! Never re-encode what a peer sent: a responder's non-canonical DER would then fail (or, worse,
//! a re-encoding could pass where the original would not). These functions take the raw TBS
//! slice, the raw AlgorithmIdentifier and the issuer's SubjectPublicKeyInfo.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

/// Why a signature could not be checked or is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// The algorithm is not one we accept (SHA-1, MD5, DSA, unknown).
    #[error("signature algorithm {0} is not accepted")]
    Unsupported(String),
    /// The signature does not verify.
    #[error("signature does not verify with the issuer's key")]
    Invalid,
    /// The issuer key does not parse.
    #[error("issuer public key: {0}")]
    BadKey(String),
}

// DER of the AlgorithmIdentifier contents (OID + parameters), as the CA/B and RFC 4055 encode them.
const RSA_SHA256: &str = "06092a864886f70d01010b";
const RSA_SHA384: &str = "06092a864886f70d01010c";
const RSA_SHA512: &str = "06092a864886f70d01010d";
const ECDSA_SHA256: &str = "06082a8648ce3d040302";
const ECDSA_SHA384: &str = "06082a8648ce3d040303";
const ECDSA_SHA512: &str = "06082a8648ce3d040304";
const RSA_PSS: &str = "06092a864886f70d01010a";
const ED25519: &str = "06032b6570";

use medmij_core::hex::encode as hex;

/// Picks the verification algorithm for an AlgorithmIdentifier (contents, without the outer
/// SEQUENCE header) and the issuer key type.
fn algorithm(
    alg_id: &[u8],
    ec_curve_p384: bool,
) -> Result<&'static dyn VerificationAlgorithm, SigError> {
    let h = hex(alg_id);
    // RSA PKCS#1 may carry NULL parameters (0500) or none.
    let strip_null = h.strip_suffix("0500").unwrap_or(&h);
    Ok(match strip_null {
        RSA_SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        RSA_SHA384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        RSA_SHA512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        ECDSA_SHA256 if ec_curve_p384 => &signature::ECDSA_P384_SHA256_ASN1,
        ECDSA_SHA256 => &signature::ECDSA_P256_SHA256_ASN1,
        ECDSA_SHA384 if ec_curve_p384 => &signature::ECDSA_P384_SHA384_ASN1,
        ECDSA_SHA384 => &signature::ECDSA_P256_SHA384_ASN1,
        ECDSA_SHA512 if ec_curve_p384 => &signature::ECDSA_P384_SHA512_ASN1,
        ECDSA_SHA512 => &signature::ECDSA_P256_SHA512_ASN1,
        ED25519 => &signature::ED25519,
        _ if h.starts_with(RSA_PSS) => {
            // Accept the three RFC 4055 parameter sets whose hash, MGF1 hash and salt agree.
            let pss: &[u8] = alg_id;
            let ids = [
                (
                    rustls_pki_types::alg_id::RSA_PSS_SHA256,
                    &signature::RSA_PSS_2048_8192_SHA256 as &'static dyn VerificationAlgorithm,
                ),
                (
                    rustls_pki_types::alg_id::RSA_PSS_SHA384,
                    &signature::RSA_PSS_2048_8192_SHA384,
                ),
                (
                    rustls_pki_types::alg_id::RSA_PSS_SHA512,
                    &signature::RSA_PSS_2048_8192_SHA512,
                ),
            ];
            return ids
                .iter()
                .find(|(id, _)| id.as_ref() == pss)
                .map(|(_, a)| *a)
                .ok_or_else(|| SigError::Unsupported(format!("RSASSA-PSS with parameters {h}")));
        }
        _ => return Err(SigError::Unsupported(oid_text(alg_id))),
    })
}

fn oid_text(alg_id: &[u8]) -> String {
    der::asn1::ObjectIdentifier::from_der_partial(alg_id)
        .map(|o| o.to_string())
        .unwrap_or_else(|| hex(alg_id))
}

trait PartialOid {
    fn from_der_partial(b: &[u8]) -> Option<der::asn1::ObjectIdentifier>;
}

impl PartialOid for der::asn1::ObjectIdentifier {
    fn from_der_partial(b: &[u8]) -> Option<der::asn1::ObjectIdentifier> {
        if b.len() < 2 || b[0] != 0x06 || usize::from(b[1]) + 2 > b.len() {
            return None;
        }
        der::asn1::ObjectIdentifier::from_bytes(&b[2..2 + usize::from(b[1])]).ok()
    }
}

/// Verifies `signature` over `tbs` with the key in `issuer_spki_der` (a full SubjectPublicKeyInfo).
/// `alg_id` is the AlgorithmIdentifier's contents (OID and parameters).
pub fn verify(
    alg_id: &[u8],
    issuer_spki_der: &[u8],
    tbs: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SigError> {
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der_spki(issuer_spki_der)
        .map_err(|e| SigError::BadKey(e.to_string()))?;
    let p384 = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string() == crate::oids::CURVE_P384)
        .unwrap_or(false);
    let alg = algorithm(alg_id, p384)?;
    UnparsedPublicKey::new(alg, spki.subject_public_key.data.as_ref())
        .verify(tbs, signature_bytes)
        .map_err(|_| SigError::Invalid)
}

trait FromDerSpki<'a>: Sized {
    fn from_der_spki(b: &'a [u8]) -> x509_parser::prelude::X509Result<'a, Self>;
}

impl<'a> FromDerSpki<'a> for x509_parser::x509::SubjectPublicKeyInfo<'a> {
    fn from_der_spki(b: &'a [u8]) -> x509_parser::prelude::X509Result<'a, Self> {
        use x509_parser::prelude::FromDer;
        x509_parser::x509::SubjectPublicKeyInfo::from_der(b)
    }
}

/// Splits a DER element into (header length, total length), checking it fits in `b`.
pub fn tlv_len(b: &[u8]) -> Option<(usize, usize)> {
    if b.len() < 2 {
        return None;
    }
    let (hdr, len): (usize, usize) = match b[1] {
        l if l < 0x80 => (2, usize::from(l)),
        0x81 => (3, usize::from(*b.get(2)?)),
        0x82 => (4, usize::from(*b.get(2)?) << 8 | usize::from(*b.get(3)?)),
        0x83 => (
            5,
            usize::from(*b.get(2)?) << 16 | usize::from(*b.get(3)?) << 8 | usize::from(*b.get(4)?),
        ),
        0x84 => (
            6,
            usize::from(*b.get(2)?) << 24
                | usize::from(*b.get(3)?) << 16
                | usize::from(*b.get(4)?) << 8
                | usize::from(*b.get(5)?),
        ),
        _ => return None,
    };
    let total = hdr.checked_add(len)?;
    (total <= b.len()).then_some((hdr, total))
}

/// The elements of a DER SEQUENCE, as raw slices (header included), in order.
pub fn sequence_elements(b: &[u8]) -> Option<Vec<&[u8]>> {
    if b.first()? != &0x30 {
        return None;
    }
    let (hdr, total) = tlv_len(b)?;
    elements(&b[hdr..total])
}

/// The DER elements that make up `content` (the contents of a constructed element of any tag),
/// each with its header; `None` if they do not exactly fill it.
pub fn elements(content: &[u8]) -> Option<Vec<&[u8]>> {
    let mut rest = content;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (_, t) = tlv_len(rest)?;
        out.push(&rest[..t]);
        rest = &rest[t..];
    }
    Some(out)
}

/// The contents of a DER element (without its header).
pub fn contents(b: &[u8]) -> Option<&[u8]> {
    let (hdr, total) = tlv_len(b)?;
    Some(&b[hdr..total])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_parsing_refuses_truncation_and_accepts_long_forms() {
        assert_eq!(tlv_len(&[0x30, 0x02, 1, 2]), Some((2, 4)));
        assert_eq!(tlv_len(&[0x30, 0x03, 1, 2]), None);
        assert_eq!(tlv_len(&[0x30, 0x81, 0x01, 9]), Some((3, 4)));
        assert_eq!(tlv_len(&[0x30, 0x85, 0, 0, 0, 0, 1]), None);
        assert_eq!(
            sequence_elements(&[0x30, 0x04, 0x02, 0x01, 0x05, 0x05]),
            None
        );
        assert_eq!(
            sequence_elements(&[0x30, 0x05, 0x02, 0x01, 0x05, 0x05, 0x00]).map(|v| v.len()),
            Some(2)
        );
    }

    #[test]
    fn sha1_and_unknown_algorithms_are_refused() {
        // sha1WithRSAEncryption
        let e = algorithm(
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
            ],
            false,
        )
        .err()
        .unwrap();
        assert!(
            matches!(e, SigError::Unsupported(ref s) if s.contains("1.2.840.113549.1.1.5")),
            "{e:?}"
        );
    }
}
