//! `medmij-tls lint`: check certificates, chains and CSRs against the MedMij rules before they
//! are ordered or deployed; `--dns` adds CAA and DNSSEC.

use super::verify::{EnvironmentArg, FailModeArg};
use super::ProfileArgs;
use crate::output::esc;
use anyhow::{bail, Context};
use medmij_core::input::{self, Kind};
use medmij_core::outcome::Status;
use medmij_core::profile::FailMode;
use medmij_core::Environment;
use medmij_lint::html::label;
use medmij_lint::{Linter, Options, Role};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Output formats of `lint`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LintFormat {
    /// For people (colour on a terminal).
    Text,
    /// Machine-readable (schema `medmij-tls/lint/1`, docs/schema/lint-1.json).
    Json,
    /// A self-contained HTML page.
    Html,
    /// Markdown (only with --list: the check table of docs/linter.md).
    Md,
}

/// The lowest status that makes the exit code 1.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailOn {
    /// Warnings and failures.
    Warning,
    /// Failures only.
    Fail,
}

impl FailOn {
    /// The status from which findings make the exit code 1.
    pub(crate) fn status(self) -> Status {
        match self {
            FailOn::Warning => Status::Warning,
            FailOn::Fail => Status::Fail,
        }
    }
}

/// Which traffic the certificate is for.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LintRole {
    /// Node to node: PKIoverheid private (core.tls.311, 314).
    Backchannel,
    /// Browser-facing: publicly trusted, OV or better (core.tls.315).
    Frontchannel,
}

/// Arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Which traffic the certificate is for.
    #[arg(long, value_enum, default_value = "backchannel")]
    role: LintRole,
    #[command(flatten)]
    profile: ProfileArgs,
    /// production, acceptance or test (DV frontchannel certificates pass only in test).
    #[arg(long, value_enum, default_value = "production")]
    environment: EnvironmentArg,
    /// Replace the default anchors (backchannel: none; frontchannel: the system root store) with these; repeatable.
    #[arg(long = "trust-anchor", value_name = "PEM")]
    trust_anchors: Vec<PathBuf>,
    /// The profile's PKIoverheid roots as `anchors fetch --dir DIR` wrote them (every *.pem there).
    #[arg(long, value_name = "DIR")]
    anchors_dir: Option<PathBuf>,
    /// A CRL file (DER or PEM) to check revocation with (implies --revocation hard); repeatable.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,
    /// Check revocation (fetches the CRL and OCSP named in the certificates): hard, soft or off (default off).
    #[arg(long, value_enum)]
    revocation: Option<FailModeArg>,
    /// Evaluate at this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Check CAA and DNSSEC for every SAN name (frontchannel).
    #[arg(long)]
    dns: bool,
    /// The DNS resolver (IP or IP:PORT; default: /etc/resolv.conf's first nameserver).
    #[arg(long, value_name = "ADDR", requires = "dns")]
    resolver: Option<String>,
    /// DNSKEY records (zone-file lines) to trust instead of the IANA root keys.
    #[arg(long, value_name = "FILE", requires = "dns")]
    dnssec_trust_anchor: Option<PathBuf>,
    /// Seconds per DNS query.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    dns_timeout: f64,
    /// The issuing CA's CAA identifier (issuer domain), when the built-in CA list lacks it; repeatable.
    #[arg(long = "caa-identifier", value_name = "DOMAIN")]
    caa_identifiers: Vec<String>,
    /// Exit 1 from this status up.
    #[arg(long, value_enum, default_value = "fail")]
    fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: LintFormat,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Text: list every finding, passes included.
    #[arg(long, short)]
    verbose: bool,
    /// List every lint check and exit.
    #[arg(long, conflicts_with = "explain")]
    list: bool,
    /// Explain one check (what, why, how to fix) and exit.
    #[arg(long, value_name = "CHECK")]
    explain: Option<String>,
    /// Certificate, chain (leaf first) or CSR files, PEM or DER.
    files: Vec<PathBuf>,
}

/// Runs the command.
pub(crate) fn run(a: Args) -> anyhow::Result<u8> {
    if a.list {
        match a.format {
            LintFormat::Md => crate::output::write(&medmij_lint::docs::list_markdown()),
            _ => crate::output::write(&medmij_lint::docs::list_text()),
        }
        return Ok(0);
    }
    if let Some(id) = &a.explain {
        match medmij_lint::docs::explain(id) {
            Some(t) => crate::output::write(&t),
            None => bail!(
                "--explain `{}`: no such check; `medmij-tls lint --list` lists them",
                id.escape_debug()
            ),
        }
        return Ok(0);
    }
    if a.files.is_empty() {
        bail!("no file given: name certificate, chain or CSR files (or --list / --explain CHECK)");
    }
    if a.format == LintFormat::Md {
        bail!("--format md is for --list; reports are text, json or html");
    }
    let profile = a.profile.load()?;
    let at = super::instant(a.at.as_deref())?;
    if !(a.dns_timeout > 0.0 && a.dns_timeout <= 60.0) {
        bail!(
            "--dns-timeout {}: expected seconds between 0 and 60",
            a.dns_timeout
        );
    }
    let mut crl_files = Vec::new();
    for f in &a.crls {
        let raw = input::read(f, Kind::Crl).context("--crl")?;
        crl_files.push((
            f.display().to_string(),
            super::verify::pem_or_der(&raw).unwrap_or(raw),
        ));
    }
    let revocation = match (a.revocation, a.crls.is_empty()) {
        (Some(FailModeArg::Off), _) => None,
        (Some(m), _) => Some(FailMode::from(m)),
        (None, false) => Some(FailMode::Hard),
        (None, true) => None,
    };
    let dns = if a.dns {
        let resolver = match &a.resolver {
            None => None,
            Some(r) => Some(parse_resolver(r)?),
        };
        Some(medmij_lint::dns::DnsConfig {
            resolver,
            trust_anchor: a.dnssec_trust_anchor.clone(),
            timeout: Some(Duration::from_secs_f64(a.dns_timeout)),
            budget: None,
        })
    } else {
        None
    };
    let environment = Environment::from(a.environment);
    let trust_anchors = super::anchor_files(&a.trust_anchors, a.anchors_dir.as_deref())?;
    let linter = Linter::new(Options {
        role: match a.role {
            LintRole::Backchannel => Role::Backchannel,
            LintRole::Frontchannel => Role::Frontchannel,
        },
        profile,
        environment,
        at,
        trust_anchors,
        crl_files,
        revocation,
        fetch_timeout: Duration::from_secs(5),
        dns,
        caa_identifiers: a.caa_identifiers.clone(),
    })?;
    let report = linter.report(&a.files);
    let text = match a.format {
        LintFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        LintFormat::Html => medmij_lint::html::render(&report),
        _ => text(&report, a.verbose, a.output.is_none() && colour()),
    };
    match &a.output {
        Some(p) => medmij_core::atomic_file::write(p, text.as_bytes())
            .with_context(|| format!("--output {}", p.display()))?,
        None => crate::output::write(&text),
    }
    Ok(report.exit_code(a.fail_on.status()))
}

/// `IP` or `IP:PORT` (`[v6]:port`), port 53 by default.
fn parse_resolver(r: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(a) = r.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = r.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    bail!(
        "--resolver `{}`: expected an IP address or IP:PORT",
        r.escape_debug()
    )
}

fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn paint(s: Status, on: bool) -> String {
    let l = label(s).to_uppercase();
    if !on {
        return format!("{l:<15}");
    }
    let code = match s {
        Status::Pass => "32",
        Status::Fail | Status::Error => "31",
        Status::Warning => "33",
        Status::Manual => "36",
        _ => "2",
    };
    format!("\x1b[{code}m{l:<15}\x1b[0m")
}

fn text(r: &medmij_lint::LintReport, verbose: bool, colour: bool) -> String {
    let mut s = String::new();
    let mut line = |t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    for f in &r.files {
        let head = match f.worst() {
            _ if f.error.is_some() => "UNREADABLE",
            Some(Status::Fail) => "FAIL",
            Some(Status::Error) => "ERROR",
            Some(Status::Warning) => "WARNING",
            _ => "PASS",
        };
        line(format!(
            "{head}  {} ({}{}, profile {}, {}, at {})",
            esc(&f.file),
            f.kind.unwrap_or("?"),
            if f.kind.is_some() {
                format!(", {}", r.role.label())
            } else {
                String::new()
            },
            esc(&r.profile),
            r.environment,
            r.at
        ));
        if let Some(e) = &f.error {
            line(format!("  could not lint: {}", esc(e)));
            continue;
        }
        let mut quiet = std::collections::BTreeMap::<&str, usize>::new();
        for x in &f.findings {
            let shown = verbose
                || matches!(
                    x.status,
                    Status::Fail | Status::Warning | Status::Error | Status::Manual | Status::Info
                );
            if !shown {
                *quiet.entry(label(x.status)).or_default() += 1;
                continue;
            }
            line(format!(
                "  {} {:<13} {}: {}",
                paint(x.status, colour),
                x.requirement.to_string(),
                x.check,
                esc(&x.message)
            ));
            if let (Some(fix), true) = (
                x.fix,
                matches!(x.status, Status::Fail | Status::Warning | Status::Error),
            ) {
                line(format!("  {:<15} {:<13} fix: {}", "", "", fix));
            }
        }
        if !quiet.is_empty() {
            let parts: Vec<String> = quiet.iter().map(|(k, n)| format!("{n} {k}")).collect();
            line(format!("  ({}; -v lists them)", parts.join(", ")));
        }
    }
    line(format!(
        "{} file(s): {} fail, {} warning, {} error, {} manual, {} pass",
        r.summary.files,
        r.summary.fail,
        r.summary.warning,
        r.summary.error,
        r.summary.manual,
        r.summary.pass
    ));
    s
}
