//! `medmij-tls whitelist check|contains`.

use crate::output::{esc, outln};
use anyhow::Context;
use medmij_verify::http::HttpClient;
use medmij_verify::whitelist::{Source, Store, WhitelistError};
use std::path::{Path, PathBuf};

/// An HTTP client trusting only the CA certificates in `pem` for https:// (a private whitelist host).
pub(crate) fn client_with_roots(pem: &Path, timeout_secs: f64) -> anyhow::Result<HttpClient> {
    let roots = medmij_verify::anchors::read_certificates(pem)
        .with_context(|| "--whitelist-ca".to_string())?;
    Ok(HttpClient::new(
        std::time::Duration::from_secs_f64(timeout_secs),
        medmij_verify::http::DEFAULT_MAX_BYTES,
        Some(
            roots
                .into_iter()
                .map(rustls_pki_types::CertificateDer::from)
                .collect(),
        ),
    ))
}

/// Where the whitelist's last good copy is kept, and whether a lower Volgnummer may replace it:
/// what the gateway does, so the CLI judges with the same list a node would.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct StateArgs {
    /// Keep the last good whitelist here (default: $XDG_STATE_HOME/medmij-tls, else
    /// ~/.local/state/medmij-tls). A list with a lower Volgnummer than the one kept is refused.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Keep no state: no last good copy, no rollback protection.
    #[arg(long, conflicts_with = "state_dir")]
    pub no_state: bool,
    /// Accept a whitelist with a lower Volgnummer than the one kept (danger: an attacker who can
    /// serve an old list could bring back a removed node).
    #[arg(long)]
    pub allow_rollback: bool,
}

impl StateArgs {
    /// The file the last good copy of `source` is kept in, if any.
    pub(crate) fn persist_path(&self, source: &str) -> Option<PathBuf> {
        if self.no_state {
            return None;
        }
        let dir = self.state_dir.clone().or_else(|| {
            std::env::var_os("XDG_STATE_HOME")
                .filter(|v| !v.is_empty())
                .map(|d| PathBuf::from(d).join("medmij-tls"))
                .or_else(|| {
                    std::env::var_os("HOME")
                        .filter(|v| !v.is_empty())
                        .map(|h| PathBuf::from(h).join(".local/state/medmij-tls"))
                })
        })?;
        // One file per source, so two lists (test and production) never roll each other back;
        // a file is named by its absolute path (`whitelist.xml` in two directories is two lists).
        let key = match Source::parse(source) {
            Source::File(p) => std::fs::canonicalize(&p)
                .map(|c| c.display().to_string())
                .unwrap_or_else(|_| source.to_string()),
            Source::Url(u) => u,
        };
        let h = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
        Some(dir.join(format!(
            "whitelist-{}.xml",
            medmij_core::hex::encode(&h.as_ref()[..8])
        )))
    }

    /// A store for `source` with this state.
    pub(crate) fn store(&self, source: &str, http: HttpClient) -> Store {
        Store::new(
            Source::parse(source),
            http,
            self.persist_path(source),
            self.allow_rollback,
        )
    }
}

/// Loads the list a node would use: the source's, or when the source cannot be read (or would
/// roll back) the last good copy, said on stderr. No list at all is an error.
pub(crate) fn load_for_use(
    store: &Store,
    flag: &str,
) -> anyhow::Result<std::sync::Arc<medmij_verify::whitelist::Whitelist>> {
    match store.load() {
        (Some(w), None) => Ok(w),
        (Some(w), Some(e)) => {
            tracing::warn!(error = %e, volgnummer = w.volgnummer, source = %w.source, "whitelist: using the last good copy");
            eprintln!(
                "medmij-tls: warning: {flag}: {}; using the last good copy (Volgnummer {}, {})",
                esc(&e.to_string()),
                w.volgnummer,
                esc(&w.source)
            );
            Ok(w)
        }
        (None, Some(e)) => Err(anyhow::anyhow!("{flag}: {e}")),
        (None, None) => Err(anyhow::anyhow!("{flag}: no whitelist could be loaded")),
    }
}

/// The subcommands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum WhitelistCommand {
    /// Validate a whitelist and summarise it (exit 1 when it breaks the schema).
    Check {
        /// File or URL (e.g. https://stelselnode.medmij.nl/MedMij_Whitelist.xml?api=2).
        source: String,
        /// CA certificate(s) for an https:// URL instead of the Mozilla roots (PEM).
        #[arg(long, value_name = "PEM")]
        whitelist_ca: Option<PathBuf>,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Is HOST on the whitelist? Exit 0 yes, 1 no.
    Contains {
        /// The hostname.
        host: String,
        /// File or URL.
        #[arg(long)]
        whitelist: String,
        /// CA certificate(s) for an https:// URL instead of the Mozilla roots (PEM).
        #[arg(long, value_name = "PEM")]
        whitelist_ca: Option<PathBuf>,
        #[command(flatten)]
        state: StateArgs,
    },
}

/// Runs a whitelist subcommand.
pub(crate) fn run(cmd: WhitelistCommand) -> anyhow::Result<u8> {
    let client = |ca: &Option<PathBuf>| match ca {
        Some(p) => client_with_roots(p, medmij_verify::http::DEFAULT_TIMEOUT.as_secs_f64()),
        None => Ok(HttpClient::default()),
    };
    match cmd {
        WhitelistCommand::Check {
            source,
            whitelist_ca,
            state,
        } => {
            let http = client(&whitelist_ca)?;
            let store = state.store(&source, http);
            match store.refresh() {
                Ok(w) => {
                    outln!("valid MedMij whitelist: {}\n  Volgnummer:  {}\n  Tijdstempel: {}\n  hostnames:   {}", esc(&w.source), w.volgnummer, esc(&w.tijdstempel), w.len());
                    Ok(0)
                }
                Err(WhitelistError::Unavailable(e)) => Err(anyhow::anyhow!("{e}")),
                Err(e) => {
                    outln!("INVALID: {}", esc(&e.to_string()));
                    Ok(1)
                }
            }
        }
        WhitelistCommand::Contains {
            host,
            whitelist,
            whitelist_ca,
            state,
        } => {
            let http = client(&whitelist_ca)?;
            let store = state.store(&whitelist, http);
            let w = load_for_use(&store, "--whitelist")?;
            if w.contains(&host) {
                outln!(
                    "{}: on the whitelist (Volgnummer {})",
                    esc(&host),
                    w.volgnummer
                );
                Ok(0)
            } else {
                outln!(
                    "{}: NOT on the whitelist (Volgnummer {})",
                    esc(&host),
                    w.volgnummer
                );
                Ok(1)
            }
        }
    }
}
