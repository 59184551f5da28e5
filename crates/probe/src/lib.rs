//! The MedMij client probe: a TLS server that a client under test (a PGO's or a node's
//! backchannel client) connects to repeatedly. It records each ClientHello, serves a good
//! certificate and deliberately bad ones from the test PKI (by SNI label, or one per connection
//! in the documented order), sees False Start and early data, and judges the client per
//! requirement with the scanner's finding model and report formats.
//!
//! Facts (`hello`, `facts`, `server`), judgment (`judge`, no I/O) and presentation (`report`)
//! are apart, as in the scanner.

pub mod cases;
pub mod facts;
pub mod hello;
pub mod judge;
pub mod report;
pub mod server;

pub use cases::Case;
pub use report::ProbeReport;
pub use server::{Probe, RunOptions};

use medmij_core::{Environment, Profile};
use medmij_testpki::store::PkiDir;
use std::net::TcpListener;

/// Everything a run needs besides the listener.
pub struct ProbeSetup {
    /// The test PKI.
    pub pki: PkiDir,
    /// The run.
    pub run: RunOptions,
    /// The client's name in the report.
    pub client: Option<String>,
    /// The profile.
    pub profile: Profile,
    /// The environment.
    pub environment: Environment,
    /// The role judged (backchannel: a client certificate is expected).
    pub role: medmij_scan::Role,
    /// `--strict`.
    pub strict: bool,
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The cases could not be made.
    #[error(transparent)]
    Cases(#[from] cases::CaseError),
    /// The server could not run.
    #[error(transparent)]
    Probe(#[from] server::ProbeError),
}

/// Prepares the cases, serves them on `listener` until done or the timeout, and judges.
/// `ready` is called once the probe accepts (with its address), so a caller can start the
/// client under test.
pub fn run(
    listener: TcpListener,
    setup: ProbeSetup,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<ProbeReport, RunError> {
    let now = time::OffsetDateTime::now_utc();
    let materials = cases::prepare(&setup.pki, &setup.run.hostname, now)?;
    let listen = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let probe = Probe::new(listener, &materials, setup.run.clone())?;
    if let Ok(a) = probe.local_addr() {
        ready(a);
    }
    let mut connections = probe.run()?;
    verify_client_chains(&setup, &mut connections);
    Ok(judge_run(&setup, listen, now, connections))
}

/// Each chain a client presented, judged by the verifier as a MedMij backchannel server would
/// (the test PKI's G1 and G4 roots, the CRL and OCSP named in the certificates, soft-fail when
/// they cannot be reached). The network's whitelist is not the probe's to know, so it is not
/// asked. A verifier that cannot be built leaves the verdicts out (`client.certificate` then
/// judges presence only).
fn verify_client_chains(setup: &ProbeSetup, conns: &mut [facts::ConnectionFacts]) {
    use base64::Engine;
    let anchors = vec![
        setup.pki.path("ca/g1-root.pem"),
        setup.pki.path("ca/g4-root.pem"),
    ];
    let verifier = match medmij_verify::Verifier::builder(&setup.profile, setup.environment)
        .channel(medmij_verify::Channel::Backchannel)
        .trust_anchor_files(&anchors)
        .dangerous()
        .revocation(medmij_core::profile::FailMode::Soft)
        .finish()
        .build()
    {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("client certificates not judged: {e}");
            return;
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for c in conns.iter_mut().filter(|c| !c.client_chain.is_empty()) {
        let ders: Vec<Vec<u8>> = c
            .client_chain
            .iter()
            .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .collect();
        let Some((leaf, rest)) = ders.split_first() else {
            continue;
        };
        let inter: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
        let v = verifier.verify(leaf, &inter, &medmij_verify::Peer::Client, None, now);
        c.client_chain_verdict = Some(facts::ChainVerdict {
            accepted: v.accepted,
            reasons: v
                .reasons
                .iter()
                .map(|r| format!("{} {}: {}", r.requirement, r.code.label(), r.message))
                .collect(),
        });
    }
}

/// Judges a run's connections (also for a stored report judged again).
pub fn judge_run(
    setup: &ProbeSetup,
    listen: String,
    started: time::OffsetDateTime,
    connections: Vec<facts::ConnectionFacts>,
) -> ProbeReport {
    let date = started
        .date()
        .format(&time::format_description::well_known::Iso8601::DATE)
        .unwrap_or_default();
    let ctx = medmij_scan::Context {
        profile: &setup.profile,
        environment: setup.environment,
        role: setup.role,
        strict: setup.strict,
        date,
        linter: None,
    };
    let client = setup.client.clone().unwrap_or_else(|| {
        connections
            .first()
            .and_then(|c| c.peer.rsplit_once(':').map(|(ip, _)| ip.to_owned()))
            .map(|ip| format!("client at {ip}"))
            .unwrap_or_else(|| "client".to_owned())
    });
    let findings = judge::client(&ctx, &client, &connections, &setup.run.cases);
    ProbeReport {
        schema: report::SCHEMA,
        client,
        profile: setup.profile.id.clone(),
        environment: setup.environment.label(),
        role: setup.role,
        hostname: setup.run.hostname.clone(),
        listen,
        started_at: started
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        cases: setup.run.cases.clone(),
        connections,
        findings,
    }
}
