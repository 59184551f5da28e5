//! A self-contained HTML report: a grid of requirements × endpoints (the worst status of each
//! requirement's findings), then per endpoint what it offers, the chain with expiry dates, and
//! what to fix. No scripts, no external resources.

use crate::report::{ScanReport, TargetReport};
use medmij_core::outcome::Status;
use medmij_lint::html::{anchor, esc, fix_table, grid, Column, STYLE};
use std::fmt::Write;

/// Renders the report.
pub fn render(r: &ScanReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MedMij endpoint scan</title><style>{STYLE}</style></head><body>"
    );
    let s = &r.summary;
    let _ = write!(
        h,
        "<h1>MedMij endpoint scan</h1><p>Profile <b>{}</b>, environment <b>{}</b>{}, scanned {}. {} endpoint(s): {} compliant, {} TLS 1.3-ready, {} unreachable.</p>",
        esc(&r.profile),
        r.environment,
        if r.strict { ", strict" } else { "" },
        esc(&r.scanned_at),
        s.targets,
        s.compliant,
        s.tls13_ready,
        s.unreachable.len()
    );
    let columns: Vec<Column<'_>> = r
        .targets
        .iter()
        .map(|t| Column {
            name: &t.target,
            anchor: format!("t{}", anchor(&t.target)),
            findings: &t.findings,
        })
        .collect();
    h.push_str(&grid(&columns));
    if !s.not_tls13_ready.is_empty() {
        let _ = write!(h, "<h2>Not TLS 1.3-ready</h2><ul>");
        for (t, why) in &s.not_tls13_ready {
            let _ = write!(h, "<li>{}: {}</li>", esc(t), esc(why));
        }
        let _ = write!(h, "</ul>");
    }
    for t in &r.targets {
        endpoint(&mut h, t);
    }
    let _ = writeln!(h, "</body></html>");
    h
}

/// One endpoint's section (the demo's report shows it too).
pub fn endpoint(h: &mut String, t: &TargetReport) {
    let f = &t.facts;
    let _ = write!(
        h,
        "<h2 id=\"t{}\">{} ({})</h2><p>Address {}, SNI {}; {} connections in {} ms; client certificate {:?}.</p>",
        anchor(&t.target),
        esc(&t.target),
        t.role.label(),
        esc(&f.address),
        esc(f.sni.as_deref().unwrap_or("none")),
        f.connections,
        f.duration_ms,
        f.client_auth
    );
    if !f.cipher_suites.is_empty() {
        let _ = write!(
            h,
            "<table><tr><th>version</th><th>suite</th><th>code</th><th>NCSC</th></tr>"
        );
        for s in &f.cipher_suites {
            let lvl = s.ncsc.map(|l| l.label()).unwrap_or("-");
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td><code>0x{:04X}</code></td><td>{}</td></tr>",
                s.version,
                esc(s.name.as_deref().unwrap_or("(unnamed)")),
                s.code,
                lvl
            );
        }
        let _ = write!(h, "</table>");
    }
    if !f.groups.is_empty() {
        let names: Vec<String> = f
            .groups
            .iter()
            .map(|g| {
                format!(
                    "{} {} ({})",
                    g.version,
                    g.name.as_deref().unwrap_or("?"),
                    g.ncsc.map(|l| l.label()).unwrap_or("-")
                )
            })
            .collect();
        let _ = write!(h, "<p>Groups: {}</p>", esc(&names.join(", ")));
    }
    if !f.chain.is_empty() {
        let _ = write!(
            h,
            "<table><tr><th>#</th><th>subject</th><th>issuer</th><th>valid until</th></tr>"
        );
        for (i, c) in f.chain.iter().enumerate() {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                esc(&c.subject),
                esc(&c.issuer),
                esc(&c.not_after)
            );
        }
        let _ = write!(h, "</table>");
    }
    let todo: Vec<_> = t
        .findings
        .iter()
        .filter(|x| matches!(x.status, Status::Fail | Status::Warning | Status::Error))
        .collect();
    h.push_str(&fix_table(&todo));
}
