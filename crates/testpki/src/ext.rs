//! DER for the extensions rcgen has no fields for: certificatePolicies and authorityInfoAccess.

use crate::error::{PkiError, Result};
use crate::oids;
use der::asn1::{Ia5String, ObjectIdentifier};
use der::Encode;
use rcgen::CustomExtension;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax, CertificatePolicies};

const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
const ID_AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");

/// certificatePolicies with the given policy OIDs (no qualifiers).
pub fn certificate_policies(policies: &[&str]) -> Result<CustomExtension> {
    let infos = policies
        .iter()
        .map(|p| {
            Ok(PolicyInformation {
                policy_identifier: ObjectIdentifier::new(p)
                    .map_err(|e| PkiError::Invalid(format!("policy OID `{p}`: {e}")))?,
                policy_qualifiers: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let der = CertificatePolicies(infos)
        .to_der()
        .map_err(PkiError::der("certificatePolicies"))?;
    Ok(CustomExtension::from_oid_content(
        oids::EXT_CERTIFICATE_POLICIES,
        der,
    ))
}

/// authorityInfoAccess with an OCSP responder and/or a caIssuers URL.
pub fn authority_info_access(
    ocsp: Option<&str>,
    ca_issuers: Option<&str>,
) -> Result<CustomExtension> {
    let mut v = Vec::new();
    for (method, url) in [(ID_AD_OCSP, ocsp), (ID_AD_CA_ISSUERS, ca_issuers)] {
        if let Some(url) = url {
            let uri = Ia5String::new(url).map_err(PkiError::der(format!("URL `{url}`")))?;
            v.push(AccessDescription {
                access_method: method,
                access_location: GeneralName::UniformResourceIdentifier(uri),
            });
        }
    }
    let der = AuthorityInfoAccessSyntax(v)
        .to_der()
        .map_err(PkiError::der("authorityInfoAccess"))?;
    Ok(CustomExtension::from_oid_content(
        oids::EXT_AUTHORITY_INFO_ACCESS,
        der,
    ))
}

/// id-pkix-ocsp-nocheck (NULL).
pub fn ocsp_nocheck() -> CustomExtension {
    CustomExtension::from_oid_content(oids::EXT_OCSP_NOCHECK, vec![0x05, 0x00])
}
