//! One module per subcommand; each parses its arguments and calls the libraries.

pub(crate) mod anchors;
pub(crate) mod lint;
pub(crate) mod pki;
pub(crate) mod requirements;
pub(crate) mod verify;
pub(crate) mod whitelist;

use anyhow::Context;
use medmij_core::Profile;
use std::path::PathBuf;

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
