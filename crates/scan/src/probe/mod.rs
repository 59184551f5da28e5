//! The probes of one endpoint, run as independent tasks within the per-host budget.

pub mod http;
pub mod raw;
pub mod refusal;
pub mod tls;

use crate::facts::{
    ClientAuth, EndpointFacts, HandshakeFacts, ProbeError, RefusalFact, RefusalOutcome,
    RefusalProbe, ZeroRttFacts,
};
use crate::judge::Role;
use crate::net::{Endpoint, HostBudget};
use crate::targets::Target;
use medmij_core::wire::ProtocolVersion;
use refusal::RefusalIdentities;
use rustls::sign::CertifiedKey;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tls::{After, Client, Session};

/// A client certificate for full handshakes against mTLS servers (`--client-cert/--client-key`).
pub type ClientIdentity = Arc<CertifiedKey>;

/// How to probe.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Frontchannel or backchannel: which probes run (refusal probes on the backchannel, plain
    /// HTTP and HSTS on the frontchannel).
    pub role: Role,
    /// Time per probe.
    pub timeout: Duration,
    /// Connections open at once per host.
    pub per_host_concurrency: usize,
    /// Connections in all per host.
    pub per_host_connections: usize,
    /// The client certificate for full handshakes, if any.
    pub identity: Option<ClientIdentity>,
    /// Certificates for the refusal probes.
    pub refusal: RefusalIdentities,
    /// The plain-HTTP port of a frontchannel host.
    pub http_port: u16,
    /// SNI override.
    pub sni: Option<String>,
    /// Fixed addresses for (host, port), like curl's `--resolve`: no DNS is asked for them.
    pub resolve: Vec<(String, u16, std::net::IpAddr)>,
}

impl ProbeOptions {
    /// Defaults for `role`, with the generated refusal certificates.
    pub fn new(role: Role) -> Result<ProbeOptions, String> {
        Ok(ProbeOptions {
            role,
            timeout: crate::net::DEFAULT_PROBE_TIMEOUT,
            per_host_concurrency: crate::net::DEFAULT_PER_HOST_CONCURRENCY,
            per_host_connections: crate::net::DEFAULT_PER_HOST_CONNECTIONS,
            identity: None,
            refusal: RefusalIdentities::generated()?,
            http_port: 80,
            sni: None,
            resolve: Vec::new(),
        })
    }
}

enum Task {
    Raw(fn(&Endpoint, &mut raw::Partial)),
    Handshake,
    Full,
    ZeroRtt,
    Refusal(RefusalProbe),
    PlainHttp,
}

enum Done {
    Raw(raw::Partial),
    Handshake(Session),
    Full(Session),
    ZeroRtt(ZeroRttFacts),
    Refusal(RefusalFact),
    PlainHttp(crate::facts::PlainHttpFacts),
}

fn resolve(t: &Target, fixed: &[(String, u16, std::net::IpAddr)]) -> Result<SocketAddr, String> {
    if let Some((_, _, ip)) = fixed.iter().find(|(h, p, _)| *h == t.host && *p == t.port) {
        return Ok(SocketAddr::new(*ip, t.port));
    }
    (t.host.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| format!("{}: cannot resolve: {e}", t.host))?
        .next()
        .ok_or_else(|| format!("{}: the name has no address", t.host))
}

/// Scans one target. A target that cannot be resolved or reached gives facts with the error
/// (the report says so), not a failure of the whole scan.
pub fn scan_endpoint(t: &Target, o: &ProbeOptions) -> EndpointFacts {
    let started = Instant::now();
    let mut f = EndpointFacts {
        sni: o.sni.clone().or_else(|| t.sni.clone()),
        client_auth: ClientAuth::Unknown,
        ..EndpointFacts::default()
    };
    let addr = match resolve(t, &o.resolve) {
        Ok(a) => a,
        Err(e) => {
            f.errors.push(ProbeError {
                probe: "resolve".into(),
                error: e,
            });
            return f;
        }
    };
    f.address = addr.to_string();
    let ep = Endpoint {
        addr,
        sni: f.sni.clone(),
        budget: HostBudget::new(o.per_host_concurrency, o.per_host_connections),
        timeout: o.timeout,
    };
    // One connection first: a port that is closed or silent is said once, not per probe.
    match ep.connect() {
        Ok(_) => {}
        Err(e) => {
            f.errors.push(ProbeError {
                probe: "connect".into(),
                error: e.to_string(),
            });
            f.connections = ep.budget.used();
            return f;
        }
    }
    let mut tasks: Vec<Task> = vec![
        Task::Handshake,
        Task::Raw(raw::suites_tls13),
        Task::Raw(|ep, p| raw::suites_legacy(ep, ProtocolVersion::TLS12, p)),
        Task::Raw(raw::options),
        Task::Raw(raw::groups_tls13),
        Task::Raw(raw::groups_tls12),
        Task::Raw(|ep, p| raw::suites_legacy(ep, ProtocolVersion::TLS11, p)),
        Task::Raw(|ep, p| raw::suites_legacy(ep, ProtocolVersion::TLS10, p)),
        Task::Raw(|ep, p| raw::suites_legacy(ep, ProtocolVersion::SSL3, p)),
        Task::ZeroRtt,
    ];
    if o.identity.is_some() {
        tasks.push(Task::Full);
    }
    match o.role {
        Role::Backchannel => {
            for (_, (p, _)) in o.refusal.keys.iter() {
                tasks.push(Task::Refusal(*p));
            }
        }
        Role::Frontchannel => tasks.push(Task::PlainHttp),
    }
    let queue = Mutex::new(tasks.into_iter().collect::<std::collections::VecDeque<_>>());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..o.per_host_concurrency.max(1) {
            s.spawn(|| loop {
                let task = match queue.lock() {
                    Ok(mut q) => q.pop_front(),
                    Err(_) => None,
                };
                let Some(task) = task else { break };
                let r = run_task(task, &ep, o, t);
                if let Ok(mut d) = done.lock() {
                    d.push(r);
                }
            });
        }
    });
    let results = done.into_inner().unwrap_or_default();
    merge(&mut f, results, o);
    f.connections = ep.budget.used();
    f.duration_ms = started.elapsed().as_millis() as u64;
    f
}

fn run_task(task: Task, ep: &Endpoint, o: &ProbeOptions, t: &Target) -> Done {
    match task {
        Task::Raw(run) => {
            let mut p = raw::Partial::default();
            run(ep, &mut p);
            Done::Raw(p)
        }
        Task::Handshake => Done::Handshake(match Client::new(None, raw::ALPN, false) {
            Ok(c) => c.run(ep, true, false),
            Err(e) => Session {
                error: Some(e),
                ..Session::default()
            },
        }),
        Task::Full => Done::Full(
            match Client::new(o.identity.clone(), &[b"http/1.1"], false) {
                Ok(c) => c.run(ep, true, false),
                Err(e) => Session {
                    error: Some(e),
                    ..Session::default()
                },
            },
        ),
        Task::ZeroRtt => Done::ZeroRtt(zero_rtt(ep, o)),
        Task::Refusal(p) => {
            let key = o.refusal.keys.get(&(p as u8)).map(|(_, k)| k.clone());
            let outcome = match Client::new(key, &[b"http/1.1"], false) {
                Ok(c) => refusal_outcome(&c.run(ep, true, false)),
                Err(e) => RefusalOutcome::Error { why: e },
            };
            Done::Refusal(RefusalFact { probe: p, outcome })
        }
        Task::PlainHttp => {
            let addr = SocketAddr::new(ep.addr.ip(), o.http_port);
            Done::PlainHttp(http::probe(addr, &t.host, o.timeout))
        }
    }
}

fn zero_rtt(ep: &Endpoint, o: &ProbeOptions) -> ZeroRttFacts {
    let mut z = ZeroRttFacts::default();
    let Ok(c) = Client::new(o.identity.clone(), &[b"http/1.1"], true) else {
        return z;
    };
    let first = c.run(ep, true, false);
    if !first.completed || first.version != Some(ProtocolVersion::TLS13) {
        return z;
    }
    let second = c.run(ep, true, true);
    z.ticket = second.resumed;
    z.early_data_offered = second.early_data.is_some();
    if z.early_data_offered {
        z.accepted = second.early_data;
    }
    z
}

/// What a refusal probe's session says about the server.
pub fn refusal_outcome(s: &Session) -> RefusalOutcome {
    if let Some(a) = &s.alert {
        return RefusalOutcome::Alert { alert: a.clone() };
    }
    if !s.completed {
        let why = s.error.clone().unwrap_or_else(|| "no handshake".into());
        // A connect that failed is no refusal by the server.
        if why.contains("connect") || why.contains("budget") {
            return RefusalOutcome::Error { why };
        }
        return RefusalOutcome::Closed { how: why };
    }
    match &s.after {
        Some(After::Alert(a)) => RefusalOutcome::Alert { alert: a.clone() },
        Some(After::Closed(how)) => RefusalOutcome::Closed { how: how.clone() },
        Some(After::Http { status, .. }) => RefusalOutcome::Http { status: *status },
        Some(After::H2 | After::Open) | None => RefusalOutcome::Accepted,
    }
}

fn merge(f: &mut EndpointFacts, results: Vec<Done>, o: &ProbeOptions) {
    let mut raws = Vec::new();
    let mut handshake = None;
    for r in results {
        match r {
            Done::Raw(p) => raws.push(p),
            Done::Handshake(s) => handshake = Some(s),
            Done::Full(s) => {
                if f.handshake.hsts.is_none() {
                    if let Some(After::Http { hsts, .. }) = &s.after {
                        f.handshake.hsts = hsts.clone();
                    }
                }
                if let Some(e) = s.error {
                    f.errors.push(ProbeError {
                        probe: "handshake with --client-cert".into(),
                        error: e,
                    });
                }
            }
            Done::ZeroRtt(z) => f.zero_rtt = Some(z),
            Done::Refusal(r) => f.refusals.push(r),
            Done::PlainHttp(h) => f.plain_http = Some(h),
        }
    }
    let mut order_seen = None;
    for p in raws {
        f.speaks_tls |= p.spoke_tls;
        f.cipher_suites.extend(p.suites);
        f.groups.extend(p.groups);
        f.dh.extend(p.dh);
        f.version_answers.extend(p.version_answers);
        f.errors.extend(p.errors);
        if p.server_order.is_some() {
            order_seen = p.server_order;
        }
        if let Some(h) = &p.first_hello {
            raw::apply_first_hello(h, f);
        }
        if p.sha1.is_some() {
            f.kex_signatures.sha1_accepted = p.sha1;
        }
        if p.sha224.is_some() {
            f.kex_signatures.sha224_accepted = p.sha224;
        }
        for s in p.seen_schemes {
            if !f.kex_signatures.seen.contains(&s) {
                f.kex_signatures.seen.push(s);
            }
        }
        if p.highest.is_some() {
            f.highest_offered_chosen = p.highest;
        }
    }
    f.server_order = order_seen;
    let order = [
        ProtocolVersion::TLS13,
        ProtocolVersion::TLS12,
        ProtocolVersion::TLS11,
        ProtocolVersion::TLS10,
        ProtocolVersion::SSL3,
    ];
    f.cipher_suites
        .sort_by_key(|s| order.iter().position(|v| *v == s.version));
    f.groups
        .sort_by_key(|g| order.iter().position(|v| *v == g.version));
    f.version_answers
        .sort_by_key(|(v, _)| order.iter().position(|o| o.to_string() == *v));
    f.versions = order
        .iter()
        .copied()
        .filter(|v| f.cipher_suites.iter().any(|s| s.version == *v))
        .collect();
    if let Some(s) = handshake {
        apply_handshake(f, &s, o.role);
    }
}

fn apply_handshake(f: &mut EndpointFacts, s: &Session, role: Role) {
    f.speaks_tls |= s.completed || s.alert.is_some();
    let hs = HandshakeFacts {
        completed: s.completed,
        error: s.error.clone(),
        version: s.version,
        suite: s.suite,
        alpn: s.alpn.clone(),
        ocsp_stapled: !s.ocsp.is_empty(),
        certificate_requested: s.requested.is_some(),
        acceptable_cas: s
            .requested
            .iter()
            .flatten()
            .map(|d| crate::dn_text(d))
            .collect(),
        after: s.after.as_ref().map(|a| match a {
            After::Http { status, .. } => format!("http {status}"),
            After::H2 => "http/2 frames".into(),
            After::Alert(a) => format!("alert {a}"),
            After::Closed(how) => format!("closed: {how}"),
            After::Open => "open, no answer".into(),
        }),
        hsts: match &s.after {
            Some(After::Http { hsts, .. }) => hsts.clone(),
            _ => f.handshake.hsts.clone(),
        },
    };
    // The chain exactly as sent: the raw TLS 1.2 flight when there was one (nothing in between),
    // else what the rustls handshake recorded (TLS 1.3 sends it encrypted).
    if f.chain.is_empty() && !s.chain.is_empty() {
        f.chain = s.chain.iter().map(|d| crate::cert_fact(d)).collect();
        f.chain_version = s.version;
    }
    if f.alpn.is_none() {
        f.alpn = s.alpn.clone();
    }
    let requested = hs.certificate_requested || f.certificate_requested_tls12;
    f.client_auth = if !requested {
        // No request seen: known absent after a finished handshake or a whole TLS 1.2 flight.
        if s.completed || f.tls12_flight_complete {
            ClientAuth::None
        } else {
            ClientAuth::Unknown
        }
    } else {
        match refusal_outcome(s) {
            RefusalOutcome::Alert { .. } | RefusalOutcome::Closed { .. } => ClientAuth::Required,
            RefusalOutcome::Http { .. } | RefusalOutcome::Accepted => ClientAuth::Optional,
            RefusalOutcome::Error { .. } => ClientAuth::Unknown,
        }
    };
    if role == Role::Backchannel {
        f.refusals.push(RefusalFact {
            probe: RefusalProbe::NoCertificate,
            outcome: refusal_outcome(s),
        });
        f.refusals
            .sort_by_key(|r| RefusalProbe::ALL.iter().position(|p| *p == r.probe));
    }
    f.handshake = hs;
}

/// Default endpoints scanned at once. Each runs up to its per-host concurrency of probe
/// threads; 64 × 5 keeps a 2-core machine busy on loopback without exhausting file
/// descriptors (the default soft limit is 1024).
pub const DEFAULT_PARALLEL_HOSTS: usize = 64;
/// The most endpoints at once (`--parallel-hosts`).
pub const MAX_PARALLEL_HOSTS: usize = 256;

/// Scans every target, `parallel` at a time; `progress(done, total)` after each.
pub fn scan_all(
    targets: &[Target],
    o: &ProbeOptions,
    parallel: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<EndpointFacts> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Mutex<Option<EndpointFacts>>> =
        targets.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..parallel
            .clamp(1, MAX_PARALLEL_HOSTS)
            .min(targets.len().max(1))
        {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(t) = targets.get(i) else { break };
                let f = scan_endpoint(t, o);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(f);
                }
                let n = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, targets.len());
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().ok().flatten().unwrap_or_default())
        .collect()
}
