//! The client's ClientHello, read from the socket before rustls sees it and parsed by hand:
//! rustls's `ClientHello` view lacks the offered versions, groups, key shares and the full
//! extension list, and a client offering only what rustls refuses must still be recorded.
//!
//! The bytes read here are handed to rustls unchanged, so the handshake that follows is the one
//! the client started.

use medmij_scan::wire::hello::ext;
use serde::{Deserialize, Serialize};
use std::io::Read;

// The largest record a client may send is the scanner's bound for servers (2^14 + 2048).
use medmij_scan::wire::flight::MAX_RECORD_LEN;

/// Record content type of handshake messages (RFC 8446 §5.1).
pub const HANDSHAKE: u8 = 22;
/// Record content type of application data (and, in TLS 1.3, of every encrypted record).
pub const APPLICATION_DATA: u8 = 23;

/// The most bytes a ClientHello may take (RFC 8446 allows 2^24 − 1; real ones with hybrid
/// post-quantum key shares are about 2 KiB, browsers' stay under 8 KiB): 64 KiB leaves room
/// for every real client and bounds a hostile one.
pub const MAX_CLIENT_HELLO: usize = 64 * 1024;

/// What a ClientHello offered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHelloFacts {
    /// The record layer's version (what the client put in the first record header).
    pub record_version: u16,
    /// `legacy_version` (TLS 1.2 clients: the highest version they speak).
    pub legacy_version: u16,
    /// Versions offered: `supported_versions` when present, else `legacy_version` (the
    /// highest; lower ones are not observable).
    pub versions: Vec<u16>,
    /// Cipher suites in the client's order (GREASE values kept out).
    pub cipher_suites: Vec<u16>,
    /// `supported_groups`, in order.
    pub groups: Vec<u16>,
    /// Groups the client sent key shares for.
    pub key_shares: Vec<u16>,
    /// `signature_algorithms`, in order.
    pub signature_schemes: Vec<u16>,
    /// Every extension type, in order (GREASE kept out).
    pub extensions: Vec<u16>,
    /// The SNI host name, when sent.
    pub server_name: Option<String>,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// `status_request` (OCSP stapling) offered.
    pub status_request: bool,
    /// `early_data` offered (TLS 1.3 0-RTT).
    pub early_data: bool,
    /// `pre_shared_key` offered (a TLS 1.3 resumption attempt).
    pub psk: bool,
    /// A non-empty TLS 1.2 session ticket or a session ID the probe issued (TLS 1.2 resumption).
    pub session_ticket: bool,
    /// `extended_master_secret` offered.
    pub extended_master_secret: bool,
    /// Compression methods other than null offered.
    pub compression: bool,
}

/// Why no ClientHello could be read.
#[derive(Debug, thiserror::Error)]
pub enum HelloError {
    /// The socket failed or ended.
    #[error("reading the ClientHello: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a TLS handshake record.
    #[error("not TLS: {0}")]
    NotTls(String),
    /// A length field is wrong.
    #[error("malformed ClientHello: {0}")]
    Malformed(String),
    /// Over a budget.
    #[error("ClientHello larger than {MAX_CLIENT_HELLO} bytes")]
    TooLarge,
}

/// RFC 8701 GREASE values (0x?A?A): noise by design, kept out of the facts.
fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Reads records until one whole ClientHello handshake message is in; returns the raw bytes
/// read (every record, for rustls) and the parsed facts.
pub fn read(stream: &mut impl Read) -> Result<(Vec<u8>, ClientHelloFacts), HelloError> {
    let mut raw = Vec::new();
    let mut body = Vec::new();
    let mut record_version = 0;
    loop {
        let mut head = [0u8; 5];
        stream.read_exact(&mut head)?;
        if head[0] != HANDSHAKE {
            return Err(HelloError::NotTls(format!(
                "first record has content type {} (a ClientHello is a handshake record, 22){}",
                head[0],
                if head.starts_with(b"GET ") || head.starts_with(b"POST") {
                    ": plain HTTP sent to a TLS port"
                } else {
                    ""
                }
            )));
        }
        if head[1] != 3 {
            return Err(HelloError::NotTls(format!(
                "record version {:02x}{:02x} (SSLv2-style or not TLS)",
                head[1], head[2]
            )));
        }
        if record_version == 0 {
            record_version = u16::from_be_bytes([head[1], head[2]]);
        }
        let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
        if len == 0 || len > MAX_RECORD_LEN {
            return Err(HelloError::Malformed(format!("record length {len}")));
        }
        if raw.len() + 5 + len > MAX_CLIENT_HELLO {
            return Err(HelloError::TooLarge);
        }
        let mut rec = vec![0u8; len];
        stream.read_exact(&mut rec)?;
        raw.extend_from_slice(&head);
        raw.extend_from_slice(&rec);
        body.extend_from_slice(&rec);
        if body.len() >= 4 {
            if body[0] != 1 {
                return Err(HelloError::NotTls(format!(
                    "first handshake message has type {} (ClientHello is 1)",
                    body[0]
                )));
            }
            let mlen =
                (usize::from(body[1]) << 16) | (usize::from(body[2]) << 8) | usize::from(body[3]);
            if mlen + 4 > MAX_CLIENT_HELLO {
                return Err(HelloError::TooLarge);
            }
            if body.len() >= mlen + 4 {
                let mut facts = parse(&body[4..4 + mlen])?;
                facts.record_version = record_version;
                return Ok((raw, facts));
            }
        }
    }
}

/// A bounds-checked reader over a byte slice.
struct Cur<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], HelloError> {
        if self.b.len() < n {
            return Err(HelloError::Malformed(format!(
                "{} needs {n} bytes, {} left",
                self.what,
                self.b.len()
            )));
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn u8(&mut self) -> Result<u8, HelloError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, HelloError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self, what: &'static str) -> Result<Cur<'a>, HelloError> {
        self.what = what;
        let n = usize::from(self.u8()?);
        Ok(Cur {
            b: self.take(n)?,
            what,
        })
    }
    fn vec16(&mut self, what: &'static str) -> Result<Cur<'a>, HelloError> {
        self.what = what;
        let n = usize::from(self.u16()?);
        Ok(Cur {
            b: self.take(n)?,
            what,
        })
    }
    fn u16s(mut self) -> Result<Vec<u16>, HelloError> {
        if !self.b.len().is_multiple_of(2) {
            return Err(HelloError::Malformed(format!("{}: odd length", self.what)));
        }
        let mut v = Vec::with_capacity(self.b.len() / 2);
        while !self.b.is_empty() {
            let x = self.u16()?;
            if !grease(x) {
                v.push(x);
            }
        }
        Ok(v)
    }
}

/// Parses a ClientHello body (after the 4-byte handshake header).
pub fn parse(body: &[u8]) -> Result<ClientHelloFacts, HelloError> {
    let mut c = Cur {
        b: body,
        what: "legacy_version",
    };
    let mut f = ClientHelloFacts {
        legacy_version: c.u16()?,
        ..ClientHelloFacts::default()
    };
    c.what = "random";
    c.take(32)?;
    let session_id = c.vec8("session_id")?;
    if session_id.b.len() > 32 {
        return Err(HelloError::Malformed("session_id longer than 32".into()));
    }
    f.cipher_suites = c.vec16("cipher_suites")?.u16s()?;
    let comp = c.vec8("compression_methods")?;
    f.compression = comp.b.iter().any(|&m| m != 0);
    let mut supported_versions = None;
    if !c.b.is_empty() {
        let mut exts = c.vec16("extensions")?;
        while !exts.b.is_empty() {
            exts.what = "extension";
            let ty = exts.u16()?;
            let mut data = exts.vec16("extension data")?;
            if !grease(ty) {
                f.extensions.push(ty);
            }
            match ty {
                ext::SERVER_NAME => {
                    // server_name: list of (type, name); host_name is type 0.
                    let mut list = data.vec16("server_name list")?;
                    while !list.b.is_empty() {
                        let kind = list.u8()?;
                        let name = list.vec16("server_name")?;
                        if kind == 0 && f.server_name.is_none() {
                            f.server_name = Some(String::from_utf8_lossy(name.b).into_owned());
                        }
                    }
                }
                ext::STATUS_REQUEST => f.status_request = true,
                ext::SUPPORTED_GROUPS => f.groups = data.vec16("supported_groups")?.u16s()?,
                ext::SIGNATURE_ALGORITHMS => {
                    f.signature_schemes = data.vec16("signature_algorithms")?.u16s()?
                }
                ext::ALPN => {
                    let mut list = data.vec16("alpn list")?;
                    while !list.b.is_empty() {
                        let p = list.vec8("alpn protocol")?;
                        f.alpn.push(String::from_utf8_lossy(p.b).into_owned());
                    }
                }
                ext::EXTENDED_MASTER_SECRET => f.extended_master_secret = true,
                ext::SESSION_TICKET => f.session_ticket = !data.b.is_empty(),
                ext::PRE_SHARED_KEY => f.psk = true,
                ext::EARLY_DATA => f.early_data = true,
                ext::SUPPORTED_VERSIONS => {
                    supported_versions = Some(data.vec8("supported_versions")?.u16s()?)
                }
                ext::KEY_SHARE => {
                    let mut list = data.vec16("key_share")?;
                    while !list.b.is_empty() {
                        list.what = "key_share entry";
                        let g = list.u16()?;
                        list.vec16("key_exchange")?;
                        if !grease(g) {
                            f.key_shares.push(g);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    f.versions = match supported_versions {
        Some(v) => v,
        // Without supported_versions the client offers legacy_version as its highest; whether
        // it would take a lower one only a server answering lower could find out (rustls
        // speaks nothing below TLS 1.2), so only the highest is recorded.
        None => vec![f.legacy_version],
    };
    Ok(f)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hello(exts: &[u8]) -> Vec<u8> {
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&[7u8; 32]);
        b.push(0);
        b.extend_from_slice(&[0, 4, 0x13, 0x02, 0x0a, 0x0a]);
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(exts);
        b
    }

    fn record(body: &[u8]) -> Vec<u8> {
        let mut hs = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
        hs.extend_from_slice(body);
        let mut r = vec![22, 3, 1, (hs.len() >> 8) as u8, hs.len() as u8];
        r.extend_from_slice(&hs);
        r
    }

    #[test]
    fn versions_groups_and_grease() {
        // supported_versions (1.3, 1.2, GREASE), supported_groups, early_data, SNI.
        let exts = [
            0, 43, 0, 7, 6, 0x03, 0x04, 0x03, 0x03, 0x1a, 0x1a, //
            0, 10, 0, 6, 0, 4, 0x11, 0xec, 0, 0x1d, //
            0, 42, 0, 0, //
            0, 0, 0, 9, 0, 7, 0, 0, 4, b'a', b'.', b'n', b'l',
        ];
        let f = parse(&hello(&exts)).unwrap();
        assert_eq!(f.versions, vec![0x0304, 0x0303]);
        assert_eq!(f.cipher_suites, vec![0x1302]);
        assert_eq!(f.groups, vec![0x11ec, 0x001d]);
        assert!(f.early_data);
        assert_eq!(f.server_name.as_deref(), Some("a.nl"));
        assert_eq!(f.extensions, vec![43, 10, 42, 0]);
    }

    #[test]
    fn a_tls12_hello_offers_its_legacy_version_and_split_records_are_joined() {
        let body = hello(&[]);
        let mut rec = record(&body);
        // Split the handshake message over two records.
        let hs = rec.split_off(5);
        let (a, b) = hs.split_at(10);
        let mut two = vec![22, 3, 1, 0, a.len() as u8];
        two.extend_from_slice(a);
        two.extend_from_slice(&[22, 3, 1, (b.len() >> 8) as u8, b.len() as u8]);
        two.extend_from_slice(b);
        let (raw, f) = read(&mut two.as_slice()).unwrap();
        assert_eq!(raw, two);
        assert_eq!(f.versions, vec![0x0303]);
        assert_eq!(f.record_version, 0x0301);
    }

    #[test]
    fn hostile_bytes_are_errors() {
        assert!(matches!(
            read(&mut &b"GET / HTTP/1.1\r\n\r\n"[..]),
            Err(HelloError::NotTls(_))
        ));
        // A length past the end of the message.
        let mut body = hello(&[]);
        body[34] = 200;
        assert!(parse(&body).is_err());
        // An extension claiming more than is there.
        assert!(parse(&hello(&[0, 10, 0xff, 0xff])).is_err());
        // A record over the budget.
        let big = [22u8, 3, 1, 0xff, 0xff];
        assert!(read(&mut &big[..]).is_err());
        // Truncated input ends with an I/O error, not a hang or a panic.
        let rec = record(&hello(&[]));
        assert!(matches!(
            read(&mut &rec[..rec.len() - 3]),
            Err(HelloError::Io(_))
        ));
        for n in 0..rec.len() {
            let _ = read(&mut &rec[..n]);
            let _ = parse(&rec[5..5 + n.min(rec.len() - 5)]);
        }
    }
}
