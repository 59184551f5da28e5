//! The real PKIoverheid certificates (read from `../shared/reference/pkioverheid/`, never copied
//! into the repository): pins, the EV cut-off, a real G1 server leaf, RSASSA-PSS G4 chains, and
//! `anchors fetch` from a loopback publication server.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use medmij_core::{Environment, Profile};
use medmij_verify::anchors::{fetch, AnchorError, TrustStore};
use medmij_verify::http::HttpClient;
use medmij_verify::refusal::Code;
use medmij_verify::revocation::{Engine, Policy};
use medmij_verify::verifier::{Peer, Verifier};
use std::path::PathBuf;
use std::sync::Arc;
use support::{fake_server, Mode};

fn reference(name: &str) -> PathBuf {
    let shared = std::env::var_os("MEDMIJ_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let p = shared.join("reference/pkioverheid").join(name);
    assert!(
        p.exists(),
        "{} is missing: the tests need ../shared beside the checkout (or MEDMIJ_SHARED)",
        p.display()
    );
    p
}

fn der_of(name: &str) -> Vec<u8> {
    medmij_verify::anchors::read_certificates(&reference(name))
        .unwrap()
        .remove(0)
}

fn off() -> Arc<Engine> {
    Arc::new(Engine::new(
        Policy {
            crl: medmij_core::profile::FailMode::Off,
            ocsp: medmij_core::profile::FailMode::Off,
            ..Policy::default()
        },
        HttpClient::default(),
        vec![],
    ))
}

fn at(rfc: &str) -> i64 {
    time::OffsetDateTime::parse(rfc, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[test]
fn real_roots_match_the_profile_pins_and_unpinned_roots_warn_in_production() {
    let p = Profile::default_profile();
    let s = TrustStore::load(
        &p,
        Environment::Production,
        &[
            reference("staat-der-nederlanden-private-root-ca-g1.pem"),
            reference("staat-der-nederlanden-g4-root-priv-g-tls-2024.pem"),
        ],
    )
    .unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert!(s.anchors().iter().all(|a| a.pinned.is_some()));
    let s = TrustStore::load(
        &p,
        Environment::Production,
        &[reference("staat-der-nederlanden-root-ca-g3.pem")],
    )
    .unwrap();
    assert_eq!(s.warnings.len(), 1);
    assert!(
        s.warnings[0]
            .message
            .contains("not one of profile medmij-2025's pinned anchors"),
        "{}",
        s.warnings[0]
    );
}

#[test]
fn the_real_g1_server_leaf_verifies_in_2022_and_is_expired_now() {
    let p = Profile::default_profile();
    let anchors = TrustStore::load(
        &p,
        Environment::Production,
        &[reference("staat-der-nederlanden-private-root-ca-g1.pem")],
    )
    .unwrap();
    let v = Verifier::new(anchors, off());
    let leaf = der_of("example-leaf-g1-kpn-acc-waardepapieren-hoorn-nl-expired.pem");
    let kpn = der_of("kpn-pkioverheid-private-services-ca-g1.pem");
    let dom = der_of("staat-der-nederlanden-private-services-ca-g1.pem");
    let peer = Peer::Server {
        hostname: Some("acc-waardepapieren.hoorn.nl".into()),
    };
    let ok = v.verify(
        &leaf,
        &[&kpn, &dom],
        &peer,
        None,
        at("2022-06-01T00:00:00Z"),
    );
    assert!(ok.accepted, "{:#?}", ok.reasons);
    let now = v.verify(
        &leaf,
        &[&kpn, &dom],
        &peer,
        None,
        at("2026-11-23T00:00:00Z"),
    );
    assert_eq!(
        now.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![Code::Expired]
    );
    // Without the KPN CA the chain is incomplete (core.tls.313), not merely "unknown".
    let missing = v.verify(&leaf, &[&dom], &peer, None, at("2022-06-01T00:00:00Z"));
    assert_eq!(
        missing.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![Code::IncompleteChain]
    );
}

#[test]
fn the_ev_root_is_pinned_with_its_4_december_2022_cut_off_under_medmij_2022() {
    let p = Profile::builtin("medmij-2022").unwrap();
    let ev = reference("staat-der-nederlanden-ev-root-ca.pem");
    let s = TrustStore::load(&p, Environment::Production, &[ev]).unwrap();
    let a = &s.anchors()[0];
    assert_eq!(
        a.pinned.as_deref(),
        Some("Staat der Nederlanden EV Root CA")
    );
    assert_eq!(a.trusted_until, Some(at("2022-12-04T00:00:00Z")));
    // Its cut-off (and its own notAfter, 2022-12-08) are past: the operator is told at load.
    assert!(
        s.warnings
            .iter()
            .any(|w| w.check == "anchor.not-cut-off" && w.message.contains("only until 2022-12-04")),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings
            .iter()
            .any(|w| w.check == "anchor.valid" && w.message.contains("expired at 2022-12-08")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn the_real_g4_chain_with_rsassa_pss_sha512_validates_up_to_the_tsp_ca() {
    // There is no real G4 leaf in the reference; the TSP CA as "leaf" exercises PSS-SHA512 path
    // validation on the real certificates (its EKU carries serverAuth).
    let p = Profile::default_profile();
    let anchors = TrustStore::load(
        &p,
        Environment::Production,
        &[reference(
            "staat-der-nederlanden-g4-root-priv-g-tls-2024.pem",
        )],
    )
    .unwrap();
    let v = Verifier::new(anchors, off());
    let tsp = der_of("kpn-g4-pkio-priv-g-tls-sys-2025.pem");
    let intm = der_of("staat-der-nederlanden-g4-intm-priv-g-tls-sys-2024.pem");
    let verdict = v.verify(
        &tsp,
        &[&intm],
        &Peer::Server { hostname: None },
        None,
        at("2026-06-01T00:00:00Z"),
    );
    // webpki refuses a CA certificate as end entity; everything before that (PSS signatures) passed.
    assert!(
        verdict.reasons.iter().all(|r| r.code != Code::BadSignature),
        "{:#?}",
        verdict.reasons
    );
    let leafless = v.verify(
        &tsp,
        &[],
        &Peer::Server { hostname: None },
        None,
        at("2026-06-01T00:00:00Z"),
    );
    assert!(!leafless.accepted);
}

#[test]
fn anchors_fetch_keeps_a_file_only_when_its_fingerprint_matches() {
    let root = Arc::new(der_of("staat-der-nederlanden-private-root-ca-g1.pem"));
    let (good_port, count) = fake_server(Mode::Serve(root, std::time::Duration::ZERO));
    let g3 = Arc::new(der_of("staat-der-nederlanden-root-ca-g3.pem"));
    let (bad_port, _) = fake_server(Mode::Serve(g3, std::time::Duration::ZERO));
    let p = Profile::default_profile();
    let t = tempfile::tempdir().unwrap();
    let g1_only = |port: u16| {
        vec![
            (
                "Private Root CA - G1".to_string(),
                format!("http://127.0.0.1:{port}/PrivateRootCA-G1.cer"),
            ),
            ("G4".to_string(), format!("http://127.0.0.1:{port}/nope")),
        ]
    };
    // Restrict to G1 by pointing G4 at a port that is not listening.
    let mut ov = g1_only(good_port);
    ov[1].1 = format!("http://127.0.0.1:{}/g4.cer", support::free_port());
    let r = fetch(&p, t.path(), &ov, &HttpClient::default());
    // G1 stored, then G4 fails to download: an error, but the good file stays.
    assert!(r.is_err());
    assert!(count.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let stored = t
        .path()
        .join("staat_der_nederlanden_private_root_ca_g1.pem");
    assert!(
        stored.exists(),
        "{:?}",
        std::fs::read_dir(t.path()).unwrap().collect::<Vec<_>>()
    );
    let s = TrustStore::load(&p, Environment::Production, &[stored]).unwrap();
    assert!(s.warnings.is_empty());
    let t2 = tempfile::tempdir().unwrap();
    let e = fetch(&p, t2.path(), &g1_only(bad_port), &HttpClient::default()).unwrap_err();
    assert!(matches!(e, AnchorError::PinMismatch { .. }), "{e}");
    assert_eq!(
        std::fs::read_dir(t2.path()).map(|d| d.count()).unwrap_or(0),
        0,
        "a mismatching file must not be stored"
    );
}
