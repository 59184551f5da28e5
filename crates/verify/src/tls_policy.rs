//! The one TLS policy: a profile becomes the rustls `CryptoProvider` and the server and client
//! configurations every tool uses (the gateway's listeners, outbound backchannel calls, the
//! client probe). Nothing else assembles a rustls config by hand.
//!
//! **Session resumption is off on the backchannel.** rustls does not call the certificate
//! verifier on a resumed handshake (neither `verify_client_cert` nor `verify_server_cert`), and
//! every resumption issues new tickets, so a chain of resumptions would keep a node connected
//! after its certificate was revoked or it left the whitelist. core.tls.309 asks for the check
//! "at the start of every session", so backchannel server configs keep no session cache and send
//! no tickets, and backchannel client configs never offer a session to resume. The cost is one
//! full handshake (a certificate chain, two signatures, a key exchange) per connection, about a
//! millisecond of CPU on this machine with the warm verifier caches; connection reuse (HTTP
//! keep-alive, HTTP/2) is the cheaper way to save handshakes and keeps the check per session.
//!
//! **Server order.** Server configs pick by their own order (`ignore_client_order`), so a client
//! that lists a sufficient suite first still gets the good one (NCSC cipher-order option).
//!
//! **Strict** keeps only what the profile's NCSC edition rates good. Under 2025-05 that is TLS 1.3
//! with the ML-KEM hybrid groups (X25519MLKEM768 …) only: peers without post-quantum key exchange
//! (openssl 3.0, older browsers) cannot connect. Standard adds what is rated sufficient, good first.
//!
//! **Keys** rated sufficient but unusable by rustls (brainpool, Ed448) cannot be served or
//! verified here; the verifier refuses such peer keys with that reason (`rules::leaf_key`).

use crate::tls::{MedmijClientVerifier, MedmijServerVerifier};
use crate::verifier::Verifier;
use medmij_core::ncsc::{self, Item, Level};
use medmij_core::wire::{CipherSuite, NamedGroup, ProtocolVersion};
use medmij_core::Profile;
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::NoServerSessionStorage;

/// Early data the measuring server takes on a resumed session: one 16 KiB record is enough to
/// see that a client sends it.
const MEASURED_EARLY_DATA: u32 = 16 * 1024;
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use std::sync::Arc;

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The profile leaves nothing rustls can negotiate (no version, suite or group).
    #[error("profile {profile}: no {what} that rustls supports is allowed")]
    NothingAllowed {
        /// The profile's id.
        profile: String,
        /// versions, cipher suites or key-exchange groups.
        what: &'static str,
    },
    /// rustls refused the combination (e.g. a key that does not match the certificate).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// How strictly the NCSC levels are applied: `Strict` drops what the table rates only
/// sufficient (core.tls.301 asks for good; sufficient is a fallback an operator may switch off).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Strictness {
    /// Good and sufficient parameters, good first.
    #[default]
    Standard,
    /// Good parameters only.
    Strict,
}

/// The TLS policy of one profile.
#[derive(Clone, Debug)]
pub struct TlsPolicy {
    profile_id: String,
    provider: Arc<CryptoProvider>,
    versions: Vec<&'static SupportedProtocolVersion>,
}

fn allowed(level: Level, strictness: Strictness) -> bool {
    match strictness {
        Strictness::Standard => matches!(level, Level::Good | Level::Sufficient),
        Strictness::Strict => level == Level::Good,
    }
}

impl TlsPolicy {
    /// The policy of `profile`: aws-lc-rs' suites and groups that the profile's NCSC edition
    /// rates good (and sufficient, unless strict), good first and otherwise in rustls' order;
    /// the versions the profile lets a server offer.
    pub fn new(profile: &Profile, strictness: Strictness) -> Result<TlsPolicy, PolicyError> {
        let base = rustls::crypto::aws_lc_rs::default_provider();
        let level = |item| ncsc::level(profile.ncsc, item);
        let nothing = |what| PolicyError::NothingAllowed {
            profile: profile.id.clone(),
            what,
        };
        let mut suites: Vec<_> = base
            .cipher_suites
            .iter()
            .copied()
            .map(|s| {
                (
                    level(Item::CipherSuite(CipherSuite(u16::from(s.suite())))),
                    s,
                )
            })
            .filter(|(l, _)| allowed(*l, strictness))
            .collect();
        suites.sort_by_key(|(l, _)| *l);
        let mut groups: Vec<_> = base
            .kx_groups
            .iter()
            .copied()
            .map(|g| (level(Item::Group(NamedGroup(u16::from(g.name())))), g))
            .filter(|(l, _)| allowed(*l, strictness))
            .collect();
        groups.sort_by_key(|(l, _)| *l);
        let versions: Vec<&'static SupportedProtocolVersion> = rustls::ALL_VERSIONS
            .iter()
            .copied()
            .filter(|v| {
                let pv = ProtocolVersion(u16::from(v.version));
                profile.versions.server_allowed.iter().any(|a| a.0 == pv)
                    && allowed(level(Item::Version(pv)), strictness)
            })
            .collect();
        if suites.is_empty() {
            return Err(nothing("cipher suites"));
        }
        if groups.is_empty() {
            return Err(nothing("key-exchange groups"));
        }
        if versions.is_empty() {
            return Err(nothing("versions"));
        }
        let provider = CryptoProvider {
            cipher_suites: suites.into_iter().map(|(_, s)| s).collect(),
            kx_groups: groups.into_iter().map(|(_, g)| g).collect(),
            ..base
        };
        Ok(TlsPolicy {
            profile_id: profile.id.clone(),
            provider: Arc::new(provider),
            versions,
        })
    }

    /// The same policy without TLS 1.2 (a listener that offers TLS 1.3 only: the frontchannel
    /// under medmij-2025 unless TLS 1.2 is configured, core.tls.305). `None` when nothing would
    /// be left.
    pub fn tls13_only(&self) -> Option<TlsPolicy> {
        let versions: Vec<_> = self
            .versions
            .iter()
            .copied()
            .filter(|v| v.version == rustls::ProtocolVersion::TLSv1_3)
            .collect();
        (!versions.is_empty()).then(|| TlsPolicy {
            versions,
            ..self.clone()
        })
    }

    /// The provider: suites and groups in preference order.
    pub fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// The versions offered.
    pub fn versions(&self) -> &[&'static SupportedProtocolVersion] {
        &self.versions
    }

    /// A backchannel listener: requires a client certificate (core.tls.308) and verifies it
    /// with `verifier` on every handshake; no session cache, no tickets (see the module doc).
    pub fn backchannel_server(
        &self,
        verifier: Arc<Verifier>,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ServerConfig, PolicyError> {
        let mut cfg = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&self.versions)?
            .with_client_cert_verifier(Arc::new(MedmijClientVerifier::new(
                verifier,
                self.provider.clone(),
            )))
            .with_single_cert(chain, key)?;
        cfg.session_storage = Arc::new(NoServerSessionStorage {});
        cfg.send_tls13_tickets = 0;
        cfg.max_early_data_size = 0;
        // The server's order (good first), not the client's: NCSC's cipher-order option.
        cfg.ignore_client_order = true;
        Ok(cfg)
    }

    /// A frontchannel listener: never requests a client certificate (core.tls.308).
    pub fn frontchannel_server(
        &self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ServerConfig, PolicyError> {
        let mut cfg = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&self.versions)?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        // No 0-RTT: early data is application data before the handshake completes (core.tls.303).
        cfg.max_early_data_size = 0;
        // The server's order (good first), not the client's: NCSC's cipher-order option (rustls
        // follows the client unless told; the scanner's tls.cipher-order found it).
        cfg.ignore_client_order = true;
        Ok(cfg)
    }

    /// An outbound backchannel client: presents `chain`, verifies the server with `verifier`
    /// on every handshake, never resumes (see the module doc).
    pub fn backchannel_client(
        &self,
        verifier: Arc<Verifier>,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ClientConfig, PolicyError> {
        let mut cfg = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&self.versions)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(MedmijServerVerifier::new(
                verifier,
                self.provider.clone(),
            )))
            .with_client_auth_cert(chain, key)?;
        cfg.resumption = Resumption::disabled();
        cfg.enable_early_data = false;
        Ok(cfg)
    }

    /// The scanner's measuring client: every version, suite and group aws-lc-rs implements,
    /// whatever the profile says, because it observes a server rather than enforcing a policy
    /// on it (a server offering only what the profile refuses must still show its chain and
    /// its client-certificate behaviour). `verifier` records what the server sends; `identity`
    /// chooses the client certificate (or none); `alpn` is offered as given. With `early_data` it keeps tickets and may
    /// send 0-RTT data on a resumed session, which only the 0-RTT probe asks for; otherwise
    /// it never resumes and never sends early data (core.tls.303).
    pub fn measuring_client(
        verifier: Arc<dyn rustls::client::danger::ServerCertVerifier>,
        identity: Arc<dyn rustls::client::ResolvesClientCert>,
        alpn: &[&[u8]],
        early_data: bool,
    ) -> Result<ClientConfig, PolicyError> {
        let provider = CryptoProvider {
            cipher_suites: rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES.to_vec(),
            kx_groups: rustls::crypto::aws_lc_rs::ALL_KX_GROUPS.to_vec(),
            ..rustls::crypto::aws_lc_rs::default_provider()
        };
        let mut cfg = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(rustls::ALL_VERSIONS)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(identity);
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        if early_data {
            cfg.enable_early_data = true;
        } else {
            cfg.resumption = Resumption::disabled();
            cfg.enable_early_data = false;
        }
        Ok(cfg)
    }

    /// A server that measures clients (the client probe): every version, suite and group
    /// aws-lc-rs has, so a client's offer is met wherever rustls can, and a client certificate
    /// requested but not required (`client_verifier` records it). `versions` narrows the
    /// versions (the probe's TLS 1.2-only case). With `resumption` it issues tickets and
    /// accepts 0-RTT, so a client that would send early data gets the chance to show it; every
    /// other probe case never resumes, so the client must judge each certificate afresh.
    pub fn measuring_server(
        resolver: Arc<dyn rustls::server::ResolvesServerCert>,
        client_verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>,
        versions: &[&'static rustls::SupportedProtocolVersion],
        resumption: bool,
    ) -> Result<ServerConfig, PolicyError> {
        let provider = CryptoProvider {
            cipher_suites: rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES.to_vec(),
            kx_groups: rustls::crypto::aws_lc_rs::ALL_KX_GROUPS.to_vec(),
            ..rustls::crypto::aws_lc_rs::default_provider()
        };
        let mut cfg = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)?
            .with_client_cert_verifier(client_verifier)
            .with_cert_resolver(resolver);
        cfg.ignore_client_order = true;
        if resumption {
            // Stateful tickets (the default session cache): rustls takes 0-RTT only on those.
            cfg.send_tls13_tickets = 1;
            cfg.max_early_data_size = MEASURED_EARLY_DATA;
        } else {
            cfg.session_storage = Arc::new(NoServerSessionStorage {});
            cfg.send_tls13_tickets = 0;
        }
        Ok(cfg)
    }

    /// The profile this policy was made from.
    pub fn profile_id(&self) -> &str {
        &self.profile_id
    }
}
