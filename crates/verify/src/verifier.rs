//! The MedMij verifier: one function that decides whether a peer certificate is accepted, with
//! every reason it is not (core.tls.309, 311, 301, the whitelist).
//!
//! Path validation is rustls-webpki's, with `KeyUsage::server_auth()` for the whole path (it
//! only requires serverAuth where an EKU is present, so intermediates without EKU pass). The
//! leaf's EKU must then *contain* serverAuth, checked here, for server and client certificates
//! alike (core.tls.311). Leaf key strength, anchor cut-off dates, the intermediate allow-list,
//! revocation and the whitelist come on top.

use crate::anchors::{Anchor, TrustStore};
use crate::refusal::{Code, Refusal, Warning};
use crate::revocation::{Budget, CertRef, Decision, Depth, Engine, Evidence};
use crate::rules;
use crate::whitelist::Whitelist;
use aws_lc_rs::digest;
use medmij_core::profile::Sha256Fingerprint;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use std::sync::Arc;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::*;

/// Which side the certificate was presented by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// A server we connected to (outbound): its hostname must match and be on the whitelist.
    Server {
        /// The hostname connected to.
        hostname: Option<String>,
    },
    /// A client that connected to us (inbound): one of its SAN dNSNames must be on the whitelist.
    Client,
}

/// A certificate of the chain, for reports.
#[derive(Clone, Debug, Serialize)]
pub struct ChainEntry {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial, hex.
    pub serial: String,
    /// notBefore (RFC 3339).
    pub not_before: String,
    /// notAfter (RFC 3339).
    pub not_after: String,
    /// SHA-256 of the DER.
    pub sha256: String,
    /// `leaf`, `intermediate`, `anchor`, or `extra` (sent but not on the path).
    pub role: String,
}

/// The outcome of one verification.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// Accepted.
    pub accepted: bool,
    /// Every reason for refusal (empty when accepted).
    pub reasons: Vec<Refusal>,
    /// Things an operator should know that do not refuse the certificate.
    pub warnings: Vec<Warning>,
    /// What each revocation source said.
    pub revocation: Vec<Evidence>,
    /// The chain as sent and as validated.
    pub chain: Vec<ChainEntry>,
}

impl Verdict {
    /// The reason that decides the TLS alert (the first one found).
    pub fn first_reason(&self) -> Option<&Refusal> {
        self.reasons.first()
    }
}

/// Everything the verifier needs; cheap to share.
pub struct Verifier {
    anchors: TrustStore,
    webpki_anchors: Vec<rustls_pki_types::TrustAnchor<'static>>,
    revocation: Arc<Engine>,
    whitelist: Option<Arc<crate::whitelist::Store>>,
    static_whitelist: Option<Arc<Whitelist>>,
    intermediates: Option<Vec<Sha256Fingerprint>>,
    path_cache: std::sync::Mutex<std::collections::HashMap<[u8; 32], CachedPath>>,
    forbid_wildcards: bool,
    ncsc: medmij_core::ncsc::NcscVersion,
    from_memory: bool,
    fetch_misses: bool,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("anchors", &self.anchors.anchors().len())
            .finish()
    }
}

/// A validated path, remembered by the hash of the chain as sent.
#[derive(Clone)]
struct CachedPath {
    used: Vec<Vec<u8>>,
    anchor_spki: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

/// Most certificates a peer chain may have: a PKIoverheid chain is the leaf and at most three CAs;
/// ten leaves room for cross-signed and sloppy bundles. A peer sending more is refused before any
/// of it is parsed (parsing and path building cost grows with every certificate).
pub const MAX_CHAIN_CERTIFICATES: usize = 10;

/// Most validated paths remembered (one per peer chain in use; the real network has hundreds).
const PATH_CACHE_MAX: usize = 10_000;

fn path_key(end_entity: &[u8], intermediates: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for c in std::iter::once(&end_entity).chain(intermediates.iter()) {
        ctx.update(&(c.len() as u64).to_be_bytes());
        ctx.update(c);
    }
    let d = ctx.finish();
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub use crate::rules::MIN_RSA_BITS;

/// Why a path ending at `a` is not acceptable at `now`: the anchor's own validity (older
/// core.tls.311: "zolang de geldigheidsdatum niet is verlopen"; webpki does not check it) and
/// the profile's cut-off date for it (the EV root after 2022-12-04).
fn anchor_problem(a: &Anchor, now: i64) -> Option<(Code, String)> {
    if now > a.not_after {
        return Some((
            Code::AnchorExpired,
            format!(
                "the path ends at `{}`, which expired at {}",
                a.name,
                crate::der_time::rfc3339(a.not_after)
            ),
        ));
    }
    if now < a.not_before {
        return Some((
            Code::AnchorExpired,
            format!(
                "the path ends at `{}`, which is valid only from {}",
                a.name,
                crate::der_time::rfc3339(a.not_before)
            ),
        ));
    }
    if let Some(until) = a.trusted_until.filter(|u| now >= *u) {
        return Some((
            Code::AnchorNoLongerTrusted,
            format!(
                "the path ends at `{}`, trusted only until {}",
                a.name,
                crate::der_time::rfc3339(until)
            ),
        ));
    }
    None
}

impl Verifier {
    /// The server name (for a server peer) and the whitelist (core.tls.310 note): the peer's
    /// hostname, or without one (an inbound client, a report on a chain file) its SAN dNSNames.
    fn names_and_whitelist(
        &self,
        ee: &EndEntityCert<'_>,
        peer: &Peer,
        leaf_name: &str,
        sans: &[String],
    ) -> Vec<(Code, String)> {
        let mut out = Vec::new();
        match peer {
            Peer::Server { hostname: Some(h) } => {
                let name_ok = ServerName::try_from(h.as_str())
                    .ok()
                    .map(|n| ee.verify_is_valid_for_subject_name(&n).is_ok())
                    .unwrap_or(false);
                if !name_ok {
                    out.push((
                        Code::HostnameMismatch,
                        format!(
                            "`{leaf_name}` is not valid for `{h}` (SAN dNSNames: {})",
                            sans.join(", ")
                        ),
                    ));
                }
                if self.has_whitelist() {
                    match self.whitelist() {
                        Some(w) if w.contains(h) => {}
                        Some(w) => out.push((
                            Code::NotWhitelisted,
                            format!(
                                "`{h}` is not on the whitelist (Volgnummer {})",
                                w.volgnummer
                            ),
                        )),
                        None => {
                            out.push((Code::NotWhitelisted, "no valid whitelist is loaded".into()))
                        }
                    }
                }
            }
            // No hostname to compare (a report on a chain file, an embedding that did not pass
            // the name): with a whitelist configured, the SANs are checked as for an inbound
            // peer, so leaving the name out never skips the whitelist.
            Peer::Server { hostname: None } | Peer::Client => {
                if self.has_whitelist() {
                    match self.whitelist() {
                        Some(w) if sans.iter().any(|s| w.contains(s)) => {}
                        Some(w) => out.push((Code::NotWhitelisted, format!("none of the certificate's SAN dNSNames ({}) is on the whitelist (Volgnummer {})", sans.join(", "), w.volgnummer))),
                        None => out.push((Code::NotWhitelisted, "no valid whitelist is loaded".into())),
                    }
                }
            }
        }
        out
    }

    /// Revocation of the leaf and, with depth chain, of each intermediate, each against its
    /// issuer up the validated path, within one budget for the chain (core.tls.309).
    #[allow(clippy::too_many_arguments)]
    fn revocation_of(
        &self,
        leaf: &X509Certificate<'_>,
        used: &[(&[u8], X509Certificate<'_>)],
        anchor: Option<&Anchor>,
        anchor_cert: Option<&(&[u8], X509Certificate<'_>)>,
        stapled: Option<&[u8]>,
        now: i64,
        evidence: &mut Vec<Evidence>,
    ) -> Vec<(Code, String)> {
        let mut out = Vec::new();
        // Revocation: leaf, and with depth = chain each intermediate, each against its issuer:
        // (subject, SPKI, may sign CRLs) of each issuer up the path.
        let mut issuers: Vec<(&[u8], &[u8], bool)> = used
            .iter()
            .map(|(_, c)| (c.subject().as_raw(), c.public_key().raw, may_sign_crls(c)))
            .collect();
        if let Some(a) = anchor {
            let crl_sign = anchor_cert
                .as_ref()
                .map(|(_, c)| may_sign_crls(c))
                .unwrap_or(true);
            issuers.push((&a.subject, &a.spki, crl_sign));
        }
        let mut subjects: Vec<&X509Certificate<'_>> = vec![&leaf];
        if self.revocation.policy().depth == Depth::Chain {
            subjects.extend(used.iter().map(|(_, c)| c));
        }
        let chain_budget = Budget::new(self.revocation.policy().chain_budget);
        for (i, cert) in subjects.iter().enumerate() {
            let Some(&(iname, ispki, crl_sign)) = issuers.get(i) else {
                break;
            };
            let r = CertRef {
                issuer_may_sign_crls: crl_sign,
                name: common_name(cert),
                serial: cert.raw_serial(),
                crl_urls: crl_urls(cert),
                ocsp_urls: ocsp_urls(cert),
                issuer_name: iname,
                issuer_spki: ispki,
                is_ca: i > 0,
            };
            let staple = if i == 0 { stapled } else { None };
            let decision = if self.from_memory {
                match self.revocation.check_cached(&r, staple, now, evidence) {
                    // A first contact (nothing in memory for this issuer): fetch now, within the
                    // chain's budget, on this worker thread handed over by block_in_place so the
                    // runtime's other connections go on.
                    Decision::Unknown(_) if self.fetch_misses && in_place_allowed() => {
                        tokio::task::block_in_place(|| {
                            self.revocation
                                .check_within(&r, staple, now, evidence, chain_budget)
                        })
                    }
                    d => d,
                }
            } else {
                self.revocation
                    .check_within(&r, staple, now, evidence, chain_budget)
            };
            match decision {
                Decision::Good => {}
                Decision::Revoked(why) => {
                    out.push((Code::Revoked, format!("`{}` is revoked: {why}", r.name)))
                }
                Decision::Unknown(why) => out.push((
                    Code::RevocationUnknown,
                    format!(
                        "revocation status of `{}` unknown and the policy is hard-fail: {why}",
                        r.name
                    ),
                )),
            }
        }
        out
    }

    /// The validated path of the chain sent (rustls-webpki, with [`Verifier::path_problem`]
    /// inside path building), from the path cache when the same bytes validated before and
    /// nothing time-dependent changed; Err is the refusal.
    #[allow(clippy::too_many_arguments)]
    fn validated_path(
        &self,
        ee: &EndEntityCert<'_>,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        leaf: &X509Certificate<'_>,
        parsed_inter: &[(&[u8], &X509Certificate<'_>)],
        leaf_name: &str,
        now: i64,
    ) -> Result<CachedPath, (Code, String)> {
        let inter_der: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|d| CertificateDer::from(*d))
            .collect();
        // Checks on a candidate path, inside webpki's path building so that another path (through
        // other intermediates, to another anchor) is tried when one fails: the allow-list, the
        // anchor's own validity (webpki does not check it) and its cut-off date. The reason is
        // kept here; webpki sees `CertDistrusted`, which outranks "unknown issuer" so it survives.
        let path_refusal: std::cell::RefCell<Option<(Code, String)>> = Default::default();
        let path_check = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let found = self.path_problem(path, now);
            match found {
                None => Ok(()),
                Some(r) => {
                    path_refusal.borrow_mut().get_or_insert(r);
                    Err(webpki::Error::CertDistrusted)
                }
            }
        };
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            u64::try_from(now).unwrap_or(0),
        ));
        // A chain validated before (same bytes) within its validity window is not re-validated:
        // the signatures cannot have changed. Times, anchor cut-offs, revocation and names are
        // still checked on every call.
        let key = path_key(end_entity, intermediates);
        let cached = self
            .path_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
            .filter(|c| now >= c.not_before && now <= c.not_after)
            .filter(|c| {
                // The anchor's own validity and cut-off are time-dependent: a cached path whose
                // anchor no longer passes is built again (another path may still be good).
                self.anchors
                    .by_spki_value(&c.anchor_spki)
                    .is_none_or(|a| anchor_problem(a, now).is_none())
            });
        match cached {
            Some(c) => Ok(c),
            None => match ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.webpki_anchors,
                &inter_der,
                time,
                KeyUsage::server_auth(),
                None,
                Some(&path_check),
            ) {
                Ok(p) => {
                    let used: Vec<Vec<u8>> = p
                        .intermediate_certificates()
                        .map(|c| c.der().as_ref().to_vec())
                        .collect();
                    let (mut not_before, mut not_after) = (
                        leaf.validity().not_before.timestamp(),
                        leaf.validity().not_after.timestamp(),
                    );
                    for d in &used {
                        if let Ok((_, c)) = X509Certificate::from_der(d) {
                            not_before = not_before.max(c.validity().not_before.timestamp());
                            not_after = not_after.min(c.validity().not_after.timestamp());
                        }
                    }
                    let entry = CachedPath {
                        used,
                        anchor_spki: p.anchor().subject_public_key_info.as_ref().to_vec(),
                        not_before,
                        not_after,
                    };
                    let mut cache = self.path_cache.lock().unwrap_or_else(|p| p.into_inner());
                    if cache.len() >= PATH_CACHE_MAX {
                        cache.clear();
                    }
                    cache.insert(key, entry.clone());
                    Ok(entry)
                }
                Err(e) => {
                    let recorded = path_refusal.borrow_mut().take();
                    let (code, msg) = match (&e, orphan(leaf, parsed_inter), recorded) {
                        (webpki::Error::CertDistrusted, _, Some(r)) => r,
                        (webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey, Some(missing), _) => {
                            (Code::IncompleteChain, format!("the chain sent with `{leaf_name}` is incomplete: `{missing}` was not sent, so the certificates after it do not connect"))
                        }
                        _ => map_webpki(&e, leaf_name),
                    };
                    Err((code, msg))
                }
            },
        }
    }

    /// What is wrong with a candidate path webpki built (see `path_check` in `verify_inner`).
    fn path_problem(&self, path: &webpki::VerifiedPath<'_>, now: i64) -> Option<(Code, String)> {
        if let Some(list) = &self.intermediates {
            for c in path.intermediate_certificates() {
                let h = digest::digest(&digest::SHA256, c.der().as_ref());
                if !list.iter().any(|f| f.0 == h.as_ref()) {
                    let name = X509Certificate::from_der(c.der().as_ref())
                        .map(|(_, x)| common_name(&x))
                        .unwrap_or_else(|_| "?".into());
                    return Some((
                        Code::IntermediateNotAllowed,
                        format!(
                            "the path goes through `{name}` (SHA-256 {}), which is not on the profile's intermediate allow-list",
                            medmij_core::hex::encode(h.as_ref())
                        ),
                    ));
                }
            }
        }
        let a = self
            .anchors
            .by_spki_value(path.anchor().subject_public_key_info.as_ref())?;
        anchor_problem(a, now)
    }

    /// A verifier trusting `anchors`, checking revocation with `revocation`.
    pub fn new(anchors: TrustStore, revocation: Arc<Engine>) -> Verifier {
        let webpki_anchors = anchors.webpki_anchors();
        Verifier {
            anchors,
            webpki_anchors,
            revocation,
            whitelist: None,
            static_whitelist: None,
            intermediates: None,
            path_cache: Default::default(),
            forbid_wildcards: false,
            ncsc: medmij_core::ncsc::NcscVersion::V2025_05,
            from_memory: false,
            fetch_misses: false,
        }
    }

    /// Checks peers against a refreshed whitelist store.
    pub fn with_whitelist_store(mut self, store: Arc<crate::whitelist::Store>) -> Verifier {
        self.whitelist = Some(store);
        self
    }

    /// Checks peers against a fixed whitelist.
    pub fn with_whitelist(mut self, w: Arc<Whitelist>) -> Verifier {
        self.static_whitelist = Some(w);
        self
    }

    /// Enforces an intermediate allow-list (SHA-256 of each intermediate's DER).
    pub fn with_intermediate_allowlist(mut self, list: Vec<Sha256Fingerprint>) -> Verifier {
        self.intermediates = Some(list);
        self
    }

    /// Decides revocation from memory only ([`Engine::check_cached`]): for async servers that
    /// run [`crate::background::spawn`] to keep the caches warm.
    pub fn decide_from_memory(mut self) -> Verifier {
        self.from_memory = true;
        self
    }

    /// With [`Verifier::decide_from_memory`]: a certificate whose status is not in memory (first
    /// contact with an issuer) is fetched during the handshake within the chain's budget, via
    /// `tokio::task::block_in_place` on a multi-threaded runtime (elsewhere it stays a
    /// from-memory decision). Known peers are never delayed by it.
    pub fn fetch_misses_in_place(mut self) -> Verifier {
        self.fetch_misses = true;
        self
    }

    /// Judges keys by this NCSC edition (the profile's; default: the default profile's).
    pub fn with_ncsc(mut self, edition: medmij_core::ncsc::NcscVersion) -> Verifier {
        self.ncsc = edition;
        self
    }

    /// Refuses wildcard names in the leaf (the backchannel: core.tls.314).
    pub fn forbid_wildcards(mut self) -> Verifier {
        self.forbid_wildcards = true;
        self
    }

    /// The anchors.
    pub fn anchors(&self) -> &TrustStore {
        &self.anchors
    }

    /// The revocation engine.
    pub fn revocation(&self) -> &Arc<Engine> {
        &self.revocation
    }

    fn whitelist(&self) -> Option<Arc<Whitelist>> {
        self.static_whitelist
            .clone()
            .or_else(|| self.whitelist.as_ref().and_then(|s| s.current()))
    }

    fn has_whitelist(&self) -> bool {
        self.static_whitelist.is_some() || self.whitelist.is_some()
    }

    /// Verifies `end_entity` with `intermediates` as `peer` at `now` (Unix seconds), using a
    /// stapled OCSP response when one is given. The verdict describes the chain for reports.
    pub fn verify(
        &self,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        peer: &Peer,
        stapled: Option<&[u8]>,
        now: i64,
    ) -> Verdict {
        self.verify_inner(end_entity, intermediates, peer, stapled, now, true)
    }

    /// As [`Verifier::verify`], without describing the chain (no fingerprints or DN strings):
    /// what a handshake needs, on the handshake path.
    pub fn decide(
        &self,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        peer: &Peer,
        stapled: Option<&[u8]>,
        now: i64,
    ) -> Verdict {
        self.verify_inner(end_entity, intermediates, peer, stapled, now, false)
    }

    /// A fresh verdict for a chain of `count` certificates; `Err` is the refusal of a chain over
    /// [`MAX_CHAIN_CERTIFICATES`], decided before anything is parsed.
    fn start_verdict(&self, count: usize) -> Result<Verdict, Verdict> {
        let mut v = Verdict {
            accepted: false,
            reasons: vec![],
            warnings: self.anchors.warnings.clone(),
            revocation: vec![],
            chain: vec![],
        };
        if count > MAX_CHAIN_CERTIFICATES {
            v.reasons.push(Refusal::new(
                Code::Malformed,
                format!("the peer sent {count} certificates; at most {MAX_CHAIN_CERTIFICATES} are accepted"),
            ));
            return Err(v);
        }
        Ok(v)
    }

    fn verify_inner(
        &self,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        peer: &Peer,
        stapled: Option<&[u8]>,
        now: i64,
        report: bool,
    ) -> Verdict {
        let mut v = match self.start_verdict(intermediates.len() + 1) {
            Ok(v) => v,
            Err(v) => return v,
        };
        let refuse = |v: &mut Verdict, code: Code, msg: String| {
            if !v.reasons.iter().any(|r| r.code == code) {
                v.reasons.push(Refusal::new(code, msg));
            }
        };
        let leaf = match X509Certificate::from_der(end_entity) {
            Ok(([], c)) => c,
            Ok(_) => {
                refuse(
                    &mut v,
                    Code::Malformed,
                    "end-entity certificate has trailing bytes".into(),
                );
                return v;
            }
            Err(e) => {
                refuse(
                    &mut v,
                    Code::Malformed,
                    format!("end-entity certificate does not parse: {e}"),
                );
                return v;
            }
        };
        let mut owned_inter = Vec::new();
        for (i, der) in intermediates.iter().enumerate() {
            match X509Certificate::from_der(der) {
                Ok((_, c)) => owned_inter.push((*der, c)),
                Err(e) => refuse(
                    &mut v,
                    Code::Malformed,
                    format!("intermediate {} does not parse: {e}", i + 1),
                ),
            }
        }
        let parsed_inter: Vec<(&[u8], &X509Certificate<'_>)> =
            owned_inter.iter().map(|(d, c)| (*d, c)).collect();
        self.judge_parsed(
            end_entity,
            &leaf,
            intermediates,
            &parsed_inter,
            peer,
            stapled,
            now,
            report,
            v,
        )
    }

    /// As [`Verifier::decide`], for a caller that has parsed the certificates already (the
    /// linter): the same rules, without parsing each certificate a second time. `intermediates`
    /// are the DER and parsed form of each certificate after the leaf, in the order sent.
    pub fn decide_parsed(
        &self,
        end_entity: &[u8],
        leaf: &X509Certificate<'_>,
        intermediates: &[(&[u8], &X509Certificate<'_>)],
        peer: &Peer,
        stapled: Option<&[u8]>,
        now: i64,
    ) -> Verdict {
        let v = match self.start_verdict(intermediates.len() + 1) {
            Ok(v) => v,
            Err(v) => return v,
        };
        let ders: Vec<&[u8]> = intermediates.iter().map(|(d, _)| *d).collect();
        self.judge_parsed(
            end_entity,
            leaf,
            &ders,
            intermediates,
            peer,
            stapled,
            now,
            false,
            v,
        )
    }

    /// The rules, path validation, revocation and names over parsed certificates.
    #[allow(clippy::too_many_arguments)]
    fn judge_parsed(
        &self,
        end_entity: &[u8],
        leaf: &X509Certificate<'_>,
        intermediates: &[&[u8]],
        parsed_inter: &[(&[u8], &X509Certificate<'_>)],
        peer: &Peer,
        stapled: Option<&[u8]>,
        now: i64,
        report: bool,
        mut v: Verdict,
    ) -> Verdict {
        let refuse = |v: &mut Verdict, code: Code, msg: String| {
            if !v.reasons.iter().any(|r| r.code == code) {
                v.reasons.push(Refusal::new(code, msg));
            }
        };
        if report {
            v.chain.push(chain_entry(end_entity, leaf, "leaf"));
        }
        let leaf_name = common_name(leaf);
        let sans = dns_names(leaf);

        // Leaf rules of our own (webpki would accept these), then every sent certificate's
        // serial and name encoding.
        let mut leaf_rules = vec![
            rules::validity(leaf, now),
            rules::leaf_eku_server_auth(leaf),
            rules::leaf_not_a_signer(leaf),
            rules::leaf_key(leaf, self.ncsc),
            rules::serial_number(leaf),
            rules::name_strings(leaf),
        ];
        if self.forbid_wildcards {
            leaf_rules.push(rules::no_wildcard(leaf, &sans));
        }
        for (_, c) in parsed_inter {
            leaf_rules.push(rules::serial_number(c));
            leaf_rules.push(rules::name_strings(c));
        }
        for (code, msg) in leaf_rules.into_iter().flatten() {
            refuse(&mut v, code, msg);
        }
        for (i, (der, c)) in parsed_inter.iter().enumerate() {
            if c.subject() == c.issuer()
                && self
                    .anchors
                    .anchors()
                    .iter()
                    .any(|a| a.der.as_slice() == *der)
            {
                v.warnings.push(Warning::new(
                    medmij_core::checks::names::CHAIN_NO_ROOT,
                    format!(
                        "the chain includes the root `{}` (position {}); send intermediates only",
                        common_name(c),
                        i + 2
                    ),
                ));
            }
        }

        // Path validation.
        let leaf_der = CertificateDer::from(end_entity);
        let ee = match EndEntityCert::try_from(&leaf_der) {
            Ok(e) => e,
            Err(e) => {
                refuse(&mut v, Code::Malformed, format!("`{leaf_name}`: {e}"));
                return v;
            }
        };
        let path = match self.validated_path(
            &ee,
            end_entity,
            intermediates,
            leaf,
            parsed_inter,
            &leaf_name,
            now,
        ) {
            Ok(p) => Some(p),
            Err((code, msg)) => {
                refuse(&mut v, code, msg);
                None
            }
        };

        // With revocation off and no report, nothing below needs the path's certificates parsed.
        let policy = self.revocation.policy();
        let revocation_off = policy.crl == medmij_core::profile::FailMode::Off
            && policy.ocsp == medmij_core::profile::FailMode::Off;
        if let Some(path) = path.as_ref().filter(|_| report || !revocation_off) {
            let anchor = self.anchors.by_spki_value(&path.anchor_spki);
            // Each certificate of the path parsed once: for the report and for revocation.
            let used: Vec<(&[u8], X509Certificate<'_>)> = path
                .used
                .iter()
                .filter_map(|d| {
                    X509Certificate::from_der(d)
                        .ok()
                        .map(|(_, c)| (d.as_slice(), c))
                })
                .collect();
            let anchor_cert = anchor.and_then(|a| {
                X509Certificate::from_der(&a.der)
                    .ok()
                    .map(|(_, c)| (a.der.as_slice(), c))
            });
            if report {
                for (der, c) in &used {
                    v.chain.push(chain_entry(der, c, "intermediate"));
                }
                if let Some((der, c)) = &anchor_cert {
                    v.chain.push(chain_entry(der, c, "anchor"));
                }
            }
            for (code, msg) in self.revocation_of(
                leaf,
                &used,
                anchor,
                anchor_cert.as_ref(),
                stapled,
                now,
                &mut v.revocation,
            ) {
                refuse(&mut v, code, msg);
            }
        }

        for (code, msg) in self.names_and_whitelist(&ee, peer, &leaf_name, &sans) {
            refuse(&mut v, code, msg);
        }
        v.accepted = v.reasons.is_empty();
        v
    }
}

/// RFC 5280 §4.2.1.3: a CRL issuer's keyUsage, when present, must include cRLSign.
fn may_sign_crls(c: &X509Certificate<'_>) -> bool {
    match c.key_usage() {
        Ok(Some(ku)) => ku.value.crl_sign(),
        Ok(None) => true,
        Err(_) => false,
    }
}

/// When intermediates were sent that the leaf's issuer chain never reaches, the issuer name
/// where the chain breaks: an intermediate is missing (core.tls.313) rather than the root unknown.
fn orphan(leaf: &X509Certificate<'_>, inter: &[(&[u8], &X509Certificate<'_>)]) -> Option<String> {
    let mut used = vec![false; inter.len()];
    let mut issuer = leaf.issuer().as_raw();
    let mut break_at = leaf.issuer().to_string();
    for _ in 0..inter.len() {
        match inter
            .iter()
            .position(|(_, c)| c.subject().as_raw() == issuer)
        {
            Some(i) if !used[i] => {
                used[i] = true;
                if inter[i].1.subject() == inter[i].1.issuer() {
                    break;
                }
                issuer = inter[i].1.issuer().as_raw();
                break_at = inter[i].1.issuer().to_string();
            }
            _ => break,
        }
    }
    used.iter().any(|u| !u).then_some(break_at)
}

/// webpki's error for a failed path, as our code. webpki ranks a bad signature above "unknown
/// issuer", so a chain whose names match a trusted CA but whose keys do not (a look-alike
/// hierarchy) surfaces as `InvalidSignatureForPublicKey` (or, when the look-alike's key type
/// differs, as a signature algorithm that does not fit the issuer's key): that is a chain that
/// does not end at a listed root (core.tls.311, unknown_ca), not a weak algorithm (core.tls.301),
/// which stays for algorithms that are refused outright (SHA-1, MD5).
fn map_webpki(e: &webpki::Error, leaf: &str) -> (Code, String) {
    use webpki::Error as E;
    match e {
        E::InvalidSignatureForPublicKey | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => (Code::UnknownIssuer, format!("no path from `{leaf}` to a trusted anchor: a certificate named like its issuer does not carry the signature of that issuer's trusted key (a look-alike or forged chain)")),
        E::UnknownIssuer => (Code::UnknownIssuer, format!("no path from `{leaf}` to a trusted anchor (missing intermediate, or an untrusted root)")),
        E::CertExpired { .. } => (Code::Expired, format!("a certificate in the path of `{leaf}` has expired: {e:?}")),
        E::CertNotValidYet { .. } => (Code::NotYetValid, format!("a certificate in the path of `{leaf}` is not yet valid: {e:?}")),
        E::RequiredEkuNotFoundContext(_) => (Code::EkuMissingServerAuth, format!("a certificate in the path of `{leaf}` has an EKU without serverAuth")),
        E::UnsupportedSignatureAlgorithmContext(_) => (Code::BadSignature, format!("the path of `{leaf}` uses a signature algorithm that is not accepted (e.g. SHA-1): {e:?}")),
        E::CaUsedAsEndEntity | E::EndEntityUsedAsCa => (Code::UnknownIssuer, format!("`{leaf}`: {e}")),
        other => (Code::Malformed, format!("`{leaf}`: path validation failed: {other}")),
    }
}

pub use crate::rules::common_name;

/// SAN dNSNames.
pub fn dns_names(c: &X509Certificate<'_>) -> Vec<String> {
    match c.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|g| {
                if let GeneralName::DNSName(d) = g {
                    Some(d.to_string())
                } else {
                    None
                }
            })
            .collect(),
        _ => vec![],
    }
}

/// CRL distribution point URIs.
pub fn crl_urls(c: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for ext in c.extensions() {
        if let ParsedExtension::CRLDistributionPoints(dps) = ext.parsed_extension() {
            for dp in dps.iter() {
                if let Some(DistributionPointName::FullName(names)) = &dp.distribution_point {
                    for n in names {
                        if let GeneralName::URI(u) = n {
                            out.push(u.to_string());
                        }
                    }
                }
            }
        }
    }
    out
}

/// OCSP responder URIs from AIA.
pub fn ocsp_urls(c: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for ext in c.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for ad in &aia.accessdescs {
                if ad.access_method.to_id_string() == crate::oids::AD_OCSP {
                    if let GeneralName::URI(u) = &ad.access_location {
                        out.push(u.to_string());
                    }
                }
            }
        }
    }
    out
}

fn chain_entry(der: &[u8], c: &X509Certificate<'_>, role: &str) -> ChainEntry {
    let rfc = |t: ASN1Time| crate::der_time::rfc3339(t.timestamp());
    ChainEntry {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        serial: c.raw_serial().iter().map(|b| format!("{b:02x}")).collect(),
        not_before: rfc(c.validity().not_before),
        not_after: rfc(c.validity().not_after),
        sha256: digest::digest(&digest::SHA256, der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        role: role.into(),
    }
}

/// Whether this thread may hand its runtime worker over for a blocking fetch: only on a
/// multi-threaded tokio runtime (block_in_place panics on a current-thread one).
fn in_place_allowed() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}
