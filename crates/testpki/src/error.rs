//! Errors of the test PKI.

use std::path::PathBuf;

/// Why a test PKI operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Certificate or CRL construction failed in rcgen.
    #[error("building {what}: {source}")]
    Build {
        /// What was being built.
        what: String,
        /// rcgen's error.
        source: rcgen::Error,
    },
    /// DER encoding or decoding failed.
    #[error("{what}: DER: {source}")]
    Der {
        /// What was being encoded or decoded.
        what: String,
        /// The DER error.
        source: der::Error,
    },
    /// A cryptographic operation failed.
    #[error("{what}: {reason}")]
    Crypto {
        /// The operation.
        what: String,
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file of the PKI directory is malformed.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The request cannot be honoured (unknown CA, existing directory, bad hostname, ...).
    #[error("{0}")]
    Invalid(String),
}

impl PkiError {
    pub(crate) fn build(what: impl Into<String>) -> impl FnOnce(rcgen::Error) -> PkiError {
        let what = what.into();
        move |source| PkiError::Build { what, source }
    }

    pub(crate) fn der(what: impl Into<String>) -> impl FnOnce(der::Error) -> PkiError {
        let what = what.into();
        move |source| PkiError::Der { what, source }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> PkiError {
        let path = path.into();
        move |source| PkiError::Io { path, source }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, PkiError>;
