//! Real TLS handshakes (rustls client and server, in memory) using the MedMij verifiers on both
//! sides: mTLS succeeds for valid nodes, and each refusal arrives at the peer as its alert.

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
                rustls::CertificateError::BadEncoding
            ))
        ),
        "{ce:?}"
    );
}
