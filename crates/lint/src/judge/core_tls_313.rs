//! core.tls.313 on the chain file itself: leaf first, each certificate followed by its issuer,
//! no self-signed root (the sender's fault, even though a receiver only warns and drops it).
//! Completeness (chain.complete) is the verifier's (see `handshake`).

use super::Findings;
use crate::facts::CertFacts;
use medmij_core::checks::names::*;
use medmij_core::outcome::Status;

pub(super) fn chain(certs: &[CertFacts], f: &mut Findings) {
    let roots: Vec<String> = certs
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, c)| c.self_issued && c.is_ca)
        .map(|(i, c)| format!("`{}` (position {})", c.name(), i + 1))
        .collect();
    if roots.is_empty() {
        f.put(
            CHAIN_NO_ROOT,
            Status::Pass,
            "no self-signed root in the chain file",
        );
    } else {
        f.put(CHAIN_NO_ROOT, Status::Fail, format!("the chain file includes the root {}; send intermediates only (peers have the root)", super::listed(&roots)));
    }
    let order = path_order(certs);
    let ordered: Vec<&CertFacts> = order.iter().map(|&i| &certs[i]).collect();
    let path_len = linked_len(&ordered);
    if order
        .iter()
        .take(path_len)
        .enumerate()
        .all(|(i, &j)| i == j)
    {
        f.put(
            CHAIN_ORDER,
            Status::Pass,
            "leaf first, each certificate followed by its issuer",
        );
    } else {
        let o: Vec<String> = order
            .iter()
            .take(path_len)
            .map(|j| (j + 1).to_string())
            .collect();
        f.put(CHAIN_ORDER, Status::Warning, format!("the certificates are out of order: leaf and issuers are at positions {} of the file", o.join(", ")));
    }
}

/// The file's certificates in path order: the leaf (the first certificate that is not a CA,
/// else the first), its issuer among the file's certificates, and so on; then the rest in file
/// order. The verifier and the judgment see the chain in this order.
pub fn path_order(certs: &[CertFacts]) -> Vec<usize> {
    if certs.is_empty() {
        return vec![];
    }
    let leaf = certs.iter().position(|c| !c.is_ca).unwrap_or(0);
    let mut path = vec![leaf];
    while let Some(&last) = path.last() {
        if certs[last].self_issued {
            break;
        }
        match (0..certs.len()).find(|&j| !path.contains(&j) && certs[j].issued(&certs[last])) {
            Some(j) => path.push(j),
            None => break,
        }
    }
    for j in 0..certs.len() {
        if !path.contains(&j) {
            path.push(j);
        }
    }
    path
}

/// How many of `certs`' first entries are linked by issuer names (each issued the one before
/// it, stopping after a self-issued one): the path as far as the file carries it.
pub(crate) fn linked_len(certs: &[&CertFacts]) -> usize {
    let mut n = certs.len().min(1);
    while n < certs.len() && !certs[n - 1].self_issued && certs[n].issued(certs[n - 1]) {
        n += 1;
    }
    n
}
