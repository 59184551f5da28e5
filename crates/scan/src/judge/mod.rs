//! Facts → findings, under a profile, environment and role. No I/O: a stored report's facts are
//! judged again here without scanning (`scan --from-json`).
//!
//! One finding per scan check of the registry, in registry order; the chain a server sent is
//! judged by the linter (the verifier's chain rules and the lint checks: the sender of a root
//! fails), whose findings follow.

mod params;
mod peer;
mod versions;

use crate::facts::EndpointFacts;
use medmij_core::checks::{self, Stage};
use medmij_core::ncsc::{Classification, Item, Level};
use medmij_core::outcome::{Finding, Origin, Status};
use medmij_core::wire::ProtocolVersion;
use medmij_core::{Environment, Profile};
use serde::{Deserialize, Serialize};

/// Which side of the network the endpoint serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A frontchannel server (PGO ↔ node, public certificates).
    Frontchannel,
    /// A backchannel server (node ↔ node, PKIoverheid, mutual TLS).
    Backchannel,
}

impl Role {
    /// The label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Frontchannel => "frontchannel",
            Role::Backchannel => "backchannel",
        }
    }
}

/// What the judgment needs besides the facts.
pub struct Context<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// The environment.
    pub environment: Environment,
    /// The role.
    pub role: Role,
    /// `--strict`: sufficient-only items fail.
    pub strict: bool,
    /// The date judged (RFC 3339 date), for checks with an effective date.
    pub date: String,
    /// The linter that judges the served chain (its anchors, at the scan's time).
    pub linter: Option<&'a medmij_lint::Linter>,
}

impl Context<'_> {
    /// The status of an item the NCSC rates `c`, unless a profile deviation permits it.
    pub fn rated(&self, item: Item, c: Classification) -> (Status, String) {
        let unconfirmed = if c.confidence == medmij_core::ncsc::Confidence::Unconfirmed {
            " (level unconfirmed in the reference)"
        } else {
            ""
        };
        if c.level != Level::Good {
            if let Some(d) = self.profile.deviation_for(&item) {
                return (
                    Status::Info,
                    format!(
                        "{}: permitted by a deviation ({}): {}",
                        c.level, d.requirement.0, d.reason
                    ),
                );
            }
        }
        let status = match c.level {
            Level::Good => Status::Pass,
            Level::Sufficient if self.strict => Status::Fail,
            Level::Sufficient => Status::Warning,
            Level::PhaseOut | Level::Insufficient => Status::Fail,
        };
        (status, format!("NCSC {}{unconfirmed}", c.level))
    }
}

/// Which side of a connection a version is offered by: the profile allows different versions
/// to servers and to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A server (what the scanner sees accepted).
    Server,
    /// A client (what the client probe sees offered).
    Client,
}

impl Context<'_> {
    /// The status of a version offered or accepted by `side`: not allowed by the profile for
    /// that side = fail, else its NCSC rating ([`Context::rated`]).
    pub fn rated_version(&self, v: ProtocolVersion, side: Side) -> (Status, String) {
        let item = Item::Version(v);
        let (st, why) = self.rated(item, self.profile.classify(item));
        let (allowed, who) = match side {
            Side::Server => (&self.profile.versions.server_allowed, "a server"),
            Side::Client => (&self.profile.versions.client_allowed, "a client"),
        };
        if allowed.iter().any(|a| a.0 == v) {
            (st, why)
        } else {
            (
                Status::Fail,
                format!("not allowed by {} for {who} ({why})", self.profile.id),
            )
        }
    }
}

/// A finding for a registered check (every name used here is in the registry; a test holds
/// the judgment to that).
fn finding(check: &str, status: Status, message: impl Into<String>) -> Finding {
    let c = checks::check(check).unwrap_or(&checks::CHECKS[0]);
    Finding::of_check(c, status, message)
}

fn with(f: Finding, observed: impl Into<String>, target: &str) -> Finding {
    f.with_evidence(observed, Origin::Peer(target.to_owned()))
}

/// Fills in the NCSC level of every suite and group (for readers of the report).
pub fn annotate(f: &mut EndpointFacts, profile: &Profile) {
    for s in &mut f.cipher_suites {
        s.name = s.suite().name().map(str::to_owned);
        s.ncsc = Some(profile.level(Item::CipherSuite(s.suite())));
    }
    for g in &mut f.groups {
        g.name = g.group().name().map(str::to_owned);
        g.ncsc = Some(profile.level(Item::Group(g.group())));
    }
}

/// One finding per scan check, in registry order, then the served chain's lint findings.
pub fn endpoint(ctx: &Context<'_>, target: &str, f: &EndpointFacts) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for c in checks::CHECKS
        .iter()
        .filter(|c| c.runs_at(Stage::Scan) && c.stages == [Stage::Scan])
    {
        let found = if !f.speaks_tls && c.name != checks::names::ENDPOINT_TLS {
            finding(c.name, Status::NotTested, "no TLS answer from the endpoint")
        } else {
            judge_one(ctx, target, f, c.name)
        };
        let date_status = Finding::status_at(c, &ctx.date, found.status);
        out.push(Finding {
            status: date_status,
            ..found
        });
    }
    if f.speaks_tls {
        out.extend(peer::chain(ctx, target, f));
    }
    out
}

fn judge_one(ctx: &Context<'_>, target: &str, f: &EndpointFacts, name: &str) -> Finding {
    use checks::names::*;
    match name {
        ENDPOINT_TLS => versions::speaks_tls(target, f),
        TLS_VERSIONS_REQUIRED => versions::required(ctx, target, f),
        TLS_VERSIONS_RATED => versions::rated(ctx, target, f),
        TLS_HIGHEST_VERSION => versions::highest(target, f),
        TLS_DOWNGRADE_SENTINEL => versions::sentinel(target, f),
        TLS_TLS13_READY => versions::tls13_ready(ctx, target, f),
        TLS_CIPHER_SUITES => params::suites(ctx, target, f),
        TLS_CIPHER_ORDER => params::order(ctx, target, f),
        TLS_GROUPS => params::groups(ctx, target, f),
        TLS_DH_PARAMETERS => params::dh(ctx, target, f),
        TLS_KEX_SIGNATURE_HASH => params::kex_signature(target, f),
        TLS_COMPRESSION => params::compression(ctx, target, f),
        TLS_SECURE_RENEGOTIATION => params::renegotiation(ctx, target, f),
        TLS_EXTENDED_MASTER_SECRET => params::ems(ctx, target, f),
        TLS_OCSP_STAPLING => params::stapling(ctx, target, f),
        TLS_ZERO_RTT => params::zero_rtt(target, f),
        TLS_CLIENT_CERTIFICATE => peer::client_certificate(ctx, target, f),
        FRONTCHANNEL_HTTP_REDIRECT => peer::http_redirect(ctx, target, f),
        FRONTCHANNEL_HSTS => peer::hsts(ctx, target, f),
        n if n.starts_with("refusal.") => peer::refusal(ctx, target, f, n),
        n => finding(n, Status::Error, "no judgment for this check"),
    }
}

impl<'a> Context<'a> {
    /// A copy (the context holds only references and small values).
    pub fn clone_ref(&self) -> Context<'a> {
        Context {
            profile: self.profile,
            environment: self.environment,
            role: self.role,
            strict: self.strict,
            date: self.date.clone(),
            linter: self.linter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scan_only_check_has_a_judgment() {
        let profile = Profile::default_profile();
        let ctx = Context {
            profile: &profile,
            environment: Environment::Production,
            role: Role::Backchannel,
            strict: false,
            date: "2026-12-01".into(),
            linter: None,
        };
        let f = EndpointFacts {
            speaks_tls: true,
            ..EndpointFacts::default()
        };
        for c in checks::CHECKS.iter().filter(|c| c.stages == [Stage::Scan]) {
            let got = judge_one(&ctx, "t:443", &f, c.name);
            assert_eq!(got.check, c.name);
            assert_ne!(got.message, "no judgment for this check", "{}", c.name);
        }
    }

    #[test]
    fn strict_fails_sufficient_items_and_a_deviation_stays_info() {
        use crate::facts::SuiteFact;
        use medmij_core::checks::names::{TLS_CIPHER_SUITES, TLS_VERSIONS_RATED};
        use medmij_core::wire::ProtocolVersion as V;
        let profile = Profile::default_profile();
        let suite = |version, code| SuiteFact {
            version,
            code,
            name: None,
            ncsc: None,
        };
        let f = EndpointFacts {
            speaks_tls: true,
            versions: vec![V::TLS13, V::TLS12],
            cipher_suites: vec![suite(V::TLS13, 0x1302), suite(V::TLS12, 0xC02F)],
            ..EndpointFacts::default()
        };
        let at = |strict| {
            let ctx = Context {
                profile: &profile,
                environment: Environment::Production,
                role: Role::Backchannel,
                strict,
                date: "2026-12-01".into(),
                linter: None,
            };
            let j = endpoint(&ctx, "t:443", &f);
            let st = |c: &str| j.iter().find(|x| x.check == c).map(|x| x.status);
            (st(TLS_CIPHER_SUITES), st(TLS_VERSIONS_RATED))
        };
        assert_eq!(at(false), (Some(Status::Warning), Some(Status::Info)));
        assert_eq!(at(true), (Some(Status::Fail), Some(Status::Info)));
    }
}
