//! The CA organizations the linter knows (`data/ca-organizations.toml`): where each is
//! established and which CAA issuer domains it honours. Data, not code: the file says how it
//! is maintained.

use serde::Deserialize;
use std::sync::OnceLock;

/// The list as shipped.
const LIST: &str = include_str!("../data/ca-organizations.toml");

/// EU member states and the other EEA states (Iceland, Liechtenstein, Norway), ISO 3166-1
/// alpha-2 (Greece is `GR` there, `EL` in EU texts). The GDPR applies in all of them.
pub const EU_EEA: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// One CA organization.
#[derive(Clone, Debug, Deserialize)]
pub struct CaOrganization {
    /// Display name.
    pub name: String,
    /// organizationName values of its issuing CAs.
    pub organizations: Vec<String>,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: String,
    /// CAA issuer domain names it honours.
    pub caa: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    reviewed: String,
    ca: Vec<CaOrganization>,
}

fn file() -> &'static File {
    static F: OnceLock<File> = OnceLock::new();
    // The file is part of the binary and a unit test parses it, so this cannot fail at run time.
    F.get_or_init(|| {
        toml::from_str(LIST).unwrap_or(File {
            reviewed: String::new(),
            ca: vec![],
        })
    })
}

/// Every known CA organization.
pub fn all() -> &'static [CaOrganization] {
    &file().ca
}

/// When the list was last reviewed.
pub fn reviewed() -> &'static str {
    &file().reviewed
}

/// The CA organization whose name is one of `organizations` (case-insensitive).
pub fn find(organizations: &[String]) -> Option<&'static CaOrganization> {
    all().iter().find(|ca| {
        ca.organizations
            .iter()
            .any(|o| organizations.iter().any(|x| x.eq_ignore_ascii_case(o)))
    })
}

/// Whether a country code is in the EU/EEA.
pub fn in_eu_eea(country: &str) -> bool {
    EU_EEA
        .iter()
        .any(|c| c.eq_ignore_ascii_case(country.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_parses_and_is_well_formed() {
        let f: File = toml::from_str(LIST).unwrap();
        assert!(f.ca.len() >= 15 && !f.reviewed.is_empty());
        for ca in &f.ca {
            assert!(
                ca.country.len() == 2 && !ca.organizations.is_empty(),
                "{}",
                ca.name
            );
            for d in &ca.caa {
                assert!(
                    !d.contains(' ') && d.contains('.') && d == &d.to_ascii_lowercase(),
                    "{d}"
                );
            }
        }
        assert_eq!(find(&["globalsign NV-SA".into()]).unwrap().country, "BE");
        assert!(in_eu_eea("NL") && in_eu_eea("NO") && !in_eu_eea("US") && !in_eu_eea("GB"));
    }
}
