//! `medmij-tls scan`: probe endpoints and judge them per requirement (or judge a stored report
//! again under another profile with `--from-json`).

use super::lint::FailOn;
use super::verify::EnvironmentArg;
use super::ProfileArgs;
use crate::output::esc;
use anyhow::{bail, Context as _};
use medmij_core::input::{self, Kind};
use medmij_core::outcome::Status;
use medmij_core::Environment;
use medmij_scan::judge::{Context, Role};
use medmij_scan::probe::refusal;
use medmij_scan::targets::{self, Target};
use medmij_scan::{net, probe, ProbeOptions, ScanReport};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// Output formats of `scan`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanFormat {
    /// For people (colour on a terminal).
    Text,
    /// Machine-readable (schema `medmij-tls/scan/1`, docs/schema/scan-1.json).
    Json,
    /// A self-contained HTML page.
    Html,
    /// JUnit XML for CI (one test case per finding).
    Junit,
    /// Markdown (only with --list: the check table of docs/scanner.md).
    Md,
}

/// Which side the endpoints serve.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanRole {
    /// Node-to-node mTLS server (client certificate required, refusal probes).
    Backchannel,
    /// PGO-facing server (no client certificate; plain HTTP only redirects; HSTS).
    Frontchannel,
}

/// Arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// `host[:port]` (default port 443), `IPv4:port`, `[IPv6]:port`.
    targets: Vec<String>,
    /// A file of targets, one per line (`#` comments).
    #[arg(long, value_name = "FILE")]
    targets_file: Option<PathBuf>,
    /// Scan every node on this whitelist (file or https URL), at --whitelist-port.
    #[arg(long, value_name = "FILE|URL")]
    whitelist: Option<String>,
    /// The port of whitelisted nodes.
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    whitelist_port: u16,
    /// CA certificate(s) for an https:// whitelist URL instead of the Mozilla roots (PEM).
    #[arg(long, value_name = "PEM")]
    whitelist_ca: Option<PathBuf>,
    /// Which side the endpoints serve.
    #[arg(long, value_enum, default_value = "backchannel")]
    role: ScanRole,
    #[command(flatten)]
    profile: ProfileArgs,
    /// production, acceptance or test.
    #[arg(long, value_enum, default_value = "production")]
    environment: EnvironmentArg,
    /// Sufficient-only items fail (core.tls.301 asks for good).
    #[arg(long)]
    strict: bool,
    /// The SNI to send instead of the target's host name.
    #[arg(long, value_name = "NAME")]
    sni: Option<String>,
    /// A client certificate chain (PEM) for full handshakes against mTLS servers.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Trust anchors for judging the served chain (backchannel: private roots); repeatable.
    #[arg(long = "trust-anchor", value_name = "PEM")]
    trust_anchors: Vec<PathBuf>,
    /// The profile's PKIoverheid roots as `anchors fetch --dir DIR` wrote them.
    #[arg(long, value_name = "DIR")]
    anchors_dir: Option<PathBuf>,
    /// A test PKI (`pki init`) the server trusts: adds revoked, expired, not-yet-valid,
    /// clientAuth-only and not-whitelisted refusal probes.
    #[arg(long, value_name = "DIR")]
    probe_pki: Option<PathBuf>,
    /// Seconds per probe (connect, send, read the first flight).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    timeout: f64,
    /// Connections open at once per host (at most 16).
    #[arg(long, value_name = "N", default_value_t = net::DEFAULT_PER_HOST_CONCURRENCY)]
    per_host_concurrency: usize,
    /// Connections in all per host (at most 2000).
    #[arg(long, value_name = "N", default_value_t = net::DEFAULT_PER_HOST_CONNECTIONS)]
    per_host_connections: usize,
    /// Endpoints scanned at once (at most 256).
    #[arg(long, value_name = "N", default_value_t = probe::DEFAULT_PARALLEL_HOSTS)]
    parallel_hosts: usize,
    /// Connect to ADDR for HOST:PORT without asking DNS (curl's `--resolve HOST:PORT:ADDR`); repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// The plain-HTTP port probed on frontchannel hosts.
    #[arg(long, value_name = "PORT", default_value_t = 80)]
    http_port: u16,
    /// Judge a stored JSON report again (under --profile) instead of scanning.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["targets", "targets_file", "whitelist"])]
    from_json: Option<PathBuf>,
    /// Exit 1 from this status up.
    #[arg(long, value_enum, default_value = "fail")]
    fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: ScanFormat,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Text: list every finding, passes included.
    #[arg(long, short)]
    verbose: bool,
    /// List every scan check and exit (the served chain is also judged with every lint check).
    #[arg(long, conflicts_with = "explain")]
    list: bool,
    /// Explain one check (what, why, how to fix) and exit.
    #[arg(long, value_name = "CHECK")]
    explain: Option<String>,
}

fn collect_targets(a: &Args) -> anyhow::Result<Vec<Target>> {
    let mut out = Vec::new();
    for t in &a.targets {
        out.push(Target::parse(t).map_err(|e| anyhow::anyhow!(e))?);
    }
    if let Some(f) = &a.targets_file {
        let text = input::read_text(f, Kind::TargetList).context("--targets-file")?;
        out.extend(
            targets::parse_list(&text, &f.display().to_string()).map_err(|e| anyhow::anyhow!(e))?,
        );
    }
    if let Some(w) = &a.whitelist {
        let http = match &a.whitelist_ca {
            Some(p) => super::whitelist::client_with_roots(
                p,
                medmij_verify::http::DEFAULT_TIMEOUT.as_secs_f64(),
            )?,
            None => medmij_verify::http::HttpClient::default(),
        };
        let store = medmij_verify::whitelist::Store::new(
            medmij_verify::whitelist::Source::parse(w),
            http,
            None,
            false,
        );
        let list = super::whitelist::load_for_use(&store, "--whitelist")?;
        for h in list.hostnames() {
            out.push(
                Target::parse(&format!("{h}:{}", a.whitelist_port))
                    .map_err(|e| anyhow::anyhow!(e))?,
            );
        }
    }
    if out.is_empty() {
        bail!("no target: name host[:port], --targets-file, --whitelist or --from-json");
    }
    Ok(out)
}

/// `HOST:PORT:ADDR` (ADDR an IPv4 or IPv6 address, brackets optional).
fn parse_resolve(r: &str) -> anyhow::Result<(String, u16, std::net::IpAddr)> {
    let bad = || {
        anyhow::anyhow!(
            "--resolve `{}`: expected HOST:PORT:ADDR, e.g. node.example:443:127.0.0.1",
            r.escape_debug()
        )
    };
    let mut parts = r.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip = addr.parse().map_err(|_| bad())?;
    Ok((host.to_ascii_lowercase(), port, ip))
}

fn bounded(name: &str, v: usize, max: usize) -> anyhow::Result<usize> {
    if v == 0 || v > max {
        bail!("--{name} {v}: expected 1 to {max}");
    }
    Ok(v)
}

/// Runs the command.
pub(crate) fn run(a: Args) -> anyhow::Result<u8> {
    use medmij_lint::docs;
    if a.list {
        match a.format {
            ScanFormat::Md => {
                crate::output::write(&docs::list_markdown_of("scan", docs::scan_checks()))
            }
            _ => crate::output::write(&docs::list_text_of(docs::scan_checks())),
        }
        return Ok(0);
    }
    if let Some(id) = &a.explain {
        match docs::explain(id) {
            Some(t) => crate::output::write(&t),
            None => bail!(
                "--explain `{}`: no such check; `medmij-tls scan --list` lists them",
                id.escape_debug()
            ),
        }
        return Ok(0);
    }
    if a.format == ScanFormat::Md {
        bail!("--format md is for --list; reports are text, json, html or junit");
    }
    let profile = a.profile.load()?;
    let environment = Environment::from(a.environment);
    let role = match a.role {
        ScanRole::Backchannel => Role::Backchannel,
        ScanRole::Frontchannel => Role::Frontchannel,
    };
    if !(a.timeout > 0.0 && a.timeout <= 120.0) {
        bail!(
            "--timeout {}: expected seconds between 0 and 120",
            a.timeout
        );
    }
    let (scanned_at, scanned) = match &a.from_json {
        Some(f) => {
            let text = input::read_text(f, Kind::ScanReport).context("--from-json")?;
            let stored = ScanReport::read_stored(&text, &f.display().to_string())
                .map_err(|e| anyhow::anyhow!(e))?;
            let at = stored.scanned_at.clone();
            (
                at,
                stored
                    .targets
                    .into_iter()
                    .map(|t| (t.target, t.role, t.facts))
                    .collect::<Vec<_>>(),
            )
        }
        None => {
            let targets = collect_targets(&a)?;
            let mut o = ProbeOptions::new(role).map_err(|e| anyhow::anyhow!(e))?;
            o.timeout = Duration::from_secs_f64(a.timeout);
            o.per_host_concurrency = bounded(
                "per-host-concurrency",
                a.per_host_concurrency,
                net::MAX_PER_HOST_CONCURRENCY,
            )?;
            o.per_host_connections = bounded(
                "per-host-connections",
                a.per_host_connections,
                net::MAX_PER_HOST_CONNECTIONS,
            )?;
            o.http_port = a.http_port;
            for r in &a.resolve {
                o.resolve.push(parse_resolve(r)?);
            }
            o.sni = a.sni.clone();
            if let (Some(c), Some(k)) = (&a.client_cert, &a.client_key) {
                o.identity = Some(
                    refusal::identity(c, k)
                        .map_err(|e| anyhow::anyhow!("--client-cert/--client-key: {e}"))?,
                );
            }
            if let Some(d) = &a.probe_pki {
                o.refusal
                    .add_probe_pki(d)
                    .map_err(|e| anyhow::anyhow!("--probe-pki: {e}"))?;
            }
            let parallel = bounded(
                "parallel-hosts",
                a.parallel_hosts,
                probe::MAX_PARALLEL_HOSTS,
            )?;
            let at = now_rfc3339();
            let bar = std::io::stderr().is_terminal() && targets.len() > 1;
            let progress = |done: usize, total: usize| {
                if bar {
                    let w = 30 * done / total.max(1);
                    eprint!("\r[{}{}] {done}/{total}", "#".repeat(w), " ".repeat(30 - w));
                    if done == total {
                        eprintln!();
                    }
                }
            };
            let facts = probe::scan_all(&targets, &o, parallel, &progress);
            (
                at,
                targets
                    .into_iter()
                    .zip(facts)
                    .map(|(t, f)| (t.label, role, f))
                    .collect(),
            )
        }
    };
    let trust_anchors = super::anchor_files(&a.trust_anchors, a.anchors_dir.as_deref())?;
    let at =
        time::OffsetDateTime::parse(&scanned_at, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc().unix_timestamp());
    // One linter per role present: the chain is judged as the role's certificate.
    let linter_for = |r: Role| {
        medmij_lint::Linter::new(medmij_lint::Options {
            role: match r {
                Role::Backchannel => medmij_lint::Role::Backchannel,
                Role::Frontchannel => medmij_lint::Role::Frontchannel,
            },
            profile: profile.clone(),
            environment,
            at,
            trust_anchors: trust_anchors.clone(),
            crl_files: Vec::new(),
            revocation: None,
            fetch_timeout: Duration::from_secs(5),
            dns: None,
            caa_identifiers: Vec::new(),
        })
    };
    let back = linter_for(Role::Backchannel)?;
    let front = linter_for(Role::Frontchannel)?;
    let date = scanned_at.get(..10).unwrap_or("").to_owned();
    let mut reports = Vec::new();
    for r in [Role::Backchannel, Role::Frontchannel] {
        let part: Vec<_> = scanned
            .iter()
            .filter(|(_, rr, _)| *rr == r)
            .cloned()
            .collect();
        if part.is_empty() {
            continue;
        }
        let ctx = Context {
            profile: &profile,
            environment,
            role: r,
            strict: a.strict,
            date: date.clone(),
            linter: Some(if r == Role::Backchannel {
                &back
            } else {
                &front
            }),
        };
        reports.push(ScanReport::judge(&ctx, scanned_at.clone(), part));
    }
    let report = merge(reports, &profile.id, environment, a.strict, scanned_at);
    let text = match a.format {
        ScanFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ScanFormat::Html => medmij_scan::html::render(&report),
        ScanFormat::Junit => medmij_scan::junit::render(&report),
        ScanFormat::Text | ScanFormat::Md => {
            text(&report, a.verbose, a.output.is_none() && colour())
        }
    };
    match &a.output {
        Some(p) => medmij_core::atomic_file::write(p, text.as_bytes())
            .with_context(|| format!("--output {}", p.display()))?,
        None => crate::output::write(&text),
    }
    let threshold = a.fail_on.status();
    // 2: a target could not be scanned at all; 1: findings at or above --fail-on.
    let findings_hit = report
        .targets
        .iter()
        .flat_map(|t| &t.findings)
        .any(|f| f.status >= threshold && f.status != Status::Error);
    Ok(if findings_hit {
        1
    } else if report.worst() == Some(Status::Error) || !report.summary.unreachable.is_empty() {
        2
    } else {
        0
    })
}

fn merge(
    mut parts: Vec<ScanReport>,
    profile: &str,
    environment: Environment,
    strict: bool,
    scanned_at: String,
) -> ScanReport {
    if parts.len() == 1 {
        return parts.remove(0);
    }
    let targets: Vec<_> = parts.into_iter().flat_map(|p| p.targets).collect();
    let mut r = ScanReport {
        schema: medmij_scan::report::SCHEMA,
        profile: profile.to_owned(),
        environment: environment.label(),
        strict,
        scanned_at,
        targets,
        summary: medmij_scan::report::Summary {
            targets: 0,
            compliant: 0,
            tls13_ready: 0,
            not_tls13_ready: Vec::new(),
            unreachable: Vec::new(),
        },
    };
    r.summary = medmij_scan::report::summarize(&r.targets);
    r
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn paint(s: Status, on: bool) -> String {
    let label = medmij_lint::html::label(s);
    if !on {
        return label.to_owned();
    }
    let code = match s {
        Status::Pass => "32",
        Status::Fail | Status::Error => "31",
        Status::Warning => "33",
        _ => "2",
    };
    format!("\x1b[{code}m{label}\x1b[0m")
}

fn text(r: &ScanReport, verbose: bool, colour: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for t in &r.targets {
        let f = &t.facts;
        let worst = t.worst().unwrap_or(Status::Pass);
        let _ = writeln!(
            out,
            "{} ({}, {}): {}",
            esc(&t.target),
            t.role.label(),
            r.profile,
            paint(worst, colour)
        );
        let versions: Vec<String> = f.versions.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(
            out,
            "  versions {} · {} suites · {} groups · client certificate {:?} · {} connections in {} ms",
            if versions.is_empty() { "none".into() } else { versions.join(" ") },
            f.cipher_suites.len(),
            f.groups.len(),
            f.client_auth,
            f.connections,
            f.duration_ms
        );
        for fd in &t.findings {
            let show = verbose
                || !matches!(
                    fd.status,
                    Status::Pass | Status::NotApplicable | Status::NotTested | Status::Info
                );
            if !show {
                continue;
            }
            let _ = writeln!(
                out,
                "  {:<14} {} {} {}",
                paint(fd.status, colour),
                fd.requirement,
                fd.check,
                esc(&fd.message)
            );
            if fd.status >= Status::Warning {
                if let Some(fix) = fd.fix {
                    let _ = writeln!(out, "                 fix: {fix}");
                }
            }
        }
    }
    if r.targets.len() > 1 {
        let s = &r.summary;
        let _ = writeln!(
            out,
            "\n{} targets: {} compliant, {} TLS 1.3-ready, {} unreachable",
            s.targets,
            s.compliant,
            s.tls13_ready,
            s.unreachable.len()
        );
        for (t, why) in &s.not_tls13_ready {
            let _ = writeln!(out, "  not TLS 1.3-ready: {} ({})", esc(t), esc(why));
        }
    }
    out
}
