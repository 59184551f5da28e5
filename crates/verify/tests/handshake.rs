//! Real TLS handshakes (rustls client and server, in memory) using the MedMij verifiers on both
//! sides: mTLS succeeds for valid nodes, and each refusal arrives at the peer as its alert.
// Tests and benchmarks unwrap: a failure is the test failing, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use medmij_verify::revocation::Policy;
use medmij_verify::tls::{MedmijClientVerifier, MedmijServerVerifier};
use medmij_verify::whitelist::Whitelist;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    AlertDescription, ClientConfig, ClientConnection, Error, ServerConfig, ServerConnection,
};
use std::sync::Arc;
use support::*;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn creds(pki: &LivePki, id: &str) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let e = pki.cat.entry(id).unwrap();
    let certs = CertificateDer::pem_file_iter(pki.dir.join(&e.chain))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.dir.join(&e.key)).unwrap();
    (certs, key)
}

/// Runs the handshake; returns (client error, server error). Keeps moving bytes until
/// neither side has anything to send, so an alert from the failing side reaches the other.
fn handshake(
    client: &mut ClientConnection,
    server: &mut ServerConnection,
) -> (Option<Error>, Option<Error>) {
    let (mut ce, mut se) = (None, None);
    for _ in 0..50 {
        let mut moved = false;
        let mut buf = Vec::new();
        while client.wants_write() {
            if client.write_tls(&mut buf).is_err() {
                break;
            }
        }
        if !buf.is_empty() && se.is_none() {
            moved = true;
            let mut rd = buf.as_slice();
            while !rd.is_empty() && se.is_none() {
                if server.read_tls(&mut rd).is_err() {
                    break;
                }
                if let Err(e) = server.process_new_packets() {
                    se.get_or_insert(e);
                }
            }
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            if server.write_tls(&mut buf).is_err() {
                break;
            }
        }
        if !buf.is_empty() && ce.is_none() {
            moved = true;
            let mut rd = buf.as_slice();
            while !rd.is_empty() && ce.is_none() {
                if client.read_tls(&mut rd).is_err() {
                    break;
                }
                if let Err(e) = client.process_new_packets() {
                    ce.get_or_insert(e);
                }
            }
        }
        if !moved {
            break;
        }
    }
    (ce, se)
}

struct Nodes {
    pki: LivePki,
    verifier: Arc<medmij_verify::verifier::Verifier>,
}

fn nodes() -> Nodes {
    let pki = live_pki(false);
    let wl = Whitelist::parse(
        &std::fs::read(pki.dir.join("whitelist.xml")).unwrap(),
        "whitelist.xml",
    )
    .unwrap();
    let verifier = Arc::new(verifier(&pki, Policy::default()).with_whitelist(Arc::new(wl)));
    Nodes { pki, verifier }
}

fn connect(
    n: &Nodes,
    server_id: &str,
    client_id: Option<&str>,
    sni: &str,
) -> (
    Option<Error>,
    Option<Error>,
    Option<rustls::ProtocolVersion>,
) {
    let (scerts, skey) = creds(&n.pki, server_id);
    let server_cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(Arc::new(MedmijClientVerifier::new(
            n.verifier.clone(),
            provider(),
        )))
        .with_single_cert(scerts, skey)
        .unwrap();
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(MedmijServerVerifier::new(
            n.verifier.clone(),
            provider(),
        )));
    let client_cfg = match client_id {
        Some(id) => {
            let (c, k) = creds(&n.pki, id);
            builder.with_client_auth_cert(c, k).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let mut server = ServerConnection::new(Arc::new(server_cfg)).unwrap();
    let mut client = ClientConnection::new(
        Arc::new(client_cfg),
        ServerName::try_from(sni.to_string()).unwrap(),
    )
    .unwrap();
    let (ce, se) = handshake(&mut client, &mut server);
    if ce.is_none() && se.is_none() {
        assert!(
            !client.is_handshaking() && !server.is_handshaking(),
            "handshake stalled"
        );
    }
    (ce, se, client.protocol_version())
}

#[test]
fn valid_nodes_complete_mutual_tls_13() {
    let n = nodes();
    let (ce, se, v) = connect(&n, "g1-za", Some("g1-pgo"), "za.zorgaanbieder.example");
    assert!(ce.is_none() && se.is_none(), "{ce:?} {se:?}");
    assert_eq!(v, Some(rustls::ProtocolVersion::TLSv1_3));
    // Not just a ServerHello: both sides finished.
    let (ce, se, _) = connect(&n, "g1-za", Some("g1-pgo"), "za.zorgaanbieder.example");
    assert!(ce.is_none() && se.is_none());
}

#[test]
fn client_refusals_reach_the_client_as_the_right_alert() {
    let n = nodes();
    for (client, alert) in [
        (
            "g1-client-auth-only",
            AlertDescription::UnsupportedCertificate,
        ),
        ("g1-revoked", AlertDescription::CertificateRevoked),
        ("g1-expired", AlertDescription::CertificateExpired),
        ("g1-unknown-root", AlertDescription::UnknownCA),
        ("g1-not-whitelisted", AlertDescription::AccessDenied),
    ] {
        let (ce, se, _) = connect(&n, "g1-za", Some(client), "za.zorgaanbieder.example");
        assert!(se.is_some(), "{client}: server accepted");
        assert_eq!(
            ce,
            Some(Error::AlertReceived(alert)),
            "{client}: server error {se:?}"
        );
    }
}

#[test]
fn backchannel_server_aborts_without_a_client_certificate() {
    let n = nodes();
    let (ce, se, _) = connect(&n, "g1-za", None, "za.zorgaanbieder.example");
    assert!(matches!(se, Some(Error::NoCertificatesPresented)), "{se:?}");
    assert_eq!(
        ce,
        Some(Error::AlertReceived(AlertDescription::CertificateRequired))
    );
}

#[test]
fn client_refuses_a_server_off_the_whitelist_or_with_the_wrong_name() {
    let n = nodes();
    let (ce, _, _) = connect(
        &n,
        "g1-not-whitelisted",
        Some("g1-pgo"),
        "rogue.onbekend.example",
    );
    assert!(
        matches!(
            ce,
            Some(Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure
            ))
        ),
        "{ce:?}"
    );
    let (ce, _, _) = connect(&n, "g1-za", Some("g1-pgo"), "pgo.pgo-leverancier.example");
    assert!(
        matches!(
            ce,
            Some(Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
            ))
        ),
        "{ce:?}"
    );
}

fn whitelist_xml(volgnummer: u64, hosts: &[&str]) -> String {
    let nodes: String = hosts
        .iter()
        .map(|h| format!("<MedMijNode><Hostname>{h}</Hostname></MedMijNode>"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Whitelist xmlns=\"{}\"><Tijdstempel>2026-01-01T00:00:00+01:00</Tijdstempel><Volgnummer>{volgnummer}</Volgnummer><MedMijNodes>{nodes}</MedMijNodes></Whitelist>\n",
        medmij_verify::whitelist::NAMESPACE
    )
}

/// One handshake over fresh connections from the given configs (which keep their session
/// caches): the errors and how the handshake went.
fn handshake_with(
    server_cfg: &Arc<ServerConfig>,
    client_cfg: &Arc<ClientConfig>,
    sni: &str,
) -> (Option<Error>, Option<Error>, Option<rustls::HandshakeKind>) {
    let mut server = ServerConnection::new(server_cfg.clone()).unwrap();
    let mut client = ClientConnection::new(
        client_cfg.clone(),
        ServerName::try_from(sni.to_string()).unwrap(),
    )
    .unwrap();
    let (ce, se) = handshake(&mut client, &mut server);
    (ce, se, client.handshake_kind())
}

/// Issue: a resumed handshake skips the verifier, and each resumption issues new tickets. The
/// policy's backchannel configs resume nothing, so a whitelist update that removes both nodes
/// refuses the very next connection. The same scenario with rustls' default session settings
/// shows what the test would catch: the connections resume and succeed.
#[test]
fn backchannel_configs_never_resume_so_every_session_is_checked_again() {
    use medmij_verify::tls_policy::{Strictness, TlsPolicy};
    use medmij_verify::whitelist::{Source, Store};
    let pki = live_pki(false);
    let t = tempfile::tempdir().unwrap();
    let wl = t.path().join("whitelist.xml");
    let (server_host, client_host) = ("za.zorgaanbieder.example", "pgo.pgo-leverancier.example");
    std::fs::write(&wl, whitelist_xml(10, &[server_host, client_host])).unwrap();
    let store = Arc::new(Store::new(
        Source::File(wl.clone()),
        medmij_verify::http::HttpClient::default(),
        None,
        false,
    ));
    assert!(store.load().1.is_none());
    let verifier = Arc::new(verifier(&pki, Policy::default()).with_whitelist_store(store.clone()));
    let policy = TlsPolicy::new(
        &medmij_core::Profile::default_profile(),
        Strictness::Standard,
    )
    .unwrap();
    let (sc, sk) = creds(&pki, "g1-za");
    let (cc, ck) = creds(&pki, "g1-pgo");

    // Control: rustls' defaults (session cache, tickets, client resumption) resume.
    let mut default_server = policy
        .backchannel_server(verifier.clone(), sc.clone(), sk.clone_key())
        .unwrap();
    default_server.session_storage = rustls::server::ServerSessionMemoryCache::new(256);
    default_server.send_tls13_tickets = 2;
    let mut default_client = policy
        .backchannel_client(verifier.clone(), cc.clone(), ck.clone_key())
        .unwrap();
    default_client.resumption = rustls::client::Resumption::default();
    let (ds, dc) = (Arc::new(default_server), Arc::new(default_client));
    let first = handshake_with(&ds, &dc, server_host);
    assert!(first.0.is_none() && first.1.is_none(), "{first:?}");

    // The policy's configs.
    let server = Arc::new(policy.backchannel_server(verifier.clone(), sc, sk).unwrap());
    let client = Arc::new(policy.backchannel_client(verifier.clone(), cc, ck).unwrap());
    for _ in 0..2 {
        let (ce, se, kind) = handshake_with(&server, &client, server_host);
        assert!(ce.is_none() && se.is_none(), "{ce:?} {se:?}");
        assert_eq!(kind, Some(rustls::HandshakeKind::Full));
    }

    // Both nodes leave the whitelist.
    std::fs::write(&wl, whitelist_xml(11, &["someone-else.example"])).unwrap();
    assert_eq!(store.refresh().unwrap().volgnummer, 11);

    for i in 0..3 {
        let (ce, se, kind) = handshake_with(&ds, &dc, server_host);
        assert!(
            ce.is_none() && se.is_none() && kind == Some(rustls::HandshakeKind::Resumed),
            "control {i}: default session settings should resume past the whitelist: {ce:?} {se:?} {kind:?}"
        );
    }
    // Each side alone closes the hole: a policy server never resumes a default client (it
    // issued no ticket it could accept), a policy client never offers a default server a session.
    for (name, sc, cc) in [
        ("policy server", &server, &dc),
        ("policy client", &ds, &client),
    ] {
        let (ce, se, kind) = handshake_with(sc, cc, server_host);
        assert!(
            (ce.is_some() || se.is_some()) && kind != Some(rustls::HandshakeKind::Resumed),
            "{name}: {ce:?} {se:?} {kind:?}"
        );
    }
    for i in 0..3 {
        let (ce, se, _) = handshake_with(&server, &client, server_host);
        assert!(
            matches!(
                ce,
                Some(Error::InvalidCertificate(
                    rustls::CertificateError::ApplicationVerificationFailure
                ))
            ),
            "connection {i} after the update: client error {ce:?}, server error {se:?}"
        );
    }
}
