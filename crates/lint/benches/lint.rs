//! Linter throughput, single-threaded: the test PKI catalogue (RSA keys, as PKIoverheid issues)
//! repeated to `LINT_BENCH_COUNT` files (default 10,000), each linted for its role with the
//! catalogue's roots as anchors (path validation and every lint check; no DNS, no revocation
//! fetches). With `LINT_BENCH_OUT=DIR` the leaf certificates are also written there (one PEM per
//! entry) so that `scripts/bench-lint` can run pkilint on the same certificates.
#![allow(clippy::unwrap_used, missing_docs)]

use medmij_core::{Environment, Profile};
use medmij_lint::{Linter, Options, Role};
use medmij_testpki::catalogue::Role as CatRole;
use medmij_testpki::init::{init, InitOptions};
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::var("LINT_BENCH_COUNT").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let cat = init(&dir, &InitOptions::default()).unwrap();
    let roots: Vec<_> = cat
        .entries
        .iter()
        .map(|e| dir.join(&e.root))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let linter = |role| {
        Linter::new(Options {
            role,
            profile: Profile::builtin("medmij-2025").unwrap(),
            environment: Environment::Production,
            at: time::OffsetDateTime::now_utc().unix_timestamp(),
            trust_anchors: roots.clone(),
            crl_files: vec![],
            revocation: None,
            fetch_timeout: Duration::from_secs(1),
            dns: None,
            caa_identifiers: vec![],
        })
        .unwrap()
    };
    let (back, front) = (linter(Role::Backchannel), linter(Role::Frontchannel));
    let files: Vec<(bool, Vec<u8>)> = cat
        .entries
        .iter()
        .map(|e| (e.role == CatRole::Backchannel, std::fs::read(dir.join(&e.chain)).unwrap()))
        .collect();
    if let Ok(out) = std::env::var("LINT_BENCH_OUT") {
        let out = std::path::Path::new(&out);
        for sub in ["leaf", "chain", "roots"] {
            std::fs::create_dir_all(out.join(sub)).unwrap();
        }
        for (i, e) in cat.entries.iter().enumerate() {
            let role = if e.role == CatRole::Backchannel { "back" } else { "front" };
            std::fs::copy(dir.join(&e.cert), out.join("leaf").join(format!("{i:03}-{}.pem", e.id))).unwrap();
            std::fs::copy(dir.join(&e.chain), out.join("chain").join(format!("{role}-{i:03}-{}.pem", e.id))).unwrap();
        }
        for (i, r) in roots.iter().enumerate() {
            std::fs::copy(r, out.join("roots").join(format!("{i:02}.pem"))).unwrap();
        }
    }
    let run = |count: usize| {
        let mut findings = 0usize;
        let t0 = Instant::now();
        for i in 0..count {
            let (is_back, bytes) = &files[i % files.len()];
            let l = if *is_back { &back } else { &front };
            let r = l.lint_bytes("bench", std::hint::black_box(bytes));
            findings += r.findings.len();
        }
        (t0.elapsed(), findings)
    };
    run(files.len()); // warm-up
    let mut best = Duration::MAX;
    let mut findings = 0;
    for _ in 0..3 {
        let (t, f) = run(n);
        best = best.min(t);
        findings = f;
    }
    let per = best.as_secs_f64() / n as f64;
    println!(
        "lint: {n} chain files ({} catalogue entries repeated), {findings} findings, best of 3: {:.3} s = {:.1} µs per certificate = {:.0} per second (one thread)",
        files.len(),
        best.as_secs_f64(),
        per * 1e6,
        1.0 / per
    );
}
