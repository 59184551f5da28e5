//! The client probe against real clients on loopback: the gateway's outbound proxy (every case
//! passes), curl and openssl s_client without verification (the refusal cases fail), curl with
//! the right CA (the good case passes), a rustls client that sends 0-RTT, a client that sends
//! application data before the server's Finished, and hostile clients.
#![allow(clippy::unwrap_used)]

use medmij_core::checks::names::*;
use medmij_core::outcome::Status;
use medmij_core::{Environment, Profile};
use medmij_probe::{Case, ProbeReport, ProbeSetup, RunOptions};
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use medmij_testpki::store::PkiDir;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const HOST: &str = "probe.medmij.test";

struct Pki {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    _serve: medmij_testpki::serve::Background,
}

/// A test PKI whose CRL/OCSP server runs (the clients under test fetch from it).
fn pki() -> Pki {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let opts = InitOptions {
        key_style: KeyStyle::Ecdsa,
        base_url: format!("http://{}", l.local_addr().unwrap()),
        ..Default::default()
    };
    init(&dir, &opts).unwrap();
    let serve = medmij_testpki::serve::in_background(PkiDir::new(&dir), l).unwrap();
    Pki {
        _tmp: tmp,
        dir,
        _serve: serve,
    }
}

fn need(tool: &str) {
    let ok = Command::new(tool)
        .arg(if tool == "openssl" {
            "version"
        } else {
            "--version"
        })
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{tool} is needed by this test (scripts/test installs it)"
    );
}

/// Runs the probe in a thread; `drive` gets its address and plays the client.
fn probe(
    pki: &Pki,
    cases: &[Case],
    timeout: Duration,
    drive: impl FnOnce(SocketAddr),
) -> ProbeReport {
    let dir = PkiDir::new(&pki.dir);
    // Make the cases first (a client such as the gateway loads the revocation state at start).
    medmij_probe::cases::prepare(&dir, HOST, time::OffsetDateTime::now_utc()).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let setup = ProbeSetup {
        pki: dir,
        run: RunOptions {
            hostname: HOST.into(),
            cases: cases.to_vec(),
            timeout,
            linger: Duration::from_millis(300),
            deadline: Duration::from_secs(25),
        },
        client: Some("client under test".into()),
        profile: Profile::default_profile(),
        environment: Environment::Test,
        role: medmij_scan::Role::Backchannel,
        strict: false,
    };
    let t = std::thread::spawn(move || medmij_probe::run(l, setup, |_| {}).unwrap());
    drive(addr);
    t.join().unwrap()
}

fn status(r: &ProbeReport, check: &str) -> Status {
    r.findings
        .iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("no finding for {check}"))
        .status
}

fn show(r: &ProbeReport) -> String {
    r.text()
}

fn every_case_but_whitelist() -> Vec<Case> {
    Case::ALL
        .into_iter()
        .filter(|c| *c != Case::NotWhitelisted)
        .collect()
}

fn curl(args: &[&str]) -> (i32, String) {
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// The gateway's outbound proxy (the policy's client, the MedMij verifier with revocation and
/// the whitelist) passes every case: the good ones answered 200 through the proxy, every bad one
/// refused in the handshake (502 to the application), not-whitelisted refused before connecting.
#[test]
fn the_gateway_outbound_proxy_passes_every_case() {
    need("curl");
    let pki = pki();
    // The probe's whitelist (every case name but not-whitelisted) is the gateway's.
    std::fs::write(
        pki.dir.join("probe-whitelist.xml"),
        medmij_probe::cases::whitelist(HOST, 1),
    )
    .unwrap();
    // Bind the probe's port first so the gateway's resolve table can name it.
    let cases = Case::ALL.to_vec();
    let dir = PkiDir::new(&pki.dir);
    medmij_probe::cases::prepare(&dir, HOST, time::OffsetDateTime::now_utc()).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let cat = medmij_testpki::catalogue::Catalogue::load(&dir).unwrap();
    let pgo = cat.entry("g1-pgo").unwrap();
    let mut resolve = String::new();
    for c in Case::ALL {
        resolve.push_str(&format!("\"{}:443\" = \"127.0.0.1:{port}\"\n", c.sni(HOST)));
    }
    let conf = format!(
        "environment = \"test\"\nstate_dir = \"{state}\"\n[outbound]\nlisten = \"127.0.0.1:0\"\ncert = \"{chain}\"\nkey = \"{key}\"\n\
         trust_anchors = [\"ca/g1-root.pem\"]\n[outbound.resolve]\n{resolve}\
         [whitelist]\nsource = \"probe-whitelist.xml\"\n",
        state = pki.dir.join("state").display(),
        chain = pgo.chain,
        key = pgo.key
    );
    let cfg = pki.dir.join("gateway.toml");
    std::fs::write(&cfg, conf).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let prepared = medmij_gateway::prepare(medmij_gateway::Config::load(&cfg).unwrap()).unwrap();
    let gw = rt.block_on(medmij_gateway::start(prepared)).unwrap();
    let proxy = format!("http://127.0.0.1:{}", gw.outbound.unwrap().port());
    let setup = ProbeSetup {
        pki: dir,
        run: RunOptions {
            hostname: HOST.into(),
            cases: cases.clone(),
            timeout: Duration::from_secs(90),
            linger: Duration::from_millis(300),
            deadline: Duration::from_secs(25),
        },
        client: Some("gateway outbound".into()),
        profile: Profile::default_profile(),
        environment: Environment::Test,
        role: medmij_scan::Role::Backchannel,
        strict: false,
    };
    let t = std::thread::spawn(move || medmij_probe::run(l, setup, |_| {}).unwrap());
    let mut codes = Vec::new();
    for c in Case::ALL {
        let url = format!("http://{}/fhir/metadata", c.sni(HOST));
        let (_, out) = curl(&["-x", &proxy, "-o", "/dev/null", "-w", "%{http_code}", &url]);
        codes.push((c, out));
    }
    let r = t.join().unwrap();
    for (c, code) in &codes {
        let want = if c.should_accept() {
            "200"
        } else if *c == Case::NotWhitelisted {
            "403"
        } else {
            "502"
        };
        assert_eq!(code, want, "{}: {codes:?}\n{}", c.label(), show(&r));
    }
    for c in Case::ALL {
        assert_eq!(
            status(&r, c.check()),
            Status::Pass,
            "{}\n{}",
            c.label(),
            show(&r)
        );
    }
    // It presented its node certificate, offered what the policy allows and no early data.
    assert_eq!(status(&r, CLIENT_CERTIFICATE), Status::Pass, "{}", show(&r));
    assert_eq!(
        status(&r, CLIENT_NO_EARLY_DATA),
        Status::Pass,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_VERSIONS_REQUIRED),
        Status::Pass,
        "{}",
        show(&r)
    );
    assert_ne!(
        status(&r, CLIENT_CIPHER_SUITES),
        Status::Fail,
        "{}",
        show(&r)
    );
    // Every bad case was refused with an alert, never by closing silently.
    assert!(
        r.connections
            .iter()
            .filter(|c| c.case.is_some_and(|c| !c.should_accept()))
            .all(|c| matches!(c.outcome, medmij_probe::facts::Outcome::ClientAlert(_))),
        "{}",
        show(&r)
    );
    drop(gw);
}

/// `curl -k` and `openssl s_client` without verification complete every handshake: each
/// refusal case fails (core.tls.309/311/313 and the hostname); curl with the G1 root passes
/// the good case and refuses the ones it can judge without revocation.
#[test]
fn clients_without_verification_fail_the_refusal_cases() {
    need("curl");
    need("openssl");
    let pki = pki();
    let cases = every_case_but_whitelist();
    let refusal: Vec<Case> = cases
        .iter()
        .copied()
        .filter(|c| !c.should_accept())
        .collect();
    // curl -k, by SNI label.
    let r = probe(&pki, &cases, Duration::from_secs(60), |addr| {
        for c in every_case_but_whitelist() {
            let host = c.sni(HOST);
            let (code, out) = curl(&[
                "-k",
                "-o",
                "/dev/null",
                "--resolve",
                &format!("{host}:{}:127.0.0.1", addr.port()),
                &format!("https://{host}:{}/", addr.port()),
            ]);
            assert_eq!(code, 0, "{out}");
        }
    });
    for c in &refusal {
        assert_eq!(
            status(&r, c.check()),
            Status::Fail,
            "{}\n{}",
            c.label(),
            show(&r)
        );
    }
    assert_eq!(
        status(&r, CLIENT_ACCEPTS_GOOD),
        Status::Pass,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_CERTIFICATE),
        Status::Fail,
        "curl sent no certificate: {}",
        show(&r)
    );
    // openssl s_client, in sequence on the bare hostname (no verification: it continues).
    let r = probe(&pki, &cases, Duration::from_secs(60), |addr| {
        for _ in &cases {
            // It sends a request on the session it should have refused.
            let mut child = Command::new("openssl")
                .args([
                    "s_client",
                    "-connect",
                    &addr.to_string(),
                    "-servername",
                    HOST,
                    "-quiet",
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes())
                .unwrap();
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    });
    let served: Vec<Option<Case>> = r.connections.iter().map(|c| c.case).collect();
    assert_eq!(
        served,
        cases.iter().map(|c| Some(*c)).collect::<Vec<_>>(),
        "the documented order"
    );
    for c in &refusal {
        assert_eq!(
            status(&r, c.check()),
            Status::Fail,
            "{}\n{}",
            c.label(),
            show(&r)
        );
    }
    // curl with the right CA: the good case passes; what curl checks without revocation
    // (expiry, root, hostname, EKU, path) is refused, and the revoked ones are accepted.
    let root = pki.dir.join("ca/g1-root.pem").display().to_string();
    let r = probe(&pki, &cases, Duration::from_secs(60), |addr| {
        for c in every_case_but_whitelist() {
            let host = c.sni(HOST);
            let (code, out) = curl(&[
                "--cacert",
                &root,
                "-o",
                "/dev/null",
                "--resolve",
                &format!("{host}:{}:127.0.0.1", addr.port()),
                &format!("https://{host}:{}/", addr.port()),
            ]);
            assert_eq!(
                code == 0,
                c.should_accept() || matches!(c, Case::RevokedCrl | Case::RevokedOcsp),
                "{}: {out}",
                c.label()
            );
        }
    });
    assert_eq!(
        status(&r, CLIENT_ACCEPTS_GOOD),
        Status::Pass,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_ACCEPTS_STAPLED),
        Status::Pass,
        "{}",
        show(&r)
    );
    for c in [
        Case::Expired,
        Case::UnknownRoot,
        Case::ClientAuthOnly,
        Case::MissingIntermediate,
    ] {
        assert_eq!(
            status(&r, c.check()),
            Status::Pass,
            "{}\n{}",
            c.label(),
            show(&r)
        );
    }
    // curl checks the hostname after the handshake, then closes without a request.
    assert_eq!(
        status(&r, CLIENT_REFUSES_WRONG_HOSTNAME),
        Status::Warning,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_REFUSES_REVOKED_CRL),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_REFUSES_REVOKED_OCSP),
        Status::Fail,
        "{}",
        show(&r)
    );
}

fn rustls_client(pki: &Pki, early: bool) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read_to_string(pki.dir.join("ca/g1-root.pem")).unwrap();
    for der in medmij_testpki::store::pem_blocks(&pem, "CERTIFICATE").unwrap() {
        roots.add(der.into()).unwrap();
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(rustls::ALL_VERSIONS)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.enable_early_data = early;
    Arc::new(cfg)
}

/// One GET over a fresh rustls connection to the probe for `case`; the answer (empty when
/// the handshake failed).
fn rustls_get(cfg: Arc<rustls::ClientConfig>, addr: SocketAddr, case: Case) -> String {
    let name = rustls::pki_types::ServerName::try_from(case.sni(HOST)).unwrap();
    let mut conn = rustls::ClientConnection::new(cfg, name).unwrap();
    let mut sock = TcpStream::connect(addr).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let _ = tls.write_all(format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", case.sni(HOST)).as_bytes());
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Copies what the client writes, appending a forged application-data record right after the
/// client's TLS 1.2 Finished flight (a ChangeCipherSpec then one handshake record): on the wire
/// that is what a False Start client sends. The probe judges the record's type and timing, not
/// its contents.
struct FalseStart {
    inner: TcpStream,
    armed: bool,
}

impl Read for FalseStart {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(b)
    }
}

impl Write for FalseStart {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.inner.write_all(b)?;
        if self.armed && b.first() == Some(&20) {
            self.armed = false;
            self.inner.write_all(
                &[23, 3, 3, 0, 32]
                    .iter()
                    .copied()
                    .chain([0u8; 32])
                    .collect::<Vec<_>>(),
            )?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A rustls client resuming with 0-RTT fails client.no-early-data; a client sending application
/// data before the server's Finished fails client.no-false-start; a well-behaved rustls client
/// passes both.
#[test]
fn false_start_and_early_data_are_seen() {
    let pki = pki();
    let cases = vec![Case::Good, Case::Tls12];
    let get = |host: &str| format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
    // Early data: a ticket from the first good connection, 0-RTT on the second.
    let cfg = rustls_client(&pki, true);
    let r = probe(&pki, &cases, Duration::from_secs(30), |addr| {
        let host = Case::Good.sni(HOST);
        for round in 0..2 {
            let name = rustls::pki_types::ServerName::try_from(host.clone()).unwrap();
            let mut conn = rustls::ClientConnection::new(cfg.clone(), name).unwrap();
            let mut sock = TcpStream::connect(addr).unwrap();
            if round == 1 {
                let mut ed = conn.early_data().expect("the probe's ticket allows 0-RTT");
                ed.write_all(get(&host).as_bytes()).unwrap();
            }
            let mut tls = rustls::Stream::new(&mut conn, &mut sock);
            if round == 0 {
                tls.write_all(get(&host).as_bytes()).unwrap();
            }
            let mut out = Vec::new();
            let _ = tls.read_to_end(&mut out);
            assert!(
                String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"),
                "round {round}"
            );
        }
        // The TLS 1.2 case, plainly.
        assert!(
            rustls_get(rustls_client(&pki, false), addr, Case::Tls12).starts_with("HTTP/1.1 200")
        );
    });
    assert_eq!(
        status(&r, CLIENT_NO_EARLY_DATA),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert!(
        r.connections.iter().any(|c| c.early_data_bytes > 0),
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_NO_FALSE_START),
        Status::Pass,
        "{}",
        show(&r)
    );
    // False Start on the TLS 1.2 case.
    let r = probe(&pki, &cases, Duration::from_secs(30), |addr| {
        assert!(
            rustls_get(rustls_client(&pki, false), addr, Case::Good).starts_with("HTTP/1.1 200")
        );
        let mut sink = Vec::new();
        let name = rustls::pki_types::ServerName::try_from(Case::Tls12.sni(HOST)).unwrap();
        let mut conn = rustls::ClientConnection::new(rustls_client(&pki, false), name).unwrap();
        let mut sock = FalseStart {
            inner: TcpStream::connect(addr).unwrap(),
            armed: true,
        };
        let _ = rustls::Stream::new(&mut conn, &mut sock).write_all(get(HOST).as_bytes());
        let _ = rustls::Stream::new(&mut conn, &mut sock).read_to_end(&mut sink);
    });
    assert_eq!(
        status(&r, CLIENT_NO_FALSE_START),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_NO_EARLY_DATA),
        Status::Pass,
        "{}",
        show(&r)
    );
}

/// The chain a client presents is judged by the verifier as a MedMij server would: a valid
/// node certificate passes client.certificate, an expired or revoked one fails it.
#[test]
fn a_client_certificate_is_judged_as_a_medmij_server_would() {
    need("curl");
    let pki = pki();
    let run = |entry: &str| {
        let chain = pki
            .dir
            .join(format!("certs/{entry}/chain.pem"))
            .display()
            .to_string();
        let key = pki
            .dir
            .join(format!("certs/{entry}/key.pem"))
            .display()
            .to_string();
        probe(&pki, &[Case::Good], Duration::from_secs(30), |addr| {
            let host = Case::Good.sni(HOST);
            let (code, out) = curl(&[
                "-k",
                "--cert",
                &chain,
                "--key",
                &key,
                "-o",
                "/dev/null",
                "--resolve",
                &format!("{host}:{}:127.0.0.1", addr.port()),
                &format!("https://{host}:{}/", addr.port()),
            ]);
            assert_eq!(code, 0, "{out}");
        })
    };
    let r = run("g1-pgo");
    assert_eq!(status(&r, CLIENT_CERTIFICATE), Status::Pass, "{}", show(&r));
    for (entry, why) in [
        ("g1-expired", "expired"),
        ("g1-revoked", "revoked"),
        ("g1-client-auth-only", "eku-missing-server-auth"),
    ] {
        let r = run(entry);
        assert_eq!(
            status(&r, CLIENT_CERTIFICATE),
            Status::Fail,
            "{entry}: {}",
            show(&r)
        );
        let f = r
            .findings
            .iter()
            .find(|f| f.check == CLIENT_CERTIFICATE)
            .unwrap();
        assert!(f.message.contains(why), "{entry}: {}", f.message);
    }
}

/// A real OpenSSL client resuming with `-early_data` is caught too (not only our rustls one).
#[test]
fn openssl_early_data_is_seen() {
    need("openssl");
    let pki = pki();
    let tmp = tempfile::tempdir().unwrap();
    let sess = tmp.path().join("sess.pem");
    let req = tmp.path().join("req.txt");
    std::fs::write(&req, format!("GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n")).unwrap();
    // The stapled case last: the run ends once every case was served.
    let r = probe(
        &pki,
        &[Case::Good, Case::Stapled],
        Duration::from_secs(30),
        |addr| {
            let host = Case::Good.sni(HOST);
            let run = |extra: &[&str]| {
                let o = Command::new("openssl")
                    .args([
                        "s_client",
                        "-connect",
                        &addr.to_string(),
                        "-servername",
                        &host,
                        "-quiet",
                    ])
                    .args(extra)
                    .stdin(std::fs::File::open(&req).unwrap())
                    .output()
                    .unwrap();
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            };
            assert!(run(&["-sess_out", sess.to_str().unwrap()]).starts_with("HTTP/1.1 200"));
            let second = run(&[
                "-sess_in",
                sess.to_str().unwrap(),
                "-early_data",
                req.to_str().unwrap(),
            ]);
            assert!(second.starts_with("HTTP/1.1 200"), "{second}");
            assert!(rustls_get(rustls_client(&pki, false), addr, Case::Stapled)
                .starts_with("HTTP/1.1 200"));
        },
    );
    assert_eq!(
        status(&r, CLIENT_NO_EARLY_DATA),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert!(
        r.connections.iter().any(|c| c.early_data_bytes > 0),
        "{}",
        show(&r)
    );
}

/// Python's `ssl` module (OpenSSL underneath, as many PGO back ends use it) with the right CA:
/// the good and stapled cases pass; it refuses what OpenSSL checks in the handshake (expiry,
/// root, hostname, purpose, path) and takes the revoked ones, since it checks no revocation.
#[test]
fn a_python_client_with_the_right_ca_is_judged() {
    let pki = pki();
    let root = pki.dir.join("ca/g1-root.pem").display().to_string();
    let cases = every_case_but_whitelist();
    let r = probe(&pki, &cases, Duration::from_secs(60), |addr| {
        let script = format!(
            r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile={root:?})
for case in sys.argv[1:]:
    host = case + ".{HOST}"
    try:
        with socket.create_connection(("127.0.0.1", {port}), timeout=20) as s:
            with ctx.wrap_socket(s, server_hostname=host) as t:
                t.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
                t.recv(100)
        print(case, "ok")
    except (ssl.SSLError, OSError) as e:
        print(case, "refused", type(e).__name__)
"#,
            port = addr.port()
        );
        let labels: Vec<&str> = every_case_but_whitelist()
            .iter()
            .map(|c| c.label())
            .collect();
        let o = Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(&labels)
            .output()
            .expect("python3 is needed by this test");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    });
    for c in [
        Case::Good,
        Case::Stapled,
        Case::Tls12,
        Case::Expired,
        Case::UnknownRoot,
        Case::WrongHostname,
        Case::ClientAuthOnly,
        Case::MissingIntermediate,
    ] {
        assert_eq!(
            status(&r, c.check()),
            Status::Pass,
            "{}\n{}",
            c.label(),
            show(&r)
        );
    }
    assert_eq!(
        status(&r, CLIENT_REFUSES_REVOKED_CRL),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_REFUSES_REVOKED_OCSP),
        Status::Fail,
        "{}",
        show(&r)
    );
}

/// What a client offers is rated like a server's: openssl with CBC suites and TLS 1.0 fails
/// the suite and version checks; the policy's backchannel client (the gateway's) does not.
#[test]
fn client_offers_are_rated() {
    need("openssl");
    let pki = pki();
    let r = probe(&pki, &[Case::Good], Duration::from_secs(30), |addr| {
        let o = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &addr.to_string(),
                "-servername",
                &Case::Good.sni(HOST),
                "-tls1_2",
                "-cipher",
                "AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0",
                "-sigalgs",
                "ECDSA+SHA256:ECDSA+SHA1:RSA+SHA1",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    });
    assert_eq!(
        status(&r, CLIENT_CIPHER_SUITES),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_SIGNATURE_SCHEMES),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_VERSIONS_REQUIRED),
        Status::Fail,
        "TLS 1.3 not offered: {}",
        show(&r)
    );
    // The policy's offer (provider and versions), as the gateway's outbound client makes it.
    let policy =
        medmij_verify::tls_policy::TlsPolicy::new(&Profile::default_profile(), Default::default())
            .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read_to_string(pki.dir.join("ca/g1-root.pem")).unwrap();
    for der in medmij_testpki::store::pem_blocks(&pem, "CERTIFICATE").unwrap() {
        roots.add(der.into()).unwrap();
    }
    let cfg = Arc::new(
        rustls::ClientConfig::builder_with_provider(policy.provider().clone())
            .with_protocol_versions(policy.versions())
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let r = probe(&pki, &[Case::Good], Duration::from_secs(30), |addr| {
        assert!(rustls_get(cfg.clone(), addr, Case::Good).starts_with("HTTP/1.1 200"));
    });
    assert_ne!(
        status(&r, CLIENT_CIPHER_SUITES),
        Status::Fail,
        "{}",
        show(&r)
    );
    assert_eq!(
        status(&r, CLIENT_VERSIONS_REQUIRED),
        Status::Pass,
        "{}",
        show(&r)
    );
}

/// Garbage, plain HTTP, silence and a half ClientHello each become a connection fact, the run
/// goes on, and a good client after them is still judged.
#[test]
fn hostile_clients_get_facts_not_hangs() {
    let pki = pki();
    let dir = PkiDir::new(&pki.dir);
    medmij_probe::cases::prepare(&dir, HOST, time::OffsetDateTime::now_utc()).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let setup = ProbeSetup {
        pki: dir,
        run: RunOptions {
            hostname: HOST.into(),
            cases: vec![Case::Good],
            timeout: Duration::from_secs(30),
            linger: Duration::from_millis(200),
            deadline: Duration::from_secs(2),
        },
        client: None,
        profile: Profile::default_profile(),
        environment: Environment::Test,
        role: medmij_scan::Role::Backchannel,
        strict: false,
    };
    let t = std::thread::spawn(move || medmij_probe::run(l, setup, |_| {}).unwrap());
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut s2 = TcpStream::connect(addr).unwrap();
    s2.write_all(&[22, 3, 1, 0x40, 0, 1, 0, 0]).unwrap();
    let silent = TcpStream::connect(addr).unwrap();
    let mut big = TcpStream::connect(addr).unwrap();
    let _ = big.write_all(&[22, 3, 1, 0xff, 0xff]);
    std::thread::sleep(Duration::from_millis(2500));
    assert!(rustls_get(rustls_client(&pki, false), addr, Case::Good).starts_with("HTTP/1.1 200"));
    let r = t.join().unwrap();
    drop((s, s2, silent, big));
    let no_hello = r
        .connections
        .iter()
        .filter(|c| c.outcome == medmij_probe::facts::Outcome::NoHello)
        .count();
    assert_eq!(no_hello, 4, "{:#?}", r.connections);
    assert!(r
        .connections
        .iter()
        .any(|c| c.error.as_deref().is_some_and(|e| e.contains("plain HTTP"))));
    assert_eq!(
        status(&r, CLIENT_ACCEPTS_GOOD),
        Status::Pass,
        "{}",
        show(&r)
    );
}

/// The JSON report follows its published schema.
#[test]
fn the_json_report_follows_the_schema() {
    let pki = pki();
    let r = probe(&pki, &[Case::Good], Duration::from_secs(30), |addr| {
        assert!(
            rustls_get(rustls_client(&pki, false), addr, Case::Good).starts_with("HTTP/1.1 200")
        );
    });
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/schema/probe-client-1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let doc = serde_json::to_value(&r).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut bad = doc.clone();
    bad["findings"][0]["status"] = "great".into();
    assert!(!v.is_valid(&bad));
    let mut bad = doc;
    bad["schema"] = "medmij-tls/scan/1".into();
    assert!(!v.is_valid(&bad));
}
