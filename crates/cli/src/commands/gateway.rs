//! `medmij-tls gateway run|check-config --config FILE`.

use anyhow::Context as _;
use std::path::PathBuf;

/// The subcommands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum GatewayCommand {
    /// Run in the foreground: logs to stderr, SIGTERM/SIGINT drain and exit 0.
    Run {
        /// The configuration (TOML; docs/gateway.md).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Check a configuration as the real start would (files, keys, chains, profile, whitelist);
    /// exit 0 when it would start, 2 with `FILE:line:column: key: why` on the first problem.
    CheckConfig {
        /// The configuration.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

/// Runs a gateway subcommand.
pub(crate) fn run(cmd: GatewayCommand) -> anyhow::Result<u8> {
    match cmd {
        GatewayCommand::CheckConfig { config } => {
            let cfg = medmij_gateway::Config::load(&config)?;
            let p = medmij_gateway::prepare(cfg)?;
            for w in &p.warnings {
                eprintln!("medmij-tls: warning: {w}");
            }
            crate::output::write(&format!("{}: ok\n", config.display()));
            Ok(0)
        }
        GatewayCommand::Run { config } => {
            let cfg = medmij_gateway::Config::load(&config)?;
            // TOKIO_WORKER_THREADS is tokio's own; `workers` in the file overrides it.
            let mut rt = tokio::runtime::Builder::new_multi_thread();
            rt.enable_all();
            if let Some(n) = cfg.workers {
                rt.worker_threads(n);
            }
            let rt = rt.build().context("tokio runtime")?;
            rt.block_on(async move {
                let p = medmij_gateway::prepare(cfg)?;
                let running = medmij_gateway::start(p).await?;
                serve_until_stopped(&running).await;
                tracing::info!("stopping: draining open requests");
                running.shutdown().await;
                anyhow::Ok(0u8)
            })
        }
    }
}

/// Reloads on SIGHUP and when a watched file changes; returns on SIGTERM or SIGINT.
async fn serve_until_stopped(running: &medmij_gateway::Running) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::error!("cannot install signal handlers; stopping on Ctrl-C only");
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    let mut tick = tokio::time::interval(medmij_gateway::server::WATCH_INTERVAL);
    loop {
        let why = tokio::select! {
            _ = term.recv() => return,
            _ = int.recv() => return,
            _ = hup.recv() => "SIGHUP",
            _ = tick.tick() => {
                if !running.files_changed() {
                    continue;
                }
                "a watched file changed"
            }
        };
        match running.reload().await {
            Ok(warnings) => {
                for w in warnings {
                    tracing::warn!("{w}");
                }
                tracing::info!(trigger = why, "reloaded: new handshakes use the new state");
            }
            Err(e) => {
                tracing::error!(trigger = why, error = %e, "reload refused; the old state stays in force")
            }
        }
    }
}
