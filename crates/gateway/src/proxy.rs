//! The reverse proxy: requests go to the loopback upstream over HTTP/1.1 with the verified peer
//! identity in `X-MedMij-Peer-*` headers (any such header the client sent is dropped first);
//! the upstream down is a 502, slow a 504, each with a short body and a log line. And the
//! plain-HTTP listener that only redirects to https (core.tls.300).

use crate::config::Limits;
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use medmij_verify::whitelist::Store;
use rustls::pki_types::CertificateDer;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// The identity headers (what the upstream may trust, because the gateway sets them).
pub const PEER_HEADERS: [&str; 4] = [
    "x-medmij-peer-host",
    "x-medmij-peer-subject",
    "x-medmij-peer-serial-number",
    "x-medmij-peer-cert-sha256",
];

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The verified peer of a connection (empty on the frontchannel).
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// The SAN dNSName found on the whitelist.
    pub host: Option<String>,
    /// The subject DN.
    pub subject: Option<String>,
    /// subject serialNumber (the OIN).
    pub serial_number: Option<String>,
    /// SHA-256 of the leaf DER, hex.
    pub cert_sha256: Option<String>,
}

impl Identity {
    /// No peer certificate.
    pub fn none() -> Identity {
        Identity::default()
    }

    /// The identity of a verified peer chain: its first SAN dNSName on the current whitelist.
    pub fn of(peer: Option<&[CertificateDer<'static>]>, store: &Store) -> Identity {
        use x509_parser::prelude::*;
        let Some(leaf) = peer.and_then(|p| p.first()) else {
            return Identity::none();
        };
        let mut id = Identity {
            cert_sha256: Some(medmij_core::hex::encode(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, leaf.as_ref()).as_ref(),
            )),
            ..Identity::default()
        };
        if let Ok((_, c)) = X509Certificate::from_der(leaf.as_ref()) {
            id.subject = Some(c.subject().to_string());
            id.serial_number = c
                .subject()
                .iter_by_oid(&x509_parser::oid_registry::OID_X509_SERIALNUMBER)
                .next()
                .and_then(|a| a.as_str().ok())
                .map(str::to_owned);
            let list = store.current();
            if let Ok(Some(san)) = c.subject_alternative_name() {
                id.host = san.value.general_names.iter().find_map(|g| match g {
                    GeneralName::DNSName(n) => {
                        let n = n.to_ascii_lowercase();
                        list.as_ref().is_some_and(|l| l.contains(&n)).then_some(n)
                    }
                    _ => None,
                });
            }
        }
        id
    }

    fn headers(&self) -> [(&'static str, Option<&String>); 4] {
        [
            (PEER_HEADERS[0], self.host.as_ref()),
            (PEER_HEADERS[1], self.subject.as_ref()),
            (PEER_HEADERS[2], self.serial_number.as_ref()),
            (PEER_HEADERS[3], self.cert_sha256.as_ref()),
        ]
    }
}

/// One copy of each peer chain, shared by that peer's open connections (a node keeps many
/// connections to another; each re-check needs the chain, none needs its own copy).
#[derive(Default)]
pub struct Chains(
    std::sync::Mutex<
        std::collections::HashMap<Vec<u8>, std::sync::Weak<Vec<CertificateDer<'static>>>>,
    >,
);

/// Entries kept before dead ones are swept (a sweep is linear; the whitelist lists hundreds).
const CHAINS_SWEEP_AT: usize = 4096;

impl Chains {
    /// The shared copy of `chain`.
    pub fn get(&self, chain: &[CertificateDer<'static>]) -> Arc<Vec<CertificateDer<'static>>> {
        let key = chain
            .first()
            .map(|c| c.as_ref().to_vec())
            .unwrap_or_default();
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(live) = m.get(&key).and_then(std::sync::Weak::upgrade) {
            if live.as_slice() == chain {
                return live;
            }
        }
        if m.len() >= CHAINS_SWEEP_AT {
            m.retain(|_, w| w.strong_count() > 0);
        }
        let a = Arc::new(chain.to_vec());
        m.insert(key, Arc::downgrade(&a));
        a
    }
}

/// The listener's current verifier, swapped on reload.
pub type CurrentVerifier = Arc<std::sync::RwLock<Option<Arc<medmij_verify::Verifier>>>>;

/// The stored chain of a backchannel connection, checked again before every request against the
/// verifier's current state (whitelist, CRLs and OCSP answers in memory; no network I/O), so a
/// peer revoked or taken off the whitelist gets no further request through a keep-alive or
/// HTTP/2 connection (the backchannel never resumes TLS sessions, so a new connection is a new
/// handshake). At most one verification per [`RECHECK_INTERVAL`] per connection.
pub struct Recheck {
    verifier: CurrentVerifier,
    chain: Arc<Vec<CertificateDer<'static>>>,
    last_ok: std::sync::Mutex<Option<std::time::Instant>>,
}

/// How long an accepted re-check stands for the next requests of the same connection. One
/// second: a peer revoked or delisted is cut off within a second of the gateway loading the new
/// state, and a busy keep-alive connection pays one verification per second, not per request
/// (`scripts/bench-gateway`: per request it cost half the request rate).
pub const RECHECK_INTERVAL: Duration = Duration::from_secs(1);

impl Recheck {
    /// For a verified peer chain, judged by whatever verifier the listener has now (a reload
    /// with new CRL files or anchors applies to open connections too).
    pub fn new(verifier: CurrentVerifier, chain: Arc<Vec<CertificateDer<'static>>>) -> Recheck {
        Recheck {
            verifier,
            chain,
            last_ok: std::sync::Mutex::new(Some(std::time::Instant::now())),
        }
    }

    /// `Err(why)` when the chain is no longer accepted.
    fn still_accepted(&self) -> Result<(), String> {
        {
            let last = self
                .last_ok
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < RECHECK_INTERVAL) {
                return Ok(());
            }
        }
        let Some((leaf, rest)) = self.chain.split_first() else {
            return Err("no peer certificate".into());
        };
        let inter: Vec<&[u8]> = rest.iter().map(|c| c.as_ref()).collect();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some(verifier) = self
            .verifier
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        else {
            return Ok(());
        };
        let v = verifier.decide(
            leaf.as_ref(),
            &inter,
            &medmij_verify::Peer::Client,
            None,
            now,
        );
        if v.accepted {
            *self
                .last_ok
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(std::time::Instant::now());
            return Ok(());
        }
        Err(v
            .reasons
            .iter()
            .map(|r| format!("{} {}", r.requirement, r.check))
            .collect::<Vec<_>>()
            .join(", "))
    }
}

/// A header value from any text: non-visible-ASCII bytes percent-escaped.
fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| {
        let esc: String = s
            .bytes()
            .map(|b| {
                if (0x20..0x7f).contains(&b) && b != b'%' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        HeaderValue::from_str(&esc).unwrap_or(HeaderValue::from_static("-"))
    })
}

/// The upstream (loopback HTTP/1.1) with its client and deadline.
#[derive(Clone)]
pub struct Upstream {
    authority: Arc<str>,
    client: Client<HttpConnector, Body>,
    timeout: Duration,
}

impl Upstream {
    /// A pooled client for `authority` (`127.0.0.1:8081`).
    pub fn new(authority: &str, timeout: Duration) -> Upstream {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Upstream {
            authority: authority.into(),
            client,
            timeout,
        }
    }
}

fn short(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|e| match e {})
            .boxed(),
    );
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    r
}

/// The proxy service of one connection.
pub fn service(
    listener: &'static str,
    upstream: Upstream,
    id: Arc<Identity>,
    recheck: Option<Arc<Recheck>>,
    hsts: Option<String>,
    limits: Arc<Limits>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<Response<Body>, Infallible>> + Send,
> + Clone {
    let hsts = hsts.map(|h| header_value(&h));
    hyper::service::service_fn(move |req: Request<Incoming>| {
        let upstream = upstream.clone();
        let id = id.clone();
        let recheck = recheck.clone();
        let hsts = hsts.clone();
        let max_body = limits.max_body_bytes;
        async move {
            if let Some(r) = &recheck {
                if let Err(why) = r.still_accepted() {
                    tracing::warn!(peer_subject = id.subject.as_deref().unwrap_or("-"), reasons = %why, "request refused: the peer certificate is no longer accepted");
                    let mut resp = short(
                        StatusCode::FORBIDDEN,
                        "peer certificate no longer accepted\n",
                    );
                    resp.headers_mut()
                        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
                    return Ok(resp);
                }
            }
            let started = std::time::Instant::now();
            let mut resp = forward(req, &upstream, &id, max_body).await;
            metrics::histogram!("medmij_gateway_upstream_seconds", "listener" => listener)
                .record(started.elapsed().as_secs_f64());
            let status = resp.status().as_u16().to_string();
            metrics::counter!("medmij_gateway_requests_total", "listener" => listener, "status" => status).increment(1);
            match resp.status() {
                StatusCode::BAD_GATEWAY => metrics::counter!("medmij_gateway_upstream_errors_total", "listener" => listener, "kind" => "unavailable").increment(1),
                StatusCode::GATEWAY_TIMEOUT => metrics::counter!("medmij_gateway_upstream_errors_total", "listener" => listener, "kind" => "timeout").increment(1),
                _ => {}
            }
            if let Some(h) = hsts {
                resp.headers_mut().insert("strict-transport-security", h);
            }
            Ok(resp)
        }
    })
}

async fn forward(
    req: Request<Incoming>,
    up: &Upstream,
    id: &Identity,
    max_body: u64,
) -> Response<Body> {
    let (mut parts, body) = req.into_parts();
    if parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max_body)
    {
        return short(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
    }
    let host = parts.headers.get(HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let Ok(uri) = format!("http://{}{path}", up.authority).parse() else {
        return short(StatusCode::BAD_REQUEST, "bad request target\n");
    };
    parts.uri = uri;
    parts.version = hyper::Version::HTTP_11;
    for h in HOP_BY_HOP.iter().chain(PEER_HEADERS.iter()) {
        parts.headers.remove(*h);
    }
    if let Some(h) = host {
        parts.headers.insert(HOST, h);
    }
    for (name, value) in id.headers() {
        if let Some(v) = value {
            parts
                .headers
                .insert(HeaderName::from_static(name), header_value(v));
        }
    }
    let body: Body = Limited::new(body, max_body as usize).boxed();
    let req = Request::from_parts(parts, body);
    match tokio::time::timeout(up.timeout, up.client.request(req)).await {
        Ok(Ok(resp)) => {
            let (mut parts, body) = resp.into_parts();
            for h in HOP_BY_HOP {
                parts.headers.remove(h);
            }
            Response::from_parts(parts, body.map_err(|e| e.into()).boxed())
        }
        Ok(Err(e)) => {
            tracing::warn!(upstream = %up.authority, error = %e, "upstream error: 502");
            short(StatusCode::BAD_GATEWAY, "upstream unavailable\n")
        }
        Err(_) => {
            tracing::warn!(upstream = %up.authority, timeout = ?up.timeout, "upstream timeout: 504");
            short(StatusCode::GATEWAY_TIMEOUT, "upstream timeout\n")
        }
    }
}

/// Serves plain HTTP/1.1 on `listener` with a fresh service from `make` per connection, until
/// stopped (the redirect, outbound and metrics listeners).
pub(crate) async fn serve_plain<F, S, B>(
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
    header_timeout: Duration,
    make: F,
) where
    F: Fn() -> S + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                // EMFILE and friends: back off instead of spinning.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            _ = stopped.changed() => break,
        };
        let svc = make();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                .await;
        });
    }
}

/// Answers every plain-HTTP request with a redirect to https and nothing else (core.tls.300).
pub async fn redirect_loop(
    listener: TcpListener,
    https_port: u16,
    limits: Arc<Limits>,
    stopped: watch::Receiver<bool>,
) {
    serve_plain(listener, stopped, limits.header_timeout(), move || {
        hyper::service::service_fn(move |req: Request<Incoming>| async move {
            Ok::<_, Infallible>(redirect(&req, https_port))
        })
    })
    .await;
}

/// The 301 to the https URL of `req` (host from `Host`, without its port; the TLS port added
/// unless it is 443).
fn redirect(req: &Request<Incoming>, https_port: u16) -> Response<Body> {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| {
            h.rsplit_once(':').map_or(h, |(n, p)| {
                if p.chars().all(|c| c.is_ascii_digit()) {
                    n
                } else {
                    h
                }
            })
        })
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
        .unwrap_or("localhost")
        .to_owned();
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut r = short(StatusCode::MOVED_PERMANENTLY, "");
    r.headers_mut().insert(
        hyper::header::LOCATION,
        header_value(&format!("https://{host}{port}{path}")),
    );
    r
}
