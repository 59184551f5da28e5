//! The verify report: a verdict and the context it was reached in, as the typed structure the
//! JSON output serializes (schema `medmij-tls/verify/1`, published as
//! `docs/schema/verify-1.json`). Printers render it; nothing builds this JSON by hand.

use crate::evidence::Evidence;
use crate::refusal::{Code, Warning};
use crate::verifier::{ChainEntry, Verdict};
use medmij_core::RequirementId;
use serde::Serialize;

/// The schema identifier every report carries.
pub const SCHEMA: &str = "medmij-tls/verify/1";

/// Where and how the verdict was reached.
#[derive(Clone, Debug, Serialize)]
pub struct Context {
    /// `backchannel` or `frontchannel`.
    pub role: &'static str,
    /// `server` or `client`.
    pub peer: &'static str,
    /// The profile's id.
    pub profile: String,
    /// `production`, `acceptance` or `test`.
    pub environment: &'static str,
    /// The instant judged at (RFC 3339).
    pub at: String,
    /// The hostname connected to, when given.
    pub hostname: Option<String>,
}

/// One reason for refusal, with what the check registry knows of it.
#[derive(Clone, Debug, Serialize)]
pub struct Reason {
    /// The check that failed.
    pub check: &'static str,
    /// Its requirement.
    pub requirement: RequirementId,
    /// The machine code.
    pub code: Code,
    /// The TLS alert a node sends for it.
    pub alert: &'static str,
    /// What, where, why.
    pub message: String,
    /// Where the rule comes from.
    pub citation: &'static str,
    /// One line: how to fix it.
    pub fix: &'static str,
}

/// The report.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// Would a node accept the chain?
    pub accepted: bool,
    /// Every reason it would not (empty when accepted).
    pub reasons: Vec<Reason>,
    /// What an operator should know.
    pub warnings: Vec<Warning>,
    /// What each revocation source said.
    pub revocation: Vec<Evidence>,
    /// The chain as sent and as validated.
    pub chain: Vec<ChainEntry>,
    /// The context.
    pub context: Context,
}

impl VerifyReport {
    /// The report of `verdict` in `context`.
    pub fn new(verdict: &Verdict, context: Context) -> VerifyReport {
        VerifyReport {
            schema: SCHEMA,
            accepted: verdict.accepted,
            reasons: verdict
                .reasons
                .iter()
                .map(|r| {
                    let check = r.code.check();
                    Reason {
                        check: r.check,
                        requirement: r.requirement,
                        code: r.code,
                        alert: r.alert().name(),
                        message: r.message.clone(),
                        citation: check.citation,
                        fix: check.fix,
                    }
                })
                .collect(),
            warnings: verdict.warnings.clone(),
            revocation: verdict.revocation.clone(),
            chain: verdict.chain.clone(),
            context,
        }
    }
}
