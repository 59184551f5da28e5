//! The generated documentation is current: docs/requirements.md is `requirements --format md`,
//! docs/troubleshooting.md carries `requirements --refusals --format md`, docs/probe-client.md
//! carries `probe-client --list --format md`. Regenerate with the command named in the failure.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn out(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_medmij-tls"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(name),
    )
    .unwrap()
}

#[test]
fn generated_docs_are_current() {
    assert!(
        doc("requirements.md") == out(&["requirements", "--format", "md"]),
        "docs/requirements.md is stale: `medmij-tls requirements --format md > docs/requirements.md`"
    );
    let refusals = out(&["requirements", "--refusals", "--format", "md"]);
    assert!(
        doc("troubleshooting.md").contains(&refusals),
        "docs/troubleshooting.md is stale: replace its generated part with `medmij-tls requirements --refusals --format md`"
    );
    // The page is keyed as the logs print a refusal.
    assert!(
        refusals.contains("### `core.tls.309 revoked`"),
        "{refusals}"
    );
    let checks = out(&["probe-client", "--list", "--format", "md"]);
    assert!(
        doc("probe-client.md").contains(&checks),
        "docs/probe-client.md is stale: replace its table with `medmij-tls probe-client --list --format md`"
    );
    for c in [
        "client.no-false-start",
        "client.accepts-stapled",
        "client.refuses-revoked-ocsp",
    ] {
        assert!(checks.contains(c), "{c}");
    }
}
