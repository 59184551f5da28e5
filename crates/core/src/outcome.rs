//! The outcome model: what a check found, per requirement, in the form every printer renders.
//!
//! Probes and parsers produce facts; the policy layer turns facts into [`Finding`]s; printers
//! render findings. A finding is data, never an error. Each finding names its check in the
//! registry ([`crate::checks`]), which supplies the requirement, citation and fix, so a report
//! never carries a requirement ID typed into a message.

use crate::checks::{self, Check};
use crate::requirement::RequirementId;
use serde::Serialize;

/// The status of one finding (spec §3 legend; zlint's NA/NE kept apart from a pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Status {
    /// The requirement is met.
    Pass,
    /// Informational.
    Info,
    /// The check does not apply to this target (a frontchannel rule on a backchannel leaf).
    NotApplicable,
    /// The rule is not yet in force at the time judged (its `effective` date is later).
    NotYetEffective,
    /// Not tested (missing input).
    NotTested,
    /// Not machine-checkable: a person confirms it (key generation, key management).
    Manual,
    /// A gap that is not a failure by default (sufficient-only items, unconfirmed levels).
    Warning,
    /// The requirement is not met.
    Fail,
    /// The check could not run.
    Error,
}

/// Where an observation came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Origin {
    /// A certificate (its subject or role in the chain).
    Certificate(String),
    /// A revocation source (`crl http://…`, `stapled-ocsp`, …).
    Revocation(String),
    /// A file the tool read.
    File(String),
    /// A TLS peer (host:port).
    Peer(String),
    /// The profile or configuration.
    Profile(String),
}

/// One observation behind a finding: what was seen, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// What was observed.
    pub observed: String,
    /// Where it came from.
    pub origin: Origin,
}

/// One finding.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The check (a [`crate::checks::names`] constant).
    pub check: &'static str,
    /// The requirement (the check's).
    pub requirement: RequirementId,
    /// The status.
    pub status: Status,
    /// One line: what was found.
    pub message: String,
    /// What was observed and where.
    pub evidence: Vec<Evidence>,
    /// Where the rule comes from (the check's citation).
    pub citation: &'static str,
    /// A one-line fix (the check's), for anything but a pass.
    pub fix: Option<&'static str>,
}

impl Finding {
    /// A finding of the registered check `check` with `status`; `None` when no check has that
    /// name.
    pub fn of(check: &str, status: Status, message: impl Into<String>) -> Option<Finding> {
        Some(Finding::of_check(checks::check(check)?, status, message))
    }

    /// A finding of the check `c` with `status`.
    pub fn of_check(c: &'static Check, status: Status, message: impl Into<String>) -> Finding {
        Finding {
            check: c.name,
            requirement: c.requirement,
            status,
            message: message.into(),
            evidence: Vec::new(),
            citation: c.citation,
            fix: (status != Status::Pass).then_some(c.fix),
        }
    }

    /// The finding with one more observation.
    pub fn with_evidence(mut self, observed: impl Into<String>, origin: Origin) -> Finding {
        self.evidence.push(Evidence {
            observed: observed.into(),
            origin,
        });
        self
    }

    /// Whether the check applies and is in force at `date` (RFC 3339 date, `YYYY-MM-DD`):
    /// before the check's effective date it is [`Status::NotYetEffective`], from its
    /// ineffective date [`Status::NotApplicable`].
    pub fn status_at(check: &Check, date: &str, status: Status) -> Status {
        if check.effective.is_some_and(|e| date < e) {
            Status::NotYetEffective
        } else if check.ineffective.is_some_and(|e| date >= e) {
            Status::NotApplicable
        } else {
            status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::names::CERT_VALIDITY;

    #[test]
    fn a_finding_takes_its_requirement_citation_and_fix_from_the_registry() {
        let f = Finding::of(CERT_VALIDITY, Status::Fail, "expired")
            .unwrap()
            .with_evidence("notAfter 2021-01-01", Origin::Certificate("leaf".into()));
        assert_eq!(f.requirement, crate::ids::CORE_TLS_311);
        assert!(f.fix.is_some() && !f.citation.is_empty());
        assert!(Finding::of(CERT_VALIDITY, Status::Pass, "ok")
            .unwrap()
            .fix
            .is_none());
        assert!(Finding::of("no.such-check", Status::Fail, "x").is_none());
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["status"], "fail");
        assert_eq!(json["evidence"][0]["origin"]["kind"], "certificate");
    }

    #[test]
    fn dates_keep_not_yet_effective_and_not_applicable_apart_from_a_pass() {
        let mut c = *checks::check(CERT_VALIDITY).unwrap();
        c.effective = Some("2027-01-01");
        c.ineffective = Some("2030-01-01");
        assert_eq!(
            Finding::status_at(&c, "2026-12-01", Status::Pass),
            Status::NotYetEffective
        );
        assert_eq!(
            Finding::status_at(&c, "2028-01-01", Status::Fail),
            Status::Fail
        );
        assert_eq!(
            Finding::status_at(&c, "2030-01-01", Status::Fail),
            Status::NotApplicable
        );
    }
}
