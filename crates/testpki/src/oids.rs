//! Object identifiers the test PKI writes into certificates (facts from `medmij-pki.md` §2).

/// G1 Private Services: probably authenticity (medmij-pki.md §2.1: unconfirmed meaning).
pub const PKIO_G1_PRIVATE_84: &str = "2.16.528.1.1003.1.2.8.4";
/// G1 Private Services: probably confidentiality.
pub const PKIO_G1_PRIVATE_85: &str = "2.16.528.1.1003.1.2.8.5";
/// G1 Private Services **Server** certificate (backchannel TLS leaves).
pub const PKIO_G1_PRIVATE_SERVER: &str = "2.16.528.1.1003.1.2.8.6";
/// G4 private TLS server (OV, devices) end-entity policy.
pub const PKIO_G4_PRIVATE_TLS_SERVER: &str = "2.16.528.1.1003.1.2.44.15.35.11";
/// G4 OCSP signer policy at the intermediate level.
pub const PKIO_G4_OCSP_INT: &str = "2.16.528.1.1003.1.2.44.15.38.10";
/// G4 OCSP signer policy at the TSP level.
pub const PKIO_G4_OCSP_TSP: &str = "2.16.528.1.1003.1.2.44.15.39.10";
/// ETSI NCP.
pub const ETSI_NCP: &str = "0.4.0.2042.1.1";
/// ETSI NCP+.
pub const ETSI_NCP_PLUS: &str = "0.4.0.2042.1.2";
/// CA/Browser Forum DV.
pub const CABF_DV: &str = "2.23.140.1.2.1";
/// CA/Browser Forum OV.
pub const CABF_OV: &str = "2.23.140.1.2.2";

/// certificatePolicies extension.
pub const EXT_CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];
/// authorityInfoAccess extension.
pub const EXT_AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1), for delegated responders.
pub const EXT_OCSP_NOCHECK: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5];
/// subject serialNumber (where PKIoverheid puts the OIN).
pub const DN_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// organizationIdentifier (G4: `NTRNL-` + KvK number).
pub const DN_ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];
