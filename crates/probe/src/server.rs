//! The probe's server: accepts the client under test, reads its ClientHello by hand, picks the
//! case (by SNI label, else the next in sequence), and drives a rustls server connection by
//! hand over the blocking socket, so it sees every record the client sends and when: an
//! application-data record before the server's Finished is False Start (TLS 1.2), one before the
//! client's Finished in TLS 1.3 is early data.

use crate::cases::{Case, Material};
use crate::facts::{ConnectionFacts, Outcome};
use crate::hello;
use medmij_verify::tls_policy::TlsPolicy;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, ServerConnection};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one connection may take from accept to close: a client verifying revocation
/// fetches a CRL and asks OCSP inside the handshake (the verifier's chain budget is 20 s), so
/// 30 s leaves room and still ends a client that stalls.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);

/// How long the server holds back its Finished in TLS 1.2 to see whether the client sends
/// application data first (False Start sends it with its own Finished, in the same flight;
/// 300 ms is many round trips on the paths a probe runs over).
pub const FALSE_START_WAIT: Duration = Duration::from_millis(300);

/// Connections handled at once: a client under test opens a few; more is a flood.
pub const MAX_CONCURRENT: usize = 32;

/// Connections recorded per run: a run of every case takes a dozen; a client in a retry loop
/// is cut off here rather than filling memory.
pub const MAX_CONNECTIONS: usize = 1000;

/// The most request bytes read after the handshake (one HTTP request head).
pub const MAX_REQUEST: usize = 16 * 1024;

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The probe's hostname (the good certificate's name).
    pub hostname: String,
    /// The cases to serve (default all).
    pub cases: Vec<Case>,
    /// End the run after this long even when cases are missing.
    pub timeout: Duration,
    /// After the last missing case was served, wait this long for stragglers.
    pub linger: Duration,
    /// How long one connection may take ([`CONNECTION_DEADLINE`] unless a test needs less).
    pub deadline: Duration,
}

/// Records a client certificate, requested but not required; judges nothing.
#[derive(Debug)]
struct Recorder {
    schemes: Vec<SignatureScheme>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for Recorder {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// Serves one fixed certificate.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The probe, ready to accept.
pub struct Probe {
    listener: TcpListener,
    configs: Vec<(Case, Arc<ServerConfig>, String)>,
    opts: RunOptions,
}

/// Why the probe could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The listener failed.
    #[error("listener {addr}: {error}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        error: std::io::Error,
    },
    /// The TLS configuration was refused.
    #[error("TLS configuration for case {case}: {error}")]
    Config {
        /// The case.
        case: &'static str,
        /// Why.
        error: String,
    },
}

impl Probe {
    /// A probe on `listener` serving `materials`.
    pub fn new(
        listener: TcpListener,
        materials: &[Material],
        opts: RunOptions,
    ) -> Result<Probe, ProbeError> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let recorder = Arc::new(Recorder {
            schemes: provider
                .signature_verification_algorithms
                .supported_schemes(),
            algs: provider.signature_verification_algorithms,
        });
        let mut configs = Vec::new();
        for m in materials {
            let versions: &[&'static rustls::SupportedProtocolVersion] = if m.case == Case::Tls12 {
                &[&rustls::version::TLS12]
            } else {
                rustls::ALL_VERSIONS
            };
            let cfg = TlsPolicy::measuring_server(
                Arc::new(Fixed(m.key.clone())),
                recorder.clone(),
                versions,
                m.case == Case::Good,
            )
            .map_err(|e| ProbeError::Config {
                case: m.case.label(),
                error: e.to_string(),
            })?;
            configs.push((m.case, Arc::new(cfg), m.leaf_sha256.clone()));
        }
        Ok(Probe {
            listener,
            configs,
            opts,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts clients until every selected case was served (then `linger`), or `timeout`;
    /// returns every connection's facts in the order they came.
    pub fn run(self) -> Result<Vec<ConnectionFacts>, ProbeError> {
        let addr = self
            .listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        self.listener
            .set_nonblocking(true)
            .map_err(|error| ProbeError::Listen {
                addr: addr.clone(),
                error,
            })?;
        let start = Instant::now();
        let shared = Arc::new(Shared::default());
        let configs = Arc::new(self.configs);
        let sequence: Vec<Case> = Case::ALL
            .into_iter()
            .filter(|c| *c != Case::NotWhitelisted && self.opts.cases.contains(c))
            .collect();
        let sequence = Arc::new(sequence);
        let wanted: BTreeSet<Case> = sequence.iter().copied().collect();
        let mut done_at: Option<Instant> = None;
        let mut threads = Vec::new();
        loop {
            let elapsed = start.elapsed();
            if elapsed >= self.opts.timeout {
                break;
            }
            if let Some(t) = done_at {
                if t.elapsed() >= self.opts.linger && shared.active.load(Ordering::SeqCst) == 0 {
                    break;
                }
            } else {
                let seen: BTreeSet<Case> = lock(&shared.records)
                    .iter()
                    .filter(|r| r.outcome != Outcome::NoHello)
                    .filter_map(|r| r.case)
                    .collect();
                if !wanted.is_empty() && wanted.is_subset(&seen) {
                    done_at = Some(Instant::now());
                }
            }
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    let index = shared.index.fetch_add(1, Ordering::SeqCst);
                    if index >= MAX_CONNECTIONS
                        || shared.active.load(Ordering::SeqCst) >= MAX_CONCURRENT
                    {
                        tracing::warn!(%peer, "connection dropped: over the probe's connection budget");
                        drop(stream);
                        continue;
                    }
                    shared.active.fetch_add(1, Ordering::SeqCst);
                    let shared = shared.clone();
                    let configs = configs.clone();
                    let sequence = sequence.clone();
                    let hostname = self.opts.hostname.clone();
                    let deadline = self.opts.deadline;
                    threads.push(std::thread::spawn(move || {
                        let facts = serve(
                            stream, peer, index, start, deadline, &hostname, &configs, &sequence,
                            &shared,
                        );
                        lock(&shared.records).push(facts);
                        shared.active.fetch_sub(1, Ordering::SeqCst);
                    }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => {
                    // EMFILE and the like: back off, keep the run.
                    tracing::warn!("accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        for t in threads {
            let _ = t.join();
        }
        let mut records = std::mem::take(&mut *lock(&shared.records));
        records.sort_by_key(|r| r.index);
        Ok(records)
    }
}

#[derive(Default)]
struct Shared {
    records: Mutex<Vec<ConnectionFacts>>,
    next: AtomicUsize,
    active: AtomicUsize,
    index: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Which case a ClientHello gets: its SNI label, or the next in sequence on the bare name.
fn choose(
    sni: Option<&str>,
    hostname: &str,
    sequence: &[Case],
    shared: &Shared,
) -> (Option<Case>, Case) {
    // DNS names compare case-insensitively, and a trailing dot names the same host.
    let sni = sni.map(|n| n.trim_end_matches('.').to_ascii_lowercase());
    if let Some(name) = sni.as_deref() {
        if let Some(label) = name
            .strip_suffix(hostname)
            .and_then(|l| l.strip_suffix('.'))
        {
            return match Case::from_label(label) {
                Some(c) => (Some(c), c),
                None => (None, Case::Good),
            };
        }
        if name != hostname {
            return (None, Case::Good);
        }
    }
    let n = shared.next.fetch_add(1, Ordering::SeqCst);
    // After the sequence the good certificate again: a resuming client shows itself there.
    let c = sequence.get(n).copied().unwrap_or(Case::Good);
    (Some(c), c)
}

#[allow(clippy::too_many_arguments)]
fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    index: usize,
    start: Instant,
    deadline: Duration,
    hostname: &str,
    configs: &[(Case, Arc<ServerConfig>, String)],
    sequence: &[Case],
    shared: &Shared,
) -> ConnectionFacts {
    let began = Instant::now();
    let mut facts = ConnectionFacts {
        index,
        peer: peer.to_string(),
        at_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..ConnectionFacts::default()
    };
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(deadline));
    let _ = stream.set_write_timeout(Some(deadline));
    let (raw, hello) = match hello::read(&mut stream) {
        Ok(x) => x,
        Err(e) => {
            facts.outcome = Outcome::NoHello;
            facts.error = Some(e.to_string());
            return facts;
        }
    };
    let (case, served) = choose(hello.server_name.as_deref(), hostname, sequence, shared);
    facts.case = case;
    facts.served = Some(served);
    facts.hello = Some(hello);
    let Some((_, cfg, sha)) = configs.iter().find(|(c, _, _)| *c == served) else {
        facts.outcome = Outcome::ServerError;
        facts.error = Some(format!("case {} is not prepared", served.label()));
        return facts;
    };
    facts.leaf_sha256 = Some(sha.clone());
    let mut conn = match ServerConnection::new(cfg.clone()) {
        Ok(c) => c,
        Err(e) => {
            facts.outcome = Outcome::ServerError;
            facts.error = Some(e.to_string());
            return facts;
        }
    };
    drive(&mut stream, &mut conn, raw, &mut facts, began, deadline);
    facts.duration_ms = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
    facts
}

/// Splits complete records off `buf`: (content type, whole record bytes).
fn records(buf: &mut Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 5 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
        if buf.len() < 5 + len {
            break;
        }
        let rec: Vec<u8> = buf.drain(..5 + len).collect();
        out.push((rec[0], rec));
    }
    out
}

fn drive(
    stream: &mut TcpStream,
    conn: &mut ServerConnection,
    first: Vec<u8>,
    facts: &mut ConnectionFacts,
    began: Instant,
    deadline: Duration,
) {
    let mut pending = first;
    let mut finished_sent = false;
    let mut buf = vec![0u8; 32 * 1024];
    let mut request = Vec::new();
    loop {
        if began.elapsed() > deadline {
            facts.outcome = Outcome::Timeout;
            return;
        }
        // Feed whole records, noting the application data that comes early.
        for (ty, rec) in records(&mut pending) {
            if ty == hello::APPLICATION_DATA
                && !finished_sent
                && conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2)
            {
                facts.false_start = true;
            }
            let mut r: &[u8] = &rec;
            while !r.is_empty() {
                if conn.read_tls(&mut r).is_err() {
                    break;
                }
            }
            let was_handshaking = conn.is_handshaking();
            if let Err(e) = conn.process_new_packets() {
                let _ = conn.write_tls(stream);
                facts.outcome = match &e {
                    rustls::Error::AlertReceived(a) => Outcome::ClientAlert(alert_name(*a)),
                    _ => Outcome::ServerError,
                };
                if facts.error.is_none() {
                    facts.error = Some(e.to_string());
                }
                note_session(conn, facts);
                return;
            }
            if was_handshaking && !conn.is_handshaking() {
                note_session(conn, facts);
                if conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_2)
                    && !finished_sent
                {
                    // Hold our Finished back and look for application data (False Start).
                    // What arrives now is processed after our Finished went out, so it is
                    // judged here, on the record headers.
                    let wait_until = Instant::now() + FALSE_START_WAIT;
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
                    while Instant::now() < wait_until && !carries_app_data(&pending) {
                        match stream.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                            Err(_) => {}
                        }
                    }
                    let _ = stream.set_read_timeout(Some(deadline));
                    if carries_app_data(&pending) {
                        facts.false_start = true;
                    }
                }
            }
            if let Some(mut ed) = conn.early_data() {
                let mut b = Vec::new();
                let _ = ed.read_to_end(&mut b);
                facts.early_data_bytes += b.len();
                // 0-RTT data is the request too (the client will not send it again).
                let room = MAX_REQUEST.saturating_sub(request.len());
                request.extend_from_slice(&b[..b.len().min(room)]);
            }
            let mut plain = [0u8; 4096];
            loop {
                match conn.reader().read(&mut plain) {
                    Ok(0) => break,
                    Ok(n) => {
                        if request.len() < MAX_REQUEST {
                            request.extend_from_slice(&plain[..n.min(MAX_REQUEST - request.len())]);
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        while conn.wants_write() {
            if conn.write_tls(stream).is_err() {
                facts.outcome = Outcome::Closed;
                return;
            }
        }
        if !conn.is_handshaking() {
            finished_sent = true;
            if facts.outcome == Outcome::NoHello {
                facts.outcome = Outcome::Completed;
            }
            // Answer once a request head is in (or the budget is full), like an upstream would.
            if request.windows(4).any(|w| w == b"\r\n\r\n") || request.len() >= MAX_REQUEST {
                let head = String::from_utf8_lossy(&request);
                facts.request = head.lines().next().map(|l| l.chars().take(200).collect());
                let _ = conn.writer().write_all(answer(facts.served).as_bytes());
                conn.send_close_notify();
                while conn.wants_write() {
                    if conn.write_tls(stream).is_err() {
                        break;
                    }
                }
                let _ = stream.flush();
                lingering_close(stream);
                return;
            }
        }
        // The end of the stream, a deadline or an error: only during the handshake does it
        // change how the connection ended.
        let ended = match stream.read(&mut buf) {
            Ok(0) => Outcome::Closed,
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                continue;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Outcome::Timeout
            }
            Err(_) => Outcome::Closed,
        };
        if conn.is_handshaking() {
            facts.outcome = ended;
        }
        return;
    }
}

/// Whether any record in `buf` (whole or still arriving) is application data.
fn carries_app_data(buf: &[u8]) -> bool {
    let mut rest = buf;
    while rest.len() >= 5 {
        if rest[0] == hello::APPLICATION_DATA {
            return true;
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        rest = rest.get(5 + len..).unwrap_or(&[]);
    }
    false
}

/// What the probe answers a request with: a FHIR OperationOutcome naming the case, so a client
/// (or the application behind a gateway) sees which certificate it got.
fn answer(served: Option<Case>) -> String {
    let body = format!(
        "{{\"resourceType\":\"OperationOutcome\",\"issue\":[{{\"severity\":\"information\",\"code\":\"informational\",\"diagnostics\":\"medmij-tls probe-client, case {}\"}}]}}",
        served.map(Case::label).unwrap_or("-")
    );
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// How long, and how much, the probe still reads after its answer before closing: a client
/// that sent more than one request (OpenSSL with `-early_data` sends it again after the
/// handshake) would otherwise get a reset that discards the answer it has not read yet.
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 64 * 1024;

/// Half-closes and drains what the client still sends, within [`LINGER`] and [`LINGER_BYTES`].
fn lingering_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let until = Instant::now() + LINGER;
    let mut buf = [0u8; 4096];
    let mut read = 0;
    while Instant::now() < until && read < LINGER_BYTES {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => read += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// The RFC 8446 name of an alert (`certificate_expired`), from rustls's variant name
/// (`CertificateExpired`), so reports and logs read like the RFC and the verifier's alerts.
fn alert_name(a: rustls::AlertDescription) -> String {
    let debug = format!("{a:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    let mut prev_lower = false;
    for ch in debug.chars() {
        if ch.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// What the handshake settled, as far as it got.
fn note_session(conn: &ServerConnection, facts: &mut ConnectionFacts) {
    facts.version = conn.protocol_version().map(u16::from);
    facts.suite = conn.negotiated_cipher_suite().map(|s| u16::from(s.suite()));
    facts.group = conn
        .negotiated_key_exchange_group()
        .map(|g| u16::from(g.name()));
    if let Some(certs) = conn.peer_certificates() {
        facts.client_chain = certs
            .iter()
            .map(|c| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, c.as_ref()))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_are_named_as_in_the_rfc() {
        use rustls::AlertDescription as A;
        assert_eq!(alert_name(A::CertificateExpired), "certificate_expired");
        assert_eq!(alert_name(A::UnknownCA), "unknown_ca");
        assert_eq!(alert_name(A::BadCertificate), "bad_certificate");
        assert_eq!(
            alert_name(A::UnsupportedCertificate),
            "unsupported_certificate"
        );
    }

    #[test]
    fn sni_picks_the_case_case_insensitively_and_the_bare_name_goes_in_sequence() {
        let sh = Shared::default();
        let seq = [Case::Good, Case::Expired];
        let h = "probe.medmij.test";
        assert_eq!(
            choose(Some("EXPIRED.Probe.Medmij.Test."), h, &seq, &sh),
            (Some(Case::Expired), Case::Expired)
        );
        assert_eq!(
            choose(Some("nonsense.probe.medmij.test"), h, &seq, &sh),
            (None, Case::Good)
        );
        assert_eq!(
            choose(Some("other.example"), h, &seq, &sh),
            (None, Case::Good)
        );
        // The bare name and no SNI take the sequence, then the good case again.
        assert_eq!(choose(Some(h), h, &seq, &sh).0, Some(Case::Good));
        assert_eq!(choose(None, h, &seq, &sh).0, Some(Case::Expired));
        assert_eq!(choose(None, h, &seq, &sh).0, Some(Case::Good));
    }
}
