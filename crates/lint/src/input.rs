//! What a lint file holds: a certificate, a chain (leaf first), or a certificate signing request,
//! in PEM or DER. Text between PEM blocks is allowed (RFC 7468 §2 explanatory text); anything that
//! is neither is an error that names the file and the block.

use rustls_pki_types::pem::{PemObject, SectionKind};

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

/// Reads a file's bytes as a [`Subject`]; every certificate and the CSR are checked to parse as
/// X.509 / PKCS#10 (with nothing after them), so the judgment can rely on it.
pub fn parse(bytes: &[u8]) -> Result<Subject, InputError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(InputError::Empty);
    }
    let subject = if bytes.first() == Some(&0x30) {
        der(bytes)?
    } else {
        pem(bytes)?
    };
    match &subject {
        Subject::Chain(certs) => {
            for (i, c) in certs.iter().enumerate() {
                match x509_parser::parse_x509_certificate(c) {
                    Ok(([], _)) => {}
                    Ok((rest, _)) => {
                        return Err(InputError::Unparsable {
                            what: format!("certificate {}", i + 1),
                            why: format!("{} bytes after its end", rest.len()),
                        })
                    }
                    Err(e) => {
                        let mut why = e.to_string();
                        if why.contains("X.509 name") {
                            why.push_str(" (a name attribute does not decode as its string type, e.g. a UTF8String that is not UTF-8: RFC 5280 §4.1.2.4)");
                        }
                        return Err(InputError::Unparsable {
                            what: format!("certificate {}", i + 1),
                            why,
                        });
                    }
                }
            }
        }
        Subject::Csr(c) => {
            use x509_parser::prelude::FromDer;
            match x509_parser::certification_request::X509CertificationRequest::from_der(c) {
                Ok(([], _)) => {}
                Ok((rest, _)) => {
                    return Err(InputError::Unparsable {
                        what: "the certificate request".into(),
                        why: format!("{} bytes after its end", rest.len()),
                    })
                }
                Err(e) => {
                    return Err(InputError::Unparsable {
                        what: "the certificate request".into(),
                        why: e.to_string(),
                    })
                }
            }
        }
    }
    Ok(subject)
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

fn pem(bytes: &[u8]) -> Result<Subject, InputError> {
    let mut certs = Vec::new();
    let mut csr = None;
    for (i, item) in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes).enumerate() {
        let (kind, der) =
            item.map_err(|e| InputError::NotPemOrDer(format!("PEM block {}: {e}", i + 1)))?;
        match kind {
            SectionKind::Certificate => {
                if certs.len() == MAX_CERTIFICATES {
                    return Err(InputError::TooMany);
                }
                certs.push(der);
            }
            SectionKind::Csr => {
                if csr.is_some() {
                    return Err(InputError::UnexpectedBlock {
                        index: i + 1,
                        kind: "second CERTIFICATE REQUEST".into(),
                    });
                }
                csr = Some(der);
            }
            other => {
                return Err(InputError::UnexpectedBlock {
                    index: i + 1,
                    kind: format!("{other:?}"),
                })
            }
        }
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
