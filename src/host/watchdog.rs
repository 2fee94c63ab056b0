//! The watchdog: bounded waits for asynchronous calls.
//!
//! Every async call registers a deadline and an expiry action in a shared min-heap; when a
//! deadline passes before the call has completed, the expiry action runs (it rejects the
//! promise with a timeout naming the phase). Completion and expiry race on a [`Ticket`]:
//! whichever claims it first settles the promise, the other does nothing.
//!
//! Registering must stay cheap because every async call does it: a push under a mutex,
//! with no thread wake-up. The watchdog thread checks at least every [`TICK`] while calls
//! are pending (so deadlines fire within a tick of being due), drops completed entries as
//! it goes, and parks when nothing is pending; only a registration that finds it parked
//! wakes it. Each tick with calls pending also runs the tick hook, which re-rings completion
//! links that still hold results (`completion::ring_stranded`), a guard against hosts that
//! drop a ring.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// How late a deadline may fire at most, and how often a busy watchdog looks.
pub const TICK: Duration = Duration::from_millis(50);

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

    fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
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

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    /// The watchdog thread is parked with nothing to watch.
    parked: bool,
}

static WATCHDOG: OnceLock<Arc<Shared>> = OnceLock::new();
/// Runs on each tick while calls are pending (set once by `completion`: re-ring stranded
/// completion queues). A hook rather than a call keeps this module free of N-API.
static TICK_HOOK: OnceLock<fn()> = OnceLock::new();

/// Sets the function run on each tick while calls are pending (first caller wins).
pub fn on_tick(hook: fn()) {
    let _ = TICK_HOOK.set(hook);
}
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Registers `expire` to run at `deadline` unless `ticket` is claimed first.
pub fn watch(deadline: Instant, ticket: Arc<Ticket>, expire: Expire) {
    let shared = WATCHDOG.get_or_init(|| {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                heap: BinaryHeap::new(),
                parked: false,
            }),
            wake: Condvar::new(),
        });
        let for_thread = shared.clone();
        super::thread::spawn("asherah-watchdog".into(), 256 << 10, move |_| {
            run(&for_thread)
        })
        .expect("cannot start the asherah-shim watchdog thread");
        shared
    });
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut state = shared.state.lock();
    // Completed calls at the front are dropped here too, so the heap stays small under
    // steady traffic without waking the watchdog.
    drop_claimed(&mut state.heap);
    state.heap.push(Reverse(Entry {
        deadline,
        seq,
        ticket,
        expire,
    }));
    if state.parked {
        state.parked = false;
        shared.wake.notify_one();
    }
}

fn drop_claimed(heap: &mut BinaryHeap<Reverse<Entry>>) {
    while heap.peek().is_some_and(|Reverse(e)| e.ticket.is_claimed()) {
        heap.pop();
    }
}

fn run(shared: &Shared) {
    let mut state = shared.state.lock();
    loop {
        drop_claimed(&mut state.heap);
        let now = Instant::now();
        let mut due = Vec::new();
        while state
            .heap
            .peek()
            .is_some_and(|Reverse(e)| e.deadline <= now)
        {
            let Reverse(e) = state.heap.pop().expect("peeked");
            if e.ticket.claim() {
                due.push(e.expire);
            }
        }
        if !due.is_empty() {
            // Expiry actions take other locks (instance state, completion queues): run
            // them without holding ours.
            parking_lot::MutexGuard::unlocked(&mut state, || due.into_iter().for_each(|f| f()));
            continue;
        }
        match state.heap.peek().map(|Reverse(e)| e.deadline) {
            None => {
                state.parked = true;
                shared.wake.wait(&mut state);
            }
            Some(deadline) => {
                let _ = shared.wake.wait_until(&mut state, deadline.min(now + TICK));
                if let (false, Some(hook)) = (state.heap.is_empty(), TICK_HOOK.get()) {
                    parking_lot::MutexGuard::unlocked(&mut state, hook);
                }
            }
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
