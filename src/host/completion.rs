//! Completions: work that a core-host thread hands back to run on a JS thread.
//!
//! Each env (main thread, each Worker) has one [`EnvLink`]: a lock-free queue plus one
//! thread-safe-function doorbell. A producer pushes and rings only if no ring is pending, so
//! a burst of 64 results costs one hop to the JS thread, which then settles the whole batch.
//! The link counts outstanding promises and keeps the event loop alive only while there are
//! some. When the env is torn down, the link is closed and later completions are dropped.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_queue::SegQueue;
use parking_lot::Mutex;

use crate::napi::{Env, Status, Tsfn};

/// Code to run on the JS thread, and whether it settles a promise counted by the link.
pub struct Completion {
    pub run: Box<dyn FnOnce(&Env) + Send>,
    pub settles_promise: bool,
}

/// Every live link, so a lost ring can be repaired (see [`ring_stranded`]).
static LINKS: Mutex<Vec<std::sync::Weak<EnvLink>>> = Mutex::new(Vec::new());

/// Rings again for every link that still has queued completions. The watchdog calls this
/// on each tick while calls are pending: if a host ever drops a ring (Bun <= 1.3 was seen
/// to), the promises behind it settle a tick later instead of never.
pub fn ring_stranded() {
    let mut links = LINKS.lock();
    links.retain(|w| w.strong_count() > 0);
    for link in links.iter().filter_map(std::sync::Weak::upgrade) {
        if !link.closed.load(Ordering::Acquire) && !link.queue.is_empty() {
            if let Some(t) = link.tsfn.lock().clone() {
                t.notify();
            }
        }
    }
}

/// The way back to one env's JS thread.
pub struct EnvLink {
    queue: SegQueue<Completion>,
    ring_pending: AtomicBool,
    outstanding: AtomicUsize,
    closed: AtomicBool,
    tsfn: parking_lot::Mutex<Option<Tsfn>>,
}

impl EnvLink {
    /// Creates the link and its doorbell on the env's JS thread.
    pub fn new(env: &Env) -> Result<Arc<EnvLink>, Status> {
        let link = Arc::new(EnvLink {
            queue: SegQueue::new(),
            ring_pending: AtomicBool::new(false),
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

    /// Called on the JS thread when a promise is handed out: keeps the loop alive.
    pub fn begin_outstanding(&self, env: &Env) {
        if self.outstanding.fetch_add(1, Ordering::AcqRel) == 0 {
            if let Some(t) = self.tsfn.lock().as_ref() {
                let _ = t.set_ref(env, true);
            }
        }
    }

    /// Queues `c` from any thread. Returns `false` (and drops `c`) once the env is gone.
    pub fn push(&self, c: Completion) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        self.queue.push(c);
        // Ring on every push, not once per batch: Bun <= 1.3 loses an occasional
        // thread-safe-function call (a lone ring lost = promises never settled; reproduced
        // by bench/tsfn-stall.cjs). Extra rings are cheap: the host coalesces them, and a
        // drain that finds the queue empty does nothing.
        self.ring_pending.store(true, Ordering::Release);
        let tsfn = self.tsfn.lock().clone();
        if !tsfn.is_some_and(|t| t.notify()) {
            return false;
        }
        true
    }

    /// Runs every queued completion on the JS thread, each in its own handle scope.
    fn drain(&self, env: &Env) {
        // Clear the flag first: a producer that pushes after this point rings again, so no
        // completion can be left behind without a ring.
        self.ring_pending.store(false, Ordering::Release);
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
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Env teardown: no more completions run; pending ones are dropped unsettled.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some(t) = self.tsfn.lock().take() {
            t.close();
        }
        while self.queue.pop().is_some() {}
    }
}
