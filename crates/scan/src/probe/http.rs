//! Plain HTTP on a frontchannel host (core.tls.300: port 80 may only redirect to https).

use crate::facts::PlainHttpFacts;
use crate::probe::tls::{header, MAX_HTTP_HEAD};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Asks `GET /` over plain HTTP at `addr` and records the status, `Location` and body size.
pub fn probe(addr: SocketAddr, host: &str, timeout: Duration) -> PlainHttpFacts {
    let mut f = PlainHttpFacts {
        port: addr.port(),
        ..PlainHttpFacts::default()
    };
    let deadline = Instant::now() + timeout;
    let mut tcp = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return f,
        Err(e) => {
            f.error = Some(format!("connect {addr}: {e}"));
            return f;
        }
    };
    f.listening = true;
    let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: medmij-tls-scan\r\nConnection: close\r\n\r\n");
    if let Err(e) = tcp.write_all(req.as_bytes()) {
        f.error = Some(format!("write: {e}"));
        return f;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Headers plus a little body: enough to tell a redirect page from content.
    while buf.len() < MAX_HTTP_HEAD * 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match tcp.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        f.error = Some(if buf.is_empty() {
            "no answer".into()
        } else {
            format!("{} bytes that are not an HTTP answer", buf.len())
        });
        return f;
    };
    f.status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|_| head.starts_with("HTTP/1."));
    if f.status.is_none() {
        f.error = Some("not an HTTP answer".into());
    }
    f.location = header(head, "location");
    f.body_bytes = body.len();
    f
}
