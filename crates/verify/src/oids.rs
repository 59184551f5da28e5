//! Object identifiers the verifier compares against, in dotted form, named once.

/// id-ad-ocsp (RFC 5280 §4.2.2.1): the AIA access method of an OCSP responder.
pub(crate) const AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
/// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
pub(crate) const OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
pub(crate) const OCSP_NOCHECK: &str = "1.3.6.1.5.5.7.48.1.5";
/// id-kp-OCSPSigning (RFC 5280 §4.2.1.12).
pub(crate) const KP_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
/// SHA-1 (CertID hash).
pub(crate) const SHA1: &str = "1.3.14.3.2.26";
/// SHA-256.
pub(crate) const SHA256: &str = "2.16.840.1.101.3.4.2.1";
/// SHA-384.
pub(crate) const SHA384: &str = "2.16.840.1.101.3.4.2.2";
/// SHA-512.
pub(crate) const SHA512: &str = "2.16.840.1.101.3.4.2.3";
/// secp256r1 / P-256.
pub(crate) const CURVE_P256: &str = "1.2.840.10045.3.1.7";
/// secp384r1 / P-384.
pub(crate) const CURVE_P384: &str = "1.3.132.0.34";
/// secp521r1 / P-521.
pub(crate) const CURVE_P521: &str = "1.3.132.0.35";
/// secp224r1.
pub(crate) const CURVE_P224: &str = "1.3.132.0.33";
/// brainpoolP256r1.
pub(crate) const CURVE_BRAINPOOL_P256: &str = "1.3.36.3.3.2.8.1.1.7";
/// brainpoolP384r1.
pub(crate) const CURVE_BRAINPOOL_P384: &str = "1.3.36.3.3.2.8.1.1.11";
/// brainpoolP512r1.
pub(crate) const CURVE_BRAINPOOL_P512: &str = "1.3.36.3.3.2.8.1.1.13";
/// Ed25519 (RFC 8410).
pub(crate) const ED25519: &str = "1.3.101.112";
/// Ed448 (RFC 8410).
pub(crate) const ED448: &str = "1.3.101.113";
