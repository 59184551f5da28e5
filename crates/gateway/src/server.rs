//! The listeners: the backchannel (mutual TLS with the MedMij verifier, revocation from memory
//! kept warm in the background, the whitelist), the frontchannel (TLS, HSTS, no client
//! certificate) and its plain-HTTP redirect; each a reverse proxy to a loopback upstream over
//! HTTP/1.1, serving HTTP/1.1 and HTTP/2 (ALPN).

use crate::config::{Config, Limits};
use crate::material::{self, Material};
use crate::proxy::{self, Identity, Upstream};
use medmij_core::profile::FailMode;
use medmij_verify::tls_policy::{Strictness, TlsPolicy};
use medmij_verify::verifier::Verifier;
use medmij_verify::whitelist::{Source, Store};
use medmij_verify::Channel;
use rustls::pki_types::CertificateDer;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// How often the revocation caches are refreshed and first-contact misses fetched. 30 s: a
/// new peer's CRL is in memory within half a minute; CRLs are refreshed before nextUpdate.
pub const REVOCATION_REFRESH: Duration = Duration::from_secs(30);
/// How long a drain waits for open requests after SIGTERM before closing what is left. 30 s:
/// longer than the upstream deadline's usual use, shorter than systemd's 90 s stop timeout.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A listener's certificate or key.
    #[error("{listener}: {error}")]
    Material {
        /// Which listener.
        listener: &'static str,
        /// Why.
        error: material::MaterialError,
    },
    /// The TLS policy.
    #[error("{listener}: TLS: {error}")]
    Tls {
        /// Which listener.
        listener: &'static str,
        /// Why.
        error: medmij_verify::tls_policy::PolicyError,
    },
    /// The verifier.
    #[error("backchannel: verifier: {0}")]
    Verifier(#[from] medmij_verify::BuildError),
    /// The whitelist.
    #[error("whitelist: {0}")]
    Whitelist(String),
    /// A socket.
    #[error("{listener}: listen on {addr}: {error}")]
    Listen {
        /// Which listener.
        listener: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// A background task that stops when dropped.
pub struct Task(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A listener's stapled certificate: the resolver serving it and the chain to ask about.
type Stapler = (
    Arc<crate::stapling::StapledResolver>,
    Vec<CertificateDer<'static>>,
    &'static str,
);

/// Serves `m` with OCSP stapling when its leaf names a responder.
fn stapled(
    tls: &mut rustls::ServerConfig,
    m: &Material,
    listener: &'static str,
    staplers: &mut Vec<Stapler>,
) {
    let chain = served(m);
    if chain.first().and_then(crate::stapling::responder).is_some() {
        let r = crate::stapling::StapledResolver::new(m.key.clone());
        tls.cert_resolver = r.clone();
        staplers.push((r, chain, listener));
    }
}

/// What a start found to warn about (a root dropped from a chain).
pub type Warnings = Vec<String>;

/// Everything the listeners need, built and checked before any socket opens.
pub struct Prepared {
    config: Config,
    back: Option<(Arc<rustls::ServerConfig>, Arc<Store>, Arc<Verifier>)>,
    front: Option<Arc<rustls::ServerConfig>>,
    out: Option<(Arc<rustls::ClientConfig>, Arc<Store>)>,
    staplers: Vec<Stapler>,
    /// What was said while preparing.
    pub warnings: Warnings,
}

fn anchors_of(cfg: &Config, configured: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    match configured {
        c if !c.is_empty() => c.to_vec(),
        _ => {
            // The profile's pinned roots as `anchors fetch --dir STATE/anchors` wrote them.
            let dir = cfg.state_dir.join("anchors");
            let mut v: Vec<_> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "pem"))
                .collect();
            v.sort();
            v
        }
    }
}

fn served(m: &Material) -> Vec<CertificateDer<'static>> {
    m.key.cert.clone()
}

/// Builds and checks everything (`gateway check-config` stops here).
pub fn prepare(config: Config) -> Result<Prepared, StartError> {
    let strictness = if config.strict {
        Strictness::Strict
    } else {
        Strictness::Standard
    };
    let policy = TlsPolicy::new(&config.profile, strictness).map_err(|error| StartError::Tls {
        listener: "policy",
        error,
    })?;
    let mut warnings = Vec::new();
    let mut shared_store: Option<Arc<Store>> = None;
    let mut staplers = Vec::new();
    let back = match &config.backchannel {
        None => None,
        Some(b) => {
            let (m, store, verifier) = node_side(
                &config,
                "backchannel",
                &b.tls,
                &b.trust_anchors,
                &mut warnings,
                &mut shared_store,
            )?;
            let mut tls = policy
                .backchannel_server(verifier.clone(), served(&m), m.key_der.clone_key())
                .map_err(|error| StartError::Tls {
                    listener: "backchannel",
                    error,
                })?;
            tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            stapled(&mut tls, &m, "backchannel", &mut staplers);
            Some((Arc::new(tls), store, verifier))
        }
    };
    let front = match &config.frontchannel {
        None => None,
        Some(f) => {
            let roots = std::path::PathBuf::from(medmij_lint::SYSTEM_ROOTS);
            let subjects = if roots.exists() {
                material::subjects(&[roots]).unwrap_or_default()
            } else {
                Vec::new()
            };
            judge_front_certificate(&config, &f.tls.cert)?;
            let strict_path = config.environment == medmij_core::Environment::Production;
            let m = material::load(
                &f.tls.cert,
                &f.tls.key,
                if strict_path { &subjects } else { &[] },
            )
            .map_err(|error| StartError::Material {
                listener: "frontchannel",
                error,
            })?;
            warnings.extend(m.warnings.iter().cloned());
            let required_12 = config
                .profile
                .versions
                .server_required
                .iter()
                .any(|v| v.0 == medmij_core::wire::ProtocolVersion::TLS12);
            let front_policy = if f.tls12 || required_12 {
                policy.clone()
            } else {
                policy.tls13_only().unwrap_or_else(|| policy.clone())
            };
            let mut tls = front_policy
                .frontchannel_server(served(&m), m.key_der.clone_key())
                .map_err(|error| StartError::Tls {
                    listener: "frontchannel",
                    error,
                })?;
            tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            stapled(&mut tls, &m, "frontchannel", &mut staplers);
            Some(Arc::new(tls))
        }
    };
    let out = match &config.outbound {
        None => None,
        Some(o) => {
            let (m, store, verifier) = node_side(
                &config,
                "outbound",
                &o.tls,
                &o.trust_anchors,
                &mut warnings,
                &mut shared_store,
            )?;
            let tls = policy
                .backchannel_client(verifier, served(&m), m.key_der.clone_key())
                .map_err(|error| StartError::Tls {
                    listener: "outbound",
                    error,
                })?;
            let mut tls = tls;
            tls.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some((Arc::new(tls), store))
        }
    };
    Ok(Prepared {
        config,
        back,
        front,
        out,
        staplers,
        warnings,
    })
}

/// core.tls.315 on the handshake side: a production frontchannel listener does not start with a
/// DV certificate or a wildcard name (the linter's checks, judged on the configured chain).
fn judge_front_certificate(config: &Config, chain: &std::path::Path) -> Result<(), StartError> {
    use medmij_core::checks::names::{FRONTCHANNEL_NO_WILDCARD, FRONTCHANNEL_OV_OR_BETTER};
    if config.environment != medmij_core::Environment::Production {
        return Ok(());
    }
    let linter = medmij_lint::Linter::new(medmij_lint::Options {
        role: medmij_lint::Role::Frontchannel,
        profile: config.profile.clone(),
        environment: config.environment,
        at: time::OffsetDateTime::now_utc().unix_timestamp(),
        trust_anchors: Vec::new(),
        crl_files: Vec::new(),
        revocation: None,
        fetch_timeout: Duration::from_secs(5),
        dns: None,
        caa_identifiers: Vec::new(),
    })
    .map_err(|e| StartError::Material {
        listener: "frontchannel",
        error: material::MaterialError(e.to_string()),
    })?;
    let report = linter.lint_file(chain);
    for f in &report.findings {
        if (f.check == FRONTCHANNEL_OV_OR_BETTER || f.check == FRONTCHANNEL_NO_WILDCARD)
            && f.status == medmij_core::outcome::Status::Fail
        {
            return Err(StartError::Material {
                listener: "frontchannel",
                error: material::MaterialError(format!(
                    "{}: {} ({} {}; production frontchannel certificates must be OV or better without wildcards)",
                    chain.display(),
                    f.message,
                    f.requirement,
                    f.check
                )),
            });
        }
    }
    Ok(())
}

/// A node's own material (checked against the anchors) and its verifier (anchors, CRL files
/// and cache, the whitelist, revocation from memory with first contacts fetched in place, the
/// configured fail modes): what the backchannel listener and the outbound proxy share.
fn node_side(
    config: &Config,
    listener: &'static str,
    tls: &crate::config::Tls,
    configured: &[std::path::PathBuf],
    warnings: &mut Warnings,
    shared_store: &mut Option<Arc<Store>>,
) -> Result<(Material, Arc<Store>, Arc<Verifier>), StartError> {
    let err = |error| StartError::Material { listener, error };
    let anchors = anchors_of(config, configured);
    if anchors.is_empty() {
        return Err(err(material::MaterialError(format!(
            "no trust anchors: set {listener}.trust_anchors or run `medmij-tls anchors fetch --dir {}`",
            config.state_dir.join("anchors").display()
        ))));
    }
    let subjects = material::subjects(&anchors).map_err(err)?;
    let m = material::load(&tls.cert, &tls.key, &subjects).map_err(err)?;
    warnings.extend(m.warnings.iter().cloned());
    let store = whitelist_store(config, warnings, shared_store)?;
    let crl_files = crl_files(config).map_err(err)?;
    let mut builder = Verifier::builder(&config.profile, config.environment)
        .channel(Channel::Backchannel)
        .trust_anchor_files(&anchors)
        .crl_files(crl_files)
        .crl_cache_dir(config.state_dir.join("crl-cache"))
        .whitelist(store.clone())
        .decide_from_memory()
        .fetch_misses_in_place();
    builder = match (config.crl, config.ocsp) {
        (FailMode::Hard, FailMode::Hard) => builder.strict_revocation(),
        (c, o) if c == config.profile.revocation.crl && o == config.profile.revocation.ocsp => {
            builder
        }
        (c, _) => builder.dangerous().revocation(c).finish(),
    };
    Ok((m, store, Arc::new(builder.build()?)))
}

/// The configured CRL files as DER, read with the CRL budget; PEM is converted (the engine
/// takes DER). A file that cannot be read or is neither is an error, not a CRL silently missing.
fn crl_files(config: &Config) -> Result<Vec<(String, Vec<u8>)>, material::MaterialError> {
    use rustls::pki_types::pem::PemObject;
    config
        .crl_files
        .iter()
        .map(|p| {
            let raw = medmij_core::input::read(p, medmij_core::input::Kind::Crl)
                .map_err(|e| material::MaterialError(e.to_string()))?;
            let der = if raw.first() == Some(&0x30) {
                raw
            } else {
                rustls::pki_types::CertificateRevocationListDer::from_pem_slice(&raw)
                    .map_err(|e| {
                        material::MaterialError(format!(
                            "{}: neither DER nor a PEM X509 CRL: {e}",
                            p.display()
                        ))
                    })?
                    .as_ref()
                    .to_vec()
            };
            Ok((p.display().to_string(), der))
        })
        .collect()
}

/// The one whitelist store of this configuration (shared by the backchannel and outbound).
fn whitelist_store(
    config: &Config,
    warnings: &mut Warnings,
    shared: &mut Option<Arc<Store>>,
) -> Result<Arc<Store>, StartError> {
    if let Some(s) = shared {
        return Ok(s.clone());
    }
    let wl = config
        .whitelist
        .as_ref()
        .ok_or_else(|| StartError::Whitelist("backchannel traffic needs a whitelist".into()))?;
    let state = config.state_dir.join("whitelist-last-good.xml");
    let store = Arc::new(Store::new(
        Source::parse(&wl.source),
        medmij_verify::http::HttpClient::default(),
        Some(state),
        false,
    ));
    match store.load() {
        (Some(_), None) => {}
        (Some(w), Some(e)) => warnings.push(format!(
            "whitelist: {e}; using the last good copy (Volgnummer {})",
            w.volgnummer
        )),
        (None, e) => {
            return Err(StartError::Whitelist(e.map_or_else(
                || "no whitelist could be loaded".into(),
                |e| e.to_string(),
            )))
        }
    }
    *shared = Some(store.clone());
    Ok(store)
}

/// What one listener serves with: its TLS config and what it makes of a peer. Swapped whole on
/// reload; a connection keeps the state it was accepted with.
struct ListenerState {
    tls: Arc<rustls::ServerConfig>,
    identity: IdentityFn,
}

type Slot = Arc<RwLock<Arc<ListenerState>>>;

fn load(slot: &Slot) -> Arc<ListenerState> {
    slot.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The running gateway.
pub struct Running {
    /// Where the backchannel listens.
    pub backchannel: Option<SocketAddr>,
    /// Where the frontchannel listens.
    pub frontchannel: Option<SocketAddr>,
    /// Where the redirect listener listens.
    pub redirect: Option<SocketAddr>,
    /// Where the outbound proxy listens.
    pub outbound: Option<SocketAddr>,
    /// The outbound proxy (its pool), while running.
    pub outbound_proxy: Option<Arc<crate::outbound::Outbound>>,
    /// Where `/metrics`, `/healthz`, `/readyz` are served.
    pub metrics: Option<SocketAddr>,
    live: Arc<crate::metrics::Live>,
    back_verifier: proxy::CurrentVerifier,
    file: std::path::PathBuf,
    listen: (Option<SocketAddr>, Option<SocketAddr>),
    back_slot: Option<Slot>,
    front_slot: Option<Slot>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    refresh: Mutex<Vec<Box<dyn std::any::Any + Send>>>,
    reloads: tokio::sync::Mutex<()>,
    watched: Mutex<Vec<(std::path::PathBuf, Option<std::time::SystemTime>)>>,
}

/// The listener states and background tasks of one prepared configuration.
struct States {
    back: Option<Arc<ListenerState>>,
    front: Option<Arc<ListenerState>>,
    refresh: Vec<Box<dyn std::any::Any + Send>>,
    store: Option<Arc<Store>>,
    engines: Vec<Arc<medmij_verify::revocation::Engine>>,
}

fn states(p: Prepared, current: &proxy::CurrentVerifier) -> States {
    let mut refresh: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    for (resolver, chain, listener) in p.staplers {
        refresh.push(Box::new(crate::stapling::spawn(resolver, chain, listener)));
    }
    let mut engines = Vec::new();
    let mut live_store = p.out.as_ref().map(|(_, s)| s.clone());
    let back = p.back.map(|(tls, store, verifier)| {
        engines.push(verifier.revocation().clone());
        *current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(verifier.clone());
        let current = current.clone();
        let chains = Arc::new(proxy::Chains::default());
        live_store = Some(store.clone());
        refresh.push(Box::new(medmij_verify::background::spawn(
            verifier.revocation().clone(),
            REVOCATION_REFRESH,
        )));
        if let Some(w) = &p.config.whitelist {
            refresh.push(Box::new(store.spawn_refresh(w.refresh)));
        }
        let identity: IdentityFn = Arc::new(move |peer: Option<&[CertificateDer<'static>]>| {
            let recheck =
                peer.map(|p| Arc::new(proxy::Recheck::new(current.clone(), chains.get(p))));
            (Identity::of(peer, &store), recheck)
        });
        Arc::new(ListenerState { tls, identity })
    });
    let front = p.front.map(|tls| {
        let identity: IdentityFn =
            Arc::new(|_: Option<&[CertificateDer<'static>]>| (Identity::none(), None));
        Arc::new(ListenerState { tls, identity })
    });
    States {
        back,
        front,
        refresh,
        store: live_store,
        engines,
    }
}

impl Running {
    /// Stops accepting, lets open requests finish (at most [`DRAIN_TIMEOUT`]), and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
            tracing::warn!("drain timeout: closing the connections still open");
            self.tasks.abort_all();
        }
    }

    /// Reads the configuration file again and, when everything in it is good, serves new
    /// handshakes with the new certificates, keys, anchors, CRL files and whitelist at once;
    /// open connections keep theirs. Anything wrong: one error, and the old state stays in force.
    /// Listen addresses are fixed for the process (a change is refused: restart to move).
    pub async fn reload(&self) -> Result<Vec<String>, String> {
        let r = self.reload_inner().await;
        let result = if r.is_ok() { "ok" } else { "refused" };
        metrics::counter!("medmij_gateway_reloads_total", "result" => result).increment(1);
        r
    }

    async fn reload_inner(&self) -> Result<Vec<String>, String> {
        let _one_at_a_time = self.reloads.lock().await;
        // Whatever comes of it, the files as they are now are the ones judged: a bad file is
        // said once, not every poll, and the next change is tried again.
        {
            let mut w = self
                .watched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (p, m) in w.iter_mut() {
                *m = mtime(p);
            }
        }
        let file = self.file.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            let cfg = Config::load(&file).map_err(|e| e.to_string())?;
            prepare(cfg).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("reload task: {e}"))??;
        let listen = (
            prepared.config.backchannel.as_ref().map(|b| b.listen),
            prepared.config.frontchannel.as_ref().map(|f| f.listen),
        );
        if listen != self.listen {
            return Err(
                "a listen address or listener changed: restart the gateway to apply it".into(),
            );
        }
        let warnings = prepared.warnings.clone();
        let files = watch_list(&prepared.config);
        let new = states(prepared, &self.back_verifier);
        if let (Some(slot), Some(st)) = (&self.back_slot, new.back) {
            *slot
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = st;
        }
        if let (Some(slot), Some(st)) = (&self.front_slot, new.front) {
            *slot
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = st;
        }
        // The old refreshers stop when dropped; the new ones keep the new state warm.
        *self
            .refresh
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = new.refresh;
        *self
            .watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = files;
        *self
            .live
            .whitelist
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = new.store;
        *self
            .live
            .engines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = new.engines;
        Ok(warnings)
    }

    /// Whether the configuration file or a file it names (certificates, keys, anchors, CRL
    /// files, a whitelist file) changed since the last (re)load: polled by `gateway run` every
    /// [`WATCH_INTERVAL`], a reload follows.
    pub fn files_changed(&self) -> bool {
        let w = self
            .watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        w.iter().any(|(p, m)| mtime(p) != *m)
    }
}

/// How often `gateway run` looks at the files for changes. Two seconds: a certificate renewal
/// is served within moments, at the cost of a few `stat` calls.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

fn mtime(p: &std::path::Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn watch_list(c: &Config) -> Vec<(std::path::PathBuf, Option<std::time::SystemTime>)> {
    let mut files = vec![c.file.clone()];
    if let Some(b) = &c.backchannel {
        files.extend([b.tls.cert.clone(), b.tls.key.clone()]);
        files.extend(b.trust_anchors.iter().cloned());
    }
    if let Some(f) = &c.frontchannel {
        files.extend([f.tls.cert.clone(), f.tls.key.clone()]);
    }
    files.extend(c.crl_files.iter().cloned());
    if let Some(w) = &c.whitelist {
        if !w.source.starts_with("https://") {
            files.push(w.source.clone().into());
        }
    }
    files
        .into_iter()
        .map(|p| {
            let m = mtime(&p);
            (p, m)
        })
        .collect()
}

/// A short label for why a handshake failed (the rustls error kind).
fn refusal_class(e: &std::io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => format!("certificate:{c:?}").to_lowercase(),
        Some(rustls::Error::NoCertificatesPresented) => "no-client-certificate".into(),
        Some(rustls::Error::PeerIncompatible(_)) => "incompatible".into(),
        Some(rustls::Error::AlertReceived(a)) => format!("alert:{a:?}").to_lowercase(),
        Some(rustls::Error::InvalidMessage(_)) => "invalid-message".into(),
        Some(_) => "tls-error".into(),
        None => "io".into(),
    }
}

/// Counts connections per source address (the per-IP cap).
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

impl PerIp {
    fn enter(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<IpGuard> {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = m.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(IpGuard(self.clone(), ip))
    }
}

struct IpGuard(Arc<PerIp>, IpAddr);

impl Drop for IpGuard {
    fn drop(&mut self) {
        let mut m = (self.0)
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

async fn bind(listener: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|error| StartError::Listen {
            listener,
            addr,
            error,
        })
}

async fn local(
    listener: &'static str,
    l: &TcpListener,
    addr: SocketAddr,
) -> Result<SocketAddr, StartError> {
    l.local_addr().map_err(|error| StartError::Listen {
        listener,
        addr,
        error,
    })
}

/// Opens the listeners and serves until [`Running::shutdown`].
pub async fn start(p: Prepared) -> Result<Running, StartError> {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let limits = Arc::new(p.config.limits.clone());
    let config = p.config.clone();
    for w in &p.warnings {
        tracing::warn!("{w}");
    }
    let out_state = p.out.clone();
    let back_verifier: proxy::CurrentVerifier = Arc::new(RwLock::new(None));
    let st = states(p, &back_verifier);
    let (mut back_addr, mut front_addr, mut redirect_addr) = (None, None, None);
    let (mut back_slot, mut front_slot) = (None, None);
    if let (Some(b), Some(state)) = (&config.backchannel, st.back) {
        let l = bind("backchannel", b.listen).await?;
        back_addr = Some(local("backchannel", &l, b.listen).await?);
        let slot: Slot = Arc::new(RwLock::new(state));
        back_slot = Some(slot.clone());
        let upstream = Upstream::new(&b.upstream, limits.upstream_timeout());
        tasks.spawn(accept_loop(
            "backchannel",
            l,
            slot,
            upstream,
            None,
            limits.clone(),
            stopped.clone(),
        ));
    }
    if let (Some(f), Some(state)) = (&config.frontchannel, st.front) {
        let l = bind("frontchannel", f.listen).await?;
        let addr = local("frontchannel", &l, f.listen).await?;
        front_addr = Some(addr);
        let slot: Slot = Arc::new(RwLock::new(state));
        front_slot = Some(slot.clone());
        let upstream = Upstream::new(&f.upstream, limits.upstream_timeout());
        tasks.spawn(accept_loop(
            "frontchannel",
            l,
            slot,
            upstream,
            Some(f.hsts.clone()),
            limits.clone(),
            stopped.clone(),
        ));
        if let Some(r) = f.redirect_listen {
            let l = bind("redirect", r).await?;
            redirect_addr = Some(local("redirect", &l, r).await?);
            tasks.spawn(proxy::redirect_loop(
                l,
                addr.port(),
                limits.clone(),
                stopped.clone(),
            ));
        }
    }
    let (mut out_addr, mut out_proxy) = (None, None);
    if let (Some(o), Some((tls, store))) = (&config.outbound, out_state) {
        let l = bind("outbound", o.listen).await?;
        out_addr = Some(local("outbound", &l, o.listen).await?);
        let proxy = Arc::new(crate::outbound::Outbound::new(
            tls,
            store,
            o.resolve.clone(),
            limits.clone(),
        ));
        out_proxy = Some(proxy.clone());
        tasks.spawn(crate::outbound::serve(l, proxy, stopped.clone()));
    }
    let live = Arc::new(crate::metrics::Live::default());
    *live
        .whitelist
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = st.store.clone();
    *live
        .engines
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = st.engines.clone();
    let mut metrics_addr = None;
    if let Some(m) = config.metrics {
        let _ = crate::metrics::handle();
        let l = bind("metrics", m).await?;
        metrics_addr = Some(local("metrics", &l, m).await?);
        tasks.spawn(crate::metrics::serve(l, live.clone(), stopped.clone()));
    }
    live.ready.store(true, std::sync::atomic::Ordering::SeqCst);
    tracing::info!(backchannel = ?back_addr, frontchannel = ?front_addr, redirect = ?redirect_addr, outbound = ?out_addr, metrics = ?metrics_addr, "gateway listening");
    Ok(Running {
        backchannel: back_addr,
        frontchannel: front_addr,
        redirect: redirect_addr,
        outbound: out_addr,
        outbound_proxy: out_proxy,
        metrics: metrics_addr,
        live,
        back_verifier,
        file: config.file.clone(),
        listen: (
            config.backchannel.as_ref().map(|b| b.listen),
            config.frontchannel.as_ref().map(|f| f.listen),
        ),
        back_slot,
        front_slot,
        stop,
        tasks,
        refresh: Mutex::new(st.refresh),
        reloads: tokio::sync::Mutex::new(()),
        watched: Mutex::new(watch_list(&config)),
    })
}

/// What a listener makes of a verified peer chain: the identity headers and (backchannel) the
/// per-request re-check.
type IdentityFn = Arc<
    dyn Fn(Option<&[CertificateDer<'static>]>) -> (Identity, Option<Arc<proxy::Recheck>>)
        + Send
        + Sync,
>;

#[allow(clippy::too_many_arguments)]
async fn accept_loop(
    name: &'static str,
    listener: TcpListener,
    slot: Slot,
    upstream: Upstream,
    hsts: Option<String>,
    limits: Arc<Limits>,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_ip = Arc::new(PerIp::default());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(listener = name, peer = %peer, "connection refused: max_connections reached");
            continue;
        };
        let Some(ip_guard) = per_ip.enter(peer.ip(), limits.per_ip) else {
            tracing::warn!(listener = name, peer = %peer, "connection refused: per-IP cap reached");
            continue;
        };
        let state = load(&slot);
        let upstream = upstream.clone();
        let hsts = hsts.clone();
        let limits = limits.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let _ip = ip_guard;
            serve_one(name, tcp, peer, state, upstream, hsts, limits, watcher).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
}

#[allow(clippy::too_many_arguments)]
async fn serve_one(
    name: &'static str,
    tcp: TcpStream,
    peer: SocketAddr,
    state: Arc<ListenerState>,
    upstream: Upstream,
    hsts: Option<String>,
    limits: Arc<Limits>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let _ = tcp.set_nodelay(true);
    use tracing::Instrument;
    // Read the ClientHello first, so every line about this connection (the verifier's refusal
    // with its requirement ID included) carries the peer address and the SNI.
    let deadline = tokio::time::Instant::now() + limits.handshake_timeout();
    let timeout = |what: &'static str| {
        metrics::counter!("medmij_gateway_handshakes_total", "listener" => name, "result" => "timeout", "version" => "-", "suite" => "-").increment(1);
        tracing::warn!(listener = name, peer = %peer, stage = what, "handshake timeout");
    };
    let lazy = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp);
    let start = match tokio::time::timeout_at(deadline, lazy).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            metrics::counter!("medmij_gateway_handshakes_total", "listener" => name, "result" => "not-a-client-hello", "version" => "-", "suite" => "-").increment(1);
            tracing::warn!(listener = name, peer = %peer, error = %e, "handshake refused: no valid ClientHello");
            return;
        }
        Err(_) => return timeout("ClientHello"),
    };
    let sni = start.client_hello().server_name().unwrap_or("-").to_owned();
    let span = tracing::warn_span!("conn", listener = name, peer = %peer, sni = %sni);
    let stream = match tokio::time::timeout_at(
        deadline,
        start
            .into_stream(state.tls.clone())
            .instrument(span.clone()),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            // The verifier's refusal went to the peer as its alert, and was logged in this
            // connection's span with its requirement; one summary line here.
            let class = refusal_class(&e);
            metrics::counter!("medmij_gateway_handshakes_total", "listener" => name, "result" => class.clone(), "version" => "-", "suite" => "-").increment(1);
            span.in_scope(|| tracing::warn!(reason = %class, error = %e, "handshake refused"));
            return;
        }
        Err(_) => return timeout("handshake"),
    };
    let (_, conn) = stream.get_ref();
    let (id, recheck) = (state.identity)(conn.peer_certificates());
    let id = Arc::new(id);
    let version = conn
        .protocol_version()
        .map(|v| medmij_core::wire::ProtocolVersion(u16::from(v)).to_string())
        .unwrap_or_else(|| "-".into());
    let suite = conn
        .negotiated_cipher_suite()
        .map(|c| medmij_core::wire::CipherSuite(u16::from(c.suite())).to_string())
        .unwrap_or_else(|| "-".into());
    let group = conn
        .negotiated_key_exchange_group()
        .map(|g| medmij_core::wire::NamedGroup(u16::from(g.name())).to_string())
        .unwrap_or_else(|| "-".into());
    metrics::counter!("medmij_gateway_handshakes_total", "listener" => name, "result" => "ok", "version" => version.clone(), "suite" => suite, "group" => group).increment(1);
    if let Some(h) = &id.host {
        metrics::counter!("medmij_gateway_peer_tls_version_total", "peer_host" => h.clone(), "version" => version).increment(1);
    }
    tracing::debug!(listener = name, peer = %peer, sni = %sni, version = ?conn.protocol_version(), "handshake");
    let svc = proxy::service(name, upstream, id, recheck, hsts, limits.clone());
    // The protocol is known from ALPN: serve it directly (no preface sniffing buffer per
    // connection, as the auto builder keeps).
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = hyper_util::rt::TokioIo::new(stream);
    let ended = if h2 {
        let mut b = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
        b.timer(hyper_util::rt::TokioTimer::new())
            .keep_alive_interval(Some(limits.idle_timeout()));
        watcher.watch(b.serve_connection(io, svc)).await
    } else {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_timeout())
            .max_buf_size(limits.max_header_bytes.max(8192));
        watcher.watch(b.serve_connection(io, svc)).await
    };
    if let Err(e) = ended {
        tracing::debug!(listener = name, peer = %peer, error = %e, "connection ended");
    }
}
