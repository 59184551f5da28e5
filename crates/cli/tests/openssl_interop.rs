//! `medmij-tls verify` against a PKI made with plain openssl commands (not the project's PKI):
//! `openssl x509`/`openssl ca` certificates, a CRL from `openssl ca -gencrl`, and
//! `openssl ocsp` as the live OCSP responder.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn sh(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is required: run scripts/test");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds root → CA → leaves with openssl; returns the OCSP port the leaves name.
fn openssl_pki(dir: &Path) -> u16 {
    let ocsp_port = free_port();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut a = vec!["req", "-x509"];
    a.extend(ec);
    a.extend([
        "-keyout",
        "root.key",
        "-out",
        "root.pem",
        "-days",
        "3650",
        "-subj",
        "/C=NL/O=OpenSSL Interop/CN=OpenSSL Interop Root",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    sh(dir, &a);
    let mut a = vec!["req"];
    a.extend(ec);
    a.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.csr",
        "-subj",
        "/C=NL/O=OpenSSL Interop/CN=OpenSSL Interop TSP CA",
    ]);
    sh(dir, &a);
    std::fs::write(dir.join("ca.ext"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n").unwrap();
    sh(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "ca.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-extfile",
            "ca.ext",
        ],
    );
    std::fs::create_dir_all(dir.join("newcerts")).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "1000\n").unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nnew_certs_dir=newcerts\ncertificate=ca.pem\nprivate_key=ca.key\nserial=serial\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=7\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n",
    )
    .unwrap();
    for (name, eku) in [
        ("node", "serverAuth,clientAuth"),
        ("clientonly", "clientAuth"),
        ("revoked", "serverAuth,clientAuth"),
    ] {
        let mut a = vec!["req"];
        a.extend(ec);
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let subj = format!("/C=NL/O=OpenSSL Interop/CN={name}.openssl.example");
        a.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        sh(dir, &a);
        let ext = format!(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={eku}\nsubjectAltName=DNS:{name}.openssl.example\nauthorityKeyIdentifier=keyid\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:{ocsp_port}\n"
        );
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        let pem = format!("{name}.pem");
        let extf = format!("{name}.ext");
        sh(
            dir,
            &[
                "ca", "-batch", "-config", "ca.cnf", "-in", &csr, "-out", &pem, "-days", "365",
                "-extfile", &extf, "-notext",
            ],
        );
        let chain = format!(
            "{}{}",
            std::fs::read_to_string(dir.join(&pem)).unwrap(),
            std::fs::read_to_string(dir.join("ca.pem")).unwrap()
        );
        std::fs::write(dir.join(format!("{name}.chain.pem")), chain).unwrap();
    }
    sh(
        dir,
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-revoke",
            "revoked.pem",
            "-crl_reason",
            "keyCompromise",
        ],
    );
    sh(
        dir,
        &["ca", "-config", "ca.cnf", "-gencrl", "-out", "ca.crl.pem"],
    );
    ocsp_port
}

fn verify(dir: &Path, args: &[&str]) -> Output {
    let mut a = vec![
        "verify",
        "--role",
        "backchannel",
        "--environment",
        "test",
        "--trust-anchor",
        "root.pem",
        "--depth",
        "leaf",
        "--timeout",
        "3",
    ];
    a.extend_from_slice(args);
    Command::new(env!("CARGO_BIN_EXE_medmij-tls"))
        .args(&a)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn reasons(o: &Output) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["requirement"].as_str().unwrap().to_string(),
                r["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn openssl_made_chains_and_openssl_ca_crls_are_judged_like_our_own() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    openssl_pki(d);
    // With the CRL from `openssl ca -gencrl` as a file, and OCSP off (nothing listening).
    let o = verify(
        d,
        &[
            "--crl",
            "ca.crl.pem",
            "--revocation",
            "hard",
            "--format",
            "json",
            "node.chain.pem",
        ],
    );
    // OCSP (tried first) is down; the CRL then gives a conclusive answer, which decides.
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = verify(
        d,
        &[
            "--crl",
            "ca.crl.pem",
            "--format",
            "json",
            "revoked.chain.pem",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        reasons(&o),
        vec![("core.tls.309".to_string(), "revoked".to_string())]
    );
    let o = verify(
        d,
        &[
            "--crl",
            "ca.crl.pem",
            "--peer",
            "client",
            "--format",
            "json",
            "clientonly.chain.pem",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        reasons(&o),
        vec![(
            "core.tls.311".to_string(),
            "eku-missing-server-auth".to_string()
        )]
    );
    // A delta CRL (openssl ca with a deltaCRLIndicator extension) is refused with a clear reason,
    // not misread as complete: with CRL hard-fail the node is refused for unknown revocation.
    let cnf = std::fs::read_to_string(d.join("ca.cnf"))
        .unwrap()
        .replace("policy=p\n", "policy=p\ncrl_extensions=crl_ext\n")
        + "[crl_ext]\n2.5.29.27=critical,DER:02:01:01\n";
    std::fs::write(d.join("delta.cnf"), cnf).unwrap();
    sh(
        d,
        &[
            "ca",
            "-config",
            "delta.cnf",
            "-gencrl",
            "-out",
            "delta.crl.pem",
        ],
    );
    let o = verify(
        d,
        &[
            "--crl",
            "delta.crl.pem",
            "--revocation",
            "hard",
            "--format",
            "json",
            "node.chain.pem",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["reasons"][0]["code"], "revocation-unknown", "{v:#}");
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("delta CRLs are not supported"),
        "{v:#}"
    );
    // The leaf alone: its issuer is unknown (nothing else was sent that would point at a gap).
    let o = verify(d, &["--revocation", "off", "--format", "json", "node.pem"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(reasons(&o)[0].1, "unknown-issuer");
}

#[test]
fn openssl_ocsp_as_the_live_responder_good_and_revoked() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let port = openssl_pki(d);
    let child = Command::new("openssl")
        .args([
            "ocsp",
            "-index",
            "index.txt",
            "-port",
            &port.to_string(),
            "-rsigner",
            "ca.pem",
            "-rkey",
            "ca.key",
            "-CA",
            "ca.pem",
            "-ignore_err",
        ])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Kill(child);
    // Wait for its "waiting for OCSP client connections" line. (Probing the port with a bare
    // connect would block this single-threaded responder on a request that never comes.)
    let mut stderr = std::io::BufReader::new(child.0.stderr.take().unwrap());
    let t0 = Instant::now();
    loop {
        let mut line = String::new();
        use std::io::BufRead;
        if stderr.read_line(&mut line).unwrap() == 0 || line.contains("waiting for OCSP client") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "openssl ocsp did not start"
        );
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stderr.read_to_string(&mut sink);
    });
    let o = verify(
        d,
        &["--revocation", "soft", "--format", "json", "node.chain.pem"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["accepted"], true, "{v:#}");
    let ev = v["revocation"].as_array().unwrap();
    assert!(
        ev.iter().any(|e| e["source"]
            .as_str()
            .unwrap()
            .starts_with("ocsp http://127.0.0.1")
            && e["outcome"] == "good"
            && e["detail"].as_str().unwrap().contains("issuer")),
        "{v:#}"
    );
    let o = verify(
        d,
        &[
            "--revocation",
            "soft",
            "--format",
            "json",
            "revoked.chain.pem",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        reasons(&o),
        vec![("core.tls.309".to_string(), "revoked".to_string())]
    );
    let _ = child.0.kill();
}
