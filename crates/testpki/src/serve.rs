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
/// Time a client gets to send a request body once the headers are in: of the order of the
/// header deadline (an OCSP request is under 1 KiB; a client announcing 1000 bytes and sending
/// four must not hold a connection for good).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest life of one connection, however many requests it carries: a CRL of a few MiB over a
/// slow link is done well within a minute.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);
/// Most connections served at once; more wait in the kernel's accept queue. Well above what a
/// test network's nodes need, and below the usual 1024-descriptor limit so the server keeps
/// descriptors for the files it reads.
pub const MAX_CONNECTIONS: usize = 512;
/// Pause after the process ran out of descriptors (EMFILE/ENFILE) before accepting again: the
/// pending connection stays in the queue, and retrying at once would spin a core.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Descriptors kept free of connections: the listener, stdio, the runtime's own, and the files
/// a request reads (pki.json, revocations.json, a CRL, a key).
const FD_RESERVE: usize = 32;

/// [`MAX_CONNECTIONS`], lowered to fit the process's descriptor limit (Linux: the soft "Max open
/// files" of /proc/self/limits) so that accepting never runs into EMFILE under load.
fn connection_cap() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .and_then(|v| v.parse::<usize>().ok());
    match soft {
        Some(n) if n > 2 * FD_RESERVE => MAX_CONNECTIONS.min(n - FD_RESERVE),
        Some(n) => (n / 2).max(1),
        None => MAX_CONNECTIONS,
    }
}

/// At most one "accept failed" log line per this interval (with the number suppressed).
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The clock the server reads: the system's, or a fixed instant in tests.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

struct State {
    dir: PkiDir,
    clock: Clock,
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
        let now = (self.clock)();
        let fresh = x509_parser::parse_x509_crl(&current)
            .ok()
            .and_then(|(_, c)| c.next_update())
            .map(|n| n.timestamp() - now.unix_timestamp() > CRL_VALIDITY.whole_seconds() / 2)
            .unwrap_or(false);
        if fresh {
            return Ok(current);
        }
        let _lock = self.dir.lock()?;
        reissue_crl_locked(&self.dir, ca, now)
    }
}

/// Re-issues the CRL of `ca` from the current revocation state (CRL number + 1) and stores it.
pub fn reissue_crl(dir: &PkiDir, ca: &str) -> Result<Vec<u8>> {
    let _lock = dir.lock()?;
    reissue_crl_locked(dir, ca, OffsetDateTime::now_utc())
}

/// As [`reissue_crl`] at `now`, for a caller that holds the directory's lock already.
pub(crate) fn reissue_crl_locked(dir: &PkiDir, ca: &str, now: OffsetDateTime) -> Result<Vec<u8>> {
    let manifest = dir.manifest()?;
    let rec = manifest.ca(ca)?;
    let mut state = dir.revocations()?;
    let number = state.crl_numbers.get(ca).copied().unwrap_or(0) + 1;
    let loaded = LoadedCa::load(dir, rec)?;
    let crl = loaded.crl(&state.revoked, number, now, CRL_VALIDITY)?;
    dir.write(&rec.crl, &crl)?;
    state.crl_numbers.insert(ca.to_string(), number);
    dir.write_revocations(&state)?;
    Ok(crl)
}

/// Serves `dir` on `listener` until `shutdown` completes, on the system clock.
pub async fn serve(
    dir: PkiDir,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    serve_with_clock(dir, listener, shutdown, system_clock()).await
}

/// A [`serve`] running on its own thread and runtime (for tests and callers that are not
/// async); it stops when this is dropped.
pub struct Background {
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Runs [`serve`] for `dir` on `listener` in the background until the handle is dropped. A
/// listener or runtime that cannot be set up is an error here, not a panic on the thread.
pub fn in_background(dir: PkiDir, listener: std::net::TcpListener) -> std::io::Result<Background> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let served = match TcpListener::from_std(listener) {
                Ok(l) => serve(dir, l, async {
                    let _ = stopped.await;
                })
                .await
                .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = served {
                tracing::error!("pki serve in the background stopped: {e}");
            }
        });
    });
    Ok(Background { _stop: stop })
}

/// As [`serve`], reading the time from `clock` (CRL re-issue, OCSP thisUpdate): a test PKI made
/// `--at` an instant can be served as of that instant.
pub async fn serve_with_clock(
    dir: PkiDir,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    clock: Clock,
) -> Result<()> {
    let responder = Responder::load(&dir)?;
    let mtime = std::fs::metadata(dir.path("pki.json"))
        .and_then(|m| m.modified())
        .ok();
    let state = Arc::new(State {
        dir,
        clock,
        responder: Mutex::new((mtime, Arc::new(responder))),
        crl_lock: Mutex::new(()),
    });
    tokio::pin!(shutdown);
    let cap = connection_cap();
    tracing::debug!(cap, "connection cap");
    let slots = Arc::new(tokio::sync::Semaphore::new(cap));
    let mut last_log: Option<std::time::Instant> = None;
    let mut suppressed = 0u64;
    loop {
        // A free slot first: past MAX_CONNECTIONS new connections wait in the accept queue.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => return Ok(()),
            },
            _ = &mut shutdown => return Ok(()),
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    let out_of_fds = matches!(e.raw_os_error(), Some(23 | 24));
                    if last_log.is_none_or(|t| t.elapsed() >= ACCEPT_LOG_INTERVAL) {
                        tracing::warn!(error = %e, suppressed, "accept failed");
                        last_log = Some(std::time::Instant::now());
                        suppressed = 0;
                    } else {
                        suppressed += 1;
                    }
                    if out_of_fds {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc);
            match tokio::time::timeout(CONNECTION_TIMEOUT, conn).await {
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "connection ended with an error"),
                Err(_) => tracing::debug!(%peer, "connection closed after CONNECTION_TIMEOUT"),
                Ok(Ok(())) => {}
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
        (&Method::GET, ["crl", file]) => {
            match file.strip_suffix(".crl").map(|ca| (ca, state.crl(ca))) {
                Some((_, Ok(der))) => reply(StatusCode::OK, "application/pkix-crl", der),
                // The reason (with local paths) is for the operator's log, not for the client.
                Some((ca, Err(e))) => {
                    tracing::warn!(ca, error = %e, "CRL not served");
                    text(
                        StatusCode::NOT_FOUND,
                        format!("no CRL for `{}`", ca.escape_debug()),
                    )
                }
                None => text(StatusCode::NOT_FOUND, "no such CRL"),
            }
        }
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
            let collect = Limited::new(req.into_body(), MAX_OCSP_REQUEST).collect();
            let body = match tokio::time::timeout(BODY_TIMEOUT, collect).await {
                Ok(Ok(b)) => b.to_bytes(),
                Ok(Err(e)) => {
                    return text(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("OCSP request refused: {e}"),
                    )
                }
                Err(_) => {
                    return text(
                        StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "OCSP request body not complete within {} s",
                            BODY_TIMEOUT.as_secs()
                        ),
                    )
                }
            };
            ocsp(state, &body)
        }
        (&Method::GET, ["ocsp", _ca, rest @ ..]) if !rest.is_empty() => {
            // RFC 6960 §A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
            let encoded = rest.join("/");
            let Some(decoded) = percent_decode(&encoded) else {
                return text(
                    StatusCode::BAD_REQUEST,
                    "OCSP GET request: the path is not a percent-encoded base64 request",
                );
            };
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
    // An OCSP client gets an OCSP answer: internalError (RFC 6960 §4.2.1), the reason goes to
    // the operator's log.
    let internal_error = |e: PkiError| {
        tracing::error!(error = %e, "OCSP: cannot answer");
        reply(
            StatusCode::OK,
            "application/ocsp-response",
            OCSP_INTERNAL_ERROR.to_vec(),
        )
    };
    let responder = match state.responder() {
        Ok(r) => r,
        Err(e) => return internal_error(e),
    };
    let revocations = match state.dir.revocations() {
        Ok(r) => r,
        Err(e) => return internal_error(e),
    };
    let (body, answer) = responder.respond(der, &revocations, (state.clock)());
    match &answer {
        Answer::Signed(s) => tracing::info!(answers = ?s, "OCSP"),
        Answer::Error(e) => tracing::info!(status = e, "OCSP error"),
    }
    reply(StatusCode::OK, "application/ocsp-response", body)
}

/// `OCSPResponse { responseStatus internalError(2) }`, DER.
const OCSP_INTERNAL_ERROR: [u8; 5] = [0x30, 0x03, 0x0a, 0x01, 0x02];

/// Decodes `%XX` escapes byte by byte; `None` when the result is not UTF-8 (a base64 request
/// always is). Never slices inside a multi-byte character.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let hex = |c: u8| char::from(c).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_never_splits_a_character() {
        assert_eq!(
            percent_decode("MEow%2BQ%3D%3D").as_deref(),
            Some("MEow+Q==")
        );
        assert_eq!(percent_decode("%a\u{e9}x").as_deref(), Some("%a\u{e9}x"));
        assert_eq!(
            percent_decode("%\u{e9}\u{e9}").as_deref(),
            Some("%\u{e9}\u{e9}")
        );
        assert_eq!(percent_decode("%").as_deref(), Some("%"));
        assert_eq!(percent_decode("%ff"), None);
    }
}
