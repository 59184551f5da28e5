//! Helpers shared by the test PKI's integration tests.
#![allow(dead_code)]

use medmij_testpki::catalogue::Catalogue;
use medmij_testpki::hierarchy::Hierarchy;
use medmij_testpki::init::{init, InitOptions};
use medmij_testpki::keys::KeyStyle;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh PKI in a temp dir; P-256 everywhere except the hierarchies listed as RSA.
pub(crate) fn fresh_pki(
    rsa_for: &[Hierarchy],
    base_url: &str,
) -> (tempfile::TempDir, PathBuf, Catalogue) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let mut opts = InitOptions {
        key_style: KeyStyle::Ecdsa,
        base_url: base_url.into(),
        ..InitOptions::default()
    };
    for h in rsa_for {
        opts.key_style_for.insert(*h, KeyStyle::Rsa);
    }
    let cat = init(&dir, &opts).unwrap();
    (tmp, dir, cat)
}

/// Fails loudly when a tool the test needs is missing (CI installs it; see scripts/test).
pub(crate) fn require_tool(tool: &str) {
    let ok = Command::new(tool).arg("version").output().is_ok();
    assert!(ok, "`{tool}` is required by this test and was not found on PATH: run scripts/test, which installs it");
}

pub(crate) fn openssl(args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Reserves a loopback port (bind to port 0, read it, release it).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
