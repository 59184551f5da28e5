//! Keys and signatures for the test PKI.
//!
//! rcgen builds every certificate and CRL. Where the real PKI uses an algorithm rcgen cannot sign
//! with (RSASSA-PSS with SHA-512 in G4, ecdsa-with-SHA1 for the bad-hash fixture), the object is
//! re-signed here over its exact TBS bytes ([`resign_certificate`], [`resign_crl`]).
//! P-256 keys derive from the seed, so `pki init` with the same seed gives the same keys; RSA
//! key generation in aws-lc-rs cannot be seeded, so RSA keys are fresh each time.

use crate::error::{PkiError, Result};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use der::{Decode, Encode};
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256};
use rustls_pki_types::PrivatePkcs8KeyDer;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A key algorithm for one hierarchy or certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlg {
    /// RSA with this modulus size (2048, 3072, 4096).
    Rsa(u32),
    /// ECDSA on P-256 (fast; derived from the seed).
    EcdsaP256,
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlg::Rsa(b) => write!(f, "rsa{b}"),
            KeyAlg::EcdsaP256 => f.write_str("ecdsa-p256"),
        }
    }
}

/// How keys are chosen for a hierarchy: sizes as in reality, or P-256 everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyStyle {
    /// RSA with the real hierarchy's sizes (roots 4096, G1 leaves 2048, G4 leaves 3072).
    Rsa,
    /// ECDSA P-256 for every key (fast tests).
    Ecdsa,
}

impl FromStr for KeyStyle {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "rsa" => Ok(KeyStyle::Rsa),
            "ecdsa" | "ecdsa-p256" => Ok(KeyStyle::Ecdsa),
            _ => Err(format!(
                "unknown key style `{s}`: expected `rsa` or `ecdsa`"
            )),
        }
    }
}

impl KeyStyle {
    /// The algorithm for a key that would be RSA-`bits` in reality.
    pub fn alg(self, real_rsa_bits: u32) -> KeyAlg {
        match self {
            KeyStyle::Rsa => KeyAlg::Rsa(real_rsa_bits),
            KeyStyle::Ecdsa => KeyAlg::EcdsaP256,
        }
    }
}

/// A signature algorithm the test PKI signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigAlg {
    /// ecdsa-with-SHA256.
    EcdsaSha256,
    /// ecdsa-with-SHA1 (bad-hash fixture only).
    EcdsaSha1,
    /// sha256WithRSAEncryption (G1, public hierarchies).
    RsaPkcs1Sha256,
    /// RSASSA-PSS, SHA-512, MGF1-SHA-512, salt 64 (G4).
    RsaPssSha512,
}

impl SigAlg {
    /// The DER AlgorithmIdentifier.
    pub fn algorithm_identifier(self) -> Vec<u8> {
        match self {
            SigAlg::EcdsaSha256 => vec![
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
            ],
            SigAlg::EcdsaSha1 => vec![
                0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01,
            ],
            SigAlg::RsaPkcs1Sha256 => vec![
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05,
                0x00,
            ],
            SigAlg::RsaPssSha512 => {
                // The same bytes the real G4 certificates carry (medmij-pki.md §1.6).
                let inner: &[u8] = rustls_pki_types::alg_id::RSA_PSS_SHA512.as_ref();
                let mut v = vec![0x30, inner.len() as u8];
                v.extend_from_slice(inner);
                v
            }
        }
    }

    /// The algorithm rcgen writes before we re-sign, for a key of this kind.
    fn needs_resign(self) -> bool {
        matches!(self, SigAlg::EcdsaSha1 | SigAlg::RsaPssSha512)
    }
}

/// A private key with its PKCS#8 encoding.
pub struct Key {
    alg: KeyAlg,
    pair: KeyPair,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.alg)
    }
}

const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

impl Key {
    /// Generates a key; P-256 keys derive from `seed` and `label`.
    pub fn generate(alg: KeyAlg, seed: &str, label: &str) -> Result<Key> {
        let pkcs8 = match alg {
            KeyAlg::EcdsaP256 => derive_p256(seed, label)?,
            KeyAlg::Rsa(bits) => {
                let size = match bits {
                    2048 => KeySize::Rsa2048,
                    3072 => KeySize::Rsa3072,
                    4096 => KeySize::Rsa4096,
                    8192 => KeySize::Rsa8192,
                    _ => {
                        return Err(PkiError::Invalid(format!(
                            "RSA-{bits} keys cannot be generated (2048, 3072, 4096 or 8192)"
                        )))
                    }
                };
                let k = RsaKeyPair::generate(size).map_err(|e| crypto("generating RSA key", e))?;
                AsDer::<Pkcs8V1Der>::as_der(&k)
                    .map_err(|e| crypto("encoding RSA key", e))?
                    .as_ref()
                    .to_vec()
            }
        };
        Key::from_pkcs8(&pkcs8)
    }

    /// Loads a PKCS#8 DER key (RSA or P-256).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Key> {
        let der = PrivatePkcs8KeyDer::from(pkcs8.to_vec());
        if let Ok(k) = RsaKeyPair::from_pkcs8(pkcs8) {
            let bits = (k.public_modulus_len() * 8) as u32;
            let pair = KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_RSA_SHA256)
                .map_err(PkiError::build("RSA key"))?;
            return Ok(Key {
                alg: KeyAlg::Rsa(bits),
                pair,
            });
        }
        let pair = KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_ECDSA_P256_SHA256)
            .map_err(PkiError::build("P-256 key"))?;
        Ok(Key {
            alg: KeyAlg::EcdsaP256,
            pair,
        })
    }

    /// Loads a PEM (PKCS#8 "PRIVATE KEY") key.
    pub fn from_pem(pem: &str) -> Result<Key> {
        let p = KeyPair::from_pem(pem).map_err(PkiError::build("reading key PEM"))?;
        Key::from_pkcs8(p.serialized_der())
    }

    /// PKCS#8 PEM.
    pub fn pem(&self) -> String {
        self.pair.serialize_pem()
    }

    /// The key algorithm.
    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// The rcgen key pair (for building certificates).
    pub fn pair(&self) -> &KeyPair {
        &self.pair
    }

    /// The signature algorithm this key signs with by default (G4 overrides to PSS).
    pub fn default_sig_alg(&self) -> SigAlg {
        match self.alg {
            KeyAlg::Rsa(_) => SigAlg::RsaPkcs1Sha256,
            KeyAlg::EcdsaP256 => SigAlg::EcdsaSha256,
        }
    }

    /// Signs `msg` with `alg`.
    pub fn sign(&self, alg: SigAlg, msg: &[u8]) -> Result<Vec<u8>> {
        let pkcs8 = self.pair.serialized_der();
        match (self.alg, alg) {
            (KeyAlg::Rsa(_), SigAlg::RsaPkcs1Sha256 | SigAlg::RsaPssSha512) => {
                let k = RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| crypto("loading RSA key", e))?;
                let enc: &'static dyn signature::RsaEncoding = if alg == SigAlg::RsaPssSha512 {
                    &signature::RSA_PSS_SHA512
                } else {
                    &signature::RSA_PKCS1_SHA256
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(enc, &SystemRandom::new(), msg, &mut sig)
                    .map_err(|e| crypto("RSA signing", e))?;
                Ok(sig)
            }
            (KeyAlg::EcdsaP256, SigAlg::EcdsaSha256) => {
                let k = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
                    .map_err(|e| crypto("loading P-256 key", e))?;
                Ok(k.sign(&SystemRandom::new(), msg)
                    .map_err(|e| crypto("ECDSA signing", e))?
                    .as_ref()
                    .to_vec())
            }
            (KeyAlg::EcdsaP256, SigAlg::EcdsaSha1) => {
                // ECDSA uses the hash as an integer; a 160-bit SHA-1 value left-padded with zeros to
                // 256 bits is the same integer, so signing it as a "SHA-256 digest" yields a valid
                // ecdsa-with-SHA1 signature (SEC 1 §4.1.3 step 5).
                let k = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
                    .map_err(|e| crypto("loading P-256 key", e))?;
                let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, msg);
                let mut padded = [0u8; 32];
                padded[12..].copy_from_slice(sha1.as_ref());
                let d = digest::Digest::import_less_safe(&padded, &digest::SHA256)
                    .map_err(|e| crypto("SHA-1 digest", e))?;
                Ok(k.sign_digest(&d)
                    .map_err(|e| crypto("ECDSA-SHA1 signing", e))?
                    .as_ref()
                    .to_vec())
            }
            (k, s) => Err(PkiError::Invalid(format!(
                "a {k} key cannot sign with {s:?}"
            ))),
        }
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki(&self) -> Vec<u8> {
        use rcgen::PublicKeyData;
        self.pair.subject_public_key_info()
    }

    /// The raw public key bytes (BIT STRING contents of the SPKI), as hashed for OCSP key hashes.
    pub fn public_key_raw(&self) -> &[u8] {
        self.pair.public_key_raw()
    }
}

fn crypto(what: &str, e: impl fmt::Display) -> PkiError {
    PkiError::Crypto {
        what: what.to_string(),
        reason: e.to_string(),
    }
}

fn derive_p256(seed: &str, label: &str) -> Result<Vec<u8>> {
    for counter in 0u32.. {
        let input = format!("medmij-testpki/p256/{seed}/{label}/{counter}");
        let d = digest::digest(&digest::SHA256, input.as_bytes());
        let scalar: [u8; 32] = d
            .as_ref()
            .try_into()
            .map_err(|_| crypto("deriving key", "digest length"))?;
        if scalar == [0u8; 32] || scalar >= P256_ORDER {
            continue;
        }
        // RFC 5915 ECPrivateKey without the public key; AWS-LC computes it.
        let mut sec1 = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
        sec1.extend_from_slice(&scalar);
        sec1.extend_from_slice(&[
            0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
        ]);
        let k =
            EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &sec1)
                .map_err(|e| crypto("deriving P-256 key", e))?;
        return Ok(k
            .to_pkcs8v1()
            .map_err(|e| crypto("encoding P-256 key", e))?
            .as_ref()
            .to_vec());
    }
    unreachable!("the counter loop returns")
}

/// Re-signs a certificate over its TBS with `alg` (the TBS `signature` field is updated first).
pub fn resign_certificate(der: &[u8], issuer: &Key, alg: SigAlg) -> Result<Vec<u8>> {
    if !alg.needs_resign() && alg == issuer.default_sig_alg() {
        return Ok(der.to_vec());
    }
    let mut cert =
        x509_cert::Certificate::from_der(der).map_err(PkiError::der("re-signing certificate"))?;
    let aid = x509_cert::spki::AlgorithmIdentifierOwned::from_der(&alg.algorithm_identifier())
        .map_err(PkiError::der("algorithm identifier"))?;
    cert.tbs_certificate.signature = aid.clone();
    cert.signature_algorithm = aid;
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(PkiError::der("encoding TBS"))?;
    let sig = issuer.sign(alg, &tbs)?;
    cert.signature = der::asn1::BitString::from_bytes(&sig).map_err(PkiError::der("signature"))?;
    cert.to_der().map_err(PkiError::der("encoding certificate"))
}

/// Re-signs a CRL over its TBS with `alg`.
pub fn resign_crl(der: &[u8], issuer: &Key, alg: SigAlg) -> Result<Vec<u8>> {
    if !alg.needs_resign() && alg == issuer.default_sig_alg() {
        return Ok(der.to_vec());
    }
    let mut crl =
        x509_cert::crl::CertificateList::from_der(der).map_err(PkiError::der("re-signing CRL"))?;
    let aid = x509_cert::spki::AlgorithmIdentifierOwned::from_der(&alg.algorithm_identifier())
        .map_err(PkiError::der("algorithm identifier"))?;
    crl.tbs_cert_list.signature = aid.clone();
    crl.signature_algorithm = aid;
    let tbs = crl
        .tbs_cert_list
        .to_der()
        .map_err(PkiError::der("encoding CRL TBS"))?;
    let sig = issuer.sign(alg, &tbs)?;
    crl.signature = der::asn1::BitString::from_bytes(&sig).map_err(PkiError::der("signature"))?;
    crl.to_der().map_err(PkiError::der("encoding CRL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p256_keys_derive_from_the_seed() {
        let a = Key::generate(KeyAlg::EcdsaP256, "s1", "root").unwrap();
        let b = Key::generate(KeyAlg::EcdsaP256, "s1", "root").unwrap();
        let c = Key::generate(KeyAlg::EcdsaP256, "s2", "root").unwrap();
        assert_eq!(a.spki(), b.spki());
        assert_ne!(a.spki(), c.spki());
        let back = Key::from_pem(&a.pem()).unwrap();
        assert_eq!(back.spki(), a.spki());
    }

    #[test]
    fn ecdsa_sha1_signatures_verify_as_sha1() {
        let k = Key::generate(KeyAlg::EcdsaP256, "s", "legacy").unwrap();
        let sig = k.sign(SigAlg::EcdsaSha1, b"hello").unwrap();
        let pk =
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA1_ASN1, k.public_key_raw());
        pk.verify(b"hello", &sig).unwrap();
        assert!(pk.verify(b"hellp", &sig).is_err());
    }
}
