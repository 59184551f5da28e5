//! The gateway's configuration: TOML, validated at start and by `gateway check-config`. Every
//! problem is reported as `FILE:line:column: key: why`, the first one found, and everything the
//! real start would trip over (a key that does not match its certificate, a missing
//! intermediate, an unknown profile, an unreadable file) is found here, before a listener opens.

use medmij_core::profile::FailMode;
use medmij_core::{Environment, Profile};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Where and why the configuration is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {key}: {why}")]
pub struct ConfigError {
    /// The configuration file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The dotted key.
    pub key: String,
    /// Why.
    pub why: String,
}

/// Limits on clients (defaults documented with where the number comes from).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Connections open at once per listener. 10,000: the bench's idle-connection figure, far
    /// above a node's peer count (the whitelist lists a few hundred nodes).
    #[serde(default = "Limits::default_max_connections")]
    pub max_connections: usize,
    /// Connections open at once from one IP address. 256: a peer node pools a few dozen; a
    /// single source holding more is a client gone wrong or an attack.
    #[serde(default = "Limits::default_per_ip")]
    pub per_ip: usize,
    /// Seconds for the TLS handshake. 10 s: a handshake is a few round trips; a client that
    /// stalls mid-handshake is cut off well before it could pile up connections.
    #[serde(default = "Limits::default_handshake_timeout")]
    pub handshake_timeout_secs: u64,
    /// Seconds a keep-alive connection may idle. 60 s: nginx's keepalive_timeout default is 75.
    #[serde(default = "Limits::default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Seconds for the request head. 10 s: slowloris protection (hyper's header read timeout).
    #[serde(default = "Limits::default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Bytes of request headers. 64 KiB: hyper's default buffer is 400 KiB; nginx allows 4 × 8 KiB.
    #[serde(default = "Limits::default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Bytes of a request body. 32 MiB: MedMij FHIR exchanges carry documents (PDF) of a few MB.
    #[serde(default = "Limits::default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// Seconds to wait for the upstream's answer before a 504. 60 s.
    #[serde(default = "Limits::default_upstream_timeout")]
    pub upstream_timeout_secs: u64,
}

impl Limits {
    fn default_max_connections() -> usize {
        10_000
    }
    fn default_per_ip() -> usize {
        256
    }
    fn default_handshake_timeout() -> u64 {
        10
    }
    fn default_idle_timeout() -> u64 {
        60
    }
    fn default_header_timeout() -> u64 {
        10
    }
    fn default_max_header_bytes() -> usize {
        64 * 1024
    }
    fn default_max_body_bytes() -> u64 {
        32 * 1024 * 1024
    }
    fn default_upstream_timeout() -> u64 {
        60
    }

    /// The handshake deadline.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_secs)
    }
    /// The idle deadline.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
    /// The header deadline.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }
    /// The upstream deadline.
    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_timeout_secs)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: Self::default_max_connections(),
            per_ip: Self::default_per_ip(),
            handshake_timeout_secs: Self::default_handshake_timeout(),
            idle_timeout_secs: Self::default_idle_timeout(),
            header_timeout_secs: Self::default_header_timeout(),
            max_header_bytes: Self::default_max_header_bytes(),
            max_body_bytes: Self::default_max_body_bytes(),
            upstream_timeout_secs: Self::default_upstream_timeout(),
        }
    }
}

/// `[frontchannel]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontSection {
    /// TLS listen address.
    pub listen: Spanned<String>,
    /// Plain-HTTP listener that only redirects to https (core.tls.300).
    pub redirect_listen: Option<Spanned<String>>,
    /// Leaf + intermediates (PEM).
    pub cert: Spanned<String>,
    /// Private key (PEM).
    pub key: Spanned<String>,
    /// `http://127.0.0.1:PORT` of the application.
    pub upstream: Spanned<String>,
    /// The Strict-Transport-Security value added to every answer.
    #[serde(default = "default_hsts")]
    pub hsts: String,
    /// Offer TLS 1.2 besides 1.3 (default: only when the profile requires it of servers;
    /// medmij-2025 allows it, core.tls.305, so it is off unless set).
    pub tls12: Option<bool>,
}

fn default_hsts() -> String {
    "max-age=31536000".into()
}

/// `[backchannel]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackSection {
    /// TLS listen address.
    pub listen: Spanned<String>,
    /// Leaf + intermediates (PEM).
    pub cert: Spanned<String>,
    /// Private key (PEM).
    pub key: Spanned<String>,
    /// Trust anchors (default: the profile's pinned roots, from `state_dir/anchors`).
    #[serde(default)]
    pub trust_anchors: Vec<Spanned<String>>,
    /// `http://127.0.0.1:PORT` of the application.
    pub upstream: Spanned<String>,
}

/// `[outbound]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutSection {
    /// Plain-HTTP listen address: loopback only.
    pub listen: Spanned<String>,
    /// The node's chain (PEM) presented to peers.
    pub cert: Spanned<String>,
    /// Its key.
    pub key: Spanned<String>,
    /// Trust anchors for peer servers (default: the profile's pinned roots).
    #[serde(default)]
    pub trust_anchors: Vec<Spanned<String>>,
    /// Fixed addresses, like curl --resolve: `"host:port" = "ip:port"`.
    #[serde(default)]
    pub resolve: std::collections::BTreeMap<String, Spanned<String>>,
}

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// `/metrics`, `/healthz`, `/readyz` (plain HTTP; keep it on loopback or a management net).
    pub listen: Spanned<String>,
}

/// `[whitelist]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhitelistSection {
    /// File path or https URL.
    pub source: Spanned<String>,
    /// Refresh interval (`15m`, `1h`, `30s`).
    #[serde(default = "default_refresh")]
    pub refresh: Spanned<String>,
}

fn default_refresh() -> Spanned<String> {
    Spanned::new(0..0, "15m".into())
}

/// `[revocation]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RevocationSection {
    /// CRL fail mode (default: the profile's).
    pub crl: Option<Spanned<String>>,
    /// OCSP fail mode (default: the profile's).
    pub ocsp: Option<Spanned<String>>,
    /// CRL files (PEM or DER).
    #[serde(default)]
    pub crl_files: Vec<Spanned<String>>,
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    profile: Option<Spanned<String>>,
    profile_file: Option<Spanned<String>>,
    #[serde(default = "default_env")]
    environment: Spanned<String>,
    #[serde(default)]
    strict: bool,
    workers: Option<Spanned<usize>>,
    state_dir: Option<Spanned<String>>,
    frontchannel: Option<FrontSection>,
    backchannel: Option<BackSection>,
    outbound: Option<OutSection>,
    whitelist: Option<WhitelistSection>,
    metrics: Option<MetricsSection>,
    #[serde(default)]
    revocation: RevocationSection,
    #[serde(default)]
    limits: Limits,
}

fn default_env() -> Spanned<String> {
    Spanned::new(0..0, "production".into())
}

/// A listener's material, resolved.
#[derive(Debug, Clone)]
pub struct Tls {
    /// Chain file.
    pub cert: PathBuf,
    /// Key file.
    pub key: PathBuf,
}

/// The frontchannel listener, resolved.
#[derive(Debug, Clone)]
pub struct Front {
    /// Listen address.
    pub listen: SocketAddr,
    /// Redirect listener.
    pub redirect_listen: Option<SocketAddr>,
    /// Certificate and key.
    pub tls: Tls,
    /// Upstream authority (`127.0.0.1:8080`).
    pub upstream: String,
    /// HSTS value.
    pub hsts: String,
    /// Offer TLS 1.2.
    pub tls12: bool,
}

/// The backchannel listener, resolved.
#[derive(Debug, Clone)]
pub struct Back {
    /// Listen address.
    pub listen: SocketAddr,
    /// Certificate and key.
    pub tls: Tls,
    /// Anchor files.
    pub trust_anchors: Vec<PathBuf>,
    /// Upstream authority.
    pub upstream: String,
}

/// The outbound proxy, resolved.
#[derive(Debug, Clone)]
pub struct Out {
    /// Loopback listen address.
    pub listen: SocketAddr,
    /// Certificate and key.
    pub tls: Tls,
    /// Anchor files.
    pub trust_anchors: Vec<PathBuf>,
    /// Fixed addresses: `host:port` → address.
    pub resolve: std::collections::HashMap<String, SocketAddr>,
}

/// The whitelist, resolved.
#[derive(Debug, Clone)]
pub struct Whitelist {
    /// File path or URL.
    pub source: String,
    /// Refresh interval.
    pub refresh: Duration,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub file: PathBuf,
    /// The profile.
    pub profile: Profile,
    /// The environment.
    pub environment: Environment,
    /// Good-only parameters.
    pub strict: bool,
    /// Runtime worker threads (`None`: tokio's `TOKIO_WORKER_THREADS` or the core count).
    pub workers: Option<usize>,
    /// State directory.
    pub state_dir: PathBuf,
    /// Frontchannel listener.
    pub frontchannel: Option<Front>,
    /// Backchannel listener.
    pub backchannel: Option<Back>,
    /// Outbound proxy.
    pub outbound: Option<Out>,
    /// Metrics listener.
    pub metrics: Option<SocketAddr>,
    /// Whitelist.
    pub whitelist: Option<Whitelist>,
    /// CRL fail mode.
    pub crl: FailMode,
    /// OCSP fail mode.
    pub ocsp: FailMode,
    /// CRL files.
    pub crl_files: Vec<PathBuf>,
    /// Limits.
    pub limits: Limits,
}

/// 1-based (line, column) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(at, |i| at - i - 1) + 1;
    (line, col)
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    dir: &'a Path,
}

impl Ctx<'_> {
    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        why: impl Into<String>,
    ) -> Result<T, ConfigError> {
        let (line, column) = line_col(self.text, span.start);
        Err(ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            key: key.to_owned(),
            why: why.into(),
        })
    }

    fn path(&self, v: &Spanned<String>) -> PathBuf {
        let p = Path::new(v.get_ref());
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    fn readable(&self, v: &Spanned<String>, key: &str) -> Result<PathBuf, ConfigError> {
        let p = self.path(v);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() => Ok(p),
            Ok(_) => self.err(
                v.span(),
                key,
                format!("{} is not a regular file", p.display()),
            ),
            Err(e) => self.err(v.span(), key, format!("{}: {e}", p.display())),
        }
    }

    fn addr(&self, v: &Spanned<String>, key: &str) -> Result<SocketAddr, ConfigError> {
        v.get_ref()
            .parse()
            .or_else(|_| self.err(v.span(), key, format!("{:?} is not IP:PORT", v.get_ref())))
    }

    fn upstream(&self, v: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let u = v.get_ref();
        let Some(rest) = u.strip_prefix("http://") else {
            return self.err(
                v.span(),
                key,
                "the upstream is plain HTTP on this host: http://127.0.0.1:PORT",
            );
        };
        let authority = rest.trim_end_matches('/');
        match authority.parse::<SocketAddr>() {
            Ok(a) if a.ip().is_loopback() => Ok(authority.to_owned()),
            Ok(_) => self.err(
                v.span(),
                key,
                "plain HTTP only to a loopback upstream (core.tls.300)",
            ),
            Err(_) => self.err(v.span(), key, format!("{authority:?} is not IP:PORT")),
        }
    }

    fn fail_mode(
        &self,
        v: &Option<Spanned<String>>,
        key: &str,
        default: FailMode,
    ) -> Result<FailMode, ConfigError> {
        match v {
            None => Ok(default),
            Some(s) => match s.get_ref().as_str() {
                "hard" => Ok(FailMode::Hard),
                "soft" => Ok(FailMode::Soft),
                "off" => Ok(FailMode::Off),
                other => self.err(
                    s.span(),
                    key,
                    format!("{other:?}: expected hard, soft or off"),
                ),
            },
        }
    }
}

/// `15m`, `1h`, `30s`, `2d` as a duration.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// The default state directory: `$XDG_STATE_HOME/medmij-tls`, else `~/.local/state/medmij-tls`.
pub fn default_state_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("medmij-tls");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/state/medmij-tls")
}

impl Config {
    /// Reads and validates `path` (syntax, values, files; the TLS material is checked by
    /// [`crate::material::load`]).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 1,
            column: 1,
            key: "(file)".into(),
            why: e.to_string(),
        })?;
        Config::from_str(&text, path)
    }

    /// Validates `text` as if read from `path` (relative paths are relative to its folder).
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let cx = Ctx {
            file: &file,
            text,
            dir,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let (line, column) = line_col(text, span.start);
            ConfigError {
                file: file.clone(),
                line,
                column,
                key: "(syntax)".into(),
                why: e.message().to_owned(),
            }
        })?;
        let profile = match (&raw.profile, &raw.profile_file) {
            (Some(_), Some(f)) => {
                return cx.err(
                    f.span(),
                    "profile_file",
                    "give profile or profile_file, not both",
                )
            }
            (_, Some(f)) => {
                let p = cx.readable(f, "profile_file")?;
                Profile::from_file(&p)
                    .or_else(|e| cx.err(f.span(), "profile_file", e.to_string()))?
            }
            (Some(p), None) => Profile::builtin(p.get_ref())
                .or_else(|e| cx.err(p.span(), "profile", e.to_string()))?,
            (None, None) => Profile::default_profile(),
        };
        let environment = Environment::parse(raw.environment.get_ref()).map_or_else(
            || {
                cx.err(
                    raw.environment.span(),
                    "environment",
                    "expected production, acceptance or test",
                )
            },
            Ok,
        )?;
        let workers = match &raw.workers {
            Some(w) if *w.get_ref() == 0 || *w.get_ref() > 1024 => {
                return cx.err(w.span(), "workers", "expected 1 to 1024")
            }
            w => w.as_ref().map(|w| *w.get_ref()),
        };
        let frontchannel = match &raw.frontchannel {
            None => None,
            Some(f) => Some(Front {
                listen: cx.addr(&f.listen, "frontchannel.listen")?,
                redirect_listen: match &f.redirect_listen {
                    Some(r) => Some(cx.addr(r, "frontchannel.redirect_listen")?),
                    None => None,
                },
                tls: Tls {
                    cert: cx.readable(&f.cert, "frontchannel.cert")?,
                    key: cx.readable(&f.key, "frontchannel.key")?,
                },
                upstream: cx.upstream(&f.upstream, "frontchannel.upstream")?,
                hsts: f.hsts.clone(),
                tls12: f.tls12.unwrap_or(false),
            }),
        };
        let backchannel = match &raw.backchannel {
            None => None,
            Some(b) => Some(Back {
                listen: cx.addr(&b.listen, "backchannel.listen")?,
                tls: Tls {
                    cert: cx.readable(&b.cert, "backchannel.cert")?,
                    key: cx.readable(&b.key, "backchannel.key")?,
                },
                trust_anchors: b
                    .trust_anchors
                    .iter()
                    .map(|a| cx.readable(a, "backchannel.trust_anchors"))
                    .collect::<Result<_, _>>()?,
                upstream: cx.upstream(&b.upstream, "backchannel.upstream")?,
            }),
        };
        let outbound = match &raw.outbound {
            None => None,
            Some(o) => {
                let listen = cx.addr(&o.listen, "outbound.listen")?;
                if !listen.ip().is_loopback() {
                    return cx.err(
                        o.listen.span(),
                        "outbound.listen",
                        "the outbound proxy takes plain HTTP: loopback addresses only",
                    );
                }
                let mut resolve = std::collections::HashMap::new();
                for (k, v) in &o.resolve {
                    let a = cx.addr(v, &format!("outbound.resolve.{k:?}"))?;
                    resolve.insert(k.to_ascii_lowercase(), a);
                }
                Some(Out {
                    listen,
                    tls: Tls {
                        cert: cx.readable(&o.cert, "outbound.cert")?,
                        key: cx.readable(&o.key, "outbound.key")?,
                    },
                    trust_anchors: o
                        .trust_anchors
                        .iter()
                        .map(|a| cx.readable(a, "outbound.trust_anchors"))
                        .collect::<Result<_, _>>()?,
                    resolve,
                })
            }
        };
        if frontchannel.is_none() && backchannel.is_none() && outbound.is_none() {
            return cx.err(
                0..0,
                "(file)",
                "no listener: add a [frontchannel], [backchannel] or [outbound] section",
            );
        }
        let whitelist = match &raw.whitelist {
            None => None,
            Some(w) => {
                let refresh = parse_duration(w.refresh.get_ref()).map_or_else(
                    || {
                        cx.err(
                            w.refresh.span(),
                            "whitelist.refresh",
                            "expected a duration like 15m, 1h, 30s",
                        )
                    },
                    Ok,
                )?;
                let source = if w.source.get_ref().starts_with("https://") {
                    w.source.get_ref().clone()
                } else if w.source.get_ref().starts_with("http://") {
                    return cx.err(
                        w.source.span(),
                        "whitelist.source",
                        "the whitelist is fetched over https only",
                    );
                } else {
                    cx.readable(&w.source, "whitelist.source")?
                        .display()
                        .to_string()
                };
                Some(Whitelist { source, refresh })
            }
        };
        if (backchannel.is_some() || outbound.is_some()) && whitelist.is_none() {
            return cx.err(
                0..0,
                "whitelist",
                "backchannel traffic needs a [whitelist] (the primary access check)",
            );
        }
        let crl = cx.fail_mode(
            &raw.revocation.crl,
            "revocation.crl",
            profile.revocation.crl,
        )?;
        let ocsp = cx.fail_mode(
            &raw.revocation.ocsp,
            "revocation.ocsp",
            profile.revocation.ocsp,
        )?;
        let crl_files = raw
            .revocation
            .crl_files
            .iter()
            .map(|c| cx.readable(c, "revocation.crl_files"))
            .collect::<Result<_, _>>()?;
        let state_dir = raw
            .state_dir
            .as_ref()
            .map(|s| cx.path(s))
            .unwrap_or_else(default_state_dir);
        let l = &raw.limits;
        if l.max_connections == 0
            || l.per_ip == 0
            || l.handshake_timeout_secs == 0
            || l.idle_timeout_secs == 0
            || l.header_timeout_secs == 0
        {
            return cx.err(0..0, "limits", "limits must be positive");
        }
        Ok(Config {
            file: path.to_path_buf(),
            profile,
            environment,
            strict: raw.strict,
            workers,
            state_dir,
            frontchannel,
            backchannel,
            outbound,
            metrics: match &raw.metrics {
                Some(m) => Some(cx.addr(&m.listen, "metrics.listen")?),
                None => None,
            },
            whitelist,
            crl,
            ocsp,
            crl_files,
            limits: raw.limits,
        })
    }
}
