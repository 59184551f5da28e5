//! The scanner against real servers nobody here wrote (`openssl s_server`, configured as a
//! deployment would be), and against hostile raw servers: exact facts and the findings.
#![allow(clippy::unwrap_used)]

mod support;

use medmij_core::checks::names::*;
use medmij_core::outcome::Status;
use medmij_core::wire::ProtocolVersion;
use medmij_scan::facts::ClientAuth;
use medmij_scan::judge::Role;
use medmij_testpki::keys::KeyStyle;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};
use support::*;

const ZA: &str = "za.zorgaanbieder.example";

fn dump(f: &medmij_scan::EndpointFacts) -> String {
    serde_json::to_string_pretty(f).unwrap()
}

#[test]
fn openssl_tls12_only_cbc_and_rsa_kx() {
    let pki = pki(KeyStyle::Rsa);
    let (leaf, rest, key) = pki.server_files("g1-za");
    let (l, r, k) = (
        leaf.to_str().unwrap(),
        rest.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    let root = pki.path("ca/g1-root.pem");
    // Client order wins (s_server's default).
    let srv = s_server(
        &[
            "-tls1_2",
            "-cipher",
            "AES128-SHA:AES256-SHA256:ECDHE-RSA-AES128-SHA",
            "-cert",
            l,
            "-cert_chain",
            r,
            "-key",
            k,
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
    assert_eq!(f.versions, vec![ProtocolVersion::TLS12], "{}", dump(&f));
    assert_eq!(
        suites(&f, "TLSv1.2"),
        vec![0x002F, 0x003D, 0xC013],
        "{}",
        dump(&f)
    );
    assert_eq!(f.server_order, Some(false));
    assert_eq!(f.secure_renegotiation, Some(true));
    assert_eq!(f.extended_master_secret, Some(true));
    assert_eq!(f.compression, Some(false));
    assert_eq!(f.chain.len(), 3, "the chain exactly as sent");
    assert_eq!(f.chain_version, Some(ProtocolVersion::TLS12));
    assert_eq!(
        f.kex_signatures.sha1_accepted,
        Some(false),
        "openssl 3 refuses SHA-1 at level 1"
    );
    assert_eq!(f.client_auth, ClientAuth::None);
    let j = judge(
        &f,
        Role::Backchannel,
        "medmij-2025",
        std::slice::from_ref(&root),
    );
    assert_eq!(status(&j, ENDPOINT_TLS), Status::Pass);
    assert_eq!(
        status(&j, TLS_VERSIONS_REQUIRED),
        Status::Fail,
        "{}",
        message(&j, TLS_VERSIONS_REQUIRED)
    );
    assert_eq!(
        status(&j, TLS_VERSIONS_RATED),
        Status::Info,
        "TLS 1.2 is a deviation of medmij-2025"
    );
    assert_eq!(status(&j, TLS_CIPHER_SUITES), Status::Fail);
    assert!(message(&j, TLS_CIPHER_SUITES).contains("TLS_RSA_WITH_AES_128_CBC_SHA"));
    assert_eq!(status(&j, TLS_CIPHER_ORDER), Status::Fail);
    assert_eq!(status(&j, TLS_TLS13_READY), Status::Warning);
    assert_eq!(status(&j, TLS_DOWNGRADE_SENTINEL), Status::NotApplicable);
    assert_eq!(status(&j, TLS_SECURE_RENEGOTIATION), Status::Pass);
    assert_eq!(status(&j, TLS_EXTENDED_MASTER_SECRET), Status::Pass);
    assert_eq!(status(&j, TLS_COMPRESSION), Status::Pass);
    assert_eq!(status(&j, TLS_CLIENT_CERTIFICATE), Status::Fail);
    assert_eq!(
        status(&j, TLS_OCSP_STAPLING),
        Status::Warning,
        "the test PKI names a responder"
    );
    assert_eq!(status(&j, CHAIN_COMPLETE), Status::Pass);
    assert_eq!(status(&j, CHAIN_NO_ROOT), Status::Pass);
    assert_eq!(status(&j, LEAF_HOSTNAME), Status::Pass);
    // Under medmij-2022 TLS 1.2 is required, not a deviation.
    let j22 = judge(
        &f,
        Role::Backchannel,
        "medmij-2022",
        std::slice::from_ref(&root),
    );
    assert_eq!(
        status(&j22, TLS_VERSIONS_REQUIRED),
        Status::Pass,
        "{}",
        message(&j22, TLS_VERSIONS_REQUIRED)
    );
    drop(srv);

    // Server order, SHA-224 signing allowed by default in openssl 3.
    let srv = s_server(
        &[
            "-tls1_2",
            "-serverpref",
            "-cipher",
            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
            "-cert",
            l,
            "-cert_chain",
            r,
            "-key",
            k,
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
    assert_eq!(suites(&f, "TLSv1.2"), vec![0xC02F, 0xC030]);
    assert_eq!(
        f.cipher_suites[0].code, 0xC030,
        "the server's first choice first"
    );
    assert_eq!(f.server_order, Some(true));
    let j = judge(&f, Role::Backchannel, "medmij-2025", &[root]);
    assert_eq!(
        status(&j, TLS_CIPHER_ORDER),
        Status::Pass,
        "{}",
        message(&j, TLS_CIPHER_ORDER)
    );
    assert_eq!(
        status(&j, TLS_CIPHER_SUITES),
        Status::Warning,
        "ECDHE AEAD suites are sufficient"
    );
    assert_eq!(f.kex_signatures.sha224_accepted, Some(true), "{}", dump(&f));
    assert_eq!(status(&j, TLS_KEX_SIGNATURE_HASH), Status::Fail);
    assert_eq!(
        f.groups
            .iter()
            .filter(|g| g.version == ProtocolVersion::TLS12)
            .count(),
        5,
        "{}",
        dump(&f)
    );
}

#[test]
fn openssl_tls13_only() {
    let pki = pki(KeyStyle::Ecdsa);
    let (leaf, rest, key) = pki.server_files("g1-za");
    let root = pki.path("ca/g1-root.pem");
    let srv = s_server(
        &[
            "-tls1_3",
            "-cert",
            leaf.to_str().unwrap(),
            "-cert_chain",
            rest.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
    assert_eq!(f.versions, vec![ProtocolVersion::TLS13], "{}", dump(&f));
    assert_eq!(suites(&f, "TLSv1.3"), vec![0x1301, 0x1302, 0x1303]);
    let groups: Vec<u16> = f.groups.iter().map(|g| g.code).collect();
    for g in [0x001D, 0x0017, 0x0018] {
        assert!(groups.contains(&g), "{groups:04X?}");
    }
    assert_eq!(f.highest_offered_chosen, Some(ProtocolVersion::TLS13));
    assert_eq!(
        f.chain_version,
        Some(ProtocolVersion::TLS13),
        "the chain through a real handshake"
    );
    assert_eq!(f.chain.len(), 3);
    assert!(f.handshake.completed);
    assert_eq!(f.client_auth, ClientAuth::None);
    let j = judge(&f, Role::Backchannel, "medmij-2025", &[root]);
    assert_eq!(status(&j, TLS_VERSIONS_REQUIRED), Status::Pass);
    assert_eq!(status(&j, TLS_VERSIONS_RATED), Status::Pass);
    assert_eq!(status(&j, TLS_HIGHEST_VERSION), Status::Pass);
    assert_eq!(status(&j, TLS_TLS13_READY), Status::Pass);
    assert_eq!(status(&j, TLS_CIPHER_ORDER), Status::NotApplicable);
    assert_eq!(status(&j, TLS_DOWNGRADE_SENTINEL), Status::NotApplicable);
    assert_eq!(status(&j, TLS_ZERO_RTT), Status::Pass);
    assert_eq!(
        status(&j, TLS_CIPHER_SUITES),
        Status::Warning,
        "AES-128-GCM is sufficient only"
    );
    assert_eq!(
        status(&j, TLS_GROUPS),
        Status::Fail,
        "openssl offers ffdhe2048 in TLS 1.3: {}",
        message(&j, TLS_GROUPS)
    );
    assert_eq!(status(&j, TLS_OCSP_STAPLING), Status::Warning);
    assert_eq!(status(&j, CHAIN_TRUSTED_ANCHOR), Status::Pass);
}

#[test]
fn openssl_both_versions_sets_the_downgrade_sentinel() {
    let pki = pki(KeyStyle::Ecdsa);
    let (leaf, rest, key) = pki.server_files("g1-za");
    let srv = s_server(
        &[
            "-cert",
            leaf.to_str().unwrap(),
            "-cert_chain",
            rest.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
    assert_eq!(
        f.versions,
        vec![ProtocolVersion::TLS13, ProtocolVersion::TLS12]
    );
    assert_eq!(f.downgrade_sentinel, Some(true));
    let j = judge(
        &f,
        Role::Backchannel,
        "medmij-2025",
        &[pki.path("ca/g1-root.pem")],
    );
    assert_eq!(status(&j, TLS_DOWNGRADE_SENTINEL), Status::Pass);
    assert_eq!(status(&j, TLS_HIGHEST_VERSION), Status::Pass);
}

#[test]
fn openssl_dhe_named_group_and_custom_prime() {
    let pki = pki(KeyStyle::Rsa);
    let (leaf, rest, key) = pki.server_files("g1-za");
    let (l, r, k) = (
        leaf.to_str().unwrap(),
        rest.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    let gen = |args: &[&str]| {
        let o = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&pki.dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    for g in ["ffdhe2048", "ffdhe3072"] {
        gen(&[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DH",
            "-pkeyopt",
            &format!("group:{g}"),
            "-out",
            &format!("{g}.pem"),
        ]);
    }
    // A real safe prime (openssl refuses the X9.42 form `-dsaparam` writes).
    gen(&["dhparam", "-out", "dh1024.pem", "1024"]);
    let (ff, dh1024) = (pki.path("ffdhe3072.pem"), pki.path("dh1024.pem"));
    let (ff, dh1024) = (ff.to_str().unwrap(), dh1024.to_str().unwrap());
    let srv = s_server(
        &[
            "-tls1_2",
            "-cipher",
            "DHE-RSA-AES128-GCM-SHA256",
            "-dhparam",
            ff,
            "-cert",
            l,
            "-cert_chain",
            r,
            "-key",
            k,
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
    assert_eq!(suites(&f, "TLSv1.2"), vec![0x009E], "{}", dump(&f));
    assert!(
        !f.dh.is_empty()
            && f.dh
                .iter()
                .all(|d| d.rfc7919.as_deref() == Some("ffdhe3072") && d.prime_bits == 3072),
        "{:?}",
        f.dh
    );
    let j = judge(&f, Role::Backchannel, "medmij-2025", &[]);
    assert_eq!(
        status(&j, TLS_DH_PARAMETERS),
        Status::Fail,
        "ffdhe3072 is phase-out under 2025-05"
    );
    let j = judge(&f, Role::Backchannel, "medmij-2022", &[]);
    assert_eq!(
        status(&j, TLS_DH_PARAMETERS),
        Status::Warning,
        "ffdhe3072 is sufficient under v2.1: {}",
        message(&j, TLS_DH_PARAMETERS)
    );
    drop(srv);
    // ffdhe2048: named, but phase-out under v2.1 (fail).
    let ff2048 = pki.path("ffdhe2048.pem");
    let srv = s_server(
        &[
            "-tls1_2",
            "-cipher",
            "DHE-RSA-AES128-GCM-SHA256",
            "-dhparam",
            ff2048.to_str().unwrap(),
            "-cert",
            l,
            "-cert_chain",
            r,
            "-key",
            k,
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
    assert!(
        f.dh.iter()
            .all(|d| d.rfc7919.as_deref() == Some("ffdhe2048"))
            && !f.dh.is_empty(),
        "{:?}",
        f.dh
    );
    let j = judge(&f, Role::Backchannel, "medmij-2022", &[]);
    assert_eq!(
        status(&j, TLS_DH_PARAMETERS),
        Status::Fail,
        "{}",
        message(&j, TLS_DH_PARAMETERS)
    );
    drop(srv);
    let srv = s_server(
        &[
            "-tls1_2",
            "-cipher",
            "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
            "-dhparam",
            dh1024,
            "-cert",
            l,
            "-cert_chain",
            r,
            "-key",
            k,
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
    assert!(
        !f.dh.is_empty()
            && f.dh
                .iter()
                .all(|d| d.rfc7919.is_none() && d.prime_bits == 1024),
        "{:?}",
        f.dh
    );
    let j = judge(&f, Role::Backchannel, "medmij-2022", &[]);
    assert_eq!(status(&j, TLS_DH_PARAMETERS), Status::Fail);
    assert!(message(&j, TLS_DH_PARAMETERS).contains("custom 1024-bit prime"));
}

#[test]
fn openssl_client_certificate_required_optional_none() {
    let pki = pki(KeyStyle::Ecdsa);
    let (leaf, rest, key) = pki.server_files("g1-za");
    let root = pki.path("ca/g1-root.pem");
    let (l, r, k, ca) = (
        leaf.to_str().unwrap(),
        rest.to_str().unwrap(),
        key.to_str().unwrap(),
        root.to_str().unwrap(),
    );
    for (version, verify, expect) in [
        ("-tls1_3", "-Verify", ClientAuth::Required),
        ("-tls1_2", "-Verify", ClientAuth::Required),
        ("-tls1_3", "-verify", ClientAuth::Optional),
        ("-tls1_2", "-verify", ClientAuth::Optional),
    ] {
        let srv = s_server(
            &[
                version,
                verify,
                "2",
                "-CAfile",
                ca,
                "-cert",
                l,
                "-cert_chain",
                r,
                "-key",
                k,
                "-www",
                "-quiet",
            ],
            &pki.dir,
        );
        let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
        assert_eq!(f.client_auth, expect, "{version} {verify}: {}", dump(&f));
        let cas = if f.handshake.acceptable_cas.is_empty() {
            &f.acceptable_cas_tls12
        } else {
            &f.handshake.acceptable_cas
        };
        assert!(
            cas.iter().any(|c| c.contains("Private Root CA - G1")),
            "{cas:?}"
        );
        let j = judge(
            &f,
            Role::Backchannel,
            "medmij-2025",
            std::slice::from_ref(&root),
        );
        let want = if expect == ClientAuth::Required {
            Status::Pass
        } else {
            Status::Fail
        };
        assert_eq!(
            status(&j, TLS_CLIENT_CERTIFICATE),
            want,
            "{version} {verify}"
        );
        let jf = judge(&f, Role::Frontchannel, "medmij-2025", &[]);
        assert_eq!(
            status(&jf, TLS_CLIENT_CERTIFICATE),
            Status::Fail,
            "a frontchannel server must not ask"
        );
    }
}

#[test]
fn served_chains_with_root_and_missing_intermediate() {
    let pki = pki(KeyStyle::Ecdsa);
    let root = pki.path("ca/g1-root.pem");
    for (id, check) in [
        ("g1-chain-with-root", CHAIN_NO_ROOT),
        ("g1-missing-intermediate", CHAIN_COMPLETE),
    ] {
        let (leaf, rest, key) = pki.server_files(id);
        let srv = s_server(
            &[
                "-cert",
                leaf.to_str().unwrap(),
                "-cert_chain",
                rest.to_str().unwrap(),
                "-key",
                key.to_str().unwrap(),
                "-www",
                "-quiet",
            ],
            &pki.dir,
        );
        let f = scan(srv.port, Role::Backchannel, Some(ZA), |_| {});
        let j = judge(
            &f,
            Role::Backchannel,
            "medmij-2025",
            std::slice::from_ref(&root),
        );
        assert_eq!(
            status(&j, check),
            Status::Fail,
            "{id}: {}",
            message(&j, check)
        );
    }
}

/// A loopback server that does `act` with every connection.
fn raw_server(act: fn(std::net::TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || act(s));
        }
    });
    port
}

fn read_hello(s: &mut std::net::TcpStream) {
    let mut b = [0u8; 4096];
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.read(&mut b);
}

fn server_hello(version: u16, suite: u16) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[9u8; 32]);
    b.push(0);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    let mut m = vec![2, 0, 0, b.len() as u8];
    m.extend_from_slice(&b);
    let mut r = vec![22, 3, 3, 0, m.len() as u8];
    r.extend_from_slice(&m);
    r
}

#[test]
fn hostile_servers_give_facts_not_hangs() {
    let cases: Vec<(&str, u16)> = vec![
        (
            "garbage",
            raw_server(|mut s| {
                read_hello(&mut s);
                let _ = s.write_all(&[0x99; 300]);
            }),
        ),
        (
            "http page",
            raw_server(|mut s| {
                read_hello(&mut s);
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            }),
        ),
        (
            "silent",
            raw_server(|mut s| {
                read_hello(&mut s);
                std::thread::sleep(Duration::from_secs(30));
            }),
        ),
        (
            "trickle",
            raw_server(|mut s| {
                read_hello(&mut s);
                for b in server_hello(0x0303, 0xC02F) {
                    if s.write_all(&[b]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(700));
                }
            }),
        ),
        (
            "closes mid-record",
            raw_server(|mut s| {
                read_hello(&mut s);
                let _ = s.write_all(&[22, 3, 3, 0, 80, 2, 0]);
            }),
        ),
        (
            "oversized record",
            raw_server(|mut s| {
                read_hello(&mut s);
                let _ = s.write_all(&[22, 3, 3, 0xff, 0xff]);
                let _ = s.write_all(&[0; 1000]);
            }),
        ),
        (
            "unknown suite",
            raw_server(|mut s| {
                read_hello(&mut s);
                let _ = s.write_all(&server_hello(0x0303, 0xFAFA));
            }),
        ),
        (
            "unknown version",
            raw_server(|mut s| {
                read_hello(&mut s);
                let _ = s.write_all(&server_hello(0x7F17, 0x1301));
            }),
        ),
        ("refused port", free_port()),
    ];
    let started = Instant::now();
    for (what, port) in cases {
        let t = Instant::now();
        let f = scan(port, Role::Backchannel, Some("host.example"), |o| {
            o.timeout = Duration::from_secs(1)
        });
        let took = t.elapsed();
        // Bounded by the probe timeout: probes run 5 at a time, each at most 1 s; a server that
        // answers nothing useful costs each task one probe.
        assert!(took < Duration::from_secs(20), "{what}: {took:?}");
        let j = judge(&f, Role::Backchannel, "medmij-2025", &[]);
        let endpoint = status(&j, ENDPOINT_TLS);
        match what {
            "unknown suite" => {
                // A ServerHello naming a suite that was not offered is a TLS answer, recorded as
                // a protocol error of that probe.
                assert!(f.speaks_tls, "{what}");
                assert!(
                    f.errors.iter().any(|e| e.error.contains("0xFAFA")),
                    "{what}: {:?}",
                    f.errors
                );
            }
            "trickle" => assert!(
                f.errors
                    .iter()
                    .any(|e| e.error.contains("no answer in time"))
                    || !f.speaks_tls,
                "{what}: {}",
                dump(&f)
            ),
            "unknown version" => {
                assert!(
                    f.speaks_tls && f.versions.is_empty(),
                    "{what}: {}",
                    dump(&f)
                );
                assert_eq!(endpoint, Status::Fail);
                assert!(
                    message(&j, ENDPOINT_TLS).contains("0x7F17"),
                    "{}",
                    message(&j, ENDPOINT_TLS)
                );
                assert_eq!(status(&j, TLS_VERSIONS_REQUIRED), Status::Fail);
            }
            "refused port" => {
                assert_eq!(endpoint, Status::Error, "{what}");
                assert!(
                    f.errors.iter().any(|e| e.error.contains("refused")),
                    "{:?}",
                    f.errors
                );
            }
            _ => {
                assert!(!f.speaks_tls, "{what}: {}", dump(&f));
                assert_eq!(
                    endpoint,
                    Status::Fail,
                    "{what}: {}",
                    message(&j, ENDPOINT_TLS)
                );
                let m = message(&j, ENDPOINT_TLS).to_owned();
                let want = match what {
                    "garbage" | "http page" => "not TLS",
                    "silent" => "no answer in time",
                    "closes mid-record" => "closed",
                    "oversized record" => "oversized record",
                    _ => "version",
                };
                assert!(m.contains(want), "{what}: {m}");
            }
        }
        // Everything else is not tested, never a pass.
        if !f.speaks_tls {
            assert!(
                j.iter()
                    .filter(|x| x.check != ENDPOINT_TLS)
                    .all(|x| x.status == Status::NotTested),
                "{what}"
            );
        }
    }
    assert!(started.elapsed() < Duration::from_secs(120));
}

#[test]
fn zero_rtt_is_seen_on_a_server_that_accepts_it() {
    let pki = pki(KeyStyle::Ecdsa);
    let (leaf, rest, key) = pki.server_files("g1-za");
    let (l, r, k) = (
        leaf.to_str().unwrap(),
        rest.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    let srv = s_server(
        &[
            "-tls1_3",
            "-early_data",
            "-cert",
            l,
            "-cert_chain",
            r,
            "-key",
            k,
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Frontchannel, Some(ZA), |o| {
        o.http_port = free_port()
    });
    let z = f.zero_rtt.clone().unwrap();
    assert!(z.ticket && z.early_data_offered, "{z:?}");
    assert_eq!(z.accepted, Some(true), "{z:?}");
    let j = judge(&f, Role::Frontchannel, "medmij-2025", &[]);
    assert_eq!(status(&j, TLS_ZERO_RTT), Status::Fail);
    drop(srv);
    let srv = s_server(
        &[
            "-tls1_3",
            "-cert",
            l,
            "-cert_chain",
            r,
            "-key",
            k,
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let f = scan(srv.port, Role::Frontchannel, Some(ZA), |o| {
        o.http_port = free_port()
    });
    let j = judge(&f, Role::Frontchannel, "medmij-2025", &[]);
    assert_eq!(status(&j, TLS_ZERO_RTT), Status::Pass, "{:?}", f.zero_rtt);
}

/// A backchannel server built from the project's own policy and verifier (what the gateway
/// will run): rustls with `TlsPolicy::backchannel_server`, answering HTTP after the handshake.
fn medmij_backchannel_server(pki: &Pki) -> u16 {
    use medmij_core::{Environment, Profile};
    use rustls::pki_types::pem::PemObject;
    let profile = Profile::default_profile();
    let crls: Vec<(String, Vec<u8>)> = std::fs::read_dir(pki.path("crl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    let wl = medmij_verify::whitelist::Whitelist::parse(
        &std::fs::read(pki.path("whitelist.xml")).unwrap(),
        "whitelist.xml",
    )
    .unwrap();
    let verifier = medmij_verify::verifier::Verifier::builder(&profile, Environment::Test)
        .trust_anchor_files(&[pki.path("ca/g1-root.pem"), pki.path("ca/g4-root.pem")])
        .crl_files(crls)
        .build()
        .unwrap()
        .with_whitelist(std::sync::Arc::new(wl));
    let e = pki.cat.entry("g1-za").unwrap();
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(pki.dir.join(&e.chain))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(pki.dir.join(&e.key)).unwrap();
    let policy = medmij_verify::tls_policy::TlsPolicy::new(&profile, Default::default()).unwrap();
    let cfg = std::sync::Arc::new(
        policy
            .backchannel_server(std::sync::Arc::new(verifier), chain, key)
            .unwrap(),
    );
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let mut s = s;
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut conn = rustls::ServerConnection::new(cfg).unwrap();
                let mut tls = rustls::Stream::new(&mut conn, &mut s);
                let mut buf = [0u8; 2048];
                if tls.read(&mut buf).is_ok() {
                    let _ = tls.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                }
                let _ = tls.flush();
            });
        }
    });
    port
}

#[test]
fn refusal_probes_against_backchannel_servers() {
    use medmij_scan::facts::{RefusalOutcome, RefusalProbe};
    let pki = pki(KeyStyle::Ecdsa);
    let (leaf, rest, key) = pki.server_files("g1-za");
    let root = pki.path("ca/g1-root.pem");
    let revoked_issuer = pki
        .cat
        .entry("g1-revoked")
        .unwrap()
        .issuer_ca
        .clone()
        .unwrap();
    let crl = pki.path(&format!("crl/{revoked_issuer}.crl"));
    // openssl as many nodes run it: client certificate required, the CA and its CRL.
    let srv = s_server(
        &[
            "-Verify",
            "3",
            "-verify_return_error",
            "-CAfile",
            root.to_str().unwrap(),
            "-CRL",
            crl.to_str().unwrap(),
            "-CRLform",
            "DER",
            "-crl_check",
            "-cert",
            leaf.to_str().unwrap(),
            "-cert_chain",
            rest.to_str().unwrap(),
            "-key",
            key.to_str().unwrap(),
            "-www",
            "-quiet",
        ],
        &pki.dir,
    );
    let with_pki = |o: &mut medmij_scan::ProbeOptions| o.refusal.add_probe_pki(&pki.dir).unwrap();
    let f = scan(srv.port, Role::Backchannel, Some(ZA), with_pki);
    let outcome = |f: &medmij_scan::EndpointFacts, p: RefusalProbe| {
        f.refusals
            .iter()
            .find(|r| r.probe == p)
            .map(|r| r.outcome.clone())
    };
    for p in [
        RefusalProbe::NoCertificate,
        RefusalProbe::SelfSigned,
        RefusalProbe::UnknownCa,
        RefusalProbe::Revoked,
        RefusalProbe::Expired,
        RefusalProbe::NotYetValid,
    ] {
        assert!(
            matches!(outcome(&f, p), Some(RefusalOutcome::Alert { .. })),
            "openssl refuses {p:?}: {:?}",
            outcome(&f, p)
        );
    }
    // openssl checks neither the serverAuth EKU of a client certificate nor the whitelist.
    assert_eq!(
        outcome(&f, RefusalProbe::ClientAuthOnly),
        Some(RefusalOutcome::Http { status: 200 })
    );
    assert_eq!(
        outcome(&f, RefusalProbe::NotWhitelisted),
        Some(RefusalOutcome::Http { status: 200 })
    );
    let j = judge(
        &f,
        Role::Backchannel,
        "medmij-2025",
        std::slice::from_ref(&root),
    );
    for c in [
        REFUSAL_SELF_SIGNED,
        REFUSAL_UNKNOWN_CA,
        REFUSAL_REVOKED,
        REFUSAL_EXPIRED,
        REFUSAL_NOT_YET_VALID,
    ] {
        assert_eq!(status(&j, c), Status::Pass, "{c}: {}", message(&j, c));
    }
    assert_eq!(status(&j, REFUSAL_CLIENT_AUTH_ONLY), Status::Fail);
    assert_eq!(status(&j, REFUSAL_NOT_WHITELISTED), Status::Fail);
    assert!(
        message(&j, REFUSAL_NOT_WHITELISTED).contains("HTTP 200"),
        "{}",
        message(&j, REFUSAL_NOT_WHITELISTED)
    );
    assert_eq!(status(&j, TLS_CLIENT_CERTIFICATE), Status::Pass);

    // The project's own verifier refuses all of them, each with a TLS alert.
    let port = medmij_backchannel_server(&pki);
    let f = scan(port, Role::Backchannel, Some(ZA), with_pki);
    for p in RefusalProbe::ALL {
        assert!(
            matches!(outcome(&f, p), Some(RefusalOutcome::Alert { .. })),
            "the MedMij verifier refuses {p:?}: {:?}",
            outcome(&f, p)
        );
    }
    let j = judge(&f, Role::Backchannel, "medmij-2025", &[root]);
    for c in [
        REFUSAL_SELF_SIGNED,
        REFUSAL_UNKNOWN_CA,
        REFUSAL_REVOKED,
        REFUSAL_EXPIRED,
        REFUSAL_NOT_YET_VALID,
        REFUSAL_CLIENT_AUTH_ONLY,
        REFUSAL_NOT_WHITELISTED,
        TLS_CLIENT_CERTIFICATE,
    ] {
        assert_eq!(status(&j, c), Status::Pass, "{c}: {}", message(&j, c));
    }
    assert_eq!(status(&j, TLS_VERSIONS_REQUIRED), Status::Pass);
    // With the node's own certificate (--client-cert) the full handshake goes through, and the
    // policy's backchannel server issues no ticket to resume (core.tls.309 at every session).
    let e = pki.cat.entry("g1-pgo").unwrap();
    let me = medmij_scan::probe::refusal::identity(&pki.dir.join(&e.chain), &pki.dir.join(&e.key))
        .unwrap();
    let f = scan(port, Role::Backchannel, Some(ZA), |o| o.identity = Some(me));
    assert!(
        f.errors.iter().all(|e| !e.probe.contains("client-cert")),
        "{:?}",
        f.errors
    );
    let z = f.zero_rtt.clone().unwrap();
    assert!(!z.ticket && !z.early_data_offered, "{z:?}");
    // Without --probe-pki only the generated certificates are tried; the rest are not tested.
    let f = scan(port, Role::Backchannel, Some(ZA), |_| {});
    let j = judge(&f, Role::Backchannel, "medmij-2025", &[]);
    assert_eq!(status(&j, REFUSAL_REVOKED), Status::NotTested);
    assert_eq!(status(&j, REFUSAL_SELF_SIGNED), Status::Pass);
}

/// A plain-HTTP server answering every request with `answer`.
fn http_server(answer: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            read_hello(&mut s);
            let _ = s.write_all(answer.as_bytes());
        }
    });
    port
}

/// A frontchannel TLS server (the policy's frontchannel config) that answers with `headers`.
fn front_server(pki: &Pki, headers: &'static str) -> u16 {
    use medmij_core::Profile;
    use rustls::pki_types::pem::PemObject;
    let e = pki.cat.entry("public-ov").unwrap();
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(pki.dir.join(&e.chain))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(pki.dir.join(&e.key)).unwrap();
    let policy =
        medmij_verify::tls_policy::TlsPolicy::new(&Profile::default_profile(), Default::default())
            .unwrap();
    let cfg = std::sync::Arc::new(policy.frontchannel_server(chain, key).unwrap());
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let mut s = s;
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut conn = rustls::ServerConnection::new(cfg).unwrap();
                let mut tls = rustls::Stream::new(&mut conn, &mut s);
                let mut buf = [0u8; 2048];
                if tls.read(&mut buf).is_ok() {
                    let _ = tls.write_all(headers.as_bytes());
                }
                let _ = tls.flush();
            });
        }
    });
    port
}

#[test]
fn frontchannel_http_redirect_and_hsts() {
    let pki = pki(KeyStyle::Ecdsa);
    let host = pki.cat.entry("public-ov").unwrap().hostnames[0].clone();
    let anchors = [pki.path("ca/public-ov-root.pem")];
    let good = front_server(&pki, "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=63072000\r\nContent-Length: 0\r\n\r\n");
    let redirect = http_server("HTTP/1.1 301 Moved Permanently\r\nLocation: https://front.example/\r\nContent-Length: 0\r\n\r\n");
    let f = scan(good, Role::Frontchannel, Some(&host), |o| {
        o.http_port = redirect
    });
    assert_eq!(
        f.handshake.hsts.as_deref(),
        Some("max-age=63072000"),
        "{}",
        dump(&f)
    );
    let j = judge(&f, Role::Frontchannel, "medmij-2025", &anchors);
    assert_eq!(
        status(&j, FRONTCHANNEL_HTTP_REDIRECT),
        Status::Pass,
        "{}",
        message(&j, FRONTCHANNEL_HTTP_REDIRECT)
    );
    assert_eq!(status(&j, FRONTCHANNEL_HSTS), Status::Info);
    assert_eq!(status(&j, TLS_CLIENT_CERTIFICATE), Status::Pass);
    assert_eq!(status(&j, REFUSAL_SELF_SIGNED), Status::NotApplicable);
    assert_eq!(
        status(&j, FRONTCHANNEL_OV_OR_BETTER),
        Status::Pass,
        "the served chain is judged as a frontchannel certificate"
    );
    // Nothing on port 80 is fine.
    let f = scan(good, Role::Frontchannel, Some(&host), |o| {
        o.http_port = free_port()
    });
    let j = judge(&f, Role::Frontchannel, "medmij-2025", &anchors);
    assert_eq!(status(&j, FRONTCHANNEL_HTTP_REDIRECT), Status::Pass);
    // Content over plain HTTP, a redirect to http, and no HSTS fail or warn.
    let bare = front_server(&pki, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    for (answer, want) in [
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "instead of a redirect",
        ),
        (
            "HTTP/1.1 302 Found\r\nLocation: http://front.example/\r\n\r\n",
            "not to https",
        ),
        ("SSH-2.0-OpenSSH_9.2\r\n", "not with an HTTP redirect"),
    ] {
        let plain = http_server(answer);
        let f = scan(bare, Role::Frontchannel, Some(&host), |o| {
            o.http_port = plain
        });
        let j = judge(&f, Role::Frontchannel, "medmij-2025", &anchors);
        assert_eq!(
            status(&j, FRONTCHANNEL_HTTP_REDIRECT),
            Status::Fail,
            "{answer:?}"
        );
        assert!(
            message(&j, FRONTCHANNEL_HTTP_REDIRECT).contains(want),
            "{}",
            message(&j, FRONTCHANNEL_HTTP_REDIRECT)
        );
        assert_eq!(status(&j, FRONTCHANNEL_HSTS), Status::Warning);
    }
}

#[test]
fn ipv6_targets_are_scanned() {
    use medmij_core::Profile;
    use rustls::pki_types::pem::PemObject;
    let pki = pki(KeyStyle::Ecdsa);
    let e = pki.cat.entry("public-ov").unwrap();
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(pki.dir.join(&e.chain))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(pki.dir.join(&e.key)).unwrap();
    let policy =
        medmij_verify::tls_policy::TlsPolicy::new(&Profile::default_profile(), Default::default())
            .unwrap();
    let cfg = std::sync::Arc::new(policy.frontchannel_server(chain, key).unwrap());
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        panic!("IPv6 loopback is required for this test (the machine has ::1)");
    };
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let mut s = s;
                let mut conn = rustls::ServerConnection::new(cfg).unwrap();
                let _ = conn.complete_io(&mut s);
            });
        }
    });
    let mut o = medmij_scan::ProbeOptions::new(Role::Frontchannel).unwrap();
    o.timeout = Duration::from_secs(3);
    o.http_port = free_port();
    let t = medmij_scan::targets::Target::parse(&format!("[::1]:{port}")).unwrap();
    let f = medmij_scan::probe::scan_endpoint(&t, &o);
    assert_eq!(f.address, format!("[::1]:{port}"));
    assert_eq!(f.sni, None, "an address gets no SNI");
    assert_eq!(
        f.versions,
        vec![ProtocolVersion::TLS13, ProtocolVersion::TLS12],
        "{}",
        dump(&f)
    );
    assert!(
        f.groups.iter().any(|g| g.code == 0x11EC),
        "the policy offers X25519MLKEM768: {}",
        dump(&f)
    );
    let j = judge(&f, Role::Frontchannel, "medmij-2025", &[]);
    assert_eq!(
        status(&j, TLS_CIPHER_ORDER),
        Status::Pass,
        "rustls enforces its order: {}",
        message(&j, TLS_CIPHER_ORDER)
    );
    assert_eq!(status(&j, TLS_DOWNGRADE_SENTINEL), Status::Pass);
}

/// nginx from Debian, configured as many nodes are: `ssl_verify_client on` with the G1 root.
struct Nginx {
    child: std::process::Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx(pki: &Pki, server: &str) -> Nginx {
    let dir = pki.path("nginx");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let port = free_port();
    let e = pki.cat.entry("g1-za").unwrap();
    let conf = format!(
        "daemon off; master_process on; worker_processes 1; user root; pid {d}/nginx.pid; error_log {d}/logs/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{ access_log off;\n\
           server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {chain}; ssl_certificate_key {key};\n\
             ssl_protocols TLSv1.2 TLSv1.3; {server}\n\
             location / {{ return 200 'ok'; }} }} }}\n",
        d = dir.display(),
        chain = pki.dir.join(&e.chain).display(),
        key = pki.dir.join(&e.key).display(),
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = std::process::Command::new("nginx")
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(dir.join("logs/error.log"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx is required for the scanner's interop tests: run scripts/test");
    let mut n = Nginx { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = n.child.try_wait() {
            let log = std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default();
            panic!("nginx exited {status}: {log}");
        }
        assert!(Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    n
}

/// nginx verifies the client certificate after the handshake and answers HTTP 400: the scanner
/// sees the request for a certificate, and calls both the missing and the bad certificate what
/// they are, an HTTP error after a finished handshake instead of a TLS alert (core.tls.308/309).
#[test]
fn nginx_verify_client_on_answers_http_400_after_the_handshake() {
    use medmij_scan::facts::{RefusalOutcome, RefusalProbe};
    let pki = pki(KeyStyle::Ecdsa);
    let root = pki.path("ca/g1-root.pem");
    let n = nginx(
        &pki,
        &format!(
            "ssl_verify_client on; ssl_verify_depth 3; ssl_client_certificate {};",
            root.display()
        ),
    );
    let f = scan(n.port, Role::Backchannel, Some(ZA), |_| {});
    assert_eq!(
        f.versions,
        vec![ProtocolVersion::TLS13, ProtocolVersion::TLS12],
        "{}",
        dump(&f)
    );
    assert!(f.handshake.certificate_requested && f.certificate_requested_tls12);
    assert_eq!(
        f.handshake.after.as_deref(),
        Some("http 400"),
        "{}",
        dump(&f)
    );
    assert_eq!(f.client_auth, ClientAuth::Optional);
    let outcome = |p: RefusalProbe| {
        f.refusals
            .iter()
            .find(|r| r.probe == p)
            .map(|r| r.outcome.clone())
    };
    assert_eq!(
        outcome(RefusalProbe::SelfSigned),
        Some(RefusalOutcome::Http { status: 400 })
    );
    assert_eq!(
        outcome(RefusalProbe::UnknownCa),
        Some(RefusalOutcome::Http { status: 400 })
    );
    let j = judge(
        &f,
        Role::Backchannel,
        "medmij-2025",
        std::slice::from_ref(&root),
    );
    assert_eq!(status(&j, TLS_CLIENT_CERTIFICATE), Status::Fail);
    assert!(
        message(&j, TLS_CLIENT_CERTIFICATE).contains("http 400"),
        "{}",
        message(&j, TLS_CLIENT_CERTIFICATE)
    );
    assert_eq!(status(&j, REFUSAL_SELF_SIGNED), Status::Fail);
    assert_eq!(
        status(&j, CHAIN_COMPLETE),
        Status::Pass,
        "nginx sends the chain file as is"
    );
    assert_eq!(status(&j, TLS_SECURE_RENEGOTIATION), Status::Pass);
    assert_eq!(status(&j, TLS_HIGHEST_VERSION), Status::Pass);
    assert_eq!(status(&j, TLS_DOWNGRADE_SENTINEL), Status::Pass);
}
