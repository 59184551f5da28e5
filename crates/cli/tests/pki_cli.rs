//! End-to-end tests of `medmij-tls pki` and `requirements`, with openssl as the independent peer.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn require_openssl() {
    assert!(
        Command::new("openssl").arg("version").output().is_ok(),
        "openssl is required by this test: run scripts/test, which installs it"
    );
}

fn openssl_in(dir: &Path, args: &[&str]) -> (bool, String) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (o.status.success(), format!("{}{}", stdout(&o), stderr(&o)))
}

fn concat(dir: &Path, out: &str, files: &[&str]) {
    let s: String = files
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    std::fs::write(dir.join(out), s).unwrap();
}

fn ocsp_status(pki: &Pki, issuer: &str, cert: &str, root: &str, others: &[&str]) -> String {
    concat(&pki.dir, "others.pem", others);
    let url = format!("http://127.0.0.1:{}/ocsp/{issuer}", pki.port);
    let (ok, out) = openssl_in(
        &pki.dir,
        &[
            "ocsp",
            "-issuer",
            &format!("ca/{issuer}.pem"),
            "-cert",
            cert,
            "-url",
            &url,
            "-CAfile",
            root,
            "-verify_other",
            "others.pem",
            "-timeout",
            "10",
        ],
    );
    assert!(ok, "openssl ocsp failed: {out}");
    assert!(
        out.contains("Response verify OK"),
        "signature not verified: {out}"
    );
    out.lines()
        .find(|l| l.starts_with(cert))
        .map(|l| l[cert.len() + 1..].trim().to_string())
        .unwrap_or_else(|| panic!("no status line in {out}"))
}

#[test]
fn openssl_ocsp_gets_good_and_revoked_from_pki_serve_delegated_responder() {
    require_openssl();
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    let others = ["ca/g1-tsp.pem", "ca/g1-domain.pem"];
    assert_eq!(
        ocsp_status(
            &pki,
            "g1-tsp",
            "certs/g1-za/cert.pem",
            "ca/g1-root.pem",
            &others
        ),
        "good"
    );
    assert_eq!(
        ocsp_status(
            &pki,
            "g1-tsp",
            "certs/g1-revoked/cert.pem",
            "ca/g1-root.pem",
            &others
        ),
        "revoked"
    );
}

#[test]
fn openssl_ocsp_verifies_issuer_signed_pss_responses_and_revoke_takes_effect() {
    require_openssl();
    let pki = init_pki(&["--key-alg-for", "g4=rsa"]);
    let _server = start_server(&pki.dir);
    let others = ["ca/g4-tsp.pem", "ca/g4-intm.pem"];
    assert_eq!(
        ocsp_status(
            &pki,
            "g4-tsp",
            "certs/g4-za/cert.pem",
            "ca/g4-root.pem",
            &others
        ),
        "good"
    );
    assert_eq!(
        ocsp_status(
            &pki,
            "g4-tsp",
            "certs/g4-revoked/cert.pem",
            "ca/g4-root.pem",
            &others
        ),
        "revoked"
    );
    // Revoke g4-pgo while the server runs: OCSP and the CRL change without a restart.
    let o = run(&[
        "pki",
        "revoke",
        "--dir",
        pki.dir.to_str().unwrap(),
        "--cert",
        pki.dir.join("certs/g4-pgo/cert.pem").to_str().unwrap(),
        "--reason",
        "superseded",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        ocsp_status(
            &pki,
            "g4-tsp",
            "certs/g4-pgo/cert.pem",
            "ca/g4-root.pem",
            &others
        ),
        "revoked"
    );
    let (status, crl) = http_get(pki.port, "/crl/g4-tsp.crl");
    assert_eq!(status, 200);
    std::fs::write(pki.dir.join("fetched.crl"), crl).unwrap();
    let (ok, text) = openssl_in(
        &pki.dir,
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            "fetched.crl",
            "-noout",
            "-text",
        ],
    );
    assert!(ok, "{text}");
    let serial = std::fs::read_to_string(pki.dir.join("catalogue.json")).unwrap();
    let cat: serde_json::Value = serde_json::from_str(&serial).unwrap();
    let pgo_serial = cat["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "g4-pgo")
        .unwrap()["serial"]
        .as_str()
        .unwrap()
        .to_uppercase();
    assert!(
        text.contains(&pgo_serial),
        "CRL does not list {pgo_serial}:\n{text}"
    );
    assert!(
        text.contains("rsassaPss") && text.contains("sha512"),
        "{text}"
    );
    assert!(text.contains("Superseded"), "{text}");
}

#[test]
fn openssl_crl_accepts_every_published_crl_and_verifies_its_signature() {
    require_openssl();
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    for (ca, issuer) in [
        ("g1-tsp", "g1-tsp"),
        ("g1-domain", "g1-domain"),
        ("g4-tsp", "g4-tsp"),
        ("public-ov-ca", "public-ov-ca"),
    ] {
        let (status, der) = http_get(pki.port, &format!("/crl/{ca}.crl"));
        assert_eq!(status, 200, "{ca}");
        let f = format!("{ca}.fetched.crl");
        std::fs::write(pki.dir.join(&f), der).unwrap();
        let (ok, out) = openssl_in(
            &pki.dir,
            &[
                "crl",
                "-inform",
                "DER",
                "-in",
                &f,
                "-CAfile",
                &format!("ca/{issuer}.pem"),
                "-noout",
            ],
        );
        assert!(ok && out.contains("verify OK"), "{ca}: {out}");
    }
    let (status, _) = http_get(pki.port, "/crl/nope.crl");
    assert_eq!(status, 404);
    let (status, der) = http_get(pki.port, "/ca/g1-tsp.cer");
    assert_eq!(status, 200);
    assert_eq!(der, std::fs::read(pki.dir.join("ca/g1-tsp.cer")).unwrap());
}

#[test]
fn ocsp_get_requests_and_garbage_get_an_answer_not_a_hang() {
    require_openssl();
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    // A garbage GET request: malformedRequest (OCSP status 1), HTTP 200.
    let (status, body) = http_get(pki.port, "/ocsp/g1-tsp/AAAA");
    assert_eq!(status, 200);
    assert_eq!(body, vec![0x30, 0x03, 0x0a, 0x01, 0x01]);
    // A real request by GET (RFC 6960 A.1): build it with openssl, send it base64 in the path.
    let (ok, out) = openssl_in(
        &pki.dir,
        &[
            "ocsp",
            "-issuer",
            "ca/g1-tsp.pem",
            "-cert",
            "certs/g1-revoked/cert.pem",
            "-no_nonce",
            "-reqout",
            "req.der",
        ],
    );
    assert!(ok, "{out}");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(pki.dir.join("req.der")).unwrap());
    let enc = b64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let (status, body) = http_get(pki.port, &format!("/ocsp/g1-tsp/{enc}"));
    assert_eq!(status, 200);
    std::fs::write(pki.dir.join("resp.der"), body).unwrap();
    concat(
        &pki.dir,
        "others.pem",
        &["ca/g1-tsp.pem", "ca/g1-domain.pem"],
    );
    let (ok, out) = openssl_in(
        &pki.dir,
        &[
            "ocsp",
            "-respin",
            "resp.der",
            "-issuer",
            "ca/g1-tsp.pem",
            "-cert",
            "certs/g1-revoked/cert.pem",
            "-CAfile",
            "ca/g1-root.pem",
            "-verify_other",
            "others.pem",
        ],
    );
    assert!(ok && out.contains("revoked"), "{out}");
}

#[test]
fn init_refuses_a_non_empty_dir_and_leaves_it_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let o = run(&[
        "pki",
        "init",
        "--dir",
        dir.to_str().unwrap(),
        "--key-alg",
        "ecdsa",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--dir") && err.contains("not empty") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "temporary directories left behind"
    );
    let force = || {
        run(&[
            "pki",
            "init",
            "--dir",
            dir.to_str().unwrap(),
            "--key-alg",
            "ecdsa",
            "--force",
        ])
    };
    // --force does not delete a directory that is not a test PKI.
    let o = force();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("not a test PKI") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "mine"
    );
    // It does replace a test PKI made by this tool.
    std::fs::remove_file(dir.join("keep.txt")).unwrap();
    assert!(force().status.success());
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let o = force();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("catalogue.json").exists() && !dir.join("keep.txt").exists());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "temporary directories left behind"
    );
}

#[test]
fn init_into_an_unwritable_place_fails_with_one_line_and_exit_2() {
    let o = run(&[
        "pki",
        "init",
        "--dir",
        "/proc/medmij-cannot-write-here/pki",
        "--key-alg",
        "ecdsa",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--dir: /proc/medmij-cannot-write-here/pki: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn issue_and_csr_make_usable_files() {
    require_openssl();
    let pki = init_pki(&[]);
    let d = pki.dir.to_str().unwrap();
    let o = run(&[
        "pki",
        "issue",
        "--dir",
        d,
        "--hierarchy",
        "g1",
        "--role",
        "backchannel",
        "--hostname",
        "nieuw.zorgaanbieder.example",
        "--key-alg",
        "ecdsa",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    concat(
        &pki.dir,
        "inter.pem",
        &["ca/g1-tsp.pem", "ca/g1-domain.pem"],
    );
    let (ok, out) = openssl_in(
        &pki.dir,
        &[
            "verify",
            "-purpose",
            "sslserver",
            "-CAfile",
            "ca/g1-root.pem",
            "-untrusted",
            "inter.pem",
            "certs/nieuw.zorgaanbieder.example/cert.pem",
        ],
    );
    assert!(ok, "{out}");
    let o = run(&[
        "pki",
        "issue",
        "--dir",
        d,
        "--hierarchy",
        "public-ov",
        "--role",
        "backchannel",
        "--hostname",
        "x.example",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("backchannel needs g1 or g4"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "pki",
        "issue",
        "--dir",
        d,
        "--hierarchy",
        "g1",
        "--role",
        "backchannel",
        "--hostname",
        "Upper.Example",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // CSR: key made here, 0600, CSR verifies and names the hosts.
    let key = pki.dir.join("node.key");
    let csr = pki.dir.join("node.csr");
    let o = run(&[
        "pki",
        "csr",
        "--hostname",
        "za.zorgaanbieder.example",
        "--org",
        "Zorgaanbieder B.V.",
        "--org-id",
        "NTRNL-12345678",
        "--key",
        "ecdsa-p256",
        "--key-out",
        key.to_str().unwrap(),
        "--csr-out",
        csr.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (ok, out) = openssl_in(
        &pki.dir,
        &["req", "-in", "node.csr", "-verify", "-noout", "-text"],
    );
    assert!(
        ok && out.contains("DNS:za.zorgaanbieder.example") && out.contains("NTRNL-12345678"),
        "{out}"
    );
    let o = run(&[
        "pki",
        "csr",
        "--hostname",
        "za.zorgaanbieder.example",
        "--key-out",
        key.to_str().unwrap(),
        "--csr-out",
        csr.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "must not overwrite a key");
}

#[test]
fn requirements_json_lists_every_id_with_citation_and_roles() {
    let o = run(&["requirements", "--format", "json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let reqs = v["requirements"].as_array().unwrap();
    let ids: Vec<&str> = reqs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for id in [
        "core.tls.300",
        "core.tls.301",
        "core.tls.302",
        "core.tls.303",
        "core.tls.304",
        "core.tls.305",
        "core.tls.307",
        "core.tls.308",
        "core.tls.309",
        "core.tls.310",
        "core.tls.311",
        "core.tls.313",
        "core.tls.314",
        "core.tls.315",
        "medmij.whitelist",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    for r in reqs {
        assert!(!r["citation"]["document"].as_str().unwrap().is_empty());
        assert!(!r["roles"].as_array().unwrap().is_empty());
    }
    let o = run(&["requirements", "--profile", "medmij-2022", "--format", "md"]);
    assert!(
        o.status.success()
            && stdout(&o).contains("| `core.tls.305` |")
            && stdout(&o).contains("v2.1")
    );
}

#[test]
fn a_broken_profile_file_gets_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("mine.toml");
    let text = medmij_core_profile_text().replace("ncsc = \"2025-05\"", "ncsc = \"2024\"");
    std::fs::write(&f, text).unwrap();
    let o = run(&["requirements", "--profile-file", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("mine.toml:") && err.contains("2024") && err.contains("--profile-file"),
        "{err}"
    );
    let o = run(&["requirements", "--profile", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown profile `nope`"));
}

fn medmij_core_profile_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/profiles/medmij-2025.toml"),
    )
    .unwrap()
}

#[test]
fn serve_survives_a_slow_client_and_keeps_answering() {
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    // A client that sends half a request line and stalls must not block others.
    let mut stalled = TcpStream::connect(("127.0.0.1", pki.port)).unwrap();
    stalled.write_all(b"GET /crl/g1-tsp.crl HTT").unwrap();
    let t = Instant::now();
    let (status, _) = http_get(pki.port, "/healthz");
    assert_eq!(status, 200);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn verify_exit_codes_follow_the_catalogue_and_bad_input_is_exit_2() {
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    let d = pki.dir.to_str().unwrap();
    let cat: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pki.dir.join("catalogue.json")).unwrap())
            .unwrap();
    let anchors = [
        "--trust-anchor",
        "ca/g1-root.pem",
        "--trust-anchor",
        "ca/g4-root.pem",
    ];
    let handshake_rules = [
        "g1-za",
        "g1-pgo",
        "g4-za",
        "g4-pgo",
        "g1-client-auth-only",
        "g1-no-eku",
        "g1-expired",
        "g1-not-yet-valid",
        "g1-revoked",
        "g4-revoked",
        "g1-unknown-root",
        "g1-self-signed",
        "g1-missing-intermediate",
        "g1-sha1",
        "g1-rsa1024",
        "g1-not-whitelisted",
    ];
    for e in cat["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| handshake_rules.contains(&e["id"].as_str().unwrap()))
    {
        let id = e["id"].as_str().unwrap();
        let host = e["hostnames"][0].as_str().unwrap();
        let mut args = vec![
            "verify",
            "--role",
            "backchannel",
            "--environment",
            "test",
            "--whitelist",
            "whitelist.xml",
            "--hostname",
            host,
            "--format",
            "json",
        ];
        args.extend_from_slice(&anchors);
        let chain = format!("{d}/{}", e["chain"].as_str().unwrap());
        args.push(&chain);
        let o = bin().args(&args).current_dir(&pki.dir).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|err| panic!("{id}: {err} {}", stderr(&o)));
        let valid = e["expect"] == "valid";
        assert_eq!(
            o.status.code(),
            Some(if valid { 0 } else { 1 }),
            "{id}: {v:#}"
        );
        assert_eq!(v["accepted"], valid, "{id}");
        if !valid {
            let violates: Vec<&str> = e["violates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            let got: Vec<&str> = v["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["requirement"].as_str().unwrap())
                .collect();
            assert!(
                got.iter().any(|g| violates.contains(g)),
                "{id}: expected one of {violates:?}, got {got:?}"
            );
        }
    }
    // Could not evaluate: unreadable file, malformed PEM, no anchors.
    let o = run(&[
        "verify",
        "--role",
        "backchannel",
        "--trust-anchor",
        &format!("{d}/ca/g1-root.pem"),
        "/nonexistent/chain.pem",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/chain.pem"),
        "{}",
        stderr(&o)
    );
    let junk = pki.dir.join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let o = run(&[
        "verify",
        "--role",
        "backchannel",
        "--trust-anchor",
        &format!("{d}/ca/g1-root.pem"),
        junk.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("junk.pem") && stderr(&o).lines().count() == 1,
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "verify",
        "--role",
        "backchannel",
        &format!("{d}/certs/g1-za/chain.pem"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--trust-anchor"), "{}", stderr(&o));
    let o = run(&[
        "verify",
        "--role",
        "backchannel",
        "--trust-anchor",
        &format!("{d}/ca/g1-root.pem"),
        "--at",
        "yesterday",
        &format!("{d}/certs/g1-za/chain.pem"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--at"), "{}", stderr(&o));
}

#[test]
fn verify_at_a_fixed_clock_and_with_a_crl_file() {
    let pki = init_pki(&[]);
    let d = pki.dir.to_str().unwrap();
    // No server running: only the CRL file can answer; OCSP soft-fails.
    let args = |chain: &str, at: &str| {
        vec![
            "verify".to_string(),
            "--role".into(),
            "backchannel".into(),
            "--environment".into(),
            "test".into(),
            "--depth".into(),
            "leaf".into(),
            "--timeout".into(),
            "1".into(),
            "--trust-anchor".into(),
            format!("{d}/ca/g1-root.pem"),
            "--crl".into(),
            format!("{d}/crl/g1-tsp.crl"),
            "--at".into(),
            at.into(),
            format!("{d}/certs/{chain}/chain.pem"),
        ]
    };
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let o = bin().args(args("g1-za", &now)).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = bin().args(args("g1-revoked", &now)).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("core.tls.309 revoked"),
        "{}",
        stdout(&o)
    );
    // In 2036 the leaf has expired (and the week-old CRL is stale too).
    let o = bin()
        .args(args("g1-za", "2036-01-01T00:00:00Z"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("expired"), "{}", stdout(&o));
}

#[test]
fn whitelist_commands_check_and_look_up() {
    let pki = init_pki(&[]);
    let wl = pki.dir.join("whitelist.xml");
    let o = run(&["whitelist", "check", wl.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Volgnummer:  1"));
    let o = run(&[
        "whitelist",
        "contains",
        "za.zorgaanbieder.example",
        "--whitelist",
        wl.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = run(&[
        "whitelist",
        "contains",
        "rogue.onbekend.example",
        "--whitelist",
        wl.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let bad = pki.dir.join("bad.xml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&wl)
            .unwrap()
            .replace("za.zorgaanbieder.example", "ZA.zorgaanbieder.example"),
    )
    .unwrap();
    let o = run(&["whitelist", "check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("ZA.zorgaanbieder.example") && stdout(&o).contains("bad.xml:"),
        "{}",
        stdout(&o)
    );
    let o = run(&["whitelist", "check", "/nonexistent.xml"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "whitelist",
        "contains",
        "x.example",
        "--whitelist",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn whitelist_over_https_with_a_private_ca() {
    require_openssl();
    let pki = init_pki(&[]);
    let d = &pki.dir;
    // A private CA and a server certificate for 127.0.0.1 signed by it.
    let (ok, out) = openssl_in(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "private-ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Private Whitelist CA",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = openssl_in(
        d,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tls.key",
            "-out",
            "tls.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    assert!(ok, "{out}");
    std::fs::write(
        d.join("tls.ext"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    )
    .unwrap();
    let (ok, out) = openssl_in(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "private-ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "tls.pem",
            "-days",
            "2",
            "-extfile",
            "tls.ext",
        ],
    );
    assert!(ok, "{out}");
    let port = free_port();
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            "tls.pem",
            "-key",
            "tls.key",
            "-WWW",
            "-quiet",
        ])
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("https://127.0.0.1:{port}/whitelist.xml");
    let ca = d.join("private-ca.pem");
    let o = run(&[
        "whitelist",
        "check",
        &url,
        "--whitelist-ca",
        ca.to_str().unwrap(),
    ]);
    let trusted = o.status.code();
    let o2 = run(&["whitelist", "check", &url]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(trusted, Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("Volgnummer:  1"));
    assert_eq!(
        o2.status.code(),
        Some(2),
        "without the CA the TLS server must not be trusted: {}",
        stdout(&o2)
    );
}
