//! The revocation engine (core.tls.309, core.tls.310, decision 4.5).
//!
//! Order per certificate: a stapled OCSP response (leaf only), then cached answers, then the
//! mechanisms in the configured order (OCSP, then CRL by default). The first conclusive answer
//! (good or revoked, validly signed and fresh) decides. When none is conclusive, each mechanism's
//! fail mode decides: any `hard` mechanism that could not answer refuses the certificate; if all
//! are `soft`, the session proceeds and the soft-fail is logged and counted. A stapled response
//! never by itself causes a failure: an invalid one is ignored (and logged).

use crate::crl::{CrlError, CrlIssuer, IndexedCrl, ReasonFlags, Scope, ALL_REASONS};
use crate::der_time::rfc3339;
use crate::http::{FetchError, Fetcher, HttpClient};
use crate::ocsp::{self, Status, Subject};
use crate::singleflight::SingleFlight;
use medmij_core::profile::FailMode;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A revocation mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// OCSP (RFC 6960).
    Ocsp,
    /// CRL (RFC 5280).
    Crl,
}

/// Which certificates of a path are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Depth {
    /// The end-entity certificate only.
    Leaf,
    /// Every certificate below the anchor.
    Chain,
}

/// The engine's configuration.
#[derive(Clone, Debug)]
pub struct Policy {
    /// CRL fail mode (decision 4.5: hard).
    pub crl: FailMode,
    /// OCSP fail mode (decision 4.5: soft).
    pub ocsp: FailMode,
    /// Order of network mechanisms after stapled and cached answers.
    pub order: Vec<Mechanism>,
    /// Leaf only or the whole chain.
    pub depth: Depth,
    /// Seconds a CRL is still used after nextUpdate.
    pub crl_grace: i64,
    /// Re-fetch a cached CRL this many seconds before its nextUpdate.
    pub refresh_before: i64,
    /// Largest CRL accepted.
    pub max_crl_bytes: usize,
    /// Where fetched CRLs are kept across restarts (optional).
    pub cache_dir: Option<PathBuf>,
    /// OCSP requests whose base64 form is shorter than this go by GET, longer ones by POST
    /// (RFC 6960 A.1 suggests GET below 255 bytes, so caches can serve them).
    pub ocsp_get_max: usize,
    /// Most time the network fetches for one certificate may take together.
    pub certificate_budget: Duration,
    /// Most time the network fetches for one chain may take together.
    pub chain_budget: Duration,
}

/// Default [`Policy::certificate_budget`]: two fetch deadlines ([`crate::http::DEFAULT_TIMEOUT`]),
/// one OCSP answer and one CRL download. A certificate with many distribution points is not
/// allowed to hold a handshake for one deadline per URL.
pub const CERTIFICATE_BUDGET: Duration = Duration::from_secs(10);
/// Default [`Policy::chain_budget`]: a PKIoverheid chain has at most three certificates below the
/// root, but a TLS peer commonly gives up on a handshake after 30 s; 20 s leaves it time to finish.
pub const CHAIN_BUDGET: Duration = Duration::from_secs(20);

/// What is left of a time budget for fetching.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    until: Instant,
    offline: bool,
}

impl Budget {
    /// A budget of `d` from now.
    pub fn new(d: Duration) -> Budget {
        Budget {
            until: Instant::now() + d,
            offline: false,
        }
    }

    /// No fetching at all: decide from cached state ([`Engine::check_cached`]).
    pub fn offline() -> Budget {
        Budget {
            until: Instant::now(),
            offline: true,
        }
    }

    /// The shorter of two budgets (offline stays offline).
    pub fn min(self, other: Budget) -> Budget {
        Budget {
            until: self.until.min(other.until),
            offline: self.offline || other.offline,
        }
    }

    /// Time left (zero when used up).
    pub fn remaining(&self) -> Duration {
        self.until.saturating_duration_since(Instant::now())
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            crl: FailMode::Hard,
            ocsp: FailMode::Soft,
            order: vec![Mechanism::Ocsp, Mechanism::Crl],
            // Decision 4.5 checks the whole chain: an intermediate can be revoked too.
            depth: Depth::Chain,
            // One hour past nextUpdate: the profiles' crl_grace_seconds (a CA publishing its next
            // CRL a little late should not cut off the network; RFC 5280 §5.1.2.5 leaves it to
            // the relying party).
            crl_grace: 3600,
            // Re-fetch an hour before nextUpdate: PKIoverheid CAs publish the next CRL well
            // before the current one expires (at least every 48 h, valid longer).
            refresh_before: 3600,
            // See http::DEFAULT_MAX_BYTES: far above any real CRL.
            max_crl_bytes: crate::http::DEFAULT_MAX_BYTES as usize,
            cache_dir: None,
            ocsp_get_max: 255,
            certificate_budget: CERTIFICATE_BUDGET,
            chain_budget: CHAIN_BUDGET,
        }
    }
}

pub use crate::evidence::{Evidence, Outcome, Source};

/// A certificate and its issuer, as the engine needs them.
#[derive(Clone, Debug)]
pub struct CertRef<'a> {
    /// Subject CN, for messages.
    pub name: String,
    /// Serial (raw INTEGER contents).
    pub serial: &'a [u8],
    /// CRL distribution point URLs (http only are fetched).
    pub crl_urls: Vec<String>,
    /// OCSP responder URLs from AIA.
    pub ocsp_urls: Vec<String>,
    /// Issuer subject Name (raw DER).
    pub issuer_name: &'a [u8],
    /// Issuer SubjectPublicKeyInfo (DER).
    pub issuer_spki: &'a [u8],
    /// The issuer's keyUsage allows cRLSign (or it has no keyUsage): otherwise its CRLs are not used.
    pub issuer_may_sign_crls: bool,
    /// The certificate is a CA (an intermediate): CRLs limited to end entities do not answer for it.
    pub is_ca: bool,
}

/// The outcome for one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not revoked (or soft-failed).
    Good,
    /// Revoked: which source said so.
    Revoked(String),
    /// No conclusive answer and a hard-fail mechanism could not answer.
    Unknown(String),
}

#[derive(Clone)]
struct CachedOcsp {
    status: Status,
    valid_until: i64,
    source: String,
}

/// Counters for the gateway's metrics: `mechanism.outcome` → count.
#[derive(Default)]
pub struct Counters {
    map: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    fn inc(&self, key: &str) {
        *self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.to_string())
            .or_default() += 1;
    }

    /// A snapshot of every counter.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

type CrlResult = Result<Arc<IndexedCrl>, String>;
/// (CRL file index, issuer SPKI) → the parsed file, or None when it is another issuer's.
type FileCache = HashMap<(usize, Vec<u8>), Result<Arc<IndexedCrl>, Option<String>>>;
/// Seconds a failed CRL or OCSP download is not retried (handshakes in that time use what is cached, or
/// apply the fail mode at once instead of each waiting for the deadline).
pub const FAILURE_BACKOFF: i64 = 30;
/// Most staples a cache keeps before it starts over (one per peer certificate in use).
const STAPLE_CACHE_MAX: usize = 10_000;
/// (issuer SPKI, normalised serial) → the last valid OCSP answer.
type OcspCache = Mutex<HashMap<(Vec<u8>, Vec<u8>), CachedOcsp>>;

/// Which mechanism reached a decision (see `Engine::check_within`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecidedBy {
    /// A stapled, cached or fetched OCSP answer.
    Ocsp,
    /// The CRLs (files, cache, distribution points).
    Crl,
    /// The fail modes, nothing conclusive.
    Policy,
}

/// An issuer as a CRL is verified against: (subject Name DER, SubjectPublicKeyInfo DER).
type IssuerKey = (Vec<u8>, Vec<u8>);

/// The engine: policy, caches, single-flight fetches, counters.
pub struct Engine {
    policy: Policy,
    http: Arc<dyn Fetcher>,
    crl_cache: Mutex<HashMap<String, Arc<IndexedCrl>>>,
    ocsp_cache: OcspCache,
    crl_files: Vec<(String, Vec<u8>)>,
    file_cache: Mutex<FileCache>,
    failures: Mutex<HashMap<String, (i64, FetchError)>>,
    staple_cache: Mutex<HashMap<Vec<u8>, ocsp::Answer>>,
    crl_flights: SingleFlight<Result<Vec<u8>, FetchError>>,
    ocsp_flights: SingleFlight<Result<Vec<u8>, FetchError>>,
    counters: Counters,
    /// CRL distribution points a cached-only decision missed, with their issuer: what the
    /// background refresher prefetches next.
    misses: Mutex<HashMap<String, IssuerKey>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.policy)
            .finish()
    }
}

fn outcome_key(m: &str, o: &str) -> String {
    format!("{m}.{o}")
}

impl CertRef<'_> {
    /// What `source` said about this certificate.
    fn evidence(&self, source: Source, outcome: Outcome, detail: String) -> Evidence {
        Evidence {
            certificate: self.name.clone(),
            source,
            outcome,
            detail,
        }
    }
}

impl Engine {
    /// An engine with `policy`, fetching with `http`; `crl_files` are (name, DER) read by the caller.
    pub fn new(policy: Policy, http: HttpClient, crl_files: Vec<(String, Vec<u8>)>) -> Engine {
        Engine::with_fetcher(policy, Arc::new(http), crl_files)
    }

    /// An engine fetching through `fetcher` (the blocking [`HttpClient`], or another
    /// implementation of [`Fetcher`]).
    pub fn with_fetcher(
        policy: Policy,
        fetcher: Arc<dyn Fetcher>,
        crl_files: Vec<(String, Vec<u8>)>,
    ) -> Engine {
        Engine {
            policy,
            http: fetcher,
            crl_cache: Mutex::new(HashMap::new()),
            ocsp_cache: Mutex::new(HashMap::new()),
            crl_files,
            file_cache: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            staple_cache: Mutex::new(HashMap::new()),
            crl_flights: SingleFlight::default(),
            ocsp_flights: SingleFlight::default(),
            counters: Counters::default(),
            misses: Mutex::new(HashMap::new()),
        }
    }

    /// Decides one certificate from what is in memory (and the disk cache): staples, cached
    /// OCSP answers, CRL files, cached CRLs. No network: a source that would need a fetch is
    /// recorded as a miss for [`Engine::prefetch_misses`], and the fail modes decide as for a
    /// source that did not answer. This is the handshake path of an async server, where a
    /// fetch would hold a worker thread; the refresher keeps the caches warm.
    pub fn check_cached(
        &self,
        cert: &CertRef<'_>,
        stapled: Option<&[u8]>,
        now: i64,
        evidence: &mut Vec<Evidence>,
    ) -> Decision {
        self.check_within(cert, stapled, now, evidence, Budget::offline())
    }

    /// Fetches (and caches) the CRL at `url` of the issuer (`subject`, `spki`), as a
    /// handshake would: for start-up prefetch of known issuers.
    pub fn prefetch_crl(
        &self,
        url: &str,
        subject: &[u8],
        spki: &[u8],
        now: i64,
    ) -> Result<(), String> {
        let issuer = CrlIssuer { subject, spki };
        self.crl_for(
            url,
            issuer,
            now,
            Budget::new(self.policy.certificate_budget),
        )
        .map(|_| ())
    }

    /// Per CRL in use (by distribution point, or the file's name): seconds since its
    /// thisUpdate (monitoring).
    pub fn crl_ages(&self, now: i64) -> Vec<(String, i64)> {
        let mut out: Vec<(String, i64)> = self
            .crl_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(u, c)| (u.clone(), now - c.this_update))
            .collect();
        for ((i, _), c) in self
            .file_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            if let (Ok(c), Some((name, _))) = (c, self.crl_files.get(*i)) {
                out.push((name.clone(), now - c.this_update));
            }
        }
        out
    }

    /// Prefetches every distribution point a cached-only decision missed; returns how many
    /// were fetched and the failures.
    pub fn prefetch_misses(&self, now: i64) -> (usize, Vec<String>) {
        let misses: Vec<(String, IssuerKey)> = self
            .misses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        let mut done = 0;
        let mut failed = Vec::new();
        for (url, (subject, spki)) in misses {
            match self.prefetch_crl(&url, &subject, &spki, now) {
                Ok(()) => done += 1,
                Err(e) => failed.push(e),
            }
        }
        (done, failed)
    }

    /// Re-fetches every cached CRL that is within `refresh_before` of its nextUpdate, so the
    /// handshake path keeps finding a fresh one; returns how many were refreshed and the
    /// failures (a failed refresh keeps the cached CRL while it is within its grace).
    pub fn refresh_due(&self, now: i64) -> (usize, Vec<String>) {
        let due: Vec<(String, Arc<IndexedCrl>)> = self
            .crl_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, c)| {
                c.next_update
                    .is_none_or(|n| now >= n.saturating_sub(self.policy.refresh_before))
            })
            .map(|(u, c)| (u.clone(), c.clone()))
            .collect();
        let mut done = 0;
        let mut failed = Vec::new();
        for (url, crl) in due {
            match self.prefetch_crl(&url, &crl.issuer, &crl.issuer_spki, now) {
                Ok(()) => done += 1,
                Err(e) => failed.push(e),
            }
        }
        (done, failed)
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Decision counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Decides one certificate at `now` within the policy's per-certificate budget; appends what
    /// each source said to `evidence`.
    pub fn check(
        &self,
        cert: &CertRef<'_>,
        stapled: Option<&[u8]>,
        now: i64,
        evidence: &mut Vec<Evidence>,
    ) -> Decision {
        self.check_within(
            cert,
            stapled,
            now,
            evidence,
            Budget::new(self.policy.chain_budget),
        )
    }

    /// As [`Engine::check`], with the network fetches bounded by `budget` (and by the policy's
    /// per-certificate budget). A revoked answer from any valid, fresh source wins over a good
    /// one: a good OCSP answer is checked against the CRLs already at hand (files, cache).
    pub fn check_within(
        &self,
        cert: &CertRef<'_>,
        stapled: Option<&[u8]>,
        now: i64,
        evidence: &mut Vec<Evidence>,
        budget: Budget,
    ) -> Decision {
        let budget = budget.min(Budget::new(self.policy.certificate_budget));
        let (d, by) = self.decide_one(cert, stapled, now, evidence, budget);
        // Only a good OCSP answer leaves the CRLs at hand unread; a CRL decision has judged
        // them already.
        if d == Decision::Good && by == DecidedBy::Ocsp && self.policy.crl != FailMode::Off {
            if let Some(revoked) = self.revoked_by_crl_at_hand(cert, now, evidence) {
                return revoked;
            }
        }
        d
    }

    fn decide_one(
        &self,
        cert: &CertRef<'_>,
        stapled: Option<&[u8]>,
        now: i64,
        evidence: &mut Vec<Evidence>,
        budget: Budget,
    ) -> (Decision, DecidedBy) {
        let ev = |source, outcome, detail| cert.evidence(source, outcome, detail);
        let subject = Subject {
            serial: cert.serial,
            issuer_name: cert.issuer_name,
            issuer_spki: cert.issuer_spki,
        };
        let ocsp_key = (
            cert.issuer_spki.to_vec(),
            crate::crl::normalize_serial(cert.serial).to_vec(),
        );

        // 1. Stapled OCSP: used when valid, ignored (never fatal) when not.
        if stapled.is_some_and(|s| s.is_empty()) {
            evidence.push(ev(
                Source::StapledOcsp,
                Outcome::Ignored,
                "the stapled OCSP response is empty".into(),
            ));
        }
        if let Some(staple) = stapled.filter(|s| !s.is_empty() && self.policy.ocsp != FailMode::Off)
        {
            match self
                .validate_staple(staple, &subject, now)
                .and_then(|a| self.responder_checked(a, cert, now, budget))
            {
                Ok(a) => {
                    self.counters
                        .inc(&outcome_key("stapled", status_outcome(&a.status).label()));
                    evidence.push(ev(
                        Source::StapledOcsp,
                        status_outcome(&a.status),
                        answer_detail(&a),
                    ));
                    self.remember_ocsp(ocsp_key.clone(), &a, "stapled-ocsp");
                    match a.status {
                        Status::Good => return (Decision::Good, DecidedBy::Ocsp),
                        Status::Revoked { at } => {
                            return (
                                Decision::Revoked(format!(
                                    "stapled OCSP response: revoked at {}",
                                    rfc3339(at)
                                )),
                                DecidedBy::Ocsp,
                            )
                        }
                        Status::Unknown => {}
                    }
                }
                Err(e) => {
                    self.counters.inc("stapled.ignored");
                    evidence.push(ev(Source::StapledOcsp, Outcome::Ignored, e.to_string()));
                }
            }
        }

        // 2. Cached answers.
        if self.policy.ocsp != FailMode::Off {
            let cached = self
                .ocsp_cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&ocsp_key)
                .cloned();
            if let Some(c) = cached.filter(|c| c.valid_until >= now) {
                self.counters.inc("ocsp-cache.hit");
                match c.status {
                    Status::Good => {
                        evidence.push(ev(
                            Source::OcspCache,
                            Outcome::Good,
                            format!("from {}, valid until {}", c.source, rfc3339(c.valid_until)),
                        ));
                        return (Decision::Good, DecidedBy::Ocsp);
                    }
                    Status::Revoked { at } => {
                        evidence.push(ev(
                            Source::OcspCache,
                            Outcome::Revoked,
                            format!("from {}", c.source),
                        ));
                        return (
                            Decision::Revoked(format!(
                                "OCSP (cached from {}): revoked at {}",
                                c.source,
                                rfc3339(at)
                            )),
                            DecidedBy::Ocsp,
                        );
                    }
                    Status::Unknown => {}
                }
            }
        }

        // 3. Network mechanisms in order (CRLs come from cache when fresh).
        let mut failures: Vec<(Mechanism, String)> = Vec::new();
        for mech in &self.policy.order {
            match mech {
                Mechanism::Ocsp if self.policy.ocsp != FailMode::Off => {
                    match self.check_ocsp(cert, &subject, &ocsp_key, now, evidence, budget) {
                        Ok(Some(d)) => return (d, DecidedBy::Ocsp),
                        Ok(None) => {}
                        Err(reason) => failures.push((Mechanism::Ocsp, reason)),
                    }
                }
                Mechanism::Crl if self.policy.crl != FailMode::Off => {
                    match self.check_crl(cert, now, evidence, budget) {
                        Ok(d) => return (d, DecidedBy::Crl),
                        Err(reason) => failures.push((Mechanism::Crl, reason)),
                    }
                }
                _ => {}
            }
        }

        // 4. Nothing conclusive: the fail modes decide.
        let hard: Vec<&(Mechanism, String)> = failures
            .iter()
            .filter(|(m, _)| match m {
                Mechanism::Ocsp => self.policy.ocsp == FailMode::Hard,
                Mechanism::Crl => self.policy.crl == FailMode::Hard,
            })
            .collect();
        let summary = failures
            .iter()
            .map(|(m, r)| format!("{}: {r}", mech_label(*m)))
            .collect::<Vec<_>>()
            .join("; ");
        if hard.is_empty() {
            self.counters.inc("policy.soft-fail");
            evidence.push(ev(
                Source::Policy,
                Outcome::SoftFail,
                if summary.is_empty() {
                    "no revocation mechanism enabled".into()
                } else {
                    summary
                },
            ));
            (Decision::Good, DecidedBy::Policy)
        } else {
            self.counters.inc("policy.hard-fail");
            evidence.push(ev(Source::Policy, Outcome::HardFail, summary.clone()));
            (Decision::Unknown(summary), DecidedBy::Policy)
        }
    }

    /// Validates a staple, remembering a valid answer by the staple's bytes and issuer so the
    /// same staple on the next handshake costs a hash, not two signature checks. Freshness is
    /// re-checked on every use.
    fn validate_staple(
        &self,
        staple: &[u8],
        subject: &Subject<'_>,
        now: i64,
    ) -> Result<ocsp::Answer, ocsp::OcspError> {
        let mut key = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, staple)
            .as_ref()
            .to_vec();
        key.extend_from_slice(subject.issuer_spki);
        key.extend_from_slice(subject.serial);
        if let Some(a) = self
            .staple_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
        {
            if a.this_update <= now + ocsp::SKEW_SECONDS
                && now <= a.valid_until + ocsp::SKEW_SECONDS
            {
                return Ok(a);
            }
        }
        let a = ocsp::validate(staple, subject, now)?;
        let mut cache = self.staple_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= STAPLE_CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, a.clone());
        Ok(a)
    }

    /// A delegated responder without id-pkix-ocsp-nocheck must itself not be revoked
    /// (RFC 6960 §4.2.2.2.1): its status is taken from its issuer's CRLs (OCSP for the responder
    /// would ask the responder about itself). A responder whose status cannot be established
    /// does not vouch for anything: the answer is not used, and the next mechanism decides.
    fn responder_checked(
        &self,
        a: ocsp::Answer,
        cert: &CertRef<'_>,
        now: i64,
        budget: Budget,
    ) -> Result<ocsp::Answer, ocsp::OcspError> {
        let Some(r) = a.responder.as_ref().filter(|r| !r.nocheck) else {
            return Ok(a);
        };
        let responder = CertRef {
            name: format!("OCSP responder {}", r.name),
            serial: &r.serial,
            crl_urls: r.crl_urls.clone(),
            ocsp_urls: vec![],
            issuer_name: cert.issuer_name,
            issuer_spki: cert.issuer_spki,
            issuer_may_sign_crls: cert.issuer_may_sign_crls,
            is_ca: false,
        };
        let mut ev = Vec::new();
        match self.check_crl(&responder, now, &mut ev, budget) {
            Ok(Decision::Good) => Ok(a),
            Ok(Decision::Revoked(why)) => Err(ocsp::OcspError::UnauthorisedSigner(format!(
                "responder `{}` is revoked ({why})",
                r.name
            ))),
            Ok(Decision::Unknown(why)) | Err(why) => Err(ocsp::OcspError::UnauthorisedSigner(format!(
                "responder `{}` has no id-pkix-ocsp-nocheck and its own revocation status is unknown: {why}",
                r.name
            ))),
        }
    }

    /// Runs `fetch` unless `url` failed less than [`FAILURE_BACKOFF`] seconds ago, in which case
    /// that failure is returned at once: a source that is down is not asked again on every
    /// handshake, each of which would wait for the whole deadline.
    fn fetch_with_backoff(
        &self,
        mechanism: &str,
        url: &str,
        now: i64,
        budget: Budget,
        fetch: impl FnOnce(Duration) -> Result<Vec<u8>, FetchError>,
    ) -> Result<Vec<u8>, FetchError> {
        if budget.offline {
            self.counters.inc(&outcome_key(mechanism, "offline"));
            return Err(FetchError::Offline { url: url.into() });
        }
        let left = budget.remaining();
        if left.is_zero() {
            // Not a failure of the source: it is not asked, and not backed off.
            self.counters.inc(&outcome_key(mechanism, "budget"));
            return Err(FetchError::NoTimeLeft { url: url.into() });
        }
        let key = format!("{mechanism} {url}");
        let recent = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .filter(|(until, _)| now < *until)
            .map(|(_, e)| e.clone());
        if let Some(e) = recent {
            self.counters.inc(&outcome_key(mechanism, "backoff"));
            return Err(e);
        }
        let r = fetch(left);
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match &r {
            Err(e) => {
                failures.insert(key, (now.saturating_add(FAILURE_BACKOFF), e.clone()));
            }
            Ok(_) => {
                failures.remove(&key);
            }
        }
        r
    }

    fn remember_ocsp(&self, key: (Vec<u8>, Vec<u8>), a: &ocsp::Answer, source: &str) {
        self.ocsp_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key,
                CachedOcsp {
                    status: a.status.clone(),
                    valid_until: a.valid_until,
                    source: source.to_string(),
                },
            );
    }

    /// Ok(Some) conclusive, Ok(None) not conclusive but not a failure (responder said unknown is
    /// treated as a failure), Err(reason) could not answer.
    fn check_ocsp(
        &self,
        cert: &CertRef<'_>,
        subject: &Subject<'_>,
        key: &(Vec<u8>, Vec<u8>),
        now: i64,
        evidence: &mut Vec<Evidence>,
        budget: Budget,
    ) -> Result<Option<Decision>, String> {
        let Some(url) = cert
            .ocsp_urls
            .iter()
            .find(|u| u.starts_with("http://") || u.starts_with("https://"))
        else {
            evidence.push(cert.evidence(
                Source::Ocsp { url: None },
                Outcome::NotApplicable,
                "certificate names no OCSP responder".into(),
            ));
            return Err("certificate names no OCSP responder".into());
        };
        let req = ocsp::request(subject).map_err(|e| e.to_string())?;
        // RFC 6960 A.1: GET when the encoded request is short, POST otherwise.
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&req);
        let flight_key = format!("{url}#{}", b64);
        let fetched = self.fetch_with_backoff("ocsp", url, now, budget, |left| {
            self.ocsp_flights.run(&flight_key, || {
                self.counters.inc("ocsp.fetch");
                if b64.len() < self.policy.ocsp_get_max {
                    let enc = b64
                        .replace('+', "%2B")
                        .replace('/', "%2F")
                        .replace('=', "%3D");
                    self.http
                        .get(&format!("{}/{enc}", url.trim_end_matches('/')), left)
                } else {
                    self.http.post(url, "application/ocsp-request", &req, left)
                }
            })
        });
        let source = Source::Ocsp {
            url: Some(url.clone()),
        };
        let body = match fetched {
            Ok(b) => b,
            Err(e) => {
                self.counters.inc("ocsp.unavailable");
                evidence.push(cert.evidence(source, Outcome::Unavailable, e.to_string()));
                return Err(e.to_string());
            }
        };
        match ocsp::validate(&body, subject, now)
            .and_then(|a| self.responder_checked(a, cert, now, budget))
        {
            Ok(a) => {
                self.counters
                    .inc(&outcome_key("ocsp", status_outcome(&a.status).label()));
                evidence.push(cert.evidence(
                    source.clone(),
                    status_outcome(&a.status),
                    answer_detail(&a),
                ));
                self.remember_ocsp(key.clone(), &a, &source.to_string());
                Ok(match a.status {
                    Status::Good => Some(Decision::Good),
                    Status::Revoked { at } => Some(Decision::Revoked(format!(
                        "OCSP {url}: revoked at {}",
                        rfc3339(at)
                    ))),
                    Status::Unknown => {
                        return Err(format!(
                            "OCSP {url}: responder does not know the certificate"
                        ))
                    }
                })
            }
            Err(e) => {
                self.counters.inc("ocsp.invalid");
                evidence.push(cert.evidence(source, Outcome::Unusable, e.to_string()));
                Err(format!("OCSP {url}: {e}"))
            }
        }
    }

    /// Whether `crl` may answer for `cert` at `now`: fresh (thisUpdate not in the future, not past
    /// nextUpdate + grace) and in scope (issuingDistributionPoint).
    fn crl_usable(&self, crl: &IndexedCrl, cert: &CertRef<'_>, now: i64) -> Result<(), String> {
        if crl.this_update > now.saturating_add(ocsp::SKEW_SECONDS) {
            return Err(format!(
                "{}: thisUpdate {} is in the future",
                crl.source,
                rfc3339(crl.this_update)
            ));
        }
        match crl.next_update {
            Some(next) if now > next.saturating_add(self.policy.crl_grace) => {
                return Err(format!(
                    "{}: stale since {} (grace {} s)",
                    crl.source,
                    rfc3339(next),
                    self.policy.crl_grace
                ))
            }
            Some(_) => {}
            // RFC 5280 §5.1.2.5: conforming CRL issuers MUST include nextUpdate. Without it a
            // CRL never goes stale, so one from years ago would pass as current.
            None => {
                return Err(format!(
                    "{}: no nextUpdate (RFC 5280 §5.1.2.5 requires one; without it the CRL could never go stale)",
                    crl.source
                ))
            }
        }
        scope_covers(&crl.scope, cert.is_ca, &cert.crl_urls)
            .map_err(|why| format!("{}: not an answer for `{}`: {why}", crl.source, cert.name))
    }

    /// The configured CRL files of `cert`'s issuer, each parsed and verified once per issuer key:
    /// Ok(CRL) or Err(why the file cannot be used). Files of other issuers are left out.
    fn crl_files_for(&self, cert: &CertRef<'_>) -> Vec<Result<Arc<IndexedCrl>, (String, String)>> {
        let issuer = CrlIssuer {
            subject: cert.issuer_name,
            spki: cert.issuer_spki,
        };
        let mut out = Vec::new();
        for (i, (name, der)) in self.crl_files.iter().enumerate() {
            let key = (i, cert.issuer_spki.to_vec());
            let cached = self
                .file_cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .cloned();
            let parsed = match cached {
                Some(c) => c,
                None => {
                    let r = IndexedCrl::parse(
                        der,
                        &format!("crl-file {name}"),
                        issuer,
                        self.policy.max_crl_bytes,
                    )
                    .map(|c| Arc::new(c.with_origin(Source::CrlFile { name: name.clone() })))
                    .map_err(|e| match e {
                        CrlError::IssuerMismatch { .. } => None,
                        other => Some(other.to_string()),
                    });
                    self.file_cache
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(key, r.clone());
                    r
                }
            };
            match parsed {
                Ok(c) => out.push(Ok(c)),
                Err(None) => {}
                Err(Some(e)) => out.push(Err((name.clone(), e))),
            }
        }
        out
    }

    /// After a good OCSP answer: does a CRL already at hand (a configured file, or one cached
    /// from a distribution point), valid and fresh, list the certificate? No network.
    fn revoked_by_crl_at_hand(
        &self,
        cert: &CertRef<'_>,
        now: i64,
        evidence: &mut Vec<Evidence>,
    ) -> Option<Decision> {
        if !cert.issuer_may_sign_crls {
            return None;
        }
        let mut at_hand: Vec<Arc<IndexedCrl>> =
            self.crl_files_for(cert).into_iter().flatten().collect();
        {
            let cache = self.crl_cache.lock().unwrap_or_else(|p| p.into_inner());
            at_hand.extend(
                cert.crl_urls
                    .iter()
                    .filter_map(|u| cache.get(u))
                    .filter(|c| c.issuer == cert.issuer_name)
                    .cloned(),
            );
        }
        let crl = at_hand
            .into_iter()
            .filter(|c| self.crl_usable(c, cert, now).is_ok())
            .find(|c| c.is_revoked(cert.serial))?;
        self.counters.inc("crl.revoked");
        evidence.push(cert.evidence(
            crl.origin.clone(),
            Outcome::Revoked,
            format!(
                "{}; a revoked answer from any valid, fresh source wins over a good OCSP answer",
                crl_detail(&crl)
            ),
        ));
        Some(Decision::Revoked(format!(
            "listed in {} (OCSP said good)",
            crl.source
        )))
    }

    fn check_crl(
        &self,
        cert: &CertRef<'_>,
        now: i64,
        evidence: &mut Vec<Evidence>,
        budget: Budget,
    ) -> Result<Decision, String> {
        let ev = |source, outcome, detail| cert.evidence(source, outcome, detail);
        let issuer = CrlIssuer {
            subject: cert.issuer_name,
            spki: cert.issuer_spki,
        };
        if !cert.issuer_may_sign_crls {
            let why = "the issuer's keyUsage lacks cRLSign, so no CRL it signs can be trusted (RFC 5280 §4.2.1.3)".to_string();
            evidence.push(ev(Source::CrlMechanism, Outcome::Unusable, why.clone()));
            self.counters.inc("crl.unavailable");
            return Err(why);
        }
        let mut reasons = Vec::new();
        let mut usable: Vec<Arc<IndexedCrl>> = Vec::new();
        // Reasons covered by the usable CRLs together (RFC 5280 §6.3.3's reasons_mask).
        let mut covered: ReasonFlags = 0;
        let consider = |crl: Arc<IndexedCrl>,
                        covered: &mut ReasonFlags,
                        usable: &mut Vec<Arc<IndexedCrl>>,
                        reasons: &mut Vec<String>,
                        evidence: &mut Vec<Evidence>| {
            match self.crl_usable(&crl, cert, now) {
                Ok(()) => {
                    *covered |= crl.scope.reason_mask();
                    usable.push(crl);
                }
                Err(why) => {
                    evidence.push(ev(crl.origin.clone(), Outcome::Unusable, why.clone()));
                    reasons.push(why);
                }
            }
        };
        for f in self.crl_files_for(cert) {
            match f {
                Ok(c) => consider(c, &mut covered, &mut usable, &mut reasons, evidence),
                Err((name, e)) => {
                    evidence.push(ev(Source::CrlFile { name }, Outcome::Unusable, e.clone()));
                    reasons.push(e);
                }
            }
        }
        // The distribution points, one after another until the CRLs at hand are complete: a
        // stale or partial file does not stop the fetch, and one good CRL stops the rest.
        for url in cert
            .crl_urls
            .iter()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        {
            if covered & ALL_REASONS == ALL_REASONS {
                break;
            }
            match self.crl_for(url, issuer, now, budget) {
                Ok(c) => consider(c, &mut covered, &mut usable, &mut reasons, evidence),
                Err(e) => {
                    evidence.push(ev(
                        Source::Crl { url: url.clone() },
                        Outcome::Unavailable,
                        e.clone(),
                    ));
                    reasons.push(e)
                }
            }
        }
        // Newest first (cRLNumber), so the evidence and a good answer come from the newest CRL;
        // a revoked answer from any usable CRL wins.
        usable.sort_by(|a, b| {
            if a.is_newer_than(b) {
                std::cmp::Ordering::Less
            } else if b.is_newer_than(a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        if let Some(crl) = usable.iter().find(|c| c.is_revoked(cert.serial)) {
            self.counters.inc("crl.revoked");
            evidence.push(ev(crl.origin.clone(), Outcome::Revoked, crl_detail(crl)));
            return Ok(Decision::Revoked(format!("listed in {}", crl.source)));
        }
        if !usable.is_empty() && covered & ALL_REASONS == ALL_REASONS {
            self.counters.inc("crl.good");
            for crl in &usable {
                evidence.push(ev(crl.origin.clone(), Outcome::Good, crl_detail(crl)));
            }
            return Ok(Decision::Good);
        }
        if !usable.is_empty() {
            let why = format!(
                "the usable CRLs ({}) cover only some revocation reasons (onlySomeReasons) and no CRL covers the rest",
                usable
                    .iter()
                    .map(|c| c.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            evidence.push(ev(Source::CrlMechanism, Outcome::Unusable, why.clone()));
            reasons.push(why);
        }
        self.counters.inc("crl.unavailable");
        if reasons.is_empty() {
            evidence.push(ev(
                Source::CrlMechanism,
                Outcome::NotApplicable,
                "certificate names no CRL distribution point and no CRL file matches".into(),
            ));
            reasons.push("no CRL distribution point and no matching CRL file".into());
        }
        Err(reasons.join("; "))
    }

    /// A verified CRL for `url`: the cached one while fresh, else fetched (one fetch per URL at a
    /// time), else the disk cache; a failed refresh keeps a cached CRL that is still usable.
    fn crl_for(&self, url: &str, issuer: CrlIssuer<'_>, now: i64, budget: Budget) -> CrlResult {
        let cached = self
            .crl_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .cloned();
        // Fresh = not yet within `refresh_before` of nextUpdate: no need to fetch.
        let fresh = |c: &IndexedCrl| {
            c.next_update
                .is_some_and(|n| now < n.saturating_sub(self.policy.refresh_before))
        };
        if let Some(c) = &cached {
            if fresh(c) && c.issuer == issuer.subject {
                self.counters.inc("crl-cache.hit");
                return Ok(c.clone());
            }
        }
        if cached.is_none() {
            if let Some(c) = self.read_disk_cache(url, issuer) {
                let c = Arc::new(c);
                self.crl_cache
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(url.to_string(), c.clone());
                if fresh(&c) {
                    self.counters.inc("crl-disk.hit");
                    return Ok(c);
                }
            }
        }
        if budget.offline && cached.is_none() {
            self.misses
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    url.to_string(),
                    (issuer.subject.to_vec(), issuer.spki.to_vec()),
                );
        }
        let fetched = self.fetch_with_backoff("crl", url, now, budget, |left| {
            self.crl_flights.run(url, || {
                self.counters.inc("crl.fetch");
                self.http.get(url, left)
            })
        });
        match fetched.map_err(|e| e.to_string()).and_then(|der| {
            let parsed = IndexedCrl::parse(
                &der,
                &format!("crl {url}"),
                issuer,
                self.policy.max_crl_bytes,
            )
            .map_err(|e| e.to_string())?
            .with_origin(Source::Crl { url: url.into() });
            Ok((parsed, der))
        }) {
            Ok((c, der)) => {
                let c = Arc::new(c);
                let mut cache = self.crl_cache.lock().unwrap_or_else(|p| p.into_inner());
                // RFC 5280 §5.2.3: cRLNumbers only increase. A CRL older than the one held (an
                // attacker on the plain-HTTP path replaying one from before a revocation) never
                // replaces it.
                if let Some(held) = cache
                    .get(url)
                    .filter(|h| h.issuer == c.issuer && h.is_newer_than(&c))
                {
                    self.counters.inc("crl.rollback");
                    tracing::warn!(url, held = ?held.number, got = ?c.number, "CRL with a lower cRLNumber than the cached one; keeping the cached CRL");
                    return Ok(held.clone());
                }
                cache.insert(url.to_string(), c.clone());
                drop(cache);
                self.write_disk_cache(url, &der);
                Ok(c)
            }
            Err(e) => {
                // Keep the last good CRL while it is still within nextUpdate + grace.
                let keep = self
                    .crl_cache
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(url)
                    .cloned();
                match keep.filter(|c| {
                    c.issuer == issuer.subject
                        && c.next_update
                            .map(|n| now <= n.saturating_add(self.policy.crl_grace))
                            .unwrap_or(false)
                }) {
                    Some(c) => {
                        tracing::warn!(url, error = %e, "CRL refresh failed; keeping the cached CRL");
                        Ok(c)
                    }
                    None => Err(e),
                }
            }
        }
    }

    fn disk_path(&self, url: &str) -> Option<PathBuf> {
        let dir = self.policy.cache_dir.as_ref()?;
        let h = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, url.as_bytes());
        Some(dir.join(format!(
                "{}.crl",
                h.as_ref()[..16]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )))
    }

    fn read_disk_cache(&self, url: &str, issuer: CrlIssuer<'_>) -> Option<IndexedCrl> {
        let p = self.disk_path(url)?;
        let der = std::fs::read(&p).ok()?;
        IndexedCrl::parse(
            &der,
            &format!("crl {url} (disk cache)"),
            issuer,
            self.policy.max_crl_bytes,
        )
        .ok()
        .map(|c| c.with_origin(Source::CrlDiskCache { url: url.into() }))
    }

    fn write_disk_cache(&self, url: &str, der: &[u8]) {
        let Some(p) = self.disk_path(url) else { return };
        if let Err(e) = medmij_core::atomic_file::write(&p, der) {
            tracing::warn!(path = %p.display(), error = %e, "cannot write the CRL disk cache");
        }
    }
}

fn mech_label(m: Mechanism) -> &'static str {
    match m {
        Mechanism::Ocsp => "OCSP",
        Mechanism::Crl => "CRL",
    }
}

fn status_outcome(s: &Status) -> Outcome {
    match s {
        Status::Good => Outcome::Good,
        Status::Revoked { .. } => Outcome::Revoked,
        Status::Unknown => Outcome::Unknown,
    }
}

/// Whether a CRL of `scope` (its issuingDistributionPoint, RFC 5280 §6.3.3 (b)) may answer for
/// a certificate that is (not) a CA and names `cert_dps` as its distribution points; `Err` says
/// why not. The parser records the scope; this is the judgment.
fn scope_covers(scope: &Scope, is_ca: bool, cert_dps: &[String]) -> Result<(), String> {
    if scope.only_ca && !is_ca {
        return Err("the CRL covers CA certificates only (onlyContainsCACerts)".into());
    }
    if scope.only_user && is_ca {
        return Err("the CRL covers end-entity certificates only (onlyContainsUserCerts)".into());
    }
    if let Some(uris) = &scope.dp_uris {
        if !uris.iter().any(|u| cert_dps.iter().any(|d| d == u)) {
            return Err(format!(
                "the CRL is the partition for {}, which the certificate does not name as its distribution point",
                uris.join(", ")
            ));
        }
    }
    Ok(())
}

fn crl_detail(crl: &IndexedCrl) -> String {
    format!(
        "CRL number {}, thisUpdate {}, nextUpdate {}",
        crl.number.as_deref().unwrap_or("-"),
        rfc3339(crl.this_update),
        crl.next_update.map(rfc3339).unwrap_or_else(|| "-".into())
    )
}

fn answer_detail(a: &ocsp::Answer) -> String {
    format!(
        "signed by {}, thisUpdate {}, valid until {}",
        a.signer,
        rfc3339(a.this_update),
        rfc3339(a.valid_until)
    )
}
