//! The OCSP responder of the test PKI (RFC 6960): answers from the current revocation state,
//! signed by the issuing CA or by its delegated responder, with thisUpdate/nextUpdate and the
//! request's nonce echoed.

use crate::ca::LoadedCa;
use crate::error::{PkiError, Result};
use crate::keys::{Key, SigAlg};
use crate::store::{hex, pem_blocks, Manifest, PkiDir, RevocationState};
use aws_lc_rs::digest;
use der::asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, ResponderId,
    ResponseData, RevokedInfo, SingleResponse,
};

const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_PKIX_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

/// How long an OCSP answer is valid (nextUpdate - thisUpdate).
pub const OCSP_VALIDITY: time::Duration = time::Duration::hours(24);

struct CaOcsp {
    id: String,
    sha1: (Vec<u8>, Vec<u8>),
    sha256: (Vec<u8>, Vec<u8>),
    signer: Key,
    signer_cert: Option<x509_cert::Certificate>,
    sig_alg: SigAlg,
}

/// The responder for every CA of a PKI directory.
pub struct Responder {
    cas: Vec<CaOcsp>,
    manifest: Manifest,
}

/// What the responder said, for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A signed response with these (serial, status) pairs.
    Signed(Vec<(String, &'static str)>),
    /// An error status (malformedRequest, unauthorized, ...).
    Error(&'static str),
}

impl Responder {
    /// Loads every CA's hashes and signing key.
    pub fn load(dir: &PkiDir) -> Result<Responder> {
        let manifest = dir.manifest()?;
        let mut cas = Vec::new();
        for rec in &manifest.cas {
            let ca = LoadedCa::load(dir, rec)?;
            let (_, x) = x509_parser::parse_x509_certificate(&ca.cert_der)
                .map_err(|e| PkiError::Invalid(format!("CA `{}`: {e}", rec.id)))?;
            let name = x.tbs_certificate.subject.as_raw();
            let key = x.public_key().subject_public_key.data.as_ref();
            let h = |alg: &'static digest::Algorithm, d: &[u8]| {
                digest::digest(alg, d).as_ref().to_vec()
            };
            let (signer, signer_cert) = match &rec.ocsp_responder {
                Some(r) => {
                    let der = pem_blocks(&dir.read_string(&r.cert)?, "CERTIFICATE")?
                        .into_iter()
                        .next()
                        .ok_or_else(|| PkiError::Invalid(format!("{}: empty", r.cert)))?;
                    let cert = x509_cert::Certificate::from_der(&der)
                        .map_err(PkiError::der("OCSP responder certificate"))?;
                    (Key::from_pem(&dir.read_string(&r.key)?)?, Some(cert))
                }
                None => (ca.key, None),
            };
            let sig_alg = match (rec.sig_alg, signer.alg()) {
                (SigAlg::RsaPssSha512, crate::keys::KeyAlg::Rsa(_)) => SigAlg::RsaPssSha512,
                _ => signer.default_sig_alg(),
            };
            cas.push(CaOcsp {
                id: rec.id.clone(),
                sha1: (
                    h(&digest::SHA1_FOR_LEGACY_USE_ONLY, name),
                    h(&digest::SHA1_FOR_LEGACY_USE_ONLY, key),
                ),
                sha256: (h(&digest::SHA256, name), h(&digest::SHA256, key)),
                signer,
                signer_cert,
                sig_alg,
            });
        }
        Ok(Responder { cas, manifest })
    }

    /// Answers a DER OCSP request. Never fails: bad input gets an OCSP error status.
    pub fn respond(
        &self,
        request_der: &[u8],
        state: &RevocationState,
        now: OffsetDateTime,
    ) -> (Vec<u8>, Answer) {
        match self.try_respond(request_der, state, now) {
            Ok(r) => r,
            Err(status) => {
                let resp = match status {
                    "malformedRequest" => OcspResponse::malformed_request(),
                    "unauthorized" => OcspResponse::unauthorized(),
                    _ => OcspResponse::internal_error(),
                };
                (resp.to_der().unwrap_or_default(), Answer::Error(status))
            }
        }
    }

    fn try_respond(
        &self,
        request_der: &[u8],
        state: &RevocationState,
        now: OffsetDateTime,
    ) -> std::result::Result<(Vec<u8>, Answer), &'static str> {
        let req = OcspRequest::from_der(request_der).map_err(|_| "malformedRequest")?;
        let list = &req.tbs_request.request_list;
        if list.is_empty() {
            return Err("malformedRequest");
        }
        // The CA of the first request signs; certificates of other CAs in the same request are unknown.
        let find = |id: &x509_ocsp::CertId| {
            let name = id.issuer_name_hash.as_bytes();
            let key = id.issuer_key_hash.as_bytes();
            self.cas.iter().find(|c| {
                let (n, k) = if id.hash_algorithm.oid == ID_SHA256 {
                    &c.sha256
                } else if id.hash_algorithm.oid == ID_SHA1 {
                    &c.sha1
                } else {
                    return false;
                };
                n == name && k == key
            })
        };
        let ca = find(&list[0].req_cert).ok_or("unauthorized")?;
        let this_update = gt(now - time::Duration::minutes(1)).map_err(|_| "internalError")?;
        let next_update = gt(now + OCSP_VALIDITY).map_err(|_| "internalError")?;
        let mut responses = Vec::new();
        let mut summary = Vec::new();
        for r in list {
            let serial = hex(r.req_cert.serial_number.as_bytes());
            let serial = serial.trim_start_matches("00").to_string();
            let same_ca = find(&r.req_cert).map(|c| c.id == ca.id).unwrap_or(false);
            let (status, label) = match state
                .revoked
                .iter()
                .find(|x| x.ca == ca.id && x.serial.trim_start_matches("00") == serial)
            {
                Some(rev) if same_ca => {
                    let at = OffsetDateTime::parse(
                        &rev.revoked_at,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .map_err(|_| "internalError")?;
                    let reason = rev.reason.as_deref().and_then(reason_code);
                    (
                        CertStatus::revoked(RevokedInfo {
                            revocation_time: gt(at).map_err(|_| "internalError")?,
                            revocation_reason: reason,
                        }),
                        "revoked",
                    )
                }
                _ if same_ca && issued_serial(&self.manifest, &ca.id, &serial) => {
                    (CertStatus::good(), "good")
                }
                _ => (CertStatus::unknown(), "unknown"),
            };
            summary.push((serial, label));
            responses.push(SingleResponse {
                cert_id: r.req_cert.clone(),
                cert_status: status,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            });
        }
        let signer_spki_bits = match &ca.signer_cert {
            Some(c) => c
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec(),
            None => ca.signer.public_key_raw().to_vec(),
        };
        let key_hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &signer_spki_bits);
        let nonce = req
            .tbs_request
            .request_extensions
            .as_ref()
            .and_then(|exts| {
                exts.iter()
                    .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
                    .cloned()
            });
        let data = ResponseData {
            version: Default::default(),
            responder_id: ResponderId::ByKey(
                OctetString::new(key_hash.as_ref()).map_err(|_| "internalError")?,
            ),
            produced_at: gt(now).map_err(|_| "internalError")?,
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        let tbs = data.to_der().map_err(|_| "internalError")?;
        let sig = ca
            .signer
            .sign(ca.sig_alg, &tbs)
            .map_err(|_| "internalError")?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: x509_cert::spki::AlgorithmIdentifierOwned::from_der(
                &ca.sig_alg.algorithm_identifier(),
            )
            .map_err(|_| "internalError")?,
            signature: BitString::from_bytes(&sig).map_err(|_| "internalError")?,
            certs: ca.signer_cert.clone().map(|c| vec![c]),
        };
        let der = OcspResponse::successful(basic)
            .and_then(|r| r.to_der())
            .map_err(|_| "internalError")?;
        Ok((der, Answer::Signed(summary)))
    }
}

/// Whether `ca` issued a leaf with this serial (good vs unknown: RFC 6960 §2.2).
fn issued_serial(m: &Manifest, ca: &str, serial: &str) -> bool {
    m.issued
        .iter()
        .any(|i| i.ca == ca && i.serial.trim_start_matches("00") == serial)
}

fn gt(t: OffsetDateTime) -> std::result::Result<OcspGeneralizedTime, der::Error> {
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| der::Error::from(der::ErrorKind::DateTime))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))?;
    Ok(OcspGeneralizedTime(GeneralizedTime::from_date_time(dt)))
}

fn reason_code(name: &str) -> Option<CrlReason> {
    crate::ca::REASONS.iter().find(|r| r.0 == name).map(|r| r.2)
}
