//! The client probe's ClientHello reader on arbitrary client bytes (what a hostile client sends
//! first), then the facts it yields judged: a ClientHello or a precise error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medmij_core::{Environment, Profile};
use medmij_probe::facts::{ConnectionFacts, Outcome};
use medmij_probe::{judge, Case};
use medmij_scan::{Context, Role};

static PROFILE: std::sync::OnceLock<Profile> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let profile = PROFILE.get_or_init(Profile::default_profile);
    if let Ok((raw, hello)) = medmij_probe::hello::read(&mut std::io::Cursor::new(data)) {
        assert!(raw.len() <= data.len());
        let ctx = Context {
            profile,
            environment: Environment::Test,
            role: Role::Backchannel,
            strict: false,
            date: "2026-12-01".into(),
            linter: None,
        };
        let conn = ConnectionFacts {
            case: Some(Case::Good),
            served: Some(Case::Good),
            hello: Some(hello),
            outcome: Outcome::Completed,
            ..ConnectionFacts::default()
        };
        let _ = judge::client(&ctx, "fuzz", &[conn], &Case::ALL);
    }
});
