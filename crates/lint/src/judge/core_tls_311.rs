//! core.tls.311 (and the NCSC key rules of core.tls.301) on the leaf and every certificate of
//! the file: extensions, keyUsage, SAN, time left, and the key's NCSC level.

use super::{listed, Context, Findings};
use crate::facts::CertFacts;
use medmij_core::checks::names::*;
use medmij_core::ncsc::{self, CertKey, Item, Level};
use medmij_core::outcome::{Origin, Status};

/// Below this many days left a renewal is due (warning): a PKIoverheid order takes one to two
/// weeks, and deployment across a node's servers more; 30 days is the usual alerting threshold.
pub const RENEWAL_WARNING_DAYS: i64 = 30;

const DAY: i64 = 86_400;

pub(super) fn chain(ctx: &Context<'_>, certs: &[&CertFacts], f: &mut Findings) {
    extensions(certs, f);
    if let Some(leaf) = certs.first() {
        key_usage(leaf, f);
        san(&leaf.common_names, &leaf.dns_names, leaf.has_san, f);
        renewal(ctx, leaf, f);
    }
}

/// RFC 5280 §4.2: one instance per extension; an unknown critical extension must be refused.
fn extensions(certs: &[&CertFacts], f: &mut Findings) {
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for (i, c) in certs.iter().enumerate() {
        for o in &c.duplicate_extensions {
            problems.push(format!(
                "certificate {} (`{}`) has extension {o} more than once",
                i + 1,
                c.name()
            ));
            evidence.push((
                format!("duplicate {o}"),
                Origin::Certificate(c.subject.clone()),
            ));
        }
        for o in &c.unknown_critical {
            problems.push(format!(
                "certificate {} (`{}`) has an unknown critical extension {o}",
                i + 1,
                c.name()
            ));
            evidence.push((
                format!("unknown critical {o}"),
                Origin::Certificate(c.subject.clone()),
            ));
        }
    }
    if problems.is_empty() {
        f.put(
            CERT_EXTENSIONS,
            Status::Pass,
            "no duplicate extension and no unknown critical extension",
        );
    } else {
        f.put_with(
            CERT_EXTENSIONS,
            Status::Fail,
            format!("{}: a relying party must refuse it", listed(&problems)),
            evidence,
        );
    }
}

/// The key's NCSC level: refused keys fail (the verifier's rule, [`medmij_verify::rules`]);
/// phase-out and sufficient keys are reported (decision 4.2: PKIoverheid mandates RSA keys).
pub(super) fn key(
    ctx: &Context<'_>,
    key: CertKey,
    algorithm: &str,
    leaf: Option<&CertFacts>,
    f: &mut Findings,
) {
    let described = medmij_verify::rules::describe_key(key, algorithm);
    if let Some(why) = medmij_verify::rules::key_weakness(key, algorithm, ctx.profile.ncsc) {
        let who = leaf.map_or("the request", CertFacts::name);
        f.put(LEAF_KEY_STRENGTH, Status::Fail, format!("`{who}` {why}"));
        return;
    }
    let level = ncsc::classify(ctx.profile.ncsc, Item::CertKey(key)).level;
    if level == Level::Good {
        f.put(
            LEAF_KEY_STRENGTH,
            Status::Pass,
            format!("{described}: NCSC rates it good"),
        );
    } else if matches!(key, CertKey::Rsa { .. }) && ctx.role == super::Role::Backchannel {
        f.put(
            LEAF_KEY_STRENGTH,
            Status::Info,
            format!("{described}: NCSC rates it {level}; accepted (decision 4.2: PKIoverheid prescribes RSA keys, this is not a failure of the node)"),
        );
    } else {
        f.put(
            LEAF_KEY_STRENGTH,
            Status::Info,
            format!("{described}: NCSC rates it {level}, not good"),
        );
    }
}

/// keyUsage fits the key type and a TLS server certificate (CA/B BR §7.1.2.7.11): present,
/// digitalSignature set (TLS 1.3 signs), keyEncipherment only with RSA, keyAgreement only with
/// EC, nothing else but the CA bits (which leaf.no-key-cert-sign judges).
fn key_usage(leaf: &CertFacts, f: &mut Findings) {
    let Some(ku) = &leaf.key_usage else {
        f.put(
            LEAF_KEY_USAGE,
            Status::Fail,
            format!(
                "`{}` has no keyUsage extension (CA/B BR §7.1.2.7.11 requires it)",
                leaf.name()
            ),
        );
        return;
    };
    let rsa = matches!(leaf.key, CertKey::Rsa { .. });
    let ec = matches!(leaf.key, CertKey::Ec { .. });
    let mut bad = Vec::new();
    if !ku.has("digitalSignature") {
        bad.push("digitalSignature is not set (a TLS 1.3 server signs its handshake)".to_string());
    }
    for bit in &ku.0 {
        let fits = match *bit {
            "digitalSignature" | "keyCertSign" | "cRLSign" => true,
            "keyEncipherment" => rsa,
            "keyAgreement" => ec,
            _ => false,
        };
        if !fits {
            bad.push(format!(
                "{bit} does not fit {} in a TLS server certificate",
                medmij_verify::rules::describe_key(leaf.key, &leaf.key_algorithm)
            ));
        }
    }
    if let Some(eku) = &leaf.eku {
        if eku.server_auth && !ku.has("digitalSignature") && !(rsa && ku.has("keyEncipherment")) {
            bad.push(
                "serverAuth needs digitalSignature or (RSA) keyEncipherment (RFC 5280 §4.2.1.12)"
                    .into(),
            );
        }
    }
    if bad.is_empty() {
        f.put(
            LEAF_KEY_USAGE,
            Status::Pass,
            format!("keyUsage {}", ku.0.join(", ")),
        );
    } else {
        f.put(
            LEAF_KEY_USAGE,
            Status::Fail,
            format!("`{}`: {}", leaf.name(), listed(&bad)),
        );
    }
}

/// A SAN with DNS names, and a CN (if any) among them (RFC 6125 §6.4.4: clients ignore the CN
/// when a SAN is present).
pub(super) fn san(cns: &[String], dns: &[String], has_san: bool, f: &mut Findings) {
    if !has_san || dns.is_empty() {
        f.put(
            LEAF_SAN,
            Status::Fail,
            "no subjectAltName dNSName: clients match hostnames against the SAN only",
        );
        return;
    }
    let missing: Vec<&String> = cns
        .iter()
        .filter(|cn| !dns.iter().any(|d| d.eq_ignore_ascii_case(cn)))
        .collect();
    if missing.is_empty() {
        f.put(
            LEAF_SAN,
            Status::Pass,
            format!("{} SAN dNSName(s); the CN is among them", dns.len()),
        );
    } else {
        let m: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        f.put(
            LEAF_SAN,
            Status::Fail,
            format!(
                "the subject CN {} is not among the SAN dNSNames ({})",
                listed(&m),
                listed(dns)
            ),
        );
    }
}

fn renewal(ctx: &Context<'_>, leaf: &CertFacts, f: &mut Findings) {
    let left = leaf.not_after - ctx.now;
    let until = medmij_verify::der_time::rfc3339(leaf.not_after);
    if left < 0 || ctx.now < leaf.not_before {
        f.put(
            LEAF_RENEWAL_DUE,
            Status::NotApplicable,
            format!("outside its validity period (notAfter {until}): cert.validity judges it"),
        );
    } else if left < RENEWAL_WARNING_DAYS * DAY {
        f.put(LEAF_RENEWAL_DUE, Status::Warning, format!("{} day(s) left (notAfter {until}); renew before {RENEWAL_WARNING_DAYS} days are left", left / DAY));
    } else {
        f.put(
            LEAF_RENEWAL_DUE,
            Status::Pass,
            format!("{} days left (notAfter {until})", left / DAY),
        );
    }
}
