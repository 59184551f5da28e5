//! Validity windows of the test PKI, relative to the moment it is made (`pki init --at`, default
//! now), shaped like PKIoverheid's: long-lived roots, each CA below ending before its issuer,
//! and node certificates of at most 397 days.
//!
//! A test PKI made by a test is therefore always current for that test, and a PKI made for a
//! demo stays usable for about a year, as a real node certificate would.

use time::{Duration, OffsetDateTime};

/// Longest node-certificate lifetime: 397 days (CA/B Forum BR 6.3.2, which the PKIoverheid G4
/// CPS follows for TLS certificates).
pub const MAX_LEAF_DAYS: i64 = 397;

/// Longest publicly trusted TLS certificate lifetime from 2026-03-15: 200 days (CA/B Forum
/// ballot SC-081v3; 100 days from 2027-03-15). The test PKI's public OV/DV leaves follow it.
pub const MAX_PUBLIC_LEAF_DAYS: i64 = 200;

/// How long before the init time node certificates start: a month, so that a clock a little
/// behind (or a `verify --at` shortly before init) still sees them valid.
const LEAF_BACKDATE_DAYS: i64 = 30;

/// A validity window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// notBefore.
    pub not_before: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
}

/// The windows of one test PKI, from its init time.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    at: OffsetDateTime,
}

impl Validity {
    /// Windows relative to `at`.
    pub fn new(at: OffsetDateTime) -> Validity {
        Validity { at }
    }

    /// The init time.
    pub fn at(&self) -> OffsetDateTime {
        self.at
    }

    /// A CA `depth` levels below its root (0 = the root): the root from two years before init for
    /// fifteen years after; each level starts 30 days after and ends a year before its issuer
    /// (real PKIoverheid intermediates end before their root).
    pub fn ca(&self, depth: u8) -> Window {
        let d = i64::from(depth);
        Window {
            not_before: self.at - Duration::days(730) + Duration::days(30 * d),
            not_after: self.at + Duration::days(15 * 365) - Duration::days(365 * d),
        }
    }

    /// A valid node certificate: [`MAX_LEAF_DAYS`] in all, from a month before init.
    pub fn leaf(&self) -> Window {
        let nb = self.at - Duration::days(LEAF_BACKDATE_DAYS);
        Window {
            not_before: nb,
            not_after: nb + Duration::days(MAX_LEAF_DAYS),
        }
    }

    /// A valid node certificate of a public (frontchannel) hierarchy: [`MAX_PUBLIC_LEAF_DAYS`].
    pub fn public_leaf(&self) -> Window {
        let nb = self.at - Duration::days(LEAF_BACKDATE_DAYS);
        Window {
            not_before: nb,
            // The validity period counts both ends (RFC 5280 §4.1.2.5; BR §6.3.2), so a
            // 200-day certificate ends one second before notBefore + 200 days.
            not_after: nb + Duration::days(MAX_PUBLIC_LEAF_DAYS) - Duration::seconds(1),
        }
    }

    /// A delegated OCSP responder certificate: with id-pkix-ocsp-nocheck nobody checks its
    /// revocation, so it lives no longer than a node certificate (RFC 6960 §4.2.2.2.1 advises a
    /// short lifetime).
    pub fn responder(&self) -> Window {
        self.leaf()
    }

    /// A node certificate that expired a month before init.
    pub fn expired(&self) -> Window {
        let na = self.at - Duration::days(30);
        Window {
            not_before: na - Duration::days(MAX_LEAF_DAYS),
            not_after: na,
        }
    }

    /// A node certificate valid only from a month after init.
    pub fn not_yet_valid(&self) -> Window {
        let nb = self.at + Duration::days(30);
        Window {
            not_before: nb,
            not_after: nb + Duration::days(MAX_LEAF_DAYS),
        }
    }

    /// When the catalogue's revoked certificates were revoked: a week before init.
    pub fn revoked_at(&self) -> OffsetDateTime {
        self.at - Duration::days(7)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_window_nests_inside_its_issuer_and_leaves_stay_within_397_days() {
        let v = Validity::new(time::macros::datetime!(2026-12-01 00:00 UTC));
        for d in 0..3 {
            let (outer, inner) = (v.ca(d), v.ca(d + 1));
            assert!(inner.not_before > outer.not_before && inner.not_after < outer.not_after);
        }
        let leaf = v.leaf();
        assert!(leaf.not_before < v.at() && v.at() < leaf.not_after);
        assert_eq!(
            (leaf.not_after - leaf.not_before).whole_days(),
            MAX_LEAF_DAYS
        );
        assert!(leaf.not_after < v.ca(3).not_after);
        assert!(v.expired().not_after < v.at() && v.not_yet_valid().not_before > v.at());
    }
}
