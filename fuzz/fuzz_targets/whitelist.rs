//! The whitelist parser on arbitrary bytes: an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medmij_verify::whitelist::Whitelist;

fuzz_target!(|data: &[u8]| {
    if let Ok(w) = Whitelist::parse(data, "fuzz") {
        let _ = w.contains("za.example.nl");
    }
});
