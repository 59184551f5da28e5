//! A self-contained HTML report: a grid of checks × files with the status of each, then per
//! file the chain with expiry dates and what to fix. No scripts, no external resources.

use crate::report::LintReport;
use medmij_core::outcome::{Finding, Status};
use std::fmt::Write;

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// The status label as in JSON.
pub fn label(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Info => "info",
        Status::NotApplicable => "not-applicable",
        Status::NotYetEffective => "not-yet-effective",
        Status::NotTested => "not-tested",
        Status::Manual => "manual",
        Status::Warning => "warning",
        Status::Fail => "fail",
        Status::Error => "error",
        _ => "other",
    }
}

/// The report style sheet (shared with the scanner's HTML report).
pub const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.pass{background:#d9f2d9}.fail{background:#f8d0d0}.warning{background:#fdeec2}\
.error{background:#e8c8f0}.manual{background:#dde8f8}.info{background:#eef6ee}\
.not-applicable,.not-tested,.not-yet-effective{color:#888}code{font-size:12px}h2{margin-top:2em}";

/// What to fix: one row per finding (status, check and requirement, what was found, the fix,
/// the rule), or "Nothing to fix." (shared with the scanner's report).
pub fn fix_table(todo: &[&Finding]) -> String {
    let mut h = String::new();
    if todo.is_empty() {
        let _ = write!(h, "<p class=\"pass\">Nothing to fix.</p>");
        return h;
    }
    let _ = write!(
        h,
        "<table><tr><th>status</th><th>check</th><th>found</th><th>fix</th><th>rule</th></tr>"
    );
    for x in todo {
        let _ = write!(
            h,
            "<tr class=\"{0}\"><td>{0}</td><td><code>{1}</code> ({2})</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>",
            label(x.status),
            x.check,
            x.requirement,
            esc(&x.message),
            esc(x.fix.unwrap_or("")),
            esc(x.citation)
        );
    }
    let _ = write!(h, "</table>");
    h
}

/// One column of a requirement grid: a name, the id of the section it links to, its findings.
pub struct Column<'a> {
    /// The header (an endpoint, a client, a file).
    pub name: &'a str,
    /// The `id` of its section below the grid.
    pub anchor: String,
    /// Its findings.
    pub findings: &'a [Finding],
}

/// The id a name gets as an HTML anchor.
pub fn anchor(t: &str) -> String {
    t.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The status a grid cell shows for these findings: the worst of those that were judged, so
/// a requirement with a pass and a not-applicable finding shows pass; not-applicable,
/// not-tested or not-yet-effective only when nothing else was judged.
pub fn cell_status(statuses: impl Iterator<Item = Status>) -> Option<Status> {
    let all: Vec<Status> = statuses.collect();
    all.iter()
        .copied()
        .filter(|s| {
            !matches!(
                s,
                Status::NotApplicable | Status::NotTested | Status::NotYetEffective
            )
        })
        .max()
        .or_else(|| all.iter().copied().max())
}

/// A grid of requirements × columns, each cell the worst judged status of that requirement's
/// findings ([`cell_status`]) (shared by the scanner's, the client probe's and the demo's reports). Rows in
/// registry order; a requirement no column judged is left out.
pub fn grid(columns: &[Column<'_>]) -> String {
    use medmij_core::requirement::REGISTRY;
    let worst = |c: &Column<'_>, req: &str| {
        cell_status(
            c.findings
                .iter()
                .filter(|f| f.requirement.0 == req)
                .map(|f| f.status),
        )
    };
    let mut h = String::from("<table id=\"grid\"><tr><th>requirement</th><th>title</th>");
    for c in columns {
        let _ = write!(h, "<th><a href=\"#{}\">{}</a></th>", c.anchor, esc(c.name));
    }
    h.push_str("</tr>");
    for req in REGISTRY {
        if !columns.iter().any(|c| worst(c, req.id.0).is_some()) {
            continue;
        }
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td>",
            req.id,
            esc(req.title)
        );
        for c in columns {
            match worst(c, req.id.0) {
                Some(st) => {
                    let _ = write!(h, "<td class=\"{0}\">{0}</td>", label(st));
                }
                None => h.push_str("<td>-</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h
}

/// Renders the report.
pub fn render(r: &LintReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MedMij certificate lint</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>MedMij certificate lint</h1><p>Role <b>{}</b>, profile <b>{}</b>, environment <b>{}</b>, at {}; DNS {}; revocation {}. {} file(s): {} fail, {} warning, {} error, {} manual.</p>",
        r.role.label(),
        esc(&r.profile),
        r.environment,
        esc(&r.at),
        if r.dns { "checked" } else { "not checked" },
        if r.revocation { "checked" } else { "not checked" },
        r.summary.files,
        r.summary.fail,
        r.summary.warning,
        r.summary.error,
        r.summary.manual
    );
    // The grid.
    let _ = write!(
        h,
        "<table id=\"grid\"><tr><th>check</th><th>requirement</th>"
    );
    for f in &r.files {
        let _ = write!(h, "<th>{}</th>", esc(&f.file));
    }
    let _ = write!(h, "</tr>");
    for c in crate::docs::lint_checks() {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td>",
            c.name, c.requirement
        );
        for f in &r.files {
            match f.findings.iter().find(|x| x.check == c.name) {
                Some(x) => {
                    let _ = write!(
                        h,
                        "<td class=\"{0}\" title=\"{1}\">{0}</td>",
                        label(x.status),
                        esc(&x.message)
                    );
                }
                None => {
                    let _ = write!(
                        h,
                        "<td class=\"error\">{}</td>",
                        if f.error.is_some() { "unreadable" } else { "-" }
                    );
                }
            }
        }
        let _ = write!(h, "</tr>");
    }
    let _ = write!(h, "</table>");
    // Per file.
    for f in &r.files {
        let _ = write!(h, "<h2>{}</h2>", esc(&f.file));
        if let Some(e) = &f.error {
            let _ = write!(h, "<p class=\"error\">Could not lint: {}</p>", esc(e));
            continue;
        }
        if !f.certificates.is_empty() {
            let _ = write!(h, "<table><tr><th>#</th><th>kind</th><th>subject</th><th>issuer</th><th>valid until</th></tr>");
            for c in &f.certificates {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    c.position,
                    c.kind,
                    esc(&c.subject),
                    esc(&c.issuer),
                    esc(&c.not_after)
                );
            }
            let _ = write!(h, "</table>");
        }
        let todo: Vec<_> = f
            .findings
            .iter()
            .filter(|x| {
                matches!(
                    x.status,
                    Status::Fail | Status::Warning | Status::Error | Status::Manual
                )
            })
            .collect();
        h.push_str(&fix_table(&todo));
    }
    let _ = writeln!(h, "</body></html>");
    h
}
