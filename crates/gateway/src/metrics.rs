//! Observability: Prometheus text at `/metrics` (the `metrics` crate with its Prometheus
//! exporter, not hand-formatted), `/healthz` (the process serves) and `/readyz` (every
//! listener's material and the whitelist are loaded) on the metrics listener.
//!
//! Series: `medmij_gateway_handshakes_total{listener,result,version,suite}` (result `ok` or the
//! refusal class), `medmij_gateway_peer_tls_version_total{peer_host,version}` (per whitelisted
//! peer: the data for the TLS 1.2 phase-out), `medmij_gateway_requests_total{listener,status}`,
//! `medmij_gateway_upstream_errors_total{listener,kind}`, `medmij_gateway_upstream_seconds`
//! (histogram), `medmij_gateway_whitelist_volgnummer`, `medmij_gateway_revocation_events_total
//! {event}` (the engine's counters: cache hits, fetches, failures), `medmij_gateway_crl_age_seconds
//! {url}` (since each cached CRL's thisUpdate), `medmij_gateway_whitelist_age_seconds` (since its
//! Tijdstempel), `medmij_gateway_reloads_total{result}`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder (installed once; several gateways in one process share it).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .as_ref()
}

/// What the scrape reads from the live state.
#[derive(Default)]
pub struct Live {
    /// Set when every listener is up.
    pub ready: AtomicBool,
    /// The whitelist store (Volgnummer).
    pub whitelist: Mutex<Option<Arc<medmij_verify::whitelist::Store>>>,
    /// The revocation engines (their counters).
    pub engines: Mutex<Vec<Arc<medmij_verify::revocation::Engine>>>,
}

fn snapshot_gauges(live: &Live) {
    if let Some(w) = live
        .whitelist
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .and_then(|s| s.current())
    {
        metrics::gauge!("medmij_gateway_whitelist_volgnummer").set(w.volgnummer as f64);
        if let Ok(t) = ::time::OffsetDateTime::parse(
            &w.tijdstempel,
            &::time::format_description::well_known::Rfc3339,
        ) {
            let age = (::time::OffsetDateTime::now_utc() - t).whole_seconds();
            metrics::gauge!("medmij_gateway_whitelist_age_seconds").set(age as f64);
        }
    }
    let engines = live
        .engines
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut total: std::collections::BTreeMap<String, u64> = Default::default();
    for e in engines.iter() {
        for (k, v) in e.counters().snapshot() {
            *total.entry(k).or_default() += v;
        }
    }
    for (k, v) in total {
        metrics::gauge!("medmij_gateway_revocation_events_total", "event" => k).set(v as f64);
    }
    let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
    for e in engines.iter() {
        for (url, age) in e.crl_ages(now) {
            metrics::gauge!("medmij_gateway_crl_age_seconds", "url" => url).set(age as f64);
        }
    }
}

fn text(status: StatusCode, body: String, kind: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(kind) {
        r.headers_mut().insert("content-type", v);
    }
    r
}

/// Serves `/metrics`, `/healthz`, `/readyz` until stopped.
pub async fn serve(listener: TcpListener, live: Arc<Live>, stopped: watch::Receiver<bool>) {
    crate::proxy::serve_plain(listener, stopped, Duration::from_secs(10), move || {
        let live = live.clone();
        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
            let live = live.clone();
            async move { Ok::<_, Infallible>(answer(req.uri().path(), &live)) }
        })
    })
    .await;
}

fn answer(path: &str, live: &Live) -> Response<Full<Bytes>> {
    match path {
        "/metrics" => {
            snapshot_gauges(live);
            match handle() {
                Some(h) => text(StatusCode::OK, h.render(), "text/plain; version=0.0.4"),
                None => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no metrics recorder\n".into(),
                    "text/plain",
                ),
            }
        }
        "/healthz" => text(StatusCode::OK, "ok\n".into(), "text/plain"),
        "/readyz" if live.ready.load(Ordering::SeqCst) => {
            text(StatusCode::OK, "ready\n".into(), "text/plain")
        }
        "/readyz" => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready\n".into(),
            "text/plain",
        ),
        _ => text(
            StatusCode::NOT_FOUND,
            "/metrics, /healthz, /readyz\n".into(),
            "text/plain",
        ),
    }
}
