//! `medmij-tls whitelist check|contains`.

use medmij_verify::http::HttpClient;
use medmij_verify::whitelist::{Source, Store, WhitelistError};

/// The subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum WhitelistCommand {
    /// Validate a whitelist and summarise it (exit 1 when it breaks the schema).
    Check {
        /// File or URL (e.g. https://stelselnode.medmij.nl/MedMij_Whitelist.xml?api=2).
        source: String,
    },
    /// Is HOST on the whitelist? Exit 0 yes, 1 no.
    Contains {
        /// The hostname.
        host: String,
        /// File or URL.
        #[arg(long)]
        whitelist: String,
    },
}

/// Runs a whitelist subcommand.
pub fn run(cmd: WhitelistCommand) -> anyhow::Result<u8> {
    let http = HttpClient::default();
    match cmd {
        WhitelistCommand::Check { source } => {
            let store = Store::new(Source::parse(&source), http, None, false);
            match store.refresh() {
                Ok(w) => {
                    println!("valid MedMij whitelist: {}\n  Volgnummer:  {}\n  Tijdstempel: {}\n  hostnames:   {}", w.source, w.volgnummer, w.tijdstempel, w.len());
                    Ok(0)
                }
                Err(WhitelistError::Unavailable(e)) => Err(anyhow::anyhow!("{e}")),
                Err(e) => {
                    println!("INVALID: {e}");
                    Ok(1)
                }
            }
        }
        WhitelistCommand::Contains { host, whitelist } => {
            let store = Store::new(Source::parse(&whitelist), http, None, false);
            let w = store
                .refresh()
                .map_err(|e| anyhow::anyhow!("--whitelist: {e}"))?;
            if w.contains(&host) {
                println!("{host}: on the whitelist (Volgnummer {})", w.volgnummer);
                Ok(0)
            } else {
                println!("{host}: NOT on the whitelist (Volgnummer {})", w.volgnummer);
                Ok(1)
            }
        }
    }
}
