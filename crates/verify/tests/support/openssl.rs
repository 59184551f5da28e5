//! Fixtures made with plain openssl commands, not the project's test PKI: a CA whose
//! certificates, CRLs (from `openssl ca -gencrl` with any crlExtensions) and look-alikes are
//! built the way another PKI would build them. Also a loopback HTTP server that serves what a
//! test puts at each path (a CRL, a 503), as an attacker on the plain-HTTP path would.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Runs openssl in `dir`; panics with its output when it fails (openssl is required: scripts/test
/// installs it, and a missing tool fails loudly).
pub(crate) fn openssl(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is required: run scripts/test");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// DER of the first PEM block in `path`.
pub(crate) fn pem_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    let label = if text.contains("X509 CRL") {
        "X509 CRL"
    } else {
        "CERTIFICATE"
    };
    medmij_testpki::store::pem_blocks(&text, label).unwrap()[0].clone()
}

/// A CA made with openssl: a root (`name`.pem/.key) that signs leaves and CRLs through
/// `openssl ca`.
pub(crate) struct OpensslCa {
    pub dir: PathBuf,
    pub name: String,
    pub subject: String,
}

impl OpensslCa {
    /// A self-signed P-256 root with `subject` (openssl's `-subj` form), valid `days`.
    pub(crate) fn new(dir: &Path, name: &str, subject: &str, days: u32) -> OpensslCa {
        Self::with_key(
            dir,
            name,
            subject,
            days,
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        )
    }

    /// As [`OpensslCa::new`] with the root key made by these `openssl req` options.
    pub(crate) fn with_key(
        dir: &Path,
        name: &str,
        subject: &str,
        days: u32,
        key: &[&str],
    ) -> OpensslCa {
        let dir = dir.join(name);
        std::fs::create_dir_all(dir.join("newcerts")).unwrap();
        let days = days.to_string();
        let mut args = vec!["req", "-x509"];
        args.extend_from_slice(key);
        args.extend([
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            &days,
            "-subj",
            subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
            "-addext",
            "subjectKeyIdentifier=hash",
        ]);
        openssl(&dir, &args);
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("serial"), "1000\n").unwrap();
        std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
        OpensslCa {
            dir,
            name: name.into(),
            subject: subject.into(),
        }
    }

    /// The root certificate's path.
    pub(crate) fn cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn config(&self, crl_ext: &str) {
        std::fs::write(
            self.dir.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nnew_certs_dir=newcerts\ncertificate=ca.pem\nprivate_key=ca.key\nserial=serial\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=7\npolicy=p\nunique_subject=no\ncopy_extensions=none\n[p]\ncommonName=supplied\n[crl_ext]\nauthorityKeyIdentifier=keyid\n{crl_ext}\n"
            ),
        )
        .unwrap();
    }

    /// Issues a leaf `cn` with `extensions` (openssl extfile lines); returns the PEM path.
    /// `days` may be negative to make the leaf valid from the past only via `-days` (openssl
    /// counts from now).
    pub(crate) fn issue(&self, cn: &str, extensions: &str, days: u32) -> PathBuf {
        let key = format!("{cn}.key");
        let csr = format!("{cn}.csr");
        let ext = format!("{cn}.ext");
        let out = format!("{cn}.pem");
        let subj = format!("/C=NL/O=OpenSSL Fixture/CN={cn}");
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &subj,
            ],
        );
        std::fs::write(self.dir.join(&ext), extensions).unwrap();
        self.config("");
        let days = days.to_string();
        openssl(
            &self.dir,
            &[
                "ca", "-batch", "-config", "ca.cnf", "-in", &csr, "-out", &out, "-days", &days,
                "-extfile", &ext, "-notext",
            ],
        );
        self.dir.join(out)
    }

    /// Revokes the certificate at `pem` in the CA database (no CRL yet).
    pub(crate) fn revoke(&self, pem: &Path, reason: &str) {
        self.config("");
        openssl(
            &self.dir,
            &[
                "ca",
                "-config",
                "ca.cnf",
                "-revoke",
                pem.to_str().unwrap(),
                "-crl_reason",
                reason,
            ],
        );
    }

    /// A CRL from the current database with `crl_ext` (openssl config lines under crlExtensions,
    /// e.g. an issuingDistributionPoint), valid `hours`. Returns DER.
    pub(crate) fn crl(&self, crl_ext: &str, hours: u32) -> Vec<u8> {
        self.config(crl_ext);
        let hours = hours.to_string();
        let out = self.dir.join("out.crl.pem");
        openssl(
            &self.dir,
            &[
                "ca",
                "-gencrl",
                "-config",
                "ca.cnf",
                "-crlexts",
                "crl_ext",
                "-crlhours",
                &hours,
                "-out",
                "out.crl.pem",
            ],
        );
        pem_der(&out)
    }

    /// Sets the cRLNumber the next CRL gets.
    pub(crate) fn set_crl_number(&self, n: u64) {
        std::fs::write(self.dir.join("crlnumber"), format!("{n:02X}\n")).unwrap();
    }
}

/// What a route answers.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// Accept, read, say nothing.
    Silent,
}

/// A loopback HTTP/1.1 server answering per path (query ignored, prefix match on `/ocsp`
/// style paths via the longest registered prefix); unknown paths get 404.
pub(crate) struct Routes {
    pub port: u16,
    map: Arc<Mutex<HashMap<String, Answer>>>,
    pub hits: Arc<Mutex<Vec<String>>>,
}

impl Routes {
    pub(crate) fn start() -> Routes {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let map: Arc<Mutex<HashMap<String, Answer>>> = Default::default();
        let hits: Arc<Mutex<Vec<String>>> = Default::default();
        let (m, h) = (map.clone(), hits.clone());
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(mut s) = stream else { continue };
                let (m, h) = (m.clone(), h.clone());
                std::thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buf = vec![0u8; 8192];
                    let n = s.read(&mut buf).unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                    h.lock().unwrap().push(path.clone());
                    let answer = {
                        let map = m.lock().unwrap();
                        map.iter()
                            .filter(|(k, _)| path == **k || path.starts_with(&format!("{k}/")))
                            .max_by_key(|(k, _)| k.len())
                            .map(|(_, a)| a.clone())
                    };
                    match answer {
                        Some(Answer::Body(b)) => {
                            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len());
                            let _ = s.write_all(&b);
                        }
                        Some(Answer::Status(code)) => {
                            let _ = write!(s, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        }
                        Some(Answer::Silent) => std::thread::sleep(Duration::from_secs(30)),
                        None => {
                            let _ = write!(s, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        }
                    }
                });
            }
        });
        Routes { port, map, hits }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn set(&self, path: &str, a: Answer) {
        self.map.lock().unwrap().insert(path.into(), a);
    }

    pub(crate) fn hits(&self, prefix: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.starts_with(prefix))
            .count()
    }
}
