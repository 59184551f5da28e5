//! Output contracts: `verify --format json` is the typed report and validates against the
//! published JSON Schema (`docs/schema/verify-1.json`); text and JSON output are pinned by
//! snapshots (`tests/snapshots/`), with what changes from run to run (dates, digests, ports,
//! temporary paths) redacted.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::process::Output;

fn schema() -> jsonschema::Validator {
    schema_validator("verify-1.json")
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    schema_errors(v, doc)
}

#[test]
fn verify_json_validates_against_the_published_schema_for_every_catalogue_entry() {
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    let d = pki.dir.to_str().unwrap();
    let cat: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pki.dir.join("catalogue.json")).unwrap())
            .unwrap();
    let v = schema();
    let mut seen_codes = std::collections::BTreeSet::new();
    for e in cat["entries"].as_array().unwrap() {
        let role = e["role"].as_str().unwrap();
        let host = e["hostnames"][0].as_str().unwrap().replace('*', "x");
        let chain = format!("{d}/{}", e["chain"].as_str().unwrap());
        let root = format!("{d}/{}", e["root"].as_str().unwrap());
        let mut args = vec![
            "verify",
            "--role",
            role,
            "--environment",
            "test",
            "--format",
            "json",
            "--no-state",
            "--trust-anchor",
            &root,
            "--hostname",
            &host,
        ];
        let wl = format!("{d}/whitelist.xml");
        if role == "backchannel" {
            args.extend(["--whitelist", &wl]);
        }
        args.push(&chain);
        let o = bin().args(&args).output().unwrap();
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}: {}",
            e["id"],
            stderr(&o)
        );
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{}: {errs:#?}\n{doc:#}", e["id"]);
        for r in doc["reasons"].as_array().unwrap() {
            seen_codes.insert(r["code"].as_str().unwrap().to_string());
        }
    }
    assert!(seen_codes.len() >= 8, "{seen_codes:?}");
    // The schema is strict: a report with an unknown field or code does not validate.
    let o = bin()
        .args([
            "verify",
            "--role",
            "backchannel",
            "--environment",
            "test",
            "--format",
            "json",
            "--revocation",
            "off",
            "--trust-anchor",
        ])
        .arg(pki.dir.join("ca/g1-root.pem"))
        .arg(pki.dir.join("certs/g1-expired/chain.pem"))
        .output()
        .unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(errors(&v, &doc).is_empty());
    doc["reasons"][0]["code"] = "bogus".into();
    assert!(!errors(&v, &doc).is_empty());
    doc["reasons"][0]["code"] = "expired".into();
    doc["extra"] = true.into();
    assert!(!errors(&v, &doc).is_empty());
}

/// The same PKI every time (seed, P-256, fixed init time); no server, so only the CRL file
/// answers and OCSP soft-fails.
fn fixed(args: &[&str], chain: &str) -> (Output, String) {
    let pki = init_pki(&["--at", "2026-06-01T00:00:00Z"]);
    let d = pki.dir.to_str().unwrap().to_string();
    let root = format!("{d}/ca/g1-root.pem");
    let crl = format!("{d}/crl/g1-tsp.crl");
    let chain = format!("{d}/certs/{chain}/chain.pem");
    let mut all = vec![
        "verify",
        "--role",
        "backchannel",
        "--environment",
        "test",
        "--depth",
        "leaf",
        "--timeout",
        "1",
        "--at",
        "2026-06-02T00:00:00Z",
        "--no-state",
        "--trust-anchor",
        &root,
        "--crl",
        &crl,
    ];
    all.extend_from_slice(args);
    all.push(&chain);
    let o = bin().args(&all).output().unwrap();
    (o, d)
}

fn redacted(text: &str, dir: &str) -> String {
    let mut s = text.replace(dir, "[pki]");
    for (re, to) in [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\b[0-9a-f]{64}\b", "[sha256]"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[time]"),
        (r"CRL number [0-9a-f]+", "CRL number [n]"),
        (r"\(os error \d+\)", "(os error [n])"),
    ] {
        s = regex_lite_replace(&s, re, to);
    }
    s
}

fn regex_lite_replace(s: &str, re: &str, to: &str) -> String {
    regex::Regex::new(re)
        .unwrap()
        .replace_all(s, to)
        .into_owned()
}

#[test]
fn verify_text_and_json_are_pinned_by_snapshots() {
    let (o, d) = fixed(&[], "g1-revoked");
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("verify_text_revoked", redacted(&stdout(&o), &d));
    let (o, d) = fixed(&[], "g1-za");
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("verify_text_accepted", redacted(&stdout(&o), &d));
    let (o, d) = fixed(
        &["--format", "json", "--hostname", "nope.example"],
        "g1-revoked",
    );
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&redacted(&stdout(&o), &d)).unwrap();
    insta::assert_json_snapshot!("verify_json_revoked", doc);
}
