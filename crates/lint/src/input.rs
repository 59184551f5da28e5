//! What a lint file holds: a certificate, a chain (leaf first), or a certificate signing request,
//! in PEM or DER. Text between PEM blocks is allowed (RFC 7468 §2 explanatory text); anything that
//! is neither is an error that names the file and the block.

/// At most this many certificates per file: the verifier's own chain limit, far above the
/// three or four of a real PKIoverheid or public chain.
pub const MAX_CERTIFICATES: usize = medmij_verify::verifier::MAX_CHAIN_CERTIFICATES;

/// What a file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Certificates in file order (leaf first), DER.
    Chain(Vec<Vec<u8>>),
    /// A PKCS#10 certificate signing request, DER.
    Csr(Vec<u8>),
}

/// Why a file cannot be linted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// Nothing in it.
    #[error("the file is empty")]
    Empty,
    /// Neither PEM nor DER.
    #[error("neither PEM (-----BEGIN CERTIFICATE-----) nor DER: {0}")]
    NotPemOrDer(String),
    /// A block that is not a certificate or CSR.
    #[error("PEM block {index} is a {kind}; expected CERTIFICATE or CERTIFICATE REQUEST")]
    UnexpectedBlock {
        /// 1-based.
        index: usize,
        /// What it was.
        kind: String,
    },
    /// Certificates and a CSR mixed.
    #[error("the file mixes certificates and a certificate request; lint them as two files")]
    Mixed,
    /// Too many certificates.
    #[error("more than {MAX_CERTIFICATES} certificates; a chain is a leaf and a few CAs")]
    TooMany,
    /// A certificate or CSR that does not parse.
    #[error("{what} does not parse: {why}")]
    Unparsable {
        /// `certificate 2` or `the certificate request`.
        what: String,
        /// The parser's reason.
        why: String,
    },
}

/// Reads a file's bytes as a [`Subject`]: splits PEM blocks or concatenated DER. Whether each
/// certificate parses as X.509 is [`crate::facts`]' business (one parse per certificate).
pub fn parse(bytes: &[u8]) -> Result<Subject, InputError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(InputError::Empty);
    }
    if bytes.first() == Some(&0x30) {
        der(bytes)
    } else {
        pem(bytes)
    }
}

/// The parser's complaint in words, with the rule when a name string does not decode.
pub fn explain_parse_error(e: &str) -> String {
    let mut why = e.to_string();
    if why.contains("X.509 name") {
        why.push_str(" (a name attribute does not decode as its string type, e.g. a UTF8String that is not UTF-8: RFC 5280 §4.1.2.4)");
    }
    why
}

/// DER: one certificate (or a concatenation of them), or one CSR.
fn der(bytes: &[u8]) -> Result<Subject, InputError> {
    use x509_parser::prelude::FromDer;
    if x509_parser::certification_request::X509CertificationRequest::from_der(bytes)
        .is_ok_and(|(rest, _)| rest.is_empty())
    {
        return Ok(Subject::Csr(bytes.to_vec()));
    }
    let mut certs = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if certs.len() == MAX_CERTIFICATES {
            return Err(InputError::TooMany);
        }
        let len = der_len(rest).ok_or_else(|| InputError::Unparsable {
            what: format!("certificate {}", certs.len() + 1),
            why: "truncated DER (the outer SEQUENCE is longer than the file)".into(),
        })?;
        certs.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    Ok(Subject::Chain(certs))
}

/// The total length of the DER SEQUENCE at the start of `b`, if the file holds all of it.
fn der_len(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&0x30) {
        return None;
    }
    let first = *b.get(1)?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let total = head.checked_add(len)?;
    (total <= b.len()).then_some(total)
}

/// PEM blocks (RFC 7468): text outside `-----BEGIN …-----`/`-----END …-----` is ignored; a
/// block's base64 is decoded with the `base64` crate (the certificates are public: no need for
/// the constant-time decoder private keys get).
fn pem(bytes: &[u8]) -> Result<Subject, InputError> {
    use base64::Engine;
    let text = std::str::from_utf8(bytes).map_err(|_| {
        InputError::NotPemOrDer("not text, and not DER (no SEQUENCE at the start)".into())
    })?;
    let mut certs = Vec::new();
    let mut csr = None;
    let mut block: Option<(String, Vec<u8>)> = None;
    let mut index = 0;
    for line in text.lines() {
        let line = line.trim();
        match &mut block {
            None => {
                if let Some(label) = line
                    .strip_prefix("-----BEGIN ")
                    .and_then(|l| l.strip_suffix("-----"))
                {
                    index += 1;
                    block = Some((label.to_string(), Vec::with_capacity(2048)));
                }
            }
            Some((label, b64)) => {
                if let Some(end) = line
                    .strip_prefix("-----END ")
                    .and_then(|l| l.strip_suffix("-----"))
                {
                    if end != label {
                        return Err(InputError::NotPemOrDer(format!(
                            "PEM block {index}: BEGIN {label} ends with END {end}"
                        )));
                    }
                    let der = base64::engine::general_purpose::STANDARD
                        .decode(&b64)
                        .map_err(|e| InputError::NotPemOrDer(format!("PEM block {index}: {e}")))?;
                    match label.as_str() {
                        "CERTIFICATE" => {
                            if certs.len() == MAX_CERTIFICATES {
                                return Err(InputError::TooMany);
                            }
                            certs.push(der);
                        }
                        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                            if csr.is_some() {
                                return Err(InputError::UnexpectedBlock {
                                    index,
                                    kind: "second CERTIFICATE REQUEST".into(),
                                });
                            }
                            csr = Some(der);
                        }
                        other => {
                            return Err(InputError::UnexpectedBlock {
                                index,
                                kind: other.chars().take(40).collect(),
                            })
                        }
                    }
                    block = None;
                } else if line.contains(':') {
                    // RFC 1421 headers (Proc-Type, DEK-Info) carry no certificate data.
                    continue;
                } else {
                    b64.extend_from_slice(line.as_bytes());
                }
            }
        }
    }
    if let Some((label, _)) = block {
        return Err(InputError::NotPemOrDer(format!(
            "PEM block {index} ({label}) has no END line"
        )));
    }
    match (certs.is_empty(), csr) {
        (true, None) => Err(InputError::NotPemOrDer("no PEM block found".into())),
        (true, Some(c)) => Ok(Subject::Csr(c)),
        (false, None) => Ok(Subject::Chain(certs)),
        (false, Some(_)) => Err(InputError::Mixed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_junk_and_truncated_inputs_are_errors_in_words() {
        assert_eq!(parse(b"  \n"), Err(InputError::Empty));
        assert!(matches!(parse(b"hello"), Err(InputError::NotPemOrDer(_))));
        assert!(matches!(
            parse(&[0x30, 0x82, 0x05, 0x00, 0x01]),
            Err(InputError::Unparsable { .. })
        ));
        assert!(matches!(
            parse(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Err(InputError::UnexpectedBlock { .. })
        ));
    }
}
