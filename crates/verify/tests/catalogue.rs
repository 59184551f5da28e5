//! The verifier against every entry of the test PKI catalogue, with revocation over real HTTP.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use medmij_core::checks::{self, Fixtures, Stage};
use medmij_testpki::catalogue::{Expect, Role};
use medmij_verify::refusal::Code;
use medmij_verify::revocation::{Outcome, Policy, Source};
use medmij_verify::verifier::Peer;
use medmij_verify::whitelist::Whitelist;
use std::sync::Arc;
use support::*;

#[test]
fn every_backchannel_entry_is_judged_as_the_catalogue_says() {
    let pki = live_pki(true);
    let wl = Whitelist::parse(
        &std::fs::read(pki.dir.join("whitelist.xml")).unwrap(),
        "whitelist.xml",
    )
    .unwrap();
    let v = verifier(&pki, Policy::default())
        .with_whitelist(Arc::new(wl))
        .forbid_wildcards();
    // Which checks run on a handshake comes from the check registry, not from a list here: an
    // entry that fails only lint-stage checks (policy OIDs, IP SANs) is accepted by a handshake.
    let handshake = |name: &str| {
        checks::check(name)
            .unwrap_or_else(|| panic!("catalogue names unknown check {name}"))
            .runs_at(Stage::Handshake)
    };
    let mut checked = 0;
    for e in pki
        .cat
        .entries
        .iter()
        .filter(|e| e.role == Role::Backchannel)
    {
        let chain = chain(&pki, &e.id);
        let inter: Vec<&[u8]> = chain[1..].iter().map(Vec::as_slice).collect();
        let verdict = v.verify(
            &chain[0],
            &inter,
            &Peer::Server {
                hostname: Some(e.hostnames[0].clone()),
            },
            None,
            now(),
        );
        let failed: Vec<&str> = verdict.reasons.iter().map(|r| r.check).collect();
        let warned: Vec<&str> = verdict.warnings.iter().map(|w| w.check).collect();
        let must_refuse: Vec<&str> = e
            .checks
            .iter()
            .map(String::as_str)
            .filter(|c| handshake(c) && *c != medmij_core::checks::names::CHAIN_NO_ROOT)
            .collect();
        if e.expect == Expect::Valid {
            assert!(verdict.accepted, "{}: {:#?}", e.id, verdict.reasons);
            assert!(
                e.checks.is_empty(),
                "{}: a valid entry fails no check",
                e.id
            );
        } else if must_refuse.is_empty() {
            // Lint-stage only, or a warning the handshake gives (the root in the chain).
            assert!(verdict.accepted, "{}: {:#?}", e.id, verdict.reasons);
            for c in e.checks.iter().filter(|c| handshake(c)) {
                assert!(
                    warned.contains(&c.as_str()),
                    "{}: no {c} warning in {:?}",
                    e.id,
                    verdict.warnings
                );
            }
        } else {
            assert!(!verdict.accepted, "{} was accepted", e.id);
            for c in &must_refuse {
                assert!(
                    failed.contains(c),
                    "{}: expected {c}, refused for {:#?}",
                    e.id,
                    verdict.reasons
                );
            }
            let ids: Vec<&str> = verdict.reasons.iter().map(|r| r.requirement.0).collect();
            assert!(
                e.violates.iter().any(|want| ids.contains(&want.as_str())),
                "{}: violates {:?}, refused for {:#?}",
                e.id,
                e.violates,
                verdict.reasons
            );
        }
        checked += 1;
    }
    assert!(checked >= 21, "checked {checked}");
}

/// Every check has a failing and a passing fixture: catalogue entries that list it (and a valid
/// entry of its role), or named integration tests that exist.
#[test]
fn every_check_has_a_failing_and_a_passing_fixture() {
    let pki = live_pki(false);
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for c in checks::CHECKS {
        match c.fixtures {
            Fixtures::Catalogue => {
                let failing: Vec<&str> = pki
                    .cat
                    .entries
                    .iter()
                    .filter(|e| e.checks.iter().any(|x| x == c.name))
                    .map(|e| e.id.as_str())
                    .collect();
                assert!(
                    !failing.is_empty(),
                    "{}: no catalogue entry fails it",
                    c.name
                );
                let role = pki.cat.entry(failing[0]).unwrap().role;
                assert!(
                    pki.cat
                        .entries
                        .iter()
                        .any(|e| e.expect == Expect::Valid && e.role == role),
                    "{}: no valid {role:?} entry passes it",
                    c.name
                );
            }
            Fixtures::Tests(tests) => {
                assert!(!tests.is_empty(), "{}: names no test", c.name);
                for t in tests {
                    let (file, name) = t.split_once("::").unwrap();
                    let text = std::fs::read_to_string(crates.join(file))
                        .unwrap_or_else(|e| panic!("{}: {file}: {e}", c.name));
                    assert!(
                        text.contains(&format!("fn {name}(")),
                        "{}: {file} has no test {name}",
                        c.name
                    );
                }
            }
        }
    }
    // And every check the catalogue names exists.
    for e in &pki.cat.entries {
        for name in &e.checks {
            assert!(
                checks::check(name).is_some(),
                "{}: unknown check {name}",
                e.id
            );
        }
    }
}

#[test]
fn refusal_codes_are_precise() {
    let pki = live_pki(false);
    let v = verifier(&pki, Policy::default());
    let code = |id: &str| {
        let c = chain(&pki, id);
        let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
        let verdict = v.verify(&c[0], &inter, &Peer::Client, None, now());
        verdict.reasons.iter().map(|r| r.code).collect::<Vec<_>>()
    };
    assert_eq!(
        code("g1-client-auth-only"),
        vec![Code::EkuMissingServerAuth]
    );
    assert_eq!(code("g1-no-eku"), vec![Code::EkuMissingServerAuth]);
    assert_eq!(code("g1-expired"), vec![Code::Expired]);
    assert_eq!(code("g1-not-yet-valid"), vec![Code::NotYetValid]);
    assert_eq!(code("g1-revoked"), vec![Code::Revoked]);
    assert_eq!(code("g1-unknown-root"), vec![Code::UnknownIssuer]);
    assert_eq!(code("g1-self-signed"), vec![Code::UnknownIssuer]);
    assert_eq!(code("g1-missing-intermediate"), vec![Code::IncompleteChain]);
    assert_eq!(code("g1-sha1"), vec![Code::BadSignature]);
    assert_eq!(code("g1-rsa1024"), vec![Code::WeakKey]);
    assert!(code("g1-za").is_empty());
}

#[test]
fn revocation_evidence_explains_the_decision() {
    let pki = live_pki(false);
    let v = verifier(&pki, Policy::default());
    let c = chain(&pki, "g1-revoked");
    let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
    let verdict = v.verify(&c[0], &inter, &Peer::Client, None, now());
    let leaf_ev: Vec<_> = verdict
        .revocation
        .iter()
        .filter(|e| e.certificate == "revoked.zorgaanbieder.example")
        .collect();
    assert_eq!(leaf_ev.len(), 1, "{:#?}", verdict.revocation);
    assert!(
        leaf_ev[0]
            .source
            .to_string()
            .starts_with("ocsp http://127.0.0.1:")
            && leaf_ev[0].outcome == Outcome::Revoked
            && leaf_ev[0].detail.contains("delegated"),
        "{:#?}",
        leaf_ev
    );
    // The intermediates are checked by CRL (CA certificates name no OCSP responder).
    assert!(
        verdict
            .revocation
            .iter()
            .any(|e| e.certificate.contains("Private Services CA - G1")
                && matches!(e.source, Source::Crl { .. })
                && e.outcome == Outcome::Good),
        "{:#?}",
        verdict.revocation
    );
    let counts = v.revocation().counters().snapshot();
    assert_eq!(counts.get("ocsp.revoked"), Some(&1), "{counts:?}");
}

#[test]
fn whitelist_applies_to_outbound_hostname_and_inbound_sans() {
    let pki = live_pki(false);
    let wl = Whitelist::parse(
        &std::fs::read(pki.dir.join("whitelist.xml")).unwrap(),
        "whitelist.xml",
    )
    .unwrap();
    let v = verifier(&pki, Policy::default()).with_whitelist(Arc::new(wl));
    let c = chain(&pki, "g1-not-whitelisted");
    let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
    let inbound = v.verify(&c[0], &inter, &Peer::Client, None, now());
    assert_eq!(
        inbound.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![Code::NotWhitelisted]
    );
    let c = chain(&pki, "g1-za");
    let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
    assert!(v.verify(&c[0], &inter, &Peer::Client, None, now()).accepted);
    let wrong_host = v.verify(
        &c[0],
        &inter,
        &Peer::Server {
            hostname: Some("pgo.pgo-leverancier.example".into()),
        },
        None,
        now(),
    );
    assert_eq!(
        wrong_host
            .reasons
            .iter()
            .map(|r| r.code)
            .collect::<Vec<_>>(),
        vec![Code::HostnameMismatch]
    );
}

#[test]
fn an_anchor_past_its_trusted_until_refuses_the_path() {
    use medmij_core::profile::{AnchorSpec, Sha256Fingerprint};
    let pki = live_pki(false);
    let root = pki.dir.join("ca/g1-root.pem");
    let der = medmij_verify::anchors::read_certificates(&root)
        .unwrap()
        .remove(0);
    let sha: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der)
        .as_ref()
        .try_into()
        .unwrap();
    let mut profile = medmij_core::Profile::default_profile();
    profile.backchannel.anchors.push(AnchorSpec {
        name: "test root with a cut-off".into(),
        subject: "CN=TEST".into(),
        sha256: Sha256Fingerprint(sha),
        publication_url: None,
        trusted_until: Some(time::OffsetDateTime::now_utc() - time::Duration::days(1)),
    });
    let anchors =
        medmij_verify::anchors::TrustStore::load(&profile, medmij_core::Environment::Test, &[root])
            .unwrap();
    let v = medmij_verify::verifier::Verifier::new(anchors, engine(Policy::default()));
    let c = chain(&pki, "g1-za");
    let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
    let verdict = v.verify(&c[0], &inter, &Peer::Client, None, now());
    assert_eq!(
        verdict.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![Code::AnchorNoLongerTrusted]
    );
}

#[test]
fn a_cached_path_gives_the_same_verdict_and_times_are_checked_every_call() {
    let pki = live_pki(false);
    let v = verifier(
        &pki,
        Policy {
            crl: medmij_core::profile::FailMode::Off,
            ocsp: medmij_core::profile::FailMode::Off,
            ..Policy::default()
        },
    );
    let c = chain(&pki, "g1-za");
    let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
    let first = v.verify(&c[0], &inter, &Peer::Client, None, now());
    let second = v.verify(&c[0], &inter, &Peer::Client, None, now());
    assert!(first.accepted && second.accepted);
    assert_eq!(first.chain.len(), second.chain.len());
    let later = v.verify(&c[0], &inter, &Peer::Client, None, 2_082_758_400); // 2036
    assert_eq!(
        later.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![Code::Expired]
    );
    // A tampered intermediate is a different chain: validated again, and refused.
    let mut bad = c[1].clone();
    let n = bad.len();
    bad[n - 3] ^= 1;
    let refused = v.verify(&c[0], &[&bad, &c[2]], &Peer::Client, None, now());
    assert!(!refused.accepted);
}

#[test]
fn the_intermediate_allow_list_refuses_chains_through_other_intermediates() {
    use medmij_core::profile::Sha256Fingerprint;
    let pki = live_pki(false);
    let c = chain(&pki, "g1-za");
    let fp = |der: &[u8]| {
        Sha256Fingerprint(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der)
                .as_ref()
                .try_into()
                .unwrap(),
        )
    };
    let off = || Policy {
        crl: medmij_core::profile::FailMode::Off,
        ocsp: medmij_core::profile::FailMode::Off,
        ..Policy::default()
    };
    let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
    let allowed = verifier(&pki, off()).with_intermediate_allowlist(vec![fp(&c[1]), fp(&c[2])]);
    assert!(
        allowed
            .verify(&c[0], &inter, &Peer::Client, None, now())
            .accepted
    );
    let only_domain = verifier(&pki, off()).with_intermediate_allowlist(vec![fp(&c[2])]);
    let v = only_domain.verify(&c[0], &inter, &Peer::Client, None, now());
    assert_eq!(
        v.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![Code::IntermediateNotAllowed]
    );
    assert_eq!(v.reasons[0].alert().name(), "unknown_ca");
    assert!(
        v.reasons[0].message.contains("allow-list"),
        "{}",
        v.reasons[0].message
    );
}
