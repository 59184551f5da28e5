//! OCSP (RFC 6960): requests, and responses checked over the exact received bytes.
//!
//! A response is used only if it is `successful`, names our certificate, is signed by the issuer
//! or by a responder the issuer delegated to (id-kp-OCSPSigning, issued by the issuer, valid
//! now), and is fresh (thisUpdate not in the future, nextUpdate not in the past).

use crate::crl::normalize_serial;
use crate::der_time::rfc3339;
use crate::sigverify::{self, contents, sequence_elements, SigError};
use aws_lc_rs::digest;
use der::{Decode, Encode};
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, ResponderId,
};

/// Clock skew tolerated on thisUpdate/nextUpdate: five minutes, the usual allowance for
/// unsynchronised clocks (as in Kerberos and most OCSP clients).
pub const SKEW_SECONDS: i64 = 300;
/// How long a response without nextUpdate is used after its thisUpdate (RFC 6960 §4.2.2.1 leaves
/// it to the client).
pub const MAX_AGE_WITHOUT_NEXT_UPDATE: i64 = 3600;
use crate::oids::{KP_OCSP_SIGNING as OID_KP_OCSP_SIGNING, OCSP_NOCHECK as OID_OCSP_NOCHECK};
use crate::oids::{
    SHA1 as OID_SHA1, SHA256 as OID_SHA256, SHA384 as OID_SHA384, SHA512 as OID_SHA512,
};

/// A certificate and its issuer, the pieces OCSP needs.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    /// The certificate's serial (raw INTEGER contents).
    pub serial: &'a [u8],
    /// The issuer's subject Name (raw DER).
    pub issuer_name: &'a [u8],
    /// The issuer's SubjectPublicKeyInfo (DER).
    pub issuer_spki: &'a [u8],
}

/// The certificate's status.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    /// Not revoked.
    Good,
    /// Revoked at this time.
    Revoked {
        /// Revocation time (Unix seconds).
        at: i64,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// A validated answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The status.
    pub status: Status,
    /// thisUpdate.
    pub this_update: i64,
    /// nextUpdate, or thisUpdate + [`MAX_AGE_WITHOUT_NEXT_UPDATE`].
    pub valid_until: i64,
    /// `issuer` or `delegated: CN`.
    pub signer: String,
    /// The delegated responder's certificate, when the issuer did not sign the answer itself.
    pub responder: Option<Responder>,
}

/// A delegated responder's certificate, as the engine needs it to check the responder's own
/// revocation (RFC 6960 §4.2.2.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Responder {
    /// Subject CN.
    pub name: String,
    /// Serial (raw INTEGER contents).
    pub serial: Vec<u8>,
    /// Its CRL distribution points.
    pub crl_urls: Vec<String>,
    /// It carries id-pkix-ocsp-nocheck: clients need not check its revocation.
    pub nocheck: bool,
}

/// Why a response cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OcspError {
    /// Not a DER OCSPResponse / BasicOCSPResponse.
    #[error("malformed OCSP response: {0}")]
    Malformed(String),
    /// responseStatus other than successful.
    #[error("OCSP responder answered {0}")]
    NotSuccessful(String),
    /// No SingleResponse for this certificate.
    #[error("OCSP response does not cover serial {0}")]
    NotForThisCertificate(String),
    /// Signed by a key that is neither the issuer nor an authorised responder.
    #[error("OCSP response signer is not authorised: {0}")]
    UnauthorisedSigner(String),
    /// The signature is wrong or uses a refused algorithm.
    #[error("OCSP response signature: {0}")]
    Signature(SigError),
    /// thisUpdate in the future.
    #[error("OCSP response thisUpdate {0} is in the future")]
    NotYetValid(String),
    /// Past nextUpdate.
    #[error("OCSP response expired at {0}")]
    Stale(String),
}

fn sha1(b: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, b)
        .as_ref()
        .to_vec()
}

fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let parts = sequence_elements(spki)?;
    let bits = contents(parts.get(1)?)?;
    bits.get(1..)
}

/// A DER OCSPRequest for one certificate (SHA-1 CertID: what every responder understands).
pub fn request(subject: &Subject<'_>) -> Result<Vec<u8>, OcspError> {
    let key = spki_key_bits(subject.issuer_spki)
        .ok_or_else(|| OcspError::Malformed("issuer key".into()))?;
    let cert_id = x509_ocsp::CertId {
        hash_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
            oid: der::asn1::ObjectIdentifier::new_unwrap(OID_SHA1),
            parameters: Some(der::Any::null()),
        },
        issuer_name_hash: der::asn1::OctetString::new(sha1(subject.issuer_name))
            .map_err(|e| OcspError::Malformed(e.to_string()))?,
        issuer_key_hash: der::asn1::OctetString::new(sha1(key))
            .map_err(|e| OcspError::Malformed(e.to_string()))?,
        serial_number: x509_cert::serial_number::SerialNumber::new(normalize_serial(
            subject.serial,
        ))
        .map_err(|e| OcspError::Malformed(e.to_string()))?,
    };
    let req = OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![x509_ocsp::Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    req.to_der()
        .map_err(|e| OcspError::Malformed(e.to_string()))
}

fn gt_secs(t: &x509_ocsp::OcspGeneralizedTime) -> i64 {
    i64::try_from(t.0.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Validates a DER OCSPResponse for `subject` at `now` (Unix seconds).
pub fn validate(response_der: &[u8], subject: &Subject<'_>, now: i64) -> Result<Answer, OcspError> {
    let resp =
        OcspResponse::from_der(response_der).map_err(|e| OcspError::Malformed(e.to_string()))?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(OcspError::NotSuccessful(format!(
            "{:?}",
            resp.response_status
        )));
    }
    let bytes = resp
        .response_bytes
        .ok_or_else(|| OcspError::Malformed("successful response without responseBytes".into()))?;
    if bytes.response_type.to_string() != crate::oids::OCSP_BASIC {
        return Err(OcspError::Malformed(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let basic_der = bytes.response.as_bytes();
    let basic =
        BasicOcspResponse::from_der(basic_der).map_err(|e| OcspError::Malformed(e.to_string()))?;
    // The signed bytes exactly as received.
    let raw = sequence_elements(basic_der)
        .ok_or_else(|| OcspError::Malformed("BasicOCSPResponse".into()))?;
    let (tbs_raw, alg_raw, sig_raw) = match raw.as_slice() {
        [t, a, s, ..] => (*t, *a, *s),
        _ => return Err(OcspError::Malformed("BasicOCSPResponse elements".into())),
    };
    let alg = contents(alg_raw).ok_or_else(|| OcspError::Malformed("signatureAlgorithm".into()))?;
    let sig = contents(sig_raw)
        .and_then(|b| b.get(1..))
        .ok_or_else(|| OcspError::Malformed("signature".into()))?;

    let issuer_key = spki_key_bits(subject.issuer_spki)
        .ok_or_else(|| OcspError::Malformed("issuer key".into()))?;
    let issuer_key_hash = sha1(issuer_key);
    let by_issuer = match &basic.tbs_response_data.responder_id {
        ResponderId::ByKey(h) => h.as_bytes() == issuer_key_hash.as_slice(),
        ResponderId::ByName(n) => n
            .to_der()
            .map(|d| d == subject.issuer_name)
            .unwrap_or(false),
    };
    let (signer_spki, signer, responder) = if by_issuer {
        (subject.issuer_spki.to_vec(), "issuer".to_string(), None)
    } else {
        // The certificates as received: `[0] EXPLICIT SEQUENCE OF Certificate`, the fourth element.
        let certs_raw: Vec<&[u8]> = raw
            .get(3)
            .filter(|e| e[0] == 0xa0)
            .and_then(|e| contents(e))
            .and_then(sequence_elements)
            .unwrap_or_default();
        delegated_signer(
            &basic.tbs_response_data.responder_id,
            &certs_raw,
            subject,
            now,
        )?
    };
    sigverify::verify(alg, &signer_spki, tbs_raw, sig).map_err(OcspError::Signature)?;

    let serial = normalize_serial(subject.serial);
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| {
            let id = &r.cert_id;
            // CertID hashes (RFC 6960 §4.1.1): SHA-1 is what every responder uses; SHA-2
            // appears in responders configured after RFC 6960's errata. Anything else cannot be
            // matched, so the response is not for us (never fatal for a staple).
            let alg = match id.hash_algorithm.oid.to_string().as_str() {
                OID_SHA1 => None,
                OID_SHA256 => Some(&digest::SHA256),
                OID_SHA384 => Some(&digest::SHA384),
                OID_SHA512 => Some(&digest::SHA512),
                _ => return false,
            };
            let (name_hash, key_hash) = match alg {
                None => (sha1(subject.issuer_name), issuer_key_hash.clone()),
                Some(a) => (
                    digest::digest(a, subject.issuer_name).as_ref().to_vec(),
                    digest::digest(a, issuer_key).as_ref().to_vec(),
                ),
            };
            normalize_serial(id.serial_number.as_bytes()) == serial
                && id.issuer_name_hash.as_bytes() == name_hash
                && id.issuer_key_hash.as_bytes() == key_hash
        })
        .ok_or_else(|| {
            OcspError::NotForThisCertificate(serial.iter().map(|b| format!("{b:02x}")).collect())
        })?;
    let this_update = gt_secs(&single.this_update);
    if this_update > now + SKEW_SECONDS {
        return Err(OcspError::NotYetValid(rfc3339(this_update)));
    }
    let valid_until = single
        .next_update
        .as_ref()
        .map(gt_secs)
        .unwrap_or(this_update + MAX_AGE_WITHOUT_NEXT_UPDATE);
    if now > valid_until + SKEW_SECONDS {
        return Err(OcspError::Stale(rfc3339(valid_until)));
    }
    let status = match &single.cert_status {
        CertStatus::Good(_) => Status::Good,
        CertStatus::Revoked(info) => Status::Revoked {
            at: gt_secs(&info.revocation_time),
        },
        CertStatus::Unknown(_) => Status::Unknown,
    };
    Ok(Answer {
        status,
        this_update,
        valid_until,
        signer,
        responder,
    })
}

/// Finds the delegated responder certificate in the response and checks it (RFC 6960 §4.2.2.2).
fn delegated_signer(
    responder_id: &ResponderId,
    certs: &[&[u8]],
    subject: &Subject<'_>,
    now: i64,
) -> Result<(Vec<u8>, String, Option<Responder>), OcspError> {
    for der in certs.iter().copied() {
        let Ok((_, x)) = x509_parser::parse_x509_certificate(der) else {
            return Err(OcspError::Malformed(
                "a certificate in the response does not parse".into(),
            ));
        };
        let matches = match responder_id {
            ResponderId::ByKey(h) => {
                h.as_bytes() == sha1(x.public_key().subject_public_key.data.as_ref()).as_slice()
            }
            ResponderId::ByName(n) => n
                .to_der()
                .map(|d| d == x.subject().as_raw())
                .unwrap_or(false),
        };
        if !matches {
            continue;
        }
        let spki = x.public_key().raw.to_vec();
        let cn = x
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            .unwrap_or("?")
            .to_string();
        if x.issuer().as_raw() != subject.issuer_name {
            return Err(OcspError::UnauthorisedSigner(format!(
                "responder `{cn}` is not issued by the certificate's issuer"
            )));
        }
        let eku_ok = x
            .extended_key_usage()
            .ok()
            .flatten()
            .map(|e| {
                e.value.ocsp_signing
                    || e.value
                        .other
                        .iter()
                        .any(|o| o.to_id_string() == OID_KP_OCSP_SIGNING)
            })
            .unwrap_or(false);
        if !eku_ok {
            return Err(OcspError::UnauthorisedSigner(format!(
                "responder `{cn}` lacks id-kp-OCSPSigning"
            )));
        }
        let v = x.validity();
        if now < v.not_before.timestamp() || now > v.not_after.timestamp() {
            return Err(OcspError::UnauthorisedSigner(format!(
                "responder `{cn}` is not valid now"
            )));
        }
        // The responder certificate must carry the issuer's signature (over its exact bytes).
        let parts = sequence_elements(der)
            .ok_or_else(|| OcspError::Malformed("responder certificate".into()))?;
        let (tbs, alg, sig) = match parts.as_slice() {
            [t, a, s] => (*t, *a, *s),
            _ => return Err(OcspError::Malformed("responder certificate".into())),
        };
        let alg = contents(alg)
            .ok_or_else(|| OcspError::Malformed("responder signatureAlgorithm".into()))?;
        let sig = contents(sig)
            .and_then(|b| b.get(1..))
            .ok_or_else(|| OcspError::Malformed("responder signature".into()))?;
        sigverify::verify(alg, subject.issuer_spki, tbs, sig).map_err(|e| {
            OcspError::UnauthorisedSigner(format!("responder `{cn}` not signed by the issuer: {e}"))
        })?;
        let nocheck = x
            .extensions()
            .iter()
            .any(|e| e.oid.to_id_string() == OID_OCSP_NOCHECK);
        let responder = Responder {
            name: cn.clone(),
            serial: x.raw_serial().to_vec(),
            crl_urls: crate::verifier::crl_urls(&x),
            nocheck,
        };
        return Ok((spki, format!("delegated: {cn}"), Some(responder)));
    }
    Err(OcspError::UnauthorisedSigner(
        "signer is neither the issuer nor a responder certificate included in the response".into(),
    ))
}
