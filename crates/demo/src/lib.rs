//! `medmij-tls demo`: the whole toolkit on a network it builds itself, with no input. A test
//! PKI and its CRL/OCSP server, a ZA node and a PGO node (each a gateway with a FHIR-like
//! upstream), a deliberately misconfigured node, and a whitelist; a backchannel request PGO → ZA
//! through the PGO's outbound proxy; every node scanned and its certificate linted; the client
//! probe run against the PGO's outbound proxy; one report (HTML and JSON) and a summary.
//!
//! Everything runs in this process on loopback ports chosen at run time, and everything it
//! started is stopped before [`run`] returns, so nothing is left behind.

mod nodes;
pub mod report;

pub use report::DemoReport;

use medmij_core::{Environment, Profile};
use medmij_probe::Case;
use medmij_scan::{Context, ProbeOptions, Role, ScanReport};
use medmij_testpki::store::PkiDir;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The file that marks a directory as the demo's, so `--out` never empties anything else.
const MARKER: &str = ".medmij-demo";

/// The client probe's hostname in the demo.
pub const PROBE_HOST: &str = "probe.medmij.test";

/// The nodes, by catalogue entry: (name in the report, catalogue entry).
const ZA: (&str, &str) = ("ZA node (gateway)", "g1-za");
const PGO: (&str, &str) = ("PGO node (gateway)", "g1-pgo");
const BAD: (&str, &str) = (
    "misconfigured node (TLS 1.2 only, root in chain, no client certificate)",
    "g1-chain-with-root",
);

/// How long the client probe may take against the outbound proxy: eleven cases, each at most
/// one handshake with revocation fetches on loopback.
const PROBE_TIMEOUT: Duration = Duration::from_secs(90);

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The output directory.
    #[error("--out {dir}: {why}")]
    Out {
        /// The directory.
        dir: String,
        /// Why.
        why: String,
    },
    /// A step failed.
    #[error("{step}: {why}")]
    Step {
        /// What the demo was doing.
        step: &'static str,
        /// Why it failed.
        why: String,
    },
}

fn step<E: std::fmt::Display>(step: &'static str) -> impl FnOnce(E) -> DemoError {
    move |e| DemoError::Step {
        step,
        why: e.to_string(),
    }
}

/// Makes `dir` empty and ours, and holds it: a new directory, or one an earlier demo made
/// (everything but the marker is removed). The returned file is the marker, locked for the
/// run, so a second demo on the same directory is refused instead of emptying it underneath.
fn prepare_out(dir: &Path) -> Result<std::fs::File, DemoError> {
    let err = |why: String| DemoError::Out {
        dir: dir.display().to_string(),
        why,
    };
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| err(e.to_string()))?
            .next()
            .is_none();
        if !empty && !dir.join(MARKER).exists() {
            return Err(err(
                "exists and was not made by `medmij-tls demo`; choose another directory".into(),
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let marker = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(MARKER))
        .map_err(|e| err(e.to_string()))?;
    match marker.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(err("another `medmij-tls demo` is running in it".into()))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(err(e.to_string())),
    }
    for entry in std::fs::read_dir(dir).map_err(|e| err(e.to_string()))? {
        let entry = entry.map_err(|e| err(e.to_string()))?;
        if entry.file_name() == MARKER {
            continue;
        }
        let p = entry.path();
        let gone = if entry.file_type().map_err(|e| err(e.to_string()))?.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        gone.map_err(|e| err(format!("{}: {e}", p.display())))?;
    }
    std::fs::write(
        dir.join(MARKER),
        "made by medmij-tls demo; emptied by the next run\n",
    )
    .map_err(|e| err(e.to_string()))?;
    Ok(marker)
}

fn loopback() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

fn toml_path(p: &Path) -> String {
    p.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// Runs the demo in `out`; `say` gets each progress line.
pub fn run(out: &Path, say: &mut dyn FnMut(&str)) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc();
    let _held = prepare_out(out)?;
    let out = std::fs::canonicalize(out).map_err(step("--out"))?;
    let profile = Profile::default_profile();

    // 1. The test PKI and its CRL/OCSP server, on a port chosen now.
    let serve_listener = TcpListener::bind((loopback(), 0)).map_err(step("pki serve"))?;
    let base_url = format!(
        "http://{}",
        serve_listener.local_addr().map_err(step("pki serve"))?
    );
    let pki_path = out.join("pki");
    say(&format!(
        "test PKI (RSA, G1/G4-like and public OV/DV) in {}",
        pki_path.display()
    ));
    let init = medmij_testpki::init::InitOptions {
        base_url: base_url.clone(),
        ..Default::default()
    };
    let cat = medmij_testpki::init::init(&pki_path, &init).map_err(step("pki init"))?;
    let pki = PkiDir::new(&pki_path);
    let _serve = medmij_testpki::serve::in_background(pki.clone(), serve_listener)
        .map_err(step("pki serve"))?;
    say(&format!("pki serve: CRLs and OCSP at {base_url}"));
    medmij_probe::cases::prepare(&pki, PROBE_HOST, started_at)
        .map_err(step("client probe cases"))?;

    // 2. The whitelist: the two nodes, the misconfigured one, and the probe's names.
    let entry = |id: &str| {
        cat.entry(id)
            .cloned()
            .ok_or_else(|| step("catalogue")(format!("no entry {id}")))
    };
    let (za, pgo, bad) = (entry(ZA.1)?, entry(PGO.1)?, entry(BAD.1)?);
    let mut names = vec![
        za.hostnames[0].clone(),
        pgo.hostnames[0].clone(),
        bad.hostnames[0].clone(),
        PROBE_HOST.to_owned(),
        format!("elsewhere.{PROBE_HOST}"),
    ];
    names.extend(
        Case::ALL
            .into_iter()
            .filter(|c| *c != Case::NotWhitelisted)
            .map(|c| c.sni(PROBE_HOST)),
    );
    let whitelist = out.join("whitelist.xml");
    std::fs::write(&whitelist, medmij_testpki::init::whitelist_xml(&names, 1))
        .map_err(step("whitelist"))?;

    // 3. The upstreams, the ZA gateway, then the PGO gateway whose outbound proxy knows where
    //    the ZA node and the probe listen.
    let za_up = nodes::upstream("ZA node application").map_err(step("ZA upstream"))?;
    let pgo_up = nodes::upstream("PGO node application").map_err(step("PGO upstream"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(step("runtime"))?;
    let anchors = format!(
        "[\"{}\", \"{}\"]",
        toml_path(&pki_path.join("ca/g1-root.pem")),
        toml_path(&pki_path.join("ca/g4-root.pem"))
    );
    let za_conf = format!(
        "# The ZA node's gateway, as `medmij-tls demo` ran it.\nprofile = \"{profile}\"\nenvironment = \"test\"\nstate_dir = \"{state}\"\n\n\
         [backchannel]\nlisten = \"127.0.0.1:0\"\ncert = \"{chain}\"\nkey = \"{key}\"\ntrust_anchors = {anchors}\nupstream = \"http://{up}\"\n\n\
         [whitelist]\nsource = \"{wl}\"\n",
        profile = profile.id,
        state = toml_path(&out.join("state/za")),
        chain = toml_path(&pki_path.join(&za.chain)),
        key = toml_path(&pki_path.join(&za.key)),
        up = za_up.handle.addr(),
        wl = toml_path(&whitelist),
    );
    let za_gw = start_gateway(&rt, &out.join("za-gateway.toml"), &za_conf)?;
    let za_addr = za_gw
        .backchannel
        .ok_or_else(|| step("ZA gateway")("no backchannel listener"))?;
    say(&format!(
        "ZA gateway: backchannel {za_addr} → upstream {}",
        za_up.handle.addr()
    ));
    let probe_listener = TcpListener::bind((loopback(), 0)).map_err(step("client probe"))?;
    let probe_addr = probe_listener.local_addr().map_err(step("client probe"))?;
    let mut resolve = format!("\"{}:443\" = \"{za_addr}\"\n", za.hostnames[0]);
    for c in Case::ALL {
        resolve.push_str(&format!(
            "\"{}:443\" = \"{probe_addr}\"\n",
            c.sni(PROBE_HOST)
        ));
    }
    let pgo_conf = format!(
        "# The PGO node's gateway, as `medmij-tls demo` ran it.\nprofile = \"{profile}\"\nenvironment = \"test\"\nstate_dir = \"{state}\"\n\n\
         [backchannel]\nlisten = \"127.0.0.1:0\"\ncert = \"{chain}\"\nkey = \"{key}\"\ntrust_anchors = {anchors}\nupstream = \"http://{up}\"\n\n\
         [outbound]\nlisten = \"127.0.0.1:0\"\ncert = \"{chain}\"\nkey = \"{key}\"\ntrust_anchors = {anchors}\n\n\
         [outbound.resolve]\n{resolve}\n[whitelist]\nsource = \"{wl}\"\n",
        profile = profile.id,
        state = toml_path(&out.join("state/pgo")),
        chain = toml_path(&pki_path.join(&pgo.chain)),
        key = toml_path(&pki_path.join(&pgo.key)),
        up = pgo_up.handle.addr(),
        wl = toml_path(&whitelist),
    );
    let pgo_gw = start_gateway(&rt, &out.join("pgo-gateway.toml"), &pgo_conf)?;
    let pgo_addr = pgo_gw
        .backchannel
        .ok_or_else(|| step("PGO gateway")("no backchannel listener"))?;
    let proxy = pgo_gw
        .outbound
        .ok_or_else(|| step("PGO gateway")("no outbound listener"))?;
    say(&format!(
        "PGO gateway: backchannel {pgo_addr}, outbound proxy {proxy}"
    ));
    let bad_node = nodes::misconfigured(
        &pki.read_string(&bad.chain)
            .map_err(step("misconfigured node"))?,
        &pki.read_string(&bad.key)
            .map_err(step("misconfigured node"))?,
    )
    .map_err(step("misconfigured node"))?;
    say(&format!("misconfigured node: {}", bad_node.addr()));

    // 4. A backchannel call PGO → ZA through the outbound proxy.
    let url = format!("http://{}/fhir/metadata", za.hostnames[0]);
    let (status, body) = nodes::get_via_proxy(proxy, &url).map_err(step("PGO → ZA request"))?;
    let head = za_up
        .seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .last()
        .cloned()
        .unwrap_or_default();
    let identity: Vec<(String, String)> = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("x-medmij-"))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    say(&format!(
        "PGO → ZA: GET {url} via the outbound proxy → {status}"
    ));
    let exchange = report::Exchange {
        url,
        status,
        body,
        identity_headers: identity,
    };

    // 5. Scan every node (with the refusal probes: the nodes trust this test PKI).
    let mut o = ProbeOptions::new(Role::Backchannel).map_err(step("scan"))?;
    o.refusal.add_probe_pki(&pki_path).map_err(step("scan"))?;
    let targets = [
        (ZA.0, &za, za_addr),
        (PGO.0, &pgo, pgo_addr),
        (BAD.0, &bad, bad_node.addr()),
    ];
    let mut scan_targets = Vec::new();
    for (_, e, addr) in &targets {
        let t = medmij_scan::targets::Target::parse(&format!("{}:{}", e.hostnames[0], addr.port()))
            .map_err(step("scan"))?;
        o.resolve
            .push((e.hostnames[0].clone(), addr.port(), addr.ip()));
        scan_targets.push(t);
    }
    say("scanning the three nodes (versions, suites, groups, chain, client certificates, refusal probes)");
    let facts = medmij_scan::probe::scan_all(&scan_targets, &o, 3, &|_, _| {});
    let at = time::OffsetDateTime::now_utc();
    let g1_root = pki_path.join("ca/g1-root.pem");
    let linter = medmij_lint::Linter::new(medmij_lint::Options {
        role: medmij_lint::Role::Backchannel,
        profile: profile.clone(),
        environment: Environment::Test,
        at: at.unix_timestamp(),
        trust_anchors: vec![g1_root.clone(), pki_path.join("ca/g4-root.pem")],
        crl_files: Vec::new(),
        revocation: Some(medmij_core::profile::FailMode::Hard),
        fetch_timeout: Duration::from_secs(5),
        dns: None,
        caa_identifiers: Vec::new(),
    })
    .map_err(step("linter"))?;
    let ctx = Context {
        profile: &profile,
        environment: Environment::Test,
        role: Role::Backchannel,
        strict: false,
        date: at.date().to_string(),
        linter: Some(&linter),
    };
    let scanned_at = rfc3339(at);
    let scan = ScanReport::judge(
        &ctx,
        scanned_at,
        scan_targets
            .iter()
            .zip(facts)
            .map(|(t, f)| (t.label.clone(), Role::Backchannel, f))
            .collect(),
    );

    // 6. Lint every node's certificate file (revocation checked against pki serve).
    say("linting the three nodes' certificate files");
    let files: Vec<PathBuf> = targets
        .iter()
        .map(|(_, e, _)| pki_path.join(&e.chain))
        .collect();
    let lint = linter.report(&files);

    // 7. The client probe against the PGO's outbound proxy: the application asks for every case.
    say(&format!(
        "client probe on {probe_addr}: the PGO's outbound proxy is sent to every case"
    ));
    let setup = medmij_probe::ProbeSetup {
        pki: pki.clone(),
        run: medmij_probe::RunOptions {
            hostname: PROBE_HOST.into(),
            cases: Case::ALL.to_vec(),
            timeout: PROBE_TIMEOUT,
            linger: Duration::from_millis(300),
            deadline: medmij_probe::server::CONNECTION_DEADLINE,
        },
        client: Some("PGO outbound proxy (client probe)".into()),
        profile: profile.clone(),
        environment: Environment::Test,
        role: Role::Backchannel,
        strict: false,
    };
    let prober = std::thread::spawn(move || medmij_probe::run(probe_listener, setup, |_| {}));
    let mut proxied = Vec::new();
    for c in Case::ALL {
        let url = format!("http://{}/fhir/metadata", c.sni(PROBE_HOST));
        let status = nodes::get_via_proxy(proxy, &url)
            .map(|(s, _)| s)
            .unwrap_or(0);
        proxied.push((c.label().to_owned(), status));
    }
    let probe = prober
        .join()
        .map_err(|_| step("client probe")("the probe thread panicked"))?
        .map_err(step("client probe"))?;

    // 8. Stop everything this run started.
    say("stopping the gateways, nodes and pki serve");
    rt.block_on(async {
        za_gw.shutdown().await;
        pgo_gw.shutdown().await;
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    drop((bad_node, za_up, pgo_up, _serve));

    let nodes = targets
        .iter()
        .zip(&scan.targets)
        .map(|((name, e, addr), t)| report::Node {
            name: (*name).to_owned(),
            hostname: e.hostnames[0].clone(),
            address: addr.to_string(),
            target: t.target.clone(),
            chain_file: pki_path.join(&e.chain).display().to_string(),
        })
        .collect();
    let report = DemoReport {
        schema: report::SCHEMA,
        started_at: rfc3339(started_at),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        out: out.display().to_string(),
        nodes,
        exchange,
        proxied,
        scan,
        lint,
        probe,
    };
    std::fs::write(out.join("report.json"), format!("{}\n", report.json()))
        .map_err(step("report.json"))?;
    std::fs::write(out.join("report.html"), report.html()).map_err(step("report.html"))?;
    Ok(report)
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn start_gateway(
    rt: &tokio::runtime::Runtime,
    file: &Path,
    conf: &str,
) -> Result<medmij_gateway::Running, DemoError> {
    std::fs::write(file, conf).map_err(step("gateway config"))?;
    let c = medmij_gateway::Config::load(file).map_err(step("gateway config"))?;
    let p = medmij_gateway::prepare(c).map_err(step("gateway"))?;
    rt.block_on(medmij_gateway::start(p))
        .map_err(step("gateway"))
}
