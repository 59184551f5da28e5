//! core.tls.314: backchannel certificates are PKIoverheid private server certificates: the
//! policy OID of their hierarchy, the organization's OIN, no IP address (G4), no wildcard.

use super::{listed, Context, Findings, Role};
use crate::facts::CertFacts;
use medmij_core::checks::names::*;
use medmij_core::outcome::{Origin, Status};
use medmij_core::Environment;

/// PKIoverheid private server policies in production (`reference/medmij-pki.md` §2.1): G1
/// Private Services Server, G4 private TLS server (sysOrg).
pub const PRODUCTION_POLICIES: &[(&str, &str)] = &[
    ("2.16.528.1.1003.1.2.8.6", "G1 Private Services Server"),
    (
        "2.16.528.1.1003.1.2.44.15.35.11",
        "G4 private TLS server (id-pkio-cp-g4d-gen10PrvTLS-sysOrg-tls)",
    ),
];

/// The CIBG acceptance arcs of the same policies (`medmij-pki.md` §1.7), accepted in the
/// acceptance and test environments.
pub const ACCEPTANCE_POLICIES: &[(&str, &str)] = &[
    (
        "2.16.528.1.1007.99.12",
        "G1 Private Services Server (acceptance arc)",
    ),
    (
        "2.16.528.1.1007.99.44.15.35.11",
        "G4 private TLS server (acceptance arc)",
    ),
];

/// The G4 private TLS policy, whose certificates carry no IP address.
const G4_POLICIES: &[&str] = &[
    "2.16.528.1.1003.1.2.44.15.35.11",
    "2.16.528.1.1007.99.44.15.35.11",
];

pub(super) fn leaf(ctx: &Context<'_>, leaf: &CertFacts, f: &mut Findings) {
    if ctx.role != Role::Backchannel {
        return;
    }
    policy(ctx, leaf, f);
    match &leaf.oin {
        Some(oin) => f.put_with(LEAF_OIN, Status::Info, format!("OIN {oin}"), vec![(oin.clone(), Origin::Certificate(leaf.subject.clone()))]),
        None => f.put(LEAF_OIN, Status::Warning, format!("`{}` names no OIN (subject serialNumber or organizationIdentifier); PKIoverheid server certificates carry the organization's OIN", leaf.name())),
    }
    let g4 = leaf
        .policies
        .iter()
        .any(|p| G4_POLICIES.contains(&p.as_str()));
    ip_sans(ctx, &leaf.ip_sans, g4, f);
    wildcard(ctx, &leaf.common_names, &leaf.dns_names, f);
}

fn policy(ctx: &Context<'_>, leaf: &CertFacts, f: &mut Findings) {
    let mut accepted: Vec<(&str, &str)> = PRODUCTION_POLICIES.to_vec();
    if ctx.environment != Environment::Production {
        accepted.extend_from_slice(ACCEPTANCE_POLICIES);
    }
    match accepted
        .iter()
        .find(|(oid, _)| leaf.policies.iter().any(|p| p == oid))
    {
        Some((oid, name)) => f.put(
            LEAF_POLICY_OID,
            Status::Pass,
            format!("policy {oid} ({name})"),
        ),
        None => f.put(
            LEAF_POLICY_OID,
            Status::Fail,
            format!(
                "`{}` carries none of the PKIoverheid private server policies ({}); it has {}",
                leaf.name(),
                accepted
                    .iter()
                    .map(|(o, _)| *o)
                    .collect::<Vec<_>>()
                    .join(", "),
                if leaf.policies.is_empty() {
                    "no certificatePolicies".to_string()
                } else {
                    listed(&leaf.policies)
                }
            ),
        ),
    }
}

/// An iPAddress SAN: a failure in a G4 certificate; in a CSR (hierarchy not known yet) a
/// warning, since new orders are G4.
pub(super) fn ip_sans(ctx: &Context<'_>, ips: &[String], g4: bool, f: &mut Findings) {
    if ctx.role != Role::Backchannel {
        return;
    }
    if ips.is_empty() {
        f.put(LEAF_NO_IP_SAN, Status::Pass, "no iPAddress SAN");
    } else if g4 {
        f.put(
            LEAF_NO_IP_SAN,
            Status::Fail,
            format!(
                "iPAddress SAN {} in a G4 certificate; G4 names hosts only",
                listed(ips)
            ),
        );
    } else {
        f.put(LEAF_NO_IP_SAN, Status::Warning, format!("iPAddress SAN {}: PKIoverheid G4 does not issue these; whitelist entries are hostnames", listed(ips)));
    }
}

/// Wildcards in a request (the verifier judges them in an issued certificate).
pub(super) fn wildcard(ctx: &Context<'_>, cns: &[String], dns: &[String], f: &mut Findings) {
    if ctx.role != Role::Backchannel || f.has(LEAF_NO_WILDCARD) {
        return;
    }
    let wild: Vec<&String> = cns.iter().chain(dns).filter(|n| n.contains('*')).collect();
    if wild.is_empty() {
        f.put(LEAF_NO_WILDCARD, Status::Pass, "no wildcard name");
    } else {
        let w: Vec<&str> = wild.iter().map(|s| s.as_str()).collect();
        f.put(
            LEAF_NO_WILDCARD,
            Status::Fail,
            format!(
                "wildcard name {}: backchannel names are exact (whitelist, G4)",
                listed(&w)
            ),
        );
    }
}
