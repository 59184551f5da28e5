//! The lint report: what every printer (text, JSON, HTML) renders. JSON schema
//! `docs/schema/lint-1.json`, id [`SCHEMA`]; the finding shape is the scanner's
//! (`medmij_core::outcome::Finding`).

use crate::dns::DnsFacts;
use crate::judge::Role;
use medmij_core::outcome::{Finding, Status};
use serde::Serialize;

/// The report format tag.
pub const SCHEMA: &str = "medmij-tls/lint/1";

/// One certificate of a file, for people.
#[derive(Clone, Debug, Serialize)]
pub struct CertSummary {
    /// 1-based position in the file.
    pub position: usize,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial, hex.
    pub serial: String,
    /// notBefore, RFC 3339.
    pub not_before: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// SHA-256 of the DER.
    pub sha256: String,
    /// `leaf`, `ca` or `root`.
    pub kind: &'static str,
}

/// One linted file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// The file as named.
    pub file: String,
    /// `chain` or `csr`; absent when the file could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Why the file could not be linted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The certificates, in file order.
    pub certificates: Vec<CertSummary>,
    /// What DNS said (with `--dns`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsFacts>,
    /// One finding per lint check, in registry order.
    pub findings: Vec<Finding>,
}

impl FileReport {
    /// The worst status among the findings (`None` when there are none).
    pub fn worst(&self) -> Option<Status> {
        self.findings.iter().map(|f| f.status).max()
    }
}

/// Counts per status.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Files linted.
    pub files: usize,
    /// Files that could not be linted.
    pub unreadable: usize,
    /// Findings that pass.
    pub pass: usize,
    /// Warnings.
    pub warning: usize,
    /// Failures.
    pub fail: usize,
    /// Checks that could not run.
    pub error: usize,
    /// Manual items.
    pub manual: usize,
    /// Everything else (info, not applicable, not yet effective, not tested).
    pub other: usize,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct LintReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The tool and its version.
    pub tool: String,
    /// Profile ID.
    pub profile: String,
    /// production, acceptance or test.
    pub environment: &'static str,
    /// The role judged.
    pub role: Role,
    /// The instant judged, RFC 3339.
    pub at: String,
    /// Whether DNS was asked.
    pub dns: bool,
    /// Whether revocation was checked.
    pub revocation: bool,
    /// Per file.
    pub files: Vec<FileReport>,
    /// Counts.
    pub summary: Summary,
}

impl LintReport {
    /// Fills in the summary from the files.
    pub fn summarize(&mut self) {
        let mut s = Summary {
            files: self.files.len(),
            ..Summary::default()
        };
        for f in &self.files {
            if f.error.is_some() {
                s.unreadable += 1;
            }
            for x in &f.findings {
                match x.status {
                    Status::Pass => s.pass += 1,
                    Status::Warning => s.warning += 1,
                    Status::Fail => s.fail += 1,
                    Status::Error => s.error += 1,
                    Status::Manual => s.manual += 1,
                    _ => s.other += 1,
                }
            }
        }
        self.summary = s;
    }

    /// Exit code (decision 4.6): 2 when a file could not be linted; else 1 when a finding is at
    /// or above `fail_on`; else 2 when a check could not run (a DNS error); else 0.
    pub fn exit_code(&self, fail_on: Status) -> u8 {
        let all = || self.files.iter().flat_map(|f| &f.findings);
        if self.files.iter().any(|f| f.error.is_some()) {
            2
        } else if all().any(|x| x.status >= fail_on && x.status != Status::Error) {
            1
        } else if all().any(|x| x.status == Status::Error) {
            2
        } else {
            0
        }
    }
}
