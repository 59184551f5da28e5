//! Keeps the revocation caches warm on a tokio runtime, so that an async server (the gateway)
//! decides every handshake from memory ([`crate::revocation::Engine::check_cached`]) and never
//! holds a worker thread on a CRL or OCSP fetch.
//!
//! Every `interval` the refresher prefetches the distribution points that cached-only decisions
//! missed (first contact with an issuer: the fail modes decided that handshake, the next one
//! finds the CRL) and re-fetches cached CRLs near their nextUpdate. The fetches run on the
//! runtime's blocking pool through the engine's [`crate::http::Fetcher`], within the engine's
//! budgets, single-flight and back-off.

use crate::revocation::Engine;
use std::sync::Arc;
use std::time::Duration;

/// The background refresher; stops when dropped.
#[derive(Debug)]
pub struct Refresher {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// One round: prefetch the misses, refresh what is due. Returns (fetched, failures).
pub fn refresh_once(engine: &Engine, now: i64) -> (usize, Vec<String>) {
    let (a, mut fa) = engine.prefetch_misses(now);
    let (b, fb) = engine.refresh_due(now);
    fa.extend(fb);
    (a + b, fa)
}

/// Starts the refresher on the current tokio runtime (panics outside one, as `tokio::spawn`).
pub fn spawn(engine: Arc<Engine>, interval: Duration) -> Refresher {
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let e = engine.clone();
            match tokio::task::spawn_blocking(move || refresh_once(&e, unix_now())).await {
                Ok((_, failures)) => {
                    for f in failures {
                        tracing::warn!(error = %f, "revocation refresh failed; the cached state stays");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "revocation refresh task failed"),
            }
        }
    });
    Refresher { task }
}
