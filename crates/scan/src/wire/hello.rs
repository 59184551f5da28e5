//! ClientHello bytes, written by hand: the scanner must offer what no TLS library will (SSLv3,
//! export suites, SHA-1-only signature lists, DEFLATE compression, an empty key share), and
//! enumeration never needs the handshake to finish.
//!
//! Layouts: RFC 5246 §7.4.1.2 (ClientHello), RFC 8446 §4.1.2 and §4.2 (TLS 1.3 extensions),
//! RFC 6066 (server_name, status_request), RFC 7301 (ALPN), RFC 5746 (renegotiation_info),
//! RFC 7627 (extended_master_secret), RFC 8422 (supported_groups, ec_point_formats).

use medmij_core::wire::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};

/// Extension code points the scanner writes or reads (and the client probe reads).
pub mod ext {
    #![allow(missing_docs)]
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SESSION_TICKET: u16 = 35;
    pub const PRE_SHARED_KEY: u16 = 41;
    pub const EARLY_DATA: u16 = 42;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub const KEY_SHARE: u16 = 51;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746 §3.3), offered to versions without extensions.
pub const EMPTY_RENEGOTIATION_INFO_SCSV: CipherSuite = CipherSuite(0x00FF);
/// `TLS_FALLBACK_SCSV` (RFC 7507).
pub const FALLBACK_SCSV: CipherSuite = CipherSuite(0x5600);

/// What one ClientHello offers.
#[derive(Clone, Debug)]
pub struct ClientHello {
    /// `legacy_version` / `client_version`: the highest version for TLS ≤ 1.2.
    pub client_version: ProtocolVersion,
    /// Versions in `supported_versions` (empty: the extension is not sent).
    pub supported_versions: Vec<ProtocolVersion>,
    /// Cipher suites, in preference order.
    pub suites: Vec<CipherSuite>,
    /// Compression methods (null is appended when missing: servers must be able to refuse).
    pub compression: Vec<u8>,
    /// The server name to send (`None` for an IP address target).
    pub sni: Option<String>,
    /// `supported_groups` (empty: not sent).
    pub groups: Vec<NamedGroup>,
    /// `signature_algorithms` (empty: not sent).
    pub signature_schemes: Vec<SignatureScheme>,
    /// ALPN protocols (empty: not sent).
    pub alpn: Vec<&'static [u8]>,
    /// Send `status_request` (OCSP stapling).
    pub status_request: bool,
    /// Send `extended_master_secret`.
    pub extended_master_secret: bool,
    /// Send an empty `renegotiation_info`.
    pub renegotiation_info: bool,
    /// Send `key_share` with no shares (TLS 1.3: the server must answer with a
    /// HelloRetryRequest naming its group, which is all enumeration needs).
    pub empty_key_share: bool,
    /// Send no extensions at all (SSLv3 peers).
    pub no_extensions: bool,
}

impl ClientHello {
    /// A hello for `version` with nothing offered yet; TLS 1.3 gets `supported_versions`
    /// and an empty key share.
    pub fn new(version: ProtocolVersion, sni: Option<&str>) -> ClientHello {
        let tls13 = version == ProtocolVersion::TLS13;
        ClientHello {
            client_version: if tls13 {
                ProtocolVersion::TLS12
            } else {
                version
            },
            supported_versions: if tls13 {
                vec![ProtocolVersion::TLS13]
            } else {
                Vec::new()
            },
            suites: Vec::new(),
            compression: vec![0],
            sni: sni.map(str::to_owned),
            groups: Vec::new(),
            signature_schemes: if version >= ProtocolVersion::TLS12 {
                SignatureScheme::KNOWN.to_vec()
            } else {
                Vec::new()
            },
            alpn: Vec::new(),
            status_request: false,
            extended_master_secret: version >= ProtocolVersion::TLS10,
            renegotiation_info: version >= ProtocolVersion::TLS10 && !tls13,
            empty_key_share: tls13,
            no_extensions: version == ProtocolVersion::SSL3,
        }
    }

    /// The record bytes (one handshake record; a hello never needs more than 2^14 bytes).
    pub fn to_record(&self) -> Vec<u8> {
        let body = self.body();
        let mut hs = Vec::with_capacity(body.len() + 4);
        hs.push(1); // client_hello
        put_u24(&mut hs, body.len());
        hs.extend_from_slice(&body);
        let mut rec = Vec::with_capacity(hs.len() + 5);
        rec.push(22);
        // Record version: TLS 1.0 for every TLS hello (RFC 8446 §5.1 and what servers expect of
        // an unknown client), SSL 3.0 for an SSLv3 one.
        let rv = if self.client_version == ProtocolVersion::SSL3 {
            0x0300
        } else {
            0x0301
        };
        rec.extend_from_slice(&u16::to_be_bytes(rv));
        put_u16(&mut rec, hs.len());
        rec.extend_from_slice(&hs);
        rec
    }

    fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(512);
        b.extend_from_slice(&self.client_version.0.to_be_bytes());
        b.extend_from_slice(&random32());
        // A 32-byte session id: TLS 1.3 middlebox compatibility (RFC 8446 §D.4); harmless before.
        if self.supported_versions.is_empty() {
            b.push(0);
        } else {
            b.push(32);
            b.extend_from_slice(&random32());
        }
        put_u16(&mut b, self.suites.len() * 2);
        for s in &self.suites {
            b.extend_from_slice(&s.0.to_be_bytes());
        }
        let mut comp = self.compression.clone();
        if !comp.contains(&0) {
            comp.push(0);
        }
        b.push(comp.len() as u8);
        b.extend_from_slice(&comp);
        if self.no_extensions {
            return b;
        }
        let mut e = Vec::with_capacity(256);
        if let Some(name) = &self.sni {
            let n = name.as_bytes();
            let mut d = Vec::with_capacity(n.len() + 5);
            put_u16(&mut d, n.len() + 3);
            d.push(0); // host_name
            put_u16(&mut d, n.len());
            d.extend_from_slice(n);
            put_ext(&mut e, ext::SERVER_NAME, &d);
        }
        if !self.groups.is_empty() {
            let mut d = Vec::new();
            put_u16(&mut d, self.groups.len() * 2);
            for g in &self.groups {
                d.extend_from_slice(&g.0.to_be_bytes());
            }
            put_ext(&mut e, ext::SUPPORTED_GROUPS, &d);
            put_ext(&mut e, ext::EC_POINT_FORMATS, &[1, 0]);
        }
        if !self.signature_schemes.is_empty() {
            let mut d = Vec::new();
            put_u16(&mut d, self.signature_schemes.len() * 2);
            for s in &self.signature_schemes {
                d.extend_from_slice(&s.0.to_be_bytes());
            }
            put_ext(&mut e, ext::SIGNATURE_ALGORITHMS, &d);
        }
        if self.status_request {
            put_ext(&mut e, ext::STATUS_REQUEST, &[1, 0, 0, 0, 0]);
        }
        if !self.alpn.is_empty() {
            let mut list = Vec::new();
            for p in &self.alpn {
                list.push(p.len() as u8);
                list.extend_from_slice(p);
            }
            let mut d = Vec::new();
            put_u16(&mut d, list.len());
            d.extend_from_slice(&list);
            put_ext(&mut e, ext::ALPN, &d);
        }
        if self.extended_master_secret {
            put_ext(&mut e, ext::EXTENDED_MASTER_SECRET, &[]);
        }
        if self.renegotiation_info {
            put_ext(&mut e, ext::RENEGOTIATION_INFO, &[0]);
        }
        if !self.supported_versions.is_empty() {
            let mut d = vec![(self.supported_versions.len() * 2) as u8];
            for v in &self.supported_versions {
                d.extend_from_slice(&v.0.to_be_bytes());
            }
            put_ext(&mut e, ext::SUPPORTED_VERSIONS, &d);
            put_ext(&mut e, ext::PSK_KEY_EXCHANGE_MODES, &[1, 1]);
        }
        if self.empty_key_share {
            put_ext(&mut e, ext::KEY_SHARE, &[0, 0]);
        }
        put_u16(&mut b, e.len());
        b.extend_from_slice(&e);
        b
    }
}

fn random32() -> [u8; 32] {
    let mut r = [0u8; 32];
    // A random that is not random only weakens the handshake we never finish; still use the OS.
    if aws_lc_rs::rand::fill(&mut r).is_err() {
        r = [0x5a; 32];
    }
    r
}

fn put_u16(b: &mut Vec<u8>, n: usize) {
    b.extend_from_slice(&(n as u16).to_be_bytes());
}

fn put_u24(b: &mut Vec<u8>, n: usize) {
    b.extend_from_slice(&(n as u32).to_be_bytes()[1..]);
}

fn put_ext(e: &mut Vec<u8>, code: u16, data: &[u8]) {
    e.extend_from_slice(&code.to_be_bytes());
    put_u16(e, data.len());
    e.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_tls13_hello_has_the_lengths_it_says() {
        let mut h = ClientHello::new(ProtocolVersion::TLS13, Some("node.example"));
        h.suites = vec![CipherSuite::TLS13_AES_128_GCM_SHA256];
        h.groups = vec![NamedGroup::X25519];
        let r = h.to_record();
        assert_eq!(r[0], 22);
        assert_eq!(usize::from(u16::from_be_bytes([r[3], r[4]])), r.len() - 5);
        assert_eq!(r[5], 1);
        let hs_len = u32::from_be_bytes([0, r[6], r[7], r[8]]) as usize;
        assert_eq!(hs_len, r.len() - 9);
        // The flight parser can read our own hello's extension block back.
        let body = &r[9..];
        let sid = body[34] as usize;
        let suites_at = 35 + sid;
        let n = u16::from_be_bytes([body[suites_at], body[suites_at + 1]]) as usize;
        let comp_at = suites_at + 2 + n;
        let ext_at = comp_at + 1 + body[comp_at] as usize;
        let ext_len = u16::from_be_bytes([body[ext_at], body[ext_at + 1]]) as usize;
        assert_eq!(ext_at + 2 + ext_len, body.len());
    }

    #[test]
    fn sslv3_sends_no_extensions() {
        let mut h = ClientHello::new(ProtocolVersion::SSL3, Some("x"));
        h.suites = vec![CipherSuite(0x000A)];
        let r = h.to_record();
        assert_eq!(&r[1..3], &[3, 0]);
        // version 2 + random 32 + sid 1 + suites 2+2 + comp 1+1
        assert_eq!(r.len(), 9 + 2 + 32 + 1 + 4 + 2);
    }
}
