//! The demo's report: the network it built, the PGO → ZA exchange, and the scanner's, linter's
//! and client probe's own reports side by side, as JSON (`medmij-tls/demo/1`, each part in its
//! own published schema), one HTML page (a requirements × nodes grid) and a short summary.

use medmij_core::outcome::{Finding, Status};
use medmij_core::requirement::REGISTRY;
use medmij_lint::html::{anchor, cell_status, esc, grid, label, Column, STYLE};
use medmij_lint::LintReport;
use medmij_probe::ProbeReport;
use medmij_scan::ScanReport;
use serde::Serialize;
use std::fmt::Write;

/// The JSON schema id (`docs/schema/demo-1.json`).
pub const SCHEMA: &str = "medmij-tls/demo/1";

/// One node of the demo network.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// Its name in the report.
    pub name: String,
    /// Its MedMij hostname.
    pub hostname: String,
    /// Where it listened.
    pub address: String,
    /// Its label in the scan report.
    pub target: String,
    /// Its certificate file (linted).
    pub chain_file: String,
}

/// The backchannel call PGO → ZA.
#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    /// The URL the PGO application asked its outbound proxy for.
    pub url: String,
    /// The HTTP status it got.
    pub status: u16,
    /// The body it got (the ZA application's answer).
    pub body: String,
    /// The identity headers the ZA application received from its gateway.
    pub identity_headers: Vec<(String, String)>,
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// When it started.
    pub started_at: String,
    /// How long it took.
    pub duration_ms: u64,
    /// The output directory.
    pub out: String,
    /// The nodes.
    pub nodes: Vec<Node>,
    /// PGO → ZA.
    pub exchange: Exchange,
    /// What the PGO application got from its outbound proxy for each probe case (0: no answer).
    pub proxied: Vec<(String, u16)>,
    /// The scan of every node (`medmij-tls/scan/1`).
    pub scan: ScanReport,
    /// The lint of every node's certificate file (`medmij-tls/lint/1`).
    pub lint: LintReport,
    /// The client probe of the PGO's outbound proxy (`medmij-tls/probe-client/1`).
    pub probe: ProbeReport,
}

fn worst(f: &[Finding]) -> Option<Status> {
    f.iter().map(|x| x.status).max()
}

fn count(f: &[Finding], s: Status) -> usize {
    f.iter().filter(|x| x.status == s).count()
}

impl DemoReport {
    /// The JSON text.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Per node: the scan findings and the lint findings of its certificate file.
    fn node_findings(&self) -> Vec<(&Node, Vec<Finding>)> {
        self.nodes
            .iter()
            .map(|n| {
                let mut f: Vec<Finding> = self
                    .scan
                    .targets
                    .iter()
                    .filter(|t| t.target == n.target)
                    .flat_map(|t| t.findings.iter().cloned())
                    .collect();
                f.extend(
                    self.lint
                        .files
                        .iter()
                        .filter(|l| l.file == n.chain_file)
                        .flat_map(|l| l.findings.iter().cloned()),
                );
                (n, f)
            })
            .collect()
    }

    /// Whether the network behaved as designed: PGO → ZA answered 200 with the PGO's identity,
    /// both gateways and the outbound proxy without a failure, the misconfigured node failing.
    /// Returns what did not.
    pub fn unexpected(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.exchange.status != 200 {
            v.push(format!(
                "PGO → ZA answered {} instead of 200",
                self.exchange.status
            ));
        }
        if !self
            .exchange
            .identity_headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-medmij-peer-host"))
        {
            v.push("the ZA application got no X-MedMij-Peer-Host header".into());
        }
        for (i, (n, f)) in self.node_findings().into_iter().enumerate() {
            let failing = matches!(worst(&f), Some(Status::Fail | Status::Error));
            let meant_to_fail = i == 2;
            if failing != meant_to_fail {
                v.push(format!(
                    "{} was {}",
                    n.name,
                    if failing {
                        "judged non-compliant"
                    } else {
                        "judged compliant"
                    }
                ));
            }
        }
        if matches!(
            worst(&self.probe.findings),
            Some(Status::Fail | Status::Error)
        ) {
            v.push("the PGO's outbound proxy failed a client-probe check".into());
        }
        v
    }

    /// The summary printed at the end: a line per node and the client, then a line per
    /// requirement with each column's worst status.
    pub fn summary(&self) -> String {
        let mut o = String::new();
        let e = &self.exchange;
        let _ = writeln!(
            o,
            "PGO → ZA backchannel call: GET {} via the PGO's outbound proxy → {}",
            e.url, e.status
        );
        let _ = writeln!(o, "  the ZA application received:");
        for (k, v) in &e.identity_headers {
            let _ = writeln!(o, "    {k}: {v}");
        }
        let nodes = self.node_findings();
        let mut cols: Vec<(String, Vec<Finding>)> = nodes
            .iter()
            .map(|(n, f)| (n.name.clone(), f.clone()))
            .collect();
        cols.push((self.probe.client.clone(), self.probe.findings.clone()));
        let _ = writeln!(o);
        for (i, (name, f)) in cols.iter().enumerate() {
            let verdict = match worst(f) {
                Some(Status::Fail | Status::Error) => {
                    let mut reqs: Vec<String> = f
                        .iter()
                        .filter(|x| x.status == Status::Fail)
                        .map(|x| x.requirement.to_string())
                        .collect();
                    reqs.sort();
                    reqs.dedup();
                    format!(
                        "NOT COMPLIANT: {} fail ({})",
                        count(f, Status::Fail),
                        reqs.join(", ")
                    )
                }
                _ => format!("compliant ({} warning)", count(f, Status::Warning)),
            };
            let _ = writeln!(o, "  [{}] {name}: {verdict}", i + 1);
        }
        let _ = writeln!(o);
        let _ = write!(o, "  {:<17}", "requirement");
        for i in 0..cols.len() {
            let _ = write!(o, " {:<9}", format!("[{}]", i + 1));
        }
        let _ = writeln!(o);
        for req in REGISTRY {
            let cells: Vec<Option<Status>> = cols
                .iter()
                .map(|(_, f)| {
                    cell_status(
                        f.iter()
                            .filter(|x| x.requirement == req.id)
                            .map(|x| x.status),
                    )
                })
                .collect();
            if cells.iter().all(Option::is_none) {
                continue;
            }
            let _ = write!(o, "  {:<17}", req.id.to_string());
            for c in cells {
                let _ = write!(o, " {:<9}", c.map(short).unwrap_or("-"));
            }
            let _ = writeln!(o, " {}", req.title);
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "report: {}/report.html (and report.json); the gateways' configurations: {}/za-gateway.toml, {}/pgo-gateway.toml",
            self.out, self.out, self.out
        );
        o
    }

    /// The self-contained HTML page.
    pub fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MedMij demo network</title><style>{STYLE}</style></head><body>\
             <h1>MedMij demo network</h1><p>Started {}, {:.1} s. Profile <b>{}</b>, environment <b>test</b>. A test PKI with its CRL/OCSP server, two gateways, one misconfigured node and a client probe, all on loopback.</p>",
            esc(&self.started_at),
            self.duration_ms as f64 / 1000.0,
            esc(&self.scan.profile)
        );
        let nodes = self.node_findings();
        let mut columns: Vec<Column<'_>> = nodes
            .iter()
            .map(|(n, f)| Column {
                name: &n.name,
                anchor: format!("t{}", anchor(&n.target)),
                findings: f,
            })
            .collect();
        columns.push(self.probe.column());
        h.push_str(&grid(&columns));
        h.push_str("<h2>Nodes</h2><table id=\"nodes\"><tr><th>node</th><th>hostname</th><th>address</th><th>result</th></tr>");
        for (n, f) in &nodes {
            let st = worst(f).unwrap_or(Status::Pass);
            let verdict = if matches!(st, Status::Fail | Status::Error) {
                "fail"
            } else {
                "pass"
            };
            let _ = write!(
                h,
                "<tr class=\"{verdict}\"><td>{}</td><td>{}</td><td>{}</td><td>{} ({} fail, {} warning)</td></tr>",
                esc(&n.name),
                esc(&n.hostname),
                esc(&n.address),
                label(st),
                count(f, Status::Fail),
                count(f, Status::Warning)
            );
        }
        h.push_str("</table>");
        let e = &self.exchange;
        let _ = write!(
            h,
            "<h2>PGO → ZA</h2><p>The PGO application sent <code>GET {}</code> to its gateway's outbound proxy (plain HTTP on loopback); the gateway made it mutual TLS to the ZA node, whose gateway answered <b>{}</b> and passed these identity headers to the ZA application:</p><table id=\"identity\"><tr><th>header</th><th>value</th></tr>",
            esc(&e.url),
            e.status
        );
        for (k, v) in &e.identity_headers {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                esc(k),
                esc(v)
            );
        }
        h.push_str("</table>");
        for t in &self.scan.targets {
            medmij_scan::html::endpoint(&mut h, t);
        }
        self.probe.section(&mut h);
        h.push_str("<h2>Through the outbound proxy</h2><table><tr><th>case</th><th>HTTP status the PGO application got</th></tr>");
        for (c, s) in &self.proxied {
            let _ = write!(h, "<tr><td>{}</td><td>{s}</td></tr>", esc(c));
        }
        h.push_str("</table></body></html>\n");
        h
    }
}

fn short(s: Status) -> &'static str {
    match s {
        Status::NotApplicable => "n/a",
        Status::NotTested => "untested",
        Status::NotYetEffective => "future",
        s => label(s),
    }
}
