//! DNS facts for the frontchannel checks: the CAA record set that applies to each name
//! (RFC 8659 §3: climb from the name towards the root; CNAMEs are followed by resolution) and
//! each name's DNSSEC status, validated by hickory itself (the IANA root keys, or the DNSKEYs
//! given as trust anchors), not taken on the resolver's word.
//!
//! A validating resolver answers a bogus name with SERVFAIL; to tell "bogus" from "broken",
//! the same question is asked once more with checking disabled (RFC 4035 §3.2.2, `dig +cd`):
//! an answer then means the data exists but does not validate.

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::Resolver;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// At most this many names are looked up per certificate: public CAs issue multi-domain
/// certificates of up to 250 names, but a frontchannel certificate of one owner has a handful;
/// 100 keeps a hostile 10,000-SAN certificate from becoming 10,000 × climb queries.
pub const MAX_NAMES: usize = 100;

/// At most this many labels are climbed per name (RFC 8659 §3 stops at the root; real names
/// have fewer than ten labels, and this bounds a 127-label name).
pub const MAX_CLIMB: usize = 16;

/// Default time for one query, all retries included (hickory's own default is 5 s per attempt).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default time for all the DNS work of one certificate: a silent resolver would otherwise cost
/// [`MAX_NAMES`] × (timeout + the checking-disabled retry); a minute is far above what a healthy
/// resolver needs for a certificate's names, and bounds a `lint --dns` of many files.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

/// Largest answer read for the checking-disabled probe: the EDNS buffer size we advertise
/// (1232, the DNS Flag Day 2020 value).
const EDNS_UDP_SIZE: u16 = 1232;

/// Where and how to ask.
#[derive(Clone, Debug, Default)]
pub struct DnsConfig {
    /// The resolver (default: the system's, `/etc/resolv.conf`).
    pub resolver: Option<SocketAddr>,
    /// DNSKEY records to trust instead of the IANA root keys (a test zone's keys).
    pub trust_anchor: Option<PathBuf>,
    /// Per-query deadline (default [`DEFAULT_TIMEOUT`]).
    pub timeout: Option<Duration>,
    /// Deadline for all the names of one certificate (default [`DEFAULT_BUDGET`]).
    pub budget: Option<Duration>,
}

/// One CAA record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaaRecord {
    /// The issuer-critical flag.
    pub critical: bool,
    /// `issue`, `issuewild`, `iodef`, …
    pub tag: String,
    /// The value as sent (lossy UTF-8).
    pub value: String,
}

/// The CAA record set that applies to a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Caa {
    /// Found at `at` (the name itself or an ancestor).
    Found {
        /// Where the record set is.
        at: String,
        /// Its records.
        records: Vec<CaaRecord>,
    },
    /// No record set at the name or any ancestor.
    None,
    /// The lookup failed.
    Error {
        /// Why.
        reason: String,
    },
}

/// A name's DNSSEC status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Dnssec {
    /// Validated to a trust anchor.
    Secure,
    /// Provably unsigned (no DS at a delegation).
    Insecure,
    /// Signed, but the signatures do not validate.
    Bogus {
        /// What was seen.
        reason: String,
    },
    /// Could not be established.
    Error {
        /// Why.
        reason: String,
    },
}

/// What DNS said of one name.
#[derive(Clone, Debug, Serialize)]
pub struct NameFacts {
    /// The name as in the certificate.
    pub name: String,
    /// The CAA record set that applies.
    pub caa: Caa,
    /// DNSSEC status of the name's answer.
    pub dnssec: Dnssec,
}

/// DNS facts of a certificate's names.
#[derive(Clone, Debug, Serialize)]
pub struct DnsFacts {
    /// The resolver asked.
    pub resolver: String,
    /// Per name, at most [`MAX_NAMES`].
    pub names: Vec<NameFacts>,
    /// Names not looked up because of [`MAX_NAMES`].
    pub skipped: usize,
}

/// Why DNS could not be asked at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsSetupError {
    /// No resolver.
    #[error("no resolver: {0}")]
    Resolver(String),
    /// Bad trust anchor file.
    #[error("DNSSEC trust anchor {path}: {why}")]
    TrustAnchor {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

/// A prepared resolver.
pub struct Dns {
    resolver: Resolver<TokioRuntimeProvider>,
    server: SocketAddr,
    timeout: Duration,
    budget: Duration,
}

impl Dns {
    /// Builds the validating resolver.
    pub fn new(cfg: &DnsConfig) -> Result<Dns, DnsSetupError> {
        let timeout = cfg.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let server = match cfg.resolver {
            Some(a) => a,
            None => {
                let (c, _) = hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| DnsSetupError::Resolver(format!("/etc/resolv.conf: {e}")))?;
                let ns = c.name_servers().first().ok_or_else(|| {
                    DnsSetupError::Resolver("/etc/resolv.conf names no nameserver".into())
                })?;
                SocketAddr::new(ns.ip, ns.connections.first().map_or(53, |c| c.port))
            }
        };
        let mut ns = NameServerConfig::udp_and_tcp(server.ip());
        for c in &mut ns.connections {
            c.port = server.port();
        }
        let mut opts = ResolverOpts::default();
        opts.validate = true;
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.cache_size = 1024;
        let mut b = Resolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![ns]),
            TokioRuntimeProvider::default(),
        )
        .with_options(opts);
        if let Some(p) = &cfg.trust_anchor {
            let ta = TrustAnchors::from_file(p).map_err(|e| DnsSetupError::TrustAnchor {
                path: p.display().to_string(),
                why: e.to_string(),
            })?;
            b = b.with_trust_anchor(Arc::new(ta));
        }
        let resolver = b
            .build()
            .map_err(|e| DnsSetupError::Resolver(e.to_string()))?;
        Ok(Dns {
            resolver,
            server,
            timeout,
            budget: cfg.budget.unwrap_or(DEFAULT_BUDGET),
        })
    }

    /// The facts of `names` (wildcards looked up at their base name; duplicates once).
    pub async fn gather(&self, names: &[String]) -> DnsFacts {
        let mut unique: Vec<(&String, String)> = Vec::new();
        for n in names {
            let q = n
                .trim_start_matches("*.")
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if !unique.iter().any(|(_, u)| *u == q) {
                unique.push((n, q));
            }
        }
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + self.budget;
        for (n, q) in unique.iter().take(MAX_NAMES) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let facts = match tokio::time::timeout(left, self.name(n, q)).await {
                Ok(f) => f,
                Err(_) => {
                    let reason = format!(
                        "not looked up: the DNS budget of {:?} per certificate was spent",
                        self.budget
                    );
                    NameFacts {
                        name: n.to_string(),
                        caa: Caa::Error {
                            reason: reason.clone(),
                        },
                        dnssec: Dnssec::Error { reason },
                    }
                }
            };
            out.push(facts);
        }
        DnsFacts {
            resolver: self.server.to_string(),
            skipped: unique.len() - out.len(),
            names: out,
        }
    }

    async fn name(&self, original: &str, q: &str) -> NameFacts {
        let labels: Vec<&str> = q.split('.').filter(|l| !l.is_empty()).collect();
        let mut dnssec = None;
        let mut caa = Caa::None;
        for i in 0..labels.len().min(MAX_CLIMB) {
            let at = labels[i..].join(".");
            let a = self.ask(&at).await;
            if dnssec.is_none() {
                dnssec = Some(a.dnssec.clone());
            }
            match a.caa {
                Step::Found(records) => {
                    caa = Caa::Found { at, records };
                    break;
                }
                Step::Empty => continue,
                Step::Error(reason) => {
                    caa = Caa::Error {
                        reason: format!("{at}: {reason}"),
                    };
                    break;
                }
            }
        }
        NameFacts {
            name: original.to_string(),
            caa,
            dnssec: dnssec.unwrap_or(Dnssec::Error {
                reason: "an empty name".into(),
            }),
        }
    }

    async fn ask(&self, name: &str) -> Answer {
        let fqdn = format!("{name}.");
        let r = tokio::time::timeout(
            self.timeout + Duration::from_secs(1),
            self.resolver.lookup(fqdn.as_str(), RecordType::CAA),
        )
        .await;
        let r = match r {
            Ok(r) => r,
            Err(_) => return Answer::error(format!("no answer within {:?}", self.timeout)),
        };
        match r {
            Ok(l) => {
                let mut records = Vec::new();
                let mut proof = Proof::Indeterminate;
                for rec in l.answers() {
                    if let RData::CAA(c) = &rec.data {
                        proof = rec.proof;
                        records.push(CaaRecord {
                            critical: c.issuer_critical,
                            tag: c.tag.clone(),
                            value: String::from_utf8_lossy(&c.value).into_owned(),
                        });
                    } else if proof == Proof::Indeterminate {
                        proof = rec.proof;
                    }
                }
                let dnssec = from_proof(proof);
                if records.is_empty() {
                    Answer {
                        caa: Step::Empty,
                        dnssec,
                    }
                } else {
                    Answer {
                        caa: Step::Found(records),
                        dnssec,
                    }
                }
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => Answer {
                caa: Step::Empty,
                dnssec: nr.soa.as_ref().map_or(
                    Dnssec::Error {
                        reason: "a negative answer without SOA".into(),
                    },
                    |s| from_proof(s.proof),
                ),
            },
            Err(NetError::Dns(DnsError::Nsec { proof, .. })) => Answer {
                caa: Step::Empty,
                dnssec: from_proof(proof),
            },
            Err(NetError::Dns(DnsError::DnssecBogus)) => Answer {
                caa: Step::Error("the answer does not validate (DNSSEC bogus)".into()),
                dnssec: Dnssec::Bogus {
                    reason: "the signatures do not validate to the trust anchor".into(),
                },
            },
            Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))) => {
                match self.checking_disabled(name).await {
                    Some(true) => Answer {
                        caa: Step::Error("SERVFAIL from the validating resolver; with checking disabled it answers: DNSSEC bogus".into()),
                        dnssec: Dnssec::Bogus { reason: format!("{} refuses the answer (SERVFAIL) and gives it with checking disabled", self.server) },
                    },
                    _ => Answer::error("SERVFAIL".into()),
                }
            }
            Err(e) => Answer::error(e.to_string()),
        }
    }

    /// Asks `name CAA` with CD and DO set; `Some(true)` when the resolver then answers NOERROR
    /// or NXDOMAIN (the data exists but failed its validation).
    async fn checking_disabled(&self, name: &str) -> Option<bool> {
        let query = cd_query(name)?;
        let bind: SocketAddr = if self.server.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .ok()?;
        let sock = tokio::net::UdpSocket::bind(bind).await.ok()?;
        sock.connect(self.server).await.ok()?;
        sock.send(&query).await.ok()?;
        let mut buf = vec![0u8; usize::from(EDNS_UDP_SIZE)];
        let n = tokio::time::timeout(self.timeout, sock.recv(&mut buf))
            .await
            .ok()?
            .ok()?;
        let resp = buf.get(..n)?;
        // Our ID, and a response (QR set).
        if resp.len() < 12 || resp[..2] != query[..2] || resp[2] & 0x80 == 0 {
            return None;
        }
        let rcode = resp[3] & 0x0f;
        Some(rcode == 0 || rcode == 3)
    }
}

/// A DNS query for `name CAA` with RD and CD set and an EDNS OPT record with DO (RFC 1035
/// §4.1, RFC 4035 §3.2, RFC 6891 §6.1).
fn cd_query(name: &str) -> Option<Vec<u8>> {
    // A random ID (RFC 5452 §9.2): an answer is only taken when it echoes it.
    let mut id = [0u8; 2];
    aws_lc_rs::rand::fill(&mut id).ok()?;
    let id = u16::from_be_bytes(id);
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x10]); // RD, CD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]); // QD=1, AN=0, NS=0, AR=1
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let len = u8::try_from(label.len()).ok().filter(|l| *l <= 63)?;
        q.push(len);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&[0x01, 0x01, 0x00, 0x01]); // CAA (257), IN
    q.push(0); // OPT: root name
    q.extend_from_slice(&[0x00, 0x29]);
    q.extend_from_slice(&EDNS_UDP_SIZE.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0x80, 0x00, 0, 0]); // ext-rcode, version, DO; rdlen 0
    Some(q)
}

enum Step {
    Found(Vec<CaaRecord>),
    Empty,
    Error(String),
}

struct Answer {
    caa: Step,
    dnssec: Dnssec,
}

impl Answer {
    fn error(reason: String) -> Answer {
        Answer {
            caa: Step::Error(reason.clone()),
            dnssec: Dnssec::Error { reason },
        }
    }
}

fn from_proof(p: Proof) -> Dnssec {
    match p {
        Proof::Secure => Dnssec::Secure,
        Proof::Insecure => Dnssec::Insecure,
        Proof::Bogus => Dnssec::Bogus {
            reason: "the signatures do not validate".into(),
        },
        _ => Dnssec::Error {
            reason: "indeterminate: no chain of trust could be built".into(),
        },
    }
}
