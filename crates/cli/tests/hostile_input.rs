//! The binary against hostile and careless input, each case made in the test: parallel
//! commands on one PKI, devices and FIFOs as files, closed pipes, crafted names, slow and
//! greedy HTTP clients, broken state files. The promise: a clear one-line error and exit 2, never
//! a panic, a hang, unbounded memory or a lost update.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("pki.json")).unwrap()).unwrap()
}

fn revocations(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("revocations.json")).unwrap()).unwrap()
}

/// Serials listed in a DER CRL, as openssl prints them (uppercase hex).
fn crl_serials(crl: &Path) -> Vec<String> {
    let o = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(crl)
        .output()
        .expect("openssl is required: run scripts/test");
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .map(|s| s.trim().to_ascii_uppercase())
        .collect()
}

#[test]
fn parallel_issues_and_revokes_all_land_and_crl_numbers_stay_unique() {
    let pki = init_pki(&[]);
    let d = pki.dir.to_str().unwrap().to_string();
    let before = manifest(&pki.dir)["issued"].as_array().unwrap().len();
    let issue: Vec<_> = (0..10)
        .map(|i| {
            bin()
                .args([
                    "pki",
                    "issue",
                    "--dir",
                    &d,
                    "--hierarchy",
                    "g1",
                    "--role",
                    "backchannel",
                ])
                .args(["--hostname", &format!("par{i}.zorg.example")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in issue {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(
        manifest(&pki.dir)["issued"].as_array().unwrap().len(),
        before + 10,
        "parallel `pki issue` lost manifest records"
    );
    let number_before = revocations(&pki.dir)["crl_numbers"]["g1-tsp"]
        .as_u64()
        .unwrap();
    let revoke: Vec<_> = (0..10)
        .map(|i| {
            bin()
                .args(["pki", "revoke", "--dir", &d, "--cert"])
                .arg(pki.dir.join(format!("certs/par{i}.zorg.example/cert.pem")))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in revoke {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let state = revocations(&pki.dir);
    let revoked: Vec<String> = state["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["serial"].as_str().unwrap().to_ascii_uppercase())
        .collect();
    let issued: Vec<String> = manifest(&pki.dir)["issued"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["subject"].as_str().unwrap().starts_with("par"))
        .map(|r| r["serial"].as_str().unwrap().to_ascii_uppercase())
        .collect();
    assert_eq!(issued.len(), 10);
    let listed = crl_serials(&pki.dir.join("crl/g1-tsp.crl"));
    for s in &issued {
        assert!(revoked.contains(s), "revocation of {s} lost");
        assert!(listed.contains(s), "{s} missing from the CRL");
    }
    assert_eq!(
        state["crl_numbers"]["g1-tsp"].as_u64().unwrap(),
        number_before + 10,
        "each revoke issues the next CRL number"
    );
}

#[test]
fn csr_refuses_one_path_for_key_and_csr() {
    let t = tempfile::tempdir().unwrap();
    let same = t.path().join("out.pem");
    let dotted = t.path().join("./out.pem");
    for csr_out in [&same, &dotted] {
        let o = bin()
            .args([
                "pki",
                "csr",
                "--hostname",
                "node.zorg.example",
                "--key",
                "ecdsa-p256",
            ])
            .arg("--key-out")
            .arg(&same)
            .arg("--csr-out")
            .arg(csr_out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(
            stderr(&o).contains("overwrite the private key"),
            "{}",
            stderr(&o)
        );
        assert!(!same.exists(), "something was written");
    }
    let o = bin()
        .args([
            "pki",
            "csr",
            "--hostname",
            "node.zorg.example",
            "--key",
            "ecdsa-p256",
            "--country",
            "NLD",
        ])
        .arg("--key-out")
        .arg(t.path().join("k.pem"))
        .arg("--csr-out")
        .arg(t.path().join("c.pem"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("two-letter"), "{}", stderr(&o));
}

#[test]
fn revoke_refuses_a_certificate_from_another_pki_made_with_the_same_seed() {
    let a = init_pki(&[]);
    let b = init_pki(&[]);
    let foreign = b.dir.join("certs/g1-za/cert.pem");
    let o = run(&[
        "pki",
        "revoke",
        "--dir",
        a.dir.to_str().unwrap(),
        "--cert",
        foreign.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("was not issued by this PKI"),
        "{}",
        stderr(&o)
    );
    let za_serial = manifest(&a.dir)["issued"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["cert"] == "certs/g1-za/cert.pem")
        .unwrap()["serial"]
        .clone();
    let revoked_za = || {
        revocations(&a.dir)["revoked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["serial"] == za_serial)
    };
    assert!(!revoked_za(), "the foreign certificate revoked ours");
    // Its own copy of the same certificate name is revoked.
    let own = a.dir.join("certs/g1-za/cert.pem");
    let o = run(&[
        "pki",
        "revoke",
        "--dir",
        a.dir.to_str().unwrap(),
        "--cert",
        own.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(revoked_za());
}

fn raw(port: u16, request: &[u8]) -> (Option<u16>, Duration) {
    let t = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let status = String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok());
    (status, t.elapsed())
}

#[test]
fn serve_answers_a_bad_percent_escape_and_drops_a_body_that_never_comes() {
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    let (status, _) = raw(
        pki.port,
        "GET /ocsp/g1-tsp/%a\u{e9}\u{e9} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            .as_bytes(),
    );
    assert_eq!(status, Some(400));
    // Content-Length 1000, four bytes sent: answered or closed within the body deadline.
    let (status, took) = raw(
        pki.port,
        b"POST /ocsp/g1-tsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: 1000\r\n\r\nMEow",
    );
    assert!(took < Duration::from_secs(20), "held for {took:?}");
    assert_eq!(status, Some(408));
    // Still serving.
    assert_eq!(http_get(pki.port, "/healthz").0, 200);
}

#[test]
fn serve_answers_ocsp_internal_error_for_a_broken_state_and_keeps_paths_to_itself() {
    let pki = init_pki(&[]);
    let _server = start_server(&pki.dir);
    std::fs::write(pki.dir.join("revocations.json"), "{ broken").unwrap();
    let req = b"0\x00";
    let mut s = TcpStream::connect(("127.0.0.1", pki.port)).unwrap();
    write!(
        s,
        "POST /ocsp/g1-tsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        req.len()
    )
    .unwrap();
    s.write_all(req).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(String::from_utf8_lossy(&buf[..split]).contains("application/ocsp-response"));
    assert_eq!(
        &buf[split + 4..],
        &[0x30, 0x03, 0x0a, 0x01, 0x02],
        "OCSP internalError"
    );
    std::fs::remove_file(pki.dir.join("crl/g1-tsp.crl")).unwrap();
    let (status, body) = http_get(pki.port, "/crl/g1-tsp.crl");
    assert_eq!(status, 404);
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains(pki.dir.to_str().unwrap()), "{body}");
}

/// /proc/PID/stat utime + stime, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn serve_under_a_low_descriptor_limit_neither_spins_nor_floods_its_log() {
    let pki = init_pki(&[]);
    let log = pki._tmp.path().join("serve.log");
    let listen = format!("127.0.0.1:{}", pki.port);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec \"$0\" pki serve --dir \"$1\" --listen {listen} 2>\"$2\""
        ))
        .arg(env!("CARGO_BIN_EXE_medmij-tls"))
        .arg(&pki.dir)
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.starts_with("serving"), "{first}");
    let server = Server(child);
    let held: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", pki.port)).ok())
        .collect();
    let start = cpu_ticks(server.0.id());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(server.0.id()) - start;
    // 3 s of wall time; a spinning accept loop uses ~300 ticks.
    assert!(
        used < 60,
        "the server used {used} ticks in 3 s with 100 idle connections"
    );
    let written = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert!(written < 64 * 1024, "{written} bytes of log in 3 s");
    drop(held);
    let t = Instant::now();
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", pki.port)) {
            s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            if buf.starts_with(b"HTTP/1.1 200") {
                break;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no answer after the connections closed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs the binary with its stdout already closed by the reader; returns the exit code.
fn exit_code_with_closed_stdout(args: &[&str]) -> Option<i32> {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("panicked"),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.status.code()
}

#[test]
fn a_closed_stdout_keeps_the_exit_code_and_never_panics() {
    let pki = init_pki(&[]);
    let d = pki.dir.to_str().unwrap();
    let root = format!("{d}/ca/g1-root.pem");
    let wl = format!("{d}/whitelist.xml");
    let state = format!("{d}/state");
    let expired = format!("{d}/certs/g1-expired/chain.pem");
    let za = format!("{d}/certs/g1-za/chain.pem");
    let verify = |chain: &str| {
        vec![
            "verify",
            "--role",
            "backchannel",
            "--environment",
            "test",
            "--revocation",
            "off",
            "--trust-anchor",
            &root,
            chain,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    assert_eq!(
        exit_code_with_closed_stdout(&refs(&verify(&expired))),
        Some(1)
    );
    assert_eq!(exit_code_with_closed_stdout(&refs(&verify(&za))), Some(0));
    assert_eq!(
        exit_code_with_closed_stdout(&[
            "whitelist",
            "contains",
            "nobody.example",
            "--whitelist",
            &wl,
            "--state-dir",
            &state
        ]),
        Some(1)
    );
    assert_eq!(
        exit_code_with_closed_stdout(&["whitelist", "check", &wl, "--state-dir", &state]),
        Some(0)
    );
    assert_eq!(exit_code_with_closed_stdout(&["anchors", "list"]), Some(0));
    assert_eq!(
        exit_code_with_closed_stdout(&[
            "pki",
            "issue",
            "--dir",
            d,
            "--hierarchy",
            "g1",
            "--role",
            "backchannel",
            "--hostname",
            "pipe.zorg.example"
        ]),
        Some(0)
    );
    assert!(pki.dir.join("certs/pipe.zorg.example/cert.pem").exists());
}

#[test]
fn devices_fifos_and_oversized_inputs_are_refused_at_once() {
    let pki = init_pki(&[]);
    let d = pki.dir.to_str().unwrap();
    let root = format!("{d}/ca/g1-root.pem");
    let za = format!("{d}/certs/g1-za/chain.pem");
    let fifo = pki._tmp.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let fifo = fifo.to_str().unwrap().to_string();
    let base = |extra: &[&str], chain: &str| {
        let mut v = vec![
            "verify",
            "--role",
            "backchannel",
            "--environment",
            "test",
            "--revocation",
            "off",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(chain.into());
        v
    };
    for bad in ["/dev/zero", fifo.as_str()] {
        for args in [
            base(&["--trust-anchor", &root], bad),
            base(&["--trust-anchor", bad], &za),
            base(&["--trust-anchor", &root, "--crl", bad], &za),
            base(&["--trust-anchor", &root, "--ocsp-response", bad], &za),
            base(
                &[
                    "--trust-anchor",
                    &root,
                    "--whitelist",
                    bad,
                    "--peer",
                    "client",
                    "--no-state",
                ],
                &za,
            ),
            base(&["--trust-anchor", &root, "--profile-file", bad], &za),
        ] {
            let t = Instant::now();
            let mut child = bin()
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            loop {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if t.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    panic!("{args:?}: still running after 10 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let o = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("not a regular file") && err.lines().count() == 1,
                "{args:?}: {err}"
            );
        }
    }
    // A "chain" of eleven certificates.
    let one = std::fs::read_to_string(pki.dir.join("certs/g1-za/cert.pem")).unwrap();
    let long = pki._tmp.path().join("long.pem");
    std::fs::write(&long, one.repeat(11)).unwrap();
    let o = bin()
        .args(base(&["--trust-anchor", &root], long.to_str().unwrap()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("more than 10"), "{}", stderr(&o));
    // A 16 MiB file of certificates is refused as fast, without parsing all of it.
    let huge = pki._tmp.path().join("huge.pem");
    let copies = (16 * 1024 * 1024 - 1) / one.len();
    std::fs::write(&huge, one.repeat(copies)).unwrap();
    let t = Instant::now();
    let o = bin()
        .args(base(&["--trust-anchor", &root], huge.to_str().unwrap()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn whitelist_lookups_accept_one_trailing_dot_and_nothing_more() {
    let pki = init_pki(&[]);
    let wl = pki.dir.join("whitelist.xml");
    let host = |h: &str| {
        run(&[
            "whitelist",
            "contains",
            h,
            "--whitelist",
            wl.to_str().unwrap(),
            "--no-state",
        ])
        .status
        .code()
    };
    assert_eq!(host("za.zorgaanbieder.example"), Some(0));
    assert_eq!(host("za.zorgaanbieder.example."), Some(0));
    assert_eq!(host("za.zorgaanbieder.example...."), Some(1));
    assert_eq!(host("za.zorgaanbieder.example.."), Some(1));
}

#[test]
fn a_certificate_name_cannot_forge_a_line_of_the_report() {
    let t = tempfile::tempdir().unwrap();
    let mut p = rcgen::CertificateParams::new(vec!["node.example".to_string()]).unwrap();
    p.distinguished_name.push(
        rcgen::DnType::CommonName,
        "evil\nACCEPTED  all good\u{1b}[32m",
    );
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    let chain = t.path().join("evil.pem");
    std::fs::write(&chain, cert.pem()).unwrap();
    let pki = init_pki(&[]);
    let o = bin()
        .args([
            "verify",
            "--role",
            "backchannel",
            "--environment",
            "test",
            "--revocation",
            "off",
            "--trust-anchor",
        ])
        .arg(pki.dir.join("ca/g1-root.pem"))
        .arg(&chain)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("REFUSED"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("ACCEPTED")), "{out}");
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("evil\\nACCEPTED"), "{out}");
}

#[test]
fn a_base_url_that_is_not_a_url_is_refused() {
    let t = tempfile::tempdir().unwrap();
    for bad in [
        "http://127.0.0.1:8990/a b",
        "http://host\"x",
        "http://h:8990\nx",
        "http://:80",
        "http://h:99999",
        "ftp://h",
    ] {
        let o = run(&[
            "pki",
            "init",
            "--dir",
            t.path().join("p").to_str().unwrap(),
            "--key-alg",
            "ecdsa",
            "--base-url",
            bad,
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        let err = stderr(&o);
        assert!(
            err.contains("--base-url") && err.lines().count() == 1,
            "{bad}: {err}"
        );
        assert!(!t.path().join("p").exists());
    }
}

#[test]
fn errors_are_said_once_and_in_words() {
    let pki = init_pki(&[]);
    let d = pki.dir.to_str().unwrap();
    let root = format!("{d}/ca/g1-root.pem");
    let t = pki._tmp.path();
    let verify = |chain: &Path| {
        bin()
            .args([
                "verify",
                "--role",
                "backchannel",
                "--environment",
                "test",
                "--revocation",
                "off",
                "--trust-anchor",
                &root,
            ])
            .arg(chain)
            .output()
            .unwrap()
    };
    let case = |name: &str, content: &[u8]| {
        let p = t.join(name);
        std::fs::write(&p, content).unwrap();
        let o = verify(&p);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        err
    };
    let e = case("no-end.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n");
    assert!(
        e.contains("-----END CERTIFICATE-----") && !e.contains("[45,"),
        "{e}"
    );
    let e = case("truncated.der", &[0x30, 0x82, 0x05, 0x00, 0x30]);
    assert!(e.contains("truncated"), "{e}");
    let mut huge = vec![0x30, 0x83, 0x01, 0x11, 0x70];
    huge.resize(5 + 0x011170, 0);
    let e = case("huge.der", &huge);
    assert!(e.contains("65535"), "{e}");
    let e = case("empty.pem", b"");
    assert!(e.contains("empty"), "{e}");

    // A file where a directory is expected: said once.
    let file = t.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let o = run(&[
        "pki",
        "issue",
        "--dir",
        file.to_str().unwrap(),
        "--hierarchy",
        "g1",
        "--role",
        "backchannel",
        "--hostname",
        "a.zorg.example",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let repeated = err.split(": ").collect::<Vec<_>>();
    for w in repeated.windows(2) {
        assert_ne!(w[0], w[1], "repeated: {err}");
    }

    // An empty staple and an unreadable CRL file are reported as sources, not dropped or fatal.
    let empty = t.join("empty.der");
    std::fs::write(&empty, b"").unwrap();
    let junk = t.join("junk.crl");
    std::fs::write(&junk, b"this is not a CRL").unwrap();
    let o = bin()
        .args([
            "verify",
            "--role",
            "backchannel",
            "--environment",
            "test",
            "--depth",
            "leaf",
            "--timeout",
            "1",
            "--trust-anchor",
            &root,
        ])
        .args(["--crl", &format!("{d}/crl/g1-tsp.crl"), "--crl"])
        .arg(&junk)
        .arg("--ocsp-response")
        .arg(&empty)
        .arg(format!("{d}/certs/g1-za/chain.pem"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("stapled-ocsp -> ignored (the stapled OCSP response is empty)"),
        "{out}"
    );
    assert!(
        out.contains("junk.crl") && out.contains("unusable"),
        "{out}"
    );
    assert!(
        !stderr(&o).contains('\u{1b}'),
        "colour codes off a terminal"
    );
}

#[test]
fn the_whitelist_state_keeps_the_last_good_list_and_refuses_a_rollback() {
    let t = tempfile::tempdir().unwrap();
    let wl = t.path().join("wl.xml");
    let state = t.path().join("state");
    let list = |n: u64, hosts: &[&str]| {
        let nodes: String = hosts
            .iter()
            .map(|h| format!("<MedMijNode><Hostname>{h}</Hostname></MedMijNode>"))
            .collect();
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Whitelist xmlns=\"xmlns://afsprakenstelsel.medmij.nl/whitelist/release2/\"><Tijdstempel>2026-01-01T00:00:00+01:00</Tijdstempel><Volgnummer>{n}</Volgnummer><MedMijNodes>{nodes}</MedMijNodes></Whitelist>\n")
    };
    let w = wl.to_str().unwrap();
    let s = state.to_str().unwrap();
    std::fs::write(&wl, list(10, &["a.zorg.example"])).unwrap();
    assert_eq!(
        run(&["whitelist", "check", w, "--state-dir", s])
            .status
            .code(),
        Some(0)
    );
    // An older list (a removed node back on it) is refused...
    std::fs::write(&wl, list(9, &["a.zorg.example", "removed.zorg.example"])).unwrap();
    let o = run(&["whitelist", "check", w, "--state-dir", s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("roll back"), "{}", stdout(&o));
    // ...and lookups keep using the newer, last good one, saying so.
    let o = run(&[
        "whitelist",
        "contains",
        "removed.zorg.example",
        "--whitelist",
        w,
        "--state-dir",
        s,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("last good copy (Volgnummer 10"),
        "{}",
        stderr(&o)
    );
    // The source gone: the last good copy still answers.
    std::fs::remove_file(&wl).unwrap();
    let o = run(&[
        "whitelist",
        "contains",
        "a.zorg.example",
        "--whitelist",
        w,
        "--state-dir",
        s,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // An explicit rollback is allowed.
    std::fs::write(&wl, list(9, &["a.zorg.example", "removed.zorg.example"])).unwrap();
    let o = run(&[
        "whitelist",
        "contains",
        "removed.zorg.example",
        "--whitelist",
        w,
        "--state-dir",
        s,
        "--allow-rollback",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn verify_with_a_whitelist_needs_the_hostname_of_a_server_peer() {
    let pki = init_pki(&[]);
    let d = pki.dir.to_str().unwrap();
    let o = run(&[
        "verify",
        "--role",
        "backchannel",
        "--environment",
        "test",
        "--revocation",
        "off",
        "--trust-anchor",
        &format!("{d}/ca/g1-root.pem"),
        "--whitelist",
        &format!("{d}/whitelist.xml"),
        "--no-state",
        &format!("{d}/certs/g1-not-whitelisted/chain.pem"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("--hostname"), "{}", stderr(&o));
}
