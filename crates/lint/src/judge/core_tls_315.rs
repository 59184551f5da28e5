//! core.tls.315 (AF-1273): frontchannel certificates are publicly trusted, OV or better, name
//! each host (no wildcard), belong to one owner, come from a CA accountable under the GDPR, and
//! keep to the CA/B Forum's maximum lifetime. The key's provenance is a manual item.

use super::{listed, Context, Findings, Role};
use crate::ca_orgs;
use crate::facts::CertFacts;
use medmij_core::checks::names::*;
use medmij_core::outcome::{Origin, Status};
use medmij_core::Environment;

/// OV-or-better policy OIDs (CA/B Forum BR §7.1.6.1; ETSI EN 319 411-1/-2).
pub const OV_OR_BETTER: &[(&str, &str)] = &[
    ("2.23.140.1.2.2", "CA/B OV"),
    ("2.23.140.1.2.3", "CA/B IV"),
    ("2.23.140.1.1", "CA/B EV"),
    ("0.4.0.2042.1.7", "ETSI OVCP"),
    ("0.4.0.2042.1.4", "ETSI EVCP"),
    ("0.4.0.194112.1.4", "ETSI QEVCP-w"),
    ("0.4.0.194112.1.5", "ETSI QNCP-w"),
];

/// Domain-validated policy OIDs: allowed only in the test environment (AF-1273 §6.4).
pub const DV: &[(&str, &str)] = &[
    ("2.23.140.1.2.1", "CA/B DV"),
    ("0.4.0.2042.1.6", "ETSI DVCP"),
];

/// The CA/B Forum maximum validity periods by issuance date (BR §6.3.2; ballots SC-081v3 and
/// SC-22 before it): from this date (`YYYY-MM-DD`, notBefore stands in for the issuance date),
/// at most this many days.
pub const MAX_VALIDITY_SCHEDULE: &[(&str, i64)] = &[
    ("2018-03-01", 825),
    ("2020-09-01", 398),
    ("2026-03-15", 200),
    ("2027-03-15", 100),
    ("2029-03-15", 47),
];

pub(super) fn leaf(ctx: &Context<'_>, leaf: &CertFacts, f: &mut Findings) {
    if ctx.role != Role::Frontchannel {
        return;
    }
    ov_or_better(ctx, leaf, f);
    names(ctx, &leaf.common_names, &leaf.dns_names, f);
    gdpr(leaf, f);
    max_validity(leaf, f);
    manual(f);
}

fn ov_or_better(ctx: &Context<'_>, leaf: &CertFacts, f: &mut Findings) {
    let has = |list: &[(&'static str, &'static str)]| {
        list.iter()
            .find(|(o, _)| leaf.policies.iter().any(|p| p == o))
            .copied()
    };
    if let Some((oid, name)) = has(OV_OR_BETTER) {
        f.put(
            FRONTCHANNEL_OV_OR_BETTER,
            Status::Pass,
            format!("policy {oid} ({name})"),
        );
        return;
    }
    let found = match has(DV) {
        Some((oid, name)) => format!("only domain validation: policy {oid} ({name})"),
        None if leaf.policies.is_empty() => "no certificatePolicies at all".to_string(),
        None => format!("no OV/EV policy among {}", listed(&leaf.policies)),
    };
    if ctx.environment == Environment::Test && has(DV).is_some() {
        f.put(
            FRONTCHANNEL_OV_OR_BETTER,
            Status::Pass,
            format!("{found}: allowed in the test environment (AF-1273 §6.4)"),
        );
    } else {
        f.put(
            FRONTCHANNEL_OV_OR_BETTER,
            Status::Fail,
            format!(
                "{found}; OV or better is required in {}",
                ctx.environment.label()
            ),
        );
    }
}

/// Wildcards and owners: judged on certificates and on requests alike.
pub(super) fn names(ctx: &Context<'_>, cns: &[String], dns: &[String], f: &mut Findings) {
    if ctx.role != Role::Frontchannel {
        return;
    }
    let wild: Vec<&str> = cns
        .iter()
        .chain(dns)
        .filter(|n| n.contains('*'))
        .map(String::as_str)
        .collect();
    if wild.is_empty() {
        f.put(FRONTCHANNEL_NO_WILDCARD, Status::Pass, "no wildcard name");
    } else {
        f.put(
            FRONTCHANNEL_NO_WILDCARD,
            Status::Fail,
            format!("wildcard name {}", listed(&wild)),
        );
    }
    let mut domains: Vec<String> = Vec::new();
    for n in dns {
        let n = n
            .trim_start_matches("*.")
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let d = psl::domain_str(&n).unwrap_or(n.as_str()).to_string();
        if !domains.contains(&d) {
            domains.push(d);
        }
    }
    match domains.len() {
        0 | 1 => f.put(FRONTCHANNEL_SINGLE_OWNER, Status::Pass, match domains.first() {
            Some(d) => format!("every name is under {d}"),
            None => "no DNS names".to_string(),
        }),
        _ => f.put(
            FRONTCHANNEL_SINGLE_OWNER,
            Status::Warning,
            format!("the names span {} registrable domains ({}) per the public suffix list: confirm that one organization owns them all", domains.len(), listed(&domains)),
        ),
    }
}

/// The issuing CA's establishment: EU/EEA by the issuer's countryName or the known list.
fn gdpr(leaf: &CertFacts, f: &mut Findings) {
    let known = ca_orgs::find(&leaf.issuer_organizations);
    let org = leaf
        .issuer_organizations
        .first()
        .map_or("(no organizationName)", String::as_str);
    let country = leaf.issuer_countries.first().map(String::as_str);
    let evidence = vec![(
        format!("issuer O={org} C={}", country.unwrap_or("-")),
        Origin::Certificate(leaf.issuer.clone()),
    )];
    let listed_eu = known.filter(|k| ca_orgs::in_eu_eea(&k.country));
    if let Some(k) = listed_eu {
        f.put_with(
            FRONTCHANNEL_GDPR_CA,
            Status::Pass,
            format!(
                "{} is established in {} (EU/EEA; CA list reviewed {})",
                k.name,
                k.country,
                ca_orgs::reviewed()
            ),
            evidence,
        );
    } else if let Some(c) = country.filter(|c| ca_orgs::in_eu_eea(c) && known.is_none()) {
        f.put_with(
            FRONTCHANNEL_GDPR_CA,
            Status::Pass,
            format!("the issuer `{org}` is established in {c} (EU/EEA), by its certificate"),
            evidence,
        );
    } else if let Some(k) = known {
        f.put_with(FRONTCHANNEL_GDPR_CA, Status::Warning, format!("{} is established in {}, outside the EU/EEA: confirm that it is accountable under the GDPR (its EU representative, GDPR art. 27)", k.name, k.country), evidence);
    } else if let Some(c) = country {
        f.put_with(FRONTCHANNEL_GDPR_CA, Status::Warning, format!("the issuer `{org}` is established in {c} by its certificate, outside the EU/EEA, and is not on the CA list: confirm that it is accountable under the GDPR"), evidence);
    } else {
        f.put_with(FRONTCHANNEL_GDPR_CA, Status::Warning, format!("the issuer `{org}` names no country and is not on the CA list: confirm where it is established"), evidence);
    }
}

/// Unix seconds of a date's midnight UTC (proleptic Gregorian; H. Hinnant's days_from_civil).
const fn unix_date(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

/// The start of the [`MAX_VALIDITY_SCHEDULE`] row in force at `not_before`, and its days.
fn schedule_row(not_before: i64) -> Option<(&'static str, i64)> {
    MAX_VALIDITY_SCHEDULE
        .iter()
        .rev()
        .copied()
        .find(|(from, _)| {
            let p = |r: std::ops::Range<usize>| {
                from.get(r).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0)
            };
            not_before >= unix_date(p(0..4), p(5..7), p(8..10))
        })
}

/// The maximum in force at `not_before` (days), from [`MAX_VALIDITY_SCHEDULE`].
pub fn max_validity_days(not_before: i64) -> Option<i64> {
    schedule_row(not_before).map(|(_, d)| d)
}

fn max_validity(leaf: &CertFacts, f: &mut Findings) {
    // RFC 5280 §4.1.2.5: both ends count, so the period is one second longer than the difference.
    let period = leaf.not_after - leaf.not_before + 1;
    let days = period as f64 / 86_400.0;
    match schedule_row(leaf.not_before) {
        None => f.put(FRONTCHANNEL_MAX_VALIDITY, Status::NotApplicable, "issued before the CA/B Forum's first limit (2018-03-01)"),
        Some((from, max)) if period > max * 86_400 => f.put(
            FRONTCHANNEL_MAX_VALIDITY,
            Status::Fail,
            format!("valid {days:.1} days; certificates issued from {from} may be valid at most {max} days"),
        ),
        Some((_, max)) => f.put(FRONTCHANNEL_MAX_VALIDITY, Status::Pass, format!("valid {days:.1} days (at most {max} for its issuance date)")),
    }
}

/// What no tool can check, listed so that nobody forgets it.
pub(super) fn manual(f: &mut Findings) {
    f.put(
        MANUAL_KEY_MANAGEMENT,
        Status::Manual,
        "confirm that the private key was generated on the platform that uses it and is managed per the NCSC factsheet; `medmij-tls pki csr` makes the key and CSR locally",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_switches_at_midnight_utc_of_each_date() {
        let t = |s: &str| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp()
        };
        assert_eq!(unix_date(1970, 1, 1), 0);
        assert_eq!(unix_date(2026, 3, 15), t("2026-03-15T00:00:00Z"));
        assert_eq!(max_validity_days(t("2026-03-14T23:59:59Z")), Some(398));
        assert_eq!(max_validity_days(t("2026-03-15T00:00:00Z")), Some(200));
        assert_eq!(max_validity_days(t("2029-03-15T00:00:00Z")), Some(47));
        assert_eq!(max_validity_days(t("2017-01-01T00:00:00Z")), None);
    }
}
