//! `medmij-tls probe-client`: a TLS server a client under test connects to; it serves good and
//! deliberately bad certificates from a test PKI and judges the client per requirement.

use super::lint::FailOn;
use super::scan::{ScanFormat, ScanRole};
use super::verify::EnvironmentArg;
use super::ProfileArgs;
use anyhow::Context;
use medmij_core::outcome::Status;
use medmij_core::Environment;
use medmij_lint::docs;
use medmij_probe::{Case, ProbeSetup, RunOptions};
use medmij_testpki::store::PkiDir;
use std::path::PathBuf;
use std::time::Duration;

/// The longest run one may ask for (a day): a probe left listening longer is forgotten.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// Arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Where to listen (the client under test connects here).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    listen: String,
    /// The test PKI (`pki init`) the cases are made from; the client must trust its G1 root.
    #[arg(long, value_name = "DIR", required_unless_present_any = ["list", "explain"])]
    pki_dir: Option<PathBuf>,
    /// The probe's hostname: the good certificate's name; `<case>.<hostname>` picks a case by SNI.
    #[arg(long, value_name = "NAME", default_value = "probe.medmij.test")]
    hostname: String,
    /// The cases to serve, comma-separated (default: all, in the documented order).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    cases: Vec<String>,
    /// End the run after this many seconds even when cases are missing.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    timeout: f64,
    /// After every case was served, wait this long for further connections.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    linger: f64,
    /// The client's name in the report.
    #[arg(long, value_name = "NAME")]
    client_name: Option<String>,
    /// Write the whitelist the client under test should use (every case name but
    /// not-whitelisted) to this file before accepting.
    #[arg(long, value_name = "FILE")]
    whitelist_out: Option<PathBuf>,
    /// The side the client works on (backchannel: a client certificate is expected).
    #[arg(long, value_enum, default_value = "backchannel")]
    role: ScanRole,
    #[command(flatten)]
    profile: ProfileArgs,
    /// production, acceptance or test (the cases come from a test PKI).
    #[arg(long, value_enum, default_value = "test")]
    environment: EnvironmentArg,
    /// Sufficient-only items fail.
    #[arg(long)]
    strict: bool,
    /// Exit 1 from this status up.
    #[arg(long, value_enum, default_value = "fail")]
    fail_on: FailOn,
    /// Output format (json: schema `medmij-tls/probe-client/1`).
    #[arg(long, value_enum, default_value = "text")]
    format: ScanFormat,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// List the client-probe checks and exit.
    #[arg(long, conflicts_with = "explain")]
    list: bool,
    /// Explain one check and exit.
    #[arg(long, value_name = "CHECK")]
    explain: Option<String>,
}

pub(crate) fn run(a: Args) -> anyhow::Result<u8> {
    if a.list {
        match a.format {
            ScanFormat::Md => crate::output::write(&docs::list_markdown_of(
                "probe-client",
                docs::probe_checks(),
            )),
            _ => crate::output::write(&docs::list_text_of(docs::probe_checks())),
        }
        return Ok(0);
    }
    if let Some(name) = &a.explain {
        return match docs::explain(name) {
            Some(t) => {
                crate::output::write(&t);
                Ok(0)
            }
            None => anyhow::bail!(
                "--explain {}: no such check; `probe-client --list` names them",
                name.escape_debug()
            ),
        };
    }
    if !(a.timeout > 0.0 && a.timeout <= MAX_TIMEOUT_SECS) {
        anyhow::bail!(
            "--timeout {}: expected 0 < seconds <= {MAX_TIMEOUT_SECS}",
            a.timeout
        );
    }
    if !(0.0..=60.0).contains(&a.linger) {
        anyhow::bail!("--linger {}: expected 0 to 60 seconds", a.linger);
    }
    let cases = if a.cases.is_empty() {
        Case::ALL.to_vec()
    } else {
        let mut v = Vec::new();
        for c in &a.cases {
            let case = Case::from_label(c.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "--cases `{}`: unknown case; expected some of {}",
                    c.escape_debug(),
                    Case::ALL.map(Case::label).join(", ")
                )
            })?;
            if !v.contains(&case) {
                v.push(case);
            }
        }
        v
    };
    let profile = a.profile.load()?;
    let pki_dir = a.pki_dir.clone().context("--pki-dir is required")?;
    let pki = PkiDir::new(&pki_dir);
    pki.manifest().with_context(|| {
        format!(
            "--pki-dir {}: not a test PKI made by `pki init`",
            pki_dir.display()
        )
    })?;
    if let Some(w) = &a.whitelist_out {
        medmij_core::atomic_file::write(
            w,
            medmij_probe::cases::whitelist(&a.hostname, 1).as_bytes(),
        )
        .with_context(|| format!("--whitelist-out {}", w.display()))?;
    }
    let listener =
        std::net::TcpListener::bind(&a.listen).with_context(|| format!("--listen {}", a.listen))?;
    let setup = ProbeSetup {
        pki,
        run: RunOptions {
            hostname: a.hostname.clone(),
            cases,
            timeout: Duration::from_secs_f64(a.timeout),
            linger: Duration::from_secs_f64(a.linger),
            deadline: medmij_probe::server::CONNECTION_DEADLINE,
        },
        client: a.client_name.clone(),
        profile,
        environment: Environment::from(a.environment),
        role: match a.role {
            ScanRole::Backchannel => medmij_scan::Role::Backchannel,
            ScanRole::Frontchannel => medmij_scan::Role::Frontchannel,
        },
        strict: a.strict,
    };
    let report = medmij_probe::run(listener, setup, |addr| {
        eprintln!(
            "probe-client: listening on {addr} as {}; point the client at {} (cases in order) or at <case>.{} (by SNI)",
            a.hostname, a.hostname, a.hostname
        );
    })?;
    let text = match a.format {
        ScanFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ScanFormat::Html => report.html(),
        ScanFormat::Junit => report.junit(),
        ScanFormat::Text | ScanFormat::Md => crate::output::esc_lines(&report.text()),
    };
    match &a.output {
        Some(p) => medmij_core::atomic_file::write(p, text.as_bytes())
            .with_context(|| format!("--output {}", p.display()))?,
        None => crate::output::write(&text),
    }
    let threshold = a.fail_on.status();
    if report.connections.is_empty() {
        eprintln!("probe-client: no client connected within --timeout");
        return Ok(2);
    }
    Ok(u8::from(report.findings.iter().any(|f| {
        f.status >= threshold && f.status != Status::Error
    })))
}
