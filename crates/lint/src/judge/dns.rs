//! core.tls.315's DNS items from the DNS facts: CAA (RFC 8659) and DNSSEC (apply-or-explain).

use super::{listed, Context, Findings, Role};
use crate::dns::{Caa, CaaRecord, DnsFacts, Dnssec};
use medmij_core::checks::names::*;
use medmij_core::outcome::{Origin, Status};

/// CAA property tags RFC 8659 §4 and RFC 8657 define; an unknown tag with the critical flag
/// forbids issuance (§4.1).
const KNOWN_TAGS: &[&str] = &[
    "issue",
    "issuewild",
    "iodef",
    "contactemail",
    "contactphone",
    "issuemail",
    "issuevmc",
];

pub(crate) fn judge(
    ctx: &Context<'_>,
    names: &[String],
    issuer_ids: &[String],
    dns: Option<&DnsFacts>,
    f: &mut Findings,
) {
    if ctx.role != Role::Frontchannel {
        return;
    }
    let Some(d) = dns else {
        for c in [FRONTCHANNEL_CAA, FRONTCHANNEL_DNSSEC] {
            f.put(
                c,
                Status::NotTested,
                "DNS not checked: run with --dns (and --resolver ADDR)",
            );
        }
        return;
    };
    if names.is_empty() {
        for c in [FRONTCHANNEL_CAA, FRONTCHANNEL_DNSSEC] {
            f.put(c, Status::NotApplicable, "no DNS names to look up");
        }
        return;
    }
    let origin = || Origin::Peer(format!("resolver {}", d.resolver));
    let mut caa: Vec<(Status, String)> = d
        .names
        .iter()
        .map(|n| judge_caa(&n.name, &n.caa, issuer_ids))
        .collect();
    let mut sec: Vec<(Status, String)> = d
        .names
        .iter()
        .map(|n| match &n.dnssec {
            Dnssec::Secure => (Status::Pass, format!("{}: secure", n.name)),
            Dnssec::Insecure => (
                Status::Warning,
                format!(
                    "{}: insecure (unsigned); apply DNSSEC or explain why not",
                    n.name
                ),
            ),
            Dnssec::Bogus { reason } => (Status::Fail, format!("{}: bogus ({reason})", n.name)),
            Dnssec::Error { reason } => (Status::Error, format!("{}: {reason}", n.name)),
        })
        .collect();
    if d.skipped > 0 {
        let m = format!(
            "{} more name(s) not looked up (at most {} per certificate)",
            d.skipped,
            crate::dns::MAX_NAMES
        );
        caa.push((Status::Warning, m.clone()));
        sec.push((Status::Warning, m));
    }
    for (check, items) in [(FRONTCHANNEL_CAA, caa), (FRONTCHANNEL_DNSSEC, sec)] {
        let worst = items
            .iter()
            .map(|(s, _)| *s)
            .max()
            .unwrap_or(Status::NotApplicable);
        // The worst items first, so the message leads with what to fix.
        let mut sorted = items.clone();
        sorted.sort_by_key(|x| std::cmp::Reverse(x.0));
        let lines: Vec<String> = sorted.iter().map(|(_, m)| m.clone()).collect();
        let evidence = sorted
            .iter()
            .take(super::MAX_LISTED)
            .map(|(_, m)| (m.clone(), origin()))
            .collect();
        f.put_with(check, worst, listed(&lines), evidence);
    }
}

fn judge_caa(name: &str, caa: &Caa, issuer_ids: &[String]) -> (Status, String) {
    let (at, records) = match caa {
        Caa::Error { reason } => {
            return (
                Status::Error,
                format!("{name}: CAA lookup failed: {reason}"),
            )
        }
        Caa::None => {
            return (
                Status::Fail,
                format!("{name}: no CAA record set at the name or any parent; any CA may issue"),
            )
        }
        Caa::Found { at, records } => (at, records),
    };
    let here = if at.trim_end_matches('.')
        == name
            .trim_start_matches("*.")
            .trim_end_matches('.')
            .to_ascii_lowercase()
    {
        String::new()
    } else {
        format!(" (record set at {at})")
    };
    if let Some(r) = records
        .iter()
        .find(|r| r.critical && !KNOWN_TAGS.contains(&r.tag.to_ascii_lowercase().as_str()))
    {
        return (
            Status::Fail,
            format!(
                "{name}{here}: unknown critical property `{}`: no CA may issue (RFC 8659 §4.1)",
                r.tag
            ),
        );
    }
    for r in records
        .iter()
        .filter(|r| r.tag.eq_ignore_ascii_case("iodef"))
    {
        if !iodef_ok(&r.value) {
            return (
                Status::Fail,
                format!(
                    "{name}{here}: iodef `{}` is not a mailto: or http(s): URL (RFC 8659 §4.4)",
                    r.value.escape_debug()
                ),
            );
        }
    }
    let wildcard = name.starts_with("*.");
    let tag = if wildcard
        && records
            .iter()
            .any(|r| r.tag.eq_ignore_ascii_case("issuewild"))
    {
        "issuewild"
    } else {
        "issue"
    };
    let issue: Vec<&CaaRecord> = records
        .iter()
        .filter(|r| r.tag.eq_ignore_ascii_case(tag))
        .collect();
    if issue.is_empty() {
        return (
            Status::Fail,
            format!("{name}{here}: the CAA record set has no `issue` property"),
        );
    }
    let domains: Vec<String> = issue.iter().map(|r| issuer_domain(&r.value)).collect();
    let named: Vec<&str> = domains
        .iter()
        .filter(|d| !d.is_empty())
        .map(String::as_str)
        .collect();
    if named.is_empty() {
        return (
            Status::Fail,
            format!("{name}{here}: CAA `{tag} \";\"` forbids every CA"),
        );
    }
    if issuer_ids.is_empty() {
        return (Status::Warning, format!("{name}{here}: CAA authorizes {}; the issuing CA's CAA identifier is not known (give --caa-identifier): confirm it is among them", listed(&named)));
    }
    if named
        .iter()
        .any(|d| issuer_ids.iter().any(|i| i.eq_ignore_ascii_case(d)))
    {
        (
            Status::Pass,
            format!(
                "{name}{here}: CAA authorizes the issuing CA ({})",
                listed(&named)
            ),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{name}{here}: CAA authorizes {} but not the issuing CA ({})",
                listed(&named),
                listed(issuer_ids)
            ),
        )
    }
}

/// The issuer domain of an `issue` value (`ca.example; account=1` → `ca.example`), lowercase.
fn issuer_domain(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn iodef_ok(v: &str) -> bool {
    let v = v.trim();
    if let Some(mail) = v.strip_prefix("mailto:") {
        return mail.contains('@') && !mail.contains(char::is_whitespace);
    }
    (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() > 8
        && !v.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(tag: &str, value: &str) -> CaaRecord {
        CaaRecord {
            critical: false,
            tag: tag.into(),
            value: value.into(),
        }
    }

    #[test]
    fn caa_record_sets_are_judged_per_rfc_8659() {
        let ids = vec!["ca.example".to_string()];
        let found = |r: Vec<CaaRecord>| Caa::Found {
            at: "a.example".into(),
            records: r,
        };
        assert_eq!(
            judge_caa(
                "a.example",
                &found(vec![rec("issue", "ca.example; account=1")]),
                &ids
            )
            .0,
            Status::Pass
        );
        assert_eq!(
            judge_caa(
                "a.example",
                &found(vec![rec("issue", "other.example")]),
                &ids
            )
            .0,
            Status::Fail
        );
        assert_eq!(
            judge_caa("a.example", &found(vec![rec("issue", ";")]), &ids).0,
            Status::Fail
        );
        assert_eq!(
            judge_caa(
                "a.example",
                &found(vec![rec("iodef", "mailto:x@a.example")]),
                &ids
            )
            .0,
            Status::Fail
        );
        assert_eq!(
            judge_caa(
                "a.example",
                &found(vec![rec("issue", "ca.example"), rec("iodef", "ftp://x")]),
                &ids
            )
            .0,
            Status::Fail
        );
        assert_eq!(
            judge_caa("a.example", &found(vec![rec("issue", "ca.example")]), &[]).0,
            Status::Warning
        );
        let crit = CaaRecord {
            critical: true,
            tag: "futuretag".into(),
            value: "x".into(),
        };
        assert_eq!(
            judge_caa(
                "a.example",
                &found(vec![rec("issue", "ca.example"), crit]),
                &ids
            )
            .0,
            Status::Fail
        );
        assert_eq!(judge_caa("a.example", &Caa::None, &ids).0, Status::Fail);
        assert_eq!(
            judge_caa(
                "*.a.example",
                &found(vec![
                    rec("issue", "other.example"),
                    rec("issuewild", "ca.example")
                ]),
                &ids
            )
            .0,
            Status::Pass
        );
    }
}
