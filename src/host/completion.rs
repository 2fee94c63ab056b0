//! Completions: work that a core-host thread hands back to run on a JS thread.
//!
//! Each env (main thread, each Worker) has one [`EnvLink`]: a lock-free queue plus one
//! thread-safe-function doorbell. A producer pushes, then rings; the JS thread drains the
//! whole queue on each ring, so a burst of 64 results settles in one hop (the host queues
//! the rings, and a drain that finds the queue empty does nothing). The link counts
//! outstanding promises and keeps the event loop alive only while there are some. When the
//! env is torn down, the link is closed and later completions are dropped.
//!
//! Why every push rings, and why the watchdog rings again: Bun 1.2.19 and 1.3.14 can strand
//! a thread-safe-function call. A call made while the JS thread is ending a dispatch round
//! stays in Bun's queue until some later call arrives (`ThreadSafeFunction.onDispatch`
//! stores `idle` over the `pending` that the call's `scheduleDispatch` set; reproduced with
//! no shim code by fixtures/tsfn-relay, see docs/upstream.md). The ring-once design this
//! replaced (ring only when no ring was pending) loses nothing on a host that runs every
//! call, but on those Buns a stranded ring left its flag set, so nothing rang again and
//! the promises behind it never settled. Ringing on every push lets the next push flush a
//! stranded ring; the last ring of a burst has no next push, so the watchdog re-rings
//! links that still hold completions on each tick while promises are outstanding
//! ([`ring_stranded`]). `completion_model` checks both protocols against models of Node's
//! and Bun's dispatch loops, every interleaving.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_queue::SegQueue;
use parking_lot::Mutex;

use crate::napi::{Env, Status, Tsfn};

/// Code to run on the JS thread, and whether it settles a promise counted by the link.
pub(crate) struct Completion {
    pub run: Box<dyn FnOnce(&Env) + Send>,
    pub settles_promise: bool,
}

/// Every live link, so a stranded ring can be repaired (see [`ring_stranded`]).
static LINKS: Mutex<Vec<std::sync::Weak<EnvLink>>> = Mutex::new(Vec::new());

/// The watchdog's tick hook: rings again for every link that still has queued completions,
/// and returns whether any link still has promises outstanding (the watchdog keeps ticking
/// while it does). On Bun 1.2.19 and 1.3.14 a stranded last ring then settles its promises
/// a tick later instead of never; elsewhere a re-ring finds nothing to do.
pub(crate) fn ring_stranded() -> bool {
    let mut links = LINKS.lock();
    links.retain(|w| w.strong_count() > 0);
    let mut outstanding = false;
    for link in links.iter().filter_map(std::sync::Weak::upgrade) {
        if link.closed.load(Ordering::Acquire) {
            continue;
        }
        outstanding |= link.outstanding.load(Ordering::Acquire) > 0;
        if !link.queue.is_empty() {
            if let Some(t) = link.tsfn.lock().clone() {
                t.notify();
            }
        }
    }
    outstanding
}

/// The way back to one env's JS thread.
pub(crate) struct EnvLink {
    queue: SegQueue<Completion>,
    outstanding: AtomicUsize,
    closed: AtomicBool,
    tsfn: parking_lot::Mutex<Option<Tsfn>>,
}

impl EnvLink {
    /// Creates the link and its doorbell on the env's JS thread.
    pub(crate) fn new(env: &Env) -> Result<Arc<EnvLink>, Status> {
        let link = Arc::new(EnvLink {
            queue: SegQueue::new(),
            outstanding: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            tsfn: parking_lot::Mutex::new(None),
        });
        let weak = Arc::downgrade(&link);
        let tsfn = Tsfn::new(
            env,
            "asherah-shim completions",
            Box::new(move |env| {
                if let Some(link) = weak.upgrade() {
                    link.drain(env);
                }
            }),
        )?;
        *link.tsfn.lock() = Some(tsfn);
        LINKS.lock().push(Arc::downgrade(&link));
        super::watchdog::on_tick(ring_stranded);
        Ok(link)
    }

    /// Called on the JS thread when a promise is handed out: keeps the loop alive, and the
    /// watchdog ticking (for [`ring_stranded`]) until the link has settled it.
    pub(crate) fn begin_outstanding(&self, env: &Env) {
        if self.outstanding.fetch_add(1, Ordering::AcqRel) == 0 {
            if let Some(t) = self.tsfn.lock().as_ref() {
                let _ = t.set_ref(env, true);
            }
            super::watchdog::keep_ticking();
        }
    }

    /// Queues `c` from any thread. Returns `false` (and drops `c`) once the env is gone.
    pub(crate) fn push(&self, c: Completion) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        self.queue.push(c);
        // Ring on every push, not only when no ring is pending: on Bun 1.2.19 and 1.3.14 a
        // ring can be stranded until the next one (module docs). Extra rings are cheap: a
        // drain that finds the queue empty does nothing.
        let tsfn = self.tsfn.lock().clone();
        if !tsfn.is_some_and(|t| t.notify()) {
            return false;
        }
        true
    }

    /// Runs what is queued now, on the JS thread `env` belongs to (a sync call about to
    /// throw flushes its env's events this way, instead of waiting for the next ring).
    pub(crate) fn drain_now(&self, env: &Env) {
        if !self.closed.load(Ordering::Acquire) {
            self.drain(env);
        }
    }

    /// Runs every queued completion on the JS thread, each in its own handle scope.
    fn drain(&self, env: &Env) {
        let mut settled = 0usize;
        while let Some(c) = self.queue.pop() {
            settled += usize::from(c.settles_promise);
            let _ = env.scope(|env| (c.run)(env));
        }
        if settled > 0 && self.outstanding.fetch_sub(settled, Ordering::AcqRel) == settled {
            if let Some(t) = self.tsfn.lock().as_ref() {
                let _ = t.set_ref(env, false);
            }
        }
    }

    /// Whether the env is gone (its completions would be dropped).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Env teardown: no more completions run; pending ones are dropped unsettled.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some(t) = self.tsfn.lock().take() {
            t.close();
        }
        while self.queue.pop().is_some() {}
    }
}
