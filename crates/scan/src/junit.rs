//! JUnit XML for CI: one test suite per endpoint, one test case per finding; a fail is a
//! `<failure>`, an error an `<error>`, and not-applicable / not-tested findings are `<skipped>`.

use crate::report::ScanReport;
use medmij_core::outcome::Status;
use std::fmt::Write;

/// XML-escapes text: the HTML report's escape (entities for markup, control characters written
/// out as `\u{..}`, which XML 1.0 would not allow raw).
fn x(s: &str) -> String {
    medmij_lint::html::esc(s)
}

/// One suite: a name, its findings and how long it took.
pub struct Suite<'a> {
    /// The suite's name (an endpoint, a client).
    pub name: &'a str,
    /// Its findings.
    pub findings: &'a [medmij_core::outcome::Finding],
    /// Seconds.
    pub seconds: f64,
}

/// Renders the report.
pub fn render(r: &ScanReport) -> String {
    let suites: Vec<Suite<'_>> = r
        .targets
        .iter()
        .map(|t| Suite {
            name: &t.target,
            findings: &t.findings,
            seconds: t.facts.duration_ms as f64 / 1000.0,
        })
        .collect();
    render_suites(&format!("medmij-tls scan ({})", r.profile), &suites)
}

/// JUnit XML for any set of suites (the scanner's endpoints, the client probe's client).
pub fn render_suites(title: &str, suites: &[Suite<'_>]) -> String {
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all: Vec<_> = suites.iter().flat_map(|t| t.findings).collect();
    let failures = all.iter().filter(|f| f.status == Status::Fail).count();
    let errors = all.iter().filter(|f| f.status == Status::Error).count();
    let _ = writeln!(
        o,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        x(title),
        all.len()
    );
    for t in suites {
        let fails = t
            .findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .count();
        let errs = t
            .findings
            .iter()
            .filter(|f| f.status == Status::Error)
            .count();
        let skipped = t
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.status,
                    Status::NotApplicable | Status::NotTested | Status::NotYetEffective
                )
            })
            .count();
        let _ = writeln!(
            o,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"{errs}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            x(t.name),
            t.findings.len(),
            t.seconds
        );
        for f in t.findings {
            let _ = write!(
                o,
                "    <testcase classname=\"{}\" name=\"{} {}\"",
                x(t.name),
                f.requirement,
                f.check
            );
            let body = format!(
                "{}{}",
                f.message,
                f.fix.map(|x| format!(" (fix: {x})")).unwrap_or_default()
            );
            match f.status {
                Status::Fail => {
                    let _ = writeln!(
                        o,
                        "><failure message=\"{}\">{}</failure></testcase>",
                        x(&f.message),
                        x(&body)
                    );
                }
                Status::Error => {
                    let _ = writeln!(
                        o,
                        "><error message=\"{}\">{}</error></testcase>",
                        x(&f.message),
                        x(&body)
                    );
                }
                Status::NotApplicable | Status::NotTested | Status::NotYetEffective => {
                    let _ = writeln!(o, "><skipped message=\"{}\"/></testcase>", x(&f.message));
                }
                Status::Warning => {
                    let _ = writeln!(
                        o,
                        "><system-out>warning: {}</system-out></testcase>",
                        x(&body)
                    );
                }
                _ => {
                    let _ = writeln!(o, "/>");
                }
            }
        }
        let _ = writeln!(o, "  </testsuite>");
    }
    o.push_str("</testsuites>\n");
    o
}
