//! `medmij-tls verify`: would a MedMij node accept this certificate chain?

use super::ProfileArgs;
use crate::output::{esc, outln};
use anyhow::{bail, Context};
use medmij_core::profile::FailMode;
use medmij_core::Environment;
use medmij_verify::anchors::{certificates_from_bytes, TrustStore};
use medmij_verify::http::HttpClient;
use medmij_verify::revocation::{Depth, Engine, Policy};
use medmij_verify::verifier::{Peer, Verifier};
use medmij_verify::whitelist::{Source, Store};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Output formats of `verify`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyFormat {
    /// For people.
    Text,
    /// Machine-readable (schema `medmij-tls/verify/1`).
    Json,
}

/// Exit code when the certificate would be refused.
const EXIT_REFUSED: u8 = 1;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which traffic the certificate is for.
    #[arg(long, value_parser = ["backchannel", "frontchannel"])]
    role: String,
    /// Verify it as the server we connect to (`server`, default) or a client that connects to us.
    #[arg(long, value_parser = ["server", "client"], default_value = "server")]
    peer: String,
    #[command(flatten)]
    profile: ProfileArgs,
    /// production, acceptance or test.
    #[arg(long, default_value = "production", value_parser = ["production", "acceptance", "test"])]
    environment: String,
    /// A trust anchor file (PEM or DER, may hold several); repeatable. Frontchannel default: the system CA bundle.
    #[arg(long = "trust-anchor", value_name = "PEM")]
    trust_anchors: Vec<PathBuf>,
    /// A CRL file (DER or PEM) to use besides the distribution points; repeatable.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,
    /// Revocation for both mechanisms: hard, soft or off (default: the profile's, CRL hard / OCSP soft).
    #[arg(long, value_parser = ["hard", "soft", "off"])]
    revocation: Option<String>,
    /// Check revocation of the leaf only, or of the whole chain.
    #[arg(long, default_value = "chain", value_parser = ["leaf", "chain"])]
    depth: String,
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

fn fail_mode(s: &str) -> FailMode {
    match s {
        "hard" => FailMode::Hard,
        "soft" => FailMode::Soft,
        _ => FailMode::Off,
    }
}

/// Runs the command.
pub fn run(a: Args) -> anyhow::Result<u8> {
    let profile = a.profile.load()?;
    let environment = Environment::parse(&a.environment).context("--environment")?;
    let now = match &a.at {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .with_context(|| format!("--at `{t}`: expected RFC 3339, e.g. 2026-06-01T12:00:00Z"))?
            .unix_timestamp(),
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let bytes = std::fs::read(&a.chain).with_context(|| format!("{}", a.chain.display()))?;
    let chain = certificates_from_bytes(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.chain.display()))?;
    let mut anchor_files = a.trust_anchors.clone();
    if anchor_files.is_empty() && a.role == "frontchannel" {
        let system = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
        if system.exists() {
            anchor_files.push(system);
        }
    }
    if anchor_files.is_empty() {
        bail!("--trust-anchor: no trust anchors given; install the PKIoverheid roots (`medmij-tls anchors fetch --dir DIR`) and pass them, or a test PKI root");
    }
    let anchors =
        TrustStore::load(&profile, environment, &anchor_files).context("--trust-anchor")?;
    let mut crl_files = Vec::new();
    for f in &a.crls {
        let raw = std::fs::read(f).with_context(|| format!("--crl {}", f.display()))?;
        let der = pem_or_der(&raw).with_context(|| format!("--crl {}", f.display()))?;
        crl_files.push((f.display().to_string(), der));
    }
    let (crl, ocsp) = match &a.revocation {
        Some(m) => (fail_mode(m), fail_mode(m)),
        None => (profile.revocation.crl, profile.revocation.ocsp),
    };
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
    let policy = Policy {
        crl,
        ocsp,
        depth: if a.depth == "leaf" {
            Depth::Leaf
        } else {
            Depth::Chain
        },
        crl_grace: i64::try_from(profile.revocation.crl_grace_seconds).unwrap_or(i64::MAX),
        cache_dir: a.cache_dir.clone(),
        ..Policy::default()
    };
    let engine = Arc::new(Engine::new(policy, http.clone(), crl_files));
    if a.whitelist.is_some() && a.peer == "server" && a.hostname.is_none() {
        bail!("--whitelist: a server peer is checked against the whitelist by the hostname connected to; give --hostname (or --peer client to check the certificate's SAN dNSNames)");
    }
    let mut verifier = Verifier::new(anchors, engine);
    if a.role == "backchannel" {
        verifier = verifier.forbid_wildcards();
    }
    if profile.backchannel.enforce_intermediates && a.role == "backchannel" {
        verifier = verifier.with_intermediate_allowlist(profile.backchannel.intermediates.clone());
    }
    if let Some(w) = &a.whitelist {
        let http = match &a.whitelist_ca {
            Some(ca) => super::whitelist::client_with_roots(ca, a.timeout)?,
            None => http,
        };
        let store = Store::new(Source::parse(w), http, None, false);
        if let (_, Some(e)) = store.load() {
            return Err(anyhow::anyhow!("--whitelist: {e}"));
        }
        verifier = verifier.with_whitelist_store(Arc::new(store));
    }
    let stapled = match &a.ocsp_response {
        Some(p) => {
            Some(std::fs::read(p).with_context(|| format!("--ocsp-response {}", p.display()))?)
        }
        None => None,
    };
    let peer = match a.peer.as_str() {
        "client" => Peer::Client,
        _ => Peer::Server {
            hostname: a.hostname.clone(),
        },
    };
    let inter: Vec<&[u8]> = chain[1..].iter().map(Vec::as_slice).collect();
    let verdict = verifier.verify(&chain[0], &inter, &peer, stapled.as_deref(), now);

    let at = medmij_verify::der_time::rfc3339(now);
    match a.format {
        VerifyFormat::Json => {
            let reasons: Vec<_> = verdict.reasons.iter().map(|r| json!({ "requirement": r.requirement, "code": r.code, "message": r.message, "alert": r.alert().name() })).collect();
            let out = json!({
                "schema": "medmij-tls/verify/1",
                "accepted": verdict.accepted,
                "reasons": reasons,
                "warnings": verdict.warnings,
                "revocation": verdict.revocation,
                "chain": verdict.chain,
                "context": { "role": a.role, "peer": a.peer, "profile": profile.id, "environment": environment.label(), "at": at, "hostname": a.hostname },
            });
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
                a.role,
                a.peer,
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
                outln!("  warning: {}", esc(w));
            }
            if !verdict.revocation.is_empty() {
                outln!("revocation:");
                for e in &verdict.revocation {
                    outln!(
                        "  {}: {} -> {} ({})",
                        esc(&e.certificate),
                        esc(&e.source),
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
fn pem_or_der(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    if raw.first() == Some(&0x30) {
        return Ok(raw.to_vec());
    }
    let crl = rustls_pki_types::CertificateRevocationListDer::from_pem_slice(raw)
        .map_err(|e| anyhow::anyhow!("neither DER nor a PEM X509 CRL: {e}"))?;
    Ok(crl.as_ref().to_vec())
}
