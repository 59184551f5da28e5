//! The four hierarchies of the test PKI (plus a rogue one), shaped like the real ones.
//!
//! Names carry a `TEST` marker so nobody mistakes them for PKIoverheid's. Policy OIDs, EKUs, key
//! usages, path lengths, key sizes and signature algorithms follow `medmij-pki.md` §1.3–§1.4.

use crate::keys::{KeyAlg, KeyStyle, SigAlg};
use crate::oids::*;
use rcgen::ExtendedKeyUsagePurpose as Eku;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hierarchy {
    /// Like PKIoverheid Private Root CA - G1 → Private Services CA - G1 → TSP CA.
    G1,
    /// Like G4 Root Priv G-TLS 2024 → G4 Intm Priv G-TLS SYS 2024 → TSP CA (RSASSA-PSS-SHA512).
    G4,
    /// A public OV hierarchy (frontchannel).
    PublicOv,
    /// A public DV hierarchy (frontchannel in test environments).
    PublicDv,
    /// A root nobody trusts, a byte-identical look-alike of the G1 root's name (for "unknown
    /// root" fixtures).
    Rogue,
}

impl Hierarchy {
    /// Every hierarchy.
    pub const ALL: [Hierarchy; 5] = [
        Hierarchy::G1,
        Hierarchy::G4,
        Hierarchy::PublicOv,
        Hierarchy::PublicDv,
        Hierarchy::Rogue,
    ];

    /// The label used in files and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Hierarchy::G1 => "g1",
            Hierarchy::G4 => "g4",
            Hierarchy::PublicOv => "public-ov",
            Hierarchy::PublicDv => "public-dv",
            Hierarchy::Rogue => "rogue",
        }
    }

    /// The ID of the CA that issues node certificates.
    pub fn issuing_ca(self) -> &'static str {
        match self {
            Hierarchy::G1 => "g1-tsp",
            Hierarchy::G4 => "g4-tsp",
            Hierarchy::PublicOv => "public-ov-ca",
            Hierarchy::PublicDv => "public-dv-ca",
            Hierarchy::Rogue => "rogue-ca",
        }
    }

    /// The ID of the root.
    pub fn root_ca(self) -> &'static str {
        match self {
            Hierarchy::G1 => "g1-root",
            Hierarchy::G4 => "g4-root",
            Hierarchy::PublicOv => "public-ov-root",
            Hierarchy::PublicDv => "public-dv-root",
            Hierarchy::Rogue => "rogue-root",
        }
    }

    /// The real RSA size of node certificates in this hierarchy.
    pub fn leaf_rsa_bits(self) -> u32 {
        match self {
            Hierarchy::G4 => 3072,
            _ => 2048,
        }
    }

    /// The leaf policy OIDs a valid node certificate carries.
    pub fn leaf_policies(self) -> Vec<String> {
        match self {
            Hierarchy::G1 | Hierarchy::Rogue => vec![PKIO_G1_PRIVATE_SERVER.into()],
            Hierarchy::G4 => vec![ETSI_NCP.into(), PKIO_G4_PRIVATE_TLS_SERVER.into()],
            Hierarchy::PublicOv => vec![CABF_OV.into()],
            Hierarchy::PublicDv => vec![CABF_DV.into()],
        }
    }

    /// The leaf EKUs: PKIoverheid private leaves carry both, public TLS leaves serverAuth only.
    pub fn leaf_eku(self) -> Vec<Eku> {
        match self {
            Hierarchy::G1 | Hierarchy::G4 | Hierarchy::Rogue => {
                vec![Eku::ServerAuth, Eku::ClientAuth]
            }
            Hierarchy::PublicOv | Hierarchy::PublicDv => vec![Eku::ServerAuth],
        }
    }

    /// Whether the hierarchy is a backchannel (PKIoverheid private) one.
    pub fn is_backchannel(self) -> bool {
        matches!(self, Hierarchy::G1 | Hierarchy::G4 | Hierarchy::Rogue)
    }
}

impl fmt::Display for Hierarchy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Hierarchy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Hierarchy::ALL
            .into_iter()
            .find(|h| h.label() == s)
            .ok_or_else(|| {
                format!("unknown hierarchy `{s}`: expected g1, g4, public-ov, public-dv or rogue")
            })
    }
}

/// One CA to create.
#[derive(Clone, Debug)]
pub struct CaSpec {
    /// ID (also in URLs).
    pub id: &'static str,
    /// Hierarchy.
    pub hierarchy: Hierarchy,
    /// Subject CN.
    pub cn: &'static str,
    /// Subject O.
    pub org: &'static str,
    /// Subject C.
    pub country: &'static str,
    /// Parent CA ID.
    pub parent: Option<&'static str>,
    /// Policy OIDs.
    pub policies: &'static [&'static str],
    /// EKUs (empty = no EKU extension, like the G1 CAs).
    pub eku: Vec<Eku>,
    /// pathLenConstraint.
    pub pathlen: Option<u8>,
    /// Real RSA size.
    pub rsa_bits: u32,
    /// Always P-256, whatever the key style (the legacy SHA-1 CA).
    pub always_ecdsa: bool,
    /// OCSP responses come from a delegated responder certificate.
    pub delegated_ocsp: bool,
}

impl CaSpec {
    /// The key algorithm under a key style.
    pub fn key_alg(&self, style: KeyStyle) -> KeyAlg {
        if self.always_ecdsa {
            KeyAlg::EcdsaP256
        } else {
            style.alg(self.rsa_bits)
        }
    }

    /// The signature algorithm a CA with this key signs with.
    pub fn sig_alg(&self, key: KeyAlg) -> SigAlg {
        match (self.hierarchy, key) {
            (Hierarchy::G4, KeyAlg::Rsa(_)) => SigAlg::RsaPssSha512,
            (_, KeyAlg::Rsa(_)) => SigAlg::RsaPkcs1Sha256,
            (_, KeyAlg::EcdsaP256) => SigAlg::EcdsaSha256,
        }
    }
}

/// The CAs `pki init` creates, parents first.
pub fn ca_specs() -> Vec<CaSpec> {
    let g1_policies: &'static [&'static str] = &[
        PKIO_G1_PRIVATE_84,
        PKIO_G1_PRIVATE_85,
        PKIO_G1_PRIVATE_SERVER,
    ];
    let spec = |id, hierarchy, cn, org, parent, policies, eku, pathlen, rsa_bits| CaSpec {
        id,
        hierarchy,
        cn,
        org,
        country: "NL",
        parent,
        policies,
        eku,
        pathlen,
        rsa_bits,
        always_ecdsa: false,
        delegated_ocsp: false,
    };
    use Hierarchy::*;
    vec![
        spec(
            "g1-root",
            G1,
            "TEST Staat der Nederlanden Private Root CA - G1",
            "TEST Staat der Nederlanden",
            None,
            &[],
            vec![],
            None,
            4096,
        ),
        spec(
            "g1-domain",
            G1,
            "TEST Staat der Nederlanden Private Services CA - G1",
            "TEST Staat der Nederlanden",
            Some("g1-root"),
            g1_policies,
            vec![],
            None,
            4096,
        ),
        CaSpec {
            delegated_ocsp: true,
            ..spec(
                "g1-tsp",
                G1,
                "TEST TSP PKIoverheid Private Services CA - G1",
                "TEST TSP B.V.",
                Some("g1-domain"),
                g1_policies,
                vec![],
                Some(0),
                4096,
            )
        },
        CaSpec {
            always_ecdsa: true,
            ..spec(
                "g1-legacy",
                G1,
                "TEST Legacy PKIoverheid Private Services CA - G1",
                "TEST Legacy TSP B.V.",
                Some("g1-domain"),
                g1_policies,
                vec![],
                Some(0),
                4096,
            )
        },
        spec(
            "g4-root",
            G4,
            "TEST Staat der Nederlanden - G4 Root Priv G-TLS - 2024",
            "TEST Staat der Nederlanden",
            None,
            &[],
            vec![],
            None,
            4096,
        ),
        spec(
            "g4-intm",
            G4,
            "TEST Staat der Nederlanden - G4 Intm Priv G-TLS SYS - 2024",
            "TEST Staat der Nederlanden",
            Some("g4-root"),
            &[
                ETSI_NCP,
                ETSI_NCP_PLUS,
                PKIO_G4_OCSP_INT,
                PKIO_G4_OCSP_TSP,
                PKIO_G4_PRIVATE_TLS_SERVER,
            ],
            vec![Eku::ServerAuth, Eku::ClientAuth],
            None,
            4096,
        ),
        spec(
            "g4-tsp",
            G4,
            "TEST TSP - G4 PKIo Priv G-TLS SYS - 2025",
            "TEST TSP B.V.",
            Some("g4-intm"),
            &[ETSI_NCP, ETSI_NCP_PLUS, PKIO_G4_PRIVATE_TLS_SERVER],
            vec![Eku::ServerAuth, Eku::ClientAuth],
            Some(0),
            4096,
        ),
        spec(
            "public-ov-root",
            PublicOv,
            "TEST Public Root CA R1",
            "TEST Public Trust Services B.V.",
            None,
            &[],
            vec![],
            None,
            4096,
        ),
        spec(
            "public-ov-ca",
            PublicOv,
            "TEST OV TLS Issuing CA 2025",
            "TEST Public Trust Services B.V.",
            Some("public-ov-root"),
            &[CABF_OV],
            vec![Eku::ServerAuth],
            Some(0),
            2048,
        ),
        CaSpec {
            country: "US",
            ..spec(
                "public-dv-root",
                PublicDv,
                "TEST DV Root CA X1",
                "TEST Free Certificates Inc.",
                None,
                &[],
                vec![],
                None,
                4096,
            )
        },
        CaSpec {
            country: "US",
            ..spec(
                "public-dv-ca",
                PublicDv,
                "TEST DV TLS CA 2025",
                "TEST Free Certificates Inc.",
                Some("public-dv-root"),
                &[CABF_DV],
                vec![Eku::ServerAuth],
                Some(0),
                2048,
            )
        },
        // A look-alike of the G1 root: byte for byte the same subject (C as PrintableString, O
        // and CN as UTF8String), its own key. A verifier that trusts the G1 root finds a name
        // match and a signature that does not verify: an unknown CA (core.tls.311).
        spec(
            "rogue-root",
            Rogue,
            "TEST Staat der Nederlanden Private Root CA - G1",
            "TEST Staat der Nederlanden",
            None,
            &[],
            vec![],
            None,
            4096,
        ),
        spec(
            "rogue-ca",
            Rogue,
            "TEST Rogue Private Services CA",
            "TEST Rogue B.V.",
            Some("rogue-root"),
            g1_policies,
            vec![],
            Some(0),
            2048,
        ),
    ]
}
