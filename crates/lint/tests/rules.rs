//! The lint rules on certificates made here with rcgen (not by the test PKI), each with a failing
//! and a passing case, and hostile files that must give findings or a clear error, never a panic.
#![allow(clippy::unwrap_used)]

use medmij_core::outcome::Status;
use medmij_core::{Environment, Profile};
use medmij_lint::{FileReport, Linter, Options, Role};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose as Ku,
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;

const DAY: time::Duration = time::Duration::days(1);

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

fn ca(cn: &str, org: &str, country: &str, parent: Option<&Ca>) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name.push(DnType::OrganizationName, org);
    p.distinguished_name.push(DnType::CountryName, country);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![Ku::KeyCertSign, Ku::CrlSign];
    p.not_before = OffsetDateTime::now_utc() - DAY * 400;
    p.not_after = OffsetDateTime::now_utc() + DAY * 3000;
    let key = KeyPair::generate().unwrap();
    let der = match parent {
        None => p.self_signed(&key).unwrap().der().to_vec(),
        Some(par) => p
            .signed_by(&key, &Issuer::from_params(&par.params, &par.key))
            .unwrap()
            .der()
            .to_vec(),
    };
    Ca {
        params: p,
        key,
        der,
    }
}

/// A leaf for `names` under `ca`, shaped by `f` (defaults: ECDSA P-256, OV policy, 90 days,
/// digitalSignature, serverAuth).
fn leaf(ca: &Ca, names: &[&str], f: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.key_usages = vec![Ku::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = OffsetDateTime::now_utc() - DAY;
    p.not_after = p.not_before + DAY * 90 - time::Duration::seconds(1);
    p.custom_extensions
        .push(medmij_testpki::ext::certificate_policies(&["2.23.140.1.2.2"]).unwrap());
    f(&mut p);
    let key = KeyPair::generate().unwrap();
    p.signed_by(&key, &Issuer::from_params(&ca.params, &ca.key))
        .unwrap()
        .der()
        .to_vec()
}

fn pem(ders: &[&[u8]]) -> Vec<u8> {
    use base64::Engine;
    let mut s = String::new();
    for d in ders {
        s.push_str("-----BEGIN CERTIFICATE-----\n");
        let b = base64::engine::general_purpose::STANDARD.encode(d);
        for chunk in b.as_bytes().chunks(64) {
            s.push_str(std::str::from_utf8(chunk).unwrap());
            s.push('\n');
        }
        s.push_str("-----END CERTIFICATE-----\n");
    }
    s.into_bytes()
}

fn linter(dir: &Path, role: Role, anchors: &[&Ca]) -> Linter {
    let files: Vec<PathBuf> = anchors
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let p = dir.join(format!("anchor{i}-{}.pem", rand_suffix()));
            std::fs::write(&p, pem(&[&a.der])).unwrap();
            p
        })
        .collect();
    Linter::new(Options {
        role,
        profile: Profile::builtin("medmij-2025").unwrap(),
        environment: Environment::Production,
        at: OffsetDateTime::now_utc().unix_timestamp(),
        trust_anchors: files,
        crl_files: vec![],
        revocation: None,
        fetch_timeout: Duration::from_secs(2),
        dns: None,
        caa_identifiers: vec![],
    })
    .unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn status(r: &FileReport, check: &str) -> Status {
    r.findings
        .iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("no finding {check}"))
        .status
}

fn message<'a>(r: &'a FileReport, check: &str) -> &'a str {
    &r.findings
        .iter()
        .find(|f| f.check == check)
        .unwrap()
        .message
}

#[test]
fn frontchannel_rules_on_certificates_made_with_rcgen() {
    let tmp = tempfile::tempdir().unwrap();
    let root = ca("Lint Root", "Lint Trust B.V.", "NL", None);
    let issuing = ca("Lint OV CA", "Lint Trust B.V.", "NL", Some(&root));
    let front = linter(tmp.path(), Role::Frontchannel, &[&root]);
    let chain = |l: &[u8]| pem(&[l, &issuing.der]);

    let good = leaf(&issuing, &["www.zorg.nl", "login.zorg.nl"], |_| {});
    let r = front.lint_bytes("good", &chain(&good));
    for c in [
        "frontchannel.public-root",
        "frontchannel.ov-or-better",
        "frontchannel.no-wildcard",
        "frontchannel.single-owner",
        "frontchannel.gdpr-accountable-ca",
        "frontchannel.max-validity",
        "leaf.key-usage",
        "leaf.san",
        "leaf.renewal-due",
        "chain.order",
        "chain.no-root",
        "cert.extensions",
    ] {
        assert_eq!(status(&r, c), Status::Pass, "{c}: {}", message(&r, c));
    }
    assert_eq!(status(&r, "manual.key-management"), Status::Manual);
    // P-256 is "sufficient" under NCSC 2025-05: reported, not failed.
    assert_eq!(status(&r, "leaf.key-strength"), Status::Info);
    assert_eq!(status(&r, "frontchannel.caa"), Status::NotTested);
    assert_eq!(status(&r, "leaf.policy-oid"), Status::NotApplicable);

    // A root the store does not hold.
    let other = ca("Other Root", "Other B.V.", "NL", None);
    let stranger = linter(tmp.path(), Role::Frontchannel, &[&other]);
    assert_eq!(
        status(
            &stranger.lint_bytes("x", &chain(&good)),
            "frontchannel.public-root"
        ),
        Status::Fail
    );

    // 400 days issued after 2020-09-01 (limit 398, and 200 from 2026-03-15); 250 days issued in
    // 2025 is within 398.
    let long = leaf(&issuing, &["www.zorg.nl"], |p| {
        p.not_after = p.not_before + DAY * 400;
    });
    let r = front.lint_bytes("long", &chain(&long));
    assert_eq!(
        status(&r, "frontchannel.max-validity"),
        Status::Fail,
        "{}",
        message(&r, "frontchannel.max-validity")
    );
    let y2025 = leaf(&issuing, &["www.zorg.nl"], |p| {
        p.not_before = time::macros::datetime!(2025-06-01 0:00 UTC);
        p.not_after = p.not_before + DAY * 250;
    });
    let old = Linter::new(Options {
        at: time::macros::datetime!(2025-07-01 0:00 UTC).unix_timestamp(),
        ..front.options().clone()
    })
    .unwrap();
    assert_eq!(
        status(
            &old.lint_bytes("2025", &chain(&y2025)),
            "frontchannel.max-validity"
        ),
        Status::Pass
    );
    // Judged at an instant before the rule existed: not yet effective, whatever the period.
    let y2017 = leaf(&issuing, &["www.zorg.nl"], |p| {
        p.not_before = time::macros::datetime!(2017-06-01 0:00 UTC);
        p.not_after = p.not_before + DAY * 1000;
    });
    let before = Linter::new(Options {
        at: time::macros::datetime!(2017-07-01 0:00 UTC).unix_timestamp(),
        ..front.options().clone()
    })
    .unwrap();
    assert_eq!(
        status(
            &before.lint_bytes("2017", &chain(&y2017)),
            "frontchannel.max-validity"
        ),
        Status::NotYetEffective
    );
    let r = front.lint_bytes(
        "201 days",
        &chain(&leaf(&issuing, &["www.zorg.nl"], |p| {
            p.not_after = p.not_before + DAY * 200
        })),
    );
    assert_eq!(
        status(&r, "frontchannel.max-validity"),
        Status::Fail,
        "200 days + 1 s is over 200 days"
    );

    // keyUsage: keyEncipherment on an EC key; none at all.
    let ke = leaf(&issuing, &["www.zorg.nl"], |p| {
        p.key_usages.push(Ku::KeyEncipherment)
    });
    assert_eq!(
        status(&front.lint_bytes("ke", &chain(&ke)), "leaf.key-usage"),
        Status::Fail
    );
    let noku = leaf(&issuing, &["www.zorg.nl"], |p| p.key_usages.clear());
    assert_eq!(
        status(&front.lint_bytes("noku", &chain(&noku)), "leaf.key-usage"),
        Status::Fail
    );

    // CN not among the SANs.
    let cn = leaf(&issuing, &["www.zorg.nl"], |p| {
        p.distinguished_name
            .push(DnType::CommonName, "elders.zorg.nl");
    });
    assert_eq!(
        status(&front.lint_bytes("cn", &chain(&cn)), "leaf.san"),
        Status::Fail
    );

    // Ten days left.
    let soon = leaf(&issuing, &["www.zorg.nl"], |p| {
        p.not_before = OffsetDateTime::now_utc() - DAY * 80;
        p.not_after = OffsetDateTime::now_utc() + DAY * 10;
    });
    assert_eq!(
        status(&front.lint_bytes("soon", &chain(&soon)), "leaf.renewal-due"),
        Status::Warning
    );

    // A known CA outside the EU/EEA: a warning naming it.
    let us_root = ca("DigiCert Lookalike Root", "DigiCert Inc", "US", None);
    let us = linter(tmp.path(), Role::Frontchannel, &[&us_root]);
    let r = us.lint_bytes("us", &pem(&[&leaf(&us_root, &["www.zorg.nl"], |_| {})]));
    assert_eq!(
        status(&r, "frontchannel.gdpr-accountable-ca"),
        Status::Warning
    );
    assert!(message(&r, "frontchannel.gdpr-accountable-ca").contains("DigiCert"));

    // Backchannel: the OIN is reported, or its absence warned about.
    let back = linter(tmp.path(), Role::Backchannel, &[&root]);
    let pkio = |oin: bool| {
        leaf(&issuing, &["node.zorg.nl"], |p| {
            p.custom_extensions = vec![medmij_testpki::ext::certificate_policies(&[
                "2.16.528.1.1003.1.2.8.6",
            ])
            .unwrap()];
            p.extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
            if oin {
                p.distinguished_name.push(
                    DnType::CustomDnType(vec![2, 5, 4, 5]),
                    "00000001003214345000",
                );
            }
        })
    };
    let with = back.lint_bytes("oin", &chain(&pkio(true)));
    assert_eq!(status(&with, "leaf.oin"), Status::Info);
    assert!(message(&with, "leaf.oin").contains("00000001003214345000"));
    assert_eq!(
        status(&back.lint_bytes("no-oin", &chain(&pkio(false))), "leaf.oin"),
        Status::Warning
    );
}

#[test]
fn chain_order_and_root_are_judged_on_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = ca("Order Root", "Order B.V.", "NL", None);
    let inter = ca("Order CA", "Order B.V.", "NL", Some(&root));
    let l = leaf(&inter, &["www.order.nl"], |_| {});
    let front = linter(tmp.path(), Role::Frontchannel, &[&root]);
    let ok = front.lint_bytes("ok", &pem(&[&l, &inter.der]));
    assert_eq!(status(&ok, "chain.order"), Status::Pass);
    assert_eq!(status(&ok, "chain.no-root"), Status::Pass);
    let reversed = front.lint_bytes("rev", &pem(&[&inter.der, &l]));
    assert_eq!(
        status(&reversed, "chain.order"),
        Status::Warning,
        "{}",
        message(&reversed, "chain.order")
    );
    // The leaf is still found and the path still validates.
    assert_eq!(status(&reversed, "chain.complete"), Status::Pass);
    assert_eq!(status(&reversed, "frontchannel.public-root"), Status::Pass);
    assert_eq!(status(&reversed, "leaf.san"), Status::Pass);
    let with_root = front.lint_bytes("root", &pem(&[&l, &inter.der, &root.der]));
    assert_eq!(status(&with_root, "chain.no-root"), Status::Fail);
    let missing = front.lint_bytes("missing", &pem(&[&l]));
    assert_eq!(
        status(&missing, "chain.complete"),
        Status::Fail,
        "{}",
        message(&missing, "chain.complete")
    );
}

#[test]
fn hostile_certificates_get_findings_not_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = ca("Hostile Root", "Hostile B.V.", "NL", None);
    let front = linter(tmp.path(), Role::Frontchannel, &[&root]);
    let one = |der: &[u8]| front.lint_bytes("x", &pem(&[der]));

    // A duplicated extension and an unknown critical one.
    let dup = leaf(&root, &["www.dup.nl"], |p| {
        p.custom_extensions
            .push(medmij_testpki::ext::certificate_policies(&["2.23.140.1.2.2"]).unwrap());
    });
    let r = one(&dup);
    assert_eq!(
        status(&r, "cert.extensions"),
        Status::Fail,
        "{}",
        message(&r, "cert.extensions")
    );
    assert!(message(&r, "cert.extensions").contains("2.5.29.32"));
    let crit = leaf(&root, &["www.crit.nl"], |p| {
        let mut e =
            CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00]);
        e.set_criticality(true);
        p.custom_extensions.push(e);
    });
    let r = one(&crit);
    assert_eq!(status(&r, "cert.extensions"), Status::Fail);
    assert!(message(&r, "cert.extensions").contains("1.3.6.1.4.1.99999.1"));
    assert_eq!(
        status(
            &one(&leaf(&root, &["www.ok.nl"], |_| {})),
            "cert.extensions"
        ),
        Status::Pass
    );

    // 10,000 SAN entries: judged, with messages that stay readable.
    let names: Vec<String> = (0..10_000).map(|i| format!("h{i}.d{i}.nl")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let many = leaf(&root, &refs, |_| {});
    let r = one(&many);
    assert_eq!(status(&r, "frontchannel.single-owner"), Status::Warning);
    assert!(
        r.findings.iter().all(|f| f.message.len() < 2_000),
        "a message lists every name"
    );

    // A CN that is not UTF-8 (bytes patched after signing): shown lossily, failed as an
    // encoding error (the verifier's rule), never dropped.
    let marker = leaf(&root, &["www.bytes.nl"], |p| {
        p.distinguished_name
            .push(DnType::CommonName, "MARKERMARKER");
    });
    let mut bad = marker.clone();
    let at = bad.windows(12).position(|w| w == b"MARKERMARKER").unwrap();
    bad[at..at + 4].copy_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    let r = one(&bad);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(
        r.certificates[0].subject.contains('\u{fffd}'),
        "{}",
        r.certificates[0].subject
    );
    assert_eq!(
        status(&r, "cert.rfc5280-encoding"),
        Status::Fail,
        "{}",
        message(&r, "cert.rfc5280-encoding")
    );

    // Files that are not certificates: a clear error each.
    let truncated = &many[..many.len() / 2];
    for (what, bytes) in [
        ("empty", Vec::new()),
        ("truncated DER", truncated.to_vec()),
        ("junk", b"this is not a certificate".to_vec()),
        (
            "private key",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
        ),
    ] {
        let r = front.lint_bytes(what, &bytes);
        assert!(r.error.is_some() && r.findings.is_empty(), "{what}: {r:?}");
    }
    // PEM with explanatory text between the blocks is fine (RFC 7468 §5.2).
    let inter = ca("Hostile CA", "Hostile B.V.", "NL", Some(&root));
    let l = leaf(&inter, &["www.junk.nl"], |_| {});
    let mut text = b"subject=www.junk.nl\n".to_vec();
    text.extend(pem(&[&l]));
    text.extend(b"\nissuer: Hostile CA\n");
    text.extend(pem(&[&inter.der]));
    let r = front.lint_bytes("junk-between", &text);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.certificates.len(), 2);
    assert_eq!(status(&r, "chain.complete"), Status::Pass);
    // A directory is refused before it is read.
    let r = front.lint_file(tmp.path());
    assert!(
        r.error.as_deref().unwrap_or("").contains("directory"),
        "{:?}",
        r.error
    );
}
