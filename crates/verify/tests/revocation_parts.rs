//! CRL and OCSP parsing and validation against the test PKI's real output.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

use medmij_testpki::hierarchy::Hierarchy;
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use medmij_testpki::ocsp::Responder;
use medmij_testpki::store::{pem_blocks, PkiDir};
use medmij_verify::crl::{CrlError, CrlIssuer, IndexedCrl};
use medmij_verify::ocsp::{self, OcspError, Status, Subject};
use std::path::Path;

fn pki(rsa_g4: bool) -> (tempfile::TempDir, PkiDir) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("pki");
    let mut opts = InitOptions {
        key_style: KeyStyle::Ecdsa,
        base_url: "http://127.0.0.1:9".into(),
        ..Default::default()
    };
    if rsa_g4 {
        opts.key_style_for.insert(Hierarchy::G4, KeyStyle::Rsa);
    }
    init(&dir, &opts).unwrap();
    (t, PkiDir::new(dir))
}

fn cert(dir: &Path, rel: &str) -> Vec<u8> {
    pem_blocks(
        &std::fs::read_to_string(dir.join(rel)).unwrap(),
        "CERTIFICATE",
    )
    .unwrap()
    .remove(0)
}

struct Parsed {
    subject: Vec<u8>,
    spki: Vec<u8>,
    serial: Vec<u8>,
}

fn parsed(der: &[u8]) -> Parsed {
    let (_, x) = x509_parser::parse_x509_certificate(der).unwrap();
    Parsed {
        subject: x.subject().as_raw().to_vec(),
        spki: x.public_key().raw.to_vec(),
        serial: x.raw_serial().to_vec(),
    }
}

#[test]
fn crls_of_the_test_pki_parse_verify_and_list_the_revoked_serial() {
    for rsa in [false, true] {
        let (_t, dir) = pki(rsa);
        for (ca, revoked) in [
            ("g1-tsp", "certs/g1-revoked/cert.pem"),
            ("g4-tsp", "certs/g4-revoked/cert.pem"),
        ] {
            let ca_cert = parsed(&cert(dir.root(), &format!("ca/{ca}.pem")));
            let der = std::fs::read(dir.path(&format!("crl/{ca}.crl"))).unwrap();
            let crl = IndexedCrl::parse(
                &der,
                ca,
                CrlIssuer {
                    subject: &ca_cert.subject,
                    spki: &ca_cert.spki,
                },
                1 << 20,
            )
            .unwrap();
            assert_eq!(crl.len(), 1, "{ca}");
            assert!(crl.is_revoked(&parsed(&cert(dir.root(), revoked)).serial));
            assert!(!crl.is_revoked(&parsed(&cert(dir.root(), "certs/g1-za/cert.pem")).serial));
            assert!(crl.next_update.unwrap() > crl.this_update);
            assert_eq!(crl.number.as_deref(), Some("01"));
        }
    }
}

#[test]
fn crl_from_another_issuer_tampered_or_oversized_is_refused() {
    let (_t, dir) = pki(false);
    let tsp = parsed(&cert(dir.root(), "ca/g1-tsp.pem"));
    let dom = parsed(&cert(dir.root(), "ca/g1-domain.pem"));
    let der = std::fs::read(dir.path("crl/g1-tsp.crl")).unwrap();
    let as_dom = IndexedCrl::parse(
        &der,
        "x",
        CrlIssuer {
            subject: &dom.subject,
            spki: &dom.spki,
        },
        1 << 20,
    )
    .unwrap_err();
    assert!(
        matches!(as_dom, CrlError::IssuerMismatch { .. }),
        "{as_dom}"
    );
    let wrong_key = IndexedCrl::parse(
        &der,
        "x",
        CrlIssuer {
            subject: &tsp.subject,
            spki: &dom.spki,
        },
        1 << 20,
    )
    .unwrap_err();
    assert!(
        matches!(wrong_key, CrlError::Signature { .. }),
        "{wrong_key}"
    );
    let mut flipped = der.clone();
    let n = flipped.len();
    flipped[n - 10] ^= 1;
    assert!(IndexedCrl::parse(
        &flipped,
        "x",
        CrlIssuer {
            subject: &tsp.subject,
            spki: &tsp.spki
        },
        1 << 20
    )
    .is_err());
    for cut in [1, 10, der.len() / 2, der.len() - 1] {
        let e = IndexedCrl::parse(
            &der[..cut],
            "x",
            CrlIssuer {
                subject: &tsp.subject,
                spki: &tsp.spki,
            },
            1 << 20,
        )
        .unwrap_err();
        assert!(matches!(e, CrlError::Malformed { .. }), "{cut}: {e}");
    }
    let e = IndexedCrl::parse(
        &der,
        "x",
        CrlIssuer {
            subject: &tsp.subject,
            spki: &tsp.spki,
        },
        100,
    )
    .unwrap_err();
    assert!(matches!(e, CrlError::TooLarge { .. }), "{e}");
}

fn ocsp_for(dir: &PkiDir, ca: &str, leaf: &str) -> (Vec<u8>, Parsed, Parsed) {
    let ca_c = parsed(&cert(dir.root(), &format!("ca/{ca}.pem")));
    let leaf_c = parsed(&cert(dir.root(), leaf));
    let subject = Subject {
        serial: &leaf_c.serial,
        issuer_name: &ca_c.subject,
        issuer_spki: &ca_c.spki,
    };
    let req = ocsp::request(&subject).unwrap();
    let responder = Responder::load(dir).unwrap();
    let (resp, _) = responder.respond(
        &req,
        &dir.revocations().unwrap(),
        time::OffsetDateTime::now_utc(),
    );
    (resp, ca_c, leaf_c)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn delegated_and_issuer_signed_pss_responses_validate() {
    let (_t, dir) = pki(true);
    for (ca, leaf, want_revoked, signer) in [
        ("g1-tsp", "certs/g1-za/cert.pem", false, "delegated"),
        ("g1-tsp", "certs/g1-revoked/cert.pem", true, "delegated"),
        ("g4-tsp", "certs/g4-za/cert.pem", false, "issuer"),
        ("g4-tsp", "certs/g4-revoked/cert.pem", true, "issuer"),
    ] {
        let (resp, ca_c, leaf_c) = ocsp_for(&dir, ca, leaf);
        let subject = Subject {
            serial: &leaf_c.serial,
            issuer_name: &ca_c.subject,
            issuer_spki: &ca_c.spki,
        };
        let a = ocsp::validate(&resp, &subject, now()).unwrap_or_else(|e| panic!("{leaf}: {e}"));
        assert_eq!(
            matches!(a.status, Status::Revoked { .. }),
            want_revoked,
            "{leaf}"
        );
        assert!(a.signer.starts_with(signer), "{leaf}: {}", a.signer);
        // A day and a half later the answer is stale; before it was made it is not yet valid.
        assert!(matches!(
            ocsp::validate(&resp, &subject, now() + 36 * 3600),
            Err(OcspError::Stale(_))
        ));
        assert!(matches!(
            ocsp::validate(&resp, &subject, now() - 3600),
            Err(OcspError::NotYetValid(_))
        ));
    }
}

#[test]
fn ocsp_responses_for_another_cert_wrong_signer_or_garbage_are_refused() {
    let (_t, dir) = pki(false);
    let (resp, ca_c, _) = ocsp_for(&dir, "g1-tsp", "certs/g1-za/cert.pem");
    let other = parsed(&cert(dir.root(), "certs/g1-pgo/cert.pem"));
    let s = Subject {
        serial: &other.serial,
        issuer_name: &ca_c.subject,
        issuer_spki: &ca_c.spki,
    };
    assert!(matches!(
        ocsp::validate(&resp, &s, now()),
        Err(OcspError::NotForThisCertificate(_))
    ));
    // Judged as if issued by the G4 TSP: the delegated responder is not that issuer's.
    let g4 = parsed(&cert(dir.root(), "ca/g4-tsp.pem"));
    let za = parsed(&cert(dir.root(), "certs/g1-za/cert.pem"));
    let s = Subject {
        serial: &za.serial,
        issuer_name: &g4.subject,
        issuer_spki: &g4.spki,
    };
    assert!(matches!(
        ocsp::validate(&resp, &s, now()),
        Err(OcspError::UnauthorisedSigner(_))
    ));
    let s = Subject {
        serial: &za.serial,
        issuer_name: &ca_c.subject,
        issuer_spki: &ca_c.spki,
    };
    let mut flipped = resp.clone();
    let n = flipped.len();
    flipped[n - 5] ^= 0x40;
    assert!(ocsp::validate(&flipped, &s, now()).is_err());
    for cut in [0, 3, resp.len() / 2] {
        assert!(
            matches!(
                ocsp::validate(&resp[..cut], &s, now()),
                Err(OcspError::Malformed(_))
            ),
            "{cut}"
        );
    }
    assert!(matches!(
        ocsp::validate(&[0x30, 0x03, 0x0a, 0x01, 0x01], &s, now()),
        Err(OcspError::NotSuccessful(_))
    ));
}
