//! `medmij-tls gateway` as an operator runs it: `check-config` exit codes and the
//! `FILE:line:column: key: why` line, `run` serving, SIGHUP reloading, SIGTERM draining to exit 0.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn config(pki: &Pki, port: u16, metrics: u16) -> String {
    let crls: Vec<String> = std::fs::read_dir(pki.dir.join("crl"))
        .unwrap()
        .map(|e| format!("\"{}\"", e.unwrap().path().display()))
        .collect();
    format!(
        "environment = \"test\"\nstate_dir = \"state\"\n[backchannel]\nlisten = \"127.0.0.1:{port}\"\n\
         cert = \"certs/g1-za/chain.pem\"\nkey = \"certs/g1-za/key.pem\"\ntrust_anchors = [\"ca/g1-root.pem\"]\n\
         upstream = \"http://127.0.0.1:9\"\n[whitelist]\nsource = \"whitelist.xml\"\n[revocation]\ncrl_files = [{}]\n\
         [metrics]\nlisten = \"127.0.0.1:{metrics}\"\n",
        crls.join(", ")
    )
}

#[test]
fn check_config_says_where_and_run_reloads_and_drains() {
    let pki = init_pki(&[]);
    let cfg = pki.dir.join("gateway.toml");
    let (port, mport) = (free_port(), free_port());
    std::fs::write(&cfg, config(&pki, port, mport)).unwrap();
    let c = cfg.display().to_string();
    let o = run(&["gateway", "check-config", "--config", &c]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).ends_with(": ok\n"));
    // A wrong value: exit 2 and one line FILE:line:column: key: why.
    std::fs::write(
        &cfg,
        config(&pki, port, mport).replace("environment = \"test\"", "environment = \"prod\""),
    )
    .unwrap();
    let o = run(&["gateway", "check-config", "--config", &c]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "medmij-tls: error: {c}:1:15: environment: expected production, acceptance or test"
        )
    );
    // The key of another certificate: found by check-config, as the start would.
    std::fs::write(
        &cfg,
        config(&pki, port, mport).replace("certs/g1-za/key.pem", "certs/g1-pgo/key.pem"),
    )
    .unwrap();
    let o = run(&["gateway", "check-config", "--config", &c]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the key does not match the certificate"),
        "{}",
        stderr(&o)
    );
    // Run it, reload it with SIGHUP, stop it with SIGTERM.
    std::fs::write(&cfg, config(&pki, port, mport)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_medmij-tls"))
        .args(["gateway", "run", "--config", &c])
        .env("RUST_LOG", "info")
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", mport)).is_err() {
        assert!(Instant::now() < deadline, "gateway did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = http_get(mport, "/readyz");
    assert_eq!((status, body.as_slice()), (200, b"ready\n".as_slice()));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(500));
    let (_, metrics) = http_get(mport, "/metrics");
    let metrics = String::from_utf8_lossy(&metrics).into_owned();
    assert!(
        metrics.contains("medmij_gateway_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "gateway did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        err.contains("gateway listening") && err.contains("reloaded") && err.contains("draining"),
        "{err}"
    );
}
