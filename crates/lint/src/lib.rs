//! The MedMij certificate linter: the registry's lint checks ([`medmij_core::checks`], stage
//! `lint`) over a certificate, a chain file or a CSR, for a role, profile and environment, with
//! DNS checks (CAA, DNSSEC) on request.
//!
//! Facts ([`facts`], [`dns`]), judgment ([`judge`], no I/O) and presentation ([`report`],
//! [`html`]) are apart. The chain rules that also run on the handshake path come from the
//! verifier's verdict, never from a second copy.

pub mod ca_orgs;
pub mod dns;
pub mod docs;
pub mod facts;
pub mod html;
pub mod input;
pub mod judge;
pub mod report;

pub use judge::{Context, Role};
pub use report::{FileReport, LintReport};

use facts::{CertFacts, CsrFacts};
use medmij_core::input::{self as bounded, Kind};
use medmij_core::profile::FailMode;
use medmij_core::{Environment, Profile};
use medmij_verify::anchors::TrustStore;
use medmij_verify::http::HttpClient;
use medmij_verify::{Channel, Peer, Verifier};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The system's public root store (Debian `ca-certificates`, Mozilla's list): the frontchannel
/// default, as for `verify`.
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What to lint against.
#[derive(Clone, Debug)]
pub struct Options {
    /// The role.
    pub role: Role,
    /// The profile.
    pub profile: Profile,
    /// The environment.
    pub environment: Environment,
    /// The instant judged (Unix seconds).
    pub at: i64,
    /// Trust anchor files replacing the defaults (backchannel: none, so chain checks are
    /// `not-tested`; frontchannel: [`SYSTEM_ROOTS`]).
    pub trust_anchors: Vec<PathBuf>,
    /// CRL files (name, DER) besides the distribution points.
    pub crl_files: Vec<(String, Vec<u8>)>,
    /// Revocation checking (`None`: not checked).
    pub revocation: Option<FailMode>,
    /// Deadline of each CRL/OCSP fetch.
    pub fetch_timeout: Duration,
    /// DNS checks (`None`: not asked).
    pub dns: Option<dns::DnsConfig>,
    /// The issuing CA's CAA identifiers, besides the known list.
    pub caa_identifiers: Vec<String>,
}

/// Why a linter could not be set up (exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// Trust anchors.
    #[error("trust anchors: {0}")]
    Anchors(#[from] medmij_verify::anchors::AnchorError),
    /// The verifier.
    #[error("verifier: {0}")]
    Verifier(#[from] medmij_verify::BuildError),
    /// DNS.
    #[error("{0}")]
    Dns(#[from] dns::DnsSetupError),
    /// The async runtime for DNS.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// A linter, set up once for many files.
pub struct Linter {
    opts: Options,
    verifier: Option<Verifier>,
    anchor_subjects: Vec<Vec<u8>>,
    dns: Option<(dns::Dns, tokio::runtime::Runtime)>,
}

impl Linter {
    /// Loads the anchors, builds the verifier and, with DNS, the validating resolver.
    pub fn new(opts: Options) -> Result<Linter, SetupError> {
        let mut anchors = opts.trust_anchors.clone();
        if anchors.is_empty() && opts.role == Role::Frontchannel && Path::new(SYSTEM_ROOTS).exists()
        {
            anchors.push(PathBuf::from(SYSTEM_ROOTS));
        }
        let verifier = if anchors.is_empty() {
            None
        } else {
            let store = TrustStore::load(&opts.profile, opts.environment, &anchors)?;
            let http = HttpClient::new(
                opts.fetch_timeout,
                medmij_verify::http::DEFAULT_MAX_BYTES,
                None,
            );
            let mut b = Verifier::builder(&opts.profile, opts.environment)
                .channel(match opts.role {
                    Role::Backchannel => Channel::Backchannel,
                    Role::Frontchannel => Channel::Frontchannel,
                })
                .trust_anchors(store)
                .http(http)
                .crl_files(opts.crl_files.clone());
            b = match opts.revocation {
                None => b.dangerous().revocation(FailMode::Off).finish(),
                Some(FailMode::Hard) => b.strict_revocation(),
                Some(m) => b.dangerous().revocation(m).finish(),
            };
            Some(b.build()?)
        };
        let dns = match &opts.dns {
            None => None,
            Some(cfg) => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(SetupError::Runtime)?;
                let d = {
                    let _g = rt.enter();
                    dns::Dns::new(cfg)?
                };
                Some((d, rt))
            }
        };
        let anchor_subjects = verifier
            .as_ref()
            .map(|v| {
                v.anchors()
                    .anchors()
                    .iter()
                    .filter_map(|a| {
                        facts::parse(&a.der)
                            .ok()
                            .map(|c| c.subject().as_raw().to_vec())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Linter {
            opts,
            verifier,
            anchor_subjects,
            dns,
        })
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    fn context(&self) -> Context<'_> {
        Context {
            profile: &self.opts.profile,
            environment: self.opts.environment,
            role: self.opts.role,
            now: self.opts.at,
            revocation_checked: self.opts.revocation.is_some() && self.verifier.is_some(),
            caa_identifiers: &self.opts.caa_identifiers,
            anchor_subjects: &self.anchor_subjects,
        }
    }

    /// Lints a file (bounded read: a device, FIFO, directory or oversized file is an error in
    /// the report, not a hang).
    pub fn lint_file(&self, path: &Path) -> FileReport {
        match bounded::read(path, Kind::Chain) {
            Ok(bytes) => self.lint_bytes(&path.display().to_string(), &bytes),
            Err(e) => unreadable(&path.display().to_string(), e.to_string()),
        }
    }

    /// Lints bytes (PEM or DER) named `label`.
    pub fn lint_bytes(&self, label: &str, bytes: &[u8]) -> FileReport {
        let subject = match input::parse(bytes) {
            Ok(s) => s,
            Err(e) => return unreadable(label, e.to_string()),
        };
        let ctx = self.context();
        match subject {
            input::Subject::Chain(ders) => {
                // Each certificate parsed once: for the facts and for the verifier.
                let mut parsed = Vec::with_capacity(ders.len());
                for (i, d) in ders.iter().enumerate() {
                    match facts::parse(d) {
                        Ok(c) => parsed.push(c),
                        Err(e) => {
                            return unreadable(
                                label,
                                format!("certificate {} does not parse: {e}", i + 1),
                            )
                        }
                    }
                }
                let certs: Vec<CertFacts> = ders
                    .iter()
                    .zip(&parsed)
                    .map(|(d, c)| CertFacts::of(d, c))
                    .collect();
                let order = judge::core_tls_313::path_order(&certs);
                let verdict = self.verifier.as_ref().map(|v| {
                    let rest: Vec<(&[u8], &x509_parser::certificate::X509Certificate<'_>)> = order
                        [1..]
                        .iter()
                        .map(|&i| (ders[i].as_slice(), &parsed[i]))
                        .collect();
                    v.decide_parsed(
                        &ders[order[0]],
                        &parsed[order[0]],
                        &rest,
                        &Peer::Server { hostname: None },
                        None,
                        self.opts.at,
                    )
                });
                let leaf = &certs[order[0]];
                let dns = self.dns_of(&leaf.dns_names);
                let findings = judge::chain(&ctx, &certs, verdict.as_ref(), dns.as_ref());
                FileReport {
                    file: label.to_string(),
                    kind: Some("chain"),
                    error: None,
                    certificates: certs
                        .iter()
                        .enumerate()
                        .map(|(i, c)| summary(i, c))
                        .collect(),
                    dns,
                    findings,
                }
            }
            input::Subject::Csr(der) => {
                let r = match CsrFacts::read(&der) {
                    Ok(r) => r,
                    Err(e) => {
                        return unreadable(
                            label,
                            format!("the certificate request does not parse: {e}"),
                        )
                    }
                };
                let dns = self.dns_of(&r.dns_names);
                let findings = judge::csr(&ctx, &r, dns.as_ref());
                FileReport {
                    file: label.to_string(),
                    kind: Some("csr"),
                    error: None,
                    certificates: vec![],
                    dns,
                    findings,
                }
            }
        }
    }

    fn dns_of(&self, names: &[String]) -> Option<dns::DnsFacts> {
        if self.opts.role != Role::Frontchannel {
            return None;
        }
        let (d, rt) = self.dns.as_ref()?;
        Some(rt.block_on(d.gather(names)))
    }

    /// Lints every file into one report.
    pub fn report(&self, files: &[PathBuf]) -> LintReport {
        let mut r = LintReport {
            schema: report::SCHEMA,
            tool: format!("medmij-tls {}", env!("CARGO_PKG_VERSION")),
            profile: self.opts.profile.id.clone(),
            environment: self.opts.environment.label(),
            role: self.opts.role,
            at: medmij_verify::der_time::rfc3339(self.opts.at),
            dns: self.opts.dns.is_some(),
            revocation: self.context().revocation_checked,
            files: files.iter().map(|f| self.lint_file(f)).collect(),
            summary: report::Summary::default(),
        };
        r.summarize();
        r
    }
}

fn unreadable(label: &str, why: String) -> FileReport {
    FileReport {
        file: label.to_string(),
        kind: None,
        error: Some(why),
        certificates: vec![],
        dns: None,
        findings: vec![],
    }
}

fn summary(i: usize, c: &CertFacts) -> report::CertSummary {
    report::CertSummary {
        position: i + 1,
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        serial: c.serial.clone(),
        not_before: medmij_verify::der_time::rfc3339(c.not_before),
        not_after: medmij_verify::der_time::rfc3339(c.not_after),
        sha256: c.sha256.clone(),
        kind: if !c.is_ca {
            "leaf"
        } else if c.self_issued {
            "root"
        } else {
            "ca"
        },
    }
}
