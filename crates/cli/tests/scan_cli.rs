//! `medmij-tls scan` as a user runs it against `openssl s_server` on loopback: exit codes
//! (0 compliant, 1 findings, 2 could not scan), the JSON report against its published schema
//! (with negative controls), `--from-json` judging stored facts under another profile, HTML,
//! JUnit, targets files, whitelist targets, and usage errors.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct SServer(Child);

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn s_server(pki: &Pki, port: u16, extra: &[&str]) -> SServer {
    let d = &pki.dir;
    let chain = std::fs::read_to_string(d.join("certs/g1-za/chain.pem")).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let first = chain.find(end).unwrap() + end.len();
    std::fs::write(d.join("leaf.pem"), &chain[..first]).unwrap();
    std::fs::write(d.join("inter.pem"), &chain[first..]).unwrap();
    let child = Command::new("openssl")
        .arg("s_server")
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .args([
            "-cert",
            "leaf.pem",
            "-cert_chain",
            "inter.pem",
            "-key",
            "certs/g1-za/key.pem",
            "-www",
            "-quiet",
        ])
        .args(extra)
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is required: run scripts/test");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s_server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    SServer(child)
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn finding<'a>(doc: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    doc["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check}"))
}

/// The facts without the `ncsc` levels (the judgment's annotation, per profile).
fn without_levels(mut v: serde_json::Value) -> serde_json::Value {
    match &mut v {
        serde_json::Value::Object(m) => {
            m.remove("ncsc");
            for (_, x) in m.iter_mut() {
                *x = without_levels(x.take());
            }
        }
        serde_json::Value::Array(a) => {
            for x in a.iter_mut() {
                *x = without_levels(x.take());
            }
        }
        _ => {}
    }
    v
}

#[test]
fn scan_json_schema_from_json_html_junit_and_exit_codes() {
    let pki = init_pki(&[]);
    let d = pki.dir.display().to_string();
    let g1 = format!("{d}/ca/g1-root.pem");
    let port = free_port();
    let _srv = s_server(
        &pki,
        port,
        &["-Verify", "2", "-verify_return_error", "-CAfile", &g1],
    );
    let target = format!("127.0.0.1:{port}");
    let out = format!("{d}/scan.json");
    let o = run(&[
        "scan",
        &target,
        "--sni",
        "za.zorgaanbieder.example",
        "--trust-anchor",
        &g1,
        "--environment",
        "test",
        "--format",
        "json",
        "--output",
        &out,
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "openssl's default suites include insufficient ones: {}",
        stderr(&o)
    );
    let doc = json(&std::fs::read_to_string(&out).unwrap());
    let v = schema_validator("scan-1.json");
    assert!(
        schema_errors(&v, &doc).is_empty(),
        "{:?}",
        schema_errors(&v, &doc)
    );
    assert_eq!(doc["schema"], "medmij-tls/scan/1");
    let facts = &doc["targets"][0]["facts"];
    assert_eq!(facts["versions"], serde_json::json!(["TLSv1.3", "TLSv1.2"]));
    assert_eq!(facts["client_auth"], "required");
    let suite = facts["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "0xC02B")
        .unwrap();
    assert_eq!(suite["name"], "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assert_eq!(suite["ncsc"], "sufficient");
    assert_eq!(finding(&doc, "tls.client-certificate")["status"], "pass");
    assert_eq!(
        finding(&doc, "tls.versions-rated")["status"],
        "info",
        "TLS 1.2 is medmij-2025's deviation"
    );
    assert_eq!(
        finding(&doc, "tls.versions-rated")["requirement"],
        "core.tls.301"
    );
    // Negative controls: the schema catches a wrong status, a missing field, a bad code.
    let mut bad = doc.clone();
    bad["targets"][0]["findings"][0]["status"] = "passed".into();
    assert!(!schema_errors(&v, &bad).is_empty());
    let mut bad = doc.clone();
    bad["targets"][0]["facts"]
        .as_object_mut()
        .unwrap()
        .remove("client_auth");
    assert!(!schema_errors(&v, &bad).is_empty());
    let mut bad = doc.clone();
    bad["targets"][0]["facts"]["cipher_suites"][0]["code"] = "C02F".into();
    assert!(!schema_errors(&v, &bad).is_empty());

    // The stored facts judged again under medmij-2022, without a server.
    drop(_srv);
    let o = run(&[
        "scan",
        "--from-json",
        &out,
        "--profile",
        "medmij-2022",
        "--trust-anchor",
        &g1,
        "--environment",
        "test",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let re = json(&stdout(&o));
    assert!(schema_errors(&v, &re).is_empty());
    assert_eq!(re["profile"], "medmij-2022");
    assert_eq!(
        without_levels(re["targets"][0]["facts"].clone()),
        without_levels(doc["targets"][0]["facts"].clone()),
        "the facts are kept as scanned; only the NCSC levels are the new profile's"
    );
    let level = |d: &serde_json::Value| {
        d["targets"][0]["facts"]["cipher_suites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == "0xC009")
            .unwrap()["ncsc"]
            .clone()
    };
    assert_eq!(
        (level(&doc), level(&re)),
        ("insufficient".into(), "sufficient".into()),
        "v2.1 rates ECDHE-ECDSA-AES128-SHA sufficient"
    );
    assert_eq!(finding(&re, "tls.versions-rated")["status"], "info");
    assert!(
        finding(&re, "tls.versions-rated")["message"]
            .as_str()
            .unwrap()
            .contains("older text"),
        "medmij-2022's own deviation is cited"
    );
    assert_eq!(finding(&re, "tls.versions-required")["status"], "pass");
    // HTML and JUnit from the same facts.
    let o = run(&["scan", "--from-json", &out, "--format", "html"]);
    let html = stdout(&o);
    assert!(
        html.starts_with("<!DOCTYPE html>")
            && html.contains("id=\"grid\"")
            && html.contains("core.tls.308"),
        "{html}"
    );
    let o = run(&["scan", "--from-json", &out, "--format", "junit"]);
    let xml = stdout(&o);
    let parsed = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let suites = parsed.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let failures: usize = suites.attribute("failures").unwrap().parse().unwrap();
    assert!(failures > 0);
    assert_eq!(
        parsed
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        failures
    );
    // A stored report that is not one: exit 2, named.
    std::fs::write(
        format!("{d}/not.json"),
        "{\"schema\": \"medmij-tls/lint/1\", \"targets\": []}",
    )
    .unwrap();
    let o = run(&["scan", "--from-json", &format!("{d}/not.json")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("medmij-tls/lint/1"), "{}", stderr(&o));
}

#[test]
fn scan_targets_files_whitelists_unreachable_and_usage_errors() {
    let pki = init_pki(&[]);
    let d = pki.dir.display().to_string();
    let port = free_port();
    let _srv = s_server(&pki, port, &["-tls1_3"]);
    let closed = free_port();
    // A targets file with a comment, the server and a closed port: exit 2 (one endpoint could
    // not be scanned) unless findings come first; text ends with the network summary.
    std::fs::write(
        format!("{d}/targets.txt"),
        format!("# nodes\n127.0.0.1:{port}\n127.0.0.1:{closed}  # down\n"),
    )
    .unwrap();
    let o = run(&[
        "scan",
        "--targets-file",
        &format!("{d}/targets.txt"),
        "--environment",
        "test",
    ]);
    let text = stdout(&o);
    assert!(
        text.contains("2 targets: 0 compliant, 1 TLS 1.3-ready, 1 unreachable"),
        "{text}"
    );
    assert!(text.contains("could not connect"), "{text}");
    assert_eq!(
        o.status.code(),
        Some(1),
        "the reachable one has findings: {text}"
    );
    let o = run(&["scan", &format!("127.0.0.1:{closed}")]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    // Whitelist targets: every listed node at --whitelist-port.
    let wl = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Whitelist xmlns=\"{}\"><Tijdstempel>2026-01-01T00:00:00+01:00</Tijdstempel><Volgnummer>3</Volgnummer><MedMijNodes><MedMijNode><Hostname>za.zorgaanbieder.example</Hostname></MedMijNode></MedMijNodes></Whitelist>\n",
        medmij_verify::whitelist::NAMESPACE
    );
    std::fs::write(format!("{d}/wl.xml"), wl).unwrap();
    let o = run(&[
        "scan",
        "--whitelist",
        &format!("{d}/wl.xml"),
        "--whitelist-port",
        &port.to_string(),
        "--resolve",
        &format!("za.zorgaanbieder.example:{port}:127.0.0.1"),
        "--format",
        "json",
    ]);
    let doc = json(&stdout(&o));
    assert_eq!(
        doc["targets"][0]["target"],
        format!("za.zorgaanbieder.example:{port}")
    );
    assert_eq!(
        doc["targets"][0]["facts"]["sni"],
        "za.zorgaanbieder.example"
    );
    assert_eq!(
        doc["targets"][0]["facts"]["versions"],
        serde_json::json!(["TLSv1.3"])
    );
    // Usage errors: exit 2 with what and why.
    for (args, want) in [
        (vec!["scan"], "no target"),
        (vec!["scan", "a b"], "not a host name"),
        (vec!["scan", "x.example:0"], "port 0"),
        (
            vec!["scan", "127.0.0.1:1", "--per-host-concurrency", "100"],
            "expected 1 to 16",
        ),
        (vec!["scan", "127.0.0.1:1", "--timeout", "0"], "--timeout"),
        (
            vec!["scan", "127.0.0.1:1", "--resolve", "x.example:443"],
            "expected HOST:PORT:ADDR",
        ),
        (
            vec!["scan", "--targets-file", "/dev/zero"],
            "not a regular file",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn scan_list_explain_and_docs_table_in_step_with_the_registry() {
    let o = run(&["scan", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("refusal.revoked") && stdout(&o).contains("tls.zero-rtt"));
    assert!(
        !stdout(&o).contains("leaf.policy-oid"),
        "lint checks are the linter's list"
    );
    let o = run(&["scan", "--explain", "tls.downgrade-sentinel"]);
    assert!(
        stdout(&o).contains("core.tls.304") && stdout(&o).contains("runs in:     scanner"),
        "{}",
        stdout(&o)
    );
    let o = run(&["scan", "--explain", "no.such"]);
    assert_eq!(o.status.code(), Some(2));
    // docs/scanner.md carries the generated table verbatim.
    let table = stdout(&run(&["scan", "--list", "--format", "md"]));
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scanner.md"),
    )
    .unwrap();
    assert!(
        doc.contains(&table),
        "docs/scanner.md is stale: replace its table with `medmij-tls scan --list --format md`"
    );
}
