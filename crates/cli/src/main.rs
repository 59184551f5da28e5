//! `medmij-tls`: one program for the MedMij TLS rules: the requirement matrix, the test PKI,
//! and (as they land) the verifier, gateway, scanner, linter and client probe.
//!
//! Exit codes (spec decision 4.6): 0 compliant / done, 1 non-compliant findings, 2 the tool could
//! not do its job (bad input, unreachable target, bad configuration).
#![forbid(unsafe_code)]

mod commands;

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
    /// Trust anchors: list the profile's pins, fetch them from the publication address.
    #[command(subcommand)]
    Anchors(commands::anchors::AnchorsCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Requirements(a) => commands::requirements::run(a),
        Command::Pki(c) => commands::pki::run(c),
        Command::Verify(a) => commands::verify::run(*a),
        Command::Whitelist(c) => commands::whitelist::run(c),
        Command::Anchors(c) => commands::anchors::run(c),
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
            eprintln!("medmij-tls: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
