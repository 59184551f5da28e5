//! The scan report: what every printer renders. JSON schema `docs/schema/scan-1.json`, id
//! [`SCHEMA`]. The facts are stored whole, so a report can be judged again under another
//! profile without scanning ([`ScanReport::rejudge`]).

use crate::facts::EndpointFacts;
use crate::judge::{self, Context, Role};
use medmij_core::checks::names::TLS_TLS13_READY;
use medmij_core::outcome::{Finding, Status};
use serde::{Deserialize, Serialize};

/// The report format tag.
pub const SCHEMA: &str = "medmij-tls/scan/1";

/// One scanned endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct TargetReport {
    /// `host:port`.
    pub target: String,
    /// The role judged.
    pub role: Role,
    /// What the probes found.
    pub facts: EndpointFacts,
    /// One finding per scan check, then the chain's.
    pub findings: Vec<Finding>,
}

impl TargetReport {
    /// The worst status.
    pub fn worst(&self) -> Option<Status> {
        self.findings.iter().map(|f| f.status).max()
    }

    /// The TLS 1.3-only view: ready, or why not.
    pub fn tls13_ready(&self) -> (bool, String) {
        match self.findings.iter().find(|f| f.check == TLS_TLS13_READY) {
            Some(f) => (f.status == Status::Pass, f.message.clone()),
            None => (false, "not judged".into()),
        }
    }
}

/// The network summary of a multi-target scan (the TLS 1.2 phase-out view).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Targets scanned.
    pub targets: usize,
    /// Targets without any fail or error.
    pub compliant: usize,
    /// Targets that would still work with TLS 1.3 only.
    pub tls13_ready: usize,
    /// The others, with the reason.
    pub not_tls13_ready: Vec<(String, String)>,
    /// Targets that could not be scanned.
    pub unreachable: Vec<String>,
}

/// The network summary of `targets`.
pub fn summarize(targets: &[TargetReport]) -> Summary {
    Summary {
        targets: targets.len(),
        compliant: targets
            .iter()
            .filter(|t| t.worst() < Some(Status::Fail))
            .count(),
        tls13_ready: targets.iter().filter(|t| t.tls13_ready().0).count(),
        not_tls13_ready: targets
            .iter()
            .filter(|t| t.facts.speaks_tls && !t.tls13_ready().0)
            .map(|t| (t.target.clone(), t.tls13_ready().1))
            .collect(),
        unreachable: targets
            .iter()
            .filter(|t| !t.facts.speaks_tls)
            .map(|t| t.target.clone())
            .collect(),
    }
}

/// A whole scan.
#[derive(Clone, Debug, Serialize)]
pub struct ScanReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The profile judged under.
    pub profile: String,
    /// The environment.
    pub environment: &'static str,
    /// Strict (sufficient = fail).
    pub strict: bool,
    /// When the facts were gathered (RFC 3339).
    pub scanned_at: String,
    /// Per target.
    pub targets: Vec<TargetReport>,
    /// Network summary.
    pub summary: Summary,
}

/// The stored form read back (`--from-json`): only what judging needs.
#[derive(Debug, Deserialize)]
pub struct StoredReport {
    /// Must be [`SCHEMA`].
    pub schema: String,
    /// When the facts were gathered.
    #[serde(default)]
    pub scanned_at: String,
    /// Per target.
    pub targets: Vec<StoredTarget>,
}

/// One stored target.
#[derive(Debug, Deserialize)]
pub struct StoredTarget {
    /// `host:port`.
    pub target: String,
    /// The role it was scanned as.
    pub role: Role,
    /// The facts.
    pub facts: EndpointFacts,
}

impl ScanReport {
    /// Judges `scanned` (target label, role, facts) under `ctx`'s profile.
    pub fn judge(
        ctx: &Context<'_>,
        scanned_at: String,
        scanned: Vec<(String, Role, EndpointFacts)>,
    ) -> ScanReport {
        let targets: Vec<TargetReport> = scanned
            .into_iter()
            .map(|(target, role, mut facts)| {
                judge::annotate(&mut facts, ctx.profile);
                let c = Context {
                    role,
                    ..ctx.clone_ref()
                };
                let findings = judge::endpoint(&c, &target, &facts);
                TargetReport {
                    target,
                    role,
                    facts,
                    findings,
                }
            })
            .collect();
        let summary = summarize(&targets);
        ScanReport {
            schema: SCHEMA,
            profile: ctx.profile.id.clone(),
            environment: ctx.environment.label(),
            strict: ctx.strict,
            scanned_at,
            targets,
            summary,
        }
    }

    /// Reads a stored report for judging again.
    pub fn read_stored(text: &str, file: &str) -> Result<StoredReport, String> {
        let r: StoredReport =
            serde_json::from_str(text).map_err(|e| format!("{file}: not a scan report: {e}"))?;
        if r.schema != SCHEMA {
            return Err(format!(
                "{file}: schema {:?}, this version reads {SCHEMA:?}",
                r.schema
            ));
        }
        Ok(r)
    }

    /// The worst status over every target.
    pub fn worst(&self) -> Option<Status> {
        self.targets.iter().filter_map(|t| t.worst()).max()
    }
}
