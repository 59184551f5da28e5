//! Blocking HTTP for CRLs, OCSP, trust anchors and whitelists, with explicit budgets.
//!
//! Blocking on purpose: rustls calls verifiers synchronously, so a fetch on a cache miss happens
//! inside the handshake callback. Async callers (the gateway) run verification under
//! `tokio::task::block_in_place`. Every request has a total deadline (a responder that trickles
//! bytes is cut off) and a size cap (a CRL bomb is refused before it is parsed).

use std::sync::Arc;
use std::time::Duration;

/// Default total time for one fetch, connect to last byte. Decision 4.5 leaves the number to us:
/// long enough for a slow PKIoverheid CRL download, short enough that a handshake is not held.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default largest body: PKIoverheid CRLs are kilobytes to a few megabytes; 64 MiB is far above
/// any real one and far below what would hurt the process.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Most redirects followed for one GET: a CRL or whitelist behind a CDN may move once or twice.
pub const MAX_REDIRECTS: usize = 3;

/// Where a redirect from `from` to `location` goes: an absolute http(s) URL, or a path on the
/// same origin. Any other scheme (file:, ftp:, data:) is refused.
fn redirect_target(from: &str, location: &str) -> Result<String, String> {
    if location.is_empty() {
        return Err("redirect without a Location".into());
    }
    let lower = location.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(location.to_string());
    }
    if location.starts_with('/') && !location.starts_with("//") {
        let scheme_end = from.find("://").map(|i| i + 3).unwrap_or(0);
        let origin_end = from[scheme_end..]
            .find('/')
            .map(|i| scheme_end + i)
            .unwrap_or(from.len());
        return Ok(format!("{}{location}", &from[..origin_end]));
    }
    Err(format!(
        "redirect to `{}` refused: only http and https URLs are followed",
        location.escape_debug()
    ))
}

/// Why a fetch failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// No complete answer within the deadline (includes a trickling peer).
    #[error("{url}: no complete answer within {seconds:.1} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The deadline.
        seconds: f64,
    },
    /// The server answered with a non-2xx status.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is larger than allowed.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: u64,
    },
    /// Not attempted: the decision is made from cached state only.
    #[error(
        "{url}: not fetched, deciding from cached state only (a background refresh will fetch it)"
    )]
    Offline {
        /// The URL.
        url: String,
    },
    /// Not attempted: the caller's time budget for this check was used up.
    #[error("{url}: not fetched, the revocation check's time budget is used up")]
    NoTimeLeft {
        /// The URL.
        url: String,
    },
    /// Connection refused, DNS failure, reset, TLS failure.
    #[error("{url}: {reason}")]
    Failed {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// How the revocation engine fetches: a GET (CRLs, GET-OCSP) and a POST (OCSP), each within a
/// time limit. [`HttpClient`] is the blocking implementation every tool uses; an async server
/// keeps fetches off its handshake path with `Engine::check_cached` and
/// `revocation::background`, which runs them on the runtime's blocking pool.
pub trait Fetcher: Send + Sync {
    /// GET `url` within `limit`.
    fn get(&self, url: &str, limit: Duration) -> Result<Vec<u8>, FetchError>;
    /// POST `body` to `url` within `limit`.
    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        limit: Duration,
    ) -> Result<Vec<u8>, FetchError>;
}

impl Fetcher for HttpClient {
    fn get(&self, url: &str, limit: Duration) -> Result<Vec<u8>, FetchError> {
        self.get_within(url, limit)
    }

    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        limit: Duration,
    ) -> Result<Vec<u8>, FetchError> {
        self.post_within(url, content_type, body, limit)
    }
}

/// An HTTP client with a deadline and a size cap.
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    timeout: Duration,
    max_bytes: u64,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new(DEFAULT_TIMEOUT, DEFAULT_MAX_BYTES, None)
    }
}

impl HttpClient {
    /// A client; `https_roots` replaces the Mozilla roots for https:// URLs (a private whitelist host).
    pub fn new(
        timeout: Duration,
        max_bytes: u64,
        https_roots: Option<Vec<rustls_pki_types::CertificateDer<'static>>>,
    ) -> HttpClient {
        let roots = match https_roots {
            Some(r) => ureq::tls::RootCerts::Specific(Arc::new(
                r.into_iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                    .collect(),
            )),
            None => ureq::tls::RootCerts::WebPki,
        };
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(roots)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .build();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // Redirects are followed by `get_within` itself, so a Location that is not http(s)
            // is refused with a message that says so.
            .max_redirects(0)
            .tls_config(tls)
            .user_agent(concat!("medmij-tls/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        HttpClient {
            agent,
            timeout,
            max_bytes,
        }
    }

    /// The total deadline.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// GET `url`.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.get_within(url, self.timeout)
    }

    /// POST `body` to `url`.
    pub fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, FetchError> {
        self.post_within(url, content_type, body, self.timeout)
    }

    /// GET `url` within `limit` (or the client's deadline, whichever is shorter): what a caller
    /// with an overall budget (the revocation check of one chain) uses. Follows at most
    /// [`MAX_REDIRECTS`] redirects, to http and https URLs only, within the same deadline.
    pub fn get_within(&self, url: &str, limit: Duration) -> Result<Vec<u8>, FetchError> {
        let d = self.deadline(url, limit)?;
        let start = std::time::Instant::now();
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let left = d.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(FetchError::Timeout {
                    url: url.into(),
                    seconds: d.as_secs_f64(),
                });
            }
            let r = self
                .agent
                .get(&current)
                .config()
                .timeout_global(Some(left))
                .build()
                .call();
            let resp = r.map_err(|e| self.map(&current, d, e))?;
            if resp.status().is_redirection() {
                let location = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                current =
                    redirect_target(&current, &location).map_err(|reason| FetchError::Failed {
                        url: url.into(),
                        reason,
                    })?;
                continue;
            }
            return self.finish(&current, d, Ok(resp));
        }
        Err(FetchError::Failed {
            url: url.into(),
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// POST `body` to `url` within `limit` (see [`HttpClient::get_within`]).
    pub fn post_within(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        limit: Duration,
    ) -> Result<Vec<u8>, FetchError> {
        let d = self.deadline(url, limit)?;
        let r = self
            .agent
            .post(url)
            .config()
            .timeout_global(Some(d))
            .build()
            .header("Content-Type", content_type)
            .send(body);
        self.finish(url, d, r)
    }

    fn deadline(&self, url: &str, limit: Duration) -> Result<Duration, FetchError> {
        let d = limit.min(self.timeout);
        if d.is_zero() {
            return Err(FetchError::Timeout {
                url: url.into(),
                seconds: 0.0,
            });
        }
        Ok(d)
    }

    fn finish(
        &self,
        url: &str,
        deadline: Duration,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, FetchError> {
        let mut resp = r.map_err(|e| self.map(url, deadline, e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                url: url.into(),
                status,
            });
        }
        resp.body_mut()
            .with_config()
            .limit(self.max_bytes)
            .read_to_vec()
            .map_err(|e| self.map(url, deadline, e))
    }

    fn map(&self, url: &str, deadline: Duration, e: ureq::Error) -> FetchError {
        match e {
            ureq::Error::Timeout(_) | ureq::Error::BodyStalled => FetchError::Timeout {
                url: url.into(),
                seconds: deadline.as_secs_f64(),
            },
            ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
                url: url.into(),
                limit: self.max_bytes,
            },
            ureq::Error::Io(io)
                if io.kind() == std::io::ErrorKind::TimedOut
                    || io.kind() == std::io::ErrorKind::WouldBlock =>
            {
                FetchError::Timeout {
                    url: url.into(),
                    seconds: deadline.as_secs_f64(),
                }
            }
            other => FetchError::Failed {
                url: url.into(),
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A loopback server answering every request with a redirect to `location`.
    fn redirector(location: &'static str) -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().take(4) {
                let Ok(mut s) = s else { continue };
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf);
                let _ = write!(
                    s,
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        port
    }

    #[test]
    fn a_redirect_to_a_file_url_is_refused_in_words() {
        let port = redirector("file:///etc/passwd");
        let e = HttpClient::default()
            .get(&format!("http://127.0.0.1:{port}/crl.crl"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("redirect") && e.contains("file:///etc/passwd"),
            "{e}"
        );
        let port = redirector("/again");
        let e = HttpClient::default()
            .get(&format!("http://127.0.0.1:{port}/loop"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than 3 redirects"), "{e}");
    }
}
