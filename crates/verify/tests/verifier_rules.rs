//! Verifier rules found missing or wrong in review, each shown with certificates made by openssl
//! (not the project's test PKI): a look-alike of the real G1 root, an expired anchor with a
//! cross-signed second path, an anchor past its cut-off with another path, wildcard and
//! keyCertSign leaves, a server peer checked without a hostname, brainpool keys.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use medmij_core::profile::{AnchorSpec, FailMode, Sha256Fingerprint};
use medmij_core::{Environment, Profile};
use medmij_verify::anchors::TrustStore;
use medmij_verify::http::HttpClient;
use medmij_verify::refusal::Code;
use medmij_verify::revocation::{Engine, Policy};
use medmij_verify::verifier::{Peer, Verdict, Verifier};
use medmij_verify::whitelist::Whitelist;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::openssl::{openssl, pem_der, OpensslCa};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn shared(rel: &str) -> PathBuf {
    std::env::var_os("MEDMIJ_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join(rel)
}

fn no_revocation() -> Arc<Engine> {
    Arc::new(Engine::new(
        Policy {
            crl: FailMode::Off,
            ocsp: FailMode::Off,
            ..Policy::default()
        },
        HttpClient::default(),
        vec![],
    ))
}

fn store(profile: &Profile, env: Environment, anchors: &[&Path]) -> TrustStore {
    TrustStore::from_ders(
        profile,
        env,
        anchors.iter().map(|p| pem_der(p)).collect(),
        "openssl fixture",
    )
    .unwrap()
}

fn codes(v: &Verdict) -> Vec<Code> {
    v.reasons.iter().map(|r| r.code).collect()
}

const LEAF_EXT: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:node.example\n";

fn server(host: &str) -> Peer {
    Peer::Server {
        hostname: Some(host.into()),
    }
}

#[test]
fn a_look_alike_of_the_real_g1_root_is_an_unknown_ca_not_a_bad_signature() {
    let real = shared("reference/pkioverheid/staat-der-nederlanden-private-root-ca-g1.pem");
    let t = tempfile::tempdir().unwrap();
    // An RSA look-alike (same key type as the real root: the signature fails to verify) and an
    // EC one (the signature algorithm does not fit the real root's key).
    for (name, key) in [
        ("rsa", &["-newkey", "rsa:2048"][..]),
        (
            "ec",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
        ),
    ] {
        let fake = OpensslCa::with_key(
            t.path(),
            name,
            "/C=NL/O=Staat der Nederlanden/CN=Staat der Nederlanden Private Root CA - G1",
            3650,
            key,
        );
        // Byte-identical subject, other key: a look-alike, not a near miss.
        let subject = |p: &Path| {
            let der = pem_der(p);
            let (_, c) = x509_parser::parse_x509_certificate(&der).unwrap();
            c.subject().as_raw().to_vec()
        };
        assert_eq!(subject(&real), subject(&fake.cert()));
        let leaf = fake.issue("node.example", LEAF_EXT, 300);
        let v = Verifier::new(
            store(
                &Profile::default_profile(),
                Environment::Production,
                &[&real],
            ),
            no_revocation(),
        )
        .verify(&pem_der(&leaf), &[], &server("node.example"), None, now());
        assert_eq!(codes(&v), vec![Code::UnknownIssuer], "{name}: {v:?}");
        let r = &v.reasons[0];
        assert_eq!(r.requirement, medmij_core::ids::CORE_TLS_311);
        assert_eq!(r.alert().name(), "unknown_ca");
    }
}

/// Root A and root B both sign intermediate I (same name and key); I signs the leaf. Returns
/// (A, B, I signed by A, I signed by B, leaf). A is valid `a_days`.
fn cross_signed(dir: &Path, a_days: u32) -> (PathBuf, PathBuf, PathBuf, PathBuf, PathBuf) {
    let a = OpensslCa::new(dir, "a", "/C=NL/O=Fixture/CN=Root A", a_days);
    let b = OpensslCa::new(dir, "b", "/C=NL/O=Fixture/CN=Root B", 3650);
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "i.key",
            "-out",
            "i.csr",
            "-subj",
            "/C=NL/O=Fixture/CN=Intermediate I",
        ],
    );
    std::fs::write(
        dir.join("i.ext"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    for (root, out) in [(&a, "i-by-a.pem"), (&b, "i-by-b.pem")] {
        let ca = root.cert();
        let key = root.dir.join("ca.key");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "i.csr",
                "-CA",
                ca.to_str().unwrap(),
                "-CAkey",
                key.to_str().unwrap(),
                "-set_serial",
                "7",
                "-days",
                "3000",
                "-extfile",
                "i.ext",
                "-out",
                out,
            ],
        );
    }
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/C=NL/O=Fixture/CN=node.example",
        ],
    );
    std::fs::write(dir.join("leaf.ext"), LEAF_EXT).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "i-by-a.pem",
            "-CAkey",
            "i.key",
            "-set_serial",
            "99",
            "-days",
            "300",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    (
        a.cert(),
        b.cert(),
        dir.join("i-by-a.pem"),
        dir.join("i-by-b.pem"),
        dir.join("leaf.pem"),
    )
}

#[test]
fn an_expired_anchor_is_refused_and_another_path_to_a_valid_anchor_is_taken() {
    let t = tempfile::tempdir().unwrap();
    let (a, b, ia, ib, leaf) = cross_signed(t.path(), 1);
    let at = now() + 3 * 86_400; // root A has expired, the rest is valid
    let profile = Profile::default_profile();
    let only_a = Verifier::new(store(&profile, Environment::Test, &[&a]), no_revocation());
    let v = only_a.verify(
        &pem_der(&leaf),
        &[&pem_der(&ia)],
        &server("node.example"),
        None,
        at,
    );
    assert_eq!(codes(&v), vec![Code::AnchorExpired], "{v:?}");
    assert_eq!(v.reasons[0].alert().name(), "certificate_expired");

    let both = Verifier::new(
        store(&profile, Environment::Test, &[&a, &b]),
        no_revocation(),
    );
    let v = both.verify(
        &pem_der(&leaf),
        &[&pem_der(&ia), &pem_der(&ib)],
        &server("node.example"),
        None,
        at,
    );
    assert!(v.accepted, "the path through root B was not tried: {v:?}");
    assert!(v
        .chain
        .iter()
        .any(|c| c.role == "anchor" && c.subject.contains("Root B")));
}

#[test]
fn an_anchor_past_its_cut_off_leaves_room_for_another_path() {
    let t = tempfile::tempdir().unwrap();
    let (a, b, ia, ib, leaf) = cross_signed(t.path(), 3650);
    let mut profile = Profile::default_profile();
    let sha: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &pem_der(&a))
        .as_ref()
        .try_into()
        .unwrap();
    profile.backchannel.anchors.push(AnchorSpec {
        name: "Root A".into(),
        subject: "C=NL, O=Fixture, CN=Root A".into(),
        sha256: Sha256Fingerprint(sha),
        publication_url: None,
        trusted_until: Some(time::OffsetDateTime::now_utc() - time::Duration::days(1)),
    });
    let v = Verifier::new(
        store(&profile, Environment::Test, &[&a, &b]),
        no_revocation(),
    )
    .verify(
        &pem_der(&leaf),
        &[&pem_der(&ia), &pem_der(&ib)],
        &server("node.example"),
        None,
        now(),
    );
    assert!(v.accepted, "{v:?}");
    // With only A it is refused for its cut-off.
    let v = Verifier::new(store(&profile, Environment::Test, &[&a]), no_revocation()).verify(
        &pem_der(&leaf),
        &[&pem_der(&ia)],
        &server("node.example"),
        None,
        now(),
    );
    assert_eq!(codes(&v), vec![Code::AnchorNoLongerTrusted], "{v:?}");
}

#[test]
fn backchannel_verifiers_refuse_wildcard_names_with_core_tls_314() {
    let t = tempfile::tempdir().unwrap();
    let ca = OpensslCa::new(t.path(), "ca", "/C=NL/O=Fixture/CN=Wildcard Root", 3650);
    let leaf = ca.issue(
        "wild",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:*.zorg.example\n",
        300,
    );
    let trust = || {
        store(
            &Profile::default_profile(),
            Environment::Test,
            &[&ca.cert()],
        )
    };
    let peer = server("node.zorg.example");
    let v = Verifier::new(trust(), no_revocation())
        .forbid_wildcards()
        .verify(&pem_der(&leaf), &[], &peer, None, now());
    assert_eq!(codes(&v), vec![Code::WildcardName], "{v:?}");
    assert_eq!(v.reasons[0].requirement, medmij_core::ids::CORE_TLS_314);
    // Without the backchannel rule, webpki's name matching accepts the wildcard.
    let v =
        Verifier::new(trust(), no_revocation()).verify(&pem_der(&leaf), &[], &peer, None, now());
    assert!(v.accepted, "{v:?}");
}

#[test]
fn leaves_that_can_sign_certificates_or_carry_any_eku_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let ca = OpensslCa::new(t.path(), "ca", "/C=NL/O=Fixture/CN=Leaf Rules Root", 3650);
    let trust = || {
        store(
            &Profile::default_profile(),
            Environment::Test,
            &[&ca.cert()],
        )
    };
    for (name, ext, code) in [
        (
            "signer",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:node.example\n",
            Code::LeafKeyCertSign,
        ),
        (
            "anyeku",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=anyExtendedKeyUsage\nsubjectAltName=DNS:node.example\n",
            Code::EkuMissingServerAuth,
        ),
        (
            "anyeku-and-server",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,anyExtendedKeyUsage\nsubjectAltName=DNS:node.example\n",
            Code::EkuMissingServerAuth,
        ),
    ] {
        let leaf = ca.issue(name, ext, 300);
        let v = Verifier::new(trust(), no_revocation()).verify(
            &pem_der(&leaf),
            &[],
            &server("node.example"),
            None,
            now(),
        );
        assert!(codes(&v).contains(&code), "{name}: {v:?}");
    }
}

#[test]
fn a_server_peer_without_a_hostname_is_still_checked_against_the_whitelist() {
    let t = tempfile::tempdir().unwrap();
    let ca = OpensslCa::new(t.path(), "ca", "/C=NL/O=Fixture/CN=Whitelist Root", 3650);
    let leaf = ca.issue("node.example", LEAF_EXT, 300);
    let wl = |host: &str| {
        Arc::new(
            Whitelist::parse(
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Whitelist xmlns=\"{}\"><Tijdstempel>2026-01-01T00:00:00+01:00</Tijdstempel><Volgnummer>1</Volgnummer><MedMijNodes><MedMijNode><Hostname>{host}</Hostname></MedMijNode></MedMijNodes></Whitelist>",
                    medmij_verify::whitelist::NAMESPACE
                )
                .as_bytes(),
                "test",
            )
            .unwrap(),
        )
    };
    let trust = || {
        store(
            &Profile::default_profile(),
            Environment::Test,
            &[&ca.cert()],
        )
    };
    let nameless = Peer::Server { hostname: None };
    let off_list = Verifier::new(trust(), no_revocation()).with_whitelist(wl("other.example"));
    let v = off_list.verify(&pem_der(&leaf), &[], &nameless, None, now());
    assert_eq!(codes(&v), vec![Code::NotWhitelisted], "{v:?}");
    let on_list = Verifier::new(trust(), no_revocation()).with_whitelist(wl("node.example"));
    assert!(
        on_list
            .verify(&pem_der(&leaf), &[], &nameless, None, now())
            .accepted
    );
}

/// A leaf for node.example with a key made by `openssl req` `key_opts`, issued by a fresh
/// openssl CA; the verdict of a verifier trusting that CA.
fn verdict_for_leaf_key(key_opts: &[&str]) -> Verdict {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let ca = OpensslCa::new(dir, "ca", "/C=NL/O=Fixture/CN=Key Root", 3650);
    let mut req = vec!["req"];
    req.extend_from_slice(key_opts);
    req.extend([
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/C=NL/O=Fixture/CN=node.example",
    ]);
    openssl(dir, &req);
    std::fs::write(dir.join("leaf.ext"), LEAF_EXT).unwrap();
    let ca_key = ca.dir.join("ca.key");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            ca.cert().to_str().unwrap(),
            "-CAkey",
            ca_key.to_str().unwrap(),
            "-set_serial",
            "5",
            "-days",
            "300",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    Verifier::new(
        store(
            &Profile::default_profile(),
            Environment::Test,
            &[&ca.cert()],
        ),
        no_revocation(),
    )
    .verify(
        &pem_der(&dir.join("leaf.pem")),
        &[],
        &server("node.example"),
        None,
        now(),
    )
}

#[test]
fn a_brainpool_leaf_is_refused_because_rustls_cannot_use_it_not_because_ncsc_rates_it_weak() {
    let v = verdict_for_leaf_key(&[
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:brainpoolP256r1",
    ]);
    assert!(codes(&v).contains(&Code::WeakKey), "{v:?}");
    let msg = &v
        .reasons
        .iter()
        .find(|r| r.code == Code::WeakKey)
        .unwrap()
        .message;
    assert!(msg.contains("rustls cannot use it"), "{msg}");
    assert!(msg.contains("rates it sufficient"), "{msg}");
}

#[test]
fn an_ed448_leaf_is_refused_because_rustls_cannot_use_it() {
    let v = verdict_for_leaf_key(&["-newkey", "ed448"]);
    let msg = &v
        .reasons
        .iter()
        .find(|r| r.code == Code::WeakKey)
        .unwrap()
        .message;
    assert!(
        msg.contains("Ed448") && msg.contains("rustls cannot use it"),
        "{msg}"
    );
}
