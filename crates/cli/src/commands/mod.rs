//! One module per subcommand; each parses its arguments and calls the libraries.

pub(crate) mod anchors;
pub(crate) mod demo;
pub(crate) mod gateway;
pub(crate) mod lint;
pub(crate) mod pki;
pub(crate) mod probe_client;
pub(crate) mod requirements;
pub(crate) mod scan;
pub(crate) mod verify;
pub(crate) mod whitelist;

use anyhow::Context;
use medmij_core::Profile;
use std::path::{Path, PathBuf};

/// `--profile NAME` / `--profile-file FILE`, shared by every command that judges.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ProfileArgs {
    /// Built-in profile: medmij-2025 (default) or medmij-2022.
    #[arg(long, value_name = "NAME", default_value = medmij_core::profile::DEFAULT_PROFILE, conflicts_with = "profile_file")]
    pub profile: String,
    /// Load a profile from a TOML or JSON file with the same schema (docs/profile-schema.md).
    #[arg(long, value_name = "FILE")]
    pub profile_file: Option<PathBuf>,
}

impl ProfileArgs {
    /// Loads the selected profile.
    pub(crate) fn load(&self) -> anyhow::Result<Profile> {
        match &self.profile_file {
            Some(f) => Profile::from_file(f).context("--profile-file"),
            None => Profile::builtin(&self.profile).context("--profile"),
        }
    }
}

/// `--at RFC3339` as Unix seconds, or now.
pub(crate) fn instant(at: Option<&str>) -> anyhow::Result<i64> {
    match at {
        Some(t) => Ok(time::OffsetDateTime::parse(
            t,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| {
            anyhow::anyhow!(
                "--at `{}`: expected RFC 3339, e.g. 2026-06-01T12:00:00Z",
                t.escape_debug()
            )
        })?
        .unix_timestamp()),
        None => Ok(time::OffsetDateTime::now_utc().unix_timestamp()),
    }
}

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// For people.
    Text,
    /// Machine-readable.
    Json,
    /// Markdown (documentation, audits).
    Md,
}

/// `--trust-anchor` files plus every `*.pem` of `--anchors-dir` (what `anchors fetch` wrote).
pub(crate) fn anchor_files(files: &[PathBuf], dir: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = files.to_vec();
    if let Some(d) = dir {
        let mut found: Vec<PathBuf> = std::fs::read_dir(d)
            .with_context(|| format!("--anchors-dir {}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pem"))
            .collect();
        if found.is_empty() {
            anyhow::bail!(
                "--anchors-dir {}: no .pem files; run `medmij-tls anchors fetch --dir {}` first",
                d.display(),
                d.display()
            );
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}
