//! The revocation engine against what an attacker on the plain-HTTP path (or a careless CA) can
//! serve: scoped CRLs genuinely signed by the issuer, replayed older CRLs, CRLs without
//! nextUpdate, stale files, OCSP that says good while a CRL says revoked, silent distribution
//! points, delegated responders. Every fixture is made with openssl (or hand-built DER), not with
//! the project's test PKI.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use medmij_core::profile::FailMode;
use medmij_core::{Environment, Profile};
use medmij_verify::anchors::TrustStore;
use medmij_verify::http::HttpClient;
use medmij_verify::refusal::Code;
use medmij_verify::revocation::{Depth, Engine, Outcome, Policy, Source};
use medmij_verify::verifier::{Peer, Verdict, Verifier};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::openssl::{openssl, pem_der, Answer, OpensslCa, Routes};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    ca: OpensslCa,
    routes: Routes,
    leaf: std::path::PathBuf,
    dp: String,
}

/// An openssl CA, a leaf naming `/crl/ca.crl` as its distribution point and `/ocsp` as its
/// responder, both on a loopback server whose answers the test sets; OCSP answers 503.
fn fixture_with(extra_dps: &[String]) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let routes = Routes::start();
    let ca = OpensslCa::new(
        tmp.path(),
        "ca",
        "/C=NL/O=OpenSSL Fixture/CN=Fixture Root",
        3650,
    );
    let dp = routes.url("/crl/ca.crl");
    let mut dps = vec![dp.clone()];
    dps.extend(extra_dps.iter().cloned());
    let dps: Vec<String> = dps.iter().map(|u| format!("URI:{u}")).collect();
    let ext = format!(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:node.example\ncrlDistributionPoints={}\nauthorityInfoAccess=OCSP;URI:{}\n",
        dps.join(","),
        routes.url("/ocsp")
    );
    let leaf = ca.issue("node.example", &ext, 365);
    routes.set("/ocsp", Answer::Status(503));
    Fixture {
        _tmp: tmp,
        ca,
        routes,
        leaf,
        dp,
    }
}

fn fixture() -> Fixture {
    fixture_with(&[])
}

fn verifier(f: &Fixture, policy: Policy, crl_files: Vec<(String, Vec<u8>)>) -> Verifier {
    verifier_with_timeout(f, policy, crl_files, Duration::from_secs(2))
}

fn verifier_with_timeout(
    f: &Fixture,
    policy: Policy,
    crl_files: Vec<(String, Vec<u8>)>,
    timeout: Duration,
) -> Verifier {
    let store = TrustStore::from_ders(
        &Profile::default_profile(),
        Environment::Test,
        vec![pem_der(&f.ca.cert())],
        "openssl fixture",
    )
    .unwrap();
    Verifier::new(
        store,
        Arc::new(Engine::new(
            policy,
            HttpClient::new(timeout, 1 << 24, None),
            crl_files,
        )),
    )
}

fn check(v: &Verifier, f: &Fixture, stapled: Option<&[u8]>, at: i64) -> Verdict {
    v.verify(
        &pem_der(&f.leaf),
        &[],
        &Peer::Server {
            hostname: Some("node.example".into()),
        },
        stapled,
        at,
    )
}

fn codes(v: &Verdict) -> Vec<Code> {
    v.reasons.iter().map(|r| r.code).collect()
}

/// The default policy (CRL hard, OCSP soft) against a DP serving `crl` and OCSP answering 503.
fn verdict_for_served(f: &Fixture, crl: Vec<u8>) -> Verdict {
    f.routes.set("/crl/ca.crl", Answer::Body(crl));
    check(&verifier(f, Policy::default(), vec![]), f, None, now())
}

#[test]
fn a_ca_only_crl_never_answers_for_a_revoked_leaf() {
    let f = fixture();
    // The issuer's genuine CA-only CRL (an ARL), published before the leaf was revoked.
    let arl = f.ca.crl(
        &format!(
            "issuingDistributionPoint=critical,@idp\n[idp]\nfullname=URI:{}\nonlyCA=TRUE\n",
            f.dp
        ),
        48,
    );
    f.ca.revoke(&f.leaf, "keyCompromise");
    let v = verdict_for_served(&f, arl);
    assert!(
        !v.accepted,
        "a CA-only CRL was taken as the answer for a leaf: {v:?}"
    );
    assert_eq!(codes(&v), vec![Code::RevocationUnknown]);
    assert!(
        v.revocation
            .iter()
            .any(|e| e.outcome == Outcome::Unusable && e.detail.contains("onlyContainsCACerts")),
        "{:?}",
        v.revocation
    );
}

#[test]
fn a_crl_for_another_partition_does_not_answer() {
    let f = fixture();
    let other = f.ca.crl(
        &format!(
            "issuingDistributionPoint=critical,@idp\n[idp]\nfullname=URI:{}\n",
            f.routes.url("/crl/partition-2.crl")
        ),
        48,
    );
    f.ca.revoke(&f.leaf, "keyCompromise");
    let v = verdict_for_served(&f, other);
    assert_eq!(codes(&v), vec![Code::RevocationUnknown], "{v:?}");
}

#[test]
fn an_indirect_or_attribute_only_crl_is_refused() {
    for ext in ["indirectCRL=TRUE", "onlyAA=TRUE"] {
        let f = fixture();
        let crl = f.ca.crl(
            &format!(
                "issuingDistributionPoint=critical,@idp\n[idp]\nfullname=URI:{}\n{ext}\n",
                f.dp
            ),
            48,
        );
        let v = verdict_for_served(&f, crl);
        assert_eq!(codes(&v), vec![Code::RevocationUnknown], "{ext}: {v:?}");
        assert!(
            v.revocation
                .iter()
                .any(|e| e.detail.contains("issuingDistributionPoint")),
            "{ext}: {:?}",
            v.revocation
        );
    }
}

#[test]
fn a_user_only_crl_for_this_distribution_point_still_answers() {
    let f = fixture();
    let ext = format!(
        "issuingDistributionPoint=critical,@idp\n[idp]\nfullname=URI:{}\nonlyuser=TRUE\n",
        f.dp
    );
    let good = f.ca.crl(&ext, 48);
    assert!(verdict_for_served(&f, good).accepted);
    f.ca.revoke(&f.leaf, "keyCompromise");
    let revoked = f.ca.crl(&ext, 48);
    assert_eq!(codes(&verdict_for_served(&f, revoked)), vec![Code::Revoked]);
}

#[test]
fn crls_limited_to_some_reasons_answer_only_together() {
    let f = fixture();
    let some = |reasons: &str| {
        f.ca.crl(
            &format!(
                "issuingDistributionPoint=critical,@idp\n[idp]\nfullname=URI:{}\nonlysomereasons={reasons}\n",
                f.dp
            ),
            48,
        )
    };
    let key = some("keyCompromise");
    let rest = some("CACompromise,affiliationChanged,superseded,cessationOfOperation,certificateHold,privilegeWithdrawn,AACompromise");
    // Alone: not complete, and the default CRL policy is hard.
    let v = verdict_for_served(&f, key.clone());
    assert_eq!(codes(&v), vec![Code::RevocationUnknown], "{v:?}");
    assert!(v
        .revocation
        .iter()
        .any(|e| e.detail.contains("only some revocation reasons")));
    // Together (files), complete: the leaf is not revoked.
    f.routes.set("/crl/ca.crl", Answer::Status(404));
    let both = verifier(
        &f,
        Policy::default(),
        vec![("key.crl".into(), key), ("rest.crl".into(), rest)],
    );
    let v = check(&both, &f, None, now());
    assert!(v.accepted, "{v:?}");
}

#[test]
fn an_older_crl_replayed_after_a_newer_one_never_rolls_the_cache_back() {
    let f = fixture();
    f.ca.set_crl_number(3);
    let old = f.ca.crl("", 48);
    f.ca.revoke(&f.leaf, "keyCompromise");
    f.ca.set_crl_number(5);
    let new = f.ca.crl("", 48);
    // Re-fetch on every check (refresh window larger than the CRL's life).
    let policy = Policy {
        refresh_before: 365 * 86_400,
        ..Policy::default()
    };
    let v = verifier(&f, policy, vec![]);
    f.routes.set("/crl/ca.crl", Answer::Body(new));
    assert_eq!(codes(&check(&v, &f, None, now())), vec![Code::Revoked]);
    f.routes.set("/crl/ca.crl", Answer::Body(old));
    let replayed = check(&v, &f, None, now() + 1);
    assert_eq!(codes(&replayed), vec![Code::Revoked], "{replayed:?}");
    assert!(
        f.routes.hits("/crl/") >= 2,
        "the replayed CRL was never fetched"
    );
}

#[test]
fn of_several_crl_files_a_listing_in_the_newer_one_wins_whatever_the_order() {
    let f = fixture();
    f.ca.set_crl_number(3);
    let old = f.ca.crl("", 48);
    f.ca.revoke(&f.leaf, "keyCompromise");
    f.ca.set_crl_number(9);
    let new = f.ca.crl("", 48);
    f.routes.set("/crl/ca.crl", Answer::Status(404));
    for files in [
        vec![
            ("old".to_string(), old.clone()),
            ("new".to_string(), new.clone()),
        ],
        vec![
            ("new".to_string(), new.clone()),
            ("old".to_string(), old.clone()),
        ],
    ] {
        let v = check(&verifier(&f, Policy::default(), files), &f, None, now());
        assert_eq!(codes(&v), vec![Code::Revoked], "{v:?}");
    }
}

#[test]
fn a_stale_crl_file_does_not_stop_the_distribution_point_from_being_fetched() {
    let f = fixture();
    let stale_soon = f.ca.crl("", 1);
    let fresh = f.ca.crl("", 72);
    f.routes.set("/crl/ca.crl", Answer::Body(fresh));
    let v = verifier(
        &f,
        Policy::default(),
        vec![("stale.crl".into(), stale_soon)],
    );
    // Three hours on, the file is past nextUpdate + grace; the DP's CRL is fresh.
    let later = check(&v, &f, None, now() + 3 * 3600);
    assert!(later.accepted, "{later:?}");
    assert!(later.revocation.iter().any(|e| e.source
        == Source::CrlFile {
            name: "stale.crl".into()
        }
        && e.outcome == Outcome::Unusable));
    assert!(later
        .revocation
        .iter()
        .any(|e| matches!(e.source, Source::Crl { .. }) && e.outcome == Outcome::Good));
}

/// A CertificateList rebuilt from `crl` without its nextUpdate and signed again with the CA key:
/// hand-built DER, as a careless CA would publish it.
fn without_next_update(crl: &[u8], ca_key_pem: &Path) -> Vec<u8> {
    use medmij_verify::sigverify::{contents, sequence_elements};
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = body.len();
        if n < 0x80 {
            out.push(n as u8);
        } else if n < 0x100 {
            out.extend([0x81, n as u8]);
        } else {
            out.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(body);
        out
    }
    let outer = sequence_elements(crl).unwrap();
    let tbs = sequence_elements(outer[0]).unwrap();
    // version, signature, issuer, thisUpdate, nextUpdate, ...: drop the fifth.
    assert!(
        tbs[4][0] == 0x17 || tbs[4][0] == 0x18,
        "element 5 is nextUpdate"
    );
    let body: Vec<u8> = tbs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .flat_map(|(_, e)| e.to_vec())
        .collect();
    let new_tbs = tlv(0x30, &body);
    let key_pem = std::fs::read_to_string(ca_key_pem).unwrap();
    let key_der = medmij_testpki::store::pem_blocks(&key_pem, "PRIVATE KEY").unwrap()[0].clone();
    let kp = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &key_der,
    )
    .unwrap();
    let sig = kp
        .sign(&aws_lc_rs::rand::SystemRandom::new(), &new_tbs)
        .unwrap();
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig.as_ref());
    let mut all = new_tbs;
    all.extend_from_slice(outer[1]);
    all.extend(tlv(0x03, &bits));
    let _ = contents;
    tlv(0x30, &all)
}

#[test]
fn a_crl_without_next_update_is_refused_however_old() {
    let f = fixture();
    let crl = without_next_update(&f.ca.crl("", 48), &f.ca.dir.join("ca.key"));
    let v = verdict_for_served(&f, crl.clone());
    assert_eq!(codes(&v), vec![Code::RevocationUnknown], "{v:?}");
    assert!(v.revocation.iter().any(|e| e.detail.contains("nextUpdate")));
    // Two years on it would still have been "current".
    let v = check(
        &verifier(&f, Policy::default(), vec![("no-next.crl".into(), crl)]),
        &f,
        None,
        now() + 2 * 365 * 86_400 - 86_400 * 300,
    );
    assert!(!v.accepted);
}

/// A good OCSP response for the leaf made by `openssl ocsp` from the CA database, signed by the
/// CA itself, with `digest` for the CertID.
fn ocsp_staple(f: &Fixture, digest: &str) -> Vec<u8> {
    let leaf = f.leaf.to_str().unwrap();
    openssl(
        &f.ca.dir,
        &[
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "ca.pem",
            "-rkey",
            "ca.key",
            "-CA",
            "ca.pem",
            "-issuer",
            "ca.pem",
            digest,
            "-cert",
            leaf,
            "-ndays",
            "2",
            "-respout",
            "staple.der",
        ],
    );
    std::fs::read(f.ca.dir.join("staple.der")).unwrap()
}

#[test]
fn a_valid_crl_listing_the_leaf_wins_over_a_good_ocsp_answer() {
    let f = fixture();
    let staple = ocsp_staple(&f, "-sha1");
    f.ca.revoke(&f.leaf, "keyCompromise");
    let crl = f.ca.crl("", 48);
    let v = check(
        &verifier(&f, Policy::default(), vec![("revoked.crl".into(), crl)]),
        &f,
        Some(&staple),
        now(),
    );
    assert_eq!(codes(&v), vec![Code::Revoked], "{v:?}");
    let sources: Vec<(&Source, Outcome)> = v
        .revocation
        .iter()
        .map(|e| (&e.source, e.outcome))
        .collect();
    assert!(
        sources.contains(&(&Source::StapledOcsp, Outcome::Good)),
        "{sources:?}"
    );
    assert!(
        sources.contains(&(
            &Source::CrlFile {
                name: "revoked.crl".into()
            },
            Outcome::Revoked
        )),
        "{sources:?}"
    );
}

#[test]
fn staples_with_sha2_cert_ids_are_matched() {
    for digest in ["-sha256", "-sha384", "-sha512"] {
        let f = fixture();
        let staple = ocsp_staple(&f, digest);
        f.routes.set("/crl/ca.crl", Answer::Status(404));
        let v = check(
            &verifier(&f, Policy::default(), vec![]),
            &f,
            Some(&staple),
            now(),
        );
        assert!(v.accepted, "{digest}: {v:?}");
        assert!(
            v.revocation
                .iter()
                .any(|e| e.source == Source::StapledOcsp && e.outcome == Outcome::Good),
            "{digest}: {:?}",
            v.revocation
        );
    }
}

#[test]
fn a_delegated_responder_without_nocheck_is_checked_and_a_revoked_one_vouches_for_nothing() {
    let f = fixture();
    let responder_ext = |nocheck: bool| {
        format!(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\ncrlDistributionPoints=URI:{}\n{}",
            f.dp,
            if nocheck { "noCheck=ignored\n" } else { "" }
        )
    };
    let plain = f.ca.issue("responder-plain", &responder_ext(false), 30);
    let nocheck = f.ca.issue("responder-nocheck", &responder_ext(true), 30);
    let staple_by = |responder: &Path| {
        let r = responder.to_str().unwrap();
        let key = responder.with_extension("key");
        openssl(
            &f.ca.dir,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                r,
                "-rkey",
                key.to_str().unwrap(),
                "-CA",
                "ca.pem",
                "-issuer",
                "ca.pem",
                "-cert",
                f.leaf.to_str().unwrap(),
                "-ndays",
                "2",
                "-respout",
                "delegated.der",
            ],
        );
        std::fs::read(f.ca.dir.join("delegated.der")).unwrap()
    };
    let by_plain = staple_by(&plain);
    let by_nocheck = staple_by(&nocheck);
    f.ca.revoke(&plain, "keyCompromise");
    f.ca.revoke(&nocheck, "keyCompromise");
    f.routes.set("/crl/ca.crl", Answer::Body(f.ca.crl("", 48)));
    let v = verifier(&f, Policy::default(), vec![]);

    let staple_outcome = |verdict: &Verdict| {
        verdict
            .revocation
            .iter()
            .find(|e| e.source == Source::StapledOcsp)
            .map(|e| (e.outcome, e.detail.clone()))
            .unwrap()
    };
    let (outcome, detail) = staple_outcome(&check(&v, &f, Some(&by_plain), now()));
    assert_eq!(outcome, Outcome::Ignored, "{detail}");
    assert!(detail.contains("revoked"), "{detail}");
    // id-pkix-ocsp-nocheck: the client need not (and does not) check the responder.
    let (outcome, detail) = staple_outcome(&check(&v, &f, Some(&by_nocheck), now()));
    assert_eq!(outcome, Outcome::Good, "{detail}");
}

#[test]
fn one_usable_distribution_point_stops_the_rest_and_silent_ones_share_one_budget() {
    let routes_probe = Routes::start();
    let silent: Vec<String> = (0..5)
        .map(|i| routes_probe.url(&format!("/silent/{i}.crl")))
        .collect();
    for i in 0..5 {
        routes_probe.set(&format!("/silent/{i}"), Answer::Silent);
        routes_probe.set(&format!("/silent/{i}.crl"), Answer::Silent);
    }
    // Good first, then five silent: one fetch, the silent ones are never asked.
    let f = fixture_with(&silent);
    f.routes.set("/crl/ca.crl", Answer::Body(f.ca.crl("", 48)));
    let t = Instant::now();
    let v = check(&verifier(&f, Policy::default(), vec![]), &f, None, now());
    assert!(v.accepted, "{v:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(routes_probe.hits("/silent/"), 0);

    // Ten silent distribution points and a 2-second budget: the check ends within the budget
    // (not ten deadlines), says so, and the hard CRL policy refuses.
    let ten: Vec<String> = (0..10)
        .map(|i| {
            routes_probe.set(&format!("/ten/{i}.crl"), Answer::Silent);
            routes_probe.url(&format!("/ten/{i}.crl"))
        })
        .collect();
    let g = fixture_with(&ten);
    g.routes.set("/crl/ca.crl", Answer::Silent);
    let policy = Policy {
        certificate_budget: Duration::from_secs(2),
        chain_budget: Duration::from_secs(2),
        ..Policy::default()
    };
    let v = verifier_with_timeout(&g, policy, vec![], Duration::from_secs(1));
    let t = Instant::now();
    let verdict = check(&v, &g, None, now());
    let took = t.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(codes(&verdict), vec![Code::RevocationUnknown]);
    assert!(
        verdict
            .revocation
            .iter()
            .any(|e| e.detail.contains("time budget")),
        "{:?}",
        verdict.revocation
    );
}

#[test]
fn a_huge_crl_grace_does_not_overflow_into_refusing_everything() {
    let f = fixture();
    f.routes.set("/crl/ca.crl", Answer::Body(f.ca.crl("", 48)));
    let policy = Policy {
        crl_grace: i64::MAX,
        ocsp: FailMode::Off,
        depth: Depth::Leaf,
        ..Policy::default()
    };
    let v = check(&verifier(&f, policy, vec![]), &f, None, now());
    assert!(v.accepted, "{v:?}");
}
