//! The check registry: every automated check, once, with its metadata (zlint's model, ruff's
//! registry). A check has a stable name, the requirement it serves, where its rule comes from,
//! when it is in force, and where it runs: on the handshake path (the verifier, the gateway), in
//! the linter, in the scanner. Findings and refusals name their check; requirement IDs come from
//! here, never from strings.
//!
//! The registry is sorted by name; tests check order and uniqueness, that every requirement
//! marked implemented has a check, and that every check has a failing and a passing fixture
//! (a test PKI catalogue entry, or the named integration tests).

use crate::ids::*;
use crate::requirement::RequirementId;
use serde::Serialize;

/// Where a check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Stage {
    /// On every handshake (verifier, gateway): must be cheap and unambiguous.
    Handshake,
    /// In the certificate linter.
    Lint,
    /// In the endpoint scanner.
    Scan,
    /// In the client probe (a server that judges the clients connecting to it).
    Probe,
    /// When a profile or configuration is loaded.
    Config,
}

/// Whose rule a check enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RuleSource {
    /// The MedMij Afsprakenstelsel (the requirement's own text).
    Medmij,
    /// RFC 5280 (certificates and CRLs).
    Rfc5280,
    /// RFC 6960 (OCSP).
    Rfc6960,
    /// The NCSC TLS guidelines.
    Ncsc,
    /// The PKIoverheid Programme of Requirements / CPS.
    Pkioverheid,
    /// The CA/Browser Forum Baseline Requirements.
    CabfBr,
}

/// Where a check's fixtures are: the failing case that shows the check works, and the passing
/// case that shows it does not refuse what is good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "names")]
pub enum Fixtures {
    /// Test PKI catalogue entries list the checks they fail (`checks` in catalogue.json); every
    /// valid entry of the check's role passes it.
    Catalogue,
    /// Integration tests that make their own fixtures (a look-alike root, an expired anchor):
    /// `file::test_name`, each holding both a failing and a passing case.
    Tests(&'static [&'static str]),
}

/// One check.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Check {
    /// Stable name (`area.what`), never reused for another rule.
    pub name: &'static str,
    /// The requirement it serves.
    pub requirement: RequirementId,
    /// One line: what passes.
    pub title: &'static str,
    /// Whose rule it is.
    pub source: RuleSource,
    /// Where in that source.
    pub citation: &'static str,
    /// In force from (RFC 3339 date), when the rule has a start.
    pub effective: Option<&'static str>,
    /// No longer in force from (RFC 3339 date).
    pub ineffective: Option<&'static str>,
    /// Where it runs.
    pub stages: &'static [Stage],
    /// One line: how to fix a failure.
    pub fix: &'static str,
    /// Its fixtures.
    pub fixtures: Fixtures,
}

impl Check {
    /// Whether the check runs at `stage`.
    pub fn runs_at(&self, stage: Stage) -> bool {
        self.stages.contains(&stage)
    }
}

/// Check names as constants, so code names a check without a string literal.
pub mod names {
    #![allow(missing_docs)]
    pub const ANCHOR_NOT_CUT_OFF: &str = "anchor.not-cut-off";
    pub const ANCHOR_PINNED: &str = "anchor.pinned";
    pub const ANCHOR_VALID: &str = "anchor.valid";
    pub const CERT_EXTENSIONS: &str = "cert.extensions";
    pub const CERT_RFC5280_ENCODING: &str = "cert.rfc5280-encoding";
    pub const CERT_SIGNATURE_ALGORITHM: &str = "cert.signature-algorithm";
    pub const CERT_VALIDITY: &str = "cert.validity";
    pub const CHAIN_ALLOWED_INTERMEDIATES: &str = "chain.allowed-intermediates";
    pub const CHAIN_COMPLETE: &str = "chain.complete";
    pub const CHAIN_NO_ROOT: &str = "chain.no-root";
    pub const CHAIN_ORDER: &str = "chain.order";
    pub const CHAIN_PARSES: &str = "chain.parses";
    pub const CHAIN_TRUSTED_ANCHOR: &str = "chain.trusted-anchor";
    pub const CLIENT_ACCEPTS_GOOD: &str = "client.accepts-good";
    pub const CLIENT_ACCEPTS_STAPLED: &str = "client.accepts-stapled";
    pub const CLIENT_CERTIFICATE: &str = "client.certificate";
    pub const CLIENT_CIPHER_SUITES: &str = "client.cipher-suites";
    pub const CLIENT_GROUPS: &str = "client.groups";
    pub const CLIENT_NO_EARLY_DATA: &str = "client.no-early-data";
    pub const CLIENT_NO_FALSE_START: &str = "client.no-false-start";
    pub const CLIENT_REFUSES_CLIENT_AUTH_ONLY: &str = "client.refuses-client-auth-only";
    pub const CLIENT_REFUSES_EXPIRED: &str = "client.refuses-expired";
    pub const CLIENT_REFUSES_MISSING_INTERMEDIATE: &str = "client.refuses-missing-intermediate";
    pub const CLIENT_REFUSES_NOT_WHITELISTED: &str = "client.refuses-not-whitelisted";
    pub const CLIENT_REFUSES_REVOKED_CRL: &str = "client.refuses-revoked-crl";
    pub const CLIENT_REFUSES_REVOKED_OCSP: &str = "client.refuses-revoked-ocsp";
    pub const CLIENT_REFUSES_UNKNOWN_ROOT: &str = "client.refuses-unknown-root";
    pub const CLIENT_REFUSES_WRONG_HOSTNAME: &str = "client.refuses-wrong-hostname";
    pub const CLIENT_SIGNATURE_SCHEMES: &str = "client.signature-schemes";
    pub const CLIENT_VERSIONS_OFFERED: &str = "client.versions-offered";
    pub const CLIENT_VERSIONS_REQUIRED: &str = "client.versions-required";
    pub const ENDPOINT_TLS: &str = "endpoint.tls";
    pub const FRONTCHANNEL_CAA: &str = "frontchannel.caa";
    pub const FRONTCHANNEL_DNSSEC: &str = "frontchannel.dnssec";
    pub const FRONTCHANNEL_GDPR_CA: &str = "frontchannel.gdpr-accountable-ca";
    pub const FRONTCHANNEL_HSTS: &str = "frontchannel.hsts";
    pub const FRONTCHANNEL_HTTP_REDIRECT: &str = "frontchannel.http-redirect";
    pub const FRONTCHANNEL_MAX_VALIDITY: &str = "frontchannel.max-validity";
    pub const FRONTCHANNEL_NO_WILDCARD: &str = "frontchannel.no-wildcard";
    pub const FRONTCHANNEL_OV_OR_BETTER: &str = "frontchannel.ov-or-better";
    pub const FRONTCHANNEL_PUBLIC_ROOT: &str = "frontchannel.public-root";
    pub const FRONTCHANNEL_SINGLE_OWNER: &str = "frontchannel.single-owner";
    pub const LEAF_EKU_SERVER_AUTH: &str = "leaf.eku-server-auth";
    pub const LEAF_HOSTNAME: &str = "leaf.hostname";
    pub const LEAF_KEY_STRENGTH: &str = "leaf.key-strength";
    pub const LEAF_KEY_USAGE: &str = "leaf.key-usage";
    pub const LEAF_NO_IP_SAN: &str = "leaf.no-ip-san";
    pub const LEAF_NO_KEY_CERT_SIGN: &str = "leaf.no-key-cert-sign";
    pub const LEAF_NO_WILDCARD: &str = "leaf.no-wildcard";
    pub const LEAF_OIN: &str = "leaf.oin";
    pub const LEAF_POLICY_OID: &str = "leaf.policy-oid";
    pub const LEAF_RENEWAL_DUE: &str = "leaf.renewal-due";
    pub const LEAF_SAN: &str = "leaf.san";
    pub const MANUAL_KEY_MANAGEMENT: &str = "manual.key-management";
    pub const PEER_WHITELISTED: &str = "peer.whitelisted";
    pub const PROFILE_DEVIATIONS_KNOWN: &str = "profile.deviations-known";
    pub const REFUSAL_CLIENT_AUTH_ONLY: &str = "refusal.client-auth-only";
    pub const REFUSAL_EXPIRED: &str = "refusal.expired";
    pub const REFUSAL_NOT_WHITELISTED: &str = "refusal.not-whitelisted";
    pub const REFUSAL_NOT_YET_VALID: &str = "refusal.not-yet-valid";
    pub const REFUSAL_REVOKED: &str = "refusal.revoked";
    pub const REFUSAL_SELF_SIGNED: &str = "refusal.self-signed";
    pub const REFUSAL_UNKNOWN_CA: &str = "refusal.unknown-ca";
    pub const REVOCATION_NOT_REVOKED: &str = "revocation.not-revoked";
    pub const REVOCATION_STATUS_KNOWN: &str = "revocation.status-known";
    pub const TLS_CIPHER_ORDER: &str = "tls.cipher-order";
    pub const TLS_CIPHER_SUITES: &str = "tls.cipher-suites";
    pub const TLS_CLIENT_CERTIFICATE: &str = "tls.client-certificate";
    pub const TLS_COMPRESSION: &str = "tls.compression";
    pub const TLS_DH_PARAMETERS: &str = "tls.dh-parameters";
    pub const TLS_DOWNGRADE_SENTINEL: &str = "tls.downgrade-sentinel";
    pub const TLS_EXTENDED_MASTER_SECRET: &str = "tls.extended-master-secret";
    pub const TLS_GROUPS: &str = "tls.groups";
    pub const TLS_HIGHEST_VERSION: &str = "tls.highest-version";
    pub const TLS_KEX_SIGNATURE_HASH: &str = "tls.kex-signature-hash";
    pub const TLS_OCSP_STAPLING: &str = "tls.ocsp-stapling";
    pub const TLS_SECURE_RENEGOTIATION: &str = "tls.secure-renegotiation";
    pub const TLS_TLS13_READY: &str = "tls.tls13-ready";
    pub const TLS_VERSIONS_RATED: &str = "tls.versions-rated";
    pub const TLS_VERSIONS_REQUIRED: &str = "tls.versions-required";
    pub const TLS_ZERO_RTT: &str = "tls.zero-rtt";
}

use names::*;
use RuleSource::*;
use Stage::*;

const H: &[Stage] = &[Handshake, Lint];
const HS: &[Stage] = &[Handshake, Lint, Scan];
const L: &[Stage] = &[Lint];
const S: &[Stage] = &[Scan];
const P: &[Stage] = &[Probe];

/// Every check, sorted by name.
pub static CHECKS: &[Check] = &[
    Check { name: ANCHOR_NOT_CUT_OFF, requirement: CORE_TLS_311, title: "the path ends at an anchor still trusted under the profile (the EV root until 2022-12-04)", source: Medmij, citation: "core.tls.311; decision 4.3", effective: None, ineffective: None, stages: H, fix: "use a certificate that chains to a root the profile still trusts (G1 or G4)", fixtures: Fixtures::Tests(&["verify/tests/verifier_rules.rs::an_anchor_past_its_cut_off_leaves_room_for_another_path", "verify/tests/catalogue.rs::an_anchor_past_its_trusted_until_refuses_the_path"]) },
    Check { name: ANCHOR_PINNED, requirement: CORE_TLS_314, title: "outside the test environment every trust anchor is one of the profile's pinned PKIoverheid roots (warning)", source: Medmij, citation: "core.tls.314; decision 4.3", effective: None, ineffective: None, stages: &[Config], fix: "install the real PKIoverheid roots (`anchors fetch`), or judge a test PKI in the test environment", fixtures: Fixtures::Tests(&["verify/tests/real_pkioverheid.rs::real_roots_match_the_profile_pins_and_unpinned_roots_warn_in_production"]) },
    Check { name: ANCHOR_VALID, requirement: CORE_TLS_311, title: "the path's trust anchor is within its own validity period", source: Medmij, citation: "core.tls.311 (older text: \"zolang de geldigheidsdatum niet is verlopen\")", effective: None, ineffective: None, stages: H, fix: "install the current root certificate; an expired root ends no path", fixtures: Fixtures::Tests(&["verify/tests/verifier_rules.rs::an_expired_anchor_is_refused_and_another_path_to_a_valid_anchor_is_taken"]) },
    Check { name: CERT_EXTENSIONS, requirement: CORE_TLS_311, title: "no extension appears twice and every critical extension is one a MedMij node understands", source: Rfc5280, citation: "RFC 5280 §4.2 (one instance per extension; an unrecognized critical extension MUST be rejected)", effective: None, ineffective: None, stages: L, fix: "have the CA reissue the certificate without the duplicate or unknown critical extension", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::hostile_certificates_get_findings_not_crashes"]) },
    Check { name: CERT_RFC5280_ENCODING, requirement: CORE_TLS_311, title: "serial numbers are positive and at most 20 octets; name strings decode as their type", source: Rfc5280, citation: "RFC 5280 §4.1.2.2, §4.1.2.4", effective: None, ineffective: None, stages: H, fix: "have the CA reissue the certificate; a conforming CA never issues these", fixtures: Fixtures::Catalogue },
    Check { name: CERT_SIGNATURE_ALGORITHM, requirement: CORE_TLS_301, title: "every signature in the path uses an algorithm NCSC rates at least sufficient (no SHA-1, no MD5)", source: Ncsc, citation: "NCSC TLS guidelines, certificate signature hash; core.tls.301", effective: None, ineffective: None, stages: HS, fix: "reissue with SHA-256 or better", fixtures: Fixtures::Catalogue },
    Check { name: CERT_VALIDITY, requirement: CORE_TLS_311, title: "every certificate of the path is within its validity period", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: HS, fix: "renew the certificate (or correct the clock)", fixtures: Fixtures::Catalogue },
    Check { name: CHAIN_ALLOWED_INTERMEDIATES, requirement: CORE_TLS_311, title: "the path goes only through intermediates on the profile's allow-list (when enforced)", source: Medmij, citation: "core.tls.311: the listed PKIoverheid intermediates", effective: None, ineffective: None, stages: H, fix: "use a certificate issued under one of the listed PKIoverheid intermediates", fixtures: Fixtures::Tests(&["verify/tests/catalogue.rs::the_intermediate_allow_list_refuses_chains_through_other_intermediates"]) },
    Check { name: CHAIN_COMPLETE, requirement: CORE_TLS_313, title: "the chain sent holds every intermediate up to the root", source: Medmij, citation: "core.tls.313", effective: None, ineffective: None, stages: HS, fix: "configure the server (or client) to send the issuing CA certificates with its own", fixtures: Fixtures::Catalogue },
    Check { name: CHAIN_NO_ROOT, requirement: CORE_TLS_313, title: "the chain sent does not include the self-signed root (a receiver warns and drops it; the linter and scanner fail the sender)", source: Medmij, citation: "core.tls.313", effective: None, ineffective: None, stages: HS, fix: "remove the root certificate from the configured chain file", fixtures: Fixtures::Catalogue },
    Check { name: CHAIN_ORDER, requirement: CORE_TLS_313, title: "the chain file lists the leaf first, then each certificate's issuer (warning)", source: Medmij, citation: "core.tls.313; RFC 8446 §4.4.2 (each certificate certifies the one before it)", effective: None, ineffective: None, stages: L, fix: "order the chain file: leaf, issuing CA, then its issuer", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::chain_order_and_root_are_judged_on_the_file"]) },
    Check { name: CHAIN_PARSES, requirement: CORE_TLS_311, title: "every certificate sent is well-formed DER X.509, at most ten of them", source: Rfc5280, citation: "RFC 5280 §4.1", effective: None, ineffective: None, stages: HS, fix: "send DER certificates as issued; do not edit them", fixtures: Fixtures::Tests(&["cli/tests/hostile_input.rs::errors_are_said_once_and_in_words", "cli/tests/hostile_input.rs::devices_fifos_and_oversized_inputs_are_refused_at_once"]) },
    Check { name: CHAIN_TRUSTED_ANCHOR, requirement: CORE_TLS_311, title: "the path ends at one of the profile's PKIoverheid roots (a look-alike name is not enough)", source: Medmij, citation: "core.tls.311, core.tls.314", effective: None, ineffective: None, stages: HS, fix: "use a PKIoverheid private (G1/G4) certificate; install the real roots (`anchors fetch`)", fixtures: Fixtures::Catalogue },
    Check { name: CLIENT_ACCEPTS_GOOD, requirement: CORE_TLS_311, title: "a client completes the handshake with a valid PKIoverheid-like server certificate for the name it asked for (the baseline of every refusal case)", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: P, fix: "trust the PKIoverheid roots (G1/G4) for backchannel servers and send SNI", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_ACCEPTS_STAPLED, requirement: CORE_TLS_310, title: "a client completes the handshake when the server staples a valid OCSP response", source: Medmij, citation: "core.tls.310 (a stapled response must never by itself cause an error)", effective: None, ineffective: None, stages: P, fix: "accept (or ignore) a stapled OCSP response; do not abort on status_request answers", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_CERTIFICATE, requirement: CORE_TLS_308, title: "a backchannel client presents its certificate when the server requests one, and a MedMij server would accept it (chain, EKU, validity, revocation; the whitelist is not the probe's to know)", source: Medmij, citation: "core.tls.308", effective: None, ineffective: None, stages: P, fix: "configure the client with its PKIoverheid certificate, key and intermediates", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::a_client_certificate_is_judged_as_a_medmij_server_would"]) },
    Check { name: CLIENT_CIPHER_SUITES, requirement: CORE_TLS_301, title: "every cipher suite the client offers is rated good (sufficient: warning; phase-out or insufficient: fail)", source: Ncsc, citation: "NCSC TLS guidelines, cipher suites; core.tls.301", effective: None, ineffective: None, stages: P, fix: "offer only TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256 (TLS 1.3) and ECDHE AEAD suites for TLS 1.2", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::client_offers_are_rated"]) },
    Check { name: CLIENT_GROUPS, requirement: CORE_TLS_301, title: "every key-exchange group the client offers is rated good (sufficient: warning)", source: Ncsc, citation: "NCSC TLS guidelines, key exchange; core.tls.301", effective: None, ineffective: None, stages: P, fix: "offer X25519MLKEM768 first, then x25519 and secp256r1", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::client_offers_are_rated"]) },
    Check { name: CLIENT_NO_EARLY_DATA, requirement: CORE_TLS_303, title: "a client never offers or sends 0-RTT early data", source: Medmij, citation: "core.tls.303; RFC 8446 §8 (replay)", effective: None, ineffective: None, stages: P, fix: "disable early data in the client (rustls `enable_early_data = false`, OpenSSL: no SSL_write_early_data)", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::false_start_and_early_data_are_seen"]) },
    Check { name: CLIENT_NO_FALSE_START, requirement: CORE_TLS_303, title: "a TLS 1.2 client sends no application data before the server's Finished (no False Start)", source: Medmij, citation: "core.tls.303; RFC 7918", effective: None, ineffective: None, stages: P, fix: "disable TLS False Start in the client library (NSS `SSL_ENABLE_FALSE_START`, OpenSSL `SSL_MODE_ENABLE_FALSE_START`)", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::false_start_and_early_data_are_seen"]) },
    Check { name: CLIENT_REFUSES_CLIENT_AUTH_ONLY, requirement: CORE_TLS_311, title: "a client offered a server certificate whose EKU lacks serverAuth aborts the handshake", source: Medmij, citation: "core.tls.311 (EKU TLS Web Server Authentication)", effective: None, ineffective: None, stages: P, fix: "require EKU serverAuth on server certificates", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_REFUSES_EXPIRED, requirement: CORE_TLS_311, title: "a client offered an expired server certificate aborts the handshake", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: P, fix: "check the server certificate's validity period (and the clock)", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_REFUSES_MISSING_INTERMEDIATE, requirement: CORE_TLS_313, title: "a client offered a chain without its intermediate aborts the handshake", source: Medmij, citation: "core.tls.313; core.tls.311", effective: None, ineffective: None, stages: P, fix: "trust only the roots and build the path from what the server sends (no AIA chasing, no intermediates as anchors)", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_REFUSES_NOT_WHITELISTED, requirement: MEDMIJ_WHITELIST, title: "a client never completes a handshake with a host that is not on the whitelist (it should not connect at all)", source: Medmij, citation: "Afsprakenstelsel §3 (whitelist), decision 4.4", effective: None, ineffective: None, stages: P, fix: "look the hostname up in the current whitelist before connecting", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_REFUSES_REVOKED_CRL, requirement: CORE_TLS_309, title: "a client offered a server certificate revoked on its CRL (no OCSP responder named) aborts the handshake", source: Medmij, citation: "core.tls.309", effective: None, ineffective: None, stages: P, fix: "fetch the CRL from the certificate's distribution point at session start (hard-fail)", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_REFUSES_REVOKED_OCSP, requirement: CORE_TLS_309, title: "a client offered a server certificate revoked at its OCSP responder (no CRL distribution point named) aborts the handshake", source: Medmij, citation: "core.tls.309", effective: None, ineffective: None, stages: P, fix: "ask the certificate's OCSP responder and refuse a revoked answer", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_REFUSES_UNKNOWN_ROOT, requirement: CORE_TLS_311, title: "a client offered a chain to a root that is not a PKIoverheid root aborts the handshake", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: P, fix: "trust only the PKIoverheid roots for backchannel servers (not the system store)", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_REFUSES_WRONG_HOSTNAME, requirement: MEDMIJ_WHITELIST, title: "a client offered a valid certificate for another hostname aborts the handshake", source: Medmij, citation: "Afsprakenstelsel §3 (whitelist: the server certificate matches the hostname); RFC 6125", effective: None, ineffective: None, stages: P, fix: "verify the server certificate against the hostname connected to", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::clients_without_verification_fail_the_refusal_cases"]) },
    Check { name: CLIENT_SIGNATURE_SCHEMES, requirement: CORE_TLS_301, title: "the client offers no SHA-1 or SHA-224 signature scheme for the key exchange (rated by the NCSC table)", source: Ncsc, citation: "NCSC TLS guidelines, hash functions for key exchange; core.tls.301", effective: None, ineffective: None, stages: P, fix: "drop SHA-1 and SHA-224 from the client's signature algorithms", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::client_offers_are_rated"]) },
    Check { name: CLIENT_VERSIONS_OFFERED, requirement: CORE_TLS_301, title: "every version the client offers is allowed by the profile and rated good (sufficient or a deviation: reported)", source: Ncsc, citation: "NCSC TLS guidelines, versions; core.tls.301, core.tls.302", effective: None, ineffective: None, stages: P, fix: "switch off SSLv3, TLS 1.0 and TLS 1.1 in the client", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::client_offers_are_rated"]) },
    Check { name: CLIENT_VERSIONS_REQUIRED, requirement: CORE_TLS_305, title: "the client offers every version the profile requires of a client (medmij-2025: TLS 1.3 and 1.2)", source: Medmij, citation: "core.tls.305", effective: None, ineffective: None, stages: P, fix: "enable TLS 1.3 and TLS 1.2 in the client", fixtures: Fixtures::Tests(&["probe/tests/clients.rs::the_gateway_outbound_proxy_passes_every_case", "probe/tests/clients.rs::client_offers_are_rated"]) },
    Check { name: ENDPOINT_TLS, requirement: CORE_TLS_300, title: "the endpoint answers a ClientHello with TLS", source: Medmij, citation: "core.tls.300", effective: None, ineffective: None, stages: S, fix: "serve TLS on the MedMij port (nothing else)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::hostile_servers_give_facts_not_hangs", "scan/tests/interop.rs::openssl_tls13_only"]) },
    Check { name: FRONTCHANNEL_CAA, requirement: CORE_TLS_315, title: "a CAA record set applies to every SAN name, has an issue tag and authorizes the issuing CA", source: Medmij, citation: "core.tls.315; AF-1273; RFC 8659 §3 (relevant record set), §4.2 (issue), §4.4 (iodef)", effective: None, ineffective: None, stages: L, fix: "publish CAA records (e.g. `example.nl. CAA 0 issue \"your-ca.example\"`) naming the CA you order from", fixtures: Fixtures::Tests(&["lint/tests/dns.rs::caa_and_dnssec_against_bind_and_unbound"]) },
    Check { name: FRONTCHANNEL_DNSSEC, requirement: CORE_TLS_315, title: "every SAN name resolves DNSSEC-secure (insecure: warning, apply-or-explain; bogus: fail)", source: Medmij, citation: "core.tls.315; AF-1273 (DNSSEC, pas-toe-of-leg-uit); RFC 4035", effective: None, ineffective: None, stages: L, fix: "sign the zone and publish the DS record at the parent (or explain why not)", fixtures: Fixtures::Tests(&["lint/tests/dns.rs::caa_and_dnssec_against_bind_and_unbound"]) },
    Check { name: FRONTCHANNEL_GDPR_CA, requirement: CORE_TLS_315, title: "the issuing CA is established in the EU/EEA, so accountable under the GDPR (unknown or outside: warning)", source: Medmij, citation: "core.tls.315; AF-1273 (CA aanspreekbaar onder de AVG); GDPR art. 3, art. 27", effective: None, ineffective: None, stages: L, fix: "order from a CA established in the EU/EEA, or record why the CA is accountable under the GDPR (e.g. its EU representative)", fixtures: Fixtures::Catalogue },
    Check { name: FRONTCHANNEL_HSTS, requirement: CORE_TLS_300, title: "the frontchannel HTTPS answer carries Strict-Transport-Security (info; warning when absent)", source: Medmij, citation: "core.tls.300 (HSTS reported as info); RFC 6797", effective: None, ineffective: None, stages: S, fix: "add `Strict-Transport-Security: max-age=31536000` to every HTTPS answer", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::frontchannel_http_redirect_and_hsts"]) },
    Check { name: FRONTCHANNEL_HTTP_REDIRECT, requirement: CORE_TLS_300, title: "plain HTTP on the frontchannel host serves nothing but a redirect to https (or nothing listens)", source: Medmij, citation: "core.tls.300", effective: None, ineffective: None, stages: S, fix: "answer every plain-HTTP request with a 301/308 to the https URL and no content", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::frontchannel_http_redirect_and_hsts"]) },
    Check { name: FRONTCHANNEL_MAX_VALIDITY, requirement: CORE_TLS_315, title: "the validity period is within the CA/B Forum maximum in force when it was issued (398/200/100/47 days)", source: CabfBr, citation: "CA/B Forum BR §6.3.2 (825 days from 2018-03-01, 398 from 2020-09-01; ballot SC-081v3: 200 days from 2026-03-15, 100 from 2027-03-15, 47 from 2029-03-15)", effective: Some("2018-03-01"), ineffective: None, stages: L, fix: "order a certificate with a shorter lifetime (and automate renewal)", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::frontchannel_rules_on_certificates_made_with_rcgen"]) },
    Check { name: FRONTCHANNEL_NO_WILDCARD, requirement: CORE_TLS_315, title: "no wildcard in any SAN dNSName or the subject CN of a frontchannel certificate", source: Medmij, citation: "core.tls.315; AF-1273 §6.4", effective: None, ineffective: None, stages: L, fix: "order a certificate naming each host", fixtures: Fixtures::Catalogue },
    Check { name: FRONTCHANNEL_OV_OR_BETTER, requirement: CORE_TLS_315, title: "the frontchannel leaf carries an OV or EV policy OID (DV only in test)", source: Medmij, citation: "core.tls.315; AF-1273 §2", effective: None, ineffective: None, stages: L, fix: "order an OV (or EV) certificate", fixtures: Fixtures::Catalogue },
    Check { name: FRONTCHANNEL_PUBLIC_ROOT, requirement: CORE_TLS_315, title: "the frontchannel chain ends at a publicly trusted root (the public root store stands in for the WebTrust audit)", source: Medmij, citation: "core.tls.315; AF-1273 (CA met actuele WebTrust-audit)", effective: None, ineffective: None, stages: L, fix: "order the certificate from a publicly trusted CA and send its intermediates", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::frontchannel_rules_on_certificates_made_with_rcgen"]) },
    Check { name: FRONTCHANNEL_SINGLE_OWNER, requirement: CORE_TLS_315, title: "a multi-domain certificate's names belong to one owner (warning: manual confirmation)", source: Medmij, citation: "core.tls.315", effective: None, ineffective: None, stages: L, fix: "confirm that every name belongs to the certificate's organization, or split the certificate", fixtures: Fixtures::Catalogue },
    Check { name: LEAF_EKU_SERVER_AUTH, requirement: CORE_TLS_311, title: "the leaf's EKU contains serverAuth (client certificates too) and not anyExtendedKeyUsage", source: Medmij, citation: "core.tls.311; CABF BR 7.1.2.7.10", effective: None, ineffective: None, stages: HS, fix: "use a PKIoverheid server certificate (EKU serverAuth + clientAuth)", fixtures: Fixtures::Catalogue },
    Check { name: LEAF_HOSTNAME, requirement: MEDMIJ_WHITELIST, title: "the server certificate is valid for the hostname connected to", source: Medmij, citation: "Afsprakenstelsel §3 (whitelist); RFC 6125", effective: None, ineffective: None, stages: HS, fix: "use a certificate whose SAN dNSNames include the node's hostname", fixtures: Fixtures::Tests(&["verify/tests/handshake.rs::client_refuses_a_server_off_the_whitelist_or_with_the_wrong_name"]) },
    Check { name: LEAF_KEY_STRENGTH, requirement: CORE_TLS_301, title: "the leaf key is RSA ≥ 2048, ECDSA P-256/384/521 or EdDSA (and usable by rustls)", source: Ncsc, citation: "NCSC TLS guidelines, certificate keys; core.tls.301", effective: None, ineffective: None, stages: HS, fix: "reissue with an RSA-3072 or P-256 key", fixtures: Fixtures::Catalogue },
    Check { name: LEAF_KEY_USAGE, requirement: CORE_TLS_311, title: "keyUsage is present and fits the key type and EKU (digitalSignature; keyEncipherment only for RSA)", source: CabfBr, citation: "RFC 5280 §4.2.1.3; CA/B Forum BR §7.1.2.7.11", effective: None, ineffective: None, stages: L, fix: "have the CA reissue with keyUsage digitalSignature (and keyEncipherment for RSA only)", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::frontchannel_rules_on_certificates_made_with_rcgen"]) },
    Check { name: LEAF_NO_IP_SAN, requirement: CORE_TLS_314, title: "no iPAddress SAN in a PKIoverheid G4 certificate", source: Pkioverheid, citation: "PKIoverheid G4 (g4-trial README): no IP addresses in SAN", effective: None, ineffective: None, stages: L, fix: "order the certificate for hostnames only", fixtures: Fixtures::Catalogue },
    Check { name: LEAF_NO_KEY_CERT_SIGN, requirement: CORE_TLS_311, title: "an end-entity certificate cannot sign certificates (no keyUsage keyCertSign)", source: Rfc5280, citation: "RFC 5280 §4.2.1.3", effective: None, ineffective: None, stages: H, fix: "have the CA reissue without keyCertSign", fixtures: Fixtures::Catalogue },
    Check { name: LEAF_NO_WILDCARD, requirement: CORE_TLS_314, title: "no wildcard name in a backchannel certificate", source: Pkioverheid, citation: "core.tls.314; whitelist hostnames are exact; PKIoverheid G4 CPS", effective: None, ineffective: None, stages: H, fix: "order a certificate naming each node hostname", fixtures: Fixtures::Catalogue },
    Check { name: LEAF_OIN, requirement: CORE_TLS_314, title: "the backchannel leaf names its organization's OIN (subject serialNumber or organizationIdentifier), reported", source: Pkioverheid, citation: "PKIoverheid PvE (OIN in subject.serialNumber); Logius OIN-stelsel", effective: None, ineffective: None, stages: L, fix: "order the PKIoverheid certificate with the organization's OIN", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::frontchannel_rules_on_certificates_made_with_rcgen"]) },
    Check { name: LEAF_POLICY_OID, requirement: CORE_TLS_314, title: "the leaf carries the PKIoverheid private server policy OID of its hierarchy", source: Pkioverheid, citation: "core.tls.311 note; PKIoverheid PvE (G1 2.16.528.1.1003.1.2.8.6, G4 2.16.528.1.1003.1.2.44.15.35.11)", effective: None, ineffective: None, stages: L, fix: "order a PKIoverheid private services server certificate", fixtures: Fixtures::Catalogue },
    Check { name: LEAF_RENEWAL_DUE, requirement: CORE_TLS_311, title: "the leaf has at least 30 days left (warning below)", source: Medmij, citation: "core.tls.311 (still valid); renewal lead time of the PKIoverheid and CA/B processes", effective: None, ineffective: None, stages: L, fix: "order the renewal now", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::frontchannel_rules_on_certificates_made_with_rcgen"]) },
    Check { name: LEAF_SAN, requirement: CORE_TLS_311, title: "the leaf has a subjectAltName with its DNS names, and a subject CN is one of them", source: CabfBr, citation: "RFC 5280 §4.2.1.6; RFC 6125 §6.4.4; CA/B Forum BR §7.1.4.3", effective: None, ineffective: None, stages: L, fix: "order the certificate with every hostname in the SAN (and the CN, if any, among them)", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::frontchannel_rules_on_certificates_made_with_rcgen"]) },
    Check { name: MANUAL_KEY_MANAGEMENT, requirement: CORE_TLS_315, title: "the private key was generated on the platform that uses it and is managed per the NCSC factsheet (manual)", source: Medmij, citation: "core.tls.315; AF-1273; NCSC factsheet \"Veilig beheer van sleutels\"", effective: None, ineffective: None, stages: L, fix: "generate the key where it is used (`medmij-tls pki csr --hostname H --key-out KEY --csr-out CSR`) and keep it readable by the service only", fixtures: Fixtures::Tests(&["lint/tests/rules.rs::frontchannel_rules_on_certificates_made_with_rcgen"]) },
    Check { name: PEER_WHITELISTED, requirement: MEDMIJ_WHITELIST, title: "the peer's hostname (or, inbound, a SAN dNSName) is on the current whitelist", source: Medmij, citation: "Afsprakenstelsel §3 (whitelist), core.tls.310 note", effective: None, ineffective: None, stages: &[Handshake, Scan], fix: "register the node with the Stelselnode (or connect to a listed node)", fixtures: Fixtures::Catalogue },
    Check { name: PROFILE_DEVIATIONS_KNOWN, requirement: CORE_TLS_302, title: "every deviation a profile declares names a registered requirement and a rated item", source: Medmij, citation: "core.tls.302", effective: None, ineffective: None, stages: &[Config], fix: "name the requirement by its registered ID and the item by its code point", fixtures: Fixtures::Tests(&["core/src/profile.rs::a_bad_value_names_what_was_expected"]) },
    Check { name: REFUSAL_CLIENT_AUTH_ONLY, requirement: CORE_TLS_311, title: "a clientAuth-only certificate of a trusted PKI is refused in the handshake", source: Medmij, citation: "core.tls.311 (EKU serverAuth, also for client certificates)", effective: None, ineffective: None, stages: S, fix: "require EKU serverAuth on client certificates (the MedMij verifier does)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::refusal_probes_against_backchannel_servers"]) },
    Check { name: REFUSAL_EXPIRED, requirement: CORE_TLS_311, title: "an expired client certificate of a trusted PKI is refused in the handshake", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: S, fix: "check client certificate validity in the handshake", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::refusal_probes_against_backchannel_servers"]) },
    Check { name: REFUSAL_NOT_WHITELISTED, requirement: MEDMIJ_WHITELIST, title: "a valid client certificate whose names are not on the whitelist is refused in the handshake", source: Medmij, citation: "Afsprakenstelsel §3 (whitelist), core.tls.310 note", effective: None, ineffective: None, stages: S, fix: "check the client certificate's SAN dNSNames against the whitelist in the handshake", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::refusal_probes_against_backchannel_servers"]) },
    Check { name: REFUSAL_NOT_YET_VALID, requirement: CORE_TLS_311, title: "a not-yet-valid client certificate of a trusted PKI is refused in the handshake", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: S, fix: "check client certificate validity in the handshake", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::refusal_probes_against_backchannel_servers"]) },
    Check { name: REFUSAL_REVOKED, requirement: CORE_TLS_309, title: "a revoked client certificate of a trusted PKI is refused in the handshake", source: Medmij, citation: "core.tls.309", effective: None, ineffective: None, stages: S, fix: "check CRLs/OCSP for client certificates at every session start", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::refusal_probes_against_backchannel_servers"]) },
    Check { name: REFUSAL_SELF_SIGNED, requirement: CORE_TLS_311, title: "a self-signed client certificate is refused in the handshake", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: S, fix: "trust only the PKIoverheid roots for client certificates", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::refusal_probes_against_backchannel_servers"]) },
    Check { name: REFUSAL_UNKNOWN_CA, requirement: CORE_TLS_311, title: "a client certificate from an unknown CA is refused in the handshake", source: Medmij, citation: "core.tls.311", effective: None, ineffective: None, stages: S, fix: "trust only the PKIoverheid roots for client certificates", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::refusal_probes_against_backchannel_servers"]) },
    Check { name: REVOCATION_NOT_REVOKED, requirement: CORE_TLS_309, title: "no certificate of the path is revoked (CRL or OCSP, any valid fresh source)", source: Medmij, citation: "core.tls.309; RFC 5280 §6.3, RFC 6960", effective: None, ineffective: None, stages: HS, fix: "replace the revoked certificate", fixtures: Fixtures::Catalogue },
    Check { name: REVOCATION_STATUS_KNOWN, requirement: CORE_TLS_309, title: "the revocation status is established (hard-fail mechanisms)", source: Medmij, citation: "core.tls.309; decision 4.5 (CRL hard, OCSP soft)", effective: None, ineffective: None, stages: H, fix: "make the CRL distribution point and OCSP responder reachable; check the CRL is fresh and complete", fixtures: Fixtures::Tests(&["verify/tests/revocation_hostile.rs::a_ca_only_crl_never_answers_for_a_revoked_leaf", "verify/tests/revocation_policy.rs::decision_4_5_defaults_ocsp_soft_crl_hard"]) },
    Check { name: TLS_CIPHER_ORDER, requirement: CORE_TLS_301, title: "a TLS 1.2 server picks by its own order, better suites first (unless it offers only good ones)", source: Ncsc, citation: "NCSC TLS guidelines, cipher order; core.tls.301", effective: None, ineffective: None, stages: S, fix: "configure the server to prefer its own suite order (nginx `ssl_prefer_server_ciphers on`)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::openssl_tls13_only"]) },
    Check { name: TLS_CIPHER_SUITES, requirement: CORE_TLS_301, title: "every accepted cipher suite is rated good (sufficient: warning; phase-out or insufficient: fail)", source: Ncsc, citation: "NCSC TLS guidelines, cipher suites; core.tls.301", effective: None, ineffective: None, stages: S, fix: "offer only TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256 (TLS 1.3) and ECDHE AEAD suites for TLS 1.2", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::openssl_tls13_only"]) },
    Check { name: TLS_CLIENT_CERTIFICATE, requirement: CORE_TLS_308, title: "a backchannel server requires a client certificate and aborts without one; a frontchannel server never requests one", source: Medmij, citation: "core.tls.308", effective: None, ineffective: None, stages: S, fix: "backchannel: require a client certificate (nginx `ssl_verify_client on`); frontchannel: request none", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_client_certificate_required_optional_none"]) },
    Check { name: TLS_COMPRESSION, requirement: CORE_TLS_301, title: "TLS compression is refused", source: Ncsc, citation: "NCSC TLS guidelines, options (CRIME); core.tls.301", effective: None, ineffective: None, stages: S, fix: "disable TLS compression", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx"]) },
    Check { name: TLS_DH_PARAMETERS, requirement: CORE_TLS_301, title: "finite-field DHE uses an RFC 7919 group of at least 2048 bits (ffdhe3072 or larger for good)", source: Ncsc, citation: "NCSC TLS guidelines, key exchange (FFDHE); RFC 7919; core.tls.301", effective: None, ineffective: None, stages: S, fix: "drop DHE suites, or use ffdhe3072 (`ssl_dhparam` with the RFC 7919 group)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_dhe_named_group_and_custom_prime"]) },
    Check { name: TLS_DOWNGRADE_SENTINEL, requirement: CORE_TLS_304, title: "a TLS 1.3 server offered at most TLS 1.2 puts the downgrade sentinel in ServerHello.random", source: Medmij, citation: "core.tls.304; RFC 8446 §4.1.3", effective: None, ineffective: None, stages: S, fix: "use a TLS library that implements RFC 8446 downgrade protection", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::hostile_servers_give_facts_not_hangs"]) },
    Check { name: TLS_EXTENDED_MASTER_SECRET, requirement: CORE_TLS_301, title: "a TLS 1.2 server uses the extended master secret (RFC 7627)", source: Ncsc, citation: "NCSC TLS guidelines 2025-05 §4.1; RFC 7627; core.tls.301", effective: None, ineffective: None, stages: S, fix: "upgrade the TLS library (extended master secret is on by default since OpenSSL 1.1.0)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::hostile_servers_give_facts_not_hangs"]) },
    Check { name: TLS_GROUPS, requirement: CORE_TLS_301, title: "every accepted key-exchange group is rated good (X25519MLKEM768 …; sufficient: warning)", source: Ncsc, citation: "NCSC TLS guidelines, key exchange; core.tls.301", effective: None, ineffective: None, stages: S, fix: "offer X25519MLKEM768 first, then x25519 and secp256r1; drop FFDHE below 3072 bits", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls13_only", "scan/tests/interop.rs::openssl_dhe_named_group_and_custom_prime"]) },
    Check { name: TLS_HIGHEST_VERSION, requirement: CORE_TLS_304, title: "offered every version, the server picks the highest it supports", source: Medmij, citation: "core.tls.304", effective: None, ineffective: None, stages: S, fix: "let the TLS library negotiate (do not pin a lower version when TLS 1.3 is enabled)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls13_only", "scan/tests/interop.rs::hostile_servers_give_facts_not_hangs"]) },
    Check { name: TLS_KEX_SIGNATURE_HASH, requirement: CORE_TLS_301, title: "a TLS 1.2 server never signs its key exchange with SHA-1 or SHA-224 (offered only those, it refuses)", source: Ncsc, citation: "NCSC TLS guidelines, hash functions for key exchange; core.tls.301", effective: None, ineffective: None, stages: S, fix: "drop SHA-1 and SHA-224 from the server's signature algorithms", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx"]) },
    Check { name: TLS_OCSP_STAPLING, requirement: CORE_TLS_310, title: "the server staples an OCSP response when its certificate names a responder (not applicable when it names none)", source: Ncsc, citation: "core.tls.310 (stapling allowed); NCSC TLS guidelines, options (OCSP stapling)", effective: None, ineffective: None, stages: S, fix: "enable OCSP stapling (nginx `ssl_stapling on`), or order a certificate without a responder", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls13_only", "scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx"]) },
    Check { name: TLS_SECURE_RENEGOTIATION, requirement: CORE_TLS_301, title: "a TLS ≤ 1.2 server supports secure renegotiation (RFC 5746)", source: Ncsc, citation: "NCSC TLS guidelines, options; RFC 5746; core.tls.301", effective: None, ineffective: None, stages: S, fix: "upgrade the TLS library (RFC 5746 is in every library since 2010)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::hostile_servers_give_facts_not_hangs"]) },
    Check { name: TLS_TLS13_READY, requirement: CORE_TLS_305, title: "the endpoint would still work with TLS 1.3 only (a TLS 1.3 suite and group at least sufficient, the same chain)", source: Medmij, citation: "core.tls.305 (TLS 1.2 phased out during 2026)", effective: None, ineffective: None, stages: S, fix: "enable TLS 1.3 with TLS_AES_256_GCM_SHA384 and X25519MLKEM768/x25519", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::openssl_tls13_only"]) },
    Check { name: TLS_VERSIONS_RATED, requirement: CORE_TLS_301, title: "every accepted version is allowed by the profile and rated good (sufficient, or permitted by a deviation: reported)", source: Ncsc, citation: "NCSC TLS guidelines, versions; core.tls.301, core.tls.302", effective: None, ineffective: None, stages: S, fix: "switch off SSLv3, TLS 1.0 and TLS 1.1", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::openssl_tls13_only"]) },
    Check { name: TLS_VERSIONS_REQUIRED, requirement: CORE_TLS_305, title: "the server supports every version the profile requires of it (medmij-2025: TLS 1.3)", source: Medmij, citation: "core.tls.305", effective: None, ineffective: None, stages: S, fix: "enable TLS 1.3 (and TLS 1.2 where the profile requires it)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::openssl_tls12_only_cbc_and_rsa_kx", "scan/tests/interop.rs::openssl_tls13_only"]) },
    Check { name: TLS_ZERO_RTT, requirement: CORE_TLS_303, title: "the server does not accept 0-RTT early data", source: Medmij, citation: "core.tls.303; RFC 8446 §8 (replay)", effective: None, ineffective: None, stages: S, fix: "disable early data (nginx `ssl_early_data off`)", fixtures: Fixtures::Tests(&["scan/tests/interop.rs::zero_rtt_is_seen_on_a_server_that_accepts_it"]) },
];

/// The check with this name.
pub fn check(name: &str) -> Option<&'static Check> {
    // CHECKS is sorted by name (a unit test holds it to that): every finding looks its check up.
    CHECKS
        .binary_search_by(|c| c.name.cmp(name))
        .ok()
        .map(|i| &CHECKS[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirement::{CoverageStatus, REGISTRY};

    #[test]
    fn checks_are_sorted_unique_and_name_known_requirements() {
        for w in CHECKS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        for c in CHECKS {
            assert!(
                REGISTRY.iter().any(|r| r.id == c.requirement),
                "{}: unknown requirement {}",
                c.name,
                c.requirement
            );
            assert!(!c.stages.is_empty() && !c.fix.is_empty(), "{}", c.name);
        }
    }

    #[test]
    fn every_requirement_marked_implemented_has_a_check() {
        for r in REGISTRY {
            let implemented = r.enforced.status == CoverageStatus::Implemented
                || r.verified.status == CoverageStatus::Implemented;
            if implemented {
                assert!(
                    CHECKS.iter().any(|c| c.requirement == r.id),
                    "{} is marked implemented but no check serves it",
                    r.id
                );
            }
        }
    }
}
