//! The requirement registry: every MedMij TLS rule this toolkit enforces or verifies, once.
//!
//! One entry per ID, sorted by ID (a test checks order, uniqueness and completeness against the
//! spec). `grep core.tls.309` over the workspace finds the entry, its checks and its fixtures:
//! code refers to requirements through the constants in [`ids`], never through string literals.

use serde::Serialize;
use std::fmt;

/// A requirement ID such as `core.tls.309`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RequirementId(pub &'static str);

impl RequirementId {
    /// The ID as text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for RequirementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The requirement IDs as constants.
pub mod ids {
    use super::RequirementId;
    /// All traffic over TLS.
    pub const CORE_TLS_300: RequirementId = RequirementId("core.tls.300");
    /// Only NCSC-"good" versions and parameters.
    pub const CORE_TLS_301: RequirementId = RequirementId("core.tls.301");
    /// Explicit deviations from 301.
    pub const CORE_TLS_302: RequirementId = RequirementId("core.tls.302");
    /// No TLS False Start.
    pub const CORE_TLS_303: RequirementId = RequirementId("core.tls.303");
    /// Highest common version.
    pub const CORE_TLS_304: RequirementId = RequirementId("core.tls.304");
    /// The version deviation (TLS 1.2 / 1.3).
    pub const CORE_TLS_305: RequirementId = RequirementId("core.tls.305");
    /// Certificate holders follow their PKI's rules.
    pub const CORE_TLS_307: RequirementId = RequirementId("core.tls.307");
    /// Client certificates: always on the backchannel, never on the frontchannel.
    pub const CORE_TLS_308: RequirementId = RequirementId("core.tls.308");
    /// Peer certificate allowed and not revoked, checked at every session start.
    pub const CORE_TLS_309: RequirementId = RequirementId("core.tls.309");
    /// OCSP stapling tolerated; soft-fail allowed.
    pub const CORE_TLS_310: RequirementId = RequirementId("core.tls.310");
    /// Only PKIoverheid server-auth certificates under the listed roots.
    pub const CORE_TLS_311: RequirementId = RequirementId("core.tls.311");
    /// Complete chain without the root.
    pub const CORE_TLS_313: RequirementId = RequirementId("core.tls.313");
    /// Backchannel certificates are PKIoverheid private.
    pub const CORE_TLS_314: RequirementId = RequirementId("core.tls.314");
    /// Frontchannel certificate rules.
    pub const CORE_TLS_315: RequirementId = RequirementId("core.tls.315");
    /// The whitelist check (our own ID; the rule is named in core.tls.310 and spec §3).
    pub const MEDMIJ_WHITELIST: RequirementId = RequirementId("medmij.whitelist");
}

/// How binding a requirement is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Obligation {
    /// Mandatory ("moet", "is verboden").
    Must,
    /// Recommended, or mandatory under apply-or-explain.
    Should,
    /// Permitted ("mag", "kan").
    May,
}

impl Obligation {
    /// Label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Obligation::Must => "must",
            Obligation::Should => "should",
            Obligation::May => "may",
        }
    }
}

/// A party or object a requirement speaks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A frontchannel TLS server (web front, authorization server).
    FrontchannelServer,
    /// A frontchannel client (browser, app): outside MedMij's control, listed where a rule names it.
    FrontchannelClient,
    /// A backchannel TLS server (token and resource endpoints).
    BackchannelServer,
    /// A backchannel TLS client (a Node calling another Node).
    BackchannelClient,
    /// A frontchannel certificate.
    FrontchannelCertificate,
    /// A backchannel certificate.
    BackchannelCertificate,
}

impl Role {
    /// Label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Role::FrontchannelServer => "frontchannel-server",
            Role::FrontchannelClient => "frontchannel-client",
            Role::BackchannelServer => "backchannel-server",
            Role::BackchannelClient => "backchannel-client",
            Role::FrontchannelCertificate => "frontchannel-certificate",
            Role::BackchannelCertificate => "backchannel-certificate",
        }
    }
}

/// Where the text of a requirement comes from.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Citation {
    /// The source document (a seed in `shared/spec/seeds/`).
    pub document: &'static str,
    /// The responsibility or section inside it.
    pub section: &'static str,
}

/// How far the toolkit covers a requirement on one side (enforce or verify).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageStatus {
    /// Designed, not built yet.
    Planned,
    /// Partly built; `how` says which part.
    Partial,
    /// Built and tested.
    Implemented,
    /// Not machine-checkable; reported as a manual item.
    Manual,
    /// Informational: nothing to enforce or verify on this side.
    NotApplicable,
}

/// One side of the traceability matrix.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Coverage {
    /// What the toolkit does (or will do).
    pub how: &'static str,
    /// Which part of the product does it.
    pub by: &'static str,
    /// How far it is.
    pub status: CoverageStatus,
}

/// One requirement.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Requirement {
    /// The ID.
    pub id: RequirementId,
    /// A short English title in our own words.
    pub title: &'static str,
    /// What the rule asks, in our own words.
    pub summary: &'static str,
    /// How binding it is.
    pub obligation: Obligation,
    /// Where it comes from.
    pub citation: Citation,
    /// Whom it applies to.
    pub roles: &'static [Role],
    /// Profiles it belongs to.
    pub profiles: &'static [&'static str],
    /// How the gateway and library enforce it.
    pub enforced: Coverage,
    /// How the scanner, linter and client probe verify it.
    pub verified: Coverage,
}

const SEED_TLS: &str =
    "seed 000 (Afsprakenstelsel, Verantwoordelijkheden Core | TLS en certificaten)";
const BOTH: &[&str] = &["medmij-2022", "medmij-2025"];

use ids::*;
use CoverageStatus::*;
use Role::*;

/// The registry, sorted by ID.
pub static REGISTRY: &[Requirement] = &[
    Requirement {
        id: CORE_TLS_300,
        title: "All MedMij traffic uses TLS",
        summary: "Every connection on the MedMij network is protected by TLS. Plain HTTP exists only towards the node's own upstream on loopback; a frontchannel HTTP listener may only redirect to HTTPS.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.300" },
        roles: &[FrontchannelServer, BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "`gateway`: every MedMij listener is TLS; plain HTTP only to the loopback upstream and on the optional redirect listener, which answers with a 301 to https and nothing else", by: "gateway", status: Implemented },
        verified: Coverage { how: "`scan`: the endpoint answers with TLS (endpoint.tls); on a frontchannel host plain HTTP serves only a redirect to https or nothing (frontchannel.http-redirect), HSTS reported (frontchannel.hsts)", by: "scanner", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_301,
        title: "Only TLS versions and parameters the NCSC rates good",
        summary: "Versions, cipher suites, key exchange groups, signature algorithms, certificate keys and options must be rated good by the NCSC guidelines of the profile (v2.1 or 2025-05); where several versions are good, at least the lowest is supported.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.301" },
        roles: &[FrontchannelServer, BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "`gateway` listeners and the outbound client take their configs from the TLS policy: good-rated suites and groups first (X25519MLKEM768 preferred), the server's order, sufficient ones dropped with strict = true", by: "gateway (policy)", status: Implemented },
        verified: Coverage { how: "`scan` enumerates versions, suites (NCSC table + IANA rest), groups (HelloRetryRequest / ServerKeyExchange), DH primes (RFC 7919 or custom), SHA-1/SHA-224 key-exchange signatures, compression, secure renegotiation, EMS, server order; the chain's keys and hashes through the linter; classified under the profile's NCSC table (phase-out/insufficient = fail, sufficient = warning, --strict fail); `probe-client` rates what a client offers (versions, suites, groups, signature schemes) the same way (client.* checks)", by: "scanner, client probe", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_302,
        title: "Deviations from 301 only when stated explicitly",
        summary: "The Afsprakenstelsel may deviate from core.tls.301 only by saying so explicitly. Each profile lists its deviations; reports show them as the reason a finding is permitted.",
        obligation: Obligation::May,
        citation: Citation { document: SEED_TLS, section: "core.tls.302" },
        roles: &[FrontchannelServer, BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "deviations are data in the profile; the gateway's policy reads them", by: "policy", status: Implemented },
        verified: Coverage { how: "`scan`: items a profile deviation covers are `info` findings that cite the deviation and its reason", by: "scanner", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_303,
        title: "No TLS False Start (and no 0-RTT)",
        summary: "Clients must not send application data before the handshake has completed; 0-RTT early data is treated the same way and is off on both sides.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.303" },
        roles: &[BackchannelClient, BackchannelServer, FrontchannelServer],
        profiles: BOTH,
        enforced: Coverage { how: "the TLS policy's servers accept no early data and its clients never send it (gateway listeners and outbound proxy; the client probe passes the outbound proxy on client.no-false-start and client.no-early-data)", by: "gateway, library", status: Implemented },
        verified: Coverage { how: "`scan` resumes a TLS 1.3 session and sends 0-RTT data when the ticket allows it: accepted = fail (tls.zero-rtt); `probe-client` holds back its TLS 1.2 Finished and fails a client sending application data first (client.no-false-start), and issues a 0-RTT ticket and fails a client offering early data (client.no-early-data)", by: "client probe, scanner", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_304,
        title: "Highest common TLS version is chosen",
        summary: "The handshake must settle on the highest allowed version both sides support; a TLS 1.3 server offered at most 1.2 must set the RFC 8446 downgrade sentinel.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.304" },
        roles: &[FrontchannelServer, BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "rustls in every gateway listener negotiates the highest common version and sets the downgrade sentinel (the scanner's tls.highest-version / tls.downgrade-sentinel pass on the gateway)", by: "gateway", status: Implemented },
        verified: Coverage { how: "`scan` offers TLS 1.0–1.3 and expects the highest supported (tls.highest-version); offers at most 1.2 to a 1.3 server and expects DOWNGRD\\x01 (tls.downgrade-sentinel); a client's offer is recorded by `probe-client` (its highest version)", by: "scanner, client probe", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_305,
        title: "Version deviation: which TLS versions each side must support",
        summary: "medmij-2022: TLS 1.2 required for everyone, TLS 1.3 where reasonably possible. medmij-2025: TLS 1.3 required for everyone, TLS 1.2 required for clients and allowed for servers (to be phased out during 2026).",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.305" },
        roles: &[FrontchannelServer, BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "the profile's versions configure the gateway: backchannel servers and the outbound client 1.3 + 1.2; the frontchannel 1.3 only unless tls12 = true or the profile requires 1.2", by: "gateway (policy)", status: Implemented },
        verified: Coverage { how: "`scan`: a version the profile requires of a server missing = fail (tls.versions-required); TLS 1.3-only readiness per endpoint and per network (tls.tls13-ready); clients: `probe-client` fails a client not offering every version the profile requires of a client (client.versions-required)", by: "scanner, client probe", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_307,
        title: "Certificate holders follow their PKI's rules",
        summary: "Certificate holders commit to the rules of the PKI they obtain certificates from; an organisation may hold several certificates.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.307" },
        roles: &[FrontchannelCertificate, BackchannelCertificate],
        profiles: BOTH,
        enforced: Coverage { how: "informational; the gateway serves a certificate per SNI name", by: "gateway", status: NotApplicable },
        verified: Coverage { how: "informational; the scanner handles different certificates per SNI name", by: "scanner", status: Planned },
    },
    Requirement {
        id: CORE_TLS_308,
        title: "Client certificates: always on the backchannel, never on the frontchannel",
        summary: "A backchannel server always requests a client certificate and aborts the handshake when none is presented; a frontchannel server never requests one.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.308" },
        roles: &[BackchannelServer, FrontchannelServer],
        profiles: BOTH,
        enforced: Coverage { how: "`gateway`: the backchannel listener requires a client certificate and refuses without one with a TLS alert; the frontchannel requests none", by: "gateway", status: Implemented },
        verified: Coverage { how: "`scan`: the TLS 1.2 CertificateRequest from the raw flight, the TLS 1.3 one through a rustls client that records it; without a certificate the server must refuse (alert) on the backchannel and never ask on the frontchannel (tls.client-certificate); acceptable-CA names reported", by: "scanner", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_309,
        title: "Peer certificate allowed and not revoked at every session start",
        summary: "Backchannel nodes check at the start of every session that the peer certificate is allowed (core.tls.311) and not revoked (CRL or OCSP); on failure the certificate is refused and the session does not start.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.309" },
        roles: &[BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "verifier in both directions (chain to the profile's anchors, EKU, validity, CRL and OCSP with caches, a refusal is a TLS alert); the gateway decides from memory, fetches a first contact in place within the deadline, refreshes in the background, and re-checks the stored peer chain on open connections", by: "verifier + revocation", status: Implemented },
        verified: Coverage { how: "`scan` presents no, self-signed and unknown-CA certificates, and with `--probe-pki DIR` revoked, expired, not-yet-valid, clientAuth-only and not-whitelisted ones; each must be refused with a TLS alert in the handshake (refusal.*), an HTTP error after it is a fail; clients: `probe-client` serves certificates revoked on the CRL only and at the OCSP responder only (client.refuses-revoked-crl/-ocsp)", by: "scanner, client probe; test PKI fixtures", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_310,
        title: "OCSP stapling tolerated; soft-fail allowed",
        summary: "A stapled OCSP response may be used and must never by itself cause an error; when the responder does not answer, a node may proceed (soft-fail). The whitelist check is the primary access mechanism.",
        obligation: Obligation::May,
        citation: Citation { document: SEED_TLS, section: "core.tls.310" },
        roles: &[BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "verifier uses valid staples (never fatal when invalid) and falls back to fetching; hard/soft/off per mechanism; the gateway staples a fresh OCSP answer for its own certificate (none rather than stale)", by: "gateway, verifier", status: Implemented },
        verified: Coverage { how: "`scan` reports stapling (TLS 1.2 CertificateStatus, TLS 1.3 via the recording client) and calls it not applicable when the certificate names no responder (tls.ocsp-stapling); `probe-client` staples a valid answer and fails a client that refuses it (client.accepts-stapled)", by: "scanner, client probe; test PKI OCSP responder", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_311,
        title: "Only PKIoverheid server-auth certificates under the listed roots",
        summary: "Backchannel nodes accept only PKIoverheid certificates meant for server authentication (EKU contains serverAuth, also for client certificates), still valid, chaining to a listed root that is not revoked; everything else is explicitly refused.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.311" },
        roles: &[BackchannelServer, BackchannelClient, BackchannelCertificate],
        profiles: BOTH,
        enforced: Coverage { how: "verifier: webpki path to the profile's anchors (each candidate path's anchor validity and cut-off date checked during path building), leaf EKU serverAuth checked separately (client certificates too; anyExtendedKeyUsage refused), no keyCertSign in a leaf, optional intermediate allow-list; on the handshake path also RFC 5280 serial form (positive, at most 20 octets) and name-string encoding of every sent certificate, so the linter need not be run for those", by: "verifier", status: Implemented },
        verified: Coverage { how: "`lint`: the verifier's chain rules (EKU, validity, anchors, encoding, key, revocation with --revocation/--crl) plus keyUsage, SAN/CN, extensions and days left; policy OIDs under core.tls.314; clients: `probe-client` serves expired, unknown-root and clientAuth-only server certificates and fails a client that completes the handshake (client.refuses-*)", by: "linter, client probe; test PKI fixtures", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_313,
        title: "Send the complete chain, without the root",
        summary: "Certificates are sent as a complete chain with all intermediates and without the root certificate, at least in production and acceptance.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.313" },
        roles: &[BackchannelServer, BackchannelClient, FrontchannelServer],
        profiles: BOTH,
        enforced: Coverage { how: "verifier refuses an incomplete peer chain and warns on a root in it; the gateway builds its own path at start and reload (a missing intermediate is an error naming the issuer; a root is dropped with a warning)", by: "verifier, gateway", status: Implemented },
        verified: Coverage { how: "`lint` on the chain file and `scan` on the Certificate message exactly as sent: root present = fail, wrong order = warning, missing intermediate = fail (no AIA chasing)", by: "scanner, linter; test PKI fixtures", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_314,
        title: "Backchannel certificates are PKIoverheid private certificates",
        summary: "For backchannel authentication every node presents a PKIoverheid private certificate from a PKIoverheid TSP (G1; its successor G4 by decision 4.3).",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.314" },
        roles: &[BackchannelCertificate],
        profiles: BOTH,
        enforced: Coverage { how: "verifier trusts anchors matched to the profile's pins (subject + SHA-256); others warn outside the test environment; `anchors fetch` keeps only pinned files; backchannel verifiers refuse wildcard names (whitelist names are exact; PKIoverheid G4 forbids wildcards)", by: "verifier", status: Implemented },
        verified: Coverage { how: "`lint`: the PKIoverheid private server policy OID (G1/G4; the CIBG acceptance arcs outside production), the OIN reported, no IP SAN in G4, no wildcard, the chain to the pinned roots", by: "linter; test PKI fixtures", status: Implemented },
    },
    Requirement {
        id: CORE_TLS_315,
        title: "Frontchannel certificates: public OV or better, no wildcards, CAA, DNSSEC",
        summary: "Production frontchannel certificates chain to a publicly trusted (WebTrust-audited) root, are OV or better, have no wildcard names, multi-domain only with one owner, CAA records for every name, DNSSEC (apply-or-explain), an issuer accountable under the GDPR, and a key generated on the platform.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.315; seed 004 (Uitwerking Epic AF-1273) §2, §6.4" },
        roles: &[FrontchannelCertificate, FrontchannelServer],
        profiles: BOTH,
        enforced: Coverage { how: "`gateway` refuses to start a production frontchannel listener with a DV or wildcard certificate (frontchannel.ov-or-better, frontchannel.no-wildcard on the chain file)", by: "gateway", status: Implemented },
        verified: Coverage { how: "`lint --role frontchannel [--dns]`: public root, policy OIDs (OV/EV/ETSI; DV only in test), wildcards, registrable domains (public suffix list), issuer in the EU/EEA, CA/B maximum validity, CAA tree climbing, DNSSEC validated by the linter; key generation and management as manual items; `pki csr` generates keys locally", by: "linter, test PKI (csr)", status: Implemented },
    },
    Requirement {
        id: MEDMIJ_WHITELIST,
        title: "Whitelist check: only listed MedMij nodes take part in backchannel traffic",
        summary: "Outbound, connect only to hostnames on the MedMij whitelist (exact, lowercase) whose server certificate matches; inbound, accept a client certificate only if one of its SAN dNSNames is on the whitelist. The list is validated, refreshed, kept last-good and never rolled back.",
        obligation: Obligation::Must,
        citation: Citation { document: SEED_TLS, section: "core.tls.310 (toelichting: de Whitelist-controle); spec §3, decision 4.4" },
        roles: &[BackchannelServer, BackchannelClient],
        profiles: BOTH,
        enforced: Coverage { how: "outbound hostname and inbound client SAN dNSNames checked against the whitelist (verifier); list validated, refreshed, persisted last-good, no rollback; the gateway's outbound proxy refuses unlisted hosts with a 403 and its backchannel re-checks open connections when the list changes", by: "verifier (whitelist), gateway", status: Implemented },
        verified: Coverage { how: "`scan --whitelist` scans every listed node; the not-whitelisted refusal probe checks that a backchannel server refuses a valid certificate whose names are not listed (refusal.not-whitelisted)", by: "scanner, linter; test PKI fixture", status: Implemented },
    },
];

/// Looks up a requirement by ID.
pub fn requirement(id: RequirementId) -> Option<&'static Requirement> {
    REGISTRY
        .binary_search_by_key(&id.0, |r| r.id.0)
        .ok()
        .map(|i| &REGISTRY[i])
}

/// Looks up a requirement by its textual ID (for files and command lines).
pub fn requirement_by_str(id: &str) -> Option<&'static Requirement> {
    REGISTRY
        .binary_search_by_key(&id, |r| r.id.0)
        .ok()
        .map(|i| &REGISTRY[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::shared_file;

    #[test]
    fn registry_is_sorted_and_unique() {
        for w in REGISTRY.windows(2) {
            assert!(
                w[0].id < w[1].id,
                "{} must sort before {}",
                w[0].id,
                w[1].id
            );
        }
    }

    #[test]
    fn registry_covers_every_requirement_in_the_spec() {
        let spec = shared_file("spec/requirements.md");
        let mut in_spec: Vec<String> = spec
            .match_indices("**core.tls.")
            .map(|(i, _)| spec[i + 2..i + 2 + "core.tls.300".len()].to_string())
            .collect();
        in_spec.sort();
        in_spec.dedup();
        assert_eq!(in_spec.len(), 14, "spec lists {in_spec:?}");
        let mut ours: Vec<String> = REGISTRY
            .iter()
            .map(|r| r.id.0.to_string())
            .filter(|i| i.starts_with("core.tls."))
            .collect();
        ours.sort();
        assert_eq!(ours, in_spec);
        assert!(requirement(ids::MEDMIJ_WHITELIST).is_some());
    }

    #[test]
    fn every_entry_has_text_roles_and_profiles() {
        for r in REGISTRY {
            assert!(!r.title.is_empty() && r.summary.len() > 40, "{}", r.id);
            assert!(!r.roles.is_empty() && !r.profiles.is_empty(), "{}", r.id);
            assert!(
                r.citation.section.contains(r.id.0) || r.id == ids::MEDMIJ_WHITELIST,
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn lookup_by_text_and_constant_agree() {
        assert_eq!(
            requirement_by_str("core.tls.309").map(|r| r.id),
            Some(ids::CORE_TLS_309)
        );
        assert!(requirement_by_str("core.tls.306").is_none());
    }
}
