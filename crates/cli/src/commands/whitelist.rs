//! `medmij-tls whitelist check|contains`.

use crate::output::{esc, outln};
use anyhow::Context;
use medmij_verify::http::HttpClient;
use medmij_verify::whitelist::{Source, Store, WhitelistError};
use std::path::{Path, PathBuf};

/// An HTTP client trusting only the CA certificates in `pem` for https:// (a private whitelist host).
pub fn client_with_roots(pem: &Path, timeout_secs: f64) -> anyhow::Result<HttpClient> {
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

/// The subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum WhitelistCommand {
    /// Validate a whitelist and summarise it (exit 1 when it breaks the schema).
    Check {
        /// File or URL (e.g. https://stelselnode.medmij.nl/MedMij_Whitelist.xml?api=2).
        source: String,
        /// CA certificate(s) for an https:// URL instead of the Mozilla roots (PEM).
        #[arg(long, value_name = "PEM")]
        whitelist_ca: Option<PathBuf>,
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
    },
}

/// Runs a whitelist subcommand.
pub fn run(cmd: WhitelistCommand) -> anyhow::Result<u8> {
    let client = |ca: &Option<PathBuf>| match ca {
        Some(p) => client_with_roots(p, medmij_verify::http::DEFAULT_TIMEOUT.as_secs_f64()),
        None => Ok(HttpClient::default()),
    };
    match cmd {
        WhitelistCommand::Check {
            source,
            whitelist_ca,
        } => {
            let http = client(&whitelist_ca)?;
            let store = Store::new(Source::parse(&source), http, None, false);
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
        } => {
            let http = client(&whitelist_ca)?;
            let store = Store::new(Source::parse(&whitelist), http, None, false);
            let w = store
                .refresh()
                .map_err(|e| anyhow::anyhow!("--whitelist: {e}"))?;
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
