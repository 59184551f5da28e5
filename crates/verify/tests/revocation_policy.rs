#![allow(clippy::cloned_ref_to_slice_refs)]
// `&[x.clone()]` reads better in these tables
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]
//! Soft- and hard-fail with CRL/OCSP servers that are down, slow, trickling or return garbage;
//! one fetch for many concurrent checks; stapled responses; caches.

mod support;

use medmij_core::profile::FailMode;
use medmij_testpki::store::pem_blocks;
use medmij_verify::http::HttpClient;
use medmij_verify::ocsp;
use medmij_verify::revocation::{
    CertRef, Decision, Depth, Engine, Mechanism, Outcome, Policy, Source,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

struct Parts {
    serial: Vec<u8>,
    issuer_name: Vec<u8>,
    issuer_spki: Vec<u8>,
    name: String,
}

fn parts(pki: &LivePki, leaf_id: &str, issuer: &str) -> Parts {
    let leaf = chain(pki, leaf_id).remove(0);
    let ca = pem_blocks(
        &std::fs::read_to_string(pki.dir.join(format!("ca/{issuer}.pem"))).unwrap(),
        "CERTIFICATE",
    )
    .unwrap()
    .remove(0);
    let (_, l) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    let (_, c) = x509_parser::parse_x509_certificate(&ca).unwrap();
    Parts {
        serial: l.raw_serial().to_vec(),
        issuer_name: c.subject().as_raw().to_vec(),
        issuer_spki: c.public_key().raw.to_vec(),
        name: leaf_id.into(),
    }
}

fn cref<'a>(p: &'a Parts, crl: &[String], ocsp: &[String]) -> CertRef<'a> {
    CertRef {
        name: p.name.clone(),
        serial: &p.serial,
        crl_urls: crl.to_vec(),
        ocsp_urls: ocsp.to_vec(),
        issuer_name: &p.issuer_name,
        issuer_spki: &p.issuer_spki,
        issuer_may_sign_crls: true,
        is_ca: false,
    }
}

fn engine_with(crl: FailMode, ocsp: FailMode, timeout: Duration) -> Engine {
    let policy = Policy {
        crl,
        ocsp,
        depth: Depth::Leaf,
        ..Policy::default()
    };
    Engine::new(policy, HttpClient::new(timeout, 1 << 20, None), vec![])
}

#[test]
fn down_slow_trickling_and_garbage_responders_soft_fail_or_hard_fail_as_configured() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let down = format!("http://127.0.0.1:{}/x", free_port());
    let (silent, _) = fake_server(Mode::Silent);
    let (trickle, _) = fake_server(Mode::Trickle);
    let (garbage, _) = fake_server(Mode::Garbage);
    for url in [
        down,
        format!("http://127.0.0.1:{silent}/x"),
        format!("http://127.0.0.1:{trickle}/x"),
        format!("http://127.0.0.1:{garbage}/x"),
    ] {
        for (mode, want_hard) in [(FailMode::Soft, false), (FailMode::Hard, true)] {
            let e = engine_with(mode, mode, Duration::from_millis(1500));
            let t = Instant::now();
            let mut ev = vec![];
            let d = e.check(
                &cref(&p, &[url.clone()], &[url.clone()]),
                None,
                now(),
                &mut ev,
            );
            assert!(
                t.elapsed() < Duration::from_secs(8),
                "{url}: took {:?}",
                t.elapsed()
            );
            match (d, want_hard) {
                (Decision::Good, false) => {
                    assert!(ev.iter().any(|e| e.outcome == Outcome::SoftFail), "{ev:#?}")
                }
                (Decision::Unknown(why), true) => assert!(!why.is_empty()),
                (other, _) => panic!("{url} {mode:?}: {other:?} {ev:#?}"),
            }
            let unavailable: Vec<_> = ev
                .iter()
                .filter(|e| matches!(e.outcome, Outcome::Unavailable | Outcome::Unusable))
                .collect();
            assert_eq!(
                unavailable.len(),
                2,
                "{url}: both mechanisms tried: {ev:#?}"
            );
        }
    }
}

#[test]
fn decision_4_5_defaults_ocsp_soft_crl_hard() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let crl_ok = format!("http://127.0.0.1:{}/crl/g1-tsp.crl", pki.port);
    let down = format!("http://127.0.0.1:{}/x", free_port());
    let e = Engine::new(
        Policy {
            depth: Depth::Leaf,
            ..Policy::default()
        },
        HttpClient::new(Duration::from_secs(2), 1 << 20, None),
        vec![],
    );
    // OCSP down, CRL fine: good, from the CRL.
    let mut ev = vec![];
    assert_eq!(
        e.check(
            &cref(&p, &[crl_ok.clone()], &[down.clone()]),
            None,
            now(),
            &mut ev
        ),
        Decision::Good
    );
    assert!(
        ev.iter()
            .any(|x| matches!(x.source, Source::Crl { .. }) && x.outcome == Outcome::Good),
        "{ev:#?}"
    );
    // OCSP fine (cached now? no: a fresh engine), CRL down: OCSP decides.
    let e = Engine::new(
        Policy {
            depth: Depth::Leaf,
            ..Policy::default()
        },
        HttpClient::new(Duration::from_secs(2), 1 << 20, None),
        vec![],
    );
    let ocsp_ok = format!("http://127.0.0.1:{}/ocsp/g1-tsp", pki.port);
    assert_eq!(
        e.check(
            &cref(&p, &[down.clone()], &[ocsp_ok]),
            None,
            now(),
            &mut vec![]
        ),
        Decision::Good
    );
    // Both down: CRL is hard by default.
    let e = Engine::new(
        Policy {
            depth: Depth::Leaf,
            ..Policy::default()
        },
        HttpClient::new(Duration::from_secs(2), 1 << 20, None),
        vec![],
    );
    assert!(matches!(
        e.check(
            &cref(&p, &[down.clone()], &[down.clone()]),
            None,
            now(),
            &mut vec![]
        ),
        Decision::Unknown(_)
    ));
    // The order can put CRL first.
    let e = Engine::new(
        Policy {
            depth: Depth::Leaf,
            order: vec![Mechanism::Crl, Mechanism::Ocsp],
            ..Policy::default()
        },
        HttpClient::default(),
        vec![],
    );
    let mut ev = vec![];
    e.check(&cref(&p, &[crl_ok], &[down]), None, now(), &mut ev);
    assert!(matches!(ev[0].source, Source::Crl { .. }), "{ev:#?}");
}

#[test]
fn concurrent_checks_for_one_certificate_fetch_the_crl_once() {
    let pki = live_pki(false);
    let p = Arc::new(parts(&pki, "g1-za", "g1-tsp"));
    let crl = Arc::new(std::fs::read(pki.dir.join("crl/g1-tsp.crl")).unwrap());
    let (port, count) = fake_server(Mode::Serve(crl, Duration::from_millis(300)));
    let url = format!("http://127.0.0.1:{port}/crl");
    let e = Arc::new(Engine::new(
        Policy {
            ocsp: FailMode::Off,
            depth: Depth::Leaf,
            ..Policy::default()
        },
        HttpClient::default(),
        vec![],
    ));
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (e, p, url, b) = (e.clone(), p.clone(), url.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                e.check(&cref(&p, &[url], &[]), None, now(), &mut vec![])
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Decision::Good);
    }
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "16 concurrent checks must share one fetch"
    );
    // And later checks come from the cache.
    e.check(&cref(&p, &[url], &[]), None, now(), &mut vec![]);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(
        e.counters()
            .snapshot()
            .get("crl-cache.hit")
            .copied()
            .unwrap_or(0)
            >= 1
    );
}

#[test]
fn a_crl_over_the_size_limit_is_refused_before_parsing() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let big = Arc::new(vec![0x30u8; 4096]);
    let (port, _) = fake_server(Mode::Serve(big, Duration::ZERO));
    let e = Engine::new(
        Policy {
            ocsp: FailMode::Off,
            depth: Depth::Leaf,
            max_crl_bytes: 1024,
            ..Policy::default()
        },
        HttpClient::new(Duration::from_secs(2), 1024, None),
        vec![],
    );
    let mut ev = vec![];
    let d = e.check(
        &cref(&p, &[format!("http://127.0.0.1:{port}/crl")], &[]),
        None,
        now(),
        &mut ev,
    );
    assert!(
        matches!(d, Decision::Unknown(ref w) if w.contains("larger than 1024")),
        "{d:?}"
    );
}

#[test]
fn a_valid_staple_decides_an_invalid_one_is_ignored_never_fatal() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let subject = ocsp::Subject {
        serial: &p.serial,
        issuer_name: &p.issuer_name,
        issuer_spki: &p.issuer_spki,
    };
    let req = ocsp::request(&subject).unwrap();
    let resp = medmij_testpki::ocsp::Responder::load(&medmij_testpki::store::PkiDir::new(&pki.dir))
        .unwrap()
        .respond(&req, &Default::default(), time::OffsetDateTime::now_utc())
        .0;
    let down = format!("http://127.0.0.1:{}/x", free_port());
    let e = engine_with(FailMode::Hard, FailMode::Soft, Duration::from_secs(1));
    let mut ev = vec![];
    assert_eq!(
        e.check(
            &cref(&p, &[down.clone()], &[down.clone()]),
            Some(&resp),
            now(),
            &mut ev
        ),
        Decision::Good
    );
    assert_eq!(ev[0].source, Source::StapledOcsp);
    // Garbage staple, working CRL: ignored, the CRL decides.
    let e = engine_with(FailMode::Hard, FailMode::Soft, Duration::from_secs(1));
    let crl_ok = format!("http://127.0.0.1:{}/crl/g1-tsp.crl", pki.port);
    let mut ev = vec![];
    assert_eq!(
        e.check(
            &cref(&p, &[crl_ok], &[]),
            Some(b"\x30\x03garbage"),
            now(),
            &mut ev
        ),
        Decision::Good
    );
    assert_eq!(ev[0].outcome, Outcome::Ignored);
    // A staple for another certificate is ignored too.
    let other = parts(&pki, "g1-pgo", "g1-tsp");
    let e = engine_with(FailMode::Soft, FailMode::Soft, Duration::from_secs(1));
    let mut ev = vec![];
    assert_eq!(
        e.check(
            &cref(&other, &[down.clone()], &[down]),
            Some(&resp),
            now(),
            &mut ev
        ),
        Decision::Good
    );
    assert_eq!(ev[0].outcome, Outcome::Ignored, "{ev:#?}");
}

#[test]
fn crl_past_next_update_is_used_within_grace_only() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let der = std::fs::read(pki.dir.join("crl/g1-tsp.crl")).unwrap();
    let e = Engine::new(
        Policy {
            ocsp: FailMode::Off,
            depth: Depth::Leaf,
            crl_grace: 3600,
            ..Policy::default()
        },
        HttpClient::default(),
        vec![("g1-tsp.crl".into(), der)],
    );
    let week = 7 * 24 * 3600;
    assert_eq!(
        e.check(&cref(&p, &[], &[]), None, now(), &mut vec![]),
        Decision::Good
    );
    assert_eq!(
        e.check(&cref(&p, &[], &[]), None, now() + week + 1800, &mut vec![]),
        Decision::Good
    );
    assert!(
        matches!(e.check(&cref(&p, &[], &[]), None, now() + week + 7200, &mut vec![]), Decision::Unknown(ref w) if w.contains("stale"))
    );
}

#[test]
fn a_failed_crl_download_is_not_retried_on_every_handshake() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let (silent, count) = fake_server(Mode::Silent);
    let url = format!("http://127.0.0.1:{silent}/crl");
    let e = engine_with(FailMode::Hard, FailMode::Off, Duration::from_millis(800));
    let t = Instant::now();
    assert!(matches!(
        e.check(
            &cref(&p, std::slice::from_ref(&url), &[]),
            None,
            now(),
            &mut vec![]
        ),
        Decision::Unknown(_)
    ));
    assert!(t.elapsed() >= Duration::from_millis(700));
    let t = Instant::now();
    assert!(matches!(
        e.check(
            &cref(&p, std::slice::from_ref(&url), &[]),
            None,
            now(),
            &mut vec![]
        ),
        Decision::Unknown(_)
    ));
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "the second check waited {:?}",
        t.elapsed()
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(e.counters().snapshot().get("crl.backoff"), Some(&1));
    // After the back-off the source is asked again.
    e.check(
        &cref(&p, std::slice::from_ref(&url), &[]),
        None,
        now() + medmij_verify::revocation::FAILURE_BACKOFF + 1,
        &mut vec![],
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn the_disk_cache_answers_after_a_restart_when_the_distribution_point_is_down() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let cache = tempfile::tempdir().unwrap();
    let crl = Arc::new(std::fs::read(pki.dir.join("crl/g1-tsp.crl")).unwrap());
    let (port, count) = fake_server(Mode::Serve(crl, Duration::ZERO));
    let url = format!("http://127.0.0.1:{port}/crl");
    let policy = || Policy {
        ocsp: FailMode::Off,
        depth: Depth::Leaf,
        cache_dir: Some(cache.path().to_path_buf()),
        ..Policy::default()
    };
    let e = Engine::new(
        policy(),
        HttpClient::new(Duration::from_secs(2), 1 << 20, None),
        vec![],
    );
    assert_eq!(
        e.check(
            &cref(&p, std::slice::from_ref(&url), &[]),
            None,
            now(),
            &mut vec![]
        ),
        Decision::Good
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        1,
        "the CRL is on disk"
    );
    // "Restart": a new engine, same cache dir, the distribution point now down.
    let down = format!("http://127.0.0.1:{}/crl", free_port());
    let e2 = Engine::new(
        policy(),
        HttpClient::new(Duration::from_secs(1), 1 << 20, None),
        vec![],
    );
    let stored = std::fs::read_dir(cache.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let renamed = cache.path().join(format!("{}.crl", {
        let h = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, down.as_bytes());
        h.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    }));
    std::fs::copy(stored, renamed).unwrap();
    let mut ev = vec![];
    assert_eq!(
        e2.check(&cref(&p, &[down], &[]), None, now(), &mut ev),
        Decision::Good,
        "{ev:#?}"
    );
    assert_eq!(e2.counters().snapshot().get("crl-disk.hit"), Some(&1));
}

#[test]
fn a_silent_ocsp_responder_costs_one_deadline_not_one_per_handshake() {
    let pki = live_pki(false);
    let p = parts(&pki, "g1-za", "g1-tsp");
    let (silent, count) = fake_server(Mode::Silent);
    let url = format!("http://127.0.0.1:{silent}");
    let crl_ok = format!("http://127.0.0.1:{}/crl/g1-tsp.crl", pki.port);
    let e = engine_with(FailMode::Hard, FailMode::Soft, Duration::from_millis(800));
    for i in 0..3 {
        let t = Instant::now();
        assert_eq!(
            e.check(
                &cref(
                    &p,
                    std::slice::from_ref(&crl_ok),
                    std::slice::from_ref(&url)
                ),
                None,
                now(),
                &mut vec![]
            ),
            Decision::Good
        );
        if i > 0 {
            assert!(
                t.elapsed() < Duration::from_millis(300),
                "handshake {i} waited {:?}",
                t.elapsed()
            );
        }
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(e.counters().snapshot().get("ocsp.backoff"), Some(&2));
}

#[test]
fn ocsp_by_post_works_as_well_as_by_get() {
    let pki = live_pki(false);
    let url = format!("http://127.0.0.1:{}/ocsp/g1-tsp", pki.port);
    for (leaf, want) in [
        ("g1-za", Decision::Good),
        ("g1-revoked", Decision::Revoked(String::new())),
    ] {
        let p = parts(&pki, leaf, "g1-tsp");
        let e = Engine::new(
            Policy {
                crl: FailMode::Off,
                depth: Depth::Leaf,
                ocsp_get_max: 0,
                ..Policy::default()
            },
            HttpClient::default(),
            vec![],
        );
        let mut ev = vec![];
        let d = e.check(
            &cref(&p, &[], std::slice::from_ref(&url)),
            None,
            now(),
            &mut ev,
        );
        assert_eq!(
            std::mem::discriminant(&d),
            std::mem::discriminant(&want),
            "{leaf}: {d:?} {ev:#?}"
        );
        assert_eq!(e.counters().snapshot().get("ocsp.fetch"), Some(&1));
    }
}
