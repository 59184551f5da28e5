//! The outbound backchannel proxy: the application speaks plain HTTP to a loopback listener
//! (`HTTP_PROXY=http://127.0.0.1:PORT`, absolute-form `http://za-node.example/...` where an
//! explicit port is the TLS port, or origin-form with `Host`), and the gateway makes the call
//! compliant: only to whitelisted hosts (else 403 with the reason), presenting the node's
//! certificate (full chain, no root), verifying the server with the MedMij verifier (hostname,
//! whitelist, revocation), TLS 1.3 and 1.2 offered, never early data, connections pooled.

use crate::config::Limits;
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, HOST};
use hyper::{Request, Response, StatusCode};
use medmij_verify::whitelist::Store;
use rustls::pki_types::ServerName;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Idle connections kept per peer host. 32: enough for a busy node pair's concurrency; more
/// idle sockets cost the peer's connection limits without saving handshakes.
pub const POOL_PER_HOST: usize = 32;
/// Time to connect and finish the TLS handshake with a peer node. 10 s: the verifier's own
/// revocation budget per certificate.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle HTTP/1.1 senders per (host, TLS port).
type Pool = HashMap<(String, u16), Vec<SendRequest<Body>>>;

/// Everything the outbound proxy needs.
pub struct Outbound {
    tls: tokio_rustls::TlsConnector,
    store: Arc<Store>,
    resolve: HashMap<String, SocketAddr>,
    pool: Mutex<Pool>,
    opened: std::sync::atomic::AtomicU64,
    limits: Arc<Limits>,
}

fn short(status: StatusCode, text: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(text)).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    r
}

impl Outbound {
    /// A proxy presenting the configured identity through `tls` (from
    /// `TlsPolicy::backchannel_client`).
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        store: Arc<Store>,
        resolve: HashMap<String, SocketAddr>,
        limits: Arc<Limits>,
    ) -> Outbound {
        Outbound {
            tls: tokio_rustls::TlsConnector::from(tls),
            store,
            resolve,
            pool: Mutex::new(HashMap::new()),
            opened: std::sync::atomic::AtomicU64::new(0),
            limits,
        }
    }

    /// TLS connections opened so far (the pool's reuse shows as fewer than requests).
    pub fn connections_opened(&self) -> u64 {
        self.opened.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Where the request goes: (host, TLS port), from the absolute-form target or `Host`.
    fn target(req: &Request<Incoming>) -> Result<(String, u16), String> {
        let (host, port) = match req.uri().authority() {
            Some(a) => (a.host().to_owned(), a.port_u16()),
            None => {
                let h = req
                    .headers()
                    .get(HOST)
                    .and_then(|h| h.to_str().ok())
                    .ok_or("no absolute-form target and no Host header")?;
                let a: hyper::http::uri::Authority = h
                    .parse()
                    .map_err(|_| format!("Host {h:?} is not host[:port]"))?;
                (a.host().to_owned(), a.port_u16())
            }
        };
        if req.uri().scheme_str().is_some_and(|s| s != "http") {
            return Err("send plain http:// to the proxy; it makes the TLS call".into());
        }
        Ok((host.to_ascii_lowercase(), port.unwrap_or(443)))
    }

    async fn connect(&self, host: &str, port: u16) -> Result<SendRequest<Body>, String> {
        let addr = match self.resolve.get(&format!("{host}:{port}")) {
            Some(a) => *a,
            None => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("{host}: cannot resolve: {e}"))?
                .next()
                .ok_or_else(|| format!("{host}: no address"))?,
        };
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| format!("{host}: not a host name"))?;
        let go = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect {addr}: {e}"))?;
            let _ = tcp.set_nodelay(true);
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {host}: {e}"))?;
            let (send, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                    .await
                    .map_err(|e| format!("HTTP with {host}: {e}"))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok::<_, String>(send)
        };
        let send = tokio::time::timeout(CONNECT_TIMEOUT, go)
            .await
            .map_err(|_| format!("{host}: connect and handshake over {CONNECT_TIMEOUT:?}"))??;
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(send)
    }

    fn take(&self, key: &(String, u16)) -> Option<SendRequest<Body>> {
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = pool.get_mut(key)?;
        list.retain(|s| !s.is_closed());
        let i = list.iter().position(|s| s.is_ready())?;
        Some(list.swap_remove(i))
    }

    fn give_back(&self, key: (String, u16), s: SendRequest<Body>) {
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = pool.entry(key).or_default();
        if list.len() < POOL_PER_HOST && !s.is_closed() {
            list.push(s);
        }
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let (host, port) = match Self::target(&req) {
            Ok(t) => t,
            Err(why) => return short(StatusCode::BAD_REQUEST, format!("{why}\n")),
        };
        let listed = self.store.current().is_some_and(|w| w.contains(&host));
        if !listed {
            tracing::warn!(host = %host, "outbound refused: the host is not on the whitelist");
            return short(
                StatusCode::FORBIDDEN,
                format!(
                    "{host} is not on the MedMij whitelist: no backchannel connection is made\n"
                ),
            );
        }
        let key = (host.clone(), port);
        let mut send = match self.take(&key) {
            Some(s) => s,
            None => match self.connect(&host, port).await {
                Ok(s) => s,
                Err(why) => {
                    tracing::warn!(host = %host, error = %why, "outbound connection failed: 502");
                    return short(StatusCode::BAD_GATEWAY, format!("{why}\n"));
                }
            },
        };
        let (mut parts, body) = req.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        parts.uri = match path.parse() {
            Ok(u) => u,
            Err(_) => return short(StatusCode::BAD_REQUEST, "bad request target\n".into()),
        };
        let authority = if port == 443 {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        if let Ok(v) = HeaderValue::from_str(&authority) {
            parts.headers.insert(HOST, v);
        }
        for h in [
            "proxy-connection",
            "proxy-authorization",
            "connection",
            "keep-alive",
            "te",
            "upgrade",
        ] {
            parts.headers.remove(h);
        }
        let body: Body = Limited::new(body, self.limits.max_body_bytes as usize).boxed();
        let req = Request::from_parts(parts, body);
        if let Err(e) = send.ready().await {
            return short(
                StatusCode::BAD_GATEWAY,
                format!("{host}: connection lost: {e}\n"),
            );
        }
        let fut = send.send_request(req);
        let resp = tokio::time::timeout(self.limits.upstream_timeout(), fut).await;
        match resp {
            Ok(Ok(r)) => {
                self.give_back(key, send);
                let (parts, body) = r.into_parts();
                Response::from_parts(parts, body.map_err(|e| e.into()).boxed())
            }
            Ok(Err(e)) => {
                tracing::warn!(host = %host, error = %e, "outbound request failed: 502");
                short(StatusCode::BAD_GATEWAY, format!("{host}: {e}\n"))
            }
            Err(_) => short(
                StatusCode::GATEWAY_TIMEOUT,
                format!("{host}: no answer in time\n"),
            ),
        }
    }
}

/// Serves the loopback proxy listener until stopped.
pub async fn serve(listener: TcpListener, out: Arc<Outbound>, stopped: watch::Receiver<bool>) {
    let header_timeout = out.limits.header_timeout();
    crate::proxy::serve_plain(listener, stopped, header_timeout, move || {
        let out = out.clone();
        hyper::service::service_fn(move |req| {
            let out = out.clone();
            async move { Ok::<_, Infallible>(out.handle(req).await) }
        })
    })
    .await;
}
