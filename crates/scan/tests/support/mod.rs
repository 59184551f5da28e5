//! Test helpers: a test PKI, `openssl s_server` targets on loopback, hostile raw servers, and
//! an in-process scan judged with the linter.
#![allow(dead_code)]

use medmij_core::outcome::{Finding, Status};
use medmij_core::{Environment, Profile};
use medmij_scan::judge::{Context, Role};
use medmij_scan::targets::Target;
use medmij_scan::{probe, EndpointFacts, ProbeOptions};
use medmij_testpki::catalogue::Catalogue;
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Pki {
    pub(crate) _tmp: tempfile::TempDir,
    pub(crate) dir: PathBuf,
    pub(crate) cat: Catalogue,
}

/// An ECDSA (or RSA) test PKI, no server.
pub(crate) fn pki(key_style: KeyStyle) -> Pki {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let opts = InitOptions {
        key_style,
        base_url: "http://127.0.0.1:9".into(),
        ..Default::default()
    };
    let cat = init(&dir, &opts).unwrap();
    Pki {
        _tmp: tmp,
        dir,
        cat,
    }
}

impl Pki {
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// (leaf PEM, intermediates PEM file, key) of a catalogue entry, written for s_server.
    pub(crate) fn server_files(&self, id: &str) -> (PathBuf, PathBuf, PathBuf) {
        let e = self.cat.entry(id).unwrap();
        let chain = std::fs::read_to_string(self.dir.join(&e.chain)).unwrap();
        let blocks: Vec<&str> = chain
            .split_inclusive("-----END CERTIFICATE-----\n")
            .filter(|b| b.contains("BEGIN CERTIFICATE"))
            .collect();
        let leaf = self.dir.join(format!("{id}.leaf.pem"));
        let rest = self.dir.join(format!("{id}.intermediates.pem"));
        std::fs::write(&leaf, blocks[0]).unwrap();
        std::fs::write(&rest, blocks[1..].concat()).unwrap();
        (leaf, rest, self.dir.join(&e.key))
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An `openssl s_server` on loopback, killed on drop.
pub(crate) struct SServer {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `openssl s_server -accept 127.0.0.1:PORT ARGS` and waits until it accepts.
pub(crate) fn s_server(args: &[&str], cwd: &Path) -> SServer {
    let port = free_port();
    let child = Command::new("openssl")
        .arg("s_server")
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is required for the scanner's interop tests: run scripts/test");
    let mut s = SServer { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = s.child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = s.child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("openssl s_server {args:?} exited {status}: {err}");
        }
        assert!(Instant::now() < deadline, "s_server {args:?} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    s
}

/// Scans 127.0.0.1:port as `role` with SNI `sni`.
pub(crate) fn scan(
    port: u16,
    role: Role,
    sni: Option<&str>,
    tweak: impl FnOnce(&mut ProbeOptions),
) -> EndpointFacts {
    let mut o = ProbeOptions::new(role).unwrap();
    o.timeout = Duration::from_secs(3);
    o.sni = sni.map(str::to_owned);
    tweak(&mut o);
    let t = Target::parse(&format!("127.0.0.1:{port}")).unwrap();
    probe::scan_endpoint(&t, &o)
}

/// Judges facts under `profile` (test environment) with the linter trusting `anchors`.
pub(crate) fn judge(
    f: &EndpointFacts,
    role: Role,
    profile: &str,
    anchors: &[PathBuf],
) -> Vec<Finding> {
    let profile = Profile::builtin(profile).unwrap();
    let linter = medmij_lint::Linter::new(medmij_lint::Options {
        role: match role {
            Role::Backchannel => medmij_lint::Role::Backchannel,
            Role::Frontchannel => medmij_lint::Role::Frontchannel,
        },
        profile: profile.clone(),
        environment: Environment::Test,
        at: time::OffsetDateTime::now_utc().unix_timestamp(),
        trust_anchors: anchors.to_vec(),
        crl_files: Vec::new(),
        revocation: None,
        fetch_timeout: Duration::from_secs(2),
        dns: None,
        caa_identifiers: Vec::new(),
    })
    .unwrap();
    let ctx = Context {
        profile: &profile,
        environment: Environment::Test,
        role,
        strict: false,
        date: time::OffsetDateTime::now_utc().date().to_string(),
        linter: Some(&linter),
    };
    let mut f = f.clone();
    medmij_scan::judge::annotate(&mut f, &profile);
    medmij_scan::judge::endpoint(&ctx, "target", &f)
}

/// The status of `check` among `findings` (panics when absent).
pub(crate) fn status(findings: &[Finding], check: &str) -> Status {
    findings
        .iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("no finding for {check}"))
        .status
}

pub(crate) fn message<'a>(findings: &'a [Finding], check: &str) -> &'a str {
    &findings.iter().find(|f| f.check == check).unwrap().message
}

/// Accepted suite codes for `version`.
pub(crate) fn suites(f: &EndpointFacts, version: &str) -> Vec<u16> {
    let mut v: Vec<u16> = f
        .cipher_suites
        .iter()
        .filter(|s| s.version.to_string() == version)
        .map(|s| s.code)
        .collect();
    v.sort_unstable();
    v
}
