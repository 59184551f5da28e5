//! CAs of the test PKI: loading them from a PKI directory, issuing certificates and CRLs.

use crate::error::{PkiError, Result};
use crate::ext;
use crate::keys::{resign_certificate, resign_crl, Key, SigAlg};
use crate::oids;
use crate::store::{hex, pem, pem_blocks, CaRecord, PkiDir, Revocation};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PublicKeyData, RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use std::net::IpAddr;
use time::OffsetDateTime;

/// The URL of a CA's CRL.
pub fn crl_url(base: &str, ca: &str) -> String {
    format!("{}/crl/{ca}.crl", base.trim_end_matches('/'))
}

/// The URL of a CA's OCSP responder.
pub fn ocsp_url(base: &str, ca: &str) -> String {
    format!("{}/ocsp/{ca}", base.trim_end_matches('/'))
}

/// The URL where a CA's certificate is published (AIA caIssuers).
pub fn ca_issuers_url(base: &str, ca: &str) -> String {
    format!("{}/ca/{ca}.cer", base.trim_end_matches('/'))
}

/// A CA with its certificate and key in memory.
pub struct LoadedCa {
    /// The manifest record.
    pub record: CaRecord,
    /// The certificate (DER).
    pub cert_der: Vec<u8>,
    /// The private key.
    pub key: Key,
}

impl LoadedCa {
    /// Loads a CA's certificate and key from the PKI directory.
    pub fn load(dir: &PkiDir, record: &CaRecord) -> Result<LoadedCa> {
        let cert_pem = dir.read_string(&record.cert)?;
        let cert_der = pem_blocks(&cert_pem, "CERTIFICATE")?
            .into_iter()
            .next()
            .ok_or_else(|| {
                PkiError::Invalid(format!(
                    "{}: no certificate",
                    dir.path(&record.cert).display()
                ))
            })?;
        let key = Key::from_pem(&dir.read_string(&record.key)?)?;
        Ok(LoadedCa {
            record: record.clone(),
            cert_der,
            key,
        })
    }

    fn issuer(&self) -> Result<Issuer<'_, &KeyPair>> {
        Issuer::from_ca_cert_der(&self.cert_der.clone().into(), self.key.pair())
            .map_err(PkiError::build(format!("CA `{}`", self.record.id)))
    }

    /// Signs a certificate for `subject` with this CA, in the CA's signature algorithm (or `alg`).
    pub fn sign(
        &self,
        params: &CertificateParams,
        subject: &impl PublicKeyData,
        alg: Option<SigAlg>,
    ) -> Result<Vec<u8>> {
        let cert = params
            .signed_by(subject, &self.issuer()?)
            .map_err(PkiError::build(format!(
                "certificate signed by `{}`",
                self.record.id
            )))?;
        resign_certificate(cert.der(), &self.key, alg.unwrap_or(self.record.sig_alg))
    }

    /// Makes this CA's CRL listing `revoked` (those of this CA), numbered `number`.
    pub fn crl(
        &self,
        revoked: &[Revocation],
        number: u64,
        now: OffsetDateTime,
        validity: time::Duration,
    ) -> Result<Vec<u8>> {
        let mut revoked_certs = Vec::new();
        for r in revoked.iter().filter(|r| r.ca == self.record.id) {
            revoked_certs.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&unhex(&r.serial)?),
                revocation_time: OffsetDateTime::parse(
                    &r.revoked_at,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|e| {
                    PkiError::Invalid(format!("revocation time `{}`: {e}", r.revoked_at))
                })?,
                reason_code: r.reason.as_deref().map(reason_from_name).transpose()?,
                invalidity_date: None,
            });
        }
        let params = CertificateRevocationListParams {
            this_update: now - time::Duration::minutes(1),
            next_update: now + validity,
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params
            .signed_by(&self.issuer()?)
            .map_err(PkiError::build(format!("CRL of `{}`", self.record.id)))?;
        resign_crl(crl.der(), &self.key, self.record.sig_alg)
    }

    /// The certificate as PEM.
    pub fn cert_pem(&self) -> String {
        pem("CERTIFICATE", &self.cert_der)
    }
}

/// RFC 5280 reason names with their code in rcgen (for CRLs) and x509-cert (for OCSP).
pub const REASONS: &[(&str, RevocationReason, x509_cert::ext::pkix::CrlReason)] = {
    use x509_cert::ext::pkix::CrlReason as C;
    use RevocationReason as R;
    &[
        ("unspecified", R::Unspecified, C::Unspecified),
        ("keyCompromise", R::KeyCompromise, C::KeyCompromise),
        ("cACompromise", R::CaCompromise, C::CaCompromise),
        (
            "affiliationChanged",
            R::AffiliationChanged,
            C::AffiliationChanged,
        ),
        ("superseded", R::Superseded, C::Superseded),
        (
            "cessationOfOperation",
            R::CessationOfOperation,
            C::CessationOfOperation,
        ),
        ("certificateHold", R::CertificateHold, C::CertificateHold),
        (
            "privilegeWithdrawn",
            R::PrivilegeWithdrawn,
            C::PrivilegeWithdrawn,
        ),
    ]
};

/// Maps an RFC 5280 reason name to rcgen's enum.
pub fn reason_from_name(name: &str) -> Result<RevocationReason> {
    REASONS
        .iter()
        .find(|r| r.0 == name)
        .map(|r| r.1)
        .ok_or_else(|| {
            PkiError::Invalid(format!(
                "unknown revocation reason `{name}`: use one of {}",
                REASONS.iter().map(|r| r.0).collect::<Vec<_>>().join(", ")
            ))
        })
}

/// Decodes lowercase or uppercase hex.
pub fn unhex(s: &str) -> Result<Vec<u8>> {
    let s = s.trim().trim_start_matches("0x");
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PkiError::Invalid(format!(
            "`{s}` is not a hex serial number"
        )));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| PkiError::Invalid(e.to_string())))
        .collect()
}

/// What a node (leaf) certificate should contain.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    /// SAN dNSNames (the first is also the CN unless `common_name` is set).
    pub hostnames: Vec<String>,
    /// SAN iPAddresses.
    pub ips: Vec<IpAddr>,
    /// Subject CN override.
    pub common_name: Option<String>,
    /// Subject O.
    pub organization: String,
    /// OIN in subject serialNumber (PKIoverheid).
    pub oin: Option<String>,
    /// organizationIdentifier (G4).
    pub organization_identifier: Option<String>,
    /// Extended key usages.
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    /// Key usages.
    pub key_usages: Vec<KeyUsagePurpose>,
    /// Policy OIDs.
    pub policies: Vec<String>,
    /// Validity start.
    pub not_before: OffsetDateTime,
    /// Validity end.
    pub not_after: OffsetDateTime,
    /// Serial number bytes.
    pub serial: Vec<u8>,
    /// Name an OCSP responder in AIA.
    pub with_ocsp: bool,
    /// Name the issuer's CRL distribution point (the client probe's OCSP-only case has none).
    pub with_crl: bool,
    /// Signature algorithm override (the SHA-1 fixture).
    pub sig_alg: Option<SigAlg>,
}

impl LeafSpec {
    /// Certificate parameters for this leaf issued by `ca` with the PKI's `base_url`.
    pub fn params(&self, ca: Option<&CaRecord>, base_url: &str) -> Result<CertificateParams> {
        let mut p = CertificateParams::default();
        p.not_before = self.not_before;
        p.not_after = self.not_after;
        p.serial_number = Some(SerialNumber::from_slice(&self.serial));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, crate::init::printable("NL")?);
        dn.push(DnType::OrganizationName, self.organization.as_str());
        if let Some(oi) = &self.organization_identifier {
            dn.push(
                DnType::CustomDnType(oids::DN_ORGANIZATION_IDENTIFIER.to_vec()),
                oi.as_str(),
            );
        }
        if let Some(oin) = &self.oin {
            dn.push(
                DnType::CustomDnType(oids::DN_SERIAL_NUMBER.to_vec()),
                crate::init::printable(oin)?,
            );
        }
        let cn = self
            .common_name
            .clone()
            .or_else(|| self.hostnames.first().cloned())
            .unwrap_or_else(|| "node".to_string());
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        for h in &self.hostnames {
            p.subject_alt_names.push(SanType::DnsName(
                h.as_str()
                    .try_into()
                    .map_err(|e| PkiError::Invalid(format!("hostname `{h}`: {e}")))?,
            ));
        }
        for ip in &self.ips {
            p.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = self.key_usages.clone();
        p.extended_key_usages = self.eku.clone();
        if !self.policies.is_empty() {
            let refs: Vec<&str> = self.policies.iter().map(String::as_str).collect();
            p.custom_extensions.push(ext::certificate_policies(&refs)?);
        }
        if let Some(ca) = ca {
            p.use_authority_key_identifier_extension = true;
            if self.with_crl {
                p.crl_distribution_points = vec![CrlDistributionPoint {
                    uris: vec![crl_url(base_url, &ca.id)],
                }];
            }
            let ocsp = self.with_ocsp.then(|| ocsp_url(base_url, &ca.id));
            p.custom_extensions.push(ext::authority_info_access(
                ocsp.as_deref(),
                Some(&ca_issuers_url(base_url, &ca.id)),
            )?);
        }
        Ok(p)
    }
}

/// The serial of a DER certificate as lowercase hex (for the manifest and revocation state).
pub fn serial_hex(cert_der: &[u8]) -> Result<String> {
    let (_, c) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| PkiError::Invalid(format!("certificate does not parse: {e}")))?;
    Ok(hex(c.raw_serial()))
}
