//! A real PKIoverheid G1 node certificate (KPN, Gemeente Hoorn; expired in 2023) and its real
//! chain, from `../shared/reference/pkioverheid/` (read there, never copied into the repository),
//! linted at an instant inside its validity against the real G1 root: every lint check passes or
//! is reported, and after its notAfter it fails cert.validity only.
#![allow(clippy::unwrap_used)]

use medmij_core::outcome::Status;
use medmij_core::{Environment, Profile};
use medmij_lint::{Linter, Options, Role};
use std::path::PathBuf;
use std::time::Duration;

fn shared() -> PathBuf {
    let dir = std::env::var_os("MEDMIJ_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let p = dir.join("reference/pkioverheid");
    assert!(
        p.is_dir(),
        "{} not found: set MEDMIJ_SHARED to the shared/ folder",
        p.display()
    );
    p
}

fn lint(at: &str) -> medmij_lint::FileReport {
    let d = shared();
    let mut chain = Vec::new();
    for f in [
        "example-leaf-g1-kpn-acc-waardepapieren-hoorn-nl-expired.pem",
        "kpn-pkioverheid-private-services-ca-g1.pem",
        "staat-der-nederlanden-private-services-ca-g1.pem",
    ] {
        chain.extend(std::fs::read(d.join(f)).unwrap());
    }
    let l = Linter::new(Options {
        role: Role::Backchannel,
        profile: Profile::builtin("medmij-2025").unwrap(),
        environment: Environment::Production,
        at: time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp(),
        trust_anchors: vec![d.join("staat-der-nederlanden-private-root-ca-g1.pem")],
        crl_files: vec![],
        revocation: None,
        fetch_timeout: Duration::from_secs(1),
        dns: None,
        caa_identifiers: vec![],
    })
    .unwrap();
    l.lint_bytes("hoorn", &chain)
}

#[test]
fn a_real_g1_node_certificate_passes_inside_its_validity_and_fails_only_validity_after() {
    let r = lint("2022-06-01T00:00:00Z");
    let bad: Vec<String> = r
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warning | Status::Error))
        .map(|f| format!("{} {:?}: {}", f.check, f.status, f.message))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let get = |c: &str| r.findings.iter().find(|f| f.check == c).unwrap();
    assert_eq!(get("leaf.policy-oid").status, Status::Pass);
    assert!(get("leaf.policy-oid")
        .message
        .contains("2.16.528.1.1003.1.2.8.6"));
    assert_eq!(get("leaf.oin").status, Status::Info);
    assert!(get("leaf.oin").message.contains("00000001001516814000"));
    assert_eq!(get("chain.trusted-anchor").status, Status::Pass);
    assert_eq!(get("leaf.key-usage").status, Status::Pass);

    let after = lint("2026-12-01T00:00:00Z");
    let failing: Vec<&str> = after
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.check)
        .collect();
    assert_eq!(failing, vec!["cert.validity"]);
}
