//! The peer side: client certificates (core.tls.308) and the refusal probes (309, 311,
//! whitelist), plain HTTP and HSTS on the frontchannel (300), and the chain as sent (311, 313,
//! 314, 315 through the linter).

use super::{finding, with, Context, Role};
use crate::facts::{ClientAuth, EndpointFacts, RefusalOutcome, RefusalProbe};
use base64::Engine as _;
use medmij_core::checks::names::*;
use medmij_core::outcome::{Finding, Origin, Status};

pub(super) fn client_certificate(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let cas = if f.handshake.acceptable_cas.is_empty() {
        f.acceptable_cas_tls12.clone()
    } else {
        f.handshake.acceptable_cas.clone()
    };
    let ca_text = if cas.is_empty() {
        "no acceptable-CA names".to_owned()
    } else {
        format!("acceptable CAs: {}", cas.join("; "))
    };
    let after = f.handshake.after.clone().unwrap_or_else(|| "-".into());
    let fd = match (ctx.role, f.client_auth) {
        (_, ClientAuth::Unknown) => finding(
            TLS_CLIENT_CERTIFICATE,
            Status::Error,
            format!(
                "no handshake completed to see whether a client certificate is requested: {}",
                f.handshake.error.as_deref().unwrap_or("-")
            ),
        ),
        (Role::Backchannel, ClientAuth::Required) => finding(
            TLS_CLIENT_CERTIFICATE,
            Status::Pass,
            "a client certificate is required; without one the handshake is refused",
        ),
        (Role::Backchannel, ClientAuth::Optional) => finding(
            TLS_CLIENT_CERTIFICATE,
            Status::Fail,
            format!("a client certificate is requested but not required: without one the server answered ({after})"),
        ),
        (Role::Backchannel, ClientAuth::None) => finding(
            TLS_CLIENT_CERTIFICATE,
            Status::Fail,
            "no client certificate is requested: a backchannel server must require one",
        ),
        (Role::Frontchannel, ClientAuth::None) => finding(
            TLS_CLIENT_CERTIFICATE,
            Status::Pass,
            "no client certificate is requested",
        ),
        (Role::Frontchannel, ClientAuth::Optional | ClientAuth::Required) => finding(
            TLS_CLIENT_CERTIFICATE,
            Status::Fail,
            format!("a frontchannel server requests a client certificate ({:?})", f.client_auth).to_lowercase(),
        ),
    };
    with(
        with(fd, ca_text, t),
        format!("after the handshake without a certificate: {after}"),
        t,
    )
}

fn probe_of(check: &str) -> Option<RefusalProbe> {
    Some(match check {
        REFUSAL_SELF_SIGNED => RefusalProbe::SelfSigned,
        REFUSAL_UNKNOWN_CA => RefusalProbe::UnknownCa,
        REFUSAL_REVOKED => RefusalProbe::Revoked,
        REFUSAL_EXPIRED => RefusalProbe::Expired,
        REFUSAL_NOT_YET_VALID => RefusalProbe::NotYetValid,
        REFUSAL_CLIENT_AUTH_ONLY => RefusalProbe::ClientAuthOnly,
        REFUSAL_NOT_WHITELISTED => RefusalProbe::NotWhitelisted,
        _ => return None,
    })
}

pub(super) fn refusal(ctx: &Context<'_>, t: &str, f: &EndpointFacts, check: &str) -> Finding {
    if ctx.role == Role::Frontchannel {
        return finding(check, Status::NotApplicable, "a backchannel probe");
    }
    let Some(probe) = probe_of(check) else {
        return finding(check, Status::Error, "no probe for this check");
    };
    let Some(r) = f.refusals.iter().find(|r| r.probe == probe) else {
        let why = match probe {
            RefusalProbe::SelfSigned | RefusalProbe::UnknownCa => "not probed",
            _ => "not probed: needs --probe-pki DIR (a test PKI the server's acceptance environment trusts)",
        };
        return finding(check, Status::NotTested, why);
    };
    let label = probe.label();
    let fd = match &r.outcome {
        RefusalOutcome::Alert { alert } => finding(check, Status::Pass, format!("{label} certificate refused in the handshake (alert {alert})")),
        RefusalOutcome::Closed { how } => finding(check, Status::Pass, format!("{label} certificate refused in the handshake (connection ended: {how})")),
        RefusalOutcome::Http { status } => finding(
            check,
            Status::Fail,
            format!("{label} certificate: the handshake completed and HTTP {status} came back; the refusal must be a TLS alert"),
        ),
        RefusalOutcome::Accepted => finding(check, Status::Fail, format!("{label} certificate accepted")),
        RefusalOutcome::Error { why } => finding(check, Status::Error, format!("{label} probe could not run: {why}")),
    };
    with(fd, format!("{label}: {:?}", r.outcome), t)
}

pub(super) fn http_redirect(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    if ctx.role == Role::Backchannel {
        return finding(
            FRONTCHANNEL_HTTP_REDIRECT,
            Status::NotApplicable,
            "a frontchannel check",
        );
    }
    let Some(h) = &f.plain_http else {
        return finding(
            FRONTCHANNEL_HTTP_REDIRECT,
            Status::NotTested,
            "plain HTTP not probed",
        );
    };
    let at = format!("port {}", h.port);
    if !h.listening {
        return with(
            finding(
                FRONTCHANNEL_HTTP_REDIRECT,
                Status::Pass,
                format!("nothing listens on {at}"),
            ),
            at,
            t,
        );
    }
    if let Some(e) = &h.error {
        if h.status.is_none() {
            return with(
                finding(
                    FRONTCHANNEL_HTTP_REDIRECT,
                    Status::Fail,
                    format!("{at} answers, but not with an HTTP redirect: {e}"),
                ),
                at,
                t,
            );
        }
    }
    let status = h.status.unwrap_or(0);
    let to_https = h
        .location
        .as_deref()
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"));
    let fd = if (300..400).contains(&status) && to_https {
        finding(
            FRONTCHANNEL_HTTP_REDIRECT,
            Status::Pass,
            format!("{at}: {status} to {}", h.location.as_deref().unwrap_or("")),
        )
    } else if (300..400).contains(&status) {
        finding(
            FRONTCHANNEL_HTTP_REDIRECT,
            Status::Fail,
            format!(
                "{at}: {status} redirects to {:?}, not to https",
                h.location.as_deref().unwrap_or("")
            ),
        )
    } else {
        finding(FRONTCHANNEL_HTTP_REDIRECT, Status::Fail, format!("{at}: plain HTTP answered {status} ({} bytes of content) instead of a redirect to https", h.body_bytes))
    };
    with(
        fd,
        format!("{at}: status {status}, Location {:?}", h.location),
        t,
    )
}

pub(super) fn hsts(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    if ctx.role == Role::Backchannel {
        return finding(
            FRONTCHANNEL_HSTS,
            Status::NotApplicable,
            "a frontchannel check",
        );
    }
    match &f.handshake.hsts {
        Some(v) => with(
            finding(
                FRONTCHANNEL_HSTS,
                Status::Info,
                format!("Strict-Transport-Security: {v}"),
            ),
            v.clone(),
            t,
        ),
        None if f
            .handshake
            .after
            .as_deref()
            .is_some_and(|a| a.starts_with("http ")) =>
        {
            finding(
                FRONTCHANNEL_HSTS,
                Status::Warning,
                "the HTTPS answer carries no Strict-Transport-Security header",
            )
        }
        None => finding(
            FRONTCHANNEL_HSTS,
            Status::NotTested,
            "no HTTP/1.1 answer over TLS to look at",
        ),
    }
}

/// The chain as sent, judged by the linter: one finding per lint check (the sender of a root
/// fails), with the hostname checked against the SNI here.
pub(super) fn chain(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Vec<Finding> {
    let Some(linter) = ctx.linter else {
        return Vec::new();
    };
    if f.chain.is_empty() {
        return vec![finding(
            CHAIN_PARSES,
            Status::Error,
            "no certificate chain was seen",
        )];
    }
    let mut der = Vec::new();
    for c in &f.chain {
        match base64::engine::general_purpose::STANDARD.decode(&c.der) {
            Ok(d) => der.extend_from_slice(&d),
            Err(e) => {
                return vec![finding(
                    CHAIN_PARSES,
                    Status::Error,
                    format!("stored chain is not base64: {e}"),
                )]
            }
        }
    }
    let report = linter.lint_bytes(&format!("chain sent by {t}"), &der);
    if let Some(e) = report.error {
        return vec![with(
            finding(CHAIN_PARSES, Status::Fail, e),
            "the Certificate message",
            t,
        )];
    }
    let leaf_names = leaf_dns_names(&der);
    report
        .findings
        .into_iter()
        .map(|mut fd| {
            if fd.check == LEAF_HOSTNAME {
                fd = hostname(f.sni.as_deref(), &leaf_names, t);
            }
            fd.evidence.retain(|e| !matches!(e.origin, Origin::File(_)));
            fd
        })
        .collect()
}

fn leaf_dns_names(der_concat: &[u8]) -> Vec<String> {
    use x509_parser::prelude::*;
    let Ok((_, c)) = X509Certificate::from_der(der_concat) else {
        return Vec::new();
    };
    c.subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(n) => Some(n.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn hostname(sni: Option<&str>, names: &[String], t: &str) -> Finding {
    let Some(host) = sni else {
        return finding(
            LEAF_HOSTNAME,
            Status::NotTested,
            "an IP-address target: no hostname to match",
        );
    };
    let matches = names.iter().any(|n| {
        n == host
            || n.strip_prefix("*.").is_some_and(|base| {
                host.split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == base)
            })
    });
    let fd = if matches {
        finding(
            LEAF_HOSTNAME,
            Status::Pass,
            format!("the certificate is valid for {host}"),
        )
    } else {
        finding(
            LEAF_HOSTNAME,
            Status::Fail,
            format!("the certificate does not name {host}"),
        )
    };
    with(fd, format!("SAN dNSNames: {}", names.join(", ")), t)
}
