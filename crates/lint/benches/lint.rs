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
    let n: usize = std::env::var("LINT_BENCH_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
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
        .map(|e| {
            (
                e.role == CatRole::Backchannel,
                std::fs::read(dir.join(&e.chain)).unwrap(),
            )
        })
        .collect();
    // The leaf alone: the same files pkilint lints (`scripts/bench-lint`).
    let leaves: Vec<(bool, Vec<u8>)> = cat
        .entries
        .iter()
        .map(|e| {
            (
                e.role == CatRole::Backchannel,
                std::fs::read(dir.join(&e.cert)).unwrap(),
            )
        })
        .collect();
    if let Ok(out) = std::env::var("LINT_BENCH_OUT") {
        let out = std::path::Path::new(&out);
        for sub in ["leaf", "chain", "roots"] {
            std::fs::create_dir_all(out.join(sub)).unwrap();
        }
        for (i, e) in cat.entries.iter().enumerate() {
            let role = if e.role == CatRole::Backchannel {
                "back"
            } else {
                "front"
            };
            std::fs::copy(
                dir.join(&e.cert),
                out.join("leaf").join(format!("{i:03}-{}.pem", e.id)),
            )
            .unwrap();
            std::fs::copy(
                dir.join(&e.chain),
                out.join("chain")
                    .join(format!("{role}-{i:03}-{}.pem", e.id)),
            )
            .unwrap();
        }
        for (i, r) in roots.iter().enumerate() {
            std::fs::copy(r, out.join("roots").join(format!("{i:02}.pem"))).unwrap();
        }
    }
    let run_over = |files: &[(bool, Vec<u8>)], count: usize| {
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
    let best_of_3 = |files: &[(bool, Vec<u8>)]| {
        run_over(files, files.len()); // warm-up
        let mut best = Duration::MAX;
        let mut findings = 0;
        for _ in 0..3 {
            let (t, f) = run_over(files, n);
            best = best.min(t);
            findings = f;
        }
        (best, findings)
    };
    let (leaf_best, leaf_findings) = best_of_3(&leaves);
    let leaf_per = leaf_best.as_secs_f64() / n as f64;
    println!(
        "lint-leaf: {n} leaf certificate files (the files pkilint lints), {leaf_findings} findings, best of 3: {:.3} s = {:.1} µs per certificate = {:.0} per second (one thread)",
        leaf_best.as_secs_f64(),
        leaf_per * 1e6,
        1.0 / leaf_per
    );
    let (best, findings) = best_of_3(&files);
    // Where the time goes, per file: splitting and parsing, the verifier, the judgment.
    let store = medmij_verify::anchors::TrustStore::load(
        &Profile::builtin("medmij-2025").unwrap(),
        Environment::Production,
        &roots,
    )
    .unwrap();
    let profile = Profile::builtin("medmij-2025").unwrap();
    let v = medmij_verify::Verifier::builder(&profile, Environment::Production)
        .trust_anchors(store)
        .dangerous()
        .revocation(medmij_core::profile::FailMode::Off)
        .finish()
        .build()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (mut t_parse, mut t_verify, mut t_judge) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut t_split = Duration::ZERO;
    let ctx = medmij_lint::Context {
        profile: &profile,
        environment: Environment::Production,
        role: Role::Backchannel,
        now,
        revocation_checked: false,
        caa_identifiers: &[],
        anchor_subjects: &[],
    };
    for i in 0..n {
        let (_, bytes) = &files[i % files.len()];
        let t0 = Instant::now();
        let medmij_lint::input::Subject::Chain(ders) = medmij_lint::input::parse(bytes).unwrap()
        else {
            continue;
        };
        t_split += t0.elapsed();
        let parsed: Vec<_> = ders
            .iter()
            .map(|d| medmij_lint::facts::parse(d).unwrap())
            .collect();
        let facts: Vec<_> = ders
            .iter()
            .zip(&parsed)
            .map(|(d, c)| medmij_lint::facts::CertFacts::of(d, c))
            .collect();
        let t1 = Instant::now();
        let rest: Vec<_> = (1..ders.len())
            .map(|i| (ders[i].as_slice(), &parsed[i]))
            .collect();
        let verdict = v.decide_parsed(
            &ders[0],
            &parsed[0],
            &rest,
            &medmij_verify::Peer::Server { hostname: None },
            None,
            now,
        );
        let t2 = Instant::now();
        std::hint::black_box(medmij_lint::judge::chain(
            &ctx,
            &facts,
            Some(&verdict),
            None,
        ));
        t_parse += t1 - t0;
        t_verify += t2 - t1;
        t_judge += t2.elapsed();
    }
    let us = |d: Duration| d.as_secs_f64() / n as f64 * 1e6;
    println!(
        "split per file: PEM {:.1} µs, facts {:.1} µs, verifier {:.1} µs, judgment {:.1} µs",
        us(t_split),
        us(t_parse - t_split),
        us(t_verify),
        us(t_judge)
    );
    let per = best.as_secs_f64() / n as f64;
    println!(
        "lint: {n} chain files ({} catalogue entries repeated), {findings} findings, best of 3: {:.3} s = {:.1} µs per certificate = {:.0} per second (one thread)",
        files.len(),
        best.as_secs_f64(),
        per * 1e6,
        1.0 / per
    );
}
