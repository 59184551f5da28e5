//! Versions: TLS at all (core.tls.300), required and rated versions (305, 301/302), the
//! highest common version and the downgrade sentinel (304), and the TLS 1.3-only view.

use super::{finding, with, Context, Side};
use crate::facts::EndpointFacts;
use medmij_core::checks::names::*;
use medmij_core::ncsc::{Item, Level};
use medmij_core::outcome::{Finding, Status};
use medmij_core::wire::ProtocolVersion;

fn list(v: &[ProtocolVersion]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn speaks_tls(t: &str, f: &EndpointFacts) -> Finding {
    if f.speaks_tls && f.versions.is_empty() {
        let seen = f
            .version_answers
            .iter()
            .map(|(v, a)| format!("{v}: {a}"))
            .collect::<Vec<_>>()
            .join("; ");
        return finding(
            ENDPOINT_TLS,
            Status::Fail,
            format!("TLS records, but no version accepted with any suite offered: {seen}"),
        );
    }
    if f.speaks_tls {
        return with(
            finding(
                ENDPOINT_TLS,
                Status::Pass,
                format!("TLS answered ({})", list(&f.versions)),
            ),
            format!("versions {}", list(&f.versions)),
            t,
        );
    }
    let why = f
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.probe, e.error))
        .chain(f.version_answers.iter().map(|(v, a)| format!("{v}: {a}")))
        .take(4)
        .collect::<Vec<_>>()
        .join("; ");
    let unreachable = f
        .errors
        .iter()
        .any(|e| e.probe == "connect" || e.probe == "resolve");
    let status = if unreachable {
        Status::Error
    } else {
        Status::Fail
    };
    finding(
        ENDPOINT_TLS,
        status,
        if unreachable {
            format!("could not connect: {why}")
        } else {
            format!("no TLS answer: {why}")
        },
    )
}

pub(super) fn required(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let req: Vec<ProtocolVersion> = ctx
        .profile
        .versions
        .server_required
        .iter()
        .map(|v| v.0)
        .collect();
    let missing: Vec<ProtocolVersion> = req.iter().copied().filter(|v| !f.supports(*v)).collect();
    let fd = if missing.is_empty() {
        finding(
            TLS_VERSIONS_REQUIRED,
            Status::Pass,
            format!("supports {} as {} requires", list(&req), ctx.profile.id),
        )
    } else {
        finding(
            TLS_VERSIONS_REQUIRED,
            Status::Fail,
            format!(
                "{} not supported; {} requires {} of a server",
                list(&missing),
                ctx.profile.id,
                list(&req)
            ),
        )
    };
    with(fd, format!("accepted: {}", list(&f.versions)), t)
}

pub(super) fn rated(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let mut worst = Status::Pass;
    let mut parts = Vec::new();
    let mut fd_ev = Vec::new();
    for v in &f.versions {
        let (st, why) = ctx.rated_version(*v, Side::Server);
        worst = worst.max(st);
        if st != Status::Pass {
            parts.push(format!("{v}: {why}"));
        }
        fd_ev.push(format!("{v}: {why}"));
    }
    let msg = if parts.is_empty() {
        format!("{} (all rated good)", list(&f.versions))
    } else {
        parts.join("; ")
    };
    let mut fd = finding(TLS_VERSIONS_RATED, worst, msg);
    for e in fd_ev {
        fd = with(fd, e, t);
    }
    fd
}

pub(super) fn highest(t: &str, f: &EndpointFacts) -> Finding {
    let Some(best) = f.versions.iter().max().copied() else {
        return finding(
            TLS_HIGHEST_VERSION,
            Status::NotTested,
            "no version accepted",
        );
    };
    match f.highest_offered_chosen {
        Some(c) if c == best => with(
            finding(
                TLS_HIGHEST_VERSION,
                Status::Pass,
                format!("offered TLSv1.0–TLSv1.3, chose {c}"),
            ),
            format!("chose {c}"),
            t,
        ),
        Some(c) => with(
            finding(
                TLS_HIGHEST_VERSION,
                Status::Fail,
                format!("offered TLSv1.0–TLSv1.3, chose {c} although it supports {best}"),
            ),
            format!("chose {c}"),
            t,
        ),
        None => finding(
            TLS_HIGHEST_VERSION,
            Status::Error,
            "the all-versions probe got no ServerHello",
        ),
    }
}

pub(super) fn sentinel(t: &str, f: &EndpointFacts) -> Finding {
    if !f.supports(ProtocolVersion::TLS13) {
        return finding(
            TLS_DOWNGRADE_SENTINEL,
            Status::NotApplicable,
            "no TLS 1.3: nothing to protect against downgrade",
        );
    }
    if !f.supports(ProtocolVersion::TLS12) {
        return finding(
            TLS_DOWNGRADE_SENTINEL,
            Status::NotApplicable,
            "TLS 1.3 only: a downgrade cannot happen",
        );
    }
    match f.downgrade_sentinel {
        Some(true) => with(
            finding(
                TLS_DOWNGRADE_SENTINEL,
                Status::Pass,
                "offered at most TLS 1.2, the ServerHello carried DOWNGRD\\x01",
            ),
            "ServerHello.random ends in 44 4F 57 4E 47 52 44 01",
            t,
        ),
        Some(false) => with(
            finding(
                TLS_DOWNGRADE_SENTINEL,
                Status::Fail,
                "supports TLS 1.3, but offered at most TLS 1.2 it sent no downgrade sentinel",
            ),
            "ServerHello.random without DOWNGRD\\x01",
            t,
        ),
        None => finding(
            TLS_DOWNGRADE_SENTINEL,
            Status::Error,
            "no TLS 1.2 ServerHello was had to look at",
        ),
    }
}

pub(super) fn tls13_ready(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let v = ProtocolVersion::TLS13;
    if !f.supports(v) {
        return finding(
            TLS_TLS13_READY,
            Status::Warning,
            "not TLS 1.3-ready: TLS 1.3 is not supported",
        );
    }
    let ok = |l: Level| matches!(l, Level::Good | Level::Sufficient);
    let suite = f
        .suites_of(v)
        .find(|s| ok(ctx.profile.level(Item::CipherSuite(s.suite()))));
    let group = f
        .groups
        .iter()
        .filter(|g| g.version == v)
        .find(|g| ok(ctx.profile.level(Item::Group(g.group()))));
    let chain_13 = f.handshake.version == Some(v) || f.chain_version == Some(v);
    match (suite, group) {
        (Some(s), Some(g)) => {
            let mut fd = finding(
                TLS_TLS13_READY,
                Status::Pass,
                format!("TLS 1.3-ready: {} with {}", s.suite(), g.group()),
            );
            if !chain_13 {
                fd = with(fd, "the chain was not seen over TLS 1.3", t);
            }
            fd
        }
        (None, _) => finding(
            TLS_TLS13_READY,
            Status::Warning,
            "not TLS 1.3-ready: no TLS 1.3 suite rated at least sufficient",
        ),
        (_, None) => finding(
            TLS_TLS13_READY,
            Status::Warning,
            "not TLS 1.3-ready: no TLS 1.3 group rated at least sufficient",
        ),
    }
}
