//! OCSP stapling of the gateway's own certificate: when the leaf names a responder, a fresh
//! answer is fetched in the background, checked like any OCSP answer (signature, the right
//! certificate, status good, within its validity) and stapled; it is refreshed half-way to its
//! nextUpdate, and dropped at nextUpdate when no new one came: none stapled rather than a stale
//! one (core.tls.310 makes stapling optional; a stale staple would only make peers fail).

use medmij_verify::http::HttpClient;
use medmij_verify::ocsp::{self, Status, Subject};
use rustls::pki_types::CertificateDer;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use x509_parser::prelude::*;

/// Retry after a failed fetch. Five minutes: a responder that is down is not hammered, and a
/// staple is optional.
pub const RETRY: Duration = Duration::from_secs(300);
/// The soonest refresh, whatever the answer's validity says. One minute.
pub const MIN_REFRESH: Duration = Duration::from_secs(60);
/// Time for one fetch. 10 s: the verifier's own per-certificate revocation budget.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the certificate with the current staple (or none).
#[derive(Debug)]
pub struct StapledResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl StapledResolver {
    /// Serves `key` without a staple until one is fetched.
    pub fn new(key: Arc<CertifiedKey>) -> Arc<StapledResolver> {
        Arc::new(StapledResolver {
            current: RwLock::new(key),
        })
    }

    fn set_staple(&self, staple: Option<Vec<u8>>) {
        let mut cur = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut k = (**cur).clone();
        k.ocsp = staple;
        *cur = Arc::new(k);
    }

    /// Whether a staple is being served.
    pub fn stapling(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .ocsp
            .is_some()
    }
}

impl ResolvesServerCert for StapledResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
    }
}

/// The leaf's OCSP responder URL, if it names one.
pub fn responder(leaf: &CertificateDer<'_>) -> Option<String> {
    let (_, c) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    medmij_verify::verifier::ocsp_urls(&c).into_iter().next()
}

/// Fetches and checks one answer for `chain[0]` (issued by `chain[1]`): `(DER, valid_until)`.
pub fn fetch(
    chain: &[CertificateDer<'static>],
    http: &HttpClient,
    now: i64,
) -> Result<(Vec<u8>, i64), String> {
    let (leaf, issuer) = match chain {
        [l, i, ..] => (l, i),
        _ => return Err("the chain has no issuing CA to ask about".into()),
    };
    let url = responder(leaf).ok_or("the certificate names no OCSP responder")?;
    let (_, l) = X509Certificate::from_der(leaf.as_ref()).map_err(|e| e.to_string())?;
    let (_, i) = X509Certificate::from_der(issuer.as_ref()).map_err(|e| e.to_string())?;
    let subject = Subject {
        serial: l.raw_serial(),
        issuer_name: i.subject().as_raw(),
        issuer_spki: i.public_key().raw,
    };
    let req = ocsp::request(&subject).map_err(|e| e.to_string())?;
    let resp = http
        .post_within(&url, "application/ocsp-request", &req, FETCH_TIMEOUT)
        .map_err(|e| format!("{url}: {e}"))?;
    let answer = ocsp::validate(&resp, &subject, now).map_err(|e| format!("{url}: {e}"))?;
    match answer.status {
        Status::Good => Ok((resp, answer.valid_until)),
        Status::Revoked { .. } => Err(format!("{url}: our own certificate is REVOKED")),
        Status::Unknown => Err(format!(
            "{url}: the responder does not know our certificate"
        )),
    }
}

fn unix_now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Keeps `resolver` stapled with fresh answers; stops when the returned task is dropped.
pub fn spawn(
    resolver: Arc<StapledResolver>,
    chain: Vec<CertificateDer<'static>>,
    listener: &'static str,
) -> crate::server::Task {
    crate::server::Task(tokio::spawn(async move {
        let mut valid_until: Option<i64> = None;
        loop {
            let c = chain.clone();
            let got =
                tokio::task::spawn_blocking(move || fetch(&c, &HttpClient::default(), unix_now()))
                    .await;
            let wait = match got {
                Ok(Ok((der, until))) => {
                    resolver.set_staple(Some(der));
                    valid_until = Some(until);
                    let left = (until - unix_now()).max(0) as u64;
                    tracing::info!(listener, valid_for_secs = left, "OCSP staple refreshed");
                    Duration::from_secs(left / 2).max(MIN_REFRESH)
                }
                Ok(Err(e)) => {
                    tracing::warn!(listener, error = %e, "OCSP staple not refreshed");
                    RETRY
                }
                Err(e) => {
                    tracing::warn!(listener, error = %e, "OCSP staple task failed");
                    RETRY
                }
            };
            // Never serve past nextUpdate: drop the staple when it expires before the next try.
            let mut wait = wait;
            if let Some(until) = valid_until {
                let left = (until - unix_now()).max(0) as u64;
                if Duration::from_secs(left) <= wait {
                    tokio::time::sleep(Duration::from_secs(left)).await;
                    resolver.set_staple(None);
                    valid_until = None;
                    tracing::warn!(
                        listener,
                        "OCSP staple expired: none stapled until a fresh one comes"
                    );
                    wait = Duration::ZERO;
                }
            }
            tokio::time::sleep(wait).await;
        }
    }))
}
