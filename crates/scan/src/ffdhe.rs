//! The RFC 7919 finite-field groups, to tell a server's DH prime for what it is: a named,
//! well-studied group, or a custom prime (which NCSC rates by size alone at best).

const DATA: &str = include_str!("../data/ffdhe.txt");

/// The RFC 7919 group `prime` is (leading zero bytes ignored), if it is one.
pub fn rfc7919_name(prime: &[u8]) -> Option<&'static str> {
    let start = prime.iter().position(|&b| b != 0).unwrap_or(prime.len());
    let p = &prime[start..];
    DATA.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .find(|(_, hex)| hex.len() == p.len() * 2 && hex_eq(hex, p))
        .map(|(name, _)| name)
}

fn hex_eq(hex: &str, bytes: &[u8]) -> bool {
    hex.as_bytes().chunks(2).zip(bytes).all(|(h, b)| {
        std::str::from_utf8(h)
            .ok()
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            == Some(*b)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn every_group_is_found_and_a_changed_prime_is_not() {
        for l in DATA.lines().filter(|l| !l.starts_with('#')) {
            let (name, hex) = l.split_once(' ').unwrap();
            let mut p = unhex(hex);
            assert_eq!(rfc7919_name(&p), Some(name));
            let mut padded = vec![0];
            padded.extend_from_slice(&p);
            assert_eq!(rfc7919_name(&padded), Some(name));
            let n = p.len();
            p[n / 2] ^= 1;
            assert_eq!(rfc7919_name(&p), None);
        }
    }

    /// The data file matches what openssl knows as the RFC 7919 groups (openssl is a test
    /// dependency: `scripts/test` installs it).
    #[test]
    fn the_primes_are_openssls() {
        for bits in [2048, 3072, 4096, 6144, 8192] {
            let name = format!("ffdhe{bits}");
            let gen = std::process::Command::new("openssl")
                .args(["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt"])
                .arg(format!("group:{name}"))
                .output()
                .expect("openssl must be installed for this test");
            assert!(gen.status.success());
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("p.pem");
            std::fs::write(&f, &gen.stdout).unwrap();
            let parsed = std::process::Command::new("openssl")
                .args(["asn1parse", "-in"])
                .arg(&f)
                .output()
                .unwrap();
            let text = String::from_utf8(parsed.stdout).unwrap();
            let hex = text
                .lines()
                .find(|l| l.contains("INTEGER"))
                .and_then(|l| l.rsplit(':').next())
                .unwrap();
            assert_eq!(rfc7919_name(&unhex(hex)), Some(name.as_str()));
        }
    }
}
