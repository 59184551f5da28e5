//! CRLs: parsed once from the exact received bytes, signature and issuer checked, delta and
//! indirect CRLs refused, revoked serials indexed for O(1) lookup.
//!
//! The revoked list is walked with a small DER reader rather than a full X.509 parser so that a
//! CRL with a million entries loads in well under a second and the index stays small (serials
//! inline, no per-entry allocation). Everything read from the CRL is bounds-checked.

use crate::der_time::{parse_time, rfc3339};
use crate::sigverify::{self, contents, elements, sequence_elements, tlv_len, SigError};
use std::collections::HashSet;

const OID_CRL_NUMBER: &[u8] = &[0x55, 0x1d, 0x14];
const OID_DELTA_CRL_INDICATOR: &[u8] = &[0x55, 0x1d, 0x1b];
const OID_ISSUING_DISTRIBUTION_POINT: &[u8] = &[0x55, 0x1d, 0x1c];
const OID_AUTHORITY_KEY_IDENTIFIER: &[u8] = &[0x55, 0x1d, 0x23];
const OID_CERTIFICATE_ISSUER: &[u8] = &[0x55, 0x1d, 0x1d];

/// Why a CRL cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CrlError {
    /// Not a DER CertificateList.
    #[error("{source_name}: malformed CRL: {what}")]
    Malformed {
        /// Where it came from.
        source_name: String,
        /// Which part is wrong.
        what: String,
    },
    /// Larger than the configured maximum.
    #[error("{source_name}: CRL is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Where it came from.
        source_name: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A delta CRL (RFC 5280 §5.2.4): not supported, so refused rather than misread as complete.
    #[error("{source_name}: delta CRLs are not supported (deltaCRLIndicator present)")]
    Delta {
        /// Where it came from.
        source_name: String,
    },
    /// An indirect CRL (entries for another issuer) or an unknown critical extension.
    #[error("{source_name}: unsupported critical extension {oid}")]
    UnsupportedCritical {
        /// Where it came from.
        source_name: String,
        /// The extension OID.
        oid: String,
    },
    /// An issuingDistributionPoint this verifier cannot honour (RFC 5280 §5.2.5): an indirect
    /// CRL, a CRL of attribute certificates only, a distribution point named relative to the
    /// issuer. Refused rather than misread as a complete CRL.
    #[error("{source_name}: unusable issuingDistributionPoint: {what}")]
    UnsupportedScope {
        /// Where it came from.
        source_name: String,
        /// What the extension says.
        what: String,
    },
    /// Signed by someone else than the certificate's issuer.
    #[error("{source_name}: CRL issuer does not match the certificate's issuer")]
    IssuerMismatch {
        /// Where it came from.
        source_name: String,
    },
    /// The signature does not verify.
    #[error("{source_name}: {error}")]
    Signature {
        /// Where it came from.
        source_name: String,
        /// The signature problem.
        error: SigError,
    },
}

/// A serial number, leading zero bytes removed, stored inline (RFC 5280 caps serials at 20
/// octets; longer ones from non-conforming CAs go to a separate set).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SerialKey {
    len: u8,
    bytes: [u8; 20],
}

/// Strips DER sign padding so `00 8F` and `8F` compare equal.
pub fn normalize_serial(s: &[u8]) -> &[u8] {
    let mut s = s;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    s
}

/// RFC 5280 §5.3.1 reason flags (BIT STRING bits 1–8: keyCompromise … aACompromise), as a mask.
pub type ReasonFlags = u16;
/// Every reason a certificate can be revoked for: a set of CRLs whose scopes together cover this
/// mask is complete for reasons (RFC 5280 §6.3.3 (b)(2)(iii) and the reasons_mask of §6.3.3).
pub const ALL_REASONS: ReasonFlags = 0b1_1111_1110;

/// What a CRL covers, from its issuingDistributionPoint (RFC 5280 §5.2.5). A CRL without the
/// extension covers every certificate of its issuer for every reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// The distribution point's fullName URIs, when the IDP names one: the CRL then answers only
    /// for certificates whose cRLDistributionPoints name one of them.
    pub dp_uris: Option<Vec<String>>,
    /// onlyContainsUserCerts: never an answer for a CA certificate.
    pub only_user: bool,
    /// onlyContainsCACerts: never an answer for an end entity.
    pub only_ca: bool,
    /// onlySomeReasons: complete only together with CRLs covering the other reasons.
    pub reasons: Option<ReasonFlags>,
}

impl Scope {
    /// The reasons the CRL covers.
    pub fn reason_mask(&self) -> ReasonFlags {
        self.reasons.unwrap_or(ALL_REASONS)
    }
}

/// A parsed, verified CRL.
#[derive(Clone)]
pub struct IndexedCrl {
    /// Where it came from (URL or file).
    pub source: String,
    /// Raw DER of the issuer Name.
    pub issuer: Vec<u8>,
    /// The issuer's SubjectPublicKeyInfo it was verified with (to verify a refreshed copy).
    pub issuer_spki: Vec<u8>,
    /// thisUpdate (Unix seconds).
    pub this_update: i64,
    /// nextUpdate (RFC 5280 §5.1.2.5: conforming CAs MUST include it; the engine refuses a
    /// CRL without it, which could never go stale).
    pub next_update: Option<i64>,
    /// cRLNumber as hex, if present.
    pub number: Option<String>,
    /// cRLNumber, leading zeros removed (compare with [`IndexedCrl::is_newer_than`]).
    pub number_value: Vec<u8>,
    /// What the CRL covers (issuingDistributionPoint).
    pub scope: Scope,
    /// Where it came from, for evidence (set by the engine; the CRL mechanism by default).
    pub origin: crate::evidence::Source,
    /// Size of the DER.
    pub der_len: usize,
    serials: HashSet<SerialKey>,
    long_serials: HashSet<Vec<u8>>,
}

impl std::fmt::Debug for IndexedCrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedCrl")
            .field("source", &self.source)
            .field("this_update", &rfc3339(self.this_update))
            .field("next_update", &self.next_update.map(rfc3339))
            .field("entries", &self.len())
            .finish()
    }
}

/// The issuer a CRL must come from.
#[derive(Clone, Copy, Debug)]
pub struct CrlIssuer<'a> {
    /// Raw DER of the issuer's subject Name.
    pub subject: &'a [u8],
    /// The issuer's SubjectPublicKeyInfo DER.
    pub spki: &'a [u8],
}

impl IndexedCrl {
    /// Parses `der` (from `source`), checks it is from `issuer` and signed by it, and indexes it.
    pub fn parse(
        der: &[u8],
        source: &str,
        issuer: CrlIssuer<'_>,
        max_bytes: usize,
    ) -> Result<IndexedCrl, CrlError> {
        let bad = |what: &str| CrlError::Malformed {
            source_name: source.to_string(),
            what: what.to_string(),
        };
        if der.len() > max_bytes {
            return Err(CrlError::TooLarge {
                source_name: source.into(),
                size: der.len(),
                limit: max_bytes,
            });
        }
        let (_, total) = tlv_len(der).ok_or_else(|| bad("truncated or bad length"))?;
        if total != der.len() {
            return Err(bad("trailing bytes after the CertificateList"));
        }
        let outer = sequence_elements(der).ok_or_else(|| bad("not a SEQUENCE"))?;
        let [tbs, sig_alg, sig_value] = outer.as_slice() else {
            return Err(bad("CertificateList must have three elements"));
        };
        let sig_alg_contents = contents(sig_alg).ok_or_else(|| bad("signatureAlgorithm"))?;
        let sig_bits = contents(sig_value)
            .filter(|c| sig_value[0] == 0x03 && c.first() == Some(&0))
            .ok_or_else(|| bad("signatureValue"))?;
        let tbs_el = sequence_elements(tbs).ok_or_else(|| bad("tbsCertList"))?;
        let mut i = 0;
        if tbs_el.first().is_some_and(|e| e[0] == 0x02) {
            i += 1; // version
        }
        let inner_alg = tbs_el.get(i).ok_or_else(|| bad("tbsCertList.signature"))?;
        if *inner_alg != *sig_alg {
            return Err(bad("tbsCertList.signature differs from signatureAlgorithm"));
        }
        let issuer_name = tbs_el
            .get(i + 1)
            .filter(|e| e[0] == 0x30)
            .ok_or_else(|| bad("issuer"))?;
        let this_update = tbs_el
            .get(i + 2)
            .and_then(|e| parse_time(e))
            .ok_or_else(|| bad("thisUpdate"))?;
        let mut j = i + 3;
        let next_update = match tbs_el.get(j) {
            Some(e) if e[0] == 0x17 || e[0] == 0x18 => {
                j += 1;
                Some(parse_time(e).ok_or_else(|| bad("nextUpdate"))?)
            }
            _ => None,
        };
        let mut revoked_el = None;
        if tbs_el.get(j).is_some_and(|e| e[0] == 0x30) {
            revoked_el = tbs_el.get(j).copied();
            j += 1;
        }
        let mut number = None;
        let mut number_value = Vec::new();
        let mut scope = Scope::default();
        if let Some(ext) = tbs_el.get(j) {
            if ext[0] != 0xa0 {
                return Err(bad("unexpected element after revokedCertificates"));
            }
            let exts = contents(ext)
                .and_then(sequence_elements)
                .ok_or_else(|| bad("crlExtensions"))?;
            for e in exts {
                let (oid, critical, value) = extension(e).ok_or_else(|| bad("extension"))?;
                match oid {
                    OID_DELTA_CRL_INDICATOR => {
                        return Err(CrlError::Delta {
                            source_name: source.into(),
                        })
                    }
                    OID_CRL_NUMBER if critical => {
                        return Err(bad(
                            "cRLNumber is marked critical (RFC 5280 §5.2.3: non-critical)",
                        ))
                    }
                    OID_CRL_NUMBER => {
                        let n = contents(value)
                            .filter(|n| n.first() == Some(&0x02))
                            .and_then(contents)
                            .filter(|n| !n.is_empty() && n[0] & 0x80 == 0)
                            .ok_or_else(|| bad("cRLNumber is not a non-negative INTEGER"))?;
                        number_value = normalize_serial(n).to_vec();
                        number = Some(medmij_core::hex::encode(n));
                    }
                    OID_ISSUING_DISTRIBUTION_POINT => {
                        scope = parse_idp(value, source)?;
                    }
                    OID_AUTHORITY_KEY_IDENTIFIER => {}
                    _ if critical => {
                        return Err(CrlError::UnsupportedCritical {
                            source_name: source.into(),
                            oid: oid_string(oid),
                        })
                    }
                    _ => {}
                }
            }
            j += 1;
        }
        if number.is_none() {
            // RFC 5280 §5.2.3: conforming CRL issuers MUST include the CRL number; without it two
            // CRLs cannot be ordered, so an old one could be replayed.
            return Err(bad("no cRLNumber extension (RFC 5280 §5.2.3 requires one)"));
        }
        if tbs_el.len() != j {
            return Err(bad("extra elements in tbsCertList"));
        }
        if issuer_name != &issuer.subject {
            return Err(CrlError::IssuerMismatch {
                source_name: source.into(),
            });
        }
        sigverify::verify(sig_alg_contents, issuer.spki, tbs, &sig_bits[1..]).map_err(|error| {
            CrlError::Signature {
                source_name: source.into(),
                error,
            }
        })?;

        let mut serials = HashSet::new();
        let mut long_serials = HashSet::new();
        if let Some(list) = revoked_el {
            let (hdr, total) = tlv_len(list).ok_or_else(|| bad("revokedCertificates"))?;
            let mut rest = &list[hdr..total];
            // Each entry is ~40 bytes; reserve from the size so a million entries do not rehash.
            serials.reserve(rest.len() / 40);
            while !rest.is_empty() {
                let (_, t) = tlv_len(rest).ok_or_else(|| bad("revoked entry length"))?;
                let entry = &rest[..t];
                rest = &rest[t..];
                if entry[0] != 0x30 {
                    return Err(bad("revoked entry is not a SEQUENCE"));
                }
                let (eh, _) = tlv_len(entry).ok_or_else(|| bad("revoked entry"))?;
                let body = &entry[eh..];
                let (_, st) = tlv_len(body)
                    .filter(|_| body[0] == 0x02)
                    .ok_or_else(|| bad("revoked entry serial"))?;
                let serial = normalize_serial(
                    contents(&body[..st]).ok_or_else(|| bad("revoked entry serial"))?,
                );
                let after = &body[st..];
                let (_, dt) = tlv_len(after).ok_or_else(|| bad("revoked entry date"))?;
                parse_time(&after[..dt]).ok_or_else(|| bad("revocationDate"))?;
                if let Some(ext) = after.get(dt..).filter(|x| !x.is_empty()) {
                    for e in sequence_elements(ext).ok_or_else(|| bad("crlEntryExtensions"))? {
                        let (oid, critical, _) =
                            extension(e).ok_or_else(|| bad("entry extension"))?;
                        if oid == OID_CERTIFICATE_ISSUER || (critical && oid != [0x55, 0x1d, 0x15])
                        {
                            return Err(CrlError::UnsupportedCritical {
                                source_name: source.into(),
                                oid: oid_string(oid),
                            });
                        }
                    }
                }
                if serial.len() <= 20 {
                    let mut k = SerialKey {
                        len: serial.len() as u8,
                        bytes: [0; 20],
                    };
                    k.bytes[..serial.len()].copy_from_slice(serial);
                    serials.insert(k);
                } else {
                    long_serials.insert(serial.to_vec());
                }
            }
        }
        Ok(IndexedCrl {
            source: source.into(),
            issuer: issuer_name.to_vec(),
            issuer_spki: issuer.spki.to_vec(),
            this_update,
            next_update,
            number,
            number_value,
            scope,
            origin: crate::evidence::Source::CrlMechanism,
            der_len: der.len(),
            serials,
            long_serials,
        })
    }

    /// The CRL, saying where it came from.
    pub fn with_origin(mut self, origin: crate::evidence::Source) -> IndexedCrl {
        self.origin = origin;
        self
    }

    /// Whether this CRL's cRLNumber is greater than `other`'s (RFC 5280 §5.2.3: numbers increase
    /// monotonically per issuer and scope), so a replayed older CRL never replaces a newer one.
    pub fn is_newer_than(&self, other: &IndexedCrl) -> bool {
        (self.number_value.len(), &self.number_value)
            > (other.number_value.len(), &other.number_value)
    }

    /// Whether `serial` (as in the certificate, sign padding allowed) is listed.
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        let s = normalize_serial(serial);
        if s.len() <= 20 {
            let mut k = SerialKey {
                len: s.len() as u8,
                bytes: [0; 20],
            };
            k.bytes[..s.len()].copy_from_slice(s);
            self.serials.contains(&k)
        } else {
            self.long_serials.contains(s)
        }
    }

    /// Number of revoked entries.
    pub fn len(&self) -> usize {
        self.serials.len() + self.long_serials.len()
    }

    /// Whether no certificate is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate heap bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        self.serials.capacity() * (std::mem::size_of::<SerialKey>() + 1)
            + self
                .long_serials
                .iter()
                .map(|v| v.len() + 24)
                .sum::<usize>()
            + self.issuer.len()
    }
}

/// Parses the issuingDistributionPoint extension value (an OCTET STRING holding the SEQUENCE).
fn parse_idp(value: &[u8], source: &str) -> Result<Scope, CrlError> {
    let unusable = |what: &str| CrlError::UnsupportedScope {
        source_name: source.to_string(),
        what: what.to_string(),
    };
    let bad = |what: &str| CrlError::Malformed {
        source_name: source.to_string(),
        what: format!("issuingDistributionPoint: {what}"),
    };
    let seq = contents(value)
        .and_then(sequence_elements)
        .ok_or_else(|| bad("not a SEQUENCE"))?;
    let boolean = |e: &[u8]| -> Result<bool, CrlError> {
        match contents(e) {
            Some([0xff]) => Ok(true),
            Some([0x00]) => Ok(false),
            _ => Err(bad("a flag is not a BOOLEAN")),
        }
    };
    let mut scope = Scope::default();
    for e in seq {
        match e[0] {
            // distributionPoint [0] DistributionPointName
            0xa0 => {
                let name = contents(e)
                    .and_then(elements)
                    .ok_or_else(|| bad("distributionPoint"))?;
                match name.as_slice() {
                    // fullName [0] GeneralNames: the URIs ([6] IA5String) are what certificates name.
                    [full] if full[0] == 0xa0 => {
                        let mut uris = Vec::new();
                        for g in contents(full)
                            .and_then(elements)
                            .ok_or_else(|| bad("fullName"))?
                        {
                            if g[0] == 0x86 {
                                let u = contents(g).ok_or_else(|| bad("URI"))?;
                                uris.push(String::from_utf8_lossy(u).into_owned());
                            }
                        }
                        scope.dp_uris = Some(uris);
                    }
                    [rel] if rel[0] == 0xa1 => {
                        return Err(unusable(
                            "the distribution point is named relative to the CRL issuer (nameRelativeToCRLIssuer)",
                        ))
                    }
                    _ => return Err(bad("distributionPoint name")),
                }
            }
            0x81 => scope.only_user = boolean(e)?,
            0x82 => scope.only_ca = boolean(e)?,
            // onlySomeReasons [3] ReasonFlags (BIT STRING, implicit): bits 1..8 in the first two
            // content octets after the unused-bits count.
            0x83 => {
                let bits = contents(e)
                    .filter(|b| !b.is_empty() && b.len() <= 3)
                    .ok_or_else(|| bad("onlySomeReasons"))?;
                let hi = u16::from(bits.get(1).copied().unwrap_or(0));
                let lo = u16::from(bits.get(2).copied().unwrap_or(0));
                // Bit 0 is the most significant bit of the first octet: map to mask bit n.
                let mut mask: ReasonFlags = 0;
                for n in 0..9u16 {
                    let set = if n < 8 {
                        hi & (0x80 >> n) != 0
                    } else {
                        lo & 0x80 != 0
                    };
                    if set {
                        mask |= 1 << n;
                    }
                }
                scope.reasons = Some(mask & ALL_REASONS);
            }
            0x84 if boolean(e)? => {
                return Err(unusable(
                    "indirectCRL: entries for other issuers are not supported",
                ))
            }
            0x85 if boolean(e)? => {
                return Err(unusable(
                    "onlyContainsAttributeCerts: the CRL covers attribute certificates only",
                ))
            }
            0x84 | 0x85 => {}
            _ => return Err(bad("unknown element")),
        }
    }
    if scope.only_user && scope.only_ca {
        return Err(bad(
            "onlyContainsUserCerts and onlyContainsCACerts are both set",
        ));
    }
    Ok(scope)
}

/// (OID contents, critical, extnValue element) of an Extension.
fn extension(e: &[u8]) -> Option<(&[u8], bool, &[u8])> {
    let parts = sequence_elements(e)?;
    let oid = parts
        .first()
        .filter(|o| o[0] == 0x06)
        .and_then(|o| contents(o))?;
    let (critical, value) = match parts.as_slice() {
        [_, c, v] if c[0] == 0x01 => (contents(c)? == [0xff], *v),
        [_, v] => (false, *v),
        _ => return None,
    };
    (value[0] == 0x04).then_some((oid, critical, value))
}

fn oid_string(oid: &[u8]) -> String {
    der::asn1::ObjectIdentifier::from_bytes(oid)
        .map(|o| o.to_string())
        .unwrap_or_else(|_| "(invalid OID)".into())
}
