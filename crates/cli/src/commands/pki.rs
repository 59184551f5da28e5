//! `medmij-tls pki ...`: the test PKI.

use crate::output::outln;
use anyhow::{bail, Context};
use medmij_testpki::catalogue::{Expect, Role};
use medmij_testpki::hierarchy::Hierarchy;
use medmij_testpki::init::{init, InitOptions, DEFAULT_BASE_URL};
use medmij_testpki::keys::{KeyAlg, KeyStyle};
use medmij_testpki::ops::{self, CsrRequest, IssueRequest, RevokeTarget};
use medmij_testpki::store::PkiDir;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The subcommands.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum PkiCommand {
    /// Create a test PKI with its catalogue of good and bad certificates.
    Init(InitArgs),
    /// Issue a node certificate for given hostnames, role and hierarchy.
    Issue(IssueArgs),
    /// Revoke a certificate (updates the CRL and the OCSP state).
    Revoke(RevokeArgs),
    /// Generate a key and a CSR on this machine, for ordering a real certificate.
    Csr(CsrArgs),
    /// Publish CRLs and CA certificates and answer OCSP requests over HTTP.
    Serve(ServeArgs),
}

/// `pki init`.
#[derive(clap::Args, Debug)]
pub(crate) struct InitArgs {
    /// Directory to create (must not exist or be empty, unless --force).
    #[arg(long)]
    dir: PathBuf,
    /// Seed for names, serial numbers and P-256 keys (same seed = same PKI, except RSA keys).
    #[arg(long, default_value = "medmij")]
    seed: String,
    /// Base URL of `pki serve`, written into CRL distribution points and AIA.
    #[arg(long, default_value = DEFAULT_BASE_URL)]
    base_url: String,
    /// Keys: `rsa` (sizes as in reality) or `ecdsa` (P-256, fast).
    #[arg(long, default_value = "rsa")]
    key_alg: KeyStyle,
    /// Per-hierarchy key choice, e.g. `g4=rsa` (repeatable).
    #[arg(long = "key-alg-for", value_name = "HIERARCHY=ALG", value_parser = parse_hier_style)]
    key_alg_for: Vec<(Hierarchy, KeyStyle)>,
    /// Replace an existing test PKI made by this tool (refused for any other non-empty directory).
    #[arg(long)]
    force: bool,
    /// Make the PKI as of this instant (RFC 3339) instead of now: every validity period is
    /// relative to it (node certificates 397 days from a month before).
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
}

fn parse_hier_style(s: &str) -> Result<(Hierarchy, KeyStyle), String> {
    let (h, a) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected HIERARCHY=ALG, e.g. g4=rsa"))?;
    Ok((h.parse()?, a.parse()?))
}

/// `pki issue`.
#[derive(clap::Args, Debug)]
pub(crate) struct IssueArgs {
    /// The PKI directory.
    #[arg(long)]
    dir: PathBuf,
    /// g1 or g4 (backchannel), public-ov or public-dv (frontchannel).
    #[arg(long)]
    hierarchy: Hierarchy,
    /// backchannel or frontchannel.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// SAN dNSName (repeatable); the first is also the CN.
    #[arg(long = "hostname", required = true)]
    hostnames: Vec<String>,
    /// Folder under DIR/certs (default: the first hostname).
    #[arg(long)]
    name: Option<String>,
    /// Validity in days (G4 allows at most 397).
    #[arg(long, default_value_t = 397)]
    days: u32,
    /// `rsa` (the hierarchy's real size) or `ecdsa`.
    #[arg(long, default_value = "rsa")]
    key_alg: KeyStyle,
}

fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "backchannel" => Ok(Role::Backchannel),
        "frontchannel" => Ok(Role::Frontchannel),
        _ => Err(format!("`{s}`: expected backchannel or frontchannel")),
    }
}

/// `pki revoke`.
#[derive(clap::Args, Debug)]
pub(crate) struct RevokeArgs {
    /// The PKI directory.
    #[arg(long)]
    dir: PathBuf,
    /// The certificate to revoke (PEM).
    #[arg(long, conflicts_with_all = ["ca", "serial"], required_unless_present = "serial")]
    cert: Option<PathBuf>,
    /// The issuing CA's ID (with --serial).
    #[arg(long, requires = "serial")]
    ca: Option<String>,
    /// The serial number in hex (with --ca).
    #[arg(long, requires = "ca")]
    serial: Option<String>,
    /// RFC 5280 reason: keyCompromise, superseded, cessationOfOperation, ...
    #[arg(long)]
    reason: Option<String>,
}

/// `pki csr`.
#[derive(clap::Args, Debug)]
pub(crate) struct CsrArgs {
    /// SAN dNSName (repeatable); the first is also the CN.
    #[arg(long = "hostname", required = true)]
    hostnames: Vec<String>,
    /// Subject O (organisation name).
    #[arg(long)]
    org: Option<String>,
    /// Subject C.
    #[arg(long, default_value = "NL")]
    country: String,
    /// OIN for subject serialNumber (PKIoverheid G1).
    #[arg(long)]
    oin: Option<String>,
    /// organizationIdentifier, e.g. NTRNL-12345678 (PKIoverheid G4).
    #[arg(long)]
    org_id: Option<String>,
    /// Key: rsa2048, rsa3072 (G4), rsa4096 or ecdsa-p256.
    #[arg(long, default_value = "rsa3072", value_parser = parse_key)]
    key: KeyAlg,
    /// Where to write the private key (mode 0600; never overwritten).
    #[arg(long)]
    key_out: PathBuf,
    /// Where to write the CSR (PEM).
    #[arg(long)]
    csr_out: PathBuf,
}

fn parse_key(s: &str) -> Result<KeyAlg, String> {
    match s {
        "rsa2048" => Ok(KeyAlg::Rsa(2048)),
        "rsa3072" => Ok(KeyAlg::Rsa(3072)),
        "rsa4096" => Ok(KeyAlg::Rsa(4096)),
        "ecdsa-p256" => Ok(KeyAlg::EcdsaP256),
        _ => Err(format!(
            "`{s}`: expected rsa2048, rsa3072, rsa4096 or ecdsa-p256"
        )),
    }
}

/// `pki serve`.
#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// The PKI directory.
    #[arg(long)]
    dir: PathBuf,
    /// Address to listen on (default: host and port of the PKI's base URL).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

/// Runs a `pki` subcommand.
pub(crate) fn run(cmd: PkiCommand) -> anyhow::Result<u8> {
    match cmd {
        PkiCommand::Init(a) => run_init(a),
        PkiCommand::Issue(a) => {
            let dir = PkiDir::new(&a.dir);
            let issued = ops::issue(
                &dir,
                &IssueRequest {
                    hierarchy: a.hierarchy,
                    role: a.role,
                    hostnames: a.hostnames,
                    name: a.name,
                    days: a.days,
                    key_style: a.key_alg,
                    at: time::OffsetDateTime::now_utc(),
                },
            )
            .with_context(|| format!("--dir {}", a.dir.display()))?;
            outln!(
                "issued serial {}\n  cert:  {}\n  chain: {}\n  key:   {}",
                issued.serial,
                issued.cert.display(),
                issued.chain.display(),
                issued.key.display()
            );
            Ok(0)
        }
        PkiCommand::Revoke(a) => {
            let target = match (a.cert, a.ca, a.serial) {
                (Some(c), _, _) => RevokeTarget::Cert(c),
                (None, Some(ca), Some(serial)) => RevokeTarget::Serial { ca, serial },
                _ => bail!("give --cert FILE, or --ca ID with --serial HEX"),
            };
            let dir = PkiDir::new(&a.dir);
            let r = ops::revoke(
                &dir,
                &target,
                a.reason.as_deref(),
                time::OffsetDateTime::now_utc(),
            )
            .with_context(|| format!("--dir {}", a.dir.display()))?;
            outln!(
                "revoked serial {} of {} at {}{}; CRL re-issued",
                r.serial,
                r.ca,
                r.revoked_at,
                r.reason.map(|x| format!(" ({x})")).unwrap_or_default()
            );
            Ok(0)
        }
        PkiCommand::Csr(a) => {
            let req = CsrRequest {
                hostnames: a.hostnames,
                organization: a.org,
                country: a.country,
                oin: a.oin,
                organization_identifier: a.org_id,
                key: a.key,
            };
            ops::csr(&req, &a.key_out, &a.csr_out)?;
            outln!(
                "key:  {} (generated on this machine; keep it here)\ncsr:  {}",
                a.key_out.display(),
                a.csr_out.display()
            );
            Ok(0)
        }
        PkiCommand::Serve(a) => run_serve(a),
    }
}

fn run_init(a: InitArgs) -> anyhow::Result<u8> {
    if let Err(why) = medmij_testpki::init::check_base_url(&a.base_url) {
        bail!("--base-url `{}`: {why}", a.base_url.escape_debug());
    }
    let at = match &a.at {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
            anyhow::anyhow!("--at `{t}`: expected RFC 3339, e.g. 2026-06-01T12:00:00Z")
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let opts = InitOptions {
        at,
        seed: a.seed,
        base_url: a.base_url,
        key_style: a.key_alg,
        key_style_for: a.key_alg_for.into_iter().collect::<BTreeMap<_, _>>(),
        force: a.force,
    };
    // The library's message names the directory already.
    let cat = init(&a.dir, &opts).context("--dir")?;
    outln!(
        "created test PKI in {} ({} certificates; catalogue: {})",
        a.dir.display(),
        cat.entries.len(),
        a.dir.join("catalogue.json").display()
    );
    outln!(
        "CRL/OCSP URLs point at {}; run `medmij-tls pki serve --dir {}`\n",
        cat.base_url,
        a.dir.display()
    );
    outln!(
        "{:<28} {:<10} {:<13} {:<8} violates",
        "id",
        "hierarchy",
        "role",
        "expect"
    );
    for e in &cat.entries {
        let role = match e.role {
            Role::Backchannel => "backchannel",
            Role::Frontchannel => "frontchannel",
        };
        let expect = match e.expect {
            Expect::Valid => "valid",
            Expect::Invalid => "invalid",
        };
        outln!(
            "{:<28} {:<10} {:<13} {:<8} {}",
            e.id,
            e.hierarchy,
            role,
            expect,
            e.violates.join(", ")
        );
    }
    Ok(0)
}

fn run_serve(a: ServeArgs) -> anyhow::Result<u8> {
    let dir = PkiDir::new(&a.dir);
    let manifest = dir
        .manifest()
        .with_context(|| format!("--dir {}", a.dir.display()))?;
    let listen = match a.listen {
        Some(l) => l,
        None => {
            let hostport = manifest
                .base_url
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let hostport = if hostport.contains(':') {
                hostport
            } else {
                format!("{hostport}:80")
            };
            hostport.parse().with_context(|| {
                format!(
                    "base URL {} has no IP:PORT to listen on; give --listen",
                    manifest.base_url
                )
            })?
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("--listen {listen}"))?;
        let addr = listener.local_addr()?;
        outln!(
            "serving {} on http://{addr} (CRLs: /crl/ID.crl, OCSP: /ocsp/ID)",
            a.dir.display()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        medmij_testpki::serve::serve(dir, listener, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(0)
}
