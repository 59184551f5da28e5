//! The catalogue checked by independent verifiers: `openssl verify` and rustls-webpki.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use medmij_testpki::catalogue::{Catalogue, Expect};
use medmij_testpki::hierarchy::Hierarchy;
use medmij_testpki::store::{pem_blocks, PkiDir};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::Path;
use webpki::{EndEntityCert, KeyUsage, RevocationOptionsBuilder};

fn certs(dir: &Path, rel: &str) -> Vec<Vec<u8>> {
    pem_blocks(
        &std::fs::read_to_string(dir.join(rel)).unwrap(),
        "CERTIFICATE",
    )
    .unwrap()
}

/// Now: the test PKI is made by the test, so every valid leaf's lifetime (relative to its init
/// time) contains it.
fn at() -> UnixTime {
    UnixTime::now()
}

fn webpki_verify(
    dir: &Path,
    cat: &Catalogue,
    id: &str,
    crls: &[Vec<u8>],
) -> Result<(), webpki::Error> {
    let e = cat.entry(id).unwrap();
    let root = certs(dir, &e.root).remove(0);
    let root_der = CertificateDer::from(root);
    let anchors = vec![webpki::anchor_from_trusted_cert(&root_der)
        .unwrap()
        .to_owned()];
    let chain = certs(dir, &e.chain);
    let leaf = CertificateDer::from(chain[0].clone());
    let inter: Vec<CertificateDer> = chain[1..]
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let ee = EndEntityCert::try_from(&leaf)?;
    let owned: Vec<webpki::OwnedCertRevocationList> = crls
        .iter()
        .map(|c| webpki::OwnedCertRevocationList::from_der(c).unwrap())
        .collect();
    let crl_refs: Vec<webpki::CertRevocationList> = owned.into_iter().map(Into::into).collect();
    let refs: Vec<&webpki::CertRevocationList> = crl_refs.iter().collect();
    let rev = if refs.is_empty() {
        None
    } else {
        Some(
            RevocationOptionsBuilder::new(&refs)
                .unwrap()
                .with_depth(webpki::RevocationCheckDepth::EndEntity)
                .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                .build(),
        )
    };
    let now = if crls.is_empty() {
        at()
    } else {
        UnixTime::now()
    };
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &inter,
        now,
        KeyUsage::server_auth(),
        rev,
        None,
    )?;
    let name = ServerName::try_from(e.hostnames[0].as_str()).unwrap();
    ee.verify_is_valid_for_subject_name(&name)
}

#[test]
fn catalogue_has_every_case_the_issue_lists() {
    let (_t, dir, cat) = fresh_pki(&[], "http://127.0.0.1:1");
    assert!(cat.entries.len() >= 20, "{} entries", cat.entries.len());
    for id in [
        "public-ov-wildcard",
        "public-dv",
        "g1-no-policy",
        "g1-client-auth-only",
        "g1-expired",
        "g1-not-yet-valid",
        "g1-revoked",
        "g1-unknown-root",
        "g1-self-signed",
        "g1-missing-intermediate",
        "g1-chain-with-root",
        "g1-sha1",
        "g1-rsa1024",
        "public-ov-multi-owner",
        "g4-ip-san",
        "g1-not-whitelisted",
    ] {
        let e = cat.entry(id).unwrap_or_else(|| panic!("missing {id}"));
        assert_eq!(e.expect, Expect::Invalid, "{id}");
        assert!(!e.violates.is_empty(), "{id}");
        for id in &e.violates {
            assert!(
                medmij_core::requirement::requirement_by_str(id).is_some(),
                "unknown requirement {id}"
            );
        }
    }
    let whitelist = std::fs::read_to_string(dir.join(&cat.whitelist)).unwrap();
    assert!(whitelist.contains("<Hostname>za.zorgaanbieder.example</Hostname>"));
    assert!(!whitelist.contains("rogue.onbekend.example"));
    // The file a reader gets back is the one written.
    let again = Catalogue::load(&PkiDir::new(&dir)).unwrap();
    assert_eq!(again.entries.len(), cat.entries.len());
}

#[test]
fn same_seed_gives_same_names_serials_and_p256_keys() {
    let (_a, da, ca) = fresh_pki(&[], "http://127.0.0.1:1");
    let (_b, db, cb) = fresh_pki(&[], "http://127.0.0.1:1");
    for (x, y) in ca.entries.iter().zip(&cb.entries) {
        assert_eq!(x.serial, y.serial);
        assert_eq!(
            std::fs::read(da.join(&x.key)).unwrap(),
            std::fs::read(db.join(&y.key)).unwrap(),
            "{}",
            x.id
        );
    }
}

#[test]
fn valid_entries_verify_with_webpki_and_invalid_chain_entries_do_not() {
    let (_t, dir, cat) = fresh_pki(&[], "http://127.0.0.1:1");
    for e in cat.entries.iter().filter(|e| e.id != "public-ov-wildcard") {
        let r = webpki_verify(&dir, &cat, &e.id, &[]);
        match e.id.as_str() {
            // Refused by any path validator.
            "g1-expired"
            | "g1-not-yet-valid"
            | "g1-unknown-root"
            | "g1-self-signed"
            | "g1-missing-intermediate"
            | "g1-sha1"
            | "g1-client-auth-only" => {
                assert!(r.is_err(), "{} should fail path validation", e.id)
            }
            // Everything else is a valid path; what is wrong with it is a MedMij rule on top.
            // (The RSA-1024 leaf too: webpki checks a leaf key's size only when it verifies a
            // handshake signature, so the verifier must check it itself.)
            _ => assert!(r.is_ok(), "{}: {r:?}", e.id),
        }
    }
}

#[test]
fn revoked_entry_fails_against_the_crl_and_valid_one_passes() {
    let (_t, dir, cat) = fresh_pki(&[], "http://127.0.0.1:1");
    let crl = std::fs::read(dir.join("crl/g1-tsp.crl")).unwrap();
    let r = webpki_verify(&dir, &cat, "g1-revoked", std::slice::from_ref(&crl));
    assert!(matches!(r, Err(webpki::Error::CertRevoked)), "{r:?}");
    webpki_verify(&dir, &cat, "g1-za", &[crl]).unwrap();
}

#[test]
fn g4_rsa_chain_is_pss_sha512_and_verifies() {
    let (_t, dir, cat) = fresh_pki(&[Hierarchy::G4], "http://127.0.0.1:1");
    let leaf = certs(&dir, &cat.entry("g4-za").unwrap().cert).remove(0);
    let (_, x) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    assert_eq!(
        x.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.10"
    );
    match x.public_key().parsed().unwrap() {
        x509_parser::public_key::PublicKey::RSA(r) => assert_eq!(r.key_size(), 3072),
        other => panic!("expected RSA, got {other:?}"),
    }
    webpki_verify(&dir, &cat, "g4-za", &[]).unwrap();
    let crl = std::fs::read(dir.join("crl/g4-tsp.crl")).unwrap();
    let r = webpki_verify(&dir, &cat, "g4-revoked", &[crl]);
    assert!(matches!(r, Err(webpki::Error::CertRevoked)), "{r:?}");
}

#[test]
fn openssl_verify_accepts_valid_entries_and_refuses_revoked_with_crl() {
    require_tool("openssl");
    let (_t, dir, cat) = fresh_pki(&[Hierarchy::G4], "http://127.0.0.1:1");
    for e in cat.entries.iter().filter(|e| e.expect == Expect::Valid) {
        // Split the chain file: leaf first, intermediates as -untrusted.
        let chain = certs(&dir, &e.chain);
        let inter: String = chain[1..]
            .iter()
            .map(|c| medmij_testpki::store::pem("CERTIFICATE", c))
            .collect();
        let inter_path = dir.join(format!("{}.untrusted.pem", e.id));
        std::fs::write(&inter_path, inter).unwrap();
        let (ok, out) = openssl(
            &[
                "verify",
                "-purpose",
                "sslserver",
                "-CAfile",
                &e.root,
                "-untrusted",
                inter_path.to_str().unwrap(),
                &e.cert,
            ],
            &dir,
        );
        assert!(ok, "{}: {out}", e.id);
    }
    let e = cat.entry("g1-revoked").unwrap();
    let crls = ["crl/g1-tsp.crl", "crl/g1-domain.crl", "crl/g1-root.crl"];
    let mut crl_pem = String::new();
    for c in crls {
        crl_pem.push_str(&medmij_testpki::store::pem(
            "X509 CRL",
            &std::fs::read(dir.join(c)).unwrap(),
        ));
    }
    std::fs::write(dir.join("crls.pem"), crl_pem).unwrap();
    let inter: String = certs(&dir, &e.chain)[1..]
        .iter()
        .map(|c| medmij_testpki::store::pem("CERTIFICATE", c))
        .collect();
    std::fs::write(dir.join("inter.pem"), inter).unwrap();
    let (ok, out) = openssl(
        &[
            "verify",
            "-crl_check_all",
            "-CRLfile",
            "crls.pem",
            "-purpose",
            "sslserver",
            "-CAfile",
            &e.root,
            "-untrusted",
            "inter.pem",
            &e.cert,
        ],
        &dir,
    );
    assert!(!ok && out.contains("revoked"), "{out}");
    let good = cat.entry("g1-za").unwrap();
    let (ok, out) = openssl(
        &[
            "verify",
            "-crl_check_all",
            "-CRLfile",
            "crls.pem",
            "-purpose",
            "sslserver",
            "-CAfile",
            &good.root,
            "-untrusted",
            "inter.pem",
            &good.cert,
        ],
        &dir,
    );
    assert!(ok, "{out}");
}

/// The test PKI's certificates are encoded and dated as PKIoverheid's are: C and the OIN as
/// PrintableString, node certificates of at most 397 days around the init time, each CA ending
/// before its issuer, G4 CAs with digitalSignature (they sign OCSP themselves), a short-lived
/// delegated responder, and a rogue root whose subject is byte for byte the G1 root's.
#[test]
fn the_test_pki_is_encoded_and_dated_like_pkioverheid() {
    use x509_parser::der_parser::asn1_rs::Tag;
    use x509_parser::prelude::*;
    let (_t, dir, cat) = fresh_pki(&[], "http://127.0.0.1:8990");
    let parse = |rel: &str| certs(&dir, rel).remove(0);
    let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
    let tag_of = |c: &X509Certificate<'_>, oid: &str| {
        c.subject()
            .iter_attributes()
            .find(|a| a.attr_type().to_id_string() == oid)
            .map(|a| a.attr_value().tag())
    };
    let za = parse("certs/g1-za/cert.pem");
    let (_, leaf) = X509Certificate::from_der(&za).unwrap();
    assert_eq!(
        tag_of(&leaf, "2.5.4.6"),
        Some(Tag::PrintableString),
        "countryName"
    );
    assert_eq!(
        tag_of(&leaf, "2.5.4.5"),
        Some(Tag::PrintableString),
        "OIN serialNumber"
    );
    let v = leaf.validity();
    let days = (v.not_after.timestamp() - v.not_before.timestamp()) / 86_400;
    assert!(days <= 397, "leaf valid {days} days");
    assert!(v.not_before.timestamp() < now && now < v.not_after.timestamp());
    // Each CA ends before the one that issued it.
    for (child, parent) in [
        ("g1-tsp", "g1-domain"),
        ("g1-domain", "g1-root"),
        ("g4-tsp", "g4-intm"),
        ("g4-intm", "g4-root"),
    ] {
        let c = parse(&format!("ca/{child}.pem"));
        let p = parse(&format!("ca/{parent}.pem"));
        let (_, c) = X509Certificate::from_der(&c).unwrap();
        let (_, p) = X509Certificate::from_der(&p).unwrap();
        assert!(
            c.validity().not_after < p.validity().not_after,
            "{child} outlives {parent}"
        );
        assert_eq!(
            tag_of(&c, "2.5.4.6"),
            Some(Tag::PrintableString),
            "{child} countryName"
        );
    }
    for ca in ["g4-root", "g4-intm", "g4-tsp"] {
        let der = parse(&format!("ca/{ca}.pem"));
        let (_, c) = X509Certificate::from_der(&der).unwrap();
        let ku = c.key_usage().unwrap().unwrap().value;
        assert!(
            ku.digital_signature() && ku.key_cert_sign() && ku.crl_sign(),
            "{ca}: {ku:?}"
        );
    }
    let responder = parse("ca/g1-tsp-ocsp.pem");
    let (_, r) = X509Certificate::from_der(&responder).unwrap();
    let life = (r.validity().not_after.timestamp() - r.validity().not_before.timestamp()) / 86_400;
    assert!(life <= 397, "nocheck responder valid {life} days");
    let g1 = parse("ca/g1-root.pem");
    let rogue = parse("ca/rogue-root.pem");
    let subject = |d: &[u8]| {
        X509Certificate::from_der(d)
            .unwrap()
            .1
            .subject()
            .as_raw()
            .to_vec()
    };
    assert_eq!(
        subject(&g1),
        subject(&rogue),
        "the rogue root is a look-alike"
    );
    assert_ne!(g1, rogue);
    assert!(cat.entry("g1-unknown-root").is_some());
}
