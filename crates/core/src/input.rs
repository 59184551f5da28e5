//! Reading an input file with a budget: it must be a regular file (a FIFO would block for
//! good, `/dev/zero` would grow without end) and no larger than the cap for its kind. Every
//! command reads chains, anchors, CRLs, staples, whitelists and profiles through here.

use std::io::Read;
use std::path::Path;

/// What kind of input a file is, with its size cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A certificate chain (PEM or DER): a TLS Certificate message is at most 2^24 − 1 bytes
    /// (RFC 8446 §4.4.2), so a chain file larger than 16 MiB is not a chain a peer could send.
    Chain,
    /// Trust anchors: the system CA bundle is ~200 KiB; 16 MiB is far above any real store.
    Anchors,
    /// A CRL: the revocation engine's cap ([`MAX_CRL_BYTES`]), above any real PKIoverheid CRL.
    Crl,
    /// A stapled OCSP response: real ones are a few KiB; 1 MiB leaves room for responses with
    /// long responder chains and nothing a handshake would carry.
    OcspResponse,
    /// A MedMij whitelist: the real one is tens of kilobytes; 16 MiB as the parser's own cap.
    Whitelist,
    /// A profile (TOML/JSON): the built-in ones are ~5 KiB.
    Profile,
    /// A PEM private key: an RSA-16384 key is under 13 KiB; 1 MiB is far above any key.
    PrivateKey,
    /// A test PKI catalogue (`catalogue.json`): ~20 KiB for the built-in cases.
    Catalogue,
    /// A scan target list, one `host[:port]` per line: 16 MiB is a few hundred thousand lines.
    TargetList,
    /// A stored scan report read back (`scan --from-json`): a whitelist scan of a few thousand
    /// nodes with their chains is tens of megabytes; 256 MiB is the cap.
    ScanReport,
}

/// Largest CRL accepted anywhere (file or download): 64 MiB, far above any real PKIoverheid CRL
/// (kilobytes to a few megabytes) and far below what would hurt the process.
pub const MAX_CRL_BYTES: u64 = 64 * 1024 * 1024;

impl Kind {
    /// The cap in bytes.
    pub fn max_bytes(self) -> u64 {
        match self {
            Kind::Chain | Kind::Anchors | Kind::Whitelist => 16 * 1024 * 1024,
            Kind::Crl => MAX_CRL_BYTES,
            Kind::OcspResponse => 1024 * 1024,
            Kind::Profile | Kind::PrivateKey | Kind::Catalogue => 1024 * 1024,
            Kind::TargetList => 16 * 1024 * 1024,
            Kind::ScanReport => 256 * 1024 * 1024,
        }
    }

    /// How the kind is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Chain => "certificate chain",
            Kind::Anchors => "trust anchor file",
            Kind::Crl => "CRL",
            Kind::OcspResponse => "OCSP response",
            Kind::Whitelist => "whitelist",
            Kind::Profile => "profile",
            Kind::PrivateKey => "private key",
            Kind::Catalogue => "test PKI catalogue",
            Kind::TargetList => "target list",
            Kind::ScanReport => "scan report",
        }
    }
}

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("{path}: {}", self.reason())]
pub struct InputError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub problem: Problem,
}

/// What went wrong with an input file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// A FIFO, device, socket or directory.
    NotAFile {
        /// What it is instead.
        what: &'static str,
        /// The kind expected.
        kind: &'static str,
    },
    /// Larger than the cap.
    TooLarge {
        /// The cap.
        limit: u64,
        /// The kind expected.
        kind: &'static str,
    },
}

impl InputError {
    /// The problem without the path (for callers whose message names the file already).
    pub fn reason(&self) -> String {
        match &self.problem {
            Problem::Io(e) => e.to_string(),
            Problem::NotAFile { what, kind } => {
                format!("not a regular file ({what}); a {kind} is read from a file")
            }
            Problem::TooLarge { limit, kind } => {
                format!("larger than {limit} bytes, the most a {kind} may be")
            }
        }
    }

    /// As an `io::Error` carrying [`InputError::reason`], for error types that hold one.
    pub fn into_io(self) -> std::io::Error {
        match self.problem {
            Problem::Io(e) => e,
            _ => std::io::Error::new(std::io::ErrorKind::InvalidInput, self.reason()),
        }
    }
}

/// Reads `path` as `kind`: a regular file of at most `kind.max_bytes()` bytes.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, InputError> {
    let err = |problem| InputError {
        path: path.display().to_string(),
        problem,
    };
    let io = |e| err(Problem::Io(e));
    // Before opening: opening a FIFO for reading blocks until someone writes.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            file_type_name(&meta)
        };
        return Err(err(Problem::NotAFile {
            what,
            kind: kind.label(),
        }));
    }
    let limit = kind.max_bytes();
    let too_large = || {
        err(Problem::TooLarge {
            limit,
            kind: kind.label(),
        })
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    // The size can change between stat and read (or lie, for /proc files): read at most one
    // byte more than allowed.
    let f = std::fs::File::open(path).map_err(io)?;
    let mut out = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.take(limit + 1).read_to_end(&mut out).map_err(io)?;
    if out.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(out)
}

/// Reads `path` as UTF-8 text of `kind`.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, InputError> {
    let bytes = read(path, kind)?;
    String::from_utf8(bytes).map_err(|e| InputError {
        path: path.display().to_string(),
        problem: Problem::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )),
    })
}

#[cfg(unix)]
fn file_type_name(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

#[cfg(not(unix))]
fn file_type_name(_: &std::fs::Metadata) -> &'static str {
    "not a plain file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_oversized_files_are_refused_at_once() {
        let e = read(Path::new("/dev/zero"), Kind::Chain).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = read(Path::new("/"), Kind::Crl).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let dir = std::env::temp_dir().join(format!("input-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.der");
        std::fs::write(&big, vec![0u8; 1024 * 1024 + 1]).unwrap();
        let e = read(&big, Kind::OcspResponse).unwrap_err();
        assert!(matches!(e.problem, Problem::TooLarge { .. }), "{e}");
        assert_eq!(read(&big, Kind::Chain).unwrap().len(), 1024 * 1024 + 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
