//! Helpers shared by the CLI end-to-end tests: the binary, a test PKI made with it, `pki serve`
//! as a child process, a raw HTTP GET.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub(crate) fn bin() -> Command {
    // Whitelist state goes to a directory of this test run, never the user's ~/.local/state.
    static STATE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let state = STATE.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("medmij-tls-test-state-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    });
    let mut c = Command::new(env!("CARGO_BIN_EXE_medmij-tls"));
    c.env("XDG_STATE_HOME", state);
    c
}

pub(crate) fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("running medmij-tls")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `pki serve` as a child process, killed on drop.
pub(crate) struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start_server(dir: &Path) -> Server {
    let mut child = bin()
        .args(["pki", "serve", "--dir", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("serving "),
        "unexpected first line: {line}"
    );
    Server(child)
}

pub(crate) fn http_get(port: u16, path: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, buf[split + 4..].to_vec())
}

pub(crate) struct Pki {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub port: u16,
}

pub(crate) fn init_pki(extra: &[&str]) -> Pki {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut args = vec![
        "pki",
        "init",
        "--dir",
        dir.to_str().unwrap(),
        "--key-alg",
        "ecdsa",
        "--base-url",
        &url,
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    Pki {
        _tmp: tmp,
        dir,
        port,
    }
}

/// A validator for the published JSON Schema `docs/schema/NAME`.
pub(crate) fn schema_validator(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schema")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the published schema is itself valid")
}

/// Every way `doc` breaks the schema, with where.
pub(crate) fn schema_errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
