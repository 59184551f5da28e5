//! `medmij-tls probe-client` as a PGO vendor runs it: the whitelist it writes, curl against it
//! by SNI, the JSON report against its schema, HTML and JUnit, exit codes (1 findings, 2 nothing
//! connected or a bad argument), `--list` and `--explain`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const HOST: &str = "probe.medmij.test";

fn curl_case(port: u16, case: &str, ca: Option<&str>) -> i32 {
    let host = format!("{case}.{HOST}");
    let mut c = Command::new("curl");
    c.args(["-s", "-o", "/dev/null", "--max-time", "20"])
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")]);
    match ca {
        Some(ca) => c.args(["--cacert", ca]),
        None => c.arg("-k"),
    };
    c.arg(format!("https://{host}:{port}/"))
        .status()
        .expect("curl is needed by this test (scripts/test installs it)")
        .code()
        .unwrap_or(-1)
}

/// Starts the probe with `args`, waits for its "listening" line, runs `drive(port)`, and
/// returns the exit code and stdout.
fn probe(pki: &Pki, args: &[&str], drive: impl FnOnce(u16)) -> (i32, String) {
    let port = free_port();
    let mut child = bin()
        .args(["probe-client", "--pki-dir", pki.dir.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--hostname", HOST])
        .args(if args.contains(&"--timeout") {
            &[][..]
        } else {
            &["--timeout", "60"][..]
        })
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.starts_with("probe-client: listening on"), "{line}");
    drive(port);
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn a_vendor_runs_the_probe_against_curl() {
    let pki = init_pki(&[]);
    let _serve = start_server(&pki.dir);
    let wl = pki.dir.join("probe-whitelist.xml");
    let cases = "good,stapled,expired,unknown-root";
    let (code, json) = probe(
        &pki,
        &[
            "--cases",
            cases,
            "--format",
            "json",
            "--whitelist-out",
            wl.to_str().unwrap(),
            "--client-name",
            "curl -k",
        ],
        |port| {
            for c in cases.split(',') {
                assert_eq!(curl_case(port, c, None), 0, "{c}");
            }
        },
    );
    assert_eq!(code, 1, "curl -k accepts the bad cases: {json}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        schema_errors(&schema_validator("probe-client-1.json"), &doc),
        Vec::<String>::new()
    );
    assert_eq!(doc["client"], "curl -k");
    let status = |check: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == check)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status("client.accepts-good"), "pass");
    assert_eq!(status("client.accepts-stapled"), "pass");
    assert_eq!(status("client.refuses-expired"), "fail");
    assert_eq!(status("client.refuses-unknown-root"), "fail");
    assert_eq!(
        status("client.refuses-revoked-crl"),
        "not-tested",
        "not selected"
    );
    // The whitelist it wrote validates and names the case hosts but not not-whitelisted.
    let o = run(&["whitelist", "check", wl.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&wl).unwrap();
    assert!(text.contains(&format!("expired.{HOST}")) && !text.contains("not-whitelisted."));
    // HTML and JUnit, with the right CA: the good case passes, expired is refused.
    let ca = pki.dir.join("ca/g1-root.pem").display().to_string();
    let (code, html) = probe(
        &pki,
        &["--cases", "good,expired", "--format", "html"],
        |port| {
            assert_eq!(curl_case(port, "good", Some(&ca)), 0);
            assert_ne!(curl_case(port, "expired", Some(&ca)), 0);
        },
    );
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("id=\"grid\""),
        "{html}"
    );
    assert_eq!(
        code, 1,
        "curl sends no client certificate and offers CBC suites"
    );
    let (_, junit) = probe(&pki, &["--cases", "good", "--format", "junit"], |port| {
        assert_eq!(curl_case(port, "good", Some(&ca)), 0);
    });
    let xml = roxmltree::Document::parse(&junit).unwrap();
    assert!(xml.descendants().any(|n| n.has_tag_name("testcase")
        && n.attribute("name")
            .is_some_and(|a| a.contains("client.accepts-good"))));
}

#[test]
fn nothing_connecting_and_bad_arguments_exit_2() {
    let pki = init_pki(&[]);
    let (code, _) = probe(&pki, &["--timeout", "1"], |_| {});
    assert_eq!(code, 2, "no client connected");
    for (args, want) in [
        (vec!["--cases", "good,bogus"], "unknown case"),
        (vec!["--timeout", "0"], "--timeout"),
    ] {
        let mut a = vec!["probe-client", "--pki-dir", pki.dir.to_str().unwrap()];
        a.extend(args);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["probe-client", "--pki-dir", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a test PKI"), "{}", stderr(&o));
    let o = run(&["probe-client", "--list"]);
    assert!(stdout(&o).contains("client.no-false-start"));
    assert!(
        !stdout(&o).contains("tls.zero-rtt"),
        "the scanner's checks are the scanner's list"
    );
    let o = run(&["probe-client", "--explain", "client.accepts-stapled"]);
    assert!(
        stdout(&o).contains("core.tls.310") && stdout(&o).contains("client probe"),
        "{}",
        stdout(&o)
    );
}
