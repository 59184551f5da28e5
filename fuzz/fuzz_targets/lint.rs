//! The linter's entry point over arbitrary bytes: input parsing (PEM/DER, certificates, CSRs),
//! fact reading, the verifier's chain rules and every lint check, and the JSON report. Must never
//! panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use medmij_lint::{Linter, Options, Role};
use std::sync::OnceLock;

fn linters() -> &'static (Linter, Linter) {
    static L: OnceLock<(Linter, Linter)> = OnceLock::new();
    L.get_or_init(|| {
        let opts = |role| Options {
            role,
            profile: medmij_core::Profile::builtin("medmij-2025").expect("built-in profile"),
            environment: medmij_core::Environment::Production,
            at: 1_790_000_000,
            trust_anchors: vec![],
            crl_files: vec![],
            revocation: None,
            fetch_timeout: std::time::Duration::from_millis(10),
            dns: None,
            caa_identifiers: vec![],
        };
        // Backchannel without anchors (facts and lint rules only); frontchannel with the
        // system root store when the machine has one (the verifier's path too).
        (
            Linter::new(opts(Role::Backchannel)).expect("linter"),
            Linter::new(opts(Role::Frontchannel)).expect("linter"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (b, f) = linters();
    for l in [b, f] {
        let r = l.lint_bytes("fuzz", data);
        let _ = serde_json::to_string(&r);
    }
});
