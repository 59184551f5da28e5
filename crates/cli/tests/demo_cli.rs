//! `medmij-tls demo` as the README's first command runs it: exit 0, the summary, report.json
//! against its schema (and each part against its own), nothing left listening afterwards, the
//! HTML report rendered by headless Chromium with a passing and a failing node in the grid, and
//! `--out` refusing a directory the demo did not make.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_medmij-tls"))
}

fn schema(name: &str) -> jsonschema::Validator {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schema")
        .join(name);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    jsonschema::validator_for(&v).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium is needed by this test (scripts/test installs the Debian package)")
}

#[test]
fn the_demo_runs_end_to_end_and_chromium_renders_its_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let started = std::time::Instant::now();
    let o = bin().args(["demo", "--out"]).arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        started.elapsed().as_secs() < 120,
        "the demo took {:?}",
        started.elapsed()
    );
    // The summary: the call's identity headers, a line per node and client, per requirement.
    for want in [
        "→ 200",
        "x-medmij-peer-host: pgo.pgo-leverancier.example",
        "[1] ZA node (gateway): compliant",
        "[2] PGO node (gateway): compliant",
        "[3] misconfigured node",
        "NOT COMPLIANT",
        "[4] PGO outbound proxy (client probe): compliant",
        "core.tls.313",
        "report.html",
    ] {
        assert!(stdout.contains(want), "missing `{want}`:\n{stdout}");
    }
    // report.json: the demo's schema, and each part its own published one.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(errors(&schema("demo-1.json"), &doc), Vec::<String>::new());
    assert_eq!(
        errors(&schema("scan-1.json"), &doc["scan"]),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(&schema("lint-1.json"), &doc["lint"]),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(&schema("probe-client-1.json"), &doc["probe"]),
        Vec::<String>::new()
    );
    // Nothing it started is still listening: every node, the proxy and pki serve refuse.
    let mut addrs: Vec<String> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["address"].as_str().unwrap().to_owned())
        .collect();
    addrs.push(doc["probe"]["listen"].as_str().unwrap().to_owned());
    let conf = std::fs::read_to_string(out.join("pki/pki.json")).unwrap();
    let base: serde_json::Value = serde_json::from_str(&conf).unwrap();
    addrs.push(
        base["base_url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .to_owned(),
    );
    for a in &addrs {
        let addr: std::net::SocketAddr = a.parse().unwrap();
        assert!(
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500))
                .is_err(),
            "{a} still accepts connections after the demo ended"
        );
    }
    // Headless Chromium: the grid has the four columns and both a passing and a failing node.
    let profile = tmp.path().join("chromium");
    let url = format!("file://{}", out.join("report.html").display());
    let dom = chromium(&["--dump-dom", &url], &profile);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    let grid_start = dom
        .find("<table id=\"grid\">")
        .expect("the grid is rendered");
    let grid = &dom[grid_start..grid_start + dom[grid_start..].find("</table>").unwrap()];
    for col in [
        "ZA node (gateway)",
        "PGO node (gateway)",
        "misconfigured node",
        "PGO outbound proxy",
    ] {
        assert!(
            grid.contains(col),
            "column {col} missing from the rendered grid"
        );
    }
    assert!(
        grid.contains("<td class=\"pass\">pass</td>"),
        "no passing cell"
    );
    assert!(
        grid.contains("<td class=\"fail\">fail</td>"),
        "no failing cell"
    );
    let nodes_start = dom.find("<table id=\"nodes\">").unwrap();
    let nodes = &dom[nodes_start..nodes_start + dom[nodes_start..].find("</table>").unwrap()];
    assert!(
        nodes.contains("<tr class=\"pass\"><td>ZA node (gateway)"),
        "{nodes}"
    );
    assert!(
        nodes.contains("<tr class=\"fail\"><td>misconfigured node"),
        "{nodes}"
    );
    let shot = tmp.path().join("report.png");
    let o = chromium(
        &[
            "--window-size=1400,1800",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
        &profile,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let size = std::fs::metadata(&shot).unwrap().len();
    assert!(
        size > 50_000,
        "the screenshot is {size} bytes: an empty page?"
    );
    // Run again into the same directory: it is the demo's, so it is replaced.
    let o = bin().args(["demo", "--out"]).arg(&out).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_demo_refuses_a_directory_it_did_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("precious.txt"), "keep me").unwrap();
    let o = bin()
        .args(["demo", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("was not made by `medmij-tls demo`"), "{err}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn a_second_demo_on_the_same_directory_is_refused_while_the_first_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let first = bin()
        .args(["demo", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first holds the directory once its PKI appears.
    let start = std::time::Instant::now();
    while !out.join("pki").exists() {
        assert!(
            start.elapsed().as_secs() < 60,
            "the first demo never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = bin().args(["demo", "--out"]).arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another `medmij-tls demo` is running"));
    let done = first.wait_with_output().unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "the first demo was not disturbed"
    );
    assert!(out.join("report.html").exists());
}
