//! One fetch per key however many threads ask at once (concurrent handshakes for the same
//! certificate must not each download the same CRL).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};

type Slot<V> = Arc<(Mutex<Option<V>>, Condvar)>;

/// Deduplicates concurrent calls by key.
pub(crate) struct SingleFlight<V: Clone> {
    inflight: Mutex<HashMap<String, Slot<V>>>,
}

impl<V: Clone> Default for SingleFlight<V> {
    fn default() -> Self {
        SingleFlight {
            inflight: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> SingleFlight<V> {
    /// Runs `f` for `key` unless another thread is already running it; then waits for and
    /// returns that thread's result.
    pub(crate) fn run(&self, key: &str, f: impl FnOnce() -> V) -> V {
        let (slot, leader) = {
            let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(key) {
                Some(s) => (s.clone(), false),
                None => {
                    let s: Slot<V> = Arc::new((Mutex::new(None), Condvar::new()));
                    map.insert(key.to_string(), s.clone());
                    (s, true)
                }
            }
        };
        if leader {
            let v = f();
            *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(v.clone());
            slot.1.notify_all();
            self.inflight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(key);
            v
        } else {
            let mut guard = slot.0.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(v) = guard.as_ref() {
                    return v.clone();
                }
                guard = slot.1.wait(guard).unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn concurrent_callers_share_one_run() {
        let sf = Arc::new(SingleFlight::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (sf, runs, barrier) = (sf.clone(), runs.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    sf.run("k", || {
                        runs.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        7
                    })
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 7);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
