//! `medmij-tls lint` as a user runs it: exit codes (0 compliant, 1 findings, 2 could not lint),
//! the JSON report against its published schema, the HTML report, `--list`/`--explain`, CSRs
//! made by `pki csr`, bad files, and `docs/linter.md` kept in step with the registry.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn schema() -> jsonschema::Validator {
    schema_validator("lint-1.json")
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    schema_errors(v, doc)
}

#[test]
fn lint_exit_codes_json_schema_and_html_over_the_catalogue() {
    let pki = init_pki(&[]);
    let d = pki.dir.display().to_string();
    let g1 = format!("{d}/ca/g1-root.pem");
    let g4 = format!("{d}/ca/g4-root.pem");
    let good = format!("{d}/certs/g1-za/chain.pem");
    let bad = format!("{d}/certs/g1-no-policy/chain.pem");

    let o = run(&["lint", "--trust-anchor", &g1, &good]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("PASS  "), "{}", stdout(&o));
    let o = run(&["lint", "--trust-anchor", &g1, &good, &bad]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL            core.tls.314  leaf.policy-oid"),
        "{out}"
    );
    assert!(
        out.contains("fix: order a PKIoverheid private services server certificate"),
        "{out}"
    );
    // A warning fails only with --fail-on warning.
    let multi = format!("{d}/certs/public-ov-multi-owner/chain.pem");
    let ov_root = format!("{d}/ca/public-ov-root.pem");
    let front = ["lint", "--role", "frontchannel", "--trust-anchor", &ov_root];
    assert_eq!(
        run(&[&front[..], &[&multi]].concat()).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&[&front[..], &["--fail-on", "warning", &multi]].concat())
            .status
            .code(),
        Some(1)
    );
    // DV passes only in the test environment.
    let dv = format!("{d}/certs/public-dv/chain.pem");
    let dv_root = format!("{d}/ca/public-dv-root.pem");
    let dv_front = ["lint", "--role", "frontchannel", "--trust-anchor", &dv_root];
    assert_eq!(
        run(&[&dv_front[..], &[&dv]].concat()).status.code(),
        Some(1)
    );
    assert_eq!(
        run(&[&dv_front[..], &["--environment", "test", &dv]].concat())
            .status
            .code(),
        Some(0)
    );

    // JSON: every catalogue entry, in one report per role, validates against the schema.
    let cat: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pki.dir.join("catalogue.json")).unwrap())
            .unwrap();
    let v = schema();
    for role in ["backchannel", "frontchannel"] {
        let mut args = vec![
            "lint".to_string(),
            "--role".into(),
            role.into(),
            "--format".into(),
            "json".into(),
        ];
        for a in [&g1, &g4, &ov_root, &dv_root] {
            args.extend(["--trust-anchor".into(), a.clone()]);
        }
        let mut n = 0;
        for e in cat["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["role"] == role)
        {
            args.push(format!("{d}/{}", e["chain"].as_str().unwrap()));
            n += 1;
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&refs);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{role}: {errs:#?}");
        assert_eq!(doc["files"].as_array().unwrap().len(), n);
        assert_eq!(doc["schema"], "medmij-tls/lint/1");
    }
    // Negative controls: the schema is not vacuous.
    let o = run(&["lint", "--format", "json", "--trust-anchor", &g1, &good]);
    let mut doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(errors(&v, &doc).is_empty());
    doc["files"][0]["findings"][0]["status"] = "great".into();
    assert!(!errors(&v, &doc).is_empty());
    doc["files"][0]["findings"][0]["status"] = "pass".into();
    doc["files"][0]["findings"][0]["requirement"] = "tls 311".into();
    assert!(!errors(&v, &doc).is_empty());

    // HTML: a self-contained page with the grid, written atomically with --output.
    let html = pki.dir.join("report.html");
    let o = run(&[
        "lint",
        "--format",
        "html",
        "--output",
        html.to_str().unwrap(),
        "--trust-anchor",
        &g1,
        &good,
        &bad,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>")
            && page.contains("id=\"grid\"")
            && page.contains("class=\"fail\"")
    );
    assert!(
        !page.contains("<script") && !page.contains("http://") && !page.contains("https://"),
        "self-contained"
    );
}

#[test]
fn list_explain_and_the_generated_docs() {
    let o = run(&["lint", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    let list = stdout(&o);
    for c in [
        "frontchannel.caa",
        "leaf.policy-oid",
        "chain.no-root",
        "manual.key-management",
    ] {
        assert!(list.contains(c), "{c} not listed");
    }
    assert!(
        !list.contains("peer.whitelisted"),
        "a handshake/scan-only check is listed"
    );
    let o = run(&["lint", "--explain", "frontchannel.caa"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("RFC 8659") && stdout(&o).contains("fix:"));
    let o = run(&["lint", "--explain", "no.such-check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such check"));
    // docs/linter.md carries the generated table verbatim.
    let md = stdout(&run(&["lint", "--list", "--format", "md"]));
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/linter.md"),
    )
    .unwrap();
    assert!(
        doc.contains(&md),
        "docs/linter.md is stale: replace its table with `medmij-tls lint --list --format md`"
    );
}

#[test]
fn csrs_and_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let key = t.join("k.pem");
    let csr = t.join("k.csr");
    // `pki csr` refuses wildcards; openssl makes the one with a wildcard.
    let o = run(&[
        "pki",
        "csr",
        "--hostname",
        "www.zorg.nl",
        "--key",
        "ecdsa-p256",
        "--key-out",
        key.to_str().unwrap(),
        "--csr-out",
        csr.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let wild = t.join("wild.csr");
    let o = std::process::Command::new("openssl")
        .args([
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-subj",
            "/CN=www.zorg.nl",
            "-addext",
            "subjectAltName=DNS:www.zorg.nl,DNS:*.zorg.nl",
            "-keyout",
        ])
        .arg(t.join("wild.key"))
        .arg("-out")
        .arg(&wild)
        .output()
        .expect("openssl is needed (scripts/test installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&[
        "lint",
        "--role",
        "frontchannel",
        "--format",
        "json",
        csr.to_str().unwrap(),
        wild.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["files"][0]["kind"], "csr");
    let status_in = |i: usize, c: &str| {
        doc["files"][i]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == c)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status_in(0, "frontchannel.no-wildcard"), "pass");
    assert_eq!(status_in(0, "leaf.key-strength"), "info");
    let status = |c: &str| status_in(1, c);
    assert_eq!(status("frontchannel.no-wildcard"), "fail");
    assert_eq!(status("chain.parses"), "pass");
    assert_eq!(status("frontchannel.ov-or-better"), "not-applicable");
    assert!(errors(&schema(), &doc).is_empty());

    // Files that cannot be linted: exit 2, each named with its reason; the others still judged.
    std::fs::write(t.join("empty.pem"), "").unwrap();
    std::fs::write(t.join("junk.pem"), "not a certificate at all\n").unwrap();
    let o = run(&[
        "lint",
        t.join("empty.pem").to_str().unwrap(),
        t.join("junk.pem").to_str().unwrap(),
        t.to_str().unwrap(),
        "/dev/zero",
        csr.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("the file is empty"), "{out}");
    assert!(out.contains("neither PEM"), "{out}");
    assert!(out.contains("a directory"), "{out}");
    assert!(out.contains("character device"), "{out}");
    assert!(out.contains("(csr, backchannel"), "{out}");
    // Usage errors are exit 2 with one line.
    let o = run(&["lint"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no file given"));
    let o = run(&[
        "lint",
        "--resolver",
        "nowhere",
        "--dns",
        csr.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--resolver"));
}
