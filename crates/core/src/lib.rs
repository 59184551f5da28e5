//! MedMij TLS rules as data: the requirement registry, profiles, the NCSC TLS tables and the
//! outcome model that every other part of the toolkit judges against.
//!
//! This crate does no network I/O; the only file it reads is a user's profile file.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod atomic_file;
pub mod checks;
pub mod hex;
pub mod input;
pub mod ncsc;
pub mod outcome;
pub mod profile;
pub mod requirement;
pub mod wire;

pub use profile::{Environment, Profile, ProfileError};
pub use requirement::{ids, Requirement, RequirementId, REGISTRY};

#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    /// The `shared/` folder beside the checkout (or `MEDMIJ_SHARED`). Tests that need it fail
    /// loudly when it is missing: it is part of every CI checkout.
    pub(crate) fn shared_dir() -> PathBuf {
        std::env::var_os("MEDMIJ_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
    }

    pub(crate) fn shared_file(rel: &str) -> String {
        let p = shared_dir().join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (set MEDMIJ_SHARED to the shared/ folder)",
                p.display()
            )
        })
    }
}
