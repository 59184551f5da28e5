//! `medmij-tls verify`: would a MedMij node accept this certificate chain?

use super::ProfileArgs;
use crate::output::{esc, outln};
use anyhow::{bail, Context};
use medmij_core::input::{self, Kind};
use medmij_core::profile::FailMode;
use medmij_core::Environment;
use medmij_verify::anchors::{certificates_from_bytes_at_most, TrustStore};
use medmij_verify::builder::Channel;
use medmij_verify::http::HttpClient;
use medmij_verify::report::{Context as ReportContext, VerifyReport};
use medmij_verify::revocation::Depth;
use medmij_verify::verifier::MAX_CHAIN_CERTIFICATES;
use medmij_verify::verifier::{Peer, Verifier};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Output formats of `verify`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VerifyFormat {
    /// For people.
    Text,
    /// Machine-readable (schema `medmij-tls/verify/1`).
    Json,
}

/// Exit code when the certificate would be refused.
const EXIT_REFUSED: u8 = 1;

/// Which traffic a certificate is for.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoleArg {
    /// Node to node (PKIoverheid private, whitelist, no wildcards).
    Backchannel,
    /// Browser-facing (public CA).
    Frontchannel,
}

/// Which side presented the certificate.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeerArg {
    /// The server we connect to.
    Server,
    /// A client that connects to us.
    Client,
}

/// production, acceptance or test.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvironmentArg {
    /// Production.
    Production,
    /// Acceptance.
    Acceptance,
    /// Test.
    Test,
}

/// A revocation fail mode for both mechanisms.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailModeArg {
    /// Refuse when the status cannot be established.
    Hard,
    /// Accept (and log) when the status cannot be established.
    Soft,
    /// Do not check (danger).
    Off,
}

/// Which certificates are revocation-checked.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DepthArg {
    /// The leaf only.
    Leaf,
    /// Every certificate below the anchor.
    Chain,
}

impl RoleArg {
    fn label(self) -> &'static str {
        match self {
            RoleArg::Backchannel => "backchannel",
            RoleArg::Frontchannel => "frontchannel",
        }
    }
}

impl PeerArg {
    fn label(self) -> &'static str {
        match self {
            PeerArg::Server => "server",
            PeerArg::Client => "client",
        }
    }
}

impl From<EnvironmentArg> for Environment {
    fn from(e: EnvironmentArg) -> Environment {
        match e {
            EnvironmentArg::Production => Environment::Production,
            EnvironmentArg::Acceptance => Environment::Acceptance,
            EnvironmentArg::Test => Environment::Test,
        }
    }
}

impl From<FailModeArg> for FailMode {
    fn from(m: FailModeArg) -> FailMode {
        match m {
            FailModeArg::Hard => FailMode::Hard,
            FailModeArg::Soft => FailMode::Soft,
            FailModeArg::Off => FailMode::Off,
        }
    }
}

/// Arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Which traffic the certificate is for.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// Verify it as the server we connect to (`server`, default) or a client that connects to us.
    #[arg(long, value_enum, default_value = "server")]
    peer: PeerArg,
    #[command(flatten)]
    profile: ProfileArgs,
    /// production, acceptance or test.
    #[arg(long, value_enum, default_value = "production")]
    environment: EnvironmentArg,
    /// A trust anchor file (PEM or DER, may hold several); repeatable. Frontchannel default: the system CA bundle.
    #[arg(long = "trust-anchor", value_name = "PEM")]
    trust_anchors: Vec<PathBuf>,
    /// A CRL file (DER or PEM) to use besides the distribution points; repeatable.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,
    /// Revocation for both mechanisms: hard, soft or off (default: the profile's, CRL hard / OCSP soft).
    #[arg(long, value_enum)]
    revocation: Option<FailModeArg>,
    /// Check revocation of the leaf only, or of the whole chain.
    #[arg(long, value_enum, default_value = "chain")]
    depth: DepthArg,
    /// A stapled OCSP response (DER) to use as the server would send it.
    #[arg(long, value_name = "DER")]
    ocsp_response: Option<PathBuf>,
    /// Evaluate at this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// The MedMij whitelist (file or URL).
    #[arg(long, value_name = "FILE|URL")]
    whitelist: Option<String>,
    /// CA certificate(s) for an https:// whitelist URL instead of the Mozilla roots (PEM).
    #[arg(long, value_name = "PEM")]
    whitelist_ca: Option<PathBuf>,
    #[command(flatten)]
    state: super::whitelist::StateArgs,
    /// The hostname connected to (server peers): must match the certificate and the whitelist.
    #[arg(long)]
    hostname: Option<String>,
    /// Deadline for each CRL/OCSP fetch, in seconds.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Keep fetched CRLs here across runs.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: VerifyFormat,
    /// The chain: the leaf first, then intermediates (PEM).
    chain: PathBuf,
}

/// Runs the command.
pub(crate) fn run(a: Args) -> anyhow::Result<u8> {
    let profile = a.profile.load()?;
    let environment = Environment::from(a.environment);
    let now = super::instant(a.at.as_deref())?;
    let bytes = input::read(&a.chain, Kind::Chain)?;
    let chain = certificates_from_bytes_at_most(&bytes, MAX_CHAIN_CERTIFICATES)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.chain.display()))?;
    if chain.len() > MAX_CHAIN_CERTIFICATES {
        bail!(
            "{}: more than {MAX_CHAIN_CERTIFICATES} certificates; a peer's chain is its certificate and a few CAs",
            a.chain.display()
        );
    }
    let mut anchor_files = a.trust_anchors.clone();
    if anchor_files.is_empty() && a.role == RoleArg::Frontchannel {
        let system = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
        if system.exists() {
            anchor_files.push(system);
        }
    }
    if anchor_files.is_empty() {
        bail!("--trust-anchor: no trust anchors given; install the PKIoverheid roots (`medmij-tls anchors fetch --dir DIR`) and pass them, or a test PKI root");
    }
    let mut crl_files = Vec::new();
    for f in &a.crls {
        let raw = input::read(f, Kind::Crl).context("--crl")?;
        // A file that is neither DER nor PEM is passed on as it is: the engine reports it as an
        // unusable source beside the others, instead of the whole check stopping here.
        crl_files.push((f.display().to_string(), pem_or_der(&raw).unwrap_or(raw)));
    }
    if !(a.timeout > 0.0 && a.timeout <= 300.0) {
        bail!(
            "--timeout {}: expected seconds between 0 and 300",
            a.timeout
        );
    }
    let http = HttpClient::new(
        Duration::from_secs_f64(a.timeout),
        medmij_verify::http::DEFAULT_MAX_BYTES,
        None,
    );
    if a.whitelist.is_some() && a.peer == PeerArg::Server && a.hostname.is_none() {
        bail!("--whitelist: a server peer is checked against the whitelist by the hostname connected to; give --hostname (or --peer client to check the certificate's SAN dNSNames)");
    }
    // Loaded here, not by the builder, so that a bad file is named by its flag.
    let anchors =
        TrustStore::load(&profile, environment, &anchor_files).context("--trust-anchor")?;
    let mut builder = Verifier::builder(&profile, environment)
        .channel(match a.role {
            RoleArg::Backchannel => Channel::Backchannel,
            RoleArg::Frontchannel => Channel::Frontchannel,
        })
        .trust_anchors(anchors)
        .http(http.clone())
        .crl_files(crl_files)
        .depth(match a.depth {
            DepthArg::Leaf => Depth::Leaf,
            DepthArg::Chain => Depth::Chain,
        });
    if let Some(dir) = &a.cache_dir {
        builder = builder.crl_cache_dir(dir.clone());
    }
    builder = match a.revocation {
        None => builder,
        Some(FailModeArg::Hard) => builder.strict_revocation(),
        // The operator asked for less than the profile: their call, named as such.
        Some(m) => builder.dangerous().revocation(FailMode::from(m)).finish(),
    };
    if let Some(w) = &a.whitelist {
        let http = match &a.whitelist_ca {
            Some(ca) => super::whitelist::client_with_roots(ca, a.timeout)?,
            None => http,
        };
        let store = a.state.store(w, http);
        super::whitelist::load_for_use(&store, "--whitelist")?;
        builder = builder.whitelist(Arc::new(store));
    }
    let verifier = builder.build()?;
    let stapled = match &a.ocsp_response {
        Some(p) => Some(input::read(p, Kind::OcspResponse).context("--ocsp-response")?),
        None => None,
    };
    let peer = match a.peer {
        PeerArg::Client => Peer::Client,
        PeerArg::Server => Peer::Server {
            hostname: a.hostname.clone(),
        },
    };
    let inter: Vec<&[u8]> = chain[1..].iter().map(Vec::as_slice).collect();
    let verdict = verifier.verify(&chain[0], &inter, &peer, stapled.as_deref(), now);

    let at = medmij_verify::der_time::rfc3339(now);
    match a.format {
        VerifyFormat::Json => {
            let out = VerifyReport::new(
                &verdict,
                ReportContext {
                    role: a.role.label(),
                    peer: a.peer.label(),
                    profile: profile.id.clone(),
                    environment: environment.label(),
                    at: at.clone(),
                    hostname: a.hostname.clone(),
                },
            );
            outln!("{}", serde_json::to_string_pretty(&out)?);
        }
        VerifyFormat::Text => {
            let head = if verdict.accepted {
                "ACCEPTED"
            } else {
                "REFUSED"
            };
            outln!(
                "{head}  {} ({} {}, profile {}, environment {}, at {at})",
                esc(&a.chain.display().to_string()),
                a.role.label(),
                a.peer.label(),
                esc(&profile.id),
                environment.label()
            );
            for r in &verdict.reasons {
                outln!(
                    "  {} {} (alert {}): {}",
                    r.requirement,
                    r.code.label(),
                    r.alert().name(),
                    esc(&r.message)
                );
            }
            for w in &verdict.warnings {
                outln!(
                    "  warning: {} {}: {}",
                    w.requirement,
                    w.check,
                    esc(&w.message)
                );
            }
            if !verdict.revocation.is_empty() {
                outln!("revocation:");
                for e in &verdict.revocation {
                    outln!(
                        "  {}: {} -> {} ({})",
                        esc(&e.certificate),
                        esc(&e.source.to_string()),
                        e.outcome,
                        esc(&e.detail)
                    );
                }
            }
            outln!("chain:");
            for c in &verdict.chain {
                outln!(
                    "  {:<12} {} (serial {}, {} .. {})",
                    c.role,
                    esc(&c.subject),
                    c.serial,
                    c.not_before,
                    c.not_after
                );
            }
        }
    }
    Ok(if verdict.accepted { 0 } else { EXIT_REFUSED })
}

/// The CRL in PEM (`X509 CRL`) or DER.
pub(crate) fn pem_or_der(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    if raw.first() == Some(&0x30) {
        return Ok(raw.to_vec());
    }
    let crl = rustls_pki_types::CertificateRevocationListDer::from_pem_slice(raw)
        .map_err(|e| anyhow::anyhow!("neither DER nor a PEM X509 CRL: {e}"))?;
    Ok(crl.as_ref().to_vec())
}
