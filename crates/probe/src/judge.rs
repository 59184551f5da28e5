//! Connection facts → one finding per client-probe check of the registry, under the profile.
//! No I/O. The NCSC ratings are the scanner's (`medmij_scan::Context::rated`), so a client and
//! a server offering the same suite get the same level.

use crate::cases::Case;
use crate::facts::{ConnectionFacts, Outcome};
use medmij_core::checks::{self, names::*, Stage};
use medmij_core::ncsc::Item;
use medmij_core::outcome::{Finding, Origin, Status};
use medmij_core::wire::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use medmij_scan::wire::hello::{EMPTY_RENEGOTIATION_INFO_SCSV, FALLBACK_SCSV};
use medmij_scan::{Context, Role, Side};
use std::collections::BTreeSet;

fn finding(check: &str, status: Status, message: impl Into<String>) -> Finding {
    let c = checks::check(check).unwrap_or(&checks::CHECKS[0]);
    Finding::of_check(c, status, message)
}

fn with(f: Finding, observed: impl Into<String>, client: &str) -> Finding {
    f.with_evidence(observed, Origin::Peer(client.to_owned()))
}

/// What a connection showed, in words.
fn seen(c: &ConnectionFacts) -> String {
    let how = match &c.outcome {
        Outcome::Completed => match &c.request {
            Some(r) => format!("completed the handshake and sent `{r}`"),
            None => "completed the handshake".to_owned(),
        },
        Outcome::ClientAlert(a) => format!("aborted with alert {a}"),
        Outcome::Closed => "closed the connection during the handshake".to_owned(),
        Outcome::Timeout => "went silent during the handshake".to_owned(),
        Outcome::ServerError => format!(
            "could not be served: {}",
            c.error.as_deref().unwrap_or("TLS error")
        ),
        Outcome::NoHello => format!(
            "sent no ClientHello: {}",
            c.error.as_deref().unwrap_or("nothing")
        ),
    };
    let v = c
        .version
        .map(|v| format!(" ({})", ProtocolVersion(v)))
        .unwrap_or_default();
    format!("connection #{} from {}{v}: {how}", c.index + 1, c.peer)
}

/// One finding per probe check, in registry order. `cases` are the cases the run served.
pub fn client(
    ctx: &Context<'_>,
    client: &str,
    conns: &[ConnectionFacts],
    cases: &[Case],
) -> Vec<Finding> {
    checks::CHECKS
        .iter()
        .filter(|c| c.runs_at(Stage::Probe))
        .map(|c| one(ctx, client, conns, cases, c.name))
        .collect()
}

fn hellos(conns: &[ConnectionFacts]) -> impl Iterator<Item = &crate::hello::ClientHelloFacts> {
    conns.iter().filter_map(|c| c.hello.as_ref())
}

fn one(
    ctx: &Context<'_>,
    client: &str,
    conns: &[ConnectionFacts],
    cases: &[Case],
    name: &str,
) -> Finding {
    if let Some(case) = Case::ALL.into_iter().find(|c| c.check() == name) {
        return case_finding(ctx, client, conns, cases, case);
    }
    match name {
        CLIENT_VERSIONS_OFFERED => {
            let items = offered_codes(conns, |h| &h.versions)
                .into_iter()
                .rev()
                .map(|v| {
                    let pv = ProtocolVersion(v);
                    let (st, why) = ctx.rated_version(pv, Side::Client);
                    (pv.to_string(), st, why)
                })
                .collect();
            rated(client, CLIENT_VERSIONS_OFFERED, items, "offered")
        }
        CLIENT_VERSIONS_REQUIRED => {
            let offered = offered_codes(conns, |h| &h.versions);
            if offered.is_empty() {
                return finding(name, Status::NotTested, "no ClientHello was seen");
            }
            let missing: Vec<String> = ctx
                .profile
                .versions
                .client_required
                .iter()
                .filter(|v| !offered.contains(&v.0 .0))
                .map(|v| v.0.to_string())
                .collect();
            let list = offered
                .iter()
                .rev()
                .map(|v| ProtocolVersion(*v).to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let fd = if missing.is_empty() {
                finding(
                    name,
                    Status::Pass,
                    format!(
                        "offers every version {} requires of a client",
                        ctx.profile.id
                    ),
                )
            } else {
                finding(
                    name,
                    Status::Fail,
                    format!(
                        "does not offer {}, which {} requires of a client",
                        missing.join(", "),
                        ctx.profile.id
                    ),
                )
            };
            with(fd, format!("offered: {list}"), client)
        }
        CLIENT_CIPHER_SUITES => offered(
            ctx,
            client,
            conns,
            name,
            |h| &h.cipher_suites,
            |c| {
                // The signalling values are not suites (RFC 5746 SCSV, RFC 7507 fallback SCSV).
                (c != EMPTY_RENEGOTIATION_INFO_SCSV.0 && c != FALLBACK_SCSV.0).then(|| {
                    let cs = CipherSuite(c);
                    (cs.to_string(), Item::CipherSuite(cs))
                })
            },
        ),
        CLIENT_GROUPS => offered(
            ctx,
            client,
            conns,
            name,
            |h| &h.groups,
            |c| Some((NamedGroup(c).to_string(), Item::Group(NamedGroup(c)))),
        ),
        CLIENT_SIGNATURE_SCHEMES => offered(
            ctx,
            client,
            conns,
            name,
            |h| &h.signature_schemes,
            |c| {
                let ss = SignatureScheme(c);
                Some((ss.to_string(), Item::KexSignature(ss)))
            },
        ),
        CLIENT_NO_EARLY_DATA => {
            let n = hellos(conns).count();
            if n == 0 {
                return finding(name, Status::NotTested, "no ClientHello was seen");
            }
            let early: Vec<&ConnectionFacts> = conns
                .iter()
                .filter(|c| {
                    c.hello.as_ref().is_some_and(|h| h.early_data) || c.early_data_bytes > 0
                })
                .collect();
            let resumed = hellos(conns).filter(|h| h.psk).count();
            if early.is_empty() {
                with(
                    finding(name, Status::Pass, format!("no early data offered in {n} ClientHello(s); the probe issued a 0-RTT ticket on the good case")),
                    format!("{resumed} resumption attempt(s)"),
                    client,
                )
            } else {
                let mut fd = finding(
                    name,
                    Status::Fail,
                    format!("offered 0-RTT early data in {} connection(s)", early.len()),
                );
                for c in early {
                    fd = with(
                        fd,
                        format!("{}; {} early bytes accepted", seen(c), c.early_data_bytes),
                        client,
                    );
                }
                fd
            }
        }
        CLIENT_CERTIFICATE => {
            if ctx.role == Role::Frontchannel {
                return finding(
                    name,
                    Status::NotApplicable,
                    "frontchannel clients present no certificate",
                );
            }
            let with_cert: Vec<&ConnectionFacts> = conns
                .iter()
                .filter(|c| !c.client_chain.is_empty())
                .collect();
            let done = conns
                .iter()
                .filter(|c| c.outcome == Outcome::Completed)
                .count();
            let refused: Vec<&&ConnectionFacts> = with_cert
                .iter()
                .filter(|c| c.client_chain_verdict.as_ref().is_some_and(|v| !v.accepted))
                .collect();
            if let Some(c) = refused.first() {
                let mut fd = finding(
                    name,
                    Status::Fail,
                    format!(
                        "presented a certificate a MedMij server refuses: {}",
                        c.client_chain_verdict
                            .as_ref()
                            .map(|v| v.reasons.join("; "))
                            .unwrap_or_default()
                    ),
                );
                fd = with(fd, subject_of(&c.client_chain[0]), client);
                fd
            } else if let Some(c) = with_cert.first() {
                with(
                    finding(
                        name,
                        Status::Pass,
                        format!(
                            "presented a certificate chain of {} in {} connection(s)",
                            c.client_chain.len(),
                            with_cert.len()
                        ),
                    ),
                    subject_of(&c.client_chain[0]),
                    client,
                )
            } else if done == 0 {
                finding(
                    name,
                    Status::NotTested,
                    "no handshake completed, so no certificate could be presented",
                )
            } else {
                finding(name, Status::Fail, format!("presented no certificate in {done} completed handshake(s) although the probe requested one"))
            }
        }
        n => finding(n, Status::Error, "no judgment for this check"),
    }
}

/// Every code point any ClientHello offered in `field`, ascending.
fn offered_codes(
    conns: &[ConnectionFacts],
    field: impl Fn(&crate::hello::ClientHelloFacts) -> &Vec<u16>,
) -> BTreeSet<u16> {
    hellos(conns)
        .flat_map(|h| field(h).iter().copied())
        .collect()
}

/// Rates every code point any ClientHello offered in `field` (`item` names and types it, or
/// leaves it out), like the scanner rates what a server accepts.
fn offered(
    ctx: &Context<'_>,
    client: &str,
    conns: &[ConnectionFacts],
    check: &str,
    field: impl Fn(&crate::hello::ClientHelloFacts) -> &Vec<u16>,
    item: impl Fn(u16) -> Option<(String, Item)>,
) -> Finding {
    let items = offered_codes(conns, field)
        .into_iter()
        .filter_map(item)
        .map(|(label, it)| {
            let (st, why) = ctx.rated(it, ctx.profile.classify(it));
            (label, st, why)
        })
        .collect();
    rated(client, check, items, "offered")
}

fn subject_of(b64: &str) -> String {
    let der =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap_or_default();
    match x509_parser::parse_x509_certificate(&der) {
        Ok((_, c)) => format!("client certificate subject {}", c.subject()),
        Err(_) => "client certificate (does not parse)".into(),
    }
}

fn rated(client: &str, check: &str, items: Vec<(String, Status, String)>, verb: &str) -> Finding {
    if items.is_empty() {
        return finding(check, Status::NotTested, "no ClientHello was seen");
    }
    let worst = items.iter().map(|i| i.1).max().unwrap_or(Status::Pass);
    let bad: Vec<String> = items
        .iter()
        .filter(|i| i.1 != Status::Pass)
        .map(|i| format!("{} ({})", i.0, i.2))
        .collect();
    let msg = if bad.is_empty() {
        format!("{} {verb}, all rated good", items.len())
    } else {
        format!(
            "{} of {} {verb} not rated good: {}",
            bad.len(),
            items.len(),
            bad.join(", ")
        )
    };
    let mut fd = finding(check, worst, msg);
    for (label, _, why) in items {
        fd = with(fd, format!("{label}: {why}"), client);
    }
    fd
}

fn case_finding(
    ctx: &Context<'_>,
    client: &str,
    conns: &[ConnectionFacts],
    cases: &[Case],
    case: Case,
) -> Finding {
    let name = case.check();
    if !cases.contains(&case) {
        return finding(
            name,
            Status::NotTested,
            format!("case {} was not selected (--cases)", case.label()),
        );
    }
    let mine: Vec<&ConnectionFacts> = conns
        .iter()
        .filter(|c| c.case == Some(case) && c.hello.is_some())
        .collect();
    let good_accepted = conns
        .iter()
        .any(|c| c.case == Some(Case::Good) && c.outcome == Outcome::Completed);
    if case == Case::NotWhitelisted {
        return match mine.iter().find(|c| c.outcome == Outcome::Completed) {
            Some(c) => with(
                finding(
                    name,
                    Status::Fail,
                    format!(
                        "completed a handshake with {}, which is not on the whitelist",
                        c.hello.as_ref().and_then(|h| h.server_name.as_deref()).unwrap_or("the not-whitelisted name")
                    ),
                ),
                seen(c),
                client,
            ),
            None if !mine.is_empty() => {
                let mut fd = finding(name, Status::Pass, "connected to a host that is not on the whitelist but aborted the handshake");
                for c in &mine {
                    fd = with(fd, seen(c), client);
                }
                fd
            }
            None if conns.iter().any(|c| c.hello.is_some()) => finding(
                name,
                Status::Pass,
                "no connection for the not-whitelisted name while other cases were served: a client that checks the whitelist refuses before connecting (the probe cannot tell this from not trying)",
            ),
            None => finding(name, Status::NotTested, "no connection was seen"),
        };
    }
    if mine.is_empty() {
        return finding(
            name,
            Status::NotTested,
            format!("no connection was served case {}", case.label()),
        );
    }
    let completed: Vec<&&ConnectionFacts> = mine
        .iter()
        .filter(|c| c.outcome == Outcome::Completed)
        .collect();
    let mut fd = if case == Case::Tls12 {
        match mine.iter().find(|c| c.false_start) {
            Some(_) => finding(
                name,
                Status::Fail,
                "sent application data before the server's Finished (TLS False Start)",
            ),
            None if !completed.is_empty() => finding(
                name,
                Status::Pass,
                "waited for the server's Finished before sending application data (TLS 1.2)",
            ),
            None => {
                let required = ctx
                    .profile
                    .versions
                    .client_required
                    .iter()
                    .any(|v| v.0 == ProtocolVersion::TLS12);
                finding(
                    name,
                    Status::NotTested,
                    format!(
                        "no TLS 1.2 handshake completed, so False Start could not be observed{}",
                        if required {
                            format!(" (the profile requires TLS 1.2 of a client: see {CLIENT_VERSIONS_REQUIRED})")
                        } else {
                            String::new()
                        }
                    ),
                )
            }
        }
    } else if case.should_accept() {
        if !completed.is_empty() {
            finding(
                name,
                Status::Pass,
                format!(
                    "completed the handshake with the {} certificate",
                    case.label()
                ),
            )
        } else {
            finding(
                name,
                Status::Fail,
                format!(
                    "refused the {} certificate, which a MedMij client must accept",
                    case.label()
                ),
            )
        }
    } else if completed.iter().any(|c| c.request.is_some()) {
        finding(name, Status::Fail, format!("completed the handshake with the {} certificate and sent a request, instead of refusing it", case.label()))
    } else if !completed.is_empty() {
        // curl, for one, checks the hostname after the handshake and then closes: the session
        // started (the requirement asks for a refusal in the handshake), but nothing was sent.
        // The probe cannot tell that from an idle client, so it warns rather than fails.
        finding(
            name,
            Status::Warning,
            format!(
                "completed the handshake with the {} certificate, then closed without sending anything: refused after the handshake at best (MedMij clients refuse in the handshake)",
                case.label()
            ),
        )
    } else if !good_accepted && cases.contains(&Case::Good) {
        finding(
            name,
            Status::NotTested,
            format!("refused the {} certificate, but it refused the good one too, so the refusal shows nothing", case.label()),
        )
    } else if mine.iter().all(|c| c.outcome.refused()) {
        finding(
            name,
            Status::Pass,
            format!("refused the {} certificate in the handshake", case.label()),
        )
    } else {
        finding(
            name,
            Status::Pass,
            format!(
                "did not complete the handshake with the {} certificate",
                case.label()
            ),
        )
    };
    for c in mine {
        fd = with(fd, seen(c), client);
    }
    fd
}
