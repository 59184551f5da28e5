//! `pki serve`: publishes the CRLs and CA certificates at the URLs the certificates name and
//! answers OCSP requests (RFC 6960 §A.1: POST, and GET with the base64 request in the path).
//!
//! The revocation state is read on every OCSP request, so `pki revoke` takes effect at once. A
//! CRL whose nextUpdate is less than half its validity away is re-issued (number + 1) on request.

use crate::ca::LoadedCa;
use crate::error::{PkiError, Result};
use crate::init::CRL_VALIDITY;
use crate::ocsp::{Answer, Responder};
use crate::store::PkiDir;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use tokio::net::TcpListener;

/// Largest OCSP request body accepted (a request for a few certificates is well under 1 KiB).
pub const MAX_OCSP_REQUEST: usize = 64 * 1024;
/// Time a client gets to send its request headers (slow-loris guard).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

struct State {
    dir: PkiDir,
    responder: Mutex<(Option<SystemTime>, Arc<Responder>)>,
    crl_lock: Mutex<()>,
}

impl State {
    /// The responder, reloaded when `pki.json` changed (after `pki issue`).
    fn responder(&self) -> Result<Arc<Responder>> {
        let mtime = std::fs::metadata(self.dir.path("pki.json"))
            .and_then(|m| m.modified())
            .ok();
        let mut guard = self
            .responder
            .lock()
            .map_err(|_| PkiError::Invalid("responder lock poisoned".into()))?;
        if guard.0 != mtime {
            *guard = (mtime, Arc::new(Responder::load(&self.dir)?));
        }
        Ok(guard.1.clone())
    }

    /// The CRL of `ca`, re-issued first when it is past half its validity.
    fn crl(&self, ca: &str) -> Result<Vec<u8>> {
        let _g = self
            .crl_lock
            .lock()
            .map_err(|_| PkiError::Invalid("CRL lock poisoned".into()))?;
        let manifest = self.dir.manifest()?;
        let rec = manifest.ca(ca)?;
        let current = self.dir.read(&rec.crl)?;
        let now = OffsetDateTime::now_utc();
        let fresh = x509_parser::parse_x509_crl(&current)
            .ok()
            .and_then(|(_, c)| c.next_update())
            .map(|n| n.timestamp() - now.unix_timestamp() > CRL_VALIDITY.whole_seconds() / 2)
            .unwrap_or(false);
        if fresh {
            return Ok(current);
        }
        reissue_crl(&self.dir, ca)
    }
}

/// Re-issues the CRL of `ca` from the current revocation state (CRL number + 1) and stores it.
pub fn reissue_crl(dir: &PkiDir, ca: &str) -> Result<Vec<u8>> {
    let manifest = dir.manifest()?;
    let rec = manifest.ca(ca)?;
    let mut state = dir.revocations()?;
    let number = state.crl_numbers.get(ca).copied().unwrap_or(0) + 1;
    let loaded = LoadedCa::load(dir, rec)?;
    let crl = loaded.crl(
        &state.revoked,
        number,
        OffsetDateTime::now_utc(),
        CRL_VALIDITY,
    )?;
    dir.write(&rec.crl, &crl)?;
    state.crl_numbers.insert(ca.to_string(), number);
    dir.write_revocations(&state)?;
    Ok(crl)
}

/// Serves `dir` on `listener` until `shutdown` completes.
pub async fn serve(
    dir: PkiDir,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let responder = Responder::load(&dir)?;
    let mtime = std::fs::metadata(dir.path("pki.json"))
        .and_then(|m| m.modified())
        .ok();
    let state = Arc::new(State {
        dir,
        responder: Mutex::new((mtime, Arc::new(responder))),
        crl_lock: Mutex::new(()),
    });
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let state = state.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

fn reply(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn text(status: StatusCode, msg: impl Into<String>) -> Response<Full<Bytes>> {
    let mut m = msg.into();
    m.push('\n');
    reply(status, "text/plain; charset=utf-8", m.into_bytes())
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let resp = match (&method, parts.as_slice()) {
        (&Method::GET, ["healthz"]) => text(StatusCode::OK, "ok"),
        (&Method::GET, ["crl", file]) => match file.strip_suffix(".crl").map(|ca| state.crl(ca)) {
            Some(Ok(der)) => reply(StatusCode::OK, "application/pkix-crl", der),
            Some(Err(e)) => text(StatusCode::NOT_FOUND, e.to_string()),
            None => text(StatusCode::NOT_FOUND, "no such CRL"),
        },
        (&Method::GET, ["ca", file]) => match file
            .strip_suffix(".cer")
            .filter(|ca| ca.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            Some(ca) => match state.dir.read(&format!("ca/{ca}.cer")) {
                Ok(der) => reply(StatusCode::OK, "application/pkix-cert", der),
                Err(_) => text(StatusCode::NOT_FOUND, format!("no CA `{ca}`")),
            },
            None => text(StatusCode::NOT_FOUND, "no such certificate"),
        },
        (&Method::POST, ["ocsp", ..]) => {
            let body = match Limited::new(req.into_body(), MAX_OCSP_REQUEST)
                .collect()
                .await
            {
                Ok(b) => b.to_bytes(),
                Err(e) => {
                    return text(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("OCSP request refused: {e}"),
                    )
                }
            };
            ocsp(state, &body)
        }
        (&Method::GET, ["ocsp", _ca, rest @ ..]) if !rest.is_empty() => {
            // RFC 6960 §A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
            let encoded = rest.join("/");
            let decoded = percent_decode(&encoded);
            use base64::Engine;
            match base64::engine::general_purpose::STANDARD.decode(decoded.trim()) {
                Ok(der) => ocsp(state, &der),
                Err(e) => text(
                    StatusCode::BAD_REQUEST,
                    format!("OCSP GET request is not base64: {e}"),
                ),
            }
        }
        _ => text(StatusCode::NOT_FOUND, format!("nothing at {method} {path}")),
    };
    tracing::info!(%method, %path, status = resp.status().as_u16(), "request");
    resp
}

fn ocsp(state: &State, der: &[u8]) -> Response<Full<Bytes>> {
    let responder = match state.responder() {
        Ok(r) => r,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let revocations = match state.dir.revocations() {
        Ok(r) => r,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let (body, answer) = responder.respond(der, &revocations, OffsetDateTime::now_utc());
    match &answer {
        Answer::Signed(s) => tracing::info!(answers = ?s, "OCSP"),
        Answer::Error(e) => tracing::info!(status = e, "OCSP error"),
    }
    reply(StatusCode::OK, "application/ocsp-response", body)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
