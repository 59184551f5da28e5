//! The scanner's record and handshake parser on arbitrary server bytes (what a hostile server
//! sends after our ClientHello), both read modes, then the facts it yields judged: an answer or
//! a precise error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medmij_core::{Environment, Profile};
use medmij_scan::judge::{self, Context, Role};
use medmij_scan::wire::flight::{read_answer, Answer, ReadUntil};
use medmij_scan::EndpointFacts;

static PROFILE: std::sync::OnceLock<Profile> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let profile = PROFILE.get_or_init(Profile::default_profile);
    for until in [ReadUntil::ServerHello, ReadUntil::HelloDone] {
        let a = read_answer(&mut std::io::Cursor::new(data), until);
        let _ = a.describe();
        if let Answer::Hello(h) = a {
            let mut f = EndpointFacts {
                speaks_tls: true,
                versions: vec![h.version],
                ..EndpointFacts::default()
            };
            let _ = h.alpn();
            medmij_scan::probe::raw::apply_first_hello(&h, &mut f);
            judge::annotate(&mut f, profile);
            let ctx = Context {
                profile,
                environment: Environment::Production,
                role: Role::Backchannel,
                strict: false,
                date: "2026-12-01".into(),
                linter: None,
            };
            let _ = judge::endpoint(&ctx, "fuzz:443", &f);
        }
    }
});
