//! Enumeration with hand-written ClientHellos: versions, suites, groups, DH parameters,
//! handshake signatures and the TLS ≤ 1.2 options. None of it needs a finished handshake, so it
//! works against servers that require a client certificate.
//!
//! Suites and groups are found by removal: offer everything, note the server's pick, offer the
//! rest again, until the server refuses. The picks come out in the server's order when it
//! enforces one; a second offer in reverse order tells whether it does.

use crate::facts::{DhFact, EndpointFacts, GroupFact, ProbeError, SuiteFact};
use crate::net::{Endpoint, NetError};
use crate::wire::flight::{Answer, KeyExchange, ReadUntil, ServerHello};
use crate::wire::hello::{ext, ClientHello};
use medmij_core::ncsc;
use medmij_core::wire::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};

/// The ALPN protocols offered (HTTP/2 first, as a browser or the gateway would).
pub const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];

/// TLS ≤ 1.2 suites of the NCSC reference table, in table (code point) order.
pub fn table_suites() -> Vec<CipherSuite> {
    ncsc::suites()
        .iter()
        .map(|e| e.suite)
        .filter(|s| !s.is_tls13())
        .collect()
}

/// Every TLS 1.3 suite registered (RFC 8446 §B.4, RFC 9150 is not offered: integrity-only).
pub fn tls13_suites() -> Vec<CipherSuite> {
    (0x1301..=0x1305).map(CipherSuite).collect()
}

/// The rest of the IANA registry's TLS ≤ 1.2 suites that the reference table does not list
/// (assigned ranges of the "TLS Cipher Suites" registry, less the signalling values): offered in
/// a second round, so a server that accepts something exotic is still seen.
pub fn iana_rest() -> Vec<CipherSuite> {
    let table: Vec<CipherSuite> = ncsc::suites().iter().map(|e| e.suite).collect();
    (0x0001..=0x00C7u16)
        .chain(0xC001..=0xC0B5)
        .chain(0xCCA8..=0xCCAE)
        .chain(0xD001..=0xD005)
        .map(CipherSuite)
        .filter(|s| !table.contains(s) && s.0 != 0x00FF)
        .collect()
}

fn groups_all() -> Vec<NamedGroup> {
    NamedGroup::KNOWN.to_vec()
}

fn ec_groups() -> Vec<NamedGroup> {
    NamedGroup::KNOWN
        .iter()
        .copied()
        .filter(|g| g.0 < 256 || g.0 >= 0xFE00)
        .collect()
}

fn ffdhe_groups() -> Vec<NamedGroup> {
    (256..=260).map(NamedGroup).collect()
}

fn kex_suites(prefix: &str) -> Vec<CipherSuite> {
    ncsc::suites()
        .iter()
        .filter(|e| e.iana.starts_with(prefix) && !e.suite.is_tls13())
        .map(|e| e.suite)
        .collect()
}

fn hello(v: ProtocolVersion, ep: &Endpoint) -> ClientHello {
    ClientHello::new(v, ep.sni.as_deref())
}

/// Record an error once per probe.
fn err(f: &mut Vec<ProbeError>, probe: &str, e: impl ToString) {
    f.push(ProbeError {
        probe: probe.to_owned(),
        error: e.to_string(),
    });
}

/// The result of one enumeration task, merged into the endpoint's facts by the caller.
#[derive(Debug, Default)]
pub struct Partial {
    /// Accepted suites.
    pub suites: Vec<SuiteFact>,
    /// Accepted groups.
    pub groups: Vec<GroupFact>,
    /// DH parameters.
    pub dh: Vec<DhFact>,
    /// (version label, answer) per version probe.
    pub version_answers: Vec<(String, String)>,
    /// Probes without an answer.
    pub errors: Vec<ProbeError>,
    /// The first ServerHello of a TLS 1.2 enumeration (options, sentinel).
    pub first_hello: Option<Box<ServerHello>>,
    /// Server order enforced.
    pub server_order: Option<bool>,
    /// SHA-1 / SHA-224 handshake signatures accepted.
    pub sha1: Option<bool>,
    /// SHA-224.
    pub sha224: Option<bool>,
    /// Schemes seen signing.
    pub seen_schemes: Vec<SignatureScheme>,
    /// Version chosen when all are offered.
    pub highest: Option<ProtocolVersion>,
    /// Any TLS answer at all.
    pub spoke_tls: bool,
}

fn suite_fact(v: ProtocolVersion, s: CipherSuite) -> SuiteFact {
    SuiteFact {
        version: v,
        code: s.0,
        name: s.name().map(str::to_owned),
        ncsc: None,
    }
}

fn group_fact(v: ProtocolVersion, g: NamedGroup) -> GroupFact {
    GroupFact {
        version: v,
        code: g.0,
        name: g.name().map(str::to_owned),
        ncsc: None,
    }
}

/// Suites accepted with `v` (SSLv3 … TLS 1.2), by removal; for TLS 1.2 also the IANA rest and
/// the server-order probe.
pub fn suites_legacy(ep: &Endpoint, v: ProtocolVersion, out: &mut Partial) {
    let label = format!("suites {v}");
    let mut rounds = vec![table_suites()];
    if v == ProtocolVersion::TLS12 {
        rounds.push(iana_rest());
    }
    let mut accepted: Vec<CipherSuite> = Vec::new();
    let mut first_answer = None;
    for mut offer in rounds {
        loop {
            let mut h = hello(v, ep);
            h.suites = offer.clone();
            h.groups = groups_all();
            let a = match ep.exchange(&h, ReadUntil::ServerHello) {
                Ok(a) => a,
                Err(e) => {
                    err(&mut out.errors, &label, e);
                    break;
                }
            };
            if first_answer.is_none() {
                first_answer = Some(a.describe());
            }
            match a {
                Answer::Hello(sh) if sh.version == v && offer.contains(&sh.suite) => {
                    out.spoke_tls = true;
                    offer.retain(|s| *s != sh.suite);
                    accepted.push(sh.suite);
                    out.suites.push(suite_fact(v, sh.suite));
                }
                Answer::Hello(sh) if sh.version != v => {
                    // A server answering with another version than the one offered does not
                    // speak `v`; RFC 5246 §E.1 lets it pick a lower one, which is not `v`.
                    out.spoke_tls = true;
                    break;
                }
                Answer::Hello(sh) => {
                    out.spoke_tls = true;
                    err(
                        &mut out.errors,
                        &label,
                        format!("the server chose {}, which was not offered", sh.suite),
                    );
                    break;
                }
                Answer::Alert(_) | Answer::Retry(_) => {
                    out.spoke_tls = true;
                    break;
                }
                Answer::Closed { .. } | Answer::Reset => break,
                other => {
                    err(&mut out.errors, &label, other.describe());
                    break;
                }
            }
            if offer.is_empty() {
                break;
            }
        }
    }
    out.version_answers.push((
        v.to_string(),
        first_answer.unwrap_or_else(|| "no answer".into()),
    ));
    if v == ProtocolVersion::TLS12 && accepted.len() >= 2 {
        let mut h = hello(v, ep);
        h.suites = accepted.iter().rev().copied().collect();
        h.groups = groups_all();
        match ep.exchange(&h, ReadUntil::ServerHello) {
            Ok(Answer::Hello(sh)) => out.server_order = Some(sh.suite == accepted[0]),
            Ok(a) => err(&mut out.errors, "server order", a.describe()),
            Err(e) => err(&mut out.errors, "server order", e),
        }
    }
}

/// TLS 1.3 suites (by HelloRetryRequest: an empty key share makes the server name its suite
/// and group without any key exchange).
pub fn suites_tls13(ep: &Endpoint, out: &mut Partial) {
    let v = ProtocolVersion::TLS13;
    let mut offer = tls13_suites();
    let mut first = None;
    while !offer.is_empty() {
        let mut h = hello(v, ep);
        h.suites = offer.clone();
        h.groups = groups_all();
        let a = match ep.exchange(&h, ReadUntil::ServerHello) {
            Ok(a) => a,
            Err(e) => {
                err(&mut out.errors, "suites TLSv1.3", e);
                break;
            }
        };
        if first.is_none() {
            first = Some(a.describe());
        }
        let chosen = match &a {
            Answer::Retry(r) if r.version == v => Some(r.suite),
            Answer::Hello(sh) if sh.version == v => Some(sh.suite),
            _ => None,
        };
        match chosen {
            Some(s) if offer.contains(&s) => {
                out.spoke_tls = true;
                offer.retain(|x| *x != s);
                out.suites.push(suite_fact(v, s));
            }
            Some(s) => {
                err(
                    &mut out.errors,
                    "suites TLSv1.3",
                    format!("chose {s}, not offered"),
                );
                break;
            }
            None => {
                if matches!(a, Answer::Alert(_) | Answer::Hello(_)) {
                    out.spoke_tls = true;
                } else if !matches!(a, Answer::Closed { .. } | Answer::Reset) {
                    err(&mut out.errors, "suites TLSv1.3", a.describe());
                }
                break;
            }
        }
    }
    out.version_answers
        .push((v.to_string(), first.unwrap_or_else(|| "no answer".into())));
}

/// TLS 1.3 groups, by HelloRetryRequest.
pub fn groups_tls13(ep: &Endpoint, out: &mut Partial) {
    let v = ProtocolVersion::TLS13;
    let mut offer = groups_all();
    while !offer.is_empty() {
        let mut h = hello(v, ep);
        h.suites = tls13_suites();
        h.groups = offer.clone();
        match ep.exchange(&h, ReadUntil::ServerHello) {
            Ok(Answer::Retry(r)) => match r.group {
                Some(g) if offer.contains(&g) => {
                    offer.retain(|x| *x != g);
                    out.groups.push(group_fact(v, g));
                }
                other => {
                    err(
                        &mut out.errors,
                        "groups TLSv1.3",
                        format!("HelloRetryRequest named {other:?}, not offered"),
                    );
                    break;
                }
            },
            Ok(Answer::Alert(_) | Answer::Closed { .. } | Answer::Reset) => break,
            Ok(a) => {
                err(&mut out.errors, "groups TLSv1.3", a.describe());
                break;
            }
            Err(e) => {
                err(&mut out.errors, "groups TLSv1.3", e);
                break;
            }
        }
    }
}

/// TLS 1.2 ECDHE curves (from the ServerKeyExchange) and finite-field DH parameters.
pub fn groups_tls12(ep: &Endpoint, out: &mut Partial) {
    let v = ProtocolVersion::TLS12;
    let ecdhe = kex_suites("TLS_ECDHE_");
    let mut offer = ec_groups();
    while !offer.is_empty() {
        let mut h = hello(v, ep);
        h.suites = ecdhe.clone();
        h.groups = offer.clone();
        match ep.exchange(&h, ReadUntil::HelloDone) {
            Ok(Answer::Hello(sh)) => {
                note_signature(&sh, out);
                match sh.key_exchange.as_ref().map(|k| &k.params) {
                    Some(KeyExchange::Ecdhe { group }) if offer.contains(group) => {
                        let g = *group;
                        offer.retain(|x| *x != g);
                        out.groups.push(group_fact(v, g));
                    }
                    _ => break,
                }
            }
            Ok(Answer::Alert(_) | Answer::Closed { .. } | Answer::Reset) => break,
            Ok(a) => {
                err(&mut out.errors, "groups TLSv1.2", a.describe());
                break;
            }
            Err(e) => {
                err(&mut out.errors, "groups TLSv1.2", e);
                break;
            }
        }
    }
    let dhe = kex_suites("TLS_DHE_");
    for (asked, groups) in [("ffdhe-offered", ffdhe_groups()), ("no-groups", Vec::new())] {
        let mut h = hello(v, ep);
        h.suites = dhe.clone();
        h.groups = groups;
        match ep.exchange(&h, ReadUntil::HelloDone) {
            Ok(Answer::Hello(sh)) => {
                note_signature(&sh, out);
                if let Some(KeyExchange::Dhe { prime, .. }) =
                    sh.key_exchange.as_ref().map(|k| &k.params)
                {
                    let named = crate::ffdhe::rfc7919_name(prime);
                    if asked == "ffdhe-offered" {
                        if let Some(n) = named {
                            if let Some(g) = NamedGroup::KNOWN.iter().find(|g| g.name() == Some(n))
                            {
                                out.groups.push(group_fact(v, *g));
                            }
                        }
                    }
                    out.dh.push(DhFact {
                        asked: asked.into(),
                        suite: sh.suite.0,
                        prime_bits: bit_len(prime),
                        rfc7919: named.map(str::to_owned),
                    });
                } else if let Some(e) = &sh.key_exchange_error {
                    err(&mut out.errors, "dh parameters", e);
                }
            }
            Ok(Answer::Alert(_) | Answer::Closed { .. } | Answer::Reset) => {}
            Ok(a) => err(&mut out.errors, "dh parameters", a.describe()),
            Err(e) => err(&mut out.errors, "dh parameters", e),
        }
    }
}

fn bit_len(n: &[u8]) -> usize {
    let n = match n.iter().position(|&b| b != 0) {
        Some(i) => &n[i..],
        None => return 0,
    };
    n.len() * 8 - n[0].leading_zeros() as usize
}

fn note_signature(sh: &ServerHello, out: &mut Partial) {
    if let Some(s) = sh.key_exchange.as_ref().and_then(|k| k.signature) {
        if !out.seen_schemes.contains(&s) {
            out.seen_schemes.push(s);
        }
    }
}

/// The TLS 1.2 options (one full flight with everything asked: renegotiation_info, EMS,
/// status_request, ALPN, DEFLATE), the handshake-signature hashes and the highest version.
pub fn options(ep: &Endpoint, out: &mut Partial) {
    let v = ProtocolVersion::TLS12;
    let mut h = hello(v, ep);
    h.suites = table_suites();
    h.groups = groups_all();
    h.status_request = true;
    h.alpn = ALPN.to_vec();
    h.compression = vec![1, 0];
    match ep.exchange(&h, ReadUntil::HelloDone) {
        Ok(Answer::Hello(sh)) if sh.version == v => {
            out.spoke_tls = true;
            note_signature(&sh, out);
            out.first_hello = Some(sh);
        }
        Ok(Answer::Hello(_) | Answer::Alert(_) | Answer::Retry(_)) => out.spoke_tls = true,
        Ok(Answer::Closed { .. } | Answer::Reset) => {}
        Ok(a) => err(&mut out.errors, "options TLSv1.2", a.describe()),
        Err(e) => err(&mut out.errors, "options TLSv1.2", e),
    }
    let signing: Vec<CipherSuite> = kex_suites("TLS_ECDHE_")
        .into_iter()
        .chain(kex_suites("TLS_DHE_"))
        .collect();
    let weak = [
        (
            vec![
                SignatureScheme::RSA_PKCS1_SHA1,
                SignatureScheme::ECDSA_SHA1,
                SignatureScheme::DSA_SHA1,
            ],
            true,
        ),
        (
            vec![
                SignatureScheme::RSA_PKCS1_SHA224,
                SignatureScheme::ECDSA_SHA224,
                SignatureScheme::DSA_SHA224,
            ],
            false,
        ),
    ];
    for (schemes, is_sha1) in weak {
        let mut h = hello(v, ep);
        h.suites = signing.clone();
        h.groups = groups_all();
        h.signature_schemes = schemes.clone();
        let accepted = match ep.exchange(&h, ReadUntil::HelloDone) {
            Ok(Answer::Hello(sh)) => {
                note_signature(&sh, out);
                sh.key_exchange
                    .as_ref()
                    .and_then(|k| k.signature)
                    .map(|s| schemes.contains(&s))
            }
            Ok(Answer::Alert(_) | Answer::Closed { .. } | Answer::Reset) => Some(false),
            Ok(a) => {
                err(&mut out.errors, "handshake signatures", a.describe());
                None
            }
            Err(e) => {
                err(&mut out.errors, "handshake signatures", e);
                None
            }
        };
        if is_sha1 {
            out.sha1 = accepted;
        } else {
            out.sha224 = accepted;
        }
    }
    // Every version offered at once: the server must pick the highest it supports
    // (core.tls.304).
    let mut h = hello(ProtocolVersion::TLS13, ep);
    h.supported_versions = vec![
        ProtocolVersion::TLS13,
        ProtocolVersion::TLS12,
        ProtocolVersion::TLS11,
        ProtocolVersion::TLS10,
    ];
    h.suites = tls13_suites().into_iter().chain(table_suites()).collect();
    h.groups = groups_all();
    h.renegotiation_info = true;
    match ep.exchange(&h, ReadUntil::ServerHello) {
        Ok(Answer::Retry(r)) => out.highest = Some(r.version),
        Ok(Answer::Hello(sh)) => out.highest = Some(sh.version),
        Ok(Answer::Alert(_) | Answer::Closed { .. } | Answer::Reset) => {}
        Ok(a) => err(&mut out.errors, "highest version", a.describe()),
        Err(NetError::BudgetSpent(n)) => {
            err(&mut out.errors, "highest version", NetError::BudgetSpent(n))
        }
        Err(e) => err(&mut out.errors, "highest version", e),
    }
}

/// Merges the first TLS 1.2 flight's options into the facts.
pub fn apply_first_hello(sh: &ServerHello, f: &mut EndpointFacts) {
    f.tls12_flight_complete = sh.done;
    f.compression = Some(sh.compression != 0);
    f.secure_renegotiation = Some(sh.extension(ext::RENEGOTIATION_INFO).is_some());
    f.extended_master_secret = Some(sh.extension(ext::EXTENDED_MASTER_SECRET).is_some());
    f.downgrade_sentinel = Some(sh.downgrade_sentinel() == Some(ProtocolVersion::TLS12));
    f.ocsp_stapled_tls12 = Some(sh.stapled_ocsp.as_ref().is_some_and(|o| !o.is_empty()));
    if f.alpn.is_none() {
        f.alpn = sh.alpn();
    }
    if let Some(cr) = &sh.certificate_request {
        f.certificate_requested_tls12 = true;
        f.acceptable_cas_tls12 = cr.authorities.iter().map(|d| crate::dn_text(d)).collect();
    }
    if let Some(certs) = &sh.certificates {
        f.chain = certs.iter().map(|d| crate::cert_fact(d)).collect();
        f.chain_version = Some(ProtocolVersion::TLS12);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_lists_have_no_signalling_values_and_no_duplicates() {
        let mut all: Vec<u16> = table_suites()
            .into_iter()
            .chain(iana_rest())
            .map(|s| s.0)
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
        assert!(!all.contains(&0x00FF) && !all.contains(&0x5600));
        assert!(all.len() > 300, "{}", all.len());
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[0x01, 0]), 9);
    }
}
