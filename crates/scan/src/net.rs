//! Connections to one endpoint: a deadline on every probe, a per-host connection budget, and a
//! retry with back-off when the peer resets before answering.

use crate::wire::flight::{read_answer, Answer, ReadUntil};
use crate::wire::hello::ClientHello;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Default connections open at once to one host. Five keeps a scan from looking like a flood to
/// the peer's connection limits (nginx `limit_conn`, HAProxy `maxconn` per source are commonly
/// 10–20) while letting independent probes overlap.
pub const DEFAULT_PER_HOST_CONCURRENCY: usize = 5;
/// The most a user may ask for (`--per-host-concurrency`).
pub const MAX_PER_HOST_CONCURRENCY: usize = 16;
/// Default connections in all to one host in one scan. A full scan needs about 60–120 (every
/// suite and group accepted costs one connection, plus the options and refusal probes); 200
/// bounds a server that accepts everything the IANA registry lists.
pub const DEFAULT_PER_HOST_CONNECTIONS: usize = 200;
/// The most a user may ask for (`--per-host-connections`).
pub const MAX_PER_HOST_CONNECTIONS: usize = 2_000;
/// Default time for one probe: connect, send, read the whole first flight. Five seconds is what
/// testssl.sh and SSLyze allow a loaded server for a handshake.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries for a probe whose connection the peer resets before any answer (a busy server's accept
/// queue, a rate limiter): once more after 100 ms, then after 400 ms.
pub const RESET_RETRIES: u32 = 2;
const BACKOFF: Duration = Duration::from_millis(100);

/// Why no answer could be had from the endpoint at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// TCP connect refused.
    #[error("connection refused ({0})")]
    Refused(SocketAddr),
    /// TCP connect did not complete in time.
    #[error("connect to {0} timed out")]
    ConnectTimeout(SocketAddr),
    /// Any other connect error.
    #[error("connect to {addr}: {why}")]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        why: String,
    },
    /// The per-host connection budget is spent.
    #[error("the per-host budget of {0} connections is spent")]
    BudgetSpent(usize),
}

/// The per-host connection budget: at most `concurrent` open at once and `total` in all.
#[derive(Debug)]
pub struct HostBudget {
    concurrent: usize,
    total: usize,
    state: Mutex<(usize, usize)>,
    freed: Condvar,
}

impl HostBudget {
    /// A budget.
    pub fn new(concurrent: usize, total: usize) -> Arc<HostBudget> {
        Arc::new(HostBudget {
            concurrent: concurrent.max(1),
            total,
            state: Mutex::new((0, 0)),
            freed: Condvar::new(),
        })
    }

    /// Waits for a free slot and spends one connection of the total.
    pub fn acquire(self: &Arc<Self>) -> Result<Permit, NetError> {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if s.1 >= self.total {
                return Err(NetError::BudgetSpent(self.total));
            }
            if s.0 < self.concurrent {
                s.0 += 1;
                s.1 += 1;
                return Ok(Permit(self.clone()));
            }
            s = self
                .freed
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Connections used so far, and the most ever open at once is bounded by `concurrent`.
    pub fn used(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
    }
}

/// One open-connection slot; freed on drop.
#[derive(Debug)]
pub struct Permit(Arc<HostBudget>);

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self
            .0
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.0 -= 1;
        self.0.freed.notify_one();
    }
}

/// A TCP stream whose reads end at a deadline (a server that trickles one byte a second cannot
/// hold a probe past it).
#[derive(Debug)]
pub struct DeadlineStream {
    /// The socket.
    pub tcp: TcpStream,
    deadline: Instant,
    _permit: Permit,
}

impl DeadlineStream {
    /// Brings the deadline forward to at most `d` from now.
    pub fn shorten(&mut self, d: Duration) {
        self.deadline = self.deadline.min(Instant::now() + d);
    }

    fn remaining(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::ErrorKind::TimedOut.into())
        } else {
            Ok(left)
        }
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// Where and how to connect for one target.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The address connected to.
    pub addr: SocketAddr,
    /// The name sent as SNI (none for an IP-address target).
    pub sni: Option<String>,
    /// The budget shared by every probe of this host.
    pub budget: Arc<HostBudget>,
    /// Time per probe.
    pub timeout: Duration,
}

impl Endpoint {
    /// Opens a connection within the budget and the probe's time.
    pub fn connect(&self) -> Result<DeadlineStream, NetError> {
        let permit = self.budget.acquire()?;
        let deadline = Instant::now() + self.timeout;
        let tcp =
            TcpStream::connect_timeout(&self.addr, self.timeout).map_err(|e| match e.kind() {
                io::ErrorKind::ConnectionRefused => NetError::Refused(self.addr),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                    NetError::ConnectTimeout(self.addr)
                }
                _ => NetError::Connect {
                    addr: self.addr,
                    why: e.to_string(),
                },
            })?;
        let _ = tcp.set_nodelay(true);
        Ok(DeadlineStream {
            tcp,
            deadline,
            _permit: permit,
        })
    }

    /// Sends `hello` and reads the answer; a reset before any answer is retried with back-off.
    pub fn exchange(&self, hello: &ClientHello, until: ReadUntil) -> Result<Answer, NetError> {
        let bytes = hello.to_record();
        let mut attempt = 0;
        loop {
            let mut s = self.connect()?;
            let answer = match s.write_all(&bytes) {
                Ok(()) => read_answer(&mut s, until),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Answer::Reset,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Answer::Closed { bytes: 0 },
                Err(e) => Answer::Malformed(format!("write: {e}")),
            };
            if matches!(answer, Answer::Reset) && attempt < RESET_RETRIES {
                std::thread::sleep(BACKOFF * 4u32.pow(attempt));
                attempt += 1;
                continue;
            }
            return Ok(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_budget_caps_concurrent_and_total_connections() {
        let b = HostBudget::new(2, 3);
        let p1 = b.acquire().unwrap();
        let _p2 = b.acquire().unwrap();
        let b2 = b.clone();
        let waiter = std::thread::spawn(move || b2.acquire().map(|_| ()));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !waiter.is_finished(),
            "a third concurrent connection must wait"
        );
        drop(p1);
        waiter.join().unwrap().unwrap();
        assert_eq!(b.acquire().unwrap_err(), NetError::BudgetSpent(3));
        assert_eq!(b.used(), 3);
    }

    /// A server that closes without reading makes the kernel send a reset: the probe is tried
    /// again, twice, with back-off, then the reset is the answer.
    #[test]
    fn a_reset_is_retried_with_back_off() {
        use crate::wire::flight::{Answer, ReadUntil};
        use crate::wire::hello::ClientHello;
        use medmij_core::wire::ProtocolVersion;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let a = accepted.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                a.fetch_add(1, Ordering::SeqCst);
                // Unread data in the receive buffer at close: the kernel answers with RST.
                std::thread::sleep(Duration::from_millis(50));
                drop(s);
            }
        });
        let ep = Endpoint {
            addr,
            sni: None,
            budget: HostBudget::new(1, 10),
            timeout: Duration::from_secs(2),
        };
        let mut h = ClientHello::new(ProtocolVersion::TLS12, None);
        h.suites = vec![medmij_core::wire::CipherSuite(0xC02F)];
        let started = Instant::now();
        let a = ep.exchange(&h, ReadUntil::ServerHello).unwrap();
        assert!(matches!(a, Answer::Reset), "{}", a.describe());
        assert_eq!(accepted.load(Ordering::SeqCst), 1 + RESET_RETRIES as usize);
        assert!(
            started.elapsed() >= BACKOFF * 5,
            "100 ms + 400 ms of back-off"
        );
        assert_eq!(ep.budget.used(), 3, "each try spends the budget");
    }
}
