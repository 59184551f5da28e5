//! `medmij-tls`: one program for the MedMij TLS rules: the requirement matrix, the test PKI,
//! the verifier, the gateway, the scanner, the linter, the client probe and the demo network.
//!
//! Exit codes (spec decision 4.6): 0 compliant / done, 1 non-compliant findings, 2 the tool could
//! not do its job (bad input, unreachable target, bad configuration).
#![forbid(unsafe_code)]

mod commands;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code when the tool could not do its job.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(name = "medmij-tls", version, about = "MedMij TLS and certificate rules: enforce and verify", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The built-in demo network: test PKI, CRL/OCSP server, two gateways, a misconfigured node,
    /// a backchannel call, scans, lints and the client probe; writes report.html and report.json.
    Demo(commands::demo::Args),
    /// Print the traceability matrix: per requirement, how it is enforced and verified.
    Requirements(commands::requirements::Args),
    /// The test PKI: G1/G4-like private hierarchies, public OV/DV, a catalogue of bad certificates.
    #[command(subcommand)]
    Pki(commands::pki::PkiCommand),
    /// Would a MedMij node accept this certificate chain? Exit 0 accepted, 1 refused, 2 cannot tell.
    Verify(Box<commands::verify::Args>),
    /// The MedMij whitelist: validate it, look a hostname up.
    #[command(subcommand)]
    Whitelist(commands::whitelist::WhitelistCommand),
    /// Lint certificates, chains and CSRs before ordering or deploying them (--dns: CAA, DNSSEC).
    /// Exit 0 compliant, 1 findings, 2 cannot tell.
    Lint(Box<commands::lint::Args>),
    /// Scan endpoints: versions, suites, groups, options, chain, client certificates and refusal
    /// probes, judged per requirement. Exit 0 compliant, 1 findings, 2 cannot tell.
    Scan(Box<commands::scan::Args>),
    /// The client probe: a TLS server that serves good and bad certificates to a client under
    /// test and judges it per requirement. Exit 0 compliant, 1 findings, 2 cannot tell.
    ProbeClient(Box<commands::probe_client::Args>),
    /// The gateway: the compliant TLS front of a node (`run`, `check-config`).
    #[command(subcommand)]
    Gateway(commands::gateway::GatewayCommand),
    /// Trust anchors: list the profile's pins, fetch them from the publication address.
    #[command(subcommand)]
    Anchors(commands::anchors::AnchorsCommand),
}

fn main() -> ExitCode {
    use std::io::IsTerminal;
    let cli = Cli::parse();
    // The demo provokes refusals on purpose (its scans and probes): their warnings would bury
    // the summary, so it logs errors only unless RUST_LOG asks for more.
    let default = if matches!(cli.command, Command::Demo(_)) {
        "error"
    } else {
        "warn"
    };
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    };
    // MEDMIJ_LOG_FORMAT=json: one JSON object per line (for log shippers); text otherwise.
    if std::env::var("MEDMIJ_LOG_FORMAT").is_ok_and(|v| v == "json") {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            // Colour codes only for a terminal: in a log file or a pipe they are noise.
            .with_ansi(std::io::stderr().is_terminal())
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match cli.command {
        Command::Demo(a) => commands::demo::run(a),
        Command::Requirements(a) => commands::requirements::run(a),
        Command::Pki(c) => commands::pki::run(c),
        Command::Verify(a) => commands::verify::run(*a),
        Command::Whitelist(c) => commands::whitelist::run(c),
        Command::Lint(a) => commands::lint::run(*a),
        Command::Anchors(c) => commands::anchors::run(c),
        Command::Scan(a) => commands::scan::run(*a),
        Command::Gateway(c) => commands::gateway::run(c),
        Command::ProbeClient(a) => commands::probe_client::run(*a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A reader that went away (`| head`) is not an error of ours.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("medmij-tls: error: {}", one_line(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The error and its causes on one line, each cause once: library errors often repeat their
/// source's text in their own message (`X: no such file` caused by `no such file`), which
/// `{:#}` would print twice. Control characters are escaped (the line may quote a file).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    output::esc(&line).into_owned()
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Io {
        path: String,
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn a_cause_repeated_in_its_parent_is_said_once() {
        let io = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "Not a directory (os error 20)",
        );
        let e = anyhow::Error::new(Io {
            path: "/x/y".into(),
            source: io,
        })
        .context("--dir");
        assert_eq!(
            super::one_line(&e),
            "--dir: /x/y: Not a directory (os error 20)"
        );
    }
}
