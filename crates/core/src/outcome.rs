//! The outcome model: what a check found, per requirement, in the form every printer renders.
//!
//! Probes and parsers produce facts; the policy layer turns facts into [`Finding`]s; printers
//! render findings. A finding is data, never an error.

use crate::requirement::RequirementId;
use serde::Serialize;

/// The status of one finding (spec §3 legend).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The requirement is met.
    Pass,
    /// Informational.
    Info,
    /// Not tested (missing input, not applicable to the target).
    NotTested,
    /// A gap that is not a failure by default (sufficient-only items, unconfirmed levels).
    Warning,
    /// The requirement is not met.
    Fail,
    /// The check could not run.
    Error,
}

/// One finding.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The requirement.
    pub requirement: RequirementId,
    /// A stable machine code, e.g. `eku-missing-server-auth`.
    pub code: String,
    /// The status.
    pub status: Status,
    /// What was observed and where.
    pub evidence: String,
    /// A one-line fix.
    pub fix: Option<String>,
}
