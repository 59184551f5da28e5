//! Real handshakes with rustls (the policy module's measuring client): what only a finished
//! TLS 1.3 handshake shows (the chain and staple inside encrypted messages, the
//! CertificateRequest), what a server does after it (refuse a missing or bad client certificate
//! with an alert, or answer HTTP), 0-RTT on a resumed session, and HSTS.

use crate::net::{DeadlineStream, Endpoint};
use crate::wire::flight::Alert;
use medmij_core::wire::ProtocolVersion;
use medmij_verify::tls_policy::TlsPolicy;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long to wait after the handshake for the server's verdict on the client certificate and
/// for an HTTP answer. A TLS 1.3 server refuses a client certificate after the client's
/// Finished, so the alert comes with the first read; two seconds covers a loaded server that
/// checks revocation from its cache. A server that neither refuses nor answers by then has
/// accepted the connection.
pub const POST_HANDSHAKE_WAIT: Duration = Duration::from_secs(2);
/// Bytes of an HTTP answer read for its status line and headers.
pub const MAX_HTTP_HEAD: usize = 16 * 1024;

/// The chain (leaf first) and the stapled OCSP response a server sent.
type Seen = (Vec<Vec<u8>>, Vec<u8>);

/// Records the chain and staple the server sends; checks the handshake signatures for real
/// (the server must hold the key), but trusts any chain (judging it is the verifier's job,
/// later, on the recorded bytes).
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    seen: Mutex<Option<Seen>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.to_vec()];
        chain.extend(intermediates.iter().map(|c| c.to_vec()));
        if let Ok(mut s) = self.seen.lock() {
            *s = Some((chain, ocsp_response.to_vec()));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Presents `key` (or nothing) and records the CertificateRequest's CA names.
#[derive(Debug)]
struct Identity {
    key: Option<Arc<CertifiedKey>>,
    hints: Mutex<Option<Vec<Vec<u8>>>>,
}

impl ResolvesClientCert for Identity {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        if let Ok(mut h) = self.hints.lock() {
            *h = Some(root_hint_subjects.iter().map(|s| s.to_vec()).collect());
        }
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// What came after the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum After {
    /// An HTTP/1.x answer.
    Http {
        /// Status code.
        status: u16,
        /// `Strict-Transport-Security`.
        hsts: Option<String>,
    },
    /// An HTTP/2 frame (h2 was negotiated; the server accepted the connection).
    H2,
    /// A TLS alert.
    Alert(String),
    /// The server closed or reset the connection.
    Closed(String),
    /// Nothing within [`POST_HANDSHAKE_WAIT`]: the connection is open.
    Open,
}

/// One real handshake.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// The handshake completed (from the client's side).
    pub completed: bool,
    /// Why not.
    pub error: Option<String>,
    /// The alert that ended the handshake, if one did.
    pub alert: Option<String>,
    /// Version.
    pub version: Option<ProtocolVersion>,
    /// Suite.
    pub suite: Option<u16>,
    /// ALPN.
    pub alpn: Option<String>,
    /// Chain as sent.
    pub chain: Vec<Vec<u8>>,
    /// Stapled OCSP (empty: none).
    pub ocsp: Vec<u8>,
    /// The CertificateRequest's CA names (`None`: no request).
    pub requested: Option<Vec<Vec<u8>>>,
    /// After the handshake (when a request was made).
    pub after: Option<After>,
    /// The session was resumed.
    pub resumed: bool,
    /// Early data was sent / accepted.
    pub early_data: Option<bool>,
}

fn server_name(ep: &Endpoint) -> ServerName<'static> {
    ep.sni
        .as_ref()
        .and_then(|s| ServerName::try_from(s.clone()).ok())
        .unwrap_or_else(|| ServerName::IpAddress(ep.addr.ip().into()))
}

fn alert_name(e: &rustls::Error) -> Option<String> {
    match e {
        rustls::Error::AlertReceived(d) => Some(
            Alert {
                level: 2,
                description: u8::from(*d),
            }
            .name(),
        ),
        _ => None,
    }
}

fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
}

/// A configuration for one probe.
pub struct Client {
    config: Arc<rustls::ClientConfig>,
    recorder: Arc<Recorder>,
    identity: Arc<Identity>,
}

impl Client {
    /// A measuring client presenting `key` (or nothing).
    pub fn new(
        key: Option<Arc<CertifiedKey>>,
        alpn: &[&[u8]],
        early_data: bool,
    ) -> Result<Client, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let recorder = Arc::new(Recorder {
            provider,
            seen: Mutex::new(None),
        });
        let identity = Arc::new(Identity {
            key,
            hints: Mutex::new(None),
        });
        let config =
            TlsPolicy::measuring_client(recorder.clone(), identity.clone(), alpn, early_data)
                .map_err(|e| e.to_string())?;
        Ok(Client {
            config: Arc::new(config),
            recorder,
            identity,
        })
    }

    /// Connects, handshakes, and (with `request`) sends one `GET /` and reads what follows.
    /// `early` sends that request as 0-RTT data when the session allows it.
    pub fn run(&self, ep: &Endpoint, request: bool, early: bool) -> Session {
        let mut s = Session::default();
        let mut tcp = match ep.connect() {
            Ok(t) => t,
            Err(e) => {
                s.error = Some(e.to_string());
                return s;
            }
        };
        let mut conn = match ClientConnection::new(self.config.clone(), server_name(ep)) {
            Ok(c) => c,
            Err(e) => {
                s.error = Some(e.to_string());
                return s;
            }
        };
        let host = ep.sni.clone().unwrap_or_else(|| ep.addr.ip().to_string());
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: medmij-tls-scan\r\nConnection: close\r\n\r\n"
        );
        if early {
            if let Some(mut ed) = conn.early_data() {
                s.early_data = Some(ed.write_all(req.as_bytes()).is_ok());
            }
        }
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut tcp) {
                s.alert = rustls_error(&e).and_then(alert_name);
                s.error = Some(match rustls_error(&e) {
                    Some(r) => r.to_string(),
                    None => e.to_string(),
                });
                break;
            }
        }
        s.completed = !conn.is_handshaking();
        self.collect(&conn, &mut s);
        if s.completed {
            if s.early_data.is_some() {
                s.early_data = Some(conn.is_early_data_accepted());
            }
            if request {
                s.after = Some(self.after(&mut conn, &mut tcp, &req, s.early_data == Some(true)));
                // Read what came with the answer (tickets) before the socket goes.
            }
        }
        s
    }

    fn collect(&self, conn: &ClientConnection, s: &mut Session) {
        s.version = conn
            .protocol_version()
            .map(|v| ProtocolVersion(u16::from(v)));
        s.suite = conn.negotiated_cipher_suite().map(|c| u16::from(c.suite()));
        s.alpn = conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        s.resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        if let Ok(mut seen) = self.recorder.seen.lock() {
            if let Some((chain, ocsp)) = seen.take() {
                s.chain = chain;
                s.ocsp = ocsp;
            }
        }
        if let Ok(mut h) = self.identity.hints.lock() {
            if let Some(hints) = h.take() {
                s.requested = Some(hints);
            }
        }
    }

    fn after(
        &self,
        conn: &mut ClientConnection,
        tcp: &mut DeadlineStream,
        req: &str,
        sent_early: bool,
    ) -> After {
        tcp.shorten(POST_HANDSHAKE_WAIT);
        let h2 = conn.alpn_protocol() == Some(b"h2");
        let mut stream = rustls::Stream::new(conn, tcp);
        let first: &[u8] = if h2 {
            // The HTTP/2 connection preface and an empty SETTINGS frame (RFC 9113 §3.4).
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"
        } else if sent_early {
            b""
        } else {
            req.as_bytes()
        };
        if !first.is_empty() {
            if let Err(e) = stream.write_all(first) {
                return io_after(&e);
            }
        }
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if h2 || buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() >= MAX_HTTP_HEAD
                    {
                        break;
                    }
                }
                Err(e) => {
                    if buf.is_empty() {
                        return io_after(&e);
                    }
                    break;
                }
            }
        }
        if buf.is_empty() {
            return After::Closed("closed without an answer".into());
        }
        if h2 {
            return After::H2;
        }
        parse_http_head(&buf).unwrap_or_else(|| {
            After::Closed(format!(
                "answered {} bytes that are not HTTP",
                buf.len().min(MAX_HTTP_HEAD)
            ))
        })
    }
}

fn io_after(e: &std::io::Error) -> After {
    if let Some(a) = rustls_error(e).and_then(alert_name) {
        return After::Alert(a);
    }
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => After::Open,
        _ => After::Closed(match rustls_error(e) {
            Some(r) => r.to_string(),
            None => e.to_string(),
        }),
    }
}

/// Status and HSTS of an HTTP/1.x head.
pub fn parse_http_head(buf: &[u8]) -> Option<After> {
    let text = String::from_utf8_lossy(buf);
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let hsts = header(&text, "strict-transport-security");
    Some(After::Http { status, hsts })
}

/// The first header `name` (case-insensitive) of an HTTP head.
pub fn header(head: &str, name: &str) -> Option<String> {
    head.split("\r\n")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_heads_are_read_for_status_and_hsts() {
        let a = parse_http_head(
            b"HTTP/1.1 301 Moved\r\nLocation: https://x/\r\nStrict-Transport-Security: max-age=63072000\r\n\r\n",
        );
        assert_eq!(
            a,
            Some(After::Http {
                status: 301,
                hsts: Some("max-age=63072000".into())
            })
        );
        assert_eq!(parse_http_head(b"SSH-2.0-x\r\n"), None);
    }
}
