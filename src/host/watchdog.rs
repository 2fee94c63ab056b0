//! The watchdog: bounded waits for asynchronous calls.
//!
//! Every async call registers a deadline and an expiry action in a shared min-heap; when a
//! deadline passes before the call has completed, the expiry action runs (it rejects the
//! promise with a timeout naming the phase). Completion and expiry race on a [`Ticket`]:
//! whichever claims it first settles the promise, the other does nothing.
//!
//! Registering must stay cheap because every async call does it: a push under a mutex,
//! with no thread wake-up. The watchdog thread checks at least every [`TICK`] while it is
//! busy (so deadlines fire within a tick of being due) and drops completed entries as it
//! goes. Each tick also runs the tick hook (`completion::ring_stranded`): it re-rings
//! completion links that still hold results, because Bun 1.2.19 and 1.3.14 can strand the
//! last thread-safe-function call of a burst (see `completion`), and it says whether
//! promises are still outstanding. The watchdog parks only when no call is registered and
//! the hook has just said no promise is outstanding; it is woken only by a registration or
//! a [`keep_ticking`] call (a link's first outstanding promise) that finds it parked.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// How late a deadline may fire at most, and how often a busy watchdog looks.
pub(crate) const TICK: Duration = Duration::from_millis(50);

/// Decides who settles a call: the completion or the watchdog.
#[derive(Default)]
pub(crate) struct Ticket {
    claimed: AtomicBool,
}

impl Ticket {
    /// True for exactly one caller.
    pub(crate) fn claim(&self) -> bool {
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
    /// More ticks are wanted even with the heap empty: the tick hook said so when it last
    /// ran, or [`keep_ticking`] was called since.
    ticks_wanted: bool,
}

static WATCHDOG: OnceLock<Arc<Shared>> = OnceLock::new();
/// Runs on each tick (set once by `completion`: re-ring stranded completion queues); returns
/// whether it wants more ticks. A hook rather than a call keeps this module free of N-API.
static TICK_HOOK: OnceLock<fn() -> bool> = OnceLock::new();

/// Sets the function run on each tick (first caller wins). While it returns `true`, the
/// watchdog keeps ticking even when no call is registered.
pub(crate) fn on_tick(hook: fn() -> bool) {
    let _ = TICK_HOOK.set(hook);
}

/// Asks for ticks (and so tick-hook runs) at least until the hook next returns `false`.
pub(crate) fn keep_ticking() {
    let shared = shared();
    let mut state = shared.state.lock();
    state.ticks_wanted = true;
    if state.parked {
        state.parked = false;
        shared.wake.notify_one();
    }
}
static SEQ: AtomicU64 = AtomicU64::new(0);

/// Registers `expire` to run at `deadline` unless `ticket` is claimed first.
pub(crate) fn watch(deadline: Instant, ticket: Arc<Ticket>, expire: Expire) {
    let shared = shared();
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

/// The watchdog's shared state; the first caller starts its thread.
fn shared() -> &'static Arc<Shared> {
    WATCHDOG.get_or_init(|| {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                heap: BinaryHeap::new(),
                parked: false,
                ticks_wanted: false,
            }),
            wake: Condvar::new(),
        });
        let for_thread = shared.clone();
        super::thread::spawn("asherah-watchdog".into(), 256 << 10, move |_| {
            run(&for_thread)
        })
        .expect("cannot start the asherah-shim watchdog thread");
        shared
    })
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
        let next = state.heap.peek().map(|Reverse(e)| e.deadline);
        if next.is_none() && !state.ticks_wanted {
            // Decided under the lock: a `watch` or `keep_ticking` after this sees `parked`.
            state.parked = true;
            shared.wake.wait(&mut state);
            continue;
        }
        let _ = shared
            .wake
            .wait_until(&mut state, next.map_or(now + TICK, |d| d.min(now + TICK)));
        // Cleared before the hook runs, so a `keep_ticking` during the hook is not lost.
        state.ticks_wanted = false;
        if let Some(hook) = TICK_HOOK.get() {
            if parking_lot::MutexGuard::unlocked(&mut state, hook) {
                state.ticks_wanted = true;
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
        // Claimed before it is registered, as a call that finishes first would be: claiming
        // it after `watch` would race the watchdog on a box that stalls this thread 50 ms.
        assert!(done.claim());
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
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "stuck");
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        assert!(!stuck.claim());
    }

    static HOOK_RUNS: AtomicU64 = AtomicU64::new(0);
    static HOOK_WANTS_TICKS: AtomicBool = AtomicBool::new(true);

    fn counting_hook() -> bool {
        HOOK_RUNS.fetch_add(1, Ordering::SeqCst);
        HOOK_WANTS_TICKS.load(Ordering::SeqCst)
    }

    /// Whether `HOOK_RUNS` reaches `at_least` within 5 s (polled: a loaded box runs the
    /// watchdog's timed waits late, so a fixed sleep would be a guess).
    fn hook_runs_reach(at_least: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while HOOK_RUNS.load(Ordering::SeqCst) < at_least {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    #[test]
    fn ticks_continue_with_no_call_registered_while_the_hook_wants_them() {
        // The only hook set in this test binary (completion links need a JS env).
        on_tick(counting_hook);
        keep_ticking();
        assert!(hook_runs_reach(5), "the hook did not keep the ticks going");
        HOOK_WANTS_TICKS.store(false, Ordering::SeqCst);
        // Parked: no more runs (another test's registered calls may add a few ticks first).
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = HOOK_RUNS.load(Ordering::SeqCst);
        loop {
            std::thread::sleep(TICK * 4);
            let now = HOOK_RUNS.load(Ordering::SeqCst);
            if now == last {
                break;
            }
            assert!(Instant::now() < deadline, "the watchdog never parked");
            last = now;
        }
        // A keep_ticking call wakes the parked watchdog: the hook runs again.
        keep_ticking();
        assert!(hook_runs_reach(last + 1), "keep_ticking did not wake it");
    }
}
