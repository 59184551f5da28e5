//! `medmij-tls anchors fetch`: download the profile's trust anchors and keep them only when
//! their SHA-256 matches the pin.

use super::ProfileArgs;
use crate::output::{esc, outln};
use anyhow::Context;
use medmij_verify::http::HttpClient;
use std::path::PathBuf;

/// The subcommands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum AnchorsCommand {
    /// Download each pinned anchor from its publication address into DIR (PEM).
    Fetch {
        #[command(flatten)]
        profile: ProfileArgs,
        /// Where to store the files.
        #[arg(long)]
        dir: PathBuf,
        /// Use another address for an anchor: NAME=URL (NAME is a substring of the anchor name).
        #[arg(long = "url", value_name = "NAME=URL")]
        urls: Vec<String>,
    },
    /// List the profile's pinned anchors.
    List {
        #[command(flatten)]
        profile: ProfileArgs,
    },
}

/// Runs an anchors subcommand.
pub(crate) fn run(cmd: AnchorsCommand) -> anyhow::Result<u8> {
    match cmd {
        AnchorsCommand::Fetch { profile, dir, urls } => {
            let profile = profile.load()?;
            let overrides = urls
                .iter()
                .map(|u| {
                    u.split_once('=')
                        .map(|(n, u)| (n.to_string(), u.to_string()))
                        .with_context(|| format!("--url `{u}`: expected NAME=URL"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let files =
                medmij_verify::anchors::fetch(&profile, &dir, &overrides, &HttpClient::default())?;
            for f in &files {
                outln!(
                    "stored {} (SHA-256 matches the pin)",
                    esc(&f.display().to_string())
                );
            }
            Ok(0)
        }
        AnchorsCommand::List { profile } => {
            let profile = profile.load()?;
            for a in &profile.backchannel.anchors {
                outln!(
                    "{}\n  subject: {}\n  sha256:  {}\n  url:     {}{}",
                    esc(&a.name),
                    esc(&a.subject),
                    a.sha256.hex(),
                    esc(a.publication_url.as_deref().unwrap_or("-")),
                    a.trusted_until
                        .map(|t| format!("\n  trusted until {t}"))
                        .unwrap_or_default()
                );
            }
            Ok(0)
        }
    }
}
