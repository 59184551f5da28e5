//! The probe's report: the run's facts (every connection), the findings, and the printers
//! (text, JSON `medmij-tls/probe-client/1`, HTML, JUnit) in the scanner's shapes.

use crate::cases::Case;
use crate::facts::{ConnectionFacts, Outcome};
use medmij_core::outcome::{Finding, Status};
use medmij_core::wire::ProtocolVersion;
use medmij_lint::html::{anchor, esc, fix_table, grid, label, Column, STYLE};
use serde::Serialize;
use std::fmt::Write;

/// The JSON schema id (`docs/schema/probe-client-1.json`).
pub const SCHEMA: &str = "medmij-tls/probe-client/1";

/// One run of the probe.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The client's name in the report (`--client-name`, default its address).
    pub client: String,
    /// Profile id.
    pub profile: String,
    /// Environment.
    pub environment: &'static str,
    /// The role judged.
    pub role: medmij_scan::Role,
    /// The probe's hostname.
    pub hostname: String,
    /// Where it listened.
    pub listen: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The cases served.
    pub cases: Vec<Case>,
    /// Every connection, in order of arrival.
    pub connections: Vec<ConnectionFacts>,
    /// One finding per client-probe check.
    pub findings: Vec<Finding>,
}

impl ProbeReport {
    /// The worst status.
    pub fn worst(&self) -> Option<Status> {
        self.findings.iter().map(|f| f.status).max()
    }

    /// The report as text: the cases, then each finding.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "client probe {} ({}), profile {}, {}: {} connection(s)",
            self.hostname,
            self.listen,
            self.profile,
            self.environment,
            self.connections.len()
        );
        for c in &self.connections {
            let case = c.case.map(Case::label).unwrap_or("(unknown name)");
            let how = match &c.outcome {
                Outcome::Completed => "accepted".to_owned(),
                Outcome::ClientAlert(a) => format!("refused: alert {a}"),
                Outcome::Closed => "refused: closed".to_owned(),
                Outcome::Timeout => "silent".to_owned(),
                Outcome::ServerError => {
                    format!("probe error: {}", c.error.as_deref().unwrap_or(""))
                }
                Outcome::NoHello => format!("no ClientHello: {}", c.error.as_deref().unwrap_or("")),
            };
            let v = c
                .version
                .map(|v| ProtocolVersion(v).to_string())
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  #{:<3} {:<21} {:<7} {}{}",
                c.index + 1,
                case,
                v,
                how,
                if c.false_start { " (False Start)" } else { "" }
            );
        }
        for f in &self.findings {
            let _ = writeln!(
                o,
                "{:<17} {:<34} {:<13} {}",
                label(f.status),
                f.check,
                f.requirement.to_string(),
                f.message
            );
            if matches!(f.status, Status::Fail | Status::Error) {
                if let Some(fix) = f.fix {
                    let _ = writeln!(o, "{:<17} fix: {fix}", "");
                }
            }
        }
        o
    }

    /// The self-contained HTML report.
    pub fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MedMij client probe</title><style>{STYLE}</style></head><body><h1>MedMij client probe</h1>"
        );
        h.push_str(&grid(&[self.column()]));
        self.section(&mut h);
        h.push_str("</body></html>\n");
        h
    }

    /// The grid column of this client (the demo's report puts it beside the nodes).
    pub fn column(&self) -> Column<'_> {
        Column {
            name: &self.client,
            anchor: format!("c{}", anchor(&self.client)),
            findings: &self.findings,
        }
    }

    /// This client's section: the cases served, how the client took each, what to fix.
    pub fn section(&self, h: &mut String) {
        let _ = write!(
            h,
            "<h2 id=\"c{}\">{} (client, {})</h2><p>Probe {} on {}, profile <b>{}</b>, environment <b>{}</b>, started {}; {} connection(s).</p>",
            anchor(&self.client),
            esc(&self.client),
            self.role.label(),
            esc(&self.hostname),
            esc(&self.listen),
            esc(&self.profile),
            self.environment,
            esc(&self.started_at),
            self.connections.len()
        );
        h.push_str(
            "<table><tr><th>#</th><th>case</th><th>SNI</th><th>version</th><th>outcome</th></tr>",
        );
        for c in &self.connections {
            let sni = c
                .hello
                .as_ref()
                .and_then(|x| x.server_name.clone())
                .unwrap_or_default();
            let class = match (
                c.case.map(Case::should_accept),
                c.outcome == Outcome::Completed,
            ) {
                (Some(true), true) | (Some(false), false) => "pass",
                (Some(_), _) => "fail",
                (None, _) => "",
            };
            let _ = write!(
                h,
                "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                c.index + 1,
                c.case.map(Case::label).unwrap_or("-"),
                esc(&sni),
                c.version.map(|v| ProtocolVersion(v).to_string()).unwrap_or_default(),
                esc(&match &c.outcome {
                    Outcome::Completed => "completed".to_owned(),
                    Outcome::ClientAlert(a) => format!("alert {a}"),
                    Outcome::Closed => "closed during the handshake".to_owned(),
                    Outcome::Timeout => "silent".to_owned(),
                    Outcome::ServerError => format!("probe error: {}", c.error.as_deref().unwrap_or("")),
                    Outcome::NoHello => format!("no ClientHello: {}", c.error.as_deref().unwrap_or("")),
                }),
                if c.false_start { " (False Start)" } else { "" }
            );
        }
        h.push_str("</table>");
        let todo: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|x| matches!(x.status, Status::Fail | Status::Warning | Status::Error))
            .collect();
        h.push_str(&fix_table(&todo));
    }

    /// JUnit XML (one suite: the client).
    pub fn junit(&self) -> String {
        let secs = self
            .connections
            .iter()
            .map(|c| c.at_ms + c.duration_ms)
            .max()
            .unwrap_or(0) as f64
            / 1000.0;
        medmij_scan::junit::render_suites(
            &format!("medmij-tls probe-client ({})", self.profile),
            &[medmij_scan::junit::Suite {
                name: &self.client,
                findings: &self.findings,
                seconds: secs,
            }],
        )
    }
}
