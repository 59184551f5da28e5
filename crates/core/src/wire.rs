//! Open newtypes for TLS wire code points.
//!
//! A peer can send any 16-bit value; we record it rather than drop it, so each type is a plain
//! newtype with named constants for the values we know (the rustls `enum_builder!` habit).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! code_point {
    ($(#[$doc:meta])* $name:ident { $($(#[$cdoc:meta])* $konst:ident = $val:expr => $text:expr,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u16);

        impl $name {
            $($(#[$cdoc])* pub const $konst: $name = $name($val);)*

            /// The registered name, if this value is one we know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some($text),)*
                    _ => None,
                }
            }

            /// Every value with a name, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name($val),)*];
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "0x{:04X}", self.0),
                }
            }
        }
    };
}

code_point! {
    /// `ProtocolVersion` as sent on the wire (RFC 8446 §4.1.2, `supported_versions`).
    ProtocolVersion {
        /// SSL 2.0 (its own record format; listed for classification only).
        SSL2 = 0x0200 => "SSLv2",
        /// SSL 3.0.
        SSL3 = 0x0300 => "SSLv3",
        /// TLS 1.0.
        TLS10 = 0x0301 => "TLSv1.0",
        /// TLS 1.1.
        TLS11 = 0x0302 => "TLSv1.1",
        /// TLS 1.2.
        TLS12 = 0x0303 => "TLSv1.2",
        /// TLS 1.3.
        TLS13 = 0x0304 => "TLSv1.3",
    }
}

impl ProtocolVersion {
    /// Parses the short names used in profiles and on the command line: `1.2`, `1.3`, `TLSv1.2`.
    pub fn parse(s: &str) -> Option<Self> {
        let t = s
            .trim()
            .trim_start_matches("TLSv")
            .trim_start_matches("TLS");
        let t = t.trim();
        Some(match t {
            "1.0" => Self::TLS10,
            "1.1" => Self::TLS11,
            "1.2" => Self::TLS12,
            "1.3" => Self::TLS13,
            _ => match s.trim() {
                "SSLv3" | "SSL3" | "SSL 3.0" => Self::SSL3,
                "SSLv2" | "SSL2" | "SSL 2.0" => Self::SSL2,
                _ => return None,
            },
        })
    }
}

/// A cipher suite code point (IANA "TLS Cipher Suites"). Names come from the NCSC table.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// TLS 1.3 `TLS_AES_128_GCM_SHA256`.
    pub const TLS13_AES_128_GCM_SHA256: CipherSuite = CipherSuite(0x1301);
    /// TLS 1.3 `TLS_AES_256_GCM_SHA384`.
    pub const TLS13_AES_256_GCM_SHA384: CipherSuite = CipherSuite(0x1302);
    /// TLS 1.3 `TLS_CHACHA20_POLY1305_SHA256`.
    pub const TLS13_CHACHA20_POLY1305_SHA256: CipherSuite = CipherSuite(0x1303);
    /// TLS 1.3 `TLS_AES_128_CCM_SHA256`.
    pub const TLS13_AES_128_CCM_SHA256: CipherSuite = CipherSuite(0x1304);
    /// TLS 1.3 `TLS_AES_128_CCM_8_SHA256`.
    pub const TLS13_AES_128_CCM_8_SHA256: CipherSuite = CipherSuite(0x1305);

    /// The IANA name, if the suite is in the NCSC reference table.
    pub fn name(self) -> Option<&'static str> {
        crate::ncsc::suite_entry(self).map(|e| e.iana)
    }

    /// Looks a suite up by IANA or OpenSSL name (as far as the reference table knows it).
    pub fn from_name(name: &str) -> Option<Self> {
        crate::ncsc::suite_by_name(name)
    }

    /// TLS 1.3 suites live in 0x13xx.
    pub fn is_tls13(self) -> bool {
        self.0 >> 8 == 0x13
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:04X}", self.0),
        }
    }
}

code_point! {
    /// A `NamedGroup` (IANA "TLS Supported Groups"; RFC 8422, RFC 7919, RFC 8734, ML-KEM drafts).
    NamedGroup {
        /// secp192r1.
        SECP192R1 = 19 => "secp192r1",
        /// secp224r1.
        SECP224R1 = 21 => "secp224r1",
        /// secp256r1 (P-256).
        SECP256R1 = 23 => "secp256r1",
        /// secp384r1 (P-384).
        SECP384R1 = 24 => "secp384r1",
        /// secp521r1 (P-521).
        SECP521R1 = 25 => "secp521r1",
        /// brainpoolP256r1 (TLS 1.2 code point).
        BRAINPOOLP256R1 = 26 => "brainpoolP256r1",
        /// brainpoolP384r1 (TLS 1.2 code point).
        BRAINPOOLP384R1 = 27 => "brainpoolP384r1",
        /// brainpoolP512r1 (TLS 1.2 code point).
        BRAINPOOLP512R1 = 28 => "brainpoolP512r1",
        /// X25519.
        X25519 = 29 => "x25519",
        /// X448.
        X448 = 30 => "x448",
        /// brainpoolP256r1tls13 (RFC 8734).
        BRAINPOOLP256R1TLS13 = 31 => "brainpoolP256r1tls13",
        /// brainpoolP384r1tls13 (RFC 8734).
        BRAINPOOLP384R1TLS13 = 32 => "brainpoolP384r1tls13",
        /// brainpoolP512r1tls13 (RFC 8734).
        BRAINPOOLP512R1TLS13 = 33 => "brainpoolP512r1tls13",
        /// ffdhe2048 (RFC 7919).
        FFDHE2048 = 256 => "ffdhe2048",
        /// ffdhe3072.
        FFDHE3072 = 257 => "ffdhe3072",
        /// ffdhe4096.
        FFDHE4096 = 258 => "ffdhe4096",
        /// ffdhe6144.
        FFDHE6144 = 259 => "ffdhe6144",
        /// ffdhe8192.
        FFDHE8192 = 260 => "ffdhe8192",
        /// Pure ML-KEM-512.
        MLKEM512 = 512 => "MLKEM512",
        /// Pure ML-KEM-768.
        MLKEM768 = 513 => "MLKEM768",
        /// Pure ML-KEM-1024.
        MLKEM1024 = 514 => "MLKEM1024",
        /// Hybrid secp256r1 + ML-KEM-768.
        SECP256R1MLKEM768 = 4587 => "SecP256r1MLKEM768",
        /// Hybrid X25519 + ML-KEM-768.
        X25519MLKEM768 = 4588 => "X25519MLKEM768",
        /// Hybrid secp384r1 + ML-KEM-1024.
        SECP384R1MLKEM1024 = 4589 => "SecP384r1MLKEM1024",
        /// Obsolete draft hybrid X25519 + Kyber768.
        X25519KYBER768DRAFT00 = 0x6399 => "X25519Kyber768Draft00",
    }
}

code_point! {
    /// A `SignatureScheme` (RFC 8446 §4.2.3); for TLS 1.2 the two bytes are (hash, signature).
    SignatureScheme {
        /// rsa_pkcs1 with MD5 (TLS 1.2 pair 0x01,0x01).
        RSA_PKCS1_MD5 = 0x0101 => "rsa_pkcs1_md5",
        /// rsa_pkcs1_sha1.
        RSA_PKCS1_SHA1 = 0x0201 => "rsa_pkcs1_sha1",
        /// dsa_sha1.
        DSA_SHA1 = 0x0202 => "dsa_sha1",
        /// ecdsa_sha1.
        ECDSA_SHA1 = 0x0203 => "ecdsa_sha1",
        /// rsa_pkcs1_sha224.
        RSA_PKCS1_SHA224 = 0x0301 => "rsa_pkcs1_sha224",
        /// dsa_sha224.
        DSA_SHA224 = 0x0302 => "dsa_sha224",
        /// ecdsa_sha224.
        ECDSA_SHA224 = 0x0303 => "ecdsa_sha224",
        /// rsa_pkcs1_sha256.
        RSA_PKCS1_SHA256 = 0x0401 => "rsa_pkcs1_sha256",
        /// dsa_sha256.
        DSA_SHA256 = 0x0402 => "dsa_sha256",
        /// ecdsa_secp256r1_sha256.
        ECDSA_SECP256R1_SHA256 = 0x0403 => "ecdsa_secp256r1_sha256",
        /// rsa_pkcs1_sha384.
        RSA_PKCS1_SHA384 = 0x0501 => "rsa_pkcs1_sha384",
        /// dsa_sha384.
        DSA_SHA384 = 0x0502 => "dsa_sha384",
        /// ecdsa_secp384r1_sha384.
        ECDSA_SECP384R1_SHA384 = 0x0503 => "ecdsa_secp384r1_sha384",
        /// rsa_pkcs1_sha512.
        RSA_PKCS1_SHA512 = 0x0601 => "rsa_pkcs1_sha512",
        /// dsa_sha512.
        DSA_SHA512 = 0x0602 => "dsa_sha512",
        /// ecdsa_secp521r1_sha512.
        ECDSA_SECP521R1_SHA512 = 0x0603 => "ecdsa_secp521r1_sha512",
        /// rsa_pss_rsae_sha256.
        RSA_PSS_RSAE_SHA256 = 0x0804 => "rsa_pss_rsae_sha256",
        /// rsa_pss_rsae_sha384.
        RSA_PSS_RSAE_SHA384 = 0x0805 => "rsa_pss_rsae_sha384",
        /// rsa_pss_rsae_sha512.
        RSA_PSS_RSAE_SHA512 = 0x0806 => "rsa_pss_rsae_sha512",
        /// ed25519.
        ED25519 = 0x0807 => "ed25519",
        /// ed448.
        ED448 = 0x0808 => "ed448",
        /// rsa_pss_pss_sha256.
        RSA_PSS_PSS_SHA256 = 0x0809 => "rsa_pss_pss_sha256",
        /// rsa_pss_pss_sha384.
        RSA_PSS_PSS_SHA384 = 0x080A => "rsa_pss_pss_sha384",
        /// rsa_pss_pss_sha512.
        RSA_PSS_PSS_SHA512 = 0x080B => "rsa_pss_pss_sha512",
        /// mldsa44 (FIPS 204; draft-ietf-tls-mldsa).
        MLDSA44 = 0x0904 => "mldsa44",
        /// mldsa65.
        MLDSA65 = 0x0905 => "mldsa65",
        /// mldsa87.
        MLDSA87 = 0x0906 => "mldsa87",
    }
}
