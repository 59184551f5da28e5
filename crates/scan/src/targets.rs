//! Scan targets: `host`, `host:port`, `1.2.3.4:443`, `[2001:db8::1]:8443`, a bare IPv6
//! address; from the command line, a targets file, or a MedMij whitelist.

use std::net::IpAddr;

/// The port a target without one gets.
pub const DEFAULT_PORT: u16 = 443;

/// One endpoint to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `host:port` as reported.
    pub label: String,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// SNI to send: the host name (none for an address) unless `--sni` says otherwise.
    pub sni: Option<String>,
}

impl Target {
    /// Parses one target.
    pub fn parse(s: &str) -> Result<Target, String> {
        let s = s.trim();
        let bad = |why: &str| format!("target {s:?}: {why}");
        if s.is_empty() {
            return Err(bad("empty"));
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("port is not a number 1-65535"))?,
                None if after.is_empty() => DEFAULT_PORT,
                None => return Err(bad("text after ']'")),
            };
            (h.to_owned(), port)
        } else if s.parse::<IpAddr>().is_ok() {
            (s.to_owned(), DEFAULT_PORT)
        } else if let Some((h, p)) = s.rsplit_once(':') {
            (
                h.to_owned(),
                p.parse().map_err(|_| bad("port is not a number 1-65535"))?,
            )
        } else {
            (s.to_owned(), DEFAULT_PORT)
        };
        if port == 0 {
            return Err(bad("port 0"));
        }
        let ip = host.parse::<IpAddr>().ok();
        if ip.is_none() && !valid_hostname(&host) {
            return Err(bad("not a host name or IP address"));
        }
        let label = match ip {
            Some(IpAddr::V6(_)) => format!("[{host}]:{port}"),
            _ => format!("{}:{port}", host.to_ascii_lowercase()),
        };
        Ok(Target {
            label,
            sni: ip.is_none().then(|| host.to_ascii_lowercase()),
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

fn valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.trim_end_matches('.').split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Targets from a file: one per line; blank lines and `#` comments skipped; errors name the line.
pub fn parse_list(text: &str, file: &str) -> Result<Vec<Target>, String> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| Target::parse(l).map_err(|e| format!("{file}:{}: {e}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_in_every_form() {
        let t = Target::parse("Node.Example:8443").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.host.as_str(), t.port, t.sni.as_deref()),
            ("node.example", 8443, Some("node.example"))
        );
        assert_eq!(Target::parse("node.example").map(|t| t.port), Ok(443));
        let v6 = Target::parse("[::1]:8443").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((v6.host.as_str(), v6.port, v6.sni), ("::1", 8443, None));
        assert_eq!(v6.label, "[::1]:8443");
        assert_eq!(Target::parse("::1").map(|t| t.port), Ok(443));
        assert_eq!(Target::parse("127.0.0.1:1").map(|t| t.sni), Ok(None));
        for bad in [
            "",
            "host:0",
            "host:x",
            "[::1",
            "a b",
            "-x.example",
            "host:70000",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        let l = parse_list(
            "# nodes\nA.example\n\nb.example:8443 # backchannel\n",
            "t.txt",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.len(), 2);
        assert_eq!(
            parse_list("ok.example\nbad host\n", "t.txt").unwrap_err(),
            "t.txt:2: target \"bad host\": not a host name or IP address"
        );
    }
}
