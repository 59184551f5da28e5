//! Every test PKI catalogue entry gets exactly its intended findings: the checks it lists (the
//! lint-stage ones) are its only failures and warnings, with the status its severity says, and
//! every valid entry of its role passes every lint check. Table-driven over `catalogue.json`,
//! once with ECDSA keys and revocation fetched from a live `pki serve`, once with RSA keys
//! (the default) and the CRL files.
#![allow(clippy::unwrap_used)]

use medmij_core::checks::{self, Stage};
use medmij_core::outcome::Status;
use medmij_core::profile::FailMode;
use medmij_core::{Environment, Profile};
use medmij_lint::{Linter, Options, Role};
use medmij_testpki::catalogue::{Catalogue, Role as CatRole};
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use medmij_testpki::store::PkiDir;
use std::path::Path;
use std::time::Duration;

fn linter(
    dir: &Path,
    cat: &Catalogue,
    role: CatRole,
    revocation: Option<FailMode>,
    crls: bool,
) -> Linter {
    let roots: Vec<_> = cat
        .entries
        .iter()
        .filter(|e| e.role == role && e.id != "g1-unknown-root")
        .map(|e| dir.join(&e.root))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut crl_files = Vec::new();
    if crls {
        for f in std::fs::read_dir(dir.join("crl")).unwrap() {
            let p = f.unwrap().path();
            crl_files.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    Linter::new(Options {
        role: match role {
            CatRole::Backchannel => Role::Backchannel,
            CatRole::Frontchannel => Role::Frontchannel,
        },
        profile: Profile::builtin("medmij-2025").unwrap(),
        environment: Environment::Production,
        at: time::OffsetDateTime::now_utc().unix_timestamp(),
        trust_anchors: roots,
        crl_files,
        revocation,
        fetch_timeout: Duration::from_secs(5),
        dns: None,
        caa_identifiers: vec![],
    })
    .unwrap()
}

fn check_catalogue(dir: &Path, cat: &Catalogue, revocation: Option<FailMode>, crls: bool) {
    let lint_checks: Vec<&str> = checks::CHECKS
        .iter()
        .filter(|c| c.runs_at(Stage::Lint))
        .map(|c| c.name)
        .collect();
    let mut problems = Vec::new();
    for role in [CatRole::Backchannel, CatRole::Frontchannel] {
        let l = linter(dir, cat, role, revocation, crls);
        for e in cat.entries.iter().filter(|e| e.role == role) {
            let r = l.lint_file(&dir.join(&e.chain));
            assert!(r.error.is_none(), "{}: {:?}", e.id, r.error);
            // One finding per lint check, in registry order.
            let names: Vec<&str> = r.findings.iter().map(|f| f.check).collect();
            assert_eq!(names, lint_checks, "{}", e.id);
            let expected: Vec<&str> = e
                .checks
                .iter()
                .map(String::as_str)
                .filter(|c| lint_checks.contains(c))
                .filter(|c| revocation.is_some() || !c.starts_with("revocation."))
                .collect();
            let got: Vec<(&str, Status)> = r
                .findings
                .iter()
                .filter(|f| matches!(f.status, Status::Fail | Status::Warning | Status::Error))
                .map(|f| (f.check, f.status))
                .collect();
            let got_names: Vec<&str> = got.iter().map(|(c, _)| *c).collect();
            let mut want = expected.clone();
            want.sort();
            let mut have = got_names.clone();
            have.sort();
            if want != have {
                let detail: Vec<String> = r
                    .findings
                    .iter()
                    .filter(|f| got_names.contains(&f.check))
                    .map(|f| format!("{} {:?}: {}", f.check, f.status, f.message))
                    .collect();
                problems.push(format!(
                    "{}: expected {want:?}, got {have:?}\n    {}",
                    e.id,
                    detail.join("\n    ")
                ));
                continue;
            }
            if e.severity.as_deref() == Some("warning") {
                for (c, s) in &got {
                    if *s != Status::Warning {
                        problems.push(format!("{}: {c} is {s:?}, the entry says warning", e.id));
                    }
                }
            } else if let Some((c, s)) = got.iter().find(|(_, s)| *s == Status::Error) {
                problems.push(format!("{}: {c} is {s:?}", e.id));
            }
            // The revocation checks ran when asked for, on entries with a path.
            if revocation.is_some() && e.expect == medmij_testpki::catalogue::Expect::Valid {
                let rev = r
                    .findings
                    .iter()
                    .find(|f| f.check == "revocation.not-revoked")
                    .unwrap();
                assert_eq!(rev.status, Status::Pass, "{}: {}", e.id, rev.message);
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_catalogue_entry_gets_exactly_its_intended_findings_ecdsa_live_revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    // The port is reserved first so that the certificates name the server that will answer.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let cat = init(
        &dir,
        &InitOptions {
            key_style: KeyStyle::Ecdsa,
            base_url: format!("http://127.0.0.1:{port}"),
            ..Default::default()
        },
    )
    .unwrap();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let _server = medmij_testpki::serve::in_background(PkiDir::new(&dir), listener).unwrap();
    check_catalogue(&dir, &cat, Some(FailMode::Hard), false);
}

#[test]
fn every_catalogue_entry_gets_exactly_its_intended_findings_rsa_crl_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let cat = init(&dir, &InitOptions::default()).unwrap();
    // Nothing listens at the PKI's base URL: the CRL files must carry the decision (OCSP soft).
    check_catalogue(&dir, &cat, Some(FailMode::Hard), true);
}
