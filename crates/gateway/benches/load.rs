//! The gateway benchmark's client (`scripts/bench-gateway` runs it against the gateway, nginx
//! and HAProxy alike): mTLS handshakes, keep-alive requests with latencies, idle connections,
//! and the public-key floor of one handshake measured with aws-lc-rs.
//!
//! `load handshakes ADDR SNI CA CERT KEY SECONDS THREADS`
//! `load requests ADDR SNI CA CERT KEY SECONDS CONNECTIONS`
//! `load idle ADDR SNI CA CERT KEY N HOLD_SECONDS`
//! `load floor ITERATIONS`
#![allow(clippy::unwrap_used)]

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn config(ca: &str, cert: &str, key: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let chain = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .unwrap();
    cfg.resumption = rustls::client::Resumption::disabled();
    Arc::new(cfg)
}

fn connect(
    cfg: &Arc<rustls::ClientConfig>,
    addr: &str,
    sni: &str,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let conn =
        rustls::ClientConnection::new(cfg.clone(), ServerName::try_from(sni.to_owned()).unwrap())
            .unwrap();
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).unwrap();
    }
    s
}

fn get(s: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>, sni: &str) {
    write!(s, "GET / HTTP/1.1\r\nHost: {sni}\r\n\r\n").unwrap();
    let mut head = Vec::with_capacity(256);
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
}

fn main() {
    let a: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize| a.get(i).cloned().unwrap_or_default();
    match arg(0).as_str() {
        "handshakes" => {
            let cfg = config(&arg(3), &arg(4), &arg(5));
            let secs: u64 = arg(6).parse().unwrap();
            let threads: usize = arg(7).parse().unwrap();
            let done = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let ts: Vec<_> = (0..threads)
                .map(|_| {
                    let (cfg, addr, sni) = (cfg.clone(), arg(1), arg(2));
                    let (done, stop) = (done.clone(), stop.clone());
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            let mut s = connect(&cfg, &addr, &sni);
                            // The server verifies our certificate after our Finished: one request
                            // proves it accepted us.
                            get(&mut s, &sni);
                            s.conn.send_close_notify();
                            let _ = s.conn.complete_io(&mut s.sock);
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_secs(secs));
            stop.store(true, Ordering::Relaxed);
            for t in ts {
                t.join().unwrap();
            }
            println!("handshakes {}", done.load(Ordering::Relaxed));
        }
        "requests" => {
            let cfg = config(&arg(3), &arg(4), &arg(5));
            let secs: u64 = arg(6).parse().unwrap();
            let conns: usize = arg(7).parse().unwrap();
            let lat = Arc::new(Mutex::new(Vec::<u32>::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let started = Instant::now();
            let ts: Vec<_> = (0..conns)
                .map(|_| {
                    let (cfg, addr, sni) = (cfg.clone(), arg(1), arg(2));
                    let (lat, stop) = (lat.clone(), stop.clone());
                    std::thread::spawn(move || {
                        let mut s = connect(&cfg, &addr, &sni);
                        let mut mine = Vec::new();
                        while !stop.load(Ordering::Relaxed) {
                            let t = Instant::now();
                            get(&mut s, &sni);
                            mine.push(t.elapsed().as_micros() as u32);
                        }
                        lat.lock().unwrap().extend(mine);
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_secs(secs));
            stop.store(true, Ordering::Relaxed);
            for t in ts {
                t.join().unwrap();
            }
            let elapsed = started.elapsed().as_secs_f64();
            let mut l = lat.lock().unwrap().clone();
            l.sort_unstable();
            let p = |q: f64| l[((l.len() as f64 * q) as usize).min(l.len() - 1)];
            println!(
                "requests {} rps {:.0} p50_us {} p99_us {}",
                l.len(),
                l.len() as f64 / elapsed,
                p(0.5),
                p(0.99)
            );
        }
        "idle" => {
            let cfg = config(&arg(3), &arg(4), &arg(5));
            let n: usize = arg(6).parse().unwrap();
            let hold: u64 = arg(7).parse().unwrap();
            let mut keep = Vec::with_capacity(n);
            for _ in 0..n {
                let mut s = connect(&cfg, &arg(1), &arg(2));
                get(&mut s, &arg(2));
                keep.push(s);
            }
            println!("idle {}", keep.len());
            std::io::stdout().flush().unwrap();
            std::thread::sleep(Duration::from_secs(hold));
        }
        "floor" => floor(arg(1).parse().unwrap_or(2000)),
        other => {
            eprintln!("load: unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}

/// The public-key operations a server does per full mTLS TLS 1.3 handshake with ECDSA P-256
/// certificates and X25519: one signature (CertificateVerify), four verifications (the client's
/// CertificateVerify, its leaf and intermediate signatures, and one more for the path to the
/// anchor), one ephemeral X25519 agreement. Prints microseconds per handshake.
fn floor(n: u32) {
    use aws_lc_rs::{agreement, rand::SystemRandom, signature};
    use signature::KeyPair;
    let rng = SystemRandom::new();
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .unwrap();
    let kp = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8.as_ref(),
    )
    .unwrap();
    let msg = [7u8; 130];
    let sig = kp.sign(&rng, &msg).unwrap();
    let pk = signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_ASN1,
        kp.public_key().as_ref().to_vec(),
    );
    let peer = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng).unwrap();
    let peer_pub = peer.compute_public_key().unwrap();
    let t = Instant::now();
    for _ in 0..n {
        let s = kp.sign(&rng, &msg).unwrap();
        std::hint::black_box(s);
        for _ in 0..4 {
            pk.verify(&msg, sig.as_ref()).unwrap();
        }
        let mine = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng).unwrap();
        let _ = mine.compute_public_key().unwrap();
        agreement::agree_ephemeral(
            mine,
            agreement::UnparsedPublicKey::new(&agreement::X25519, peer_pub.as_ref()),
            (),
            |_| Ok(()),
        )
        .unwrap();
    }
    println!(
        "floor_us {:.1}",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );
}
