//! CAA and DNSSEC against real DNS servers started here: BIND (`named`) serves a root, a TLD
//! and a zone, all signed in the test with BIND's own tools (one name's CAA altered after
//! signing: bogus), and an unsigned child zone delegated without DS (insecure). Unbound validates
//! from our root's key and is the resolver the linter asks; the linter validates again itself
//! (hickory, from our root's DNSKEYs). Needs bind9, bind9-utils and unbound (`scripts/test`
//! installs them); a missing tool fails the test, it is not skipped.
#![allow(clippy::unwrap_used)]

use medmij_core::outcome::Status;
use medmij_core::{Environment, Profile};
use medmij_lint::dns::DnsConfig;
use medmij_lint::{FileReport, Linter, Options, Role};
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose as Ku};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ZONE: &str = r#"$TTL 300
@ IN SOA ns.lint.test. admin.lint.test. 1 3600 600 86400 300
@ IN NS ns.lint.test.
ns IN A 127.0.0.1
signed-caa IN A 10.0.0.1
signed-caa IN CAA 0 issue "test-ca.example"
signed-caa IN CAA 0 iodef "mailto:security@lint.test"
nocaa IN A 10.0.0.2
parent IN CAA 0 issue "test-ca.example; account=42"
www.parent IN A 10.0.0.3
otherca IN A 10.0.0.4
otherca IN CAA 0 issue "other-ca.example"
alias IN CNAME signed-caa
bogus IN A 10.0.0.5
bogus IN CAA 0 issue "test-ca.example; tag=signed"
badiodef IN CAA 0 issue "test-ca.example"
badiodef IN CAA 0 iodef "gopher://nowhere"
unsigned IN NS ns.lint.test.
"#;

/// A root zone of our own, signed here, so that validation has a whole chain (root → test. →
/// lint.test.) on loopback, as `.` → `nl.` → a participant's zone has on the internet.
const ROOT: &str = r#"$TTL 300
. IN SOA ns.test. admin.lint.test. 1 3600 600 86400 300
. IN NS ns.test.
test. IN NS ns.test.
ns.test. IN A 127.0.0.1
"#;

/// The parent of the test zone, so that the RFC 8659 climb reaches a TLD that answers (as `nl.`
/// does); signed, with the DS of lint.test.
const TLD: &str = r#"$TTL 300
@ IN SOA ns.test. admin.lint.test. 1 3600 600 86400 300
@ IN NS ns.test.
ns IN A 127.0.0.1
lint IN NS ns.lint.test.
ns.lint IN A 127.0.0.1
"#;

const CHILD: &str = r#"$TTL 300
@ IN SOA ns.lint.test. admin.lint.test. 1 3600 600 86400 300
@ IN NS ns.lint.test.
www IN A 10.0.0.6
www IN CAA 0 issue "test-ca.example"
"#;

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tool(name: &str) -> PathBuf {
    for d in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("`{name}` not found: install bind9, bind9-utils and unbound (scripts/test does)");
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_udp_port() -> u16 {
    // Free for UDP and TCP both (DNS uses both).
    loop {
        let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = t.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Waits until the server at `port` answers a DNS query (any answer).
fn wait_dns(port: u16, what: &str, child: &mut Child) {
    let q: [u8; 29] = [
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, b'l', b'i', b'n', b't', 4, b't', b'e',
        b's', b't', 0, 0, 6, 0, 1, 0, 0,
    ];
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what} exited: {status}");
        }
        let _ = s.send_to(&q[..27], ("127.0.0.1", port));
        let mut buf = [0u8; 512];
        if s.recv(&mut buf).is_ok() {
            return;
        }
    }
    panic!("{what} did not answer on port {port}");
}

struct Dns {
    _named: Proc,
    _unbound: Proc,
    resolver: SocketAddr,
    anchor: PathBuf,
}

/// Signs `zone` (origin `origin`, file `file`) with a fresh KSK and ZSK; with `-g` the DS
/// records of its signed children (their `dsset-` files) go in. Returns the DNSKEY lines.
fn sign(dir: &Path, origin: &str, file: &str, body: &str) -> String {
    let keygen = tool("dnssec-keygen");
    let signzone = tool("dnssec-signzone");
    let ksk = run(Command::new(&keygen).current_dir(dir).args([
        "-q",
        "-a",
        "ECDSAP256SHA256",
        "-f",
        "KSK",
        "-n",
        "ZONE",
        origin,
    ]));
    let zsk = run(Command::new(&keygen).current_dir(dir).args([
        "-q",
        "-a",
        "ECDSAP256SHA256",
        "-n",
        "ZONE",
        origin,
    ]));
    let (ksk, zsk) = (ksk.trim().to_string(), zsk.trim().to_string());
    let mut zone = body.to_string();
    let mut keys = String::new();
    for k in [&ksk, &zsk] {
        let key = std::fs::read_to_string(dir.join(format!("{k}.key"))).unwrap();
        for l in key
            .lines()
            .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        {
            keys.push_str(l);
            keys.push('\n');
        }
    }
    zone.push_str(&keys);
    std::fs::write(dir.join(file), zone).unwrap();
    run(Command::new(&signzone).current_dir(dir).args([
        "-q",
        "-g",
        "-o",
        origin,
        "-e",
        "+30d",
        file,
        &format!("{ksk}.key"),
        &format!("{zsk}.key"),
    ]));
    keys
}

fn start(dir: &Path) -> Dns {
    std::fs::write(dir.join("unsigned.lint.test.zone"), CHILD).unwrap();
    // Children first: each signing leaves the dsset- file its parent's signing (-g) takes in.
    sign(dir, "lint.test.", "lint.test.zone", ZONE);
    // Alter bogus.lint.test's CAA after signing: its RRSIG no longer verifies.
    let signed = std::fs::read_to_string(dir.join("lint.test.zone.signed")).unwrap();
    assert!(
        signed.contains("tag=signed") && signed.contains("RRSIG"),
        "signing failed"
    );
    std::fs::write(
        dir.join("lint.test.zone.signed"),
        signed.replace("tag=signed", "tag=altered"),
    )
    .unwrap();
    sign(dir, "test.", "test.zone", TLD);
    let root_keys = sign(dir, ".", "root.zone", ROOT);
    // The linter (hickory) and unbound both start from our root's keys, as they would from
    // IANA's: hickory takes every DNSKEY of the root, unbound the KSK (any one anchor works).
    let anchor_file = dir.join("root.keys");
    std::fs::write(&anchor_file, &root_keys).unwrap();
    let named_port = free_udp_port();
    let d = dir.display();
    std::fs::write(
        dir.join("named.conf"),
        format!(
            r#"options {{ directory "{d}"; listen-on port {named_port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; pid-file "{d}/named.pid"; recursion no; dnssec-validation no; allow-query {{ any; }}; }};
zone "." {{ type primary; file "{d}/root.zone.signed"; }};
zone "test" {{ type primary; file "{d}/test.zone.signed"; }};
zone "lint.test" {{ type primary; file "{d}/lint.test.zone.signed"; }};
zone "unsigned.lint.test" {{ type primary; file "{d}/unsigned.lint.test.zone"; }};
"#
        ),
    )
    .unwrap();
    let mut named = Command::new(tool("named"))
        .args(["-g", "-c"])
        .arg(dir.join("named.conf"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("named.log")).unwrap())
        .spawn()
        .unwrap();
    wait_dns(named_port, "named", &mut named);
    let named = Proc(named);

    let unbound_port = free_udp_port();
    std::fs::write(
        dir.join("unbound.conf"),
        format!(
            r#"server:
  interface: 127.0.0.1
  port: {unbound_port}
  do-ip6: no
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "{d}/root.keys"
  local-zone: "test." nodefault
  access-control: 127.0.0.0/8 allow
stub-zone:
  name: "."
  stub-addr: 127.0.0.1@{named_port}
stub-zone:
  name: "test"
  stub-addr: 127.0.0.1@{named_port}
stub-zone:
  name: "lint.test"
  stub-addr: 127.0.0.1@{named_port}
"#
        ),
    )
    .unwrap();
    let mut unbound = Command::new(tool("unbound"))
        .args(["-d", "-c"])
        .arg(dir.join("unbound.conf"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("unbound.log")).unwrap())
        .spawn()
        .unwrap();
    wait_dns(unbound_port, "unbound", &mut unbound);
    Dns {
        _named: named,
        _unbound: Proc(unbound),
        resolver: SocketAddr::from(([127, 0, 0, 1], unbound_port)),
        anchor: anchor_file,
    }
}

/// A self-signed OV frontchannel certificate for `name` (its own anchor).
fn cert(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.distinguished_name
        .push(DnType::OrganizationName, "Lint Test CA B.V.");
    p.distinguished_name.push(DnType::CountryName, "NL");
    p.key_usages = vec![Ku::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    p.not_after = p.not_before + time::Duration::days(90);
    p.custom_extensions
        .push(medmij_testpki::ext::certificate_policies(&["2.23.140.1.2.2"]).unwrap());
    let pem = p.self_signed(&KeyPair::generate().unwrap()).unwrap().pem();
    let f = dir.join(format!("{name}.pem"));
    std::fs::write(&f, pem).unwrap();
    (f.clone(), f)
}

fn linter(
    resolver: SocketAddr,
    anchor: Option<PathBuf>,
    trust: PathBuf,
    timeout: Duration,
) -> Linter {
    linter_within(resolver, anchor, trust, timeout, Duration::from_secs(60))
}

fn linter_within(
    resolver: SocketAddr,
    anchor: Option<PathBuf>,
    trust: PathBuf,
    timeout: Duration,
    budget: Duration,
) -> Linter {
    Linter::new(Options {
        role: Role::Frontchannel,
        profile: Profile::builtin("medmij-2025").unwrap(),
        environment: Environment::Production,
        at: time::OffsetDateTime::now_utc().unix_timestamp(),
        trust_anchors: vec![trust],
        crl_files: vec![],
        revocation: None,
        fetch_timeout: Duration::from_secs(2),
        dns: Some(DnsConfig {
            resolver: Some(resolver),
            trust_anchor: anchor,
            timeout: Some(timeout),
            budget: Some(budget),
        }),
        caa_identifiers: vec!["test-ca.example".into()],
    })
    .unwrap()
}

fn finding<'a>(r: &'a FileReport, check: &str) -> (Status, &'a str) {
    let f = r.findings.iter().find(|f| f.check == check).unwrap();
    (f.status, &f.message)
}

#[test]
fn caa_and_dnssec_against_bind_and_unbound() {
    let tmp = tempfile::tempdir().unwrap();
    let dns = start(tmp.path());
    // name, CAA, DNSSEC, a word the CAA message must hold
    let cases: &[(&str, Status, Status, &str)] = &[
        (
            "signed-caa.lint.test",
            Status::Pass,
            Status::Pass,
            "authorizes the issuing CA",
        ),
        (
            "nocaa.lint.test",
            Status::Fail,
            Status::Pass,
            "no CAA record set",
        ),
        (
            "www.parent.lint.test",
            Status::Pass,
            Status::Pass,
            "record set at parent.lint.test",
        ),
        (
            "otherca.lint.test",
            Status::Fail,
            Status::Pass,
            "other-ca.example",
        ),
        ("alias.lint.test", Status::Pass, Status::Pass, "authorizes"),
        ("badiodef.lint.test", Status::Fail, Status::Pass, "iodef"),
        (
            "www.unsigned.lint.test",
            Status::Pass,
            Status::Warning,
            "authorizes",
        ),
        ("bogus.lint.test", Status::Error, Status::Fail, "bogus"),
    ];
    let mut problems = Vec::new();
    for (name, caa, sec, word) in cases {
        let (file, anchor) = cert(tmp.path(), name);
        let l = linter(
            dns.resolver,
            Some(dns.anchor.clone()),
            anchor,
            Duration::from_secs(3),
        );
        let r = l.lint_file(&file);
        assert!(r.error.is_none(), "{name}: {:?}", r.error);
        let (cs, cm) = finding(&r, "frontchannel.caa");
        let (ds, dm) = finding(&r, "frontchannel.dnssec");
        if cs != *caa || ds != *sec || !cm.contains(word) {
            problems.push(format!("{name}: CAA {cs:?} ({cm}), DNSSEC {ds:?} ({dm}); expected {caa:?} with `{word}`, {sec:?}"));
        }
        // The certificate checks run whatever DNS says.
        assert_eq!(
            finding(&r, "frontchannel.ov-or-better").0,
            Status::Pass,
            "{name}"
        );
    }
    // Without our root's keys the linter validates from the IANA root keys, which do not sign
    // this root: never "secure".
    let (file, anchor) = cert(tmp.path(), "signed-caa.lint.test");
    let r = linter(dns.resolver, None, anchor.clone(), Duration::from_secs(3)).lint_file(&file);
    assert_ne!(
        finding(&r, "frontchannel.dnssec").0,
        Status::Pass,
        "{}",
        finding(&r, "frontchannel.dnssec").1
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // An unreachable resolver and one that answers garbage: DNS checks are errors with the
    // reason; the certificate checks still run; nothing hangs past the timeout.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let liar = UdpSocket::bind("127.0.0.1:0").unwrap();
    let liar_addr = liar.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((_, from)) = liar.recv_from(&mut buf) {
            let _ = liar.send_to(b"\x00\x01garbage that is not DNS", from);
        }
    });
    for (what, addr) in [
        ("silent", silent.local_addr().unwrap()),
        ("liar", liar_addr),
    ] {
        let t0 = Instant::now();
        let r = linter(
            addr,
            Some(dns.anchor.clone()),
            anchor.clone(),
            Duration::from_secs(1),
        )
        .lint_file(&file);
        let (cs, cm) = finding(&r, "frontchannel.caa");
        assert_eq!(cs, Status::Error, "{what}: {cm}");
        assert_eq!(
            finding(&r, "frontchannel.dnssec").0,
            Status::Error,
            "{what}"
        );
        assert_eq!(
            finding(&r, "frontchannel.ov-or-better").0,
            Status::Pass,
            "{what}"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{what} took {:?}",
            t0.elapsed()
        );
    }

    // A certificate with many names against a silent resolver: the per-certificate budget ends
    // the DNS work; the names not reached are errors that say so.
    let names: Vec<String> = (0..8).map(|i| format!("n{i}.lint.test")).collect();
    let mut p = CertificateParams::new(names.clone()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    p.key_usages = vec![Ku::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let many = tmp.path().join("many.pem");
    std::fs::write(
        &many,
        p.self_signed(&KeyPair::generate().unwrap()).unwrap().pem(),
    )
    .unwrap();
    let t0 = Instant::now();
    let r = linter_within(
        silent.local_addr().unwrap(),
        None,
        many.clone(),
        Duration::from_secs(1),
        Duration::from_secs(3),
    )
    .lint_file(&many);
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t0.elapsed()
    );
    let (cs, cm) = finding(&r, "frontchannel.caa");
    assert_eq!(cs, Status::Error);
    assert!(cm.contains("DNS budget"), "{cm}");
}
