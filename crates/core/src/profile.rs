//! Profiles: one version of the MedMij rules as data (spec §2).
//!
//! Two profiles ship inside the binary (`medmij-2025`, the default, and `medmij-2022`); users can
//! load their own TOML or JSON file with the same schema (`docs/profile-schema.md`). Parsing turns
//! the file into types that cannot hold an invalid value (versions, OIDs, fingerprints, deviation
//! items are checked while reading), and every error names the file, line, column and key.

use crate::ncsc::{self, CertKey, Classification, Item, NcscVersion};
use crate::requirement::{requirement_by_str, RequirementId};
use crate::wire::{CipherSuite, NamedGroup, ProtocolVersion};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// The name of the default profile.
pub const DEFAULT_PROFILE: &str = "medmij-2025";

/// The profiles compiled into the binary: (name, TOML text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("medmij-2022", include_str!("../profiles/medmij-2022.toml")),
    ("medmij-2025", include_str!("../profiles/medmij-2025.toml")),
];

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No built-in profile has this name.
    #[error("unknown profile `{name}`: built-in profiles are {}", BUILTIN.iter().map(|b| b.0).collect::<Vec<_>>().join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// The file could not be read.
    #[error("{}: cannot read profile: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not follow the schema.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file (or `builtin:NAME`).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong, with the key where the parser knows it.
        message: String,
    },
    /// The file parses but breaks a rule the schema cannot express.
    #[error("{file}: {key}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// The offending key.
        key: String,
        /// Why.
        reason: String,
    },
}

/// An environment (spec §2): changes which certificates are acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Production: the real rules.
    Production,
    /// Acceptance: the real rules.
    Acceptance,
    /// Test: DV frontchannel certificates and a configured test PKI also accepted.
    Test,
}

impl Environment {
    /// Parses `production`, `acceptance` or `test`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "production" => Some(Self::Production),
            "acceptance" => Some(Self::Acceptance),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    /// The label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Acceptance => "acceptance",
            Self::Test => "test",
        }
    }
}

/// What an environment allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPolicy {
    /// DV frontchannel certificates accepted (AF-1273 §6.4: non-production only).
    pub frontchannel_dv_allowed: bool,
    /// A configured test PKI may extend the trust anchors.
    pub test_pki_allowed: bool,
}

/// A TLS version as written in a profile (`"1.2"`, `"1.3"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub ProtocolVersion);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ProtocolVersion::parse(&s).map(Version).ok_or_else(|| {
            de::Error::invalid_value(
                de::Unexpected::Str(&s),
                &"a TLS version such as \"1.2\" or \"1.3\"",
            )
        })
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(
            self.0
                .name()
                .unwrap_or("unknown")
                .trim_start_matches("TLSv"),
        )
    }
}

/// The version table of core.tls.305 for this profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Versions {
    /// Versions every server must support.
    pub server_required: Vec<Version>,
    /// Versions a server may offer.
    pub server_allowed: Vec<Version>,
    /// Versions every client must support.
    pub client_required: Vec<Version>,
    /// Versions a client may offer.
    pub client_allowed: Vec<Version>,
    /// Versions required "where reasonably possible": missing = warning, not failure.
    #[serde(default)]
    pub recommended: Vec<Version>,
}

/// An item a deviation covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviationItem {
    /// A protocol version.
    Version(ProtocolVersion),
    /// A cipher suite.
    Suite(CipherSuite),
    /// A key exchange group.
    Group(NamedGroup),
    /// RSA certificate keys of at least this many bits.
    RsaCertKeyAtLeast(u32),
}

impl DeviationItem {
    fn parse(s: &str) -> Result<Self, String> {
        let (kind, value) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not `kind:value`"))?;
        match kind {
            "version" => ProtocolVersion::parse(value)
                .map(Self::Version)
                .ok_or_else(|| format!("unknown TLS version `{value}`")),
            "suite" => parse_u16(value)
                .map(CipherSuite)
                .or_else(|| CipherSuite::from_name(value))
                .map(Self::Suite)
                .ok_or_else(|| format!("unknown cipher suite `{value}`")),
            "group" => parse_u16(value)
                .map(NamedGroup)
                .or_else(|| {
                    NamedGroup::KNOWN
                        .iter()
                        .copied()
                        .find(|g| g.name().is_some_and(|n| n.eq_ignore_ascii_case(value)))
                })
                .map(Self::Group)
                .ok_or_else(|| format!("unknown group `{value}`")),
            "cert-key" => value
                .strip_prefix("rsa>=")
                .and_then(|b| b.parse().ok())
                .map(Self::RsaCertKeyAtLeast)
                .ok_or_else(|| format!("`{value}`: only `rsa>=BITS` is supported")),
            _ => Err(format!(
                "unknown item kind `{kind}`: expected version, suite, group or cert-key"
            )),
        }
    }

    /// Whether this deviation item covers a classified item.
    pub fn covers(&self, item: &Item) -> bool {
        match (self, item) {
            (Self::Version(a), Item::Version(b)) => a == b,
            (Self::Suite(a), Item::CipherSuite(b)) => a == b,
            (Self::Group(a), Item::Group(b)) => a == b,
            (Self::RsaCertKeyAtLeast(min), Item::CertKey(CertKey::Rsa { bits })) => bits >= min,
            _ => false,
        }
    }
}

fn parse_u16(s: &str) -> Option<u16> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u16::from_str_radix(h, 16).ok()
}

impl<'de> Deserialize<'de> for DeviationItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DeviationItem::parse(&s).map_err(de::Error::custom)
    }
}

impl fmt::Display for DeviationItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version(v) => write!(f, "version:{v}"),
            Self::Suite(s) => write!(f, "suite:{s}"),
            Self::Group(g) => write!(f, "group:{g}"),
            Self::RsaCertKeyAtLeast(b) => write!(f, "cert-key:rsa>={b}"),
        }
    }
}

impl Serialize for DeviationItem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A requirement ID as written in a profile; must exist in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KnownRequirement(pub RequirementId);

impl<'de> Deserialize<'de> for KnownRequirement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        requirement_by_str(&s)
            .map(|r| KnownRequirement(r.id))
            .ok_or_else(|| {
                de::Error::invalid_value(
                    de::Unexpected::Str(&s),
                    &"a requirement ID from the registry, e.g. \"core.tls.305\"",
                )
            })
    }
}

/// An explicit deviation from core.tls.301 (core.tls.302).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The requirement that makes the deviation.
    pub requirement: KnownRequirement,
    /// What it covers.
    pub items: Vec<DeviationItem>,
    /// Why, citing the text.
    pub reason: String,
}

/// A SHA-256 fingerprint (64 hex digits, stored lowercase).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Fingerprint(pub [u8; 32]);

impl Sha256Fingerprint {
    /// Parses 64 hex digits, optionally separated by colons.
    pub fn parse(s: &str) -> Option<Self> {
        let hex: String = s.chars().filter(|c| *c != ':').collect();
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }

    /// Lowercase hex without separators.
    pub fn hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for Sha256Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sha256Fingerprint::parse(&s).ok_or_else(|| {
            de::Error::invalid_value(
                de::Unexpected::Str(&s),
                &"64 hex digits (SHA-256 of the certificate's DER)",
            )
        })
    }
}

impl Serialize for Sha256Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

/// A dotted object identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Oid(pub String);

impl<'de> Deserialize<'de> for Oid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = s.split('.').count() >= 2
            && s.split('.')
                .all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Oid(s))
        } else {
            Err(de::Error::invalid_value(
                de::Unexpected::Str(&s),
                &"a dotted OID such as \"2.23.140.1.2.2\"",
            ))
        }
    }
}

/// A trust anchor the profile names (the certificate file comes from the operator).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorSpec {
    /// Human name (the subject CN).
    pub name: String,
    /// Subject DN, for messages and for matching files.
    pub subject: String,
    /// SHA-256 of the DER certificate: the pin.
    pub sha256: Sha256Fingerprint,
    /// Where the publisher offers the file (used by `anchors fetch`).
    #[serde(default)]
    pub publication_url: Option<String>,
    /// The anchor is trusted only before this instant (the EV root's 2022-12-04 cut-off).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub trusted_until: Option<OffsetDateTime>,
}

/// Backchannel trust settings (core.tls.311, 314).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backchannel {
    /// The anchors.
    pub anchors: Vec<AnchorSpec>,
    /// Leaf policy OIDs expected by the linter (one of them).
    pub leaf_policies: Vec<Oid>,
    /// Allowed intermediates by SHA-256.
    pub intermediates: Vec<Sha256Fingerprint>,
    /// Whether the allow-list is enforced.
    pub enforce_intermediates: bool,
}

/// Frontchannel certificate policy (core.tls.315).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frontchannel {
    /// Policy OIDs meaning "OV or better".
    pub ov_or_better_policies: Vec<Oid>,
    /// Policy OIDs meaning DV.
    pub dv_policies: Vec<Oid>,
}

/// What a revocation mechanism does when it cannot get an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// No answer = refuse.
    Hard,
    /// No answer = proceed, logged and counted.
    Soft,
    /// Mechanism not used.
    Off,
}

/// Largest `revocation.crl_grace_seconds` a profile may set: seven days, the nextUpdate interval
/// PKIoverheid CAs publish CRLs with at most (their CPS: at least weekly). A longer grace would
/// let a CRL count long after the CA replaced it.
pub const MAX_CRL_GRACE_SECONDS: u64 = 7 * 24 * 3600;

/// Revocation defaults (decision 4.5).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationDefaults {
    /// CRL behaviour.
    pub crl: FailMode,
    /// OCSP behaviour.
    pub ocsp: FailMode,
    /// How long after nextUpdate a CRL is still used.
    pub crl_grace_seconds: u64,
}

/// A profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Name, e.g. `medmij-2025`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Where the rules come from.
    pub source: String,
    /// The NCSC edition.
    pub ncsc: NcscVersion,
    /// The version table (core.tls.305).
    pub versions: Versions,
    /// Explicit deviations (core.tls.302).
    #[serde(default)]
    pub deviations: Vec<Deviation>,
    /// Backchannel trust.
    pub backchannel: Backchannel,
    /// Frontchannel certificate policy.
    pub frontchannel: Frontchannel,
    /// Revocation defaults.
    pub revocation: RevocationDefaults,
    /// Per-environment policy.
    pub environments: BTreeMap<Environment, EnvironmentPolicy>,
}

impl Profile {
    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        let (n, text) =
            BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| ProfileError::Unknown {
                    name: name.to_string(),
                })?;
        Profile::from_toml_str(text, &format!("builtin:{n}"))
    }

    /// The default profile (`medmij-2025`).
    pub fn default_profile() -> Profile {
        // The built-in text is checked by a unit test; failing here is a build defect, not input.
        Profile::builtin(DEFAULT_PROFILE)
            .unwrap_or_else(|e| panic!("built-in profile is broken: {e}"))
    }

    /// Loads a profile file; `.json` is read as JSON, anything else as TOML.
    pub fn from_file(path: &Path) -> Result<Profile, ProfileError> {
        let text = crate::input::read_text(path, crate::input::Kind::Profile).map_err(|e| {
            ProfileError::Read {
                path: path.to_path_buf(),
                source: e.into_io(),
            }
        })?;
        let name = path.display().to_string();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Profile::from_json_str(&text, &name)
        } else {
            Profile::from_toml_str(&text, &name)
        }
    }

    /// Parses TOML text; `file` names the source in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Profile, ProfileError> {
        let p: Profile = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            let mut message = e.message().trim().to_string();
            // A type error's message names the value, not the key: say which key it is.
            if let Some(key) = toml_key_at(text, line).filter(|k| !message.contains(k.as_str())) {
                message = format!("{key}: {message}");
            }
            ProfileError::Parse {
                file: file.to_string(),
                line,
                column,
                message,
            }
        })?;
        p.validate(file)?;
        Ok(p)
    }

    /// Parses JSON text; `file` names the source in errors.
    pub fn from_json_str(text: &str, file: &str) -> Result<Profile, ProfileError> {
        let p: Profile = serde_json::from_str(text).map_err(|e| ProfileError::Parse {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        })?;
        p.validate(file)?;
        Ok(p)
    }

    fn validate(&self, file: &str) -> Result<(), ProfileError> {
        let invalid = |key: &str, reason: String| {
            Err(ProfileError::Invalid {
                file: file.to_string(),
                key: key.to_string(),
                reason,
            })
        };
        if self.backchannel.anchors.is_empty() {
            return invalid(
                "backchannel.anchors",
                "at least one trust anchor is required".into(),
            );
        }
        for env in [
            Environment::Production,
            Environment::Acceptance,
            Environment::Test,
        ] {
            if !self.environments.contains_key(&env) {
                return invalid(
                    "environments",
                    format!("missing [environments.{}]", env.label()),
                );
            }
        }
        let v = &self.versions;
        for (key, req, allowed) in [
            (
                "versions.server_required",
                &v.server_required,
                &v.server_allowed,
            ),
            (
                "versions.client_required",
                &v.client_required,
                &v.client_allowed,
            ),
        ] {
            if let Some(x) = req.iter().find(|x| !allowed.contains(x)) {
                return invalid(
                    key,
                    format!("{} is required but not in the matching *_allowed list", x.0),
                );
            }
        }
        if self.revocation.crl_grace_seconds > MAX_CRL_GRACE_SECONDS {
            return invalid(
                "revocation.crl_grace_seconds",
                format!(
                    "{} s is more than the {MAX_CRL_GRACE_SECONDS} s (7 days) allowed: a CRL that old is no evidence about today",
                    self.revocation.crl_grace_seconds
                ),
            );
        }
        if self.backchannel.enforce_intermediates && self.backchannel.intermediates.is_empty() {
            return invalid(
                "backchannel.enforce_intermediates",
                "true, but backchannel.intermediates is empty: every chain would be refused".into(),
            );
        }
        Ok(())
    }

    /// The policy for an environment (validation guarantees all three exist).
    pub fn environment(&self, env: Environment) -> EnvironmentPolicy {
        self.environments
            .get(&env)
            .copied()
            .unwrap_or(EnvironmentPolicy {
                frontchannel_dv_allowed: false,
                test_pki_allowed: false,
            })
    }

    /// Rates an item under this profile's NCSC edition.
    pub fn classify(&self, item: Item) -> Classification {
        ncsc::classify(self.ncsc, item)
    }

    /// The NCSC level of an item under this profile.
    pub fn level(&self, item: Item) -> ncsc::Level {
        ncsc::level(self.ncsc, item)
    }

    /// The deviation covering an item, if any.
    pub fn deviation_for(&self, item: &Item) -> Option<&Deviation> {
        self.deviations
            .iter()
            .find(|d| d.items.iter().any(|i| i.covers(item)))
    }
}

/// The dotted key assigned on 1-based `line` of TOML `text` (`revocation.crl_grace_seconds`),
/// from the `key =` on that line and the nearest `[table]` header above it.
fn toml_key_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?;
    let (key, _) = here.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('#') {
        return None;
    }
    let table = lines[..line - 1].iter().rev().find_map(|l| {
        let t = l.trim();
        (t.starts_with('[') && !t.starts_with("[["))
            .then(|| t.trim_matches(|c| c == '[' || c == ']').trim().to_string())
    });
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ncsc::Level;

    #[test]
    fn builtin_profiles_parse() {
        for (name, _) in BUILTIN {
            let p = Profile::builtin(name).unwrap();
            assert_eq!(&p.id, name);
        }
        let p = Profile::default_profile();
        assert_eq!(p.ncsc, NcscVersion::V2025_05);
        assert_eq!(p.backchannel.anchors.len(), 2);
    }

    #[test]
    fn profiles_differ_as_spec_section_2_says() {
        let new = Profile::builtin("medmij-2025").unwrap();
        let old = Profile::builtin("medmij-2022").unwrap();
        assert_eq!(
            new.versions.server_required,
            vec![Version(ProtocolVersion::TLS13)]
        );
        assert_eq!(
            old.versions.server_required,
            vec![Version(ProtocolVersion::TLS12)]
        );
        assert_eq!(
            old.versions.recommended,
            vec![Version(ProtocolVersion::TLS13)]
        );
        assert_eq!(old.ncsc, NcscVersion::V2_1);
        let ev = old
            .backchannel
            .anchors
            .iter()
            .find(|a| a.name.contains("EV"))
            .unwrap();
        assert_eq!(ev.trusted_until.unwrap().date().to_string(), "2022-12-04");
        assert_eq!(
            old.level(Item::CipherSuite(CipherSuite(0xC02F))),
            Level::Sufficient
        );
        assert_eq!(
            new.level(Item::CipherSuite(CipherSuite(0xC027))),
            Level::PhaseOut
        );
    }

    #[test]
    fn deviations_cover_tls12_and_pkioverheid_rsa() {
        let p = Profile::default_profile();
        assert_eq!(
            p.deviation_for(&Item::Version(ProtocolVersion::TLS12))
                .unwrap()
                .requirement
                .0
                .as_str(),
            "core.tls.305"
        );
        assert!(p
            .deviation_for(&Item::CertKey(CertKey::Rsa { bits: 2048 }))
            .is_some());
        assert!(p
            .deviation_for(&Item::CertKey(CertKey::Rsa { bits: 1024 }))
            .is_none());
        assert!(p
            .deviation_for(&Item::Version(ProtocolVersion::TLS11))
            .is_none());
    }

    #[test]
    fn a_typo_in_a_key_names_line_and_key() {
        let text =
            include_str!("../profiles/medmij-2025.toml").replace("server_allowed", "server_alowed");
        let e = Profile::from_toml_str(&text, "my.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("my.toml:"), "{e}");
        assert!(e.contains("server_alowed"), "{e}");
        let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
        assert_eq!(
            text.lines()
                .nth(line - 1)
                .map(|l| l.contains("server_alowed")),
            Some(true),
            "{e}"
        );
    }

    #[test]
    fn a_bad_value_names_what_was_expected() {
        let text = include_str!("../profiles/medmij-2025.toml").replace(
            "client_required = [\"1.3\", \"1.2\"]",
            "client_required = [\"1.3\", \"1.5\"]",
        );
        let e = Profile::from_toml_str(&text, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("1.5") && e.contains("TLS version"), "{e}");
        let text = include_str!("../profiles/medmij-2025.toml").replace("0257ce27", "0257ce2");
        let e = Profile::from_toml_str(&text, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("64 hex digits"), "{e}");
        let text = include_str!("../profiles/medmij-2025.toml")
            .replace("\"core.tls.305\"", "\"core.tls.999\"");
        let e = Profile::from_toml_str(&text, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("core.tls.999") && e.contains("registry"), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let text = include_str!("../profiles/medmij-2025.toml").replace(
            "server_allowed = [\"1.3\", \"1.2\"]",
            "server_allowed = [\"1.2\"]",
        );
        let e = Profile::from_toml_str(&text, "p.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "p.toml: versions.server_required: TLSv1.3 is required but not in the matching *_allowed list");
        // A type error names the key, not only the value.
        let text = include_str!("../profiles/medmij-2025.toml")
            .replace("crl_grace_seconds = 3600", "crl_grace_seconds = \"3600\"");
        let e = Profile::from_toml_str(&text, "grace_str.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("revocation.crl_grace_seconds: "), "{e}");
        // A grace near u64::MAX would overflow the freshness arithmetic into refusing every CRL.
        let text = include_str!("../profiles/medmij-2025.toml").replace(
            "crl_grace_seconds = 3600",
            "crl_grace_seconds = 18446744073709551615",
        );
        let e = Profile::from_toml_str(&text, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml: revocation.crl_grace_seconds: "),
            "{e}"
        );
    }

    #[test]
    fn json_profiles_load_with_line_numbers() {
        let p = Profile::default_profile();
        let json = serde_json::to_string_pretty(&p).unwrap();
        let back = Profile::from_json_str(&json, "p.json").unwrap();
        assert_eq!(back.id, p.id);
        let broken = json.replacen("\"ncsc\": \"2025-05\"", "\"ncsc\": \"2026\"", 1);
        let e = Profile::from_json_str(&broken, "p.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.json:") && e.contains("2026"), "{e}");
    }

    #[test]
    fn unknown_profile_lists_the_builtin_ones() {
        let e = Profile::builtin("medmij-2030").unwrap_err().to_string();
        assert!(
            e.contains("medmij-2022") && e.contains("medmij-2025"),
            "{e}"
        );
    }
}
