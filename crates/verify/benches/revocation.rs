//! Benchmarks for the revocation engine and the handshake path (`scripts/bench` runs them in
//! release mode beside the anchor tool, `openssl crl`, on the same machine).
//!
//! 1. A CRL with 1,000,000 revoked serials: load + index time, lookup time per serial, memory.
//!    Goals (issue 3): load < 2 s, lookup < 1 µs, memory < 3x the DER size.
//! 2. A verification with warm caches (chain + stapled OCSP + cached CRL for the intermediates):
//!    goal < 100 µs; with rustls-webpki's bare path validation as the baseline.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

use medmij_core::profile::FailMode;
use medmij_core::{Environment, Profile};
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use medmij_testpki::store::{pem_blocks, PkiDir};
use medmij_verify::anchors::TrustStore;
use medmij_verify::crl::{CrlIssuer, IndexedCrl};
use medmij_verify::http::HttpClient;
use medmij_verify::revocation::{Engine, Policy};
use medmij_verify::verifier::{Peer, Verifier};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, IsCa, Issuer, KeyIdMethod, KeyPair,
    RevokedCertParams, SerialNumber,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|p| p * 4096)
        .unwrap_or(0)
}

fn big_crl(n: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<Vec<u8>>) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Bench CA");
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = p.self_signed(&key).unwrap();
    let (_, x) = x509_parser::parse_x509_certificate(ca.der()).unwrap();
    let subject = x.subject().as_raw().to_vec();
    let spki = x.public_key().raw.to_vec();
    let issuer = Issuer::new(p, &key);
    let now = time::OffsetDateTime::now_utc();
    let mut serials = Vec::with_capacity(n as usize);
    let revoked: Vec<RevokedCertParams> = (0..n)
        .map(|i| {
            // 16-byte serials like real CAs (random-looking, positive).
            let h = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &i.to_be_bytes());
            let mut s = h.as_ref()[..16].to_vec();
            s[0] = (s[0] & 0x7f) | 0x40;
            serials.push(s.clone());
            RevokedCertParams {
                serial_number: SerialNumber::from_slice(&s),
                revocation_time: now,
                reason_code: None,
                invalidity_date: None,
            }
        })
        .collect();
    let crl = CertificateRevocationListParams {
        this_update: now,
        next_update: now + time::Duration::days(7),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    (crl.der().to_vec(), subject, spki, serials)
}

fn per_op(d: Duration, n: u32) -> String {
    let ns = d.as_nanos() as f64 / f64::from(n);
    if ns < 1000.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{:.1} µs", ns / 1000.0)
    }
}

fn main() {
    let n: u32 = std::env::var("CRL_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    println!("== CRL with {n} revoked serials");
    let t = Instant::now();
    let (der, subject, spki, serials) = big_crl(n);
    println!(
        "generated in {:.2} s: {} bytes DER",
        t.elapsed().as_secs_f64(),
        der.len()
    );
    let path = std::env::var("CRL_OUT").unwrap_or_else(|_| "target/bench-1m.crl".into());
    std::fs::write(&path, &der).unwrap();
    println!("written to {path} (for the openssl anchor)");

    let before = rss_bytes();
    let t = Instant::now();
    let crl = IndexedCrl::parse(
        &der,
        "bench",
        CrlIssuer {
            subject: &subject,
            spki: &spki,
        },
        usize::MAX,
    )
    .unwrap();
    let load = t.elapsed();
    let after = rss_bytes();
    println!(
        "load+verify+index: {:.3} s ({} entries)",
        load.as_secs_f64(),
        crl.len()
    );
    println!(
        "index heap: {:.1} MB = {:.2}x the DER; RSS grew {:.1} MB = {:.2}x",
        crl.heap_bytes() as f64 / 1e6,
        crl.heap_bytes() as f64 / der.len() as f64,
        after.saturating_sub(before) as f64 / 1e6,
        after.saturating_sub(before) as f64 / der.len() as f64
    );
    let lookups = 2_000_000u32;
    let t = Instant::now();
    let mut hits = 0u32;
    for i in 0..lookups {
        let s = &serials[(i as usize * 7919) % serials.len()];
        if crl.is_revoked(s) {
            hits += 1;
        }
    }
    let hit_time = t.elapsed();
    let miss: Vec<Vec<u8>> = (0..1000u32)
        .map(|i| {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("miss{i}").as_bytes())
                .as_ref()[..16]
                .to_vec()
        })
        .collect();
    let t = Instant::now();
    for i in 0..lookups {
        if crl.is_revoked(&miss[i as usize % miss.len()]) {
            hits += 1;
        }
    }
    let miss_time = t.elapsed();
    assert_eq!(hits, lookups);
    println!(
        "lookup: {} per hit, {} per miss",
        per_op(hit_time, lookups),
        per_op(miss_time, lookups)
    );

    println!("\n== handshake path with warm caches");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    // Nothing listens on port 9: every fetch would fail, so only warm caches can answer.
    init(
        &dir,
        &InitOptions {
            key_style: KeyStyle::Ecdsa,
            base_url: "http://127.0.0.1:9".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let pd = PkiDir::new(&dir);
    let chain = pem_blocks(
        &std::fs::read_to_string(dir.join("certs/g1-za/chain.pem")).unwrap(),
        "CERTIFICATE",
    )
    .unwrap();
    let crl_files: Vec<(String, Vec<u8>)> = ["g1-domain", "g1-root"]
        .iter()
        .map(|c| {
            (
                c.to_string(),
                std::fs::read(dir.join(format!("crl/{c}.crl"))).unwrap(),
            )
        })
        .collect();
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let (_, tsp) = x509_parser::parse_x509_certificate(&chain[1]).unwrap();
    let subject = medmij_verify::ocsp::Subject {
        serial: leaf.raw_serial(),
        issuer_name: tsp.subject().as_raw(),
        issuer_spki: tsp.public_key().raw,
    };
    let req = medmij_verify::ocsp::request(&subject).unwrap();
    let staple = medmij_testpki::ocsp::Responder::load(&pd)
        .unwrap()
        .respond(
            &req,
            &pd.revocations().unwrap(),
            time::OffsetDateTime::now_utc(),
        )
        .0;
    let profile = Profile::default_profile();
    let anchors =
        TrustStore::load(&profile, Environment::Test, &[dir.join("ca/g1-root.pem")]).unwrap();
    let engine = Arc::new(Engine::new(
        Policy {
            ocsp: FailMode::Soft,
            ..Policy::default()
        },
        HttpClient::new(Duration::from_millis(200), 1 << 20, None),
        crl_files,
    ));
    let v = Verifier::new(anchors, engine);
    let inter: Vec<&[u8]> = chain[1..].iter().map(Vec::as_slice).collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let peer = Peer::Server {
        hostname: Some("za.zorgaanbieder.example".into()),
    };
    let first = v.verify(&chain[0], &inter, &peer, Some(&staple), now);
    assert!(first.accepted, "{:#?}", first.reasons);
    let iters = 5000u32;
    let t = Instant::now();
    for _ in 0..iters {
        let verdict = v.verify(&chain[0], &inter, &peer, Some(&staple), now);
        assert!(verdict.accepted);
    }
    let reported = t.elapsed();
    println!(
        "MedMij verify() with the chain report (CLI): {} per verification",
        per_op(reported, iters)
    );
    let t = Instant::now();
    for _ in 0..iters {
        let verdict = v.decide(&chain[0], &inter, &peer, Some(&staple), now);
        assert!(verdict.accepted);
    }
    let full = t.elapsed();
    println!("MedMij decide() on the handshake path (path + EKU + key + stapled OCSP + CRL for 2 intermediates + name): {} per verification", per_op(full, iters));
    let root = pem_blocks(
        &std::fs::read_to_string(dir.join("ca/g1-root.pem")).unwrap(),
        "CERTIFICATE",
    )
    .unwrap()
    .remove(0);
    let root_der = rustls_pki_types::CertificateDer::from(root);
    let ta = vec![webpki::anchor_from_trusted_cert(&root_der)
        .unwrap()
        .to_owned()];
    let inter_der: Vec<rustls_pki_types::CertificateDer> = chain[1..]
        .iter()
        .map(|c| rustls_pki_types::CertificateDer::from(c.clone()))
        .collect();
    let leaf_der = rustls_pki_types::CertificateDer::from(chain[0].clone());
    let time_now = rustls_pki_types::UnixTime::now();
    let t = Instant::now();
    for _ in 0..iters {
        let ee = webpki::EndEntityCert::try_from(&leaf_der).unwrap();
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &ta,
            &inter_der,
            time_now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .unwrap();
    }
    let bare = t.elapsed();
    println!(
        "baseline rustls-webpki path validation alone: {} per verification (ratio {:.1}x)",
        per_op(bare, iters),
        full.as_secs_f64() / bare.as_secs_f64()
    );
    let counts = v.revocation().counters().snapshot();
    println!("revocation counters: {counts:?}");
}
