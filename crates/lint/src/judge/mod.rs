//! The judgment: facts (and the verifier's verdict, and DNS facts) → one finding per lint check
//! of the registry. No I/O. Each requirement family has its own module; this one runs them and
//! makes sure every lint check says something, `not-applicable` included, so a report shows
//! what was judged and what was not.

pub mod core_tls_311;
pub mod core_tls_313;
pub mod core_tls_314;
pub mod core_tls_315;
pub(crate) mod dns;
mod handshake;

use crate::dns::DnsFacts;
use crate::facts::{CertFacts, CsrFacts};
use medmij_core::checks::{self, Stage};
use medmij_core::outcome::{Finding, Origin, Status};
use medmij_core::{Environment, Profile};
use medmij_verify::Verdict;

/// Which traffic the certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Node to node: PKIoverheid private (core.tls.311, 314).
    Backchannel,
    /// Browser-facing: publicly trusted, OV or better (core.tls.315).
    Frontchannel,
}

impl Role {
    /// `backchannel` / `frontchannel`.
    pub fn label(self) -> &'static str {
        match self {
            Role::Backchannel => "backchannel",
            Role::Frontchannel => "frontchannel",
        }
    }
}

/// What the judgment is relative to.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    /// The profile (NCSC edition).
    pub profile: &'a Profile,
    /// production, acceptance or test.
    pub environment: Environment,
    /// The role.
    pub role: Role,
    /// The instant judged (Unix seconds).
    pub now: i64,
    /// Whether revocation was checked (else the revocation checks are `not-tested`).
    pub revocation_checked: bool,
    /// CAA issuer domains of the issuing CA given by the user, besides the known list.
    pub caa_identifiers: &'a [String],
    /// The raw subject names of the trust anchors (to tell a missing intermediate from an
    /// untrusted root when the path fails).
    pub anchor_subjects: &'a [Vec<u8>],
}

impl Context<'_> {
    /// The date judged, `YYYY-MM-DD` (for effective dates).
    pub fn date(&self) -> String {
        medmij_verify::der_time::rfc3339(self.now)
            .get(..10)
            .unwrap_or("")
            .to_string()
    }
}

/// One finding per check, collected in registry order: a slot per registered check.
pub(crate) struct Findings {
    date: String,
    slots: Vec<Option<Finding>>,
}

/// The registry position of a check.
fn slot(check: &str) -> Option<usize> {
    checks::CHECKS.binary_search_by(|c| c.name.cmp(check)).ok()
}

impl Findings {
    fn new(date: String) -> Findings {
        Findings {
            date,
            slots: vec![None; checks::CHECKS.len()],
        }
    }

    /// Sets the finding of `check` (a registered name); the first one set stands, so a module
    /// that judged a check is never overwritten by a default.
    pub(crate) fn put(&mut self, check: &'static str, status: Status, message: impl Into<String>) {
        self.put_with(check, status, message, Vec::new());
    }

    /// As [`Findings::put`], with evidence.
    pub(crate) fn put_with(
        &mut self,
        check: &'static str,
        status: Status,
        message: impl Into<String>,
        evidence: Vec<(String, Origin)>,
    ) {
        let Some(i) = slot(check) else {
            return;
        };
        if self.slots[i].is_some() {
            return;
        }
        let c = &checks::CHECKS[i];
        let mut f = Finding::of_check(c, Finding::status_at(c, &self.date, status), message);
        for (observed, origin) in evidence {
            f = f.with_evidence(observed, origin);
        }
        self.slots[i] = Some(f);
    }

    pub(crate) fn has(&self, check: &str) -> bool {
        slot(check).is_some_and(|i| self.slots[i].is_some())
    }

    fn finish(mut self, default: Status, why: &str) -> Vec<Finding> {
        for (i, c) in checks::CHECKS.iter().enumerate() {
            if c.runs_at(Stage::Lint) && self.slots[i].is_none() {
                self.slots[i] = Some(Finding::of_check(
                    c,
                    Finding::status_at(c, &self.date, default),
                    why,
                ));
            }
        }
        self.slots.into_iter().flatten().collect()
    }
}

/// At most this many names or certificates listed in one message: a 10,000-SAN certificate
/// still gets a readable line (the evidence keeps the count).
pub(crate) const MAX_LISTED: usize = 10;

/// `a, b, c` of at most [`MAX_LISTED`] items, then `and N more`.
pub(crate) fn listed<S: AsRef<str>>(items: &[S]) -> String {
    let mut s: Vec<&str> = items.iter().take(MAX_LISTED).map(AsRef::as_ref).collect();
    let more = items.len().saturating_sub(MAX_LISTED);
    let tail = format!("and {more} more");
    if more > 0 {
        s.push(&tail);
    }
    s.join(", ")
}

/// Judges a chain (leaf first) with the verifier's verdict on it (`None` when no verifier
/// could be built, e.g. without anchors) and, with `--dns`, the DNS facts of its names.
pub fn chain(
    ctx: &Context<'_>,
    certs: &[CertFacts],
    verdict: Option<&Verdict>,
    dns: Option<&DnsFacts>,
) -> Vec<Finding> {
    let mut f = Findings::new(ctx.date());
    let ordered: Vec<&CertFacts> = core_tls_313::path_order(certs)
        .into_iter()
        .map(|i| &certs[i])
        .collect();
    let Some(&leaf) = ordered.first() else {
        return f.finish(Status::Error, "the file holds no certificate");
    };
    role_gates(ctx, &mut f);
    handshake::from_verdict(ctx, &ordered, verdict, &mut f);
    core_tls_311::chain(ctx, &ordered, &mut f);
    core_tls_313::chain(certs, &mut f);
    core_tls_314::leaf(ctx, leaf, &mut f);
    core_tls_315::leaf(ctx, leaf, &mut f);
    core_tls_315::manual(&mut f);
    dns::judge(ctx, &leaf.dns_names, &issuer_caa(ctx, leaf), dns, &mut f);
    f.finish(Status::NotApplicable, "not judged for this input")
}

/// Judges a certificate signing request: the checks that apply before ordering; the rest are
/// `not-applicable` (they are judged on the issued certificate).
pub fn csr(ctx: &Context<'_>, r: &CsrFacts, dns: Option<&DnsFacts>) -> Vec<Finding> {
    use medmij_core::checks::names::*;
    let mut f = Findings::new(ctx.date());
    role_gates(ctx, &mut f);
    if r.signature_ok {
        f.put(
            CHAIN_PARSES,
            Status::Pass,
            "the certificate request parses and its self-signature verifies",
        );
    } else {
        f.put(
            CHAIN_PARSES,
            Status::Fail,
            "the certificate request's self-signature does not verify (a CA refuses it)",
        );
    }
    core_tls_311::key(ctx, r.key, &r.key_algorithm, None, &mut f);
    core_tls_311::san(&r.common_names, &r.dns_names, r.has_san, &mut f);
    core_tls_314::ip_sans(ctx, &r.ip_sans, false, &mut f);
    core_tls_314::wildcard(ctx, &r.common_names, &r.dns_names, &mut f);
    core_tls_315::names(ctx, &r.common_names, &r.dns_names, &mut f);
    core_tls_315::manual(&mut f);
    dns::judge(ctx, &r.dns_names, &[], dns, &mut f);
    f.finish(
        Status::NotApplicable,
        "judged on the issued certificate, not on the request",
    )
}

/// Marks the checks of the other role not applicable.
fn role_gates(ctx: &Context<'_>, f: &mut Findings) {
    use medmij_core::checks::names::*;
    let (other, why): (&[&'static str], &str) = match ctx.role {
        Role::Backchannel => (
            &[
                FRONTCHANNEL_CAA,
                FRONTCHANNEL_DNSSEC,
                FRONTCHANNEL_GDPR_CA,
                FRONTCHANNEL_MAX_VALIDITY,
                FRONTCHANNEL_NO_WILDCARD,
                FRONTCHANNEL_OV_OR_BETTER,
                FRONTCHANNEL_PUBLIC_ROOT,
                FRONTCHANNEL_SINGLE_OWNER,
            ],
            "a frontchannel rule; this is a backchannel certificate",
        ),
        Role::Frontchannel => (
            &[
                ANCHOR_NOT_CUT_OFF,
                CHAIN_ALLOWED_INTERMEDIATES,
                CHAIN_TRUSTED_ANCHOR,
                LEAF_NO_IP_SAN,
                LEAF_NO_WILDCARD,
                LEAF_OIN,
                LEAF_POLICY_OID,
            ],
            "a backchannel (PKIoverheid) rule; this is a frontchannel certificate",
        ),
    };
    for c in other {
        f.put(c, Status::NotApplicable, why);
    }
    f.put(
        LEAF_HOSTNAME,
        Status::NotApplicable,
        "a connection's rule: `medmij-tls verify --hostname H` checks a certificate against the name connected to",
    );
}

/// The CAA identifiers of the leaf's issuer: the known list's, and the user's.
fn issuer_caa(ctx: &Context<'_>, leaf: &CertFacts) -> Vec<String> {
    let mut ids: Vec<String> = crate::ca_orgs::find(&leaf.issuer_organizations)
        .map(|ca| ca.caa.clone())
        .unwrap_or_default();
    ids.extend(ctx.caa_identifiers.iter().map(|s| s.to_ascii_lowercase()));
    ids
}
