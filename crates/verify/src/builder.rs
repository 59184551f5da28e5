//! `Verifier::builder(profile, environment)`: the one way a tool makes a verifier from a profile
//! (the CLI today; the gateway, scanner and client probe next). The profile decides revocation
//! fail modes, CRL grace and the intermediate allow-list; the channel decides the backchannel's
//! extra rules (no wildcards, the allow-list). Weakening anything the profile asks for (revocation
//! soft or off) is possible only through [`VerifierBuilder::dangerous`], named so, as in rustls.

use crate::anchors::{AnchorError, TrustStore};
use crate::http::HttpClient;
use crate::revocation::{Depth, Engine, Policy};
use crate::verifier::Verifier;
use crate::whitelist::Store;
use medmij_core::profile::{FailMode, MAX_CRL_GRACE_SECONDS};
use medmij_core::{Environment, Profile};
use std::path::PathBuf;
use std::sync::Arc;

/// Which traffic the verifier guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Node to node: PKIoverheid private anchors, no wildcards, the profile's allow-list.
    Backchannel,
    /// Browser-facing: public anchors.
    Frontchannel,
}

/// Why a verifier could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No trust anchor was given.
    #[error("no trust anchors configured: install the PKIoverheid roots (or a test PKI's root) and name them")]
    NoAnchors,
    /// The anchor files could not be loaded.
    #[error(transparent)]
    Anchors(#[from] AnchorError),
    /// A profile value the engine cannot use.
    #[error("profile {profile}: {what}")]
    Profile {
        /// The profile's id.
        profile: String,
        /// What is wrong.
        what: String,
    },
}

/// Builds a [`Verifier`] from a profile. Made by [`Verifier::builder`].
#[must_use]
pub struct VerifierBuilder<'p> {
    profile: &'p Profile,
    environment: Environment,
    channel: Channel,
    anchors: Option<TrustStore>,
    anchor_files: Vec<PathBuf>,
    http: HttpClient,
    crl_files: Vec<(String, Vec<u8>)>,
    depth: Depth,
    cache_dir: Option<PathBuf>,
    whitelist: Option<Arc<Store>>,
    crl: FailMode,
    ocsp: FailMode,
    from_memory: bool,
    fetch_misses: bool,
}

impl Verifier {
    /// A builder for a verifier under `profile` in `environment` (backchannel unless told
    /// otherwise; revocation as the profile says).
    pub fn builder(profile: &Profile, environment: Environment) -> VerifierBuilder<'_> {
        VerifierBuilder {
            profile,
            environment,
            channel: Channel::Backchannel,
            anchors: None,
            anchor_files: Vec::new(),
            http: HttpClient::default(),
            crl_files: Vec::new(),
            depth: Depth::Chain,
            cache_dir: None,
            whitelist: None,
            crl: profile.revocation.crl,
            ocsp: profile.revocation.ocsp,
            from_memory: false,
            fetch_misses: false,
        }
    }
}

impl<'p> VerifierBuilder<'p> {
    /// Which traffic the verifier guards.
    pub fn channel(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// Trust these anchors (already loaded).
    pub fn trust_anchors(mut self, anchors: TrustStore) -> Self {
        self.anchors = Some(anchors);
        self
    }

    /// Trust the certificates in these files (PEM or DER), matched to the profile's pins.
    pub fn trust_anchor_files(mut self, files: &[PathBuf]) -> Self {
        self.anchor_files.extend_from_slice(files);
        self
    }

    /// Fetch CRLs and OCSP with this client (deadline, size cap).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// CRL files (name, DER) to use besides the distribution points.
    pub fn crl_files(mut self, files: Vec<(String, Vec<u8>)>) -> Self {
        self.crl_files = files;
        self
    }

    /// Check revocation of the leaf only, or of the whole chain (default).
    pub fn depth(mut self, depth: Depth) -> Self {
        self.depth = depth;
        self
    }

    /// Keep fetched CRLs in this directory across restarts.
    pub fn crl_cache_dir(mut self, dir: PathBuf) -> Self {
        self.cache_dir = Some(dir);
        self
    }

    /// Check peers against this (refreshed) whitelist.
    pub fn whitelist(mut self, store: Arc<Store>) -> Self {
        self.whitelist = Some(store);
        self
    }

    /// Decide revocation from memory, never fetching on the handshake path; run
    /// [`crate::background::spawn`] on the verifier's engine to keep it warm (async servers).
    pub fn decide_from_memory(mut self) -> Self {
        self.from_memory = true;
        self
    }

    /// With `decide_from_memory`: fetch a first contact's status during the handshake
    /// ([`Verifier::fetch_misses_in_place`]).
    pub fn fetch_misses_in_place(mut self) -> Self {
        self.fetch_misses = true;
        self
    }

    /// Hard-fail both mechanisms: stricter than decision 4.5's OCSP soft-fail, always allowed.
    pub fn strict_revocation(mut self) -> Self {
        self.crl = FailMode::Hard;
        self.ocsp = FailMode::Hard;
        self
    }

    /// Settings that weaken what the profile asks for.
    pub fn dangerous(self) -> DangerousVerifierBuilder<'p> {
        DangerousVerifierBuilder { inner: self }
    }

    /// The verifier.
    pub fn build(self) -> Result<Verifier, BuildError> {
        let anchors = match (self.anchors, self.anchor_files.is_empty()) {
            (Some(a), true) => a,
            (None, false) => TrustStore::load(self.profile, self.environment, &self.anchor_files)?,
            (Some(_), false) => {
                return Err(BuildError::Profile {
                    profile: self.profile.id.clone(),
                    what: "give trust anchors either loaded or as files, not both".into(),
                })
            }
            (None, true) => return Err(BuildError::NoAnchors),
        };
        let grace = self.profile.revocation.crl_grace_seconds;
        if grace > MAX_CRL_GRACE_SECONDS {
            return Err(BuildError::Profile {
                profile: self.profile.id.clone(),
                what: format!("crl_grace_seconds {grace} is over {MAX_CRL_GRACE_SECONDS}"),
            });
        }
        let policy = Policy {
            crl: self.crl,
            ocsp: self.ocsp,
            depth: self.depth,
            crl_grace: i64::try_from(grace).unwrap_or(i64::MAX),
            cache_dir: self.cache_dir,
            ..Policy::default()
        };
        let engine = Arc::new(Engine::new(policy, self.http, self.crl_files));
        let mut v = Verifier::new(anchors, engine).with_ncsc(self.profile.ncsc);
        if self.channel == Channel::Backchannel {
            v = v.forbid_wildcards();
            if self.profile.backchannel.enforce_intermediates {
                v = v.with_intermediate_allowlist(self.profile.backchannel.intermediates.clone());
            }
        }
        if let Some(w) = self.whitelist {
            v = v.with_whitelist_store(w);
        }
        if self.from_memory {
            v = v.decide_from_memory();
            if self.fetch_misses {
                v = v.fetch_misses_in_place();
            }
        }
        Ok(v)
    }
}

/// Settings that weaken the profile: made by [`VerifierBuilder::dangerous`].
#[must_use]
pub struct DangerousVerifierBuilder<'p> {
    inner: VerifierBuilder<'p>,
}

impl<'p> DangerousVerifierBuilder<'p> {
    /// The same fail mode for both mechanisms, whatever the profile says: `Soft` accepts a
    /// certificate whose status nobody could tell, `Off` never asks.
    pub fn revocation(mut self, mode: FailMode) -> Self {
        self.inner.crl = mode;
        self.inner.ocsp = mode;
        self
    }

    /// Back to the safe settings.
    pub fn finish(self) -> VerifierBuilder<'p> {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_without_anchors_says_so() {
        let p = Profile::default_profile();
        let e = Verifier::builder(&p, Environment::Test)
            .build()
            .unwrap_err();
        assert!(matches!(e, BuildError::NoAnchors), "{e}");
    }

    #[test]
    fn the_profile_decides_revocation_unless_weakened_on_purpose() {
        let p = Profile::default_profile();
        let b = Verifier::builder(&p, Environment::Test);
        assert_eq!((b.crl, b.ocsp), (FailMode::Hard, FailMode::Soft));
        let b = b.strict_revocation();
        assert_eq!((b.crl, b.ocsp), (FailMode::Hard, FailMode::Hard));
        let b = b.dangerous().revocation(FailMode::Off).finish();
        assert_eq!((b.crl, b.ocsp), (FailMode::Off, FailMode::Off));
    }
}
