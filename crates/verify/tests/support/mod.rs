//! Shared test helpers: a test PKI with its CRL/OCSP server running on loopback, and small
//! misbehaving HTTP servers (down, slow, garbage, counting) for the soft/hard-fail tests.
#![allow(dead_code)]

pub(crate) mod openssl;

use medmij_core::{Environment, Profile};
use medmij_testpki::catalogue::Catalogue;
use medmij_testpki::hierarchy::Hierarchy;
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use medmij_testpki::store::PkiDir;
use medmij_verify::anchors::TrustStore;
use medmij_verify::http::HttpClient;
use medmij_verify::revocation::{Engine, Policy};
use medmij_verify::verifier::Verifier;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct LivePki {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub cat: Catalogue,
    pub port: u16,
    _server: medmij_testpki::serve::Background,
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A P-256 test PKI (G4 optionally RSA-PSS) with `pki serve` running in-process.
pub(crate) fn live_pki(rsa_g4: bool) -> LivePki {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut opts = InitOptions {
        key_style: KeyStyle::Ecdsa,
        base_url: format!("http://127.0.0.1:{port}"),
        ..Default::default()
    };
    if rsa_g4 {
        opts.key_style_for.insert(Hierarchy::G4, KeyStyle::Rsa);
    }
    let cat = init(&dir, &opts).unwrap();
    let server = medmij_testpki::serve::in_background(PkiDir::new(&dir), listener).unwrap();
    LivePki {
        _tmp: tmp,
        dir,
        cat,
        port,
        _server: server,
    }
}

pub(crate) fn anchors(pki: &LivePki) -> TrustStore {
    let profile = Profile::default_profile();
    TrustStore::load(
        &profile,
        Environment::Test,
        &[
            pki.dir.join("ca/g1-root.pem"),
            pki.dir.join("ca/g4-root.pem"),
            pki.dir.join("ca/public-ov-root.pem"),
        ],
    )
    .unwrap()
}

pub(crate) fn engine(policy: Policy) -> Arc<Engine> {
    Arc::new(Engine::new(
        policy,
        HttpClient::new(Duration::from_secs(2), 1 << 24, None),
        vec![],
    ))
}

pub(crate) fn verifier(pki: &LivePki, policy: Policy) -> Verifier {
    Verifier::new(anchors(pki), engine(policy))
}

pub(crate) fn chain(pki: &LivePki, id: &str) -> Vec<Vec<u8>> {
    let e = pki.cat.entry(id).unwrap();
    medmij_testpki::store::pem_blocks(
        &std::fs::read_to_string(pki.dir.join(&e.chain)).unwrap(),
        "CERTIFICATE",
    )
    .unwrap()
}

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// How a fake HTTP server misbehaves.
#[derive(Clone)]
pub(crate) enum Mode {
    /// Accepts, reads, never answers.
    Silent,
    /// Answers 200 with bytes that are not DER.
    Garbage,
    /// Sends one byte a second.
    Trickle,
    /// Serves this body after a delay, counting requests.
    Serve(Arc<Vec<u8>>, Duration),
}

/// A loopback HTTP server that misbehaves as told; returns (port, request counter).
pub(crate) fn fake_server(mode: Mode) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mode = mode.clone();
            let c = c.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.read(&mut buf);
                c.fetch_add(1, Ordering::SeqCst);
                match mode {
                    Mode::Silent => std::thread::sleep(Duration::from_secs(10)),
                    Mode::Garbage => {
                        let body = b"<html>not a CRL</html>";
                        let _ = write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = s.write_all(body);
                    }
                    Mode::Trickle => {
                        let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
                        for _ in 0..20 {
                            if s.write_all(&[0x30]).is_err() {
                                break;
                            }
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                    Mode::Serve(body, delay) => {
                        std::thread::sleep(delay);
                        let _ = write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = s.write_all(&body);
                    }
                }
            });
        }
    });
    (port, count)
}
