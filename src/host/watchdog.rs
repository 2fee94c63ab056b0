//! The watchdog: bounded waits for asynchronous calls.
//!
//! Every async call registers a deadline and an expiry action. One watchdog thread keeps the
//! deadlines in a min-heap; when one passes before the call has completed, the expiry action
//! runs (it rejects the promise with a timeout naming the phase). Completion and expiry race
//! on a [`Ticket`]: whichever claims it first settles the promise, the other does nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// Decides who settles a call: the completion or the watchdog.
#[derive(Default)]
pub struct Ticket {
    claimed: AtomicBool,
}

impl Ticket {
    /// True for exactly one caller.
    pub fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }
}

type Expire = Box<dyn FnOnce() + Send>;

struct Entry {
    deadline: Instant,
    seq: u64,
    ticket: Arc<Ticket>,
    expire: Expire,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.deadline, self.seq) == (o.deadline, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(o.deadline, o.seq))
    }
}

static WATCHDOG: OnceLock<Sender<Entry>> = OnceLock::new();
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Registers `expire` to run at `deadline` unless `ticket` is claimed first.
pub fn watch(deadline: Instant, ticket: Arc<Ticket>, expire: Expire) {
    let tx = WATCHDOG.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded();
        super::thread::spawn("asherah-watchdog".into(), 256 << 10, move |_| run(rx))
            .expect("cannot start the asherah-shim watchdog thread");
        tx
    });
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let _ = tx.send(Entry {
        deadline,
        seq,
        ticket,
        expire,
    });
}

fn run(rx: Receiver<Entry>) {
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::new();
    loop {
        // Drop entries whose call already completed, so the heap stays small.
        while heap
            .peek()
            .is_some_and(|Reverse(e)| e.ticket.claimed.load(Ordering::Acquire))
        {
            heap.pop();
        }
        let next = heap.peek().map(|Reverse(e)| e.deadline);
        let received = match next {
            Some(d) => rx.recv_deadline(d),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(e) => heap.push(Reverse(e)),
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                while heap.peek().is_some_and(|Reverse(e)| e.deadline <= now) {
                    let Reverse(e) = heap.pop().expect("peeked");
                    if e.ticket.claim() {
                        (e.expire)();
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expiry_runs_only_for_unclaimed_tickets() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let done = Arc::new(Ticket::default());
        let stuck = Arc::new(Ticket::default());
        let now = Instant::now();
        let t1 = tx.clone();
        watch(
            now + Duration::from_millis(50),
            done.clone(),
            Box::new(move || t1.send("done").unwrap()),
        );
        watch(
            now + Duration::from_millis(80),
            stuck.clone(),
            Box::new(move || tx.send("stuck").unwrap()),
        );
        assert!(done.claim());
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "stuck");
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        assert!(!stuck.claim());
    }
}
