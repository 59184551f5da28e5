//! The one TLS policy against a real peer: a rustls server built from each profile by
//! `TlsPolicy`, and `openssl s_client` as the client. What is negotiated (version, suite, group)
//! follows the profile's NCSC edition; what the policy drops is refused on the wire.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

use medmij_core::ncsc::{self, Item, Level};
use medmij_core::wire::{CipherSuite, NamedGroup};
use medmij_core::Profile;
use medmij_verify::tls_policy::{Strictness, TlsPolicy};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;

fn self_signed() -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["node.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

/// A rustls server (frontchannel config of `policy`) for one connection at a time; returns the
/// port.
fn server(policy: &TlsPolicy) -> u16 {
    let (chain, key) = self_signed();
    let cfg = Arc::new(policy.frontchannel_server(chain, key).unwrap());
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(16) {
            let Ok(mut s) = s else { continue };
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                let Ok(mut conn) = rustls::ServerConnection::new(cfg) else {
                    return;
                };
                let mut tls = rustls::Stream::new(&mut conn, &mut s);
                let _ = tls.write_all(b"hello\n");
                let _ = tls.flush();
                let mut buf = [0u8; 64];
                let _ = tls.read(&mut buf);
            });
        }
    });
    port
}

/// `openssl s_client -brief` with `extra` options: (handshake completed, output).
fn s_client(port: u16, extra: &[&str]) -> (bool, String) {
    let o = Command::new("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-brief")
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("openssl is required: run scripts/test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (text.contains("CONNECTION ESTABLISHED"), text)
}

fn field<'a>(out: &'a str, name: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(name).map(str::trim))
}

#[test]
fn the_policy_offers_only_what_the_profile_rates_good_or_sufficient_good_first() {
    for id in ["medmij-2025", "medmij-2022"] {
        let p = Profile::builtin(id).unwrap();
        for strict in [Strictness::Standard, Strictness::Strict] {
            let policy = TlsPolicy::new(&p, strict).unwrap();
            let levels: Vec<Level> = policy
                .provider()
                .cipher_suites
                .iter()
                .map(|s| ncsc::level(p.ncsc, Item::CipherSuite(CipherSuite(u16::from(s.suite())))))
                .collect();
            assert!(!levels.is_empty());
            assert!(
                levels.windows(2).all(|w| w[0] <= w[1]),
                "{id}: good first: {levels:?}"
            );
            let worst = if strict == Strictness::Strict {
                Level::Good
            } else {
                Level::Sufficient
            };
            assert!(
                levels.iter().all(|l| *l <= worst),
                "{id} {strict:?}: {levels:?}"
            );
            for g in &policy.provider().kx_groups {
                let l = ncsc::level(p.ncsc, Item::Group(NamedGroup(u16::from(g.name()))));
                assert!(l <= worst, "{id}: group {:?} is {l}", g.name());
            }
        }
    }
}

#[test]
fn openssl_s_client_negotiates_per_profile_and_is_refused_what_the_policy_drops() {
    for id in ["medmij-2025", "medmij-2022"] {
        let p = Profile::builtin(id).unwrap();
        let policy = TlsPolicy::new(&p, Strictness::Standard).unwrap();
        let port = server(&policy);

        // Default client: TLS 1.3 with a suite and a group the profile rates good.
        let (ok, out) = s_client(port, &[]);
        assert!(ok, "{id}: {out}");
        assert_eq!(
            field(&out, "Protocol version:"),
            Some("TLSv1.3"),
            "{id}: {out}"
        );
        let suite = field(&out, "Ciphersuite:").unwrap_or_default();
        let code = match suite {
            "TLS_AES_256_GCM_SHA384" => 0x1302,
            "TLS_AES_128_GCM_SHA256" => 0x1301,
            "TLS_CHACHA20_POLY1305_SHA256" => 0x1303,
            other => panic!("{id}: unexpected suite {other}"),
        };
        assert_eq!(
            ncsc::level(p.ncsc, Item::CipherSuite(CipherSuite(code))),
            Level::Good,
            "{id}: {suite}"
        );
        assert!(
            field(&out, "Server Temp Key:")
                .is_some_and(|k| k.starts_with("X25519") || k.starts_with("ECDH")),
            "{id}: {out}"
        );

        // TLS 1.2 (allowed by both profiles): an AEAD suite with ECDHE.
        let (ok, out) = s_client(port, &["-tls1_2"]);
        assert!(ok, "{id}: {out}");
        assert_eq!(
            field(&out, "Protocol version:"),
            Some("TLSv1.2"),
            "{id}: {out}"
        );
        let suite = field(&out, "Ciphersuite:").unwrap_or_default();
        assert!(
            suite.starts_with("ECDHE-") && (suite.contains("GCM") || suite.contains("CHACHA20")),
            "{id}: {suite}"
        );

        // What the policy does not offer is refused: TLS 1.1, CBC-only TLS 1.2, RSA key exchange.
        for extra in [
            &["-tls1_1"][..],
            &[
                "-tls1_2",
                "-cipher",
                "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA",
            ][..],
            &["-tls1_2", "-cipher", "AES128-GCM-SHA256"][..],
        ] {
            let (ok, out) = s_client(port, extra);
            assert!(!ok, "{id} {extra:?} was accepted: {out}");
        }

        // Strict: only what the table rates good. TLS 1.2 is sufficient, so it is gone; under
        // 2025-05 only the ML-KEM hybrid groups are good, which openssl 3.0 cannot offer, so it
        // is refused there, while under v2.1 X25519 is good and the handshake completes.
        let strict_policy = TlsPolicy::new(&p, Strictness::Strict).unwrap();
        let classic = [
            NamedGroup::X25519,
            NamedGroup::SECP256R1,
            NamedGroup::SECP384R1,
        ];
        let openssl_has_a_group = strict_policy
            .provider()
            .kx_groups
            .iter()
            .any(|g| classic.contains(&NamedGroup(u16::from(g.name()))));
        let strict = server(&strict_policy);
        let (ok, out) = s_client(strict, &[]);
        if openssl_has_a_group {
            assert!(
                ok && field(&out, "Protocol version:") == Some("TLSv1.3"),
                "{id}: {out}"
            );
        } else {
            assert!(!ok && out.contains("handshake failure"), "{id}: {out}");
        }
        let (ok, out) = s_client(strict, &["-tls1_2"]);
        assert!(!ok, "{id} strict accepted TLS 1.2: {out}");
    }
}
