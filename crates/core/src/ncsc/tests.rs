use super::*;
use crate::test_support::shared_file;

fn level_of(cell: &str) -> Option<Level> {
    Some(
        match cell.trim().trim_matches('*').trim_end_matches(" (fn52)") {
            "G" => Level::Good,
            "S" => Level::Sufficient,
            "PO" => Level::PhaseOut,
            "I" => Level::Insufficient,
            _ => return None,
        },
    )
}

/// Rows of the markdown table in the section whose heading starts with `heading`.
fn table_rows(text: &str, heading: &str, first_cell_prefix: &str) -> Vec<Vec<String>> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            inside = line.starts_with(heading);
            continue;
        }
        if inside && line.starts_with(&format!("| {first_cell_prefix}")) {
            out.push(
                line.trim()
                    .trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_string())
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn cipher_suites_match_reference_table_row_by_row() {
    let text = shared_file("reference/ncsc-tls.md");
    let rows = table_rows(&text, "## 4.", "0x");
    assert!(
        rows.len() >= 120,
        "expected the full §4 table, found {} rows",
        rows.len()
    );
    for r in &rows {
        let code = u16::from_str_radix(&r[0].replace("0x", "").replace(',', ""), 16).unwrap();
        let suite = CipherSuite(code);
        let iana = r[1].trim_matches('`');
        assert_eq!(suite.name(), Some(iana), "name of {}", r[0]);
        assert_eq!(CipherSuite::from_name(iana), Some(suite));
        let want_2025 = level_of(&r[6]).unwrap();
        assert_eq!(
            level(NcscVersion::V2025_05, Item::CipherSuite(suite)),
            want_2025,
            "2025-05 level of {iana}"
        );
        let want_21 = level_of(&r[3]).or_else(|| level_of(&r[4])).unwrap();
        assert_eq!(
            level(NcscVersion::V2_1, Item::CipherSuite(suite)),
            want_21,
            "v2.1 level of {iana}"
        );
    }
}

#[test]
fn the_2025_code_point_lists_agree_with_the_table() {
    // §4.1 repeats the 2025-05 lists as code points; check them too.
    let text = shared_file("reference/ncsc-tls.md");
    let mut current = None;
    let mut checked = 0;
    let mut in_block = false;
    for line in text.lines() {
        if line.starts_with("### 4.1") {
            in_block = true;
        } else if in_block && (line.starts_with("## ") || line.starts_with("# NCSC v2.1")) {
            // The second block is the unreleased v2.1 IANA list, not a source of our levels.
            break;
        }
        if !in_block {
            continue;
        }
        match line.trim() {
            "GOOD:" => current = Some(Level::Good),
            "SUFFICIENT:" => current = Some(Level::Sufficient),
            "PHASE_OUT:" => current = Some(Level::PhaseOut),
            l if l.starts_with("0x") => {
                let hex: String = l
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .replace("0x", "")
                    .replace(',', "");
                let s = CipherSuite(u16::from_str_radix(&hex, 16).unwrap());
                assert_eq!(
                    Some(level(NcscVersion::V2025_05, Item::CipherSuite(s))),
                    current,
                    "{l}"
                );
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked >= 20, "checked only {checked} code points");
}

#[test]
fn unknown_suites_and_groups_are_insufficient() {
    for v in [NcscVersion::V2_1, NcscVersion::V2025_05] {
        assert_eq!(
            level(v, Item::CipherSuite(CipherSuite(0xFFEE))),
            Level::Insufficient
        );
        assert_eq!(
            level(v, Item::Group(NamedGroup(0x0A0A))),
            Level::Insufficient
        );
    }
}

#[test]
fn groups_match_reference_table() {
    let text = shared_file("reference/ncsc-tls.md");
    let mut checked = 0;
    for line in text.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() < 4 || !cells[1].contains(" / 0x") {
            continue;
        }
        let dec: u16 = match cells[1]
            .split(" / ")
            .next()
            .and_then(|d| d.trim().parse().ok())
        {
            Some(d) => d,
            None => continue,
        };
        let g = NamedGroup(dec);
        for (v, cell) in [
            (NcscVersion::V2_1, cells[2]),
            (NcscVersion::V2025_05, cells[3]),
        ] {
            // Only definite cells: a cell that says [?] or n/a is not a fact to test against.
            if cell.contains("[?]") || cell.contains("n/a") {
                continue;
            }
            if let Some(want) = level_of(cell.split_whitespace().next().unwrap_or("")) {
                assert_eq!(level(v, Item::Group(g)), want, "{} under {v}", cells[0]);
                checked += 1;
            }
        }
    }
    assert!(checked >= 25, "checked only {checked} group cells");
}

#[test]
fn versions_follow_both_editions() {
    use ProtocolVersion as P;
    let v21 = |p| level(NcscVersion::V2_1, Item::Version(p));
    let v25 = |p| level(NcscVersion::V2025_05, Item::Version(p));
    assert_eq!(
        (v21(P::TLS13), v21(P::TLS12), v21(P::TLS11), v21(P::SSL3)),
        (
            Level::Good,
            Level::Sufficient,
            Level::PhaseOut,
            Level::Insufficient
        )
    );
    assert_eq!(
        (v25(P::TLS13), v25(P::TLS12), v25(P::TLS10), v25(P::SSL2)),
        (
            Level::Good,
            Level::Sufficient,
            Level::Insufficient,
            Level::Insufficient
        )
    );
}

#[test]
fn certificate_keys_and_hashes_follow_section_2_3() {
    let v = NcscVersion::V2025_05;
    assert_eq!(
        level(v, Item::CertKey(CertKey::Rsa { bits: 4096 })),
        Level::Sufficient
    );
    assert_eq!(
        level(v, Item::CertKey(CertKey::Rsa { bits: 2048 })),
        Level::PhaseOut
    );
    assert_eq!(
        level(v, Item::CertKey(CertKey::Rsa { bits: 1024 })),
        Level::Insufficient
    );
    assert_eq!(
        level(
            v,
            Item::CertKey(CertKey::Ec {
                curve: NamedGroup::SECP256R1
            })
        ),
        Level::Sufficient
    );
    assert_eq!(
        level(
            v,
            Item::CertKey(CertKey::Ec {
                curve: NamedGroup::SECP224R1
            })
        ),
        Level::PhaseOut
    );
    assert_eq!(level(v, Item::CertKey(CertKey::Ed25519)), Level::Sufficient);
    assert_eq!(
        level(v, Item::CertKey(CertKey::Dsa { bits: 2048 })),
        Level::Insufficient
    );
    assert_eq!(
        level(v, Item::CertSignatureHash(HashAlg::Sha224)),
        Level::PhaseOut
    );
    assert_eq!(
        level(v, Item::CertSignatureHash(HashAlg::Sha1)),
        Level::Insufficient
    );
    assert_eq!(
        level(v, Item::CertSignatureHash(HashAlg::Sha512)),
        Level::Good
    );
    let o = NcscVersion::V2_1;
    assert_eq!(
        level(o, Item::CertKey(CertKey::Rsa { bits: 3072 })),
        Level::Good
    );
    assert_eq!(
        level(o, Item::CertKey(CertKey::Rsa { bits: 2048 })),
        Level::Sufficient
    );
    assert_eq!(
        level(o, Item::CertSignatureHash(HashAlg::Sha224)),
        Level::Insufficient
    );
}

#[test]
fn kex_signature_hashes_follow_section_3_2() {
    let v = NcscVersion::V2025_05;
    assert_eq!(
        level(v, Item::KexSignature(SignatureScheme::RSA_PKCS1_SHA1)),
        Level::Insufficient
    );
    assert_eq!(
        level(v, Item::KexSignature(SignatureScheme::ECDSA_SHA224)),
        Level::PhaseOut
    );
    assert_eq!(
        level(v, Item::KexSignature(SignatureScheme::RSA_PSS_RSAE_SHA256)),
        Level::Good
    );
    assert_eq!(
        level(v, Item::KexSignature(SignatureScheme::DSA_SHA256)),
        Level::Insufficient
    );
    assert_eq!(
        level(v, Item::KexSignature(SignatureScheme::ED25519)),
        Level::Sufficient
    );
    assert_eq!(
        level(
            NcscVersion::V2_1,
            Item::KexSignature(SignatureScheme::ECDSA_SHA1)
        ),
        Level::PhaseOut
    );
    // v2.1 (internet.nl 1.10): ed25519 counted as SHA-2, ed448 (SHAKE256) not.
    let ed = |s| classify(NcscVersion::V2_1, Item::KexSignature(s));
    assert_eq!(ed(SignatureScheme::ED25519).level, Level::Good);
    assert_eq!(ed(SignatureScheme(0x0808)).level, Level::PhaseOut);
    assert_eq!(
        ed(SignatureScheme(0x0808)).confidence,
        Confidence::Unconfirmed
    );
}

#[test]
fn options_follow_section_2_6() {
    let v = NcscVersion::V2025_05;
    let o = |x| level(v, Item::Option(x));
    assert_eq!(o(TlsOption::Compression(true)), Level::Insufficient);
    assert_eq!(
        o(TlsOption::SecureRenegotiation(false)),
        Level::Insufficient
    );
    assert_eq!(
        o(TlsOption::ClientRenegotiation(ClientRenegotiation::Limited)),
        Level::Sufficient
    );
    assert_eq!(
        o(TlsOption::ClientRenegotiation(
            ClientRenegotiation::Unlimited
        )),
        Level::PhaseOut
    );
    assert_eq!(o(TlsOption::ZeroRtt(true)), Level::Insufficient);
    assert_eq!(
        o(TlsOption::CipherOrder(CipherOrder::Violated)),
        Level::Insufficient
    );
    assert_eq!(
        level(
            NcscVersion::V2_1,
            Item::Option(TlsOption::ClientRenegotiation(
                ClientRenegotiation::Unlimited
            ))
        ),
        Level::Sufficient
    );
    assert_eq!(
        classify(v, Item::Option(TlsOption::OcspStapling(false))).confidence,
        Confidence::Unconfirmed
    );
}

#[test]
fn ml_dsa_schemes_are_sufficient_and_unconfirmed_not_unknown() {
    for code in [0x0904u16, 0x0905, 0x0906] {
        for v in [NcscVersion::V2_1, NcscVersion::V2025_05] {
            let c = classify(v, Item::KexSignature(SignatureScheme(code)));
            assert_eq!(c.level, Level::Sufficient, "{code:#06x} under {v:?}");
            assert_eq!(c.confidence, Confidence::Unconfirmed);
        }
    }
    // A code point nobody assigned stays insufficient.
    let c = classify(
        NcscVersion::V2025_05,
        Item::KexSignature(SignatureScheme(0x0999)),
    );
    assert_eq!(c.level, Level::Insufficient);
}
