//! The checks the verifier runs on the handshake path, read off its verdict: the linter does
//! not have a second copy of them. Each refusal fails its check; a check the verdict could not
//! reach (no path, revocation not asked for) is `not-tested`, never a pass.

use super::{Context, Findings, Role};
use crate::facts::CertFacts;
use medmij_core::checks::names::*;
use medmij_core::outcome::{Origin, Status};
use medmij_verify::refusal::Code;
use medmij_verify::Verdict;

/// Checks that need a validated path before they can pass.
const NEED_PATH: &[&str] = &[
    ANCHOR_NOT_CUT_OFF,
    ANCHOR_VALID,
    CHAIN_ALLOWED_INTERMEDIATES,
    REVOCATION_NOT_REVOKED,
    REVOCATION_STATUS_KNOWN,
];

/// The handshake checks the linter reports from the verdict.
const FROM_VERDICT: &[&str] = &[
    ANCHOR_NOT_CUT_OFF,
    ANCHOR_VALID,
    CERT_RFC5280_ENCODING,
    CERT_SIGNATURE_ALGORITHM,
    CERT_VALIDITY,
    CHAIN_ALLOWED_INTERMEDIATES,
    CHAIN_COMPLETE,
    CHAIN_TRUSTED_ANCHOR,
    LEAF_EKU_SERVER_AUTH,
    LEAF_KEY_STRENGTH,
    LEAF_NO_KEY_CERT_SIGN,
    LEAF_NO_WILDCARD,
    REVOCATION_NOT_REVOKED,
    REVOCATION_STATUS_KNOWN,
];

pub(super) fn from_verdict(
    ctx: &Context<'_>,
    certs: &[&CertFacts],
    verdict: Option<&Verdict>,
    f: &mut Findings,
) {
    f.put(
        CHAIN_PARSES,
        Status::Pass,
        format!("{} certificate(s), each well-formed DER X.509", certs.len()),
    );
    let Some(v) = verdict else {
        for c in FROM_VERDICT {
            f.put(
                c,
                Status::NotTested,
                "no trust anchors to judge the chain against: give --anchors-dir DIR (from `medmij-tls anchors fetch --dir DIR`) or --trust-anchor PEM",
            );
        }
        return;
    };
    let origin = |c: &CertFacts| Origin::Certificate(c.subject.clone());
    // webpki says "unknown issuer" both for an untrusted root and for a chain that stops short
    // of its anchor; when the last certificate's issuer is neither in the file nor an anchor's
    // name, an intermediate is missing (core.tls.313) and whether the root is trusted cannot
    // be told yet.
    // Only a leaf sent alone gets this diagnosis: with intermediates sent, an unknown issuer
    // above them is far more often an untrusted root than a second missing level.
    if let (Some(top), 1) = (top_of_path(certs), super::core_tls_313::linked_len(certs)) {
        let known = ctx.anchor_subjects.contains(&top.issuer_raw);
        if !top.self_issued && !known && v.reasons.iter().any(|r| r.code == Code::UnknownIssuer) {
            f.put(
                CHAIN_COMPLETE,
                Status::Fail,
                format!("the chain ends at `{}`, whose issuer `{}` is neither in the file nor a trust anchor: send the missing intermediate (or the root is not trusted)", top.name(), top.issuer),
            );
            for c in [CHAIN_TRUSTED_ANCHOR, FRONTCHANNEL_PUBLIC_ROOT] {
                f.put(
                    c,
                    Status::NotTested,
                    "the chain is incomplete: the anchor cannot be established",
                );
            }
        }
    }
    for r in &v.reasons {
        // On the frontchannel the path must end at a public root: its own check.
        let check = match (r.code, ctx.role) {
            (Code::UnknownIssuer, Role::Frontchannel) => FRONTCHANNEL_PUBLIC_ROOT,
            _ => r.check,
        };
        f.put_with(
            check,
            Status::Fail,
            r.message.clone(),
            certs
                .first()
                .map(|c| (r.code.label().to_string(), origin(c)))
                .into_iter()
                .collect(),
        );
    }
    let path_found = !v.reasons.iter().any(|r| {
        matches!(
            r.code,
            Code::UnknownIssuer | Code::IncompleteChain | Code::Malformed | Code::BadSignature
        )
    });
    if !ctx.revocation_checked {
        for c in [REVOCATION_NOT_REVOKED, REVOCATION_STATUS_KNOWN] {
            f.put(c, Status::NotTested, "revocation not checked: give --revocation hard|soft (fetches the CRL and OCSP named in the certificates) or --crl FILE");
        }
    }
    if !path_found {
        for c in NEED_PATH {
            f.put(c, Status::NotTested, "no validated path to an anchor");
        }
    }
    if ctx.role == Role::Frontchannel {
        f.put(FRONTCHANNEL_PUBLIC_ROOT, Status::Pass, "the chain ends at a root of the public root store given (the machine-checkable stand-in for a current WebTrust audit)");
    }
    if let Some(leaf) = certs.first() {
        super::core_tls_311::key(ctx, leaf.key, &leaf.key_algorithm, Some(*leaf), f);
    }
    for c in FROM_VERDICT {
        if f.has(c) {
            continue;
        }
        let msg = match *c {
            REVOCATION_NOT_REVOKED => revocation_summary(v),
            CERT_SIGNATURE_ALGORITHM => {
                let mut algs: Vec<&str> = Vec::new();
                for c in certs {
                    if !algs.contains(&c.signature_algorithm.as_str()) {
                        algs.push(&c.signature_algorithm);
                    }
                }
                format!("signed with {}", algs.join(", "))
            }
            CHAIN_TRUSTED_ANCHOR => match top_of_path(certs) {
                Some(top) if !top.self_issued => {
                    format!("the path ends at the anchor `{}`", top.issuer)
                }
                _ => "the path ends at a trusted anchor".into(),
            },
            _ => "passes".into(),
        };
        f.put(c, Status::Pass, msg);
    }
}

/// The last certificate of the issuer-linked path at the front of `certs` (path order).
fn top_of_path<'a>(certs: &[&'a CertFacts]) -> Option<&'a CertFacts> {
    certs
        .get(super::core_tls_313::linked_len(certs).checked_sub(1)?)
        .copied()
}

fn revocation_summary(v: &Verdict) -> String {
    if v.revocation.is_empty() {
        return "no certificate of the path is revoked".into();
    }
    let parts: Vec<String> = v
        .revocation
        .iter()
        .map(|e| format!("{}: {} {}", e.certificate, e.source, e.outcome))
        .collect();
    format!("not revoked ({})", super::listed(&parts))
}
