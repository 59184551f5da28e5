//! The NCSC TLS guidelines (v2.1 of January 2021 and 2025-05) as data, and the one function
//! that rates an item under them.
//!
//! Every level here comes from `shared/reference/ncsc-tls.md`, which restates the NCSC tables as
//! internet.nl encodes them (the NCSC PDFs themselves were not a source). Where that reference marks
//! a value **[?]**, the classification says so ([`Confidence::Unconfirmed`]) instead of hiding it.
//! Cipher suites: under 2025-05 the table's level; under v2.1 Appendix C's level where it lists
//! the suite, and otherwise (30 suites) the level internet.nl ≤ 1.10 gives it by its rules. A
//! suite or group that neither the tables nor those rules cover is Insufficient.

mod suites;

use crate::wire::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which edition of the NCSC guidelines a profile follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NcscVersion {
    /// "ICT-beveiligingsrichtlijnen voor TLS" v2.1 (January 2021).
    #[serde(rename = "v2.1")]
    V2_1,
    /// "TLS richtlijnen versie mei 2025" (2025-05).
    #[serde(rename = "2025-05")]
    V2025_05,
}

impl NcscVersion {
    /// The label used in profiles and reports.
    pub fn label(self) -> &'static str {
        match self {
            NcscVersion::V2_1 => "v2.1",
            NcscVersion::V2025_05 => "2025-05",
        }
    }
}

impl fmt::Display for NcscVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The NCSC's four levels. Ordered from best to worst, so `max` picks the worse of two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// *Goed*.
    Good,
    /// *Voldoende*.
    Sufficient,
    /// *Uit te faseren*.
    PhaseOut,
    /// *Onvoldoende*.
    Insufficient,
}

impl Level {
    /// The label used in reports.
    pub fn label(self) -> &'static str {
        match self {
            Level::Good => "good",
            Level::Sufficient => "sufficient",
            Level::PhaseOut => "phase-out",
            Level::Insufficient => "insufficient",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How sure the reference is of a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Stated by an internet.nl text restating the NCSC table, or encoded in its scanner.
    Confirmed,
    /// Marked **[?]** in the reference: inferred, or the sources disagree. Reports show this.
    Unconfirmed,
}

/// Where a v2.1 cipher-suite level comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum V21Source {
    /// NCSC v2.1 Appendix C lists the suite.
    AppendixC,
    /// Not in Appendix C; the released v2.1 scanner's rules (internet.nl <= 1.10) rate it.
    Inl110Rules,
}

/// One row of the cipher-suite table.
#[derive(Clone, Copy, Debug)]
pub struct SuiteEntry {
    /// The code point.
    pub suite: CipherSuite,
    /// IANA name.
    pub iana: &'static str,
    /// OpenSSL name, when OpenSSL implements the suite.
    pub openssl: Option<&'static str>,
    /// Level under v2.1.
    pub v2_1: Level,
    /// Where the v2.1 level comes from.
    pub v2_1_source: V21Source,
    /// Level under 2025-05.
    pub v2025_05: Level,
}

/// The whole cipher-suite table, sorted by code point.
pub fn suites() -> &'static [SuiteEntry] {
    suites::SUITES
}

pub(crate) fn suite_entry(s: CipherSuite) -> Option<&'static SuiteEntry> {
    suites::SUITES
        .binary_search_by_key(&s, |e| e.suite)
        .ok()
        .map(|i| &suites::SUITES[i])
}

pub(crate) fn suite_by_name(name: &str) -> Option<CipherSuite> {
    suites::SUITES
        .iter()
        .find(|e| e.iana.eq_ignore_ascii_case(name) || e.openssl == Some(name))
        .map(|e| e.suite)
}

/// A certificate public key, as far as the tables distinguish keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum CertKey {
    /// RSA with this modulus size.
    Rsa {
        /// Modulus length in bits.
        bits: u32,
    },
    /// ECDSA on a named curve (named by its TLS group, which the tables use).
    Ec {
        /// The curve.
        curve: NamedGroup,
    },
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// DSA with this size.
    Dsa {
        /// Prime length in bits.
        bits: u32,
    },
    /// Any other key type (GOST, SM2, unknown OIDs).
    Other,
}

/// A hash function as used in a certificate or handshake signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashAlg {
    /// MD5.
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// Pure EdDSA (no separate hash).
    Intrinsic,
}

/// Client-initiated renegotiation as a scanner observes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientRenegotiation {
    /// Refused (or TLS 1.3, where it does not exist).
    Refused,
    /// Accepted at most 10 times (internet.nl's `MAX_SECURE_RENEG_ATTEMPTS`).
    Limited,
    /// Accepted more than 10 times.
    Unlimited,
}

/// Whether the server's cipher order follows the guideline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CipherOrder {
    /// The server enforces its own order, better suites first.
    Enforced,
    /// Not needed: the server offers only suites the edition rates good enough.
    NotApplicable,
    /// A worse suite is chosen over a better one (or the client's order wins).
    Violated,
}

/// The TLS options the guidelines rate (NCSC v2.1 tables 11–15, 2025-05 §3.4, §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "option", content = "value", rename_all = "kebab-case")]
pub enum TlsOption {
    /// TLS-level compression offered/accepted.
    Compression(bool),
    /// RFC 5746 secure renegotiation supported (`false` = insecure renegotiation possible).
    SecureRenegotiation(bool),
    /// Client-initiated renegotiation.
    ClientRenegotiation(ClientRenegotiation),
    /// 0-RTT early data accepted.
    ZeroRtt(bool),
    /// OCSP stapling provided.
    OcspStapling(bool),
    /// Extended Master Secret (RFC 7627) used on TLS 1.2.
    ExtendedMasterSecret(bool),
    /// The server's cipher order.
    CipherOrder(CipherOrder),
}

/// Anything the guidelines rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "item", rename_all = "kebab-case")]
pub enum Item {
    /// A protocol version.
    Version(ProtocolVersion),
    /// A cipher suite.
    CipherSuite(CipherSuite),
    /// A key-exchange group.
    Group(NamedGroup),
    /// A signature scheme used to sign the key exchange (TLS 1.2 `signature_algorithms`).
    KexSignature(SignatureScheme),
    /// A certificate's public key.
    CertKey(CertKey),
    /// The hash in a certificate's signature algorithm.
    CertSignatureHash(HashAlg),
    /// An option.
    Option(TlsOption),
}

/// A level with how sure we are of it and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The level.
    pub level: Level,
    /// How sure the reference is.
    pub confidence: Confidence,
    /// Where the level comes from (section of `ncsc-tls.md`).
    pub source: &'static str,
}

const fn c(level: Level, source: &'static str) -> Classification {
    Classification {
        level,
        confidence: Confidence::Confirmed,
        source,
    }
}

const fn u(level: Level, source: &'static str) -> Classification {
    Classification {
        level,
        confidence: Confidence::Unconfirmed,
        source,
    }
}

/// The level of `item` under `version`. Shorthand for `classify(..).level`.
pub fn level(version: NcscVersion, item: Item) -> Level {
    classify(version, item).level
}

/// Rates one item under one edition of the guidelines.
pub fn classify(version: NcscVersion, item: Item) -> Classification {
    use Level::*;
    use NcscVersion::*;
    match item {
        Item::Version(v) => match (version, v) {
            (_, ProtocolVersion::TLS13) => c(Good, "ncsc-tls.md §1.1/§2.1"),
            (_, ProtocolVersion::TLS12) => c(Sufficient, "ncsc-tls.md §1.1/§2.1"),
            (V2_1, ProtocolVersion::TLS11 | ProtocolVersion::TLS10) => {
                c(PhaseOut, "ncsc-tls.md §1.1")
            }
            _ => c(Insufficient, "ncsc-tls.md §1.1/§2.1"),
        },
        Item::CipherSuite(s) => match suite_entry(s) {
            Some(e) => match version {
                V2_1 => c(e.v2_1, "ncsc-tls.md §4 (v2.1)"),
                V2025_05 => c(e.v2025_05, "ncsc-tls.md §4 (2025-05)"),
            },
            None => c(Insufficient, "ncsc-tls.md §1.7/§2.4: anything not listed"),
        },
        Item::Group(g) => group(version, g),
        Item::KexSignature(s) => kex_signature(version, s),
        Item::CertKey(k) => cert_key(version, k),
        Item::CertSignatureHash(h) => cert_hash(version, h),
        Item::Option(o) => option(version, o),
    }
}

fn group(version: NcscVersion, g: NamedGroup) -> Classification {
    use Level::*;
    use NcscVersion::*;
    const S: &str = "ncsc-tls.md §3.1";
    match (version, g) {
        (
            V2025_05,
            NamedGroup::X25519MLKEM768
            | NamedGroup::SECP256R1MLKEM768
            | NamedGroup::SECP384R1MLKEM1024,
        ) => c(Good, S),
        (
            V2_1,
            NamedGroup::X25519MLKEM768
            | NamedGroup::SECP256R1MLKEM768
            | NamedGroup::SECP384R1MLKEM1024,
        ) => u(Insufficient, "ncsc-tls.md §3.1: not in v2.1"),
        (
            V2_1,
            NamedGroup::SECP256R1 | NamedGroup::SECP384R1 | NamedGroup::X25519 | NamedGroup::X448,
        ) => c(Good, S),
        (V2_1, NamedGroup::SECP521R1) => u(Good, "ncsc-tls.md §1.2: secp521r1 in table 9 [?]"),
        (
            V2_1,
            NamedGroup::BRAINPOOLP256R1 | NamedGroup::BRAINPOOLP384R1 | NamedGroup::BRAINPOOLP512R1,
        ) => u(Insufficient, S),
        (
            V2025_05,
            NamedGroup::SECP256R1
            | NamedGroup::SECP384R1
            | NamedGroup::SECP521R1
            | NamedGroup::X25519
            | NamedGroup::X448
            | NamedGroup::BRAINPOOLP256R1
            | NamedGroup::BRAINPOOLP384R1
            | NamedGroup::BRAINPOOLP512R1,
        ) => c(Sufficient, S),
        // RFC 8734 code points for the same brainpool curves: the reference cannot say ([?]).
        (
            V2025_05,
            NamedGroup::BRAINPOOLP256R1TLS13
            | NamedGroup::BRAINPOOLP384R1TLS13
            | NamedGroup::BRAINPOOLP512R1TLS13,
        ) => u(Sufficient, S),
        (
            V2_1,
            NamedGroup::BRAINPOOLP256R1TLS13
            | NamedGroup::BRAINPOOLP384R1TLS13
            | NamedGroup::BRAINPOOLP512R1TLS13,
        ) => u(Insufficient, S),
        (_, NamedGroup::SECP224R1) => c(PhaseOut, S),
        (V2_1, NamedGroup::FFDHE2048) => c(PhaseOut, S),
        (V2025_05, NamedGroup::FFDHE2048) => c(Insufficient, S),
        (V2_1, NamedGroup::FFDHE3072 | NamedGroup::FFDHE4096) => c(Sufficient, S),
        (V2_1, NamedGroup::FFDHE6144 | NamedGroup::FFDHE8192) => u(Sufficient, S),
        (
            V2025_05,
            NamedGroup::FFDHE3072
            | NamedGroup::FFDHE4096
            | NamedGroup::FFDHE6144
            | NamedGroup::FFDHE8192,
        ) => c(PhaseOut, S),
        (
            V2025_05,
            NamedGroup::MLKEM512
            | NamedGroup::MLKEM768
            | NamedGroup::MLKEM1024
            | NamedGroup::X25519KYBER768DRAFT00,
        ) => u(
            Insufficient,
            "ncsc-tls.md §2.2: pure ML-KEM and Kyber drafts not listed [?]",
        ),
        _ => c(Insufficient, "ncsc-tls.md §3.1: anything else"),
    }
}

fn scheme_hash(s: SignatureScheme) -> (Option<HashAlg>, u8) {
    // For TLS 1.2 pairs the high byte is the hash, the low byte the signature algorithm.
    let hash = match s.0 {
        0x0807 | 0x0808 => Some(HashAlg::Intrinsic),
        0x0804 | 0x0809 => Some(HashAlg::Sha256),
        0x0805 | 0x080A => Some(HashAlg::Sha384),
        0x0806 | 0x080B => Some(HashAlg::Sha512),
        _ => match s.0 >> 8 {
            1 => Some(HashAlg::Md5),
            2 => Some(HashAlg::Sha1),
            3 => Some(HashAlg::Sha224),
            4 => Some(HashAlg::Sha256),
            5 => Some(HashAlg::Sha384),
            6 => Some(HashAlg::Sha512),
            _ => None,
        },
    };
    (hash, (s.0 & 0xff) as u8)
}

fn kex_signature(version: NcscVersion, s: SignatureScheme) -> Classification {
    use Level::*;
    use NcscVersion::*;
    const S: &str = "ncsc-tls.md §3.2";
    let (hash, sig) = scheme_hash(s);
    let is_dsa = s.0 < 0x0800 && sig == 2;
    // ML-DSA (FIPS 204; draft-ietf-tls-mldsa code points): post-quantum, hashing inside the
    // algorithm. Neither NCSC edition rates it; rustls with aws-lc-rs offers it, so a client
    // probe meets it. Rated like the other intrinsic-hash schemes and marked unconfirmed.
    if matches!(s.0, 0x0904..=0x0906) {
        return u(
            Sufficient,
            "not in the NCSC tables: ML-DSA (FIPS 204), rated like EdDSA (ncsc-tls.md §2.3) until NCSC rates it",
        );
    }
    match (version, hash) {
        (V2025_05, _) if is_dsa => c(Insufficient, "ncsc-tls.md §2.3: DSS insufficient"),
        (_, Some(HashAlg::Md5)) => match version {
            V2_1 => u(PhaseOut, S),
            V2025_05 => c(Insufficient, S),
        },
        (V2_1, Some(HashAlg::Sha1)) => c(PhaseOut, S),
        (V2025_05, Some(HashAlg::Sha1)) => c(Insufficient, S),
        (V2_1, Some(HashAlg::Sha224)) => {
            u(Sufficient, "ncsc-tls.md §1.5 (internet.nl internal score)")
        }
        (V2025_05, Some(HashAlg::Sha224)) => c(PhaseOut, S),
        (_, Some(HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512)) => c(Good, S),
        // internet.nl 1.10 counted ed25519 as SHA-2 based but left ed448 (SHAKE256) out of its
        // SHA-2 set, so a server signing only with ed448 fell to the non-SHA-2 (phase-out) rating.
        (V2_1, Some(HashAlg::Intrinsic)) if s == SignatureScheme(0x0808) => u(
            PhaseOut,
            "ncsc-tls.md §3.2: INL-1.10 excluded ed448 (SHAKE256) from SHA-2",
        ),
        (V2_1, Some(HashAlg::Intrinsic)) => {
            u(Good, "ncsc-tls.md §3.2: INL-1.10 counted ed25519 as SHA-2")
        }
        (V2025_05, Some(HashAlg::Intrinsic)) => c(Sufficient, "ncsc-tls.md §2.3: EdDSA sufficient"),
        (_, None) => c(Insufficient, "not a known signature scheme"),
    }
}

fn cert_key(version: NcscVersion, k: CertKey) -> Classification {
    use Level::*;
    use NcscVersion::*;
    match (version, k) {
        (V2_1, CertKey::Rsa { bits }) if bits >= 3072 => c(Good, "ncsc-tls.md §1.3 (T8)"),
        (V2_1, CertKey::Rsa { bits }) if bits >= 2048 => c(Sufficient, "ncsc-tls.md §1.3 (T8)"),
        (V2025_05, CertKey::Rsa { bits }) if bits >= 3072 => c(Sufficient, "ncsc-tls.md §2.3"),
        (V2025_05, CertKey::Rsa { bits }) if bits >= 2048 => c(PhaseOut, "ncsc-tls.md §2.3"),
        (_, CertKey::Rsa { .. }) => c(Insufficient, "ncsc-tls.md §1.3/§2.3: RSA < 2048"),
        (
            V2_1,
            CertKey::Ec {
                curve: NamedGroup::SECP256R1 | NamedGroup::SECP384R1,
            },
        ) => c(Good, "ncsc-tls.md §1.3 (T9)"),
        (
            V2_1,
            CertKey::Ec {
                curve: NamedGroup::SECP521R1,
            },
        ) => u(Good, "ncsc-tls.md §1.2: secp521r1 [?]"),
        (
            V2025_05,
            CertKey::Ec {
                curve:
                    NamedGroup::SECP256R1
                    | NamedGroup::SECP384R1
                    | NamedGroup::SECP521R1
                    | NamedGroup::BRAINPOOLP256R1
                    | NamedGroup::BRAINPOOLP384R1
                    | NamedGroup::BRAINPOOLP512R1,
            },
        ) => c(Sufficient, "ncsc-tls.md §2.3"),
        (
            _,
            CertKey::Ec {
                curve: NamedGroup::SECP224R1,
            },
        ) => c(PhaseOut, "ncsc-tls.md §1.3/§2.3"),
        (_, CertKey::Ec { .. }) => c(Insufficient, "ncsc-tls.md §1.3/§2.3: other curve"),
        (V2025_05, CertKey::Ed25519 | CertKey::Ed448) => c(Sufficient, "ncsc-tls.md §2.3"),
        (V2_1, CertKey::Ed25519 | CertKey::Ed448) => {
            u(Insufficient, "ncsc-tls.md §1.3: INL-1.10 failed EdDSA")
        }
        (V2_1, CertKey::Dsa { .. }) => u(Insufficient, "ncsc-tls.md §1.3: DSA [?]"),
        (V2025_05, CertKey::Dsa { .. }) => c(Insufficient, "ncsc-tls.md §2.3: DSS"),
        (_, CertKey::Other) => c(Insufficient, "ncsc-tls.md §1.3/§2.3: other algorithm"),
    }
}

fn cert_hash(version: NcscVersion, h: HashAlg) -> Classification {
    use Level::*;
    use NcscVersion::*;
    match (version, h) {
        (_, HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512) => {
            c(Good, "ncsc-tls.md §1.3/§2.3")
        }
        (V2025_05, HashAlg::Sha224) => c(PhaseOut, "ncsc-tls.md §2.3"),
        (V2_1, HashAlg::Sha224) => c(Insufficient, "ncsc-tls.md §3.3 (INL-1.10 failed SHA-224)"),
        (_, HashAlg::Sha1 | HashAlg::Md5) => c(Insufficient, "ncsc-tls.md §1.3/§2.3"),
        (V2025_05, HashAlg::Intrinsic) => c(Sufficient, "ncsc-tls.md §2.3: EdDSA"),
        (V2_1, HashAlg::Intrinsic) => u(Insufficient, "ncsc-tls.md §3.3: INL-1.10 failed Ed25519"),
    }
}

fn option(version: NcscVersion, o: TlsOption) -> Classification {
    use Level::*;
    use NcscVersion::*;
    match (version, o) {
        (_, TlsOption::Compression(true)) => c(Insufficient, "ncsc-tls.md §1.6/§2.6"),
        (_, TlsOption::Compression(false)) => c(Good, "ncsc-tls.md §1.6/§2.6"),
        (_, TlsOption::SecureRenegotiation(false)) => c(Insufficient, "ncsc-tls.md §1.6/§2.6"),
        (_, TlsOption::SecureRenegotiation(true)) => c(Good, "ncsc-tls.md §1.6/§2.6"),
        (_, TlsOption::ClientRenegotiation(ClientRenegotiation::Refused)) => {
            c(Good, "ncsc-tls.md §1.6/§2.6")
        }
        (V2_1, TlsOption::ClientRenegotiation(_)) => c(Sufficient, "ncsc-tls.md §1.6 (T13)"),
        (V2025_05, TlsOption::ClientRenegotiation(ClientRenegotiation::Limited)) => {
            c(Sufficient, "ncsc-tls.md §2.6")
        }
        (V2025_05, TlsOption::ClientRenegotiation(ClientRenegotiation::Unlimited)) => {
            c(PhaseOut, "ncsc-tls.md §2.6")
        }
        (_, TlsOption::ZeroRtt(true)) => c(Insufficient, "ncsc-tls.md §1.6/§2.6"),
        (_, TlsOption::ZeroRtt(false)) => c(Good, "ncsc-tls.md §1.6/§2.6"),
        (V2_1, TlsOption::OcspStapling(true)) => c(Good, "ncsc-tls.md §1.6 (T15)"),
        (V2_1, TlsOption::OcspStapling(false)) => c(Sufficient, "ncsc-tls.md §1.6 (T15)"),
        (V2025_05, TlsOption::OcspStapling(true)) => u(Good, "ncsc-tls.md §2.6: NCSC level [?]"),
        (V2025_05, TlsOption::OcspStapling(false)) => {
            u(Sufficient, "ncsc-tls.md §2.6: NCSC level [?]")
        }
        (_, TlsOption::ExtendedMasterSecret(true)) => c(Good, "ncsc-tls.md §2.6 (4.1)"),
        (V2025_05, TlsOption::ExtendedMasterSecret(false)) => u(
            Insufficient,
            "ncsc-tls.md §2.6: internet.nl fails; NCSC wording [?]",
        ),
        (V2_1, TlsOption::ExtendedMasterSecret(false)) => {
            u(Good, "ncsc-tls.md §1.6: not in v2.1 [?]")
        }
        (_, TlsOption::CipherOrder(CipherOrder::Enforced | CipherOrder::NotApplicable)) => {
            c(Good, "ncsc-tls.md §1.6/§2.6")
        }
        (_, TlsOption::CipherOrder(CipherOrder::Violated)) => {
            c(Insufficient, "ncsc-tls.md §1.6/§2.6")
        }
    }
}

#[cfg(test)]
mod tests;
