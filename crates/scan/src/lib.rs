//! The MedMij endpoint scanner: what an endpoint does (facts, from probes), judged per
//! requirement under a profile (findings), rendered for people and machines (reports).
//!
//! - `wire/`: ClientHello bytes written by hand and the server's first flight parsed, with
//!   budgets; `net.rs`: connections with a deadline and the per-host budget.
//! - `probe/`: `raw.rs` enumeration by hand-written hellos, `tls.rs` real rustls handshakes
//!   (the TLS 1.3 chain, client-certificate behaviour, 0-RTT, HSTS), `refusal.rs` bad client
//!   certificates, `http.rs` plain HTTP; `probe::scan_endpoint` runs them within the budget.
//! - `judge/`: facts → one finding per scan check of the registry; no I/O.
//! - `report.rs` (JSON schema `medmij-tls/scan/1`), `html.rs`, `junit.rs`.

pub mod facts;
pub mod ffdhe;
pub mod html;
pub mod judge;
pub mod junit;
pub mod net;
pub mod probe;
pub mod report;
pub mod targets;
pub mod wire;

pub use facts::EndpointFacts;
pub use judge::{Context, Role, Side};
pub use probe::{ClientIdentity, ProbeOptions};
pub use report::{ScanReport, TargetReport};

use base64::Engine as _;
use x509_parser::prelude::FromDer;

/// A DER `Name` as text (lossy; `?` for what does not parse).
pub(crate) fn dn_text(der: &[u8]) -> String {
    match x509_parser::x509::X509Name::from_der(der) {
        Ok((_, n)) => medmij_lint::facts::dn_text(&n),
        Err(_) => format!("(unparsable name, {} bytes)", der.len()),
    }
}

/// A certificate as sent, with what people want to see of it.
pub(crate) fn cert_fact(der: &[u8]) -> facts::CertFact {
    let mut f = facts::CertFact {
        der: base64::engine::general_purpose::STANDARD.encode(der),
        subject: String::new(),
        issuer: String::new(),
        not_after: String::new(),
        ocsp_responder: false,
    };
    if let Ok((_, c)) = x509_parser::certificate::X509Certificate::from_der(der) {
        f.subject = medmij_lint::facts::dn_text(c.subject());
        f.issuer = medmij_lint::facts::dn_text(c.issuer());
        f.not_after = c
            .validity()
            .not_after
            .to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        f.ocsp_responder = !medmij_verify::verifier::ocsp_urls(&c).is_empty();
    }
    f
}

/// Serde for a u16 code point as `"0xC02F"`.
pub(crate) mod codeser {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{v:04X}"))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a code point: {s:?}")))
    }

    pub(crate) fn parse(s: &str) -> Option<u16> {
        let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
        u16::from_str_radix(h, 16).ok()
    }

    pub(crate) mod opt {
        use serde::{Deserialize, Deserializer, Serializer};

        pub(crate) fn serialize<S: Serializer>(v: &Option<u16>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<u16>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                super::parse(&s)
                    .ok_or_else(|| serde::de::Error::custom(format!("not a code point: {s:?}")))
            })
            .transpose()
        }
    }
}

/// Serde for a protocol version as its name (`"TLSv1.3"`).
pub(crate) mod verser {
    use medmij_core::wire::ProtocolVersion;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &ProtocolVersion, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<ProtocolVersion, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a TLS version: {s:?}")))
    }

    fn parse(s: &str) -> Option<ProtocolVersion> {
        ProtocolVersion::parse(s).or_else(|| crate::codeser::parse(s).map(ProtocolVersion))
    }

    pub(crate) mod opt {
        use medmij_core::wire::ProtocolVersion;
        use serde::{Deserialize, Deserializer, Serializer};

        pub(crate) fn serialize<S: Serializer>(
            v: &Option<ProtocolVersion>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<ProtocolVersion>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                super::parse(&s)
                    .ok_or_else(|| serde::de::Error::custom(format!("not a TLS version: {s:?}")))
            })
            .transpose()
        }
    }

    pub(crate) mod list {
        use medmij_core::wire::ProtocolVersion;
        use serde::ser::SerializeSeq;
        use serde::{Deserialize, Deserializer, Serializer};

        pub(crate) fn serialize<S: Serializer>(
            v: &[ProtocolVersion],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for x in v {
                seq.serialize_element(&x.to_string())?;
            }
            seq.end()
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<ProtocolVersion>, D::Error> {
            Vec::<String>::deserialize(d)?
                .into_iter()
                .map(|s| {
                    super::parse(&s).ok_or_else(|| {
                        serde::de::Error::custom(format!("not a TLS version: {s:?}"))
                    })
                })
                .collect()
        }
    }
}

/// Serde for bytes as lowercase hex.
pub(crate) mod hexser {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&medmij_core::hex::encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        (0..s.len())
            .step_by(2)
            .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| serde::de::Error::custom("not hex"))
    }
}
