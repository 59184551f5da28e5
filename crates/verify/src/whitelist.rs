//! The MedMij whitelist (release2 namespace): the primary access mechanism (core.tls.310 note).
//!
//! Parsed strictly after the XSD in `medmij-pki.md` §3.1: namespace, `Tijdstempel` (a dateTime
//! of at least 20 characters), positive `Volgnummer`, lowercase hostnames of two or more labels,
//! unique, and (our rule) at least one. A DOCTYPE is refused outright, so no entity expansion or
//! external entity can happen. The store keeps the last good list in memory and on disk and never
//! rolls back to a lower `Volgnummer` unless told to.

use crate::http::HttpClient;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The whitelist namespace.
pub const NAMESPACE: &str = "xmlns://afsprakenstelsel.medmij.nl/whitelist/release2/";
/// Largest whitelist accepted (the real one is tens of kilobytes).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// Most attributes (namespace declarations included) on one element. The published list's
/// root has three (xmlns, xmlns:xsi, xsi:schemaLocation) and no other element has any; the XML
/// parser checks attribute names for duplicates pairwise, so 80,000 attributes on one element
/// would take seconds. Counted by a linear scan before parsing.
pub const MAX_ATTRIBUTES_PER_ELEMENT: usize = 32;

/// Refuses an element with more than [`MAX_ATTRIBUTES_PER_ELEMENT`] attributes, in one pass
/// over the text (comments, CDATA, processing instructions and quoted values skipped). Returns
/// the 1-based line of the element.
fn attribute_budget(text: &str) -> Result<(), usize> {
    let b = text.as_bytes();
    let (mut i, mut line, mut tag_line) = (0usize, 1usize, 1usize);
    let mut in_tag = false;
    let mut quote: Option<u8> = None;
    let mut count = 0usize;
    let skip_to = |from: usize, end: &[u8]| {
        b[from..]
            .windows(end.len())
            .position(|w| w == end)
            .map(|p| from + p + end.len())
            .unwrap_or(b.len())
    };
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if in_tag {
            match c {
                b'"' | b'\'' => quote = Some(c),
                b'=' => {
                    count += 1;
                    if count > MAX_ATTRIBUTES_PER_ELEMENT {
                        return Err(tag_line);
                    }
                }
                b'>' => in_tag = false,
                _ => {}
            }
        } else if c == b'<' {
            let rest = &b[i..];
            let end = if rest.starts_with(b"<!--") {
                Some(&b"-->"[..])
            } else if rest.starts_with(b"<![CDATA[") {
                Some(&b"]]>"[..])
            } else if rest.starts_with(b"<?") {
                Some(&b"?>"[..])
            } else {
                None
            };
            match end {
                Some(end) => {
                    let to = skip_to(i, end);
                    line += b[i..to].iter().filter(|x| **x == b'\n').count();
                    i = to;
                    continue;
                }
                None => {
                    in_tag = true;
                    count = 0;
                    tag_line = line;
                }
            }
        }
        i += 1;
    }
    Ok(())
}

/// Why a whitelist is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WhitelistError {
    /// XML that does not parse, or a DOCTYPE.
    #[error("{source_name}: {reason}")]
    Xml {
        /// Where it came from.
        source_name: String,
        /// Why.
        reason: String,
    },
    /// Parses, but breaks the schema.
    #[error("{source_name}:{line}: {reason}")]
    Schema {
        /// Where it came from.
        source_name: String,
        /// 1-based line.
        line: u32,
        /// Why.
        reason: String,
    },
    /// A lower Volgnummer than the one held.
    #[error("{source_name}: Volgnummer {got} is lower than the {held} already held; refusing to roll back to an older list (a rollback must be allowed explicitly)")]
    Rollback {
        /// Where it came from.
        source_name: String,
        /// The new number.
        got: u64,
        /// The current number.
        held: u64,
    },
    /// Could not read or fetch it.
    #[error("{0}")]
    Unavailable(String),
}

/// A validated whitelist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Whitelist {
    /// Where it came from.
    pub source: String,
    /// `Tijdstempel` as written.
    pub tijdstempel: String,
    /// `Volgnummer`.
    pub volgnummer: u64,
    hostnames: HashSet<String>,
}

/// A hostname as looked up: lowercased (DNS names are case-insensitive, the list is lowercase by
/// schema) with at most one trailing dot (the absolute form) removed. `None` for a name no list
/// entry can match (`a.example..`, an empty name).
pub fn normalize_hostname(host: &str) -> Option<String> {
    let h = host.strip_suffix('.').unwrap_or(host);
    if h.is_empty() || h.ends_with('.') {
        return None;
    }
    Some(h.to_ascii_lowercase())
}

/// The XSD's Hostname pattern: `(([a-z0-9])([a-z0-9-])*(\.))+([a-z0-9])([a-z0-9-])*([a-z0-9])`.
pub fn valid_hostname(h: &str) -> bool {
    let labels: Vec<&str> = h.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let (last, rest) = match labels.split_last() {
        Some(x) => x,
        None => return false,
    };
    let lab = |l: &str| {
        !l.is_empty()
            && l.as_bytes()[0].is_ascii_lowercase() | l.as_bytes()[0].is_ascii_digit()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    rest.iter().all(|l| lab(l)) && last.len() >= 2 && lab(last) && !last.ends_with('-')
}

type Node<'a, 'i> = roxmltree::Node<'a, 'i>;

/// A simple-typed element's value: text only, in one piece (no child element, comment or
/// processing instruction splitting it). Err: the offending node and why.
fn simple_text<'a, 'i>(n: Node<'a, 'i>) -> Result<&'a str, (Node<'a, 'i>, String)> {
    let mut text = "";
    for (i, c) in n.children().enumerate() {
        if !c.is_text() || i > 0 {
            let what = if c.is_element() {
                format!("element {}", c.tag_name().name())
            } else if c.is_comment() {
                "a comment".into()
            } else if c.is_pi() {
                "a processing instruction".into()
            } else {
                "text split in several pieces".into()
            };
            return Err((
                c,
                format!(
                    "{} must hold its value as text only (found {what})",
                    n.tag_name().name()
                ),
            ));
        }
        text = c.text().unwrap_or("");
    }
    Ok(text)
}

/// The element children of a complex-typed element; text other than blanks between them is
/// refused (the schema has no mixed content).
fn element_children<'a, 'i>(n: Node<'a, 'i>) -> Result<Vec<Node<'a, 'i>>, (Node<'a, 'i>, String)> {
    let mut out = Vec::new();
    for c in n.children() {
        if c.is_element() {
            out.push(c);
        } else if c.is_text() && !c.text().unwrap_or("").trim().is_empty() {
            return Err((
                c,
                format!("{} holds text outside its elements", n.tag_name().name()),
            ));
        }
    }
    Ok(out)
}

impl Whitelist {
    /// Parses and validates whitelist XML.
    pub fn parse(xml: &[u8], source: &str) -> Result<Whitelist, WhitelistError> {
        Self::parse_text(xml, source)
    }

    fn parse_text(xml: &[u8], source: &str) -> Result<Whitelist, WhitelistError> {
        let xml_err = |reason: String| WhitelistError::Xml {
            source_name: source.to_string(),
            reason,
        };
        if xml.len() > MAX_BYTES {
            return Err(xml_err(format!(
                "{} bytes is over the {MAX_BYTES}-byte limit",
                xml.len()
            )));
        }
        let text = std::str::from_utf8(xml).map_err(|e| xml_err(format!("not UTF-8: {e}")))?;
        if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
            return Err(xml_err(
                "DOCTYPE/ENTITY declarations are refused (no DTDs, no external entities)".into(),
            ));
        }
        if let Err(line) = attribute_budget(text) {
            return Err(WhitelistError::Schema {
                source_name: source.to_string(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                reason: format!("an element has more than {MAX_ATTRIBUTES_PER_ELEMENT} attributes; the schema allows none but the root's namespace declarations"),
            });
        }
        let doc = roxmltree::Document::parse_with_options(
            text,
            roxmltree::ParsingOptions {
                allow_dtd: false,
                ..Default::default()
            },
        )
        .map_err(|e| xml_err(e.to_string()))?;
        let schema = |node: roxmltree::Node<'_, '_>, reason: String| WhitelistError::Schema {
            source_name: source.to_string(),
            line: doc.text_pos_at(node.range().start).row,
            reason,
        };
        let root = doc.root_element();
        let ns_name = |n: roxmltree::Node<'_, '_>| match n.tag_name().namespace() {
            Some(ns) => format!("namespace {ns}"),
            None => "no namespace".to_string(),
        };
        // Every element of the schema is in the whitelist namespace (elementFormDefault
        // qualified); say which one is not, and where.
        let in_ns = |n: roxmltree::Node<'_, '_>, want: &str| -> Result<(), WhitelistError> {
            if n.tag_name().name() != want {
                return Err(schema(
                    n,
                    format!("expected element {want}, found {}", n.tag_name().name()),
                ));
            }
            if n.tag_name().namespace() != Some(NAMESPACE) {
                return Err(schema(
                    n,
                    format!(
                        "element {want} is in {}; every element must be in namespace {NAMESPACE} (a prefixed root needs prefixed children too)",
                        ns_name(n)
                    ),
                ));
            }
            // No attributes on any element but the root's xsi: schema hints (the XSD declares
            // none); namespace declarations are not attributes here.
            let allowed = |a: &roxmltree::Attribute<'_, '_>| {
                n == root && a.namespace() == Some("http://www.w3.org/2001/XMLSchema-instance")
            };
            if let Some(a) = n.attributes().find(|a| !allowed(a)) {
                return Err(schema(
                    n,
                    format!(
                        "element {want} has an attribute `{}`, which the schema does not allow",
                        a.name()
                    ),
                ));
            }
            Ok(())
        };
        let simple_text = |n| simple_text(n).map_err(|(at, why)| schema(at, why));
        if root.tag_name().name() != "Whitelist" || root.tag_name().namespace() != Some(NAMESPACE) {
            return Err(schema(
                root,
                format!(
                    "root element must be Whitelist in namespace {NAMESPACE}, found {} in {}",
                    root.tag_name().name(),
                    ns_name(root)
                ),
            ));
        }
        in_ns(root, "Whitelist")?;
        let element_children = |n| element_children(n).map_err(|(at, why)| schema(at, why));
        let children = element_children(root)?;
        let names: Vec<&str> = children.iter().map(|n| n.tag_name().name()).collect();
        if names != ["Tijdstempel", "Volgnummer", "MedMijNodes"] {
            return Err(schema(
                root,
                format!(
                    "expected Tijdstempel, Volgnummer, MedMijNodes in that order, found {}",
                    names.join(", ")
                ),
            ));
        }
        for (c, want) in children
            .iter()
            .zip(["Tijdstempel", "Volgnummer", "MedMijNodes"])
        {
            in_ns(*c, want)?;
        }
        // xs:dateTime and xs:positiveInteger collapse whitespace, so surrounding blanks are
        // allowed there (not in Hostname, an xs:string).
        let tijd = simple_text(children[0])?.trim().to_string();
        if tijd.len() < 20
            || time::OffsetDateTime::parse(&tijd, &time::format_description::well_known::Rfc3339)
                .is_err()
        {
            return Err(schema(
                children[0],
                format!("Tijdstempel `{tijd}` is not a dateTime with seconds and time zone"),
            ));
        }
        let vtext = simple_text(children[1])?.trim();
        let volgnummer: u64 = vtext
            .parse()
            .ok()
            .filter(|v| *v > 0 && vtext.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                schema(
                    children[1],
                    format!("Volgnummer `{vtext}` is not a positive integer"),
                )
            })?;
        let mut hostnames = HashSet::new();
        for node in element_children(children[2])? {
            in_ns(node, "MedMijNode")?;
            let hn = element_children(node)?;
            let [h_node] = hn.as_slice() else {
                return Err(schema(
                    node,
                    format!(
                        "each MedMijNode holds exactly one Hostname (found {})",
                        hn.len()
                    ),
                ));
            };
            in_ns(*h_node, "Hostname")?;
            let h = simple_text(*h_node)?;
            if !valid_hostname(h) {
                return Err(schema(*h_node, format!("Hostname `{}` does not match the whitelist pattern (lowercase labels, at least two, no wildcard, port or surrounding blanks)", h.escape_debug())));
            }
            if !hostnames.insert(h.to_string()) {
                return Err(schema(*h_node, format!("Hostname `{h}` appears twice")));
            }
        }
        if hostnames.is_empty() {
            return Err(schema(
                children[2],
                "the whitelist names no MedMijNode: an empty list is refused".into(),
            ));
        }
        Ok(Whitelist {
            source: source.into(),
            tijdstempel: tijd,
            volgnummer,
            hostnames,
        })
    }

    /// Exact lookup of [`normalize_hostname`]`(host)`: the one name normalisation for every
    /// lookup (verifier, CLI, gateway).
    pub fn contains(&self, host: &str) -> bool {
        normalize_hostname(host).is_some_and(|h| self.hostnames.contains(&h))
    }

    /// Number of hostnames.
    pub fn len(&self) -> usize {
        self.hostnames.len()
    }

    /// Never true for a parsed list (empty lists are refused).
    pub fn is_empty(&self) -> bool {
        self.hostnames.is_empty()
    }

    /// The hostnames, sorted.
    pub fn hostnames(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.hostnames.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

/// Where the list comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// An HTTP(S) URL (the Stelselnode: `https://stelselnode.medmij.nl/MedMij_Whitelist.xml?api=<major>`).
    Url(String),
}

impl Source {
    /// `http(s)://` is a URL, anything else a file.
    pub fn parse(s: &str) -> Source {
        if s.starts_with("http://") || s.starts_with("https://") {
            Source::Url(s.to_string())
        } else {
            Source::File(PathBuf::from(s))
        }
    }

    fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Url(u) => u.clone(),
        }
    }

    fn read(&self, http: &HttpClient) -> Result<Vec<u8>, WhitelistError> {
        match self {
            Source::File(p) => medmij_core::input::read(p, medmij_core::input::Kind::Whitelist)
                .map_err(|e| WhitelistError::Unavailable(e.to_string())),
            Source::Url(u) => http
                .get(u)
                .map_err(|e| WhitelistError::Unavailable(e.to_string())),
        }
    }
}

/// The whitelist in use, refreshed from its source, kept last-good in memory and on disk.
pub struct Store {
    source: Source,
    http: HttpClient,
    persist: Option<PathBuf>,
    allow_rollback: bool,
    current: RwLock<Option<Arc<Whitelist>>>,
}

impl Store {
    /// A store; `persist` is where the last good list is kept across restarts.
    pub fn new(
        source: Source,
        http: HttpClient,
        persist: Option<PathBuf>,
        allow_rollback: bool,
    ) -> Store {
        Store {
            source,
            http,
            persist,
            allow_rollback,
            current: RwLock::new(None),
        }
    }

    /// The list in use, if any.
    pub fn current(&self) -> Option<Arc<Whitelist>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Loads from the source; when that fails and nothing is held, falls back to the persisted
    /// copy. Returns the list in use and the refresh error, if any.
    pub fn load(&self) -> (Option<Arc<Whitelist>>, Option<WhitelistError>) {
        match self.refresh() {
            Ok(w) => (Some(w), None),
            Err(e) => {
                if self.current().is_none() {
                    if let Some(p) = &self.persist {
                        if let Ok(bytes) = std::fs::read(p) {
                            if let Ok(w) = Whitelist::parse(
                                &bytes,
                                &format!("{} (last good copy)", p.display()),
                            ) {
                                *self.current.write().unwrap_or_else(|p| p.into_inner()) =
                                    Some(Arc::new(w));
                            }
                        }
                    }
                }
                (self.current(), Some(e))
            }
        }
    }

    /// Fetches and validates the source; swaps it in only when valid and not a rollback. On any
    /// failure the list in use stays.
    pub fn refresh(&self) -> Result<Arc<Whitelist>, WhitelistError> {
        let bytes = self.source.read(&self.http)?;
        let w = Whitelist::parse(&bytes, &self.source.name())?;
        let held = self
            .current()
            .map(|c| c.volgnummer)
            .or_else(|| self.persisted_volgnummer());
        if let Some(held) = held {
            if w.volgnummer < held && !self.allow_rollback {
                return Err(WhitelistError::Rollback {
                    source_name: self.source.name(),
                    got: w.volgnummer,
                    held,
                });
            }
        }
        // The newer list takes effect first: a state directory that cannot be written must not
        // keep a node that was removed from the list connected. The persist error is logged.
        let w = Arc::new(w);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(w.clone());
        if let Some(p) = &self.persist {
            if let Err(e) = persist(p, &bytes) {
                tracing::warn!(path = %p.display(), error = %e, volgnummer = w.volgnummer, "whitelist in force, but its last-good copy could not be written");
            }
        }
        Ok(w)
    }

    fn persisted_volgnummer(&self) -> Option<u64> {
        let p = self.persist.as_ref()?;
        Whitelist::parse(&std::fs::read(p).ok()?, "persisted")
            .ok()
            .map(|w| w.volgnummer)
    }

    /// Refreshes every `interval` on a background thread until the returned handle is dropped.
    pub fn spawn_refresh(self: &Arc<Self>, interval: std::time::Duration) -> RefreshHandle {
        let stop = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let (store, s) = (self.clone(), stop.clone());
        std::thread::spawn(move || loop {
            let guard = s.0.lock().unwrap_or_else(|p| p.into_inner());
            let (guard, _) =
                s.1.wait_timeout(guard, interval)
                    .unwrap_or_else(|p| p.into_inner());
            if *guard {
                return;
            }
            drop(guard);
            if let Err(e) = store.refresh() {
                tracing::warn!(error = %e, "whitelist refresh failed; keeping the last good list");
            }
        });
        RefreshHandle { stop }
    }
}

/// Stops the refresh thread when dropped.
pub struct RefreshHandle {
    stop: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl Drop for RefreshHandle {
    fn drop(&mut self) {
        *self.stop.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.1.notify_all();
    }
}

fn persist(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    medmij_core::atomic_file::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(tijd: &str, volg: &str, hosts: &[&str]) -> String {
        let nodes: String = hosts
            .iter()
            .map(|h| format!("<MedMijNode><Hostname>{h}</Hostname></MedMijNode>\n"))
            .collect();
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Whitelist xmlns=\"{NAMESPACE}\">\n<Tijdstempel>{tijd}</Tijdstempel>\n<Volgnummer>{volg}</Volgnummer>\n<MedMijNodes>\n{nodes}</MedMijNodes>\n</Whitelist>\n")
    }

    const T: &str = "2018-04-16T10:43:41+01:00";

    #[test]
    fn the_published_example_parses() {
        let w = Whitelist::parse(
            xml(
                T,
                "28654",
                &[
                    "medmij.deenigeechtepgo.nl",
                    "rcf-rso.nl",
                    "78834.umcharderwijk.nl",
                ],
            )
            .as_bytes(),
            "ex",
        )
        .unwrap();
        assert_eq!(w.volgnummer, 28654);
        assert!(
            w.contains("rcf-rso.nl")
                && w.contains("RCF-RSO.nl.")
                && !w.contains("rso.nl")
                && !w.contains("x.rcf-rso.nl")
        );
    }

    #[test]
    fn schema_violations_name_the_line_and_the_problem() {
        let cases = [
            (xml(T, "1", &["za.example", "za.example"]), "appears twice"),
            (xml(T, "1", &["ZA.example"]), "does not match"),
            (xml(T, "1", &["*.example.nl"]), "does not match"),
            (xml(T, "1", &["localhost"]), "does not match"),
            (xml(T, "1", &["za.example:443"]), "does not match"),
            (xml(T, "0", &["za.example"]), "positive integer"),
            (xml(T, "-3", &["za.example"]), "positive integer"),
            (xml("2018-04-16", "1", &["za.example"]), "dateTime"),
            (xml(T, "1", &[]), "empty list"),
            (
                xml(T, "1", &["za.example"]).replace(NAMESPACE, "urn:other"),
                "namespace",
            ),
        ];
        for (doc, want) in cases {
            let e = Whitelist::parse(doc.as_bytes(), "wl.xml")
                .unwrap_err()
                .to_string();
            assert!(e.contains(want) && e.starts_with("wl.xml"), "{want}: {e}");
        }
        let e = Whitelist::parse(
            xml(T, "1", &["za.example", "za.example"]).as_bytes(),
            "wl.xml",
        )
        .unwrap_err();
        assert!(matches!(e, WhitelistError::Schema { line: 7, .. }), "{e:?}");
    }

    #[test]
    fn doctype_and_external_entities_are_refused() {
        let xxe = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n{}",
            xml(T, "1", &["za.example"])
                .split_once("?>\n")
                .unwrap()
                .1
                .replace("za.example", "&e;")
        );
        let e = Whitelist::parse(xxe.as_bytes(), "evil.xml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("DOCTYPE"), "{e}");
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><Whitelist/>";
        assert!(Whitelist::parse(bomb.as_bytes(), "bomb.xml").is_err());
        assert!(Whitelist::parse(b"<Whitelist", "cut.xml").is_err());
        assert!(Whitelist::parse(&[0xff, 0xfe, 0x00], "bin.xml").is_err());
    }

    #[test]
    fn a_url_source_is_fetched_and_refreshed_in_the_background() {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let served = Arc::new(std::sync::Mutex::new(xml(T, "5", &["a.example"])));
        let s2 = served.clone();
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let mut buf = [0u8; 2048];
                let _ = c.read(&mut buf);
                let body = s2.lock().unwrap().clone();
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let store = Arc::new(Store::new(
            Source::parse(&format!(
                "http://127.0.0.1:{port}/MedMij_Whitelist.xml?api=2"
            )),
            HttpClient::default(),
            None,
            false,
        ));
        assert_eq!(store.load().0.unwrap().volgnummer, 5);
        *served.lock().unwrap() = xml(T, "6", &["b.example"]);
        let handle = store.spawn_refresh(std::time::Duration::from_millis(100));
        let t = std::time::Instant::now();
        while store.current().unwrap().volgnummer != 6 {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(5),
                "no background refresh"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(store.current().unwrap().contains("b.example"));
        drop(handle);
    }

    #[test]
    fn documents_the_schema_refuses_are_refused() {
        let ok = xml(T, "1", &["za.example"]);
        let cases = [
            (
                ok.replace(
                    "<Hostname>za.example</Hostname>",
                    "<x:Hostname xmlns:x=\"urn:other\">za.example</x:Hostname>",
                ),
                "namespace urn:other",
            ),
            (
                ok.replace(
                    "<Hostname>za.example</Hostname>",
                    "<Hostname>za.example<b/></Hostname>",
                ),
                "element b",
            ),
            (
                ok.replace(
                    "<Hostname>za.example</Hostname>",
                    "<Hostname>za.exa<!-- x -->mple</Hostname>",
                ),
                "a comment",
            ),
            (
                ok.replace(
                    "<Hostname>za.example</Hostname>",
                    "<Hostname> za.example </Hostname>",
                ),
                "does not match",
            ),
            (
                ok.replace("<MedMijNode>", "<MedMijNode id=\"1\">"),
                "attribute",
            ),
            (
                ok.replace("<MedMijNodes>", "<MedMijNodes>stray text"),
                "text outside",
            ),
        ];
        for (doc, want) in cases {
            let e = Whitelist::parse(doc.as_bytes(), "wl.xml")
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
        // Whitespace around a dateTime or an integer is collapsed by the XSD: still valid.
        let padded = ok
            .replace(
                &format!("<Tijdstempel>{T}"),
                &format!("<Tijdstempel>\n  {T}  "),
            )
            .replace("<Volgnummer>1", "<Volgnummer> 1 ");
        assert_eq!(
            Whitelist::parse(padded.as_bytes(), "wl.xml")
                .unwrap()
                .volgnummer,
            1
        );
    }

    #[test]
    fn a_prefixed_root_with_unprefixed_children_gets_a_message_that_says_so() {
        let doc = format!("<w:Whitelist xmlns:w=\"{NAMESPACE}\"><Tijdstempel>{T}</Tijdstempel><Volgnummer>1</Volgnummer><MedMijNodes><MedMijNode><Hostname>za.example</Hostname></MedMijNode></MedMijNodes></w:Whitelist>");
        let e = Whitelist::parse(doc.as_bytes(), "wl.xml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Tijdstempel is in no namespace"), "{e}");
        assert!(!e.contains("found [\""), "{e}");
        // Fully prefixed is fine.
        let doc = doc
            .replace("<Tijdstempel>", "<w:Tijdstempel>")
            .replace("</Tijdstempel>", "</w:Tijdstempel>")
            .replace("<Volgnummer>", "<w:Volgnummer>")
            .replace("</Volgnummer>", "</w:Volgnummer>")
            .replace("<MedMijNodes>", "<w:MedMijNodes>")
            .replace("</MedMijNodes>", "</w:MedMijNodes>")
            .replace("<MedMijNode>", "<w:MedMijNode>")
            .replace("</MedMijNode>", "</w:MedMijNode>")
            .replace("<Hostname>", "<w:Hostname>")
            .replace("</Hostname>", "</w:Hostname>");
        assert!(Whitelist::parse(doc.as_bytes(), "wl.xml").is_ok());
    }

    #[test]
    fn an_attribute_bomb_is_refused_at_once() {
        let attrs: String = (0..200_000).map(|i| format!(" a{i}=\"x\"")).collect();
        let doc =
            xml(T, "1", &["za.example"]).replace("<MedMijNodes>", &format!("<MedMijNodes{attrs}>"));
        assert!(doc.len() < MAX_BYTES);
        let t = std::time::Instant::now();
        let e = Whitelist::parse(doc.as_bytes(), "wl.xml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("attributes"), "{e}");
        assert!(e.contains("wl.xml:5"), "{e}");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            t.elapsed()
        );
        // A '=' inside a comment or a quoted value is not an attribute.
        let eqs = "=".repeat(1000);
        let doc = xml(T, "1", &["za.example"])
            .replace("<MedMijNodes>", &format!("<!-- {eqs} --><MedMijNodes>"));
        assert!(Whitelist::parse(doc.as_bytes(), "wl.xml").is_ok());
    }

    #[test]
    fn lookups_allow_one_trailing_dot_and_nothing_else() {
        let w = Whitelist::parse(xml(T, "1", &["pgo.example"]).as_bytes(), "wl").unwrap();
        assert!(w.contains("pgo.example"));
        assert!(w.contains("PGO.Example."));
        assert!(!w.contains("pgo.example.."));
        assert!(!w.contains("pgo.example...."));
        assert!(!w.contains("."));
        assert!(!w.contains(""));
    }

    #[test]
    fn an_unwritable_state_path_never_blocks_a_list_or_a_newer_one() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("wl.xml");
        // The state "directory" is a regular file: nothing can be persisted under it.
        std::fs::write(t.path().join("state"), "not a directory").unwrap();
        let store = Store::new(
            Source::File(src.clone()),
            HttpClient::default(),
            Some(t.path().join("state/whitelist.xml")),
            false,
        );
        std::fs::write(&src, xml(T, "10", &["a.example", "removed.example"])).unwrap();
        let (w, err) = store.load();
        assert!(err.is_none(), "{err:?}");
        assert_eq!(w.unwrap().volgnummer, 10);
        std::fs::write(&src, xml(T, "11", &["a.example"])).unwrap();
        assert_eq!(store.refresh().unwrap().volgnummer, 11);
        assert!(!store.current().unwrap().contains("removed.example"));
    }

    #[test]
    fn store_keeps_last_good_refuses_rollback_and_survives_restart() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("wl.xml");
        let persisted = t.path().join("state/whitelist.xml");
        std::fs::write(&src, xml(T, "10", &["a.example"])).unwrap();
        let store = Store::new(
            Source::File(src.clone()),
            HttpClient::default(),
            Some(persisted.clone()),
            false,
        );
        assert_eq!(store.load().0.unwrap().volgnummer, 10);
        std::fs::write(&src, "garbage").unwrap();
        assert!(store.refresh().is_err());
        assert!(store.current().unwrap().contains("a.example"));
        std::fs::write(&src, xml(T, "9", &["b.example"])).unwrap();
        assert!(matches!(
            store.refresh(),
            Err(WhitelistError::Rollback {
                got: 9,
                held: 10,
                ..
            })
        ));
        std::fs::write(&src, xml(T, "11", &["b.example"])).unwrap();
        assert!(store.refresh().unwrap().contains("b.example"));
        // A restart without the source still has the last good list.
        std::fs::remove_file(&src).unwrap();
        let again = Store::new(
            Source::File(src),
            HttpClient::default(),
            Some(persisted),
            false,
        );
        let (w, err) = again.load();
        assert!(err.is_some());
        assert_eq!(w.unwrap().volgnummer, 11);
    }
}
