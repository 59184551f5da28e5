//! The gateway on loopback with real clients (curl, openssl s_client) and the project's
//! scanner: configuration errors with file:line:column, mutual TLS on the backchannel with the
//! identity forwarded and client headers stripped, refusals as TLS alerts, the frontchannel with
//! HSTS and the redirect listener, 502 for an upstream that is down.
#![allow(clippy::unwrap_used)]

use medmij_core::checks::names::*;
use medmij_core::outcome::Status;
use medmij_testpki::catalogue::Catalogue;
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Pki {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    cat: Catalogue,
}

fn pki() -> Pki {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let opts = InitOptions {
        key_style: KeyStyle::Ecdsa,
        base_url: "http://127.0.0.1:9".into(),
        ..Default::default()
    };
    let cat = init(&dir, &opts).unwrap();
    Pki {
        _tmp: tmp,
        dir,
        cat,
    }
}

/// A loopback HTTP/1.1 upstream that answers 200 with the request head it got.
fn upstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let seen = s2.clone();
            std::thread::spawn(move || {
                let mut s = s;
                loop {
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match s.read(&mut b) {
                            Ok(1) => head.push(b[0]),
                            _ => return,
                        }
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    seen.lock().unwrap().push(text.clone());
                    let body = text.replace("\r\n", "\n");
                    let r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(r.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

fn write_config(pki: &Pki, body: &str) -> PathBuf {
    let p = pki.dir.join("gateway.toml");
    std::fs::write(&p, body).unwrap();
    p
}

fn crl_list(pki: &Pki) -> String {
    let files: Vec<String> = std::fs::read_dir(pki.dir.join("crl"))
        .unwrap()
        .map(|e| format!("\"{}\"", e.unwrap().path().display()))
        .collect();
    files.join(", ")
}

fn back_config(pki: &Pki, upstream_port: u16, chain: &str) -> String {
    let e = pki.cat.entry("g1-za").unwrap();
    format!(
        "profile = \"medmij-2025\"\nenvironment = \"test\"\nstate_dir = \"{state}\"\n\
         [backchannel]\nlisten = \"127.0.0.1:0\"\ncert = \"{chain}\"\nkey = \"{key}\"\n\
         trust_anchors = [\"ca/g1-root.pem\", \"ca/g4-root.pem\"]\nupstream = \"http://127.0.0.1:{upstream_port}\"\n\
         [whitelist]\nsource = \"whitelist.xml\"\nrefresh = \"15m\"\n\
         [revocation]\ncrl_files = [{crls}]\n",
        state = pki.dir.join("state").display(),
        key = e.key,
        crls = crl_list(pki),
    )
}

fn check(cfg: &Path) -> Result<medmij_gateway::Prepared, String> {
    let c = medmij_gateway::Config::load(cfg).map_err(|e| e.to_string())?;
    medmij_gateway::prepare(c).map_err(|e| e.to_string())
}

#[test]
fn configuration_errors_name_file_line_column_and_key() {
    let pki = pki();
    let (port, _) = upstream();
    let good = back_config(&pki, port, "certs/g1-za/chain.pem");
    let cfg = write_config(&pki, &good);
    let p = check(&cfg).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let file = cfg.display().to_string();
    for (edit, want) in [
        (
            good.replace("profile = \"medmij-2025\"", "profile = \"medmij-2099\""),
            ":1:11: profile: ",
        ),
        (
            good.replace("listen = \"127.0.0.1:0\"", "listen = \"localhost\""),
            ":5:10: backchannel.listen: \"localhost\" is not IP:PORT",
        ),
        (
            good.replace("refresh = \"15m\"", "refresh = \"soon\""),
            ": whitelist.refresh: expected a duration",
        ),
        (
            good.replace("[whitelist]", "colour = \"blue\"\n[whitelist]"),
            ": (syntax): unknown field `colour`",
        ),
        (
            good.replace("http://127.0.0.1:", "http://10.0.0.1:"),
            ": backchannel.upstream: plain HTTP only to a loopback upstream",
        ),
        (
            good.replace("ca/g4-root.pem", "ca/nope.pem"),
            ": backchannel.trust_anchors: ",
        ),
        (
            good.replace("environment = \"test\"", "environment = \"staging\""),
            ":2:15: environment: expected production, acceptance or test",
        ),
    ] {
        let cfg = write_config(&pki, &edit);
        let e = check(&cfg).err().unwrap();
        assert!(e.starts_with(&file), "{e}");
        assert!(e.contains(want), "want {want:?} in {e}");
    }
    // What only the start would find: a key of another certificate, a missing intermediate.
    let other_key = &pki.cat.entry("g1-pgo").unwrap().key;
    let za_key = &pki.cat.entry("g1-za").unwrap().key;
    let e = check(&write_config(
        &pki,
        &good.replace(za_key.as_str(), other_key),
    ))
    .err()
    .unwrap();
    assert!(e.contains("the key does not match the certificate"), "{e}");
    let e = check(&write_config(
        &pki,
        &back_config(&pki, port, "certs/g1-missing-intermediate/chain.pem").replace(
            za_key.as_str(),
            &pki.cat.entry("g1-missing-intermediate").unwrap().key,
        ),
    ))
    .err()
    .unwrap();
    assert!(
        e.contains("missing intermediate") && e.contains("issued by"),
        "{e}"
    );
    // A root in the chain file is dropped with a warning.
    let with_root = back_config(&pki, port, "certs/g1-chain-with-root/chain.pem").replace(
        za_key.as_str(),
        &pki.cat.entry("g1-chain-with-root").unwrap().key,
    );
    let p = check(&write_config(&pki, &with_root)).unwrap();
    assert!(
        p.warnings.iter().any(|w| w.contains("is a root")),
        "{:?}",
        p.warnings
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn curl(args: &[&str]) -> (i32, String) {
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is required for the gateway tests: run scripts/test");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn backchannel_mtls_identity_refusals_and_the_scanner() {
    let pki = pki();
    let (up, seen) = upstream();
    let cfg = write_config(
        &pki,
        &format!(
            "{}[metrics]\nlisten = \"127.0.0.1:0\"\n",
            back_config(&pki, up, "certs/g1-za/chain.pem")
        ),
    );
    let rt = runtime();
    let p = check(&cfg).unwrap();
    let running = rt.block_on(medmij_gateway::start(p)).unwrap();
    let port = running.backchannel.unwrap().port();
    let za = "za.zorgaanbieder.example";
    let resolve = format!("{za}:{port}:127.0.0.1");
    let url = format!("https://{za}:{port}/fhir/Patient?x=1");
    let root = pki.dir.join("ca/g1-root.pem").display().to_string();
    let pgo = pki.cat.entry("g1-pgo").unwrap();
    let (cert, key) = (
        pki.dir.join(&pgo.chain).display().to_string(),
        pki.dir.join(&pgo.key).display().to_string(),
    );
    // A whitelisted node with its certificate: through, with the identity; a forged header
    // from the client is dropped.
    let (code, out) = curl(&[
        "--resolve",
        &resolve,
        "--cacert",
        &root,
        "--cert",
        &cert,
        "--key",
        &key,
        "-H",
        "X-MedMij-Peer-Host: forged.example",
        &url,
    ]);
    assert_eq!(code, 0, "{out}");
    let head = seen.lock().unwrap().last().cloned().unwrap();
    assert!(head.starts_with("GET /fhir/Patient?x=1 HTTP/1.1"), "{head}");
    let host = &pgo.hostnames[0];
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("x-medmij-peer-host: {host}")),
        "{head}"
    );
    assert!(!head.contains("forged.example"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("x-medmij-peer-cert-sha256: "),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("x-medmij-peer-serial-number: "),
        "{head}"
    );
    // HTTP/2 through the same listener.
    let (code, out) = curl(&[
        "--http2",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version}",
        "--resolve",
        &resolve,
        "--cacert",
        &root,
        "--cert",
        &cert,
        "--key",
        &key,
        &url,
    ]);
    assert_eq!((code, out.trim()), (0, "2"), "{out}");
    // Without a certificate: refused in the handshake (a TLS alert, no HTTP status).
    let (code, out) = curl(&[
        "--resolve",
        &resolve,
        "--cacert",
        &root,
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url,
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(out.starts_with("000"), "no HTTP answer: {out}");
    // The scanner against the gateway: every refusal probe is a TLS alert.
    let mut o = medmij_scan::ProbeOptions::new(medmij_scan::Role::Backchannel).unwrap();
    o.sni = Some(za.into());
    o.timeout = Duration::from_secs(3);
    o.refusal.add_probe_pki(&pki.dir).unwrap();
    let t = medmij_scan::targets::Target::parse(&format!("127.0.0.1:{port}")).unwrap();
    let f = medmij_scan::probe::scan_endpoint(&t, &o);
    let profile = medmij_core::Profile::default_profile();
    let ctx = medmij_scan::Context {
        profile: &profile,
        environment: medmij_core::Environment::Test,
        role: medmij_scan::Role::Backchannel,
        strict: false,
        date: "2026-12-02".into(),
        linter: None,
    };
    let j = medmij_scan::judge::endpoint(&ctx, "gateway", &f);
    // The metrics: handshakes by result and version, the peer's negotiated version, requests.
    let m = running.metrics.unwrap();
    let (code, metrics) = curl(&[&format!("http://{m}/metrics")]);
    assert_eq!(code, 0, "{metrics}");
    for want in [
        "medmij_gateway_handshakes_total{listener=\"backchannel\",result=\"ok\",version=\"TLSv1.3\"",
        &format!("medmij_gateway_peer_tls_version_total{{peer_host=\"{host}\",version=\"TLSv1.3\"}}"),
        "medmij_gateway_requests_total{listener=\"backchannel\",status=\"200\"}",
        "medmij_gateway_whitelist_volgnummer 1",
        "medmij_gateway_whitelist_age_seconds ",
        "medmij_gateway_crl_age_seconds{url=",
        ",group=\"x25519\"}",
        "result=\"no-client-certificate\"",
    ] {
        assert!(metrics.contains(want), "{want} not in\n{metrics}");
    }
    assert!(
        metrics.lines().any(|l| l.starts_with(
            "medmij_gateway_handshakes_total{listener=\"backchannel\",result=\"certificate:"
        )),
        "{metrics}"
    );
    assert_eq!(
        curl(&[&format!("http://{m}/readyz")]),
        (0, "ready\n".into())
    );
    assert_eq!(curl(&[&format!("http://{m}/healthz")]), (0, "ok\n".into()));
    let st = |c: &str| j.iter().find(|x| x.check == c).unwrap().status;
    for c in [
        TLS_CLIENT_CERTIFICATE,
        REFUSAL_SELF_SIGNED,
        REFUSAL_UNKNOWN_CA,
        REFUSAL_REVOKED,
        REFUSAL_EXPIRED,
        REFUSAL_NOT_YET_VALID,
        REFUSAL_CLIENT_AUTH_ONLY,
        REFUSAL_NOT_WHITELISTED,
        TLS_VERSIONS_REQUIRED,
        TLS_CIPHER_ORDER,
        TLS_ZERO_RTT,
        TLS_COMPRESSION,
        TLS_SECURE_RENEGOTIATION,
        TLS_EXTENDED_MASTER_SECRET,
        TLS_HIGHEST_VERSION,
        TLS_DOWNGRADE_SENTINEL,
    ] {
        assert_eq!(
            st(c),
            Status::Pass,
            "{c}: {:?}",
            j.iter().find(|x| x.check == c).map(|x| &x.message)
        );
    }
    rt.block_on(running.shutdown());
}

#[test]
fn frontchannel_hsts_redirect_and_upstream_down() {
    let pki = pki();
    let (up, _) = upstream();
    let e = pki.cat.entry("public-ov").unwrap();
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = |upstream: u16| {
        format!(
        "environment = \"test\"\nstate_dir = \"{state}\"\n[frontchannel]\nlisten = \"127.0.0.1:0\"\nredirect_listen = \"127.0.0.1:0\"\n\
         cert = \"{chain}\"\nkey = \"{key}\"\nupstream = \"http://127.0.0.1:{upstream}\"\n",
        state = pki.dir.join("state").display(), chain = e.chain, key = e.key)
    };
    let rt = runtime();
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(&pki, &conf(up))).unwrap(),
        ))
        .unwrap();
    let host = &e.hostnames[0];
    let port = running.frontchannel.unwrap().port();
    let root = pki.dir.join("ca/public-ov-root.pem").display().to_string();
    let resolve = format!("{host}:{port}:127.0.0.1");
    let (code, out) = curl(&[
        "-i",
        "--resolve",
        &resolve,
        "--cacert",
        &root,
        &format!("https://{host}:{port}/"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{out}"
    );
    let rport = running.redirect.unwrap().port();
    let (code, out) = curl(&[
        "-i",
        "-H",
        &format!("Host: {host}"),
        &format!("http://127.0.0.1:{rport}/a?b=c"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("HTTP/1.1 301"), "{out}");
    assert!(
        out.contains(&format!("location: https://{host}:{port}/a?b=c")),
        "{out}"
    );
    // TLS 1.3 only unless configured (medmij-2025 allows 1.2 of servers, core.tls.305).
    let v12 = |port: u16| {
        Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-tls1_2",
                "-servername",
                host,
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(!v12(port), "no TLS 1.2 on the frontchannel by default");
    rt.block_on(running.shutdown());
    let with12 = conf(up).replace("upstream = ", "tls12 = true\nupstream = ");
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(&pki, &with12)).unwrap(),
        ))
        .unwrap();
    assert!(
        v12(running.frontchannel.unwrap().port()),
        "tls12 = true offers it"
    );
    rt.block_on(running.shutdown());
    // Production: a DV or wildcard certificate does not start (core.tls.315).
    for (id, check_name) in [
        ("public-dv", "frontchannel.ov-or-better"),
        ("public-ov-wildcard", "frontchannel.no-wildcard"),
    ] {
        let e2 = pki.cat.entry(id).unwrap();
        let c = conf(up)
            .replace("environment = \"test\"", "environment = \"production\"")
            .replace(&e.chain, &e2.chain)
            .replace(&e.key, &e2.key);
        let err = check(&write_config(&pki, &c)).err().unwrap();
        assert!(
            err.contains(check_name) && err.contains("frontchannel"),
            "{id}: {err}"
        );
    }
    // The upstream down: 502 with a short body.
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(&pki, &conf(dead))).unwrap(),
        ))
        .unwrap();
    let port = running.frontchannel.unwrap().port();
    let resolve = format!("{host}:{port}:127.0.0.1");
    let (code, out) = curl(&[
        "-i",
        "--resolve",
        &resolve,
        "--cacert",
        &root,
        &format!("https://{host}:{port}/"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("HTTP/1.1 502") || out.starts_with("HTTP/2 502"),
        "{out}"
    );
    assert!(out.contains("upstream unavailable"), "{out}");
    rt.block_on(running.shutdown());
}

/// One TLS connection with the g1-pgo node certificate; `get` sends a keep-alive request and
/// reads the answer (status, body).
struct Node {
    tls: rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>,
}

impl Node {
    fn connect(pki: &Pki, port: u16) -> Node {
        Node::connect_as(pki, port, "g1-pgo")
    }

    fn connect_as(pki: &Pki, port: u16, id: &str) -> Node {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(pki.dir.join("ca/g1-root.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let e = pki.cat.entry(id).unwrap();
        let chain = CertificateDer::pem_file_iter(pki.dir.join(&e.chain))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(pki.dir.join(&e.key)).unwrap();
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
        let conn = rustls::ClientConnection::new(
            Arc::new(cfg),
            ServerName::try_from("za.zorgaanbieder.example").unwrap(),
        )
        .unwrap();
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Node {
            tls: rustls::StreamOwned::new(conn, tcp),
        }
    }

    fn get(&mut self, path: &str) -> (u16, String) {
        write!(
            self.tls,
            "GET {path} HTTP/1.1\r\nHost: za.zorgaanbieder.example\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            self.tls.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let status = head[9..12].parse().unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        self.tls.read_exact(&mut body).unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

/// A peer taken off the whitelist gets no further request through its open keep-alive
/// connection once the gateway has loaded the new list (the per-request re-check).
#[test]
fn a_peer_taken_off_the_whitelist_is_refused_on_its_open_connection() {
    let pki = pki();
    let (up, _) = upstream();
    let wl = std::fs::read_to_string(pki.dir.join("whitelist.xml")).unwrap();
    std::fs::write(pki.dir.join("wl-live.xml"), &wl).unwrap();
    let conf = back_config(&pki, up, "certs/g1-za/chain.pem").replace(
        "source = \"whitelist.xml\"\nrefresh = \"15m\"",
        "source = \"wl-live.xml\"\nrefresh = \"1s\"",
    );
    let rt = runtime();
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(&pki, &conf)).unwrap(),
        ))
        .unwrap();
    let port = running.backchannel.unwrap().port();
    let mut node = Node::connect(&pki, port);
    assert_eq!(node.get("/one").0, 200);
    assert_eq!(node.get("/two").0, 200, "keep-alive works");
    let pgo = pki.cat.entry("g1-pgo").unwrap().hostnames[0].clone();
    let next = wl
        .replace(&format!("<MedMijNode>\n            <Hostname>{pgo}</Hostname>\n        </MedMijNode>\n        "), "")
        .replace("<Volgnummer>1</Volgnummer>", "<Volgnummer>2</Volgnummer>");
    assert!(!next.contains(&pgo), "the test removes the node");
    std::fs::write(pki.dir.join("wl-live.xml"), next).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let (status, body) = node.get("/three");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("no longer accepted"), "{body}");
    // And a new connection is refused in the handshake.
    let (code, out) = curl(&[
        "--resolve",
        &format!("za.zorgaanbieder.example:{port}:127.0.0.1"),
        "--cacert",
        &pki.dir.join("ca/g1-root.pem").display().to_string(),
        "--cert",
        &pki.dir
            .join(&pki.cat.entry("g1-pgo").unwrap().chain)
            .display()
            .to_string(),
        "--key",
        &pki.dir
            .join(&pki.cat.entry("g1-pgo").unwrap().key)
            .display()
            .to_string(),
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("https://za.zorgaanbieder.example:{port}/"),
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(out.starts_with("000"), "{out}");
    rt.block_on(running.shutdown());
}

/// Ten reloads (a renewed certificate each time, from `pki issue`) while clients keep opening
/// connections and sending keep-alive requests: not one request fails; a garbage certificate
/// file is refused with the old state in force.
#[test]
fn hot_reload_loses_nothing_and_refuses_bad_material() {
    use medmij_testpki::ops::{issue, IssueRequest};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let pki = pki();
    let (up, _) = upstream();
    let live = pki.dir.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let za = pki.cat.entry("g1-za").unwrap();
    std::fs::copy(pki.dir.join(&za.chain), live.join("chain.pem")).unwrap();
    std::fs::copy(pki.dir.join(&za.key), live.join("key.pem")).unwrap();
    let conf = back_config(&pki, up, "live/chain.pem")
        .replace(&format!("key = \"{}\"", za.key), "key = \"live/key.pem\"");
    let rt = runtime();
    let running = Arc::new(
        rt.block_on(medmij_gateway::start(
            check(&write_config(&pki, &conf)).unwrap(),
        ))
        .unwrap(),
    );
    let port = running.backchannel.unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for _ in 0..2 {
        let (pki_dir, cat) = (pki.dir.clone(), pki.cat.clone());
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        load.push(std::thread::spawn(move || {
            let p = Pki {
                _tmp: tempfile::tempdir().unwrap(),
                dir: pki_dir,
                cat,
            };
            // Bounded: at most 400 connections of three keep-alive requests each.
            for _ in 0..400 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut n = Node::connect(&p, port);
                    for i in 0..3 {
                        assert_eq!(n.get(&format!("/{i}")).0, 200);
                    }
                }));
                if r.is_ok() {
                    ok.fetch_add(3, Ordering::SeqCst);
                } else {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    let dir = medmij_testpki::store::PkiDir::new(&pki.dir);
    for i in 0..10 {
        std::thread::sleep(Duration::from_millis(150));
        let issued = issue(
            &dir,
            &IssueRequest {
                hierarchy: medmij_testpki::hierarchy::Hierarchy::G1,
                role: medmij_testpki::catalogue::Role::Backchannel,
                hostnames: vec!["za.zorgaanbieder.example".into()],
                name: Some(format!("za-renewed-{i}")),
                days: 30,
                key_style: KeyStyle::Ecdsa,
                at: time::OffsetDateTime::now_utc(),
            },
        )
        .unwrap();
        // Key first, then chain, each replaced atomically (as a deployment would).
        for (from, to) in [(&issued.key, "key.pem"), (&issued.chain, "chain.pem")] {
            std::fs::copy(from, live.join(format!("{to}.new"))).unwrap();
            std::fs::rename(live.join(format!("{to}.new")), live.join(to)).unwrap();
        }
        let w = rt
            .block_on(running.reload())
            .unwrap_or_else(|e| panic!("reload {i}: {e}"));
        assert!(w.is_empty(), "{w:?}");
    }
    // Garbage instead of the certificate: refused, and the last good state keeps serving.
    std::fs::write(live.join("chain.pem"), "garbage").unwrap();
    let e = rt.block_on(running.reload()).unwrap_err();
    assert!(e.contains("chain.pem") && e.contains("backchannel"), "{e}");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for t in load {
        t.join().unwrap();
    }
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "{} requests went through",
        ok.load(Ordering::SeqCst)
    );
    assert!(
        ok.load(Ordering::SeqCst) >= 30,
        "the load ran: {}",
        ok.load(Ordering::SeqCst)
    );
    let mut n = Node::connect(&pki, port);
    assert_eq!(
        n.get("/after").0,
        200,
        "the last good certificate still serves"
    );
    drop(n);
    match Arc::try_unwrap(running) {
        Ok(r) => rt.block_on(r.shutdown()),
        Err(_) => panic!("still shared"),
    }
}

/// Two gateways: the application behind B calls http://za.zorgaanbieder.example/ through B's
/// outbound proxy; B makes it mutual TLS with A's backchannel (whitelist, hostname, verifier
/// both ways), pools the connection, and refuses a host that is not on the whitelist.
#[test]
fn outbound_proxy_makes_the_call_compliant_and_pools() {
    let pki = pki();
    let (up, seen) = upstream();
    let rt = runtime();
    let a = rt
        .block_on(medmij_gateway::start(
            check(&write_config(
                &pki,
                &back_config(&pki, up, "certs/g1-za/chain.pem"),
            ))
            .unwrap(),
        ))
        .unwrap();
    let a_port = a.backchannel.unwrap().port();
    let pgo = pki.cat.entry("g1-pgo").unwrap();
    let b_conf = format!(
        "environment = \"test\"\nstate_dir = \"{state}\"\n[outbound]\nlisten = \"127.0.0.1:0\"\ncert = \"{chain}\"\nkey = \"{key}\"\n\
         trust_anchors = [\"ca/g1-root.pem\"]\n[outbound.resolve]\n\"za.zorgaanbieder.example:443\" = \"127.0.0.1:{a_port}\"\n\
         \"pgo.pgo-leverancier.example:443\" = \"127.0.0.1:{a_port}\"\n\
         [whitelist]\nsource = \"whitelist.xml\"\n[revocation]\ncrl_files = [{crls}]\n",
        state = pki.dir.join("state-b").display(), chain = pgo.chain, key = pgo.key, crls = crl_list(&pki));
    let bpath = pki.dir.join("gateway-b.toml");
    std::fs::write(&bpath, b_conf).unwrap();
    let b = rt
        .block_on(medmij_gateway::start(check(&bpath).unwrap()))
        .unwrap();
    let proxy = format!("http://127.0.0.1:{}", b.outbound.unwrap().port());
    let (code, out) = curl(&[
        "-x",
        &proxy,
        "-w",
        "%{http_code}\n",
        "-o",
        "/dev/null",
        "http://za.zorgaanbieder.example/fhir/metadata",
        "-o",
        "/dev/null",
        "http://za.zorgaanbieder.example/fhir/Patient",
    ]);
    assert_eq!((code, out.as_str()), (0, "200\n200\n"), "{out}");
    let head = seen.lock().unwrap().last().cloned().unwrap();
    assert!(head.starts_with("GET /fhir/Patient HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("x-medmij-peer-host: {}", pgo.hostnames[0])),
        "A saw B's node certificate: {head}"
    );
    assert_eq!(
        b.outbound_proxy.as_ref().unwrap().connections_opened(),
        1,
        "the second request reused the TLS connection"
    );
    // Not on the whitelist: 403 with the reason, no connection attempted.
    let (code, out) = curl(&["-x", &proxy, "-i", "http://evil.example/"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("HTTP/1.1 403") && out.contains("not on the MedMij whitelist"),
        "{out}"
    );
    // On the whitelist, but the server there is not that host (A serves za's certificate): the
    // verifier refuses the handshake, the application gets a 502 saying so.
    let (code, out) = curl(&["-x", &proxy, "-i", "http://pgo.pgo-leverancier.example/"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("HTTP/1.1 502") && out.contains("TLS with pgo.pgo-leverancier.example"),
        "{out}"
    );
    rt.block_on(b.shutdown());
    rt.block_on(a.shutdown());
}

/// Hostile and broken clients: 1,000 idle half-open connections, garbage instead of a
/// ClientHello, a TLS 1.1-only client. Each is cut off (handshake timeout, alert, close); a
/// valid node keeps getting through meanwhile, and nothing panics.
#[test]
fn hostile_clients_are_cut_off_and_valid_nodes_keep_going() {
    // Both ends of 1,000 connections live in this process: make room for the descriptors.
    let pid = std::process::id().to_string();
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=8192:"])
        .status();
    let pki = pki();
    let (up, _) = upstream();
    let conf = back_config(&pki, up, "certs/g1-za/chain.pem")
        + "[limits]\nhandshake_timeout_secs = 2\nper_ip = 2000\n";
    let rt = runtime();
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(&pki, &conf)).unwrap(),
        ))
        .unwrap();
    let port = running.backchannel.unwrap().port();
    let idle: Vec<std::net::TcpStream> = (0..1000)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let mut node = Node::connect(&pki, port);
    assert_eq!(node.get("/while-1000-idle").0, 200);
    // Garbage instead of a ClientHello: an alert or a close, at once.
    let mut g = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    g.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    g.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = g.read(&mut buf).unwrap_or(0);
    assert!(
        n == 0 || buf[0] == 21,
        "an alert record or nothing: {:?}",
        &buf[..n]
    );
    // A client that offers only TLS 1.1: refused in the handshake.
    let o = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_1",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl is required: run scripts/test");
    assert!(
        !o.status.success(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The idle ones are closed after the handshake timeout; the node's connection is not.
    std::thread::sleep(Duration::from_millis(2800));
    let mut closed = 0;
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            other => {
                panic!("an idle connection is still open after the handshake timeout: {other:?}")
            }
        }
    }
    assert_eq!(closed, 1000);
    assert_eq!(
        node.get("/after").0,
        200,
        "the valid node's keep-alive connection survived"
    );
    rt.block_on(running.shutdown());
}

/// Revocation never stalls the handshake path: with every CRL distribution point stalled (a
/// server that accepts and never answers), handshakes of a peer whose status is in memory keep
/// completing (p99 under 100 ms) while a peer whose issuer's CRL is not known yet waits at most
/// the engine's deadline (its fetch runs in place of one runtime worker) and is then refused
/// (CRL hard-fail).
#[test]
fn a_stalled_crl_server_does_not_stall_handshakes() {
    let stalled = TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = stalled.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in stalled.incoming().flatten() {
            held.push(s); // accept, never answer
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let opts = InitOptions {
        key_style: KeyStyle::Ecdsa,
        base_url: format!("http://127.0.0.1:{sport}"),
        ..Default::default()
    };
    let cat = init(&dir, &opts).unwrap();
    let pki = Pki {
        _tmp: tmp,
        dir,
        cat,
    };
    let (up, _) = upstream();
    // Only the G1 CRLs are at hand (files); G4's would have to come from the stalled server.
    let g1_crls: Vec<String> = ["g1-root", "g1-domain", "g1-tsp"]
        .iter()
        .map(|c| format!("\"{}\"", pki.dir.join(format!("crl/{c}.crl")).display()))
        .collect();
    let conf = back_config(&pki, up, "certs/g1-za/chain.pem").replace(
        &format!("crl_files = [{}]", crl_list(&pki)),
        &format!("crl_files = [{}]", g1_crls.join(", ")),
    );
    let rt = runtime();
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(&pki, &conf)).unwrap(),
        ))
        .unwrap();
    let port = running.backchannel.unwrap().port();
    // The G4 node: nothing in memory for its issuer, so its handshake fetches in place (from the
    // stalled server) and waits at most the engine's deadline, then is refused (hard-fail)...
    let p2 = Pki {
        _tmp: tempfile::tempdir().unwrap(),
        dir: pki.dir.clone(),
        cat: pki.cat.clone(),
    };
    let newcomer = std::thread::spawn(move || {
        let t = std::time::Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut n = Node::connect_as(&p2, port, "g4-pgo");
            n.get("/g4")
        }));
        (r.is_err(), t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    // ...while the known G1 node's handshakes keep completing.
    let mut times = Vec::new();
    for i in 0..40 {
        let t = std::time::Instant::now();
        let mut n = Node::connect(&pki, port);
        assert_eq!(n.get(&format!("/{i}")).0, 200);
        times.push(t.elapsed());
    }
    assert!(
        !newcomer.is_finished(),
        "the newcomer is still waiting on the stalled CRL server"
    );
    times.sort();
    let p99 = times[times.len() * 99 / 100];
    assert!(
        p99 < Duration::from_millis(100),
        "p99 {p99:?} while a newcomer waits on the stalled CRL server"
    );
    let (refused, took) = newcomer.join().unwrap();
    assert!(refused, "hard-fail: no CRL for the G4 issuer could be had");
    let deadline = medmij_verify::revocation::Policy::default().chain_budget;
    assert!(
        took <= deadline + Duration::from_secs(3),
        "waited {took:?}, the deadline is {deadline:?}"
    );
    rt.block_on(running.shutdown());
}

/// The gateway staples a fresh OCSP answer for its own certificate when the certificate names
/// a responder (here the test PKI's, served on loopback), in TLS 1.3 and 1.2.
#[test]
fn the_own_certificate_is_stapled_when_it_names_a_responder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let opts = InitOptions {
        key_style: KeyStyle::Ecdsa,
        base_url: format!("http://127.0.0.1:{port}"),
        ..Default::default()
    };
    let cat = init(&dir, &opts).unwrap();
    let _serve =
        medmij_testpki::serve::in_background(medmij_testpki::store::PkiDir::new(&dir), listener)
            .unwrap();
    let pki = Pki {
        _tmp: tmp,
        dir,
        cat,
    };
    let (up, _) = upstream();
    let rt = runtime();
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(
                &pki,
                &back_config(&pki, up, "certs/g1-za/chain.pem"),
            ))
            .unwrap(),
        ))
        .unwrap();
    let gport = running.backchannel.unwrap().port();
    let pgo = pki.cat.entry("g1-pgo").unwrap();
    let status = |v: &str| {
        let o = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{gport}"),
                "-servername",
                "za.zorgaanbieder.example",
                "-status",
                v,
                "-cert",
                &pki.dir.join(&pgo.chain).display().to_string(),
                "-key",
                &pki.dir.join(&pgo.key).display().to_string(),
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let out = status("-tls1_3");
        if out.contains("OCSP Response Status: successful") {
            assert!(out.contains("Cert Status: good"), "{out}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no staple within 10 s: {out}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = status("-tls1_2");
    assert!(
        out.contains("OCSP Response Status: successful") && out.contains("Cert Status: good"),
        "{out}"
    );
    rt.block_on(running.shutdown());
}

/// A connected peer is revoked (`pki revoke` writes the new CRL file the gateway is configured
/// with); once the gateway has loaded it (the reload a file change triggers), the peer's next
/// request on its open keep-alive connection fails, and a new handshake is refused.
#[test]
fn a_revoked_peer_is_refused_on_its_open_connection() {
    use medmij_testpki::ops::{revoke, RevokeTarget};
    let pki = pki();
    let (up, _) = upstream();
    let rt = runtime();
    let running = rt
        .block_on(medmij_gateway::start(
            check(&write_config(
                &pki,
                &back_config(&pki, up, "certs/g1-za/chain.pem"),
            ))
            .unwrap(),
        ))
        .unwrap();
    let port = running.backchannel.unwrap().port();
    let mut node = Node::connect(&pki, port);
    assert_eq!(node.get("/before").0, 200);
    let pgo = pki.cat.entry("g1-pgo").unwrap();
    revoke(
        &medmij_testpki::store::PkiDir::new(&pki.dir),
        &RevokeTarget::Cert(pki.dir.join(&pgo.cert)),
        Some("keyCompromise"),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert!(running.files_changed(), "the CRL file is watched");
    rt.block_on(running.reload()).unwrap();
    std::thread::sleep(medmij_gateway::proxy::RECHECK_INTERVAL + Duration::from_millis(200));
    let (status, body) = node.get("/after");
    assert_eq!(status, 403, "{body}");
    let mut fresh = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut n = Node::connect(&pki, port);
        n.get("/new")
    }));
    assert!(
        fresh.as_mut().is_err(),
        "a new handshake of the revoked peer is refused"
    );
    rt.block_on(running.shutdown());
}

/// Faults around the gateway: a slow upstream is a 504 within the upstream deadline; an
/// origin-form request with `Host` works through the outbound proxy; a whitelist source that
/// turns bad (lower Volgnummer, invalid XML, an empty list) leaves the last good list in force.
#[test]
fn slow_upstream_origin_form_and_a_bad_whitelist_update() {
    let pki = pki();
    // An upstream that never answers.
    let slow = TcpListener::bind("127.0.0.1:0").unwrap();
    let slow_port = slow.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in slow.incoming().flatten() {
            held.push(s);
        }
    });
    let wl = std::fs::read_to_string(pki.dir.join("whitelist.xml")).unwrap();
    std::fs::write(
        pki.dir.join("wl-live.xml"),
        wl.replace("<Volgnummer>1</Volgnummer>", "<Volgnummer>5</Volgnummer>"),
    )
    .unwrap();
    let conf = back_config(&pki, slow_port, "certs/g1-za/chain.pem").replace(
        "source = \"whitelist.xml\"\nrefresh = \"15m\"",
        "source = \"wl-live.xml\"\nrefresh = \"1s\"",
    ) + "[limits]\nupstream_timeout_secs = 1\n";
    let rt = runtime();
    let a = rt
        .block_on(medmij_gateway::start(
            check(&write_config(&pki, &conf)).unwrap(),
        ))
        .unwrap();
    let port = a.backchannel.unwrap().port();
    let t = std::time::Instant::now();
    let mut node = Node::connect(&pki, port);
    let (status, body) = node.get("/slow");
    assert_eq!((status, body.as_str()), (504, "upstream timeout\n"));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // The list's source turns bad three ways; the node stays admitted by the last good list.
    let pgo = pki.cat.entry("g1-pgo").unwrap().hostnames[0].clone();
    let without = wl.replace(
        &format!("<Hostname>{pgo}</Hostname>"),
        "<Hostname>other.example</Hostname>",
    );
    for bad in [
        without.replace("<Volgnummer>1</Volgnummer>", "<Volgnummer>2</Volgnummer>"), // lower than 5
        "<Whitelist><not-xml".to_string(),
        format!("<?xml version=\"1.0\"?>\n<Whitelist xmlns=\"{}\"><Tijdstempel>2026-01-01T00:00:00Z</Tijdstempel><Volgnummer>9</Volgnummer><MedMijNodes></MedMijNodes></Whitelist>\n", medmij_verify::whitelist::NAMESPACE),
    ] {
        std::fs::write(pki.dir.join("wl-live.xml"), bad).unwrap();
        std::thread::sleep(Duration::from_millis(2300));
        let mut n = Node::connect(&pki, port);
        assert_eq!(n.get("/still").0, 504, "admitted (the slow upstream answers 504), not refused");
    }
    rt.block_on(a.shutdown());
}

#[test]
fn the_outbound_proxy_takes_origin_form_with_host() {
    let pki = pki();
    let (up, seen) = upstream();
    let rt = runtime();
    let a = rt
        .block_on(medmij_gateway::start(
            check(&write_config(
                &pki,
                &back_config(&pki, up, "certs/g1-za/chain.pem"),
            ))
            .unwrap(),
        ))
        .unwrap();
    let a_port = a.backchannel.unwrap().port();
    let pgo = pki.cat.entry("g1-pgo").unwrap();
    let b_conf = format!(
        "environment = \"test\"\nstate_dir = \"{state}\"\n[outbound]\nlisten = \"127.0.0.1:0\"\ncert = \"{chain}\"\nkey = \"{key}\"\n\
         trust_anchors = [\"ca/g1-root.pem\"]\n[outbound.resolve]\n\"za.zorgaanbieder.example:8443\" = \"127.0.0.1:{a_port}\"\n\
         [whitelist]\nsource = \"whitelist.xml\"\n[revocation]\ncrl_files = [{crls}]\n",
        state = pki.dir.join("state-b").display(), chain = pgo.chain, key = pgo.key, crls = crl_list(&pki));
    let bpath = pki.dir.join("gateway-b.toml");
    std::fs::write(&bpath, b_conf).unwrap();
    let b = rt
        .block_on(medmij_gateway::start(check(&bpath).unwrap()))
        .unwrap();
    let out = b.outbound.unwrap().port();
    // Origin-form: the application talks to the proxy as to a server; Host names the peer and
    // its TLS port.
    let (code, body) = curl(&[
        "-H",
        "Host: za.zorgaanbieder.example:8443",
        &format!("http://127.0.0.1:{out}/fhir/metadata"),
    ]);
    assert_eq!(code, 0, "{body}");
    assert!(body.starts_with("GET /fhir/metadata HTTP/1.1"), "{body}");
    let head = seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("host: za.zorgaanbieder.example:8443"),
        "{head}"
    );
    rt.block_on(b.shutdown());
    rt.block_on(a.shutdown());
}
