//! Parameters and options the NCSC rates (core.tls.301, deviations 302), OCSP stapling (310)
//! and 0-RTT (303).

use super::{finding, with, Context};
use crate::facts::EndpointFacts;
use medmij_core::checks::names::*;
use medmij_core::ncsc::{CipherOrder, Item, Level, TlsOption};
use medmij_core::outcome::{Finding, Status};
use medmij_core::wire::{NamedGroup, ProtocolVersion};

/// Rates every item; the worst status wins; non-passing items are named in the message.
fn rate_all(
    ctx: &Context<'_>,
    t: &str,
    check: &str,
    items: Vec<(String, Item)>,
    none: &str,
) -> Finding {
    if items.is_empty() {
        return finding(check, Status::NotTested, none);
    }
    let mut worst = Status::Pass;
    let mut bad = Vec::new();
    let mut ev = Vec::new();
    for (label, item) in &items {
        let (st, why) = ctx.rated(*item, ctx.profile.classify(*item));
        worst = worst.max(st);
        if st != Status::Pass {
            bad.push(format!("{label} ({why})"));
        }
        ev.push(format!("{label}: {why}"));
    }
    let msg = if bad.is_empty() {
        format!("{} accepted, all rated good", items.len())
    } else {
        format!(
            "{} of {} not rated good: {}",
            bad.len(),
            items.len(),
            bad.join(", ")
        )
    };
    let mut fd = finding(check, worst, msg);
    for e in ev {
        fd = with(fd, e, t);
    }
    fd
}

pub(super) fn suites(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let items = f
        .cipher_suites
        .iter()
        .map(|s| {
            (
                format!("{} {}", s.version, s.suite()),
                Item::CipherSuite(s.suite()),
            )
        })
        .collect();
    rate_all(ctx, t, TLS_CIPHER_SUITES, items, "no suite accepted")
}

pub(super) fn groups(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let items = f
        .groups
        .iter()
        .map(|g| {
            (
                format!("{} {}", g.version, g.group()),
                Item::Group(g.group()),
            )
        })
        .collect();
    rate_all(ctx, t, TLS_GROUPS, items, "no key-exchange group seen")
}

pub(super) fn order(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let v12: Vec<_> = f.suites_of(ProtocolVersion::TLS12).collect();
    if v12.len() < 2 {
        return finding(
            TLS_CIPHER_ORDER,
            Status::NotApplicable,
            "fewer than two TLS 1.2 suites: no order to choose",
        );
    }
    let all_good = v12
        .iter()
        .all(|s| ctx.profile.level(Item::CipherSuite(s.suite())) == Level::Good);
    let order = match f.server_order {
        _ if all_good => CipherOrder::NotApplicable,
        Some(true) => CipherOrder::Enforced,
        Some(false) => CipherOrder::Violated,
        None => {
            return finding(
                TLS_CIPHER_ORDER,
                Status::Error,
                "the server-order probe got no answer",
            )
        }
    };
    // The server's first pick must be among the best it offers.
    let best = v12
        .iter()
        .map(|s| ctx.profile.level(Item::CipherSuite(s.suite())))
        .min()
        .unwrap_or(Level::Good);
    let first = ctx.profile.level(Item::CipherSuite(v12[0].suite()));
    let item = Item::Option(TlsOption::CipherOrder(order));
    let (mut st, why) = ctx.rated(item, ctx.profile.classify(item));
    let mut msg = match order {
        CipherOrder::Enforced => "the server enforces its own TLS 1.2 order".to_owned(),
        CipherOrder::NotApplicable => {
            "every TLS 1.2 suite is rated good: order does not matter".to_owned()
        }
        CipherOrder::Violated => "the server follows the client's TLS 1.2 order".to_owned(),
    };
    if order == CipherOrder::Enforced && first > best {
        st = st.max(Status::Fail);
        msg = format!("the server's first TLS 1.2 choice {} ({first}) is worse than a suite it also offers ({best})", v12[0].suite());
    }
    with(
        finding(TLS_CIPHER_ORDER, st, msg),
        format!("first choice {}: {why}", v12[0].suite()),
        t,
    )
}

pub(super) fn dh(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    if f.dh.is_empty() {
        return finding(
            TLS_DH_PARAMETERS,
            Status::NotApplicable,
            "no finite-field DHE accepted",
        );
    }
    let mut worst = Status::Pass;
    let mut fd_ev = Vec::new();
    let mut bad = Vec::new();
    for d in &f.dh {
        let (st, why) = match &d.rfc7919 {
            Some(name) => match NamedGroup::KNOWN.iter().find(|g| g.name() == Some(name.as_str())) {
                Some(g) => {
                    let item = Item::Group(*g);
                    ctx.rated(item, ctx.profile.classify(item))
                }
                None => (Status::Error, format!("unknown group {name}")),
            },
            None => (
                Status::Fail,
                format!("a custom {}-bit prime, not an RFC 7919 group (the NCSC tables rate only those)", d.prime_bits),
            ),
        };
        worst = worst.max(st);
        let label = format!(
            "{} ({}, {} bits, asked {})",
            d.rfc7919.as_deref().unwrap_or("custom prime"),
            medmij_core::wire::CipherSuite(d.suite),
            d.prime_bits,
            d.asked
        );
        if st != Status::Pass {
            bad.push(format!("{label}: {why}"));
        }
        fd_ev.push(format!("{label}: {why}"));
    }
    let msg = if bad.is_empty() {
        "RFC 7919 groups rated good".to_owned()
    } else {
        bad.join("; ")
    };
    let mut fd = finding(TLS_DH_PARAMETERS, worst, msg);
    for e in fd_ev {
        fd = with(fd, e, t);
    }
    fd
}

pub(super) fn kex_signature(t: &str, f: &EndpointFacts) -> Finding {
    let k = &f.kex_signatures;
    let seen = k
        .seen
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let fd = match (k.sha1_accepted, k.sha224_accepted) {
        (None, None) => {
            return finding(
                TLS_KEX_SIGNATURE_HASH,
                Status::NotApplicable,
                "no signed TLS 1.2 key exchange (no ECDHE/DHE in TLS 1.2)",
            )
        }
        (Some(true), _) | (_, Some(true)) => {
            let which: Vec<&str> = [(k.sha1_accepted, "SHA-1"), (k.sha224_accepted, "SHA-224")]
                .iter()
                .filter(|(a, _)| *a == Some(true))
                .map(|(_, n)| *n)
                .collect();
            finding(
                TLS_KEX_SIGNATURE_HASH,
                Status::Fail,
                format!("offered only {} signature schemes, the server signed its key exchange with them", which.join(" / ")),
            )
        }
        _ => finding(
            TLS_KEX_SIGNATURE_HASH,
            Status::Pass,
            "offered only SHA-1 or SHA-224 schemes, the server refused",
        ),
    };
    with(
        fd,
        format!(
            "schemes seen signing: {}",
            if seen.is_empty() { "none".into() } else { seen }
        ),
        t,
    )
}

/// What to say about an on/off option: when on, when off, when it does not apply.
struct Says<'s> {
    yes: &'s str,
    no: &'s str,
    na: &'s str,
}

fn option(
    ctx: &Context<'_>,
    t: &str,
    check: &str,
    fact: Option<bool>,
    opt: fn(bool) -> TlsOption,
    says: Says<'_>,
) -> Finding {
    let Says { yes, no, na } = says;
    let Some(v) = fact else {
        return finding(check, Status::NotApplicable, na);
    };
    let item = Item::Option(opt(v));
    let (st, why) = ctx.rated(item, ctx.profile.classify(item));
    with(finding(check, st, if v { yes } else { no }), why, t)
}

pub(super) fn compression(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    option(
        ctx,
        t,
        TLS_COMPRESSION,
        f.compression,
        TlsOption::Compression,
        Says {
            yes: "the server accepted DEFLATE compression",
            no: "compression refused",
            na: "no TLS ≤ 1.2: TLS 1.3 has no compression",
        },
    )
}

pub(super) fn renegotiation(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    option(
        ctx,
        t,
        TLS_SECURE_RENEGOTIATION,
        f.secure_renegotiation,
        TlsOption::SecureRenegotiation,
        Says {
            yes: "renegotiation_info answered (RFC 5746)",
            no: "no renegotiation_info in the ServerHello: insecure renegotiation possible",
            na: "no TLS ≤ 1.2: TLS 1.3 has no renegotiation",
        },
    )
}

pub(super) fn ems(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    option(
        ctx,
        t,
        TLS_EXTENDED_MASTER_SECRET,
        f.extended_master_secret,
        TlsOption::ExtendedMasterSecret,
        Says {
            yes: "extended_master_secret answered (RFC 7627)",
            no: "no extended_master_secret in the TLS 1.2 ServerHello",
            na: "no TLS 1.2: TLS 1.3 has its own key schedule",
        },
    )
}

pub(super) fn stapling(ctx: &Context<'_>, t: &str, f: &EndpointFacts) -> Finding {
    let Some(leaf) = f.chain.first() else {
        return finding(TLS_OCSP_STAPLING, Status::NotTested, "no certificate seen");
    };
    if !leaf.ocsp_responder {
        return finding(
            TLS_OCSP_STAPLING,
            Status::NotApplicable,
            "the certificate names no OCSP responder: nothing to staple",
        );
    }
    let stapled = f.handshake.ocsp_stapled || f.ocsp_stapled_tls12 == Some(true);
    option(
        ctx,
        t,
        TLS_OCSP_STAPLING,
        Some(stapled),
        TlsOption::OcspStapling,
        Says {
            yes: "a stapled OCSP response came with the certificate",
            no: "the certificate names an OCSP responder but the server staples nothing",
            na: "",
        },
    )
}

pub(super) fn zero_rtt(t: &str, f: &EndpointFacts) -> Finding {
    let Some(z) = &f.zero_rtt else {
        return finding(
            TLS_ZERO_RTT,
            Status::NotTested,
            "no TLS 1.3 handshake completed to get a ticket",
        );
    };
    let fd = match (z.ticket, z.early_data_offered, z.accepted) {
        (_, _, Some(true)) => finding(
            TLS_ZERO_RTT,
            Status::Fail,
            "the server accepted 0-RTT early data on a resumed session",
        ),
        (_, true, _) => finding(
            TLS_ZERO_RTT,
            Status::Pass,
            "the ticket allowed early data, but the server rejected it",
        ),
        (true, false, _) => finding(
            TLS_ZERO_RTT,
            Status::Pass,
            "the session resumed; its ticket allows no early data",
        ),
        (false, _, _) => finding(
            TLS_ZERO_RTT,
            Status::Pass,
            "no resumption ticket, so no 0-RTT",
        ),
    };
    with(
        fd,
        format!(
            "ticket {}, early data offered {}, accepted {:?}",
            z.ticket, z.early_data_offered, z.accepted
        ),
        t,
    )
}
