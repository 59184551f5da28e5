//! The small servers the demo network needs besides the gateways: the FHIR-like upstreams
//! behind each gateway (they record the request heads, so the demo can show the identity
//! headers a node's application receives) and the deliberately misconfigured node. Each stops
//! when its handle is dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most bytes of a request head an upstream reads (the gateway's own header limit is 64 KiB).
const MAX_HEAD: usize = 64 * 1024;

/// How long an upstream or the misconfigured node waits on one connection.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A server thread that stops when dropped.
pub(crate) struct Handle {
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// The address it listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Accepts on a non-blocking listener until stopped; `conn` handles each connection on its own
/// thread (the upstreams and the misconfigured node see a handful of connections).
fn accept_loop(
    listener: TcpListener,
    conn: impl Fn(TcpStream) + Send + Sync + 'static,
) -> std::io::Result<Handle> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let conn = Arc::new(conn);
    let thread = std::thread::spawn(move || {
        let mut workers = Vec::new();
        while !stop2.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(IO_TIMEOUT));
                    let _ = s.set_write_timeout(Some(IO_TIMEOUT));
                    let conn = conn.clone();
                    workers.push(std::thread::spawn(move || conn(s)));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        for w in workers {
            let _ = w.join();
        }
    });
    Ok(Handle {
        stop,
        addr,
        thread: Some(thread),
    })
}

/// Reads one request head (up to the blank line) or `None` at the end of the stream.
fn read_head(s: &mut impl Read) -> Option<String> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) if head.len() < MAX_HEAD => head.push(b[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A node's application: answers every request with a FHIR CapabilityStatement naming the node,
/// and keeps every request head it got.
pub(crate) struct Upstream {
    /// The server.
    pub(crate) handle: Handle,
    /// The request heads, in order.
    pub(crate) seen: Arc<Mutex<Vec<String>>>,
}

/// Starts an upstream for `node` on loopback.
pub(crate) fn upstream(node: &'static str) -> std::io::Result<Upstream> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let handle = accept_loop(TcpListener::bind("127.0.0.1:0")?, move |mut s| {
        while let Some(head) = read_head(&mut s) {
            s2.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(head);
            let body = format!(
                "{{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"kind\":\"instance\",\"software\":{{\"name\":\"{node}\"}},\"fhirVersion\":\"3.0.2\",\"format\":[\"application/fhir+json\"]}}"
            );
            let r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if s.write_all(r.as_bytes()).is_err() {
                return;
            }
        }
    })?;
    Ok(Upstream { handle, seen })
}

/// A backchannel node as it should not be run: TLS 1.2 only, the root in its chain, and no
/// client certificate requested; it answers 200 to anything. Built with rustls directly, on
/// purpose not from the project's policy.
pub(crate) fn misconfigured(chain_pem: &str, key_pem: &str) -> Result<Handle, String> {
    let chain: Vec<rustls::pki_types::CertificateDer<'static>> =
        medmij_testpki::store::pem_blocks(chain_pem, "CERTIFICATE")
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(Into::into)
            .collect();
    let key = medmij_testpki::store::pem_blocks(key_pem, "PRIVATE KEY")
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("no PRIVATE KEY block")?;
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(chain, rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()))
    .map_err(|e| e.to_string())?;
    let cfg = Arc::new(cfg);
    accept_loop(
        TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?,
        move |mut s| {
            let Ok(mut conn) = rustls::ServerConnection::new(cfg.clone()) else {
                return;
            };
            let mut tls = rustls::Stream::new(&mut conn, &mut s);
            if read_head(&mut tls).is_some() {
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        },
    )
    .map_err(|e| e.to_string())
}

/// One HTTP/1.1 GET through a forward proxy (absolute form), as a node's application sends
/// it to its gateway's outbound proxy: `(status, body)`.
pub(crate) fn get_via_proxy(proxy: SocketAddr, url: &str) -> std::io::Result<(u16, String)> {
    let host = url
        .strip_prefix("http://")
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let mut s = TcpStream::connect_timeout(&proxy, IO_TIMEOUT)?;
    // The proxy's verifier may fetch a CRL and ask OCSP inside the handshake (20 s budget).
    s.set_read_timeout(Some(Duration::from_secs(40)))?;
    s.write_all(
        format!("GET {url} HTTP/1.1\r\nHost: {host}\r\nAccept: application/fhir+json\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )?;
    let mut out = Vec::new();
    s.take(1024 * 1024).read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
