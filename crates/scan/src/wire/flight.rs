//! The server's first flight, parsed from the bytes it sends: ServerHello or HelloRetryRequest,
//! and in TLS ≤ 1.2 Certificate, CertificateStatus, ServerKeyExchange, CertificateRequest and
//! ServerHelloDone; or an alert. Everything a hostile server can say is bounded here (record
//! size, records per flight, bytes per flight), and every code point is kept as sent.

use medmij_core::wire::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::io::{self, Read};

use super::hello::ext;

/// Largest record a peer may send: 2^14 plaintext + 2048 (RFC 5246 §6.2.3, the TLS 1.2
/// ciphertext bound, which also covers TLS 1.3's 2^14 + 256). Anything longer is an oversized
/// record, recorded as such.
pub const MAX_RECORD_LEN: usize = 16_384 + 2_048;
/// Records read for one flight. A real first flight is ServerHello, Certificate (10 certificates
/// of up to 16 KiB each span at most 11 records), CertificateStatus, ServerKeyExchange,
/// CertificateRequest (a long CA list), ServerHelloDone: under 20 records; 64 leaves room for
/// servers that send one message per record and compatibility ChangeCipherSpecs.
pub const MAX_FLIGHT_RECORDS: usize = 64;
/// Handshake bytes kept for one flight: ten certificates of 16 KiB (the verifier's own chain
/// limit), a 64 KiB acceptable-CA list and the rest fit in 512 KiB.
pub const MAX_FLIGHT_BYTES: usize = 512 * 1024;
/// The downgrade sentinel a TLS 1.3 server puts in the last 8 bytes of ServerHello.random when
/// it negotiates TLS 1.2 (RFC 8446 §4.1.3).
pub const DOWNGRADE_TLS12: [u8; 8] = *b"DOWNGRD\x01";
/// The same for TLS 1.1 and below.
pub const DOWNGRADE_TLS11: [u8; 8] = *b"DOWNGRD\x00";
/// ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// How far to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadUntil {
    /// Stop at the ServerHello (enumeration: the suite or version is all we want).
    ServerHello,
    /// Read the whole TLS ≤ 1.2 flight, to ServerHelloDone.
    HelloDone,
}

/// A TLS alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// The AlertDescription code.
    pub description: u8,
}

impl Alert {
    /// The RFC name of the description (`handshake_failure`), or its number.
    pub fn name(&self) -> String {
        let n = match self.description {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            22 => "record_overflow",
            40 => "handshake_failure",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            49 => "access_denied",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            109 => "missing_extension",
            110 => "unsupported_extension",
            112 => "unrecognized_name",
            116 => "certificate_required",
            120 => "no_application_protocol",
            d => return format!("alert {d}"),
        };
        n.to_owned()
    }
}

/// Key exchange parameters of a TLS ≤ 1.2 ServerKeyExchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KeyExchange {
    /// ECDHE on a named curve.
    Ecdhe {
        /// The curve, as sent.
        group: NamedGroup,
    },
    /// Finite-field DHE with this prime.
    Dhe {
        /// The prime p, big-endian, as sent.
        #[serde(with = "crate::hexser")]
        prime: Vec<u8>,
        /// The generator, big-endian.
        #[serde(with = "crate::hexser")]
        generator: Vec<u8>,
    },
}

/// A parsed ServerKeyExchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// The parameters.
    pub params: KeyExchange,
    /// The scheme that signed them (TLS 1.2; `None` before, where it is implied).
    pub signature: Option<SignatureScheme>,
}

/// A TLS ≤ 1.2 CertificateRequest.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CertificateRequest {
    /// The acceptable CA names, DER `Name`s as sent.
    pub authorities: Vec<Vec<u8>>,
}

/// A ServerHello and what followed it.
#[derive(Clone, Debug, Default)]
pub struct ServerHello {
    /// `legacy_version` as sent.
    pub legacy_version: ProtocolVersion,
    /// The version negotiated: `supported_versions` when present, else `legacy_version`.
    pub version: ProtocolVersion,
    /// ServerHello.random.
    pub random: [u8; 32],
    /// The suite chosen.
    pub suite: CipherSuite,
    /// The compression method chosen.
    pub compression: u8,
    /// Extensions in the order sent: (type, data).
    pub extensions: Vec<(u16, Vec<u8>)>,
    /// TLS ≤ 1.2: the Certificate message's certificates, as sent.
    pub certificates: Option<Vec<Vec<u8>>>,
    /// TLS ≤ 1.2: a CertificateStatus (stapled OCSP response) was sent.
    pub stapled_ocsp: Option<Vec<u8>>,
    /// TLS ≤ 1.2: the ServerKeyExchange, if sent and understood.
    pub key_exchange: Option<ServerKeyExchange>,
    /// TLS ≤ 1.2: the ServerKeyExchange could not be parsed (why).
    pub key_exchange_error: Option<String>,
    /// TLS ≤ 1.2: the CertificateRequest, if sent.
    pub certificate_request: Option<CertificateRequest>,
    /// ServerHelloDone was read (the flight is complete).
    pub done: bool,
}

impl ServerHello {
    /// The data of extension `code`, if the server sent it.
    pub fn extension(&self, code: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, d)| d.as_slice())
    }

    /// The ALPN protocol the server chose (TLS ≤ 1.2; in 1.3 it is encrypted).
    pub fn alpn(&self) -> Option<String> {
        let d = self.extension(ext::ALPN)?;
        let n = *d.get(2)? as usize;
        d.get(3..3 + n)
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// The downgrade sentinel in the random, if any.
    pub fn downgrade_sentinel(&self) -> Option<ProtocolVersion> {
        let tail: [u8; 8] = self.random[24..].try_into().ok()?;
        if tail == DOWNGRADE_TLS12 {
            Some(ProtocolVersion::TLS12)
        } else if tail == DOWNGRADE_TLS11 {
            Some(ProtocolVersion::TLS11)
        } else {
            None
        }
    }
}

/// A HelloRetryRequest (TLS 1.3).
#[derive(Clone, Debug)]
pub struct HelloRetry {
    /// The suite chosen.
    pub suite: CipherSuite,
    /// The version in `supported_versions`.
    pub version: ProtocolVersion,
    /// The group the server asks a key share for.
    pub group: Option<NamedGroup>,
}

/// What a server answered to one ClientHello.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A ServerHello (and the rest of the flight, as far as read).
    Hello(Box<ServerHello>),
    /// A HelloRetryRequest.
    Retry(HelloRetry),
    /// An alert.
    Alert(Alert),
    /// The connection ended (EOF) before a complete answer.
    Closed {
        /// Bytes received before the end.
        bytes: usize,
    },
    /// The peer reset the connection.
    Reset,
    /// No complete answer within the probe's time.
    Timeout {
        /// Bytes received in that time.
        bytes: usize,
    },
    /// The peer answered with something that is not TLS (an HTTP page, an SSH banner).
    NotTls {
        /// The first bytes, printable.
        first_bytes: String,
    },
    /// TLS records that do not parse (what and where).
    Malformed(String),
}

impl Answer {
    /// One line for evidence.
    pub fn describe(&self) -> String {
        match self {
            Answer::Hello(h) => format!("ServerHello {} {}", h.version, h.suite),
            Answer::Retry(r) => format!(
                "HelloRetryRequest {} {} group {}",
                r.version,
                r.suite,
                r.group.map_or("-".into(), |g| g.to_string())
            ),
            Answer::Alert(a) => format!("alert {} ({})", a.name(), a.description),
            Answer::Closed { bytes } => format!("connection closed after {bytes} bytes"),
            Answer::Reset => "connection reset".into(),
            Answer::Timeout { bytes } => format!("no answer in time ({bytes} bytes received)"),
            Answer::NotTls { first_bytes } => format!("not TLS: {first_bytes:?}"),
            Answer::Malformed(w) => format!("malformed: {w}"),
        }
    }
}

/// Reads records from `r` until the answer is complete. `r` enforces the probe's deadline
/// (its reads fail with `TimedOut`/`WouldBlock` when time is up).
pub fn read_answer(r: &mut impl Read, until: ReadUntil) -> Answer {
    let mut total = 0usize;
    let mut hs: Vec<u8> = Vec::new();
    let mut consumed = 0usize;
    let mut hello: Option<Box<ServerHello>> = None;
    for _ in 0..MAX_FLIGHT_RECORDS {
        let mut head = [0u8; 5];
        match read_full(r, &mut head, &mut total) {
            Ok(()) => {}
            Err(e) => return io_end(e, total, hello, &head),
        }
        let ctype = head[0];
        if !(20..=24).contains(&ctype) {
            return Answer::NotTls {
                first_bytes: printable(&head),
            };
        }
        if head[1] != 3 {
            return Answer::Malformed(format!(
                "record version {:02x}{:02x} (expected 03xx)",
                head[1], head[2]
            ));
        }
        let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
        if len > MAX_RECORD_LEN {
            return Answer::Malformed(format!(
                "oversized record: {len} bytes (limit {MAX_RECORD_LEN})"
            ));
        }
        let mut body = vec![0u8; len];
        if let Err(e) = read_full(r, &mut body, &mut total) {
            return io_end(e, total, hello, &[]);
        }
        match ctype {
            21 => {
                if body.len() < 2 {
                    return Answer::Malformed(format!("alert record of {} bytes", body.len()));
                }
                // A warning alert inside a flight (no_renegotiation, user_canceled) still ends
                // what we can learn from this hello.
                return match hello {
                    Some(h) if h.done || until == ReadUntil::ServerHello => Answer::Hello(h),
                    _ => Answer::Alert(Alert {
                        level: body[0],
                        description: body[1],
                    }),
                };
            }
            20 => continue, // compatibility ChangeCipherSpec (RFC 8446 §D.4)
            22 => {}
            _ => {
                return match hello {
                    Some(h) => Answer::Hello(h),
                    None => Answer::Malformed(format!("record type {ctype} before ServerHello")),
                }
            }
        }
        if hs.len() + body.len() > MAX_FLIGHT_BYTES {
            return Answer::Malformed(format!("flight larger than {MAX_FLIGHT_BYTES} bytes"));
        }
        hs.extend_from_slice(&body);
        // Parse every complete handshake message now in the buffer.
        loop {
            let rest = &hs[consumed..];
            if rest.len() < 4 {
                break;
            }
            let mlen = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
            if mlen > MAX_FLIGHT_BYTES {
                return Answer::Malformed(format!("handshake message of {mlen} bytes"));
            }
            if rest.len() < 4 + mlen {
                break;
            }
            let mtype = rest[0];
            let m = rest[4..4 + mlen].to_vec();
            consumed += 4 + mlen;
            match (mtype, hello.as_mut()) {
                (2, None) => match parse_server_hello(&m) {
                    Ok(Parsed::Hello(h)) => {
                        let stop =
                            until == ReadUntil::ServerHello || h.version >= ProtocolVersion::TLS13;
                        if stop {
                            return Answer::Hello(h);
                        }
                        hello = Some(h);
                    }
                    Ok(Parsed::Retry(r)) => return Answer::Retry(r),
                    Err(e) => return Answer::Malformed(format!("ServerHello: {e}")),
                },
                (_, None) => {
                    return Answer::Malformed(format!(
                        "handshake message {mtype} before ServerHello"
                    ))
                }
                (11, Some(h)) => match parse_certificate12(&m) {
                    Ok(c) => h.certificates = Some(c),
                    Err(e) => return Answer::Malformed(format!("Certificate: {e}")),
                },
                (22, Some(h)) => {
                    // CertificateStatus: status_type ocsp(1), u24 length, OCSPResponse.
                    if m.len() >= 4 && m[0] == 1 {
                        h.stapled_ocsp = Some(m[4..].to_vec());
                    }
                }
                (12, Some(h)) => match parse_ske(&m, h.suite, h.version) {
                    Ok(k) => h.key_exchange = Some(k),
                    Err(e) => h.key_exchange_error = Some(e),
                },
                (13, Some(h)) => match parse_cert_request12(&m, h.version) {
                    Ok(c) => h.certificate_request = Some(c),
                    Err(e) => return Answer::Malformed(format!("CertificateRequest: {e}")),
                },
                (14, Some(h)) => {
                    h.done = true;
                    if let Some(h) = hello.take() {
                        return Answer::Hello(h);
                    }
                }
                (_, Some(_)) => {} // unknown messages are skipped, not fatal
            }
        }
    }
    match hello {
        Some(h) => Answer::Hello(h),
        None => Answer::Malformed(format!("no ServerHello in {MAX_FLIGHT_RECORDS} records")),
    }
}

fn io_end(e: io::Error, total: usize, hello: Option<Box<ServerHello>>, head: &[u8]) -> Answer {
    if let Some(h) = hello {
        // The ServerHello was had; a flight cut short still tells its suite and version.
        return Answer::Hello(h);
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            // A plain-text answer shorter than a record header: still not TLS.
            if total > 0 && head.first().is_some_and(|b| !(20..=24).contains(b)) {
                Answer::NotTls {
                    first_bytes: printable(&head[..total.min(head.len())]),
                }
            } else {
                Answer::Closed { bytes: total }
            }
        }
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Answer::Reset,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Answer::Timeout { bytes: total },
        _ => Answer::Malformed(format!("read: {e}")),
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8], total: &mut usize) -> io::Result<()> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                at += n;
                *total += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn printable(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

enum Parsed {
    Hello(Box<ServerHello>),
    Retry(HelloRetry),
}

/// A cursor over a message body that never reads past its end.
struct Cur<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cur { b, at: 0 }
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| format!("{what}: {n} bytes needed at offset {}", self.at))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let s = self.take(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u24(&mut self, what: &str) -> Result<usize, String> {
        let s = self.take(3, what)?;
        Ok(u32::from_be_bytes([0, s[0], s[1], s[2]]) as usize)
    }
    fn vec8(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.u8(what)? as usize;
        self.take(n, what)
    }
    fn vec16(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.u16(what)? as usize;
        self.take(n, what)
    }
    fn rest(&self) -> usize {
        self.b.len() - self.at
    }
}

fn parse_server_hello(m: &[u8]) -> Result<Parsed, String> {
    let mut c = Cur::new(m);
    let legacy = ProtocolVersion(c.u16("version")?);
    let mut random = [0u8; 32];
    random.copy_from_slice(c.take(32, "random")?);
    c.vec8("session id")?;
    let suite = CipherSuite(c.u16("cipher suite")?);
    let compression = c.u8("compression")?;
    let mut extensions = Vec::new();
    if c.rest() > 0 {
        let block = c.vec16("extensions")?;
        let mut e = Cur::new(block);
        while e.rest() > 0 {
            let code = e.u16("extension type")?;
            let data = e.vec16("extension data")?;
            extensions.push((code, data.to_vec()));
        }
    }
    let sv = extensions
        .iter()
        .find(|(c, _)| *c == ext::SUPPORTED_VERSIONS)
        .and_then(|(_, d)| {
            (d.len() == 2).then(|| ProtocolVersion(u16::from_be_bytes([d[0], d[1]])))
        });
    if random == HRR_RANDOM {
        let group = extensions
            .iter()
            .find(|(c, _)| *c == ext::KEY_SHARE)
            .and_then(|(_, d)| {
                (d.len() == 2).then(|| NamedGroup(u16::from_be_bytes([d[0], d[1]])))
            });
        return Ok(Parsed::Retry(HelloRetry {
            suite,
            version: sv.unwrap_or(legacy),
            group,
        }));
    }
    Ok(Parsed::Hello(Box::new(ServerHello {
        legacy_version: legacy,
        version: sv.unwrap_or(legacy),
        random,
        suite,
        compression,
        extensions,
        ..ServerHello::default()
    })))
}

fn parse_certificate12(m: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut c = Cur::new(m);
    let n = c.u24("certificate list")?;
    let list = c.take(n, "certificate list")?;
    let mut l = Cur::new(list);
    let mut out = Vec::new();
    while l.rest() > 0 {
        let n = l.u24("certificate")?;
        out.push(l.take(n, "certificate")?.to_vec());
    }
    Ok(out)
}

/// The key exchange a suite uses, from its IANA name (the only place the registry says it).
fn suite_kex(suite: CipherSuite) -> Option<&'static str> {
    let name = suite.name()?;
    if name.starts_with("TLS_ECDHE_") {
        Some("ecdhe")
    } else if name.starts_with("TLS_DHE_") || name.starts_with("TLS_EDH_") {
        Some("dhe")
    } else {
        None
    }
}

fn parse_ske(
    m: &[u8],
    suite: CipherSuite,
    version: ProtocolVersion,
) -> Result<ServerKeyExchange, String> {
    let mut c = Cur::new(m);
    // An unknown suite: tell ECDHE (curve_type 3, then a named curve) from DHE by shape.
    let kex = suite_kex(suite).unwrap_or(if m.first() == Some(&3) {
        "ecdhe"
    } else {
        "dhe"
    });
    let params = if kex == "ecdhe" {
        let curve_type = c.u8("curve type")?;
        if curve_type != 3 {
            return Err(format!(
                "curve type {curve_type} (only named_curve is allowed)"
            ));
        }
        let group = NamedGroup(c.u16("named curve")?);
        c.vec8("public point")?;
        KeyExchange::Ecdhe { group }
    } else {
        let prime = c.vec16("dh_p")?.to_vec();
        let generator = c.vec16("dh_g")?.to_vec();
        c.vec16("dh_Ys")?;
        KeyExchange::Dhe { prime, generator }
    };
    let signature = if version >= ProtocolVersion::TLS12 && c.rest() >= 2 {
        Some(SignatureScheme(c.u16("signature scheme")?))
    } else {
        None
    };
    Ok(ServerKeyExchange { params, signature })
}

fn parse_cert_request12(m: &[u8], version: ProtocolVersion) -> Result<CertificateRequest, String> {
    let mut c = Cur::new(m);
    c.vec8("certificate types")?;
    if version >= ProtocolVersion::TLS12 {
        c.vec16("signature algorithms")?;
    }
    let list = c.vec16("certificate authorities")?;
    let mut l = Cur::new(list);
    let mut authorities = Vec::new();
    while l.rest() > 0 {
        authorities.push(l.vec16("distinguished name")?.to_vec());
    }
    Ok(CertificateRequest { authorities })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Cursor;

    fn record(ctype: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ctype, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn hs(t: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![t];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    fn server_hello(version: u16, suite: u16, random: [u8; 32], exts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&random);
        b.push(0);
        b.extend_from_slice(&suite.to_be_bytes());
        b.push(0);
        let mut e = Vec::new();
        for (c, d) in exts {
            e.extend_from_slice(&c.to_be_bytes());
            e.extend_from_slice(&(d.len() as u16).to_be_bytes());
            e.extend_from_slice(d);
        }
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
        hs(2, &b)
    }

    #[test]
    fn a_tls12_flight_split_across_records_is_read_whole() {
        let mut random = [7u8; 32];
        random[24..].copy_from_slice(&DOWNGRADE_TLS12);
        let mut flight = server_hello(0x0303, 0xC02F, random, &[(0xff01, &[0]), (23, &[])]);
        let cert = vec![0x30, 0x03, 1, 2, 3];
        let mut cl = (cert.len() as u32).to_be_bytes()[1..].to_vec();
        cl.extend_from_slice(&cert);
        let mut cm = (cl.len() as u32).to_be_bytes()[1..].to_vec();
        cm.extend_from_slice(&cl);
        flight.extend(hs(11, &cm));
        // ECDHE on x25519, signed with rsa_pss_rsae_sha256.
        flight.extend(hs(12, &[3, 0, 29, 2, 9, 9, 0x08, 0x04, 0, 1, 0]));
        flight.extend(hs(14, &[]));
        let (a, b) = flight.split_at(17);
        let mut wire = record(22, a);
        wire.extend(record(22, b));
        let Answer::Hello(h) = read_answer(&mut Cursor::new(wire), ReadUntil::HelloDone) else {
            panic!()
        };
        assert!(h.done);
        assert_eq!(h.suite, CipherSuite(0xC02F));
        assert_eq!(h.downgrade_sentinel(), Some(ProtocolVersion::TLS12));
        assert_eq!(h.certificates.as_ref().unwrap()[0], cert);
        let k = h.key_exchange.as_ref().unwrap();
        assert_eq!(
            k.params,
            KeyExchange::Ecdhe {
                group: NamedGroup::X25519
            }
        );
        assert_eq!(k.signature, Some(SignatureScheme::RSA_PSS_RSAE_SHA256));
        assert!(h.extension(23).is_some());
    }

    #[test]
    fn a_retry_request_names_suite_and_group() {
        let m = server_hello(
            0x0303,
            0x1302,
            HRR_RANDOM,
            &[(43, &[3, 4]), (51, &[0x11, 0xEC])],
        );
        let Answer::Retry(r) =
            read_answer(&mut Cursor::new(record(22, &m)), ReadUntil::ServerHello)
        else {
            panic!()
        };
        assert_eq!(r.version, ProtocolVersion::TLS13);
        assert_eq!(r.group, Some(NamedGroup::X25519MLKEM768));
        assert_eq!(r.suite, CipherSuite::TLS13_AES_256_GCM_SHA384);
    }

    #[test]
    fn hostile_bytes_are_facts_not_panics() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(), "not TLS"),
            (b"SSH".to_vec(), "not TLS"),
            (vec![22, 3, 3, 0xff, 0xff], "oversized"),
            (vec![22, 3, 3, 0, 10, 2, 0], "closed"),
            (record(21, &[2, 40]), "handshake_failure"),
            (record(22, &hs(2, &[3, 3, 1])), "ServerHello"),
            (record(22, &hs(11, &[])), "before ServerHello"),
            (vec![], "closed"),
            (record(23, &[1, 2, 3]), "record type 23"),
        ];
        for (wire, want) in cases {
            let a = read_answer(&mut Cursor::new(wire.clone()), ReadUntil::HelloDone);
            assert!(a.describe().contains(want), "{wire:?}: {}", a.describe());
        }
    }
}
