//! The handshake path of an async server: revocation decided from memory only, the caches kept
//! warm by the background refresher on a tokio runtime, against `pki serve` on loopback.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use medmij_testpki::ops::{revoke, RevokeTarget};
use medmij_testpki::store::PkiDir;
use medmij_verify::refusal::Code;
use medmij_verify::revocation::{Outcome, Policy};
use medmij_verify::verifier::{Peer, Verdict};
use std::time::{Duration, Instant};
use support::*;

fn decide(v: &medmij_verify::verifier::Verifier, c: &[Vec<u8>]) -> Verdict {
    let inter: Vec<&[u8]> = c[1..].iter().map(Vec::as_slice).collect();
    v.decide(&c[0], &inter, &Peer::Client, None, now())
}

#[test]
fn the_handshake_path_decides_from_memory_and_the_refresher_keeps_it_current() {
    let pki = live_pki(false);
    // Refresh every cached CRL on every round (the window is longer than the CRLs' life).
    let policy = Policy {
        refresh_before: 30 * 86_400,
        ..Policy::default()
    };
    let v = verifier(&pki, policy).decide_from_memory();
    let chain = chain(&pki, "g1-za");

    // Cold cache: nothing is fetched on the handshake path; CRL is hard-fail, so refused.
    let t = Instant::now();
    let cold = decide(&v, &chain);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        cold.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![Code::RevocationUnknown],
        "{cold:#?}"
    );
    assert!(cold
        .revocation
        .iter()
        .any(|e| e.outcome == Outcome::Unavailable && e.detail.contains("cached state only")));
    assert_eq!(v.revocation().counters().snapshot().get("crl.fetch"), None);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _refresher = rt.block_on(async {
        medmij_verify::background::spawn(v.revocation().clone(), Duration::from_millis(100))
    });

    // The refresher prefetches what was missed: the next handshakes are decided from memory.
    let warm = wait_for(|| decide(&v, &chain).accepted.then_some(()));
    assert!(warm.is_some(), "never warmed: {:#?}", decide(&v, &chain));
    let fetches = v.revocation().counters().snapshot()["crl.fetch"];
    for _ in 0..20 {
        assert!(decide(&v, &chain).accepted);
    }

    // A revocation reaches the handshake path through the refresher alone.
    let pd = PkiDir::new(&pki.dir);
    revoke(
        &pd,
        &RevokeTarget::Cert(pki.dir.join(&pki.cat.entry("g1-za").unwrap().cert)),
        Some("keyCompromise"),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let refused = wait_for(|| {
        let d = decide(&v, &chain);
        d.reasons
            .iter()
            .any(|r| r.code == Code::Revoked)
            .then_some(d)
    });
    assert!(
        refused.is_some(),
        "revocation never seen: {:#?}",
        decide(&v, &chain)
    );
    assert!(v.revocation().counters().snapshot()["crl.fetch"] > fetches);
    drop(rt);
}

fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if let Some(x) = f() {
            return Some(x);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}
