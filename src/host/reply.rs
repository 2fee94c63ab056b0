//! Waiting for a core-host thread: a one-shot [`ReplySlot`], the blocking call built on it
//! ([`call_blocking`]), a one-way [`Done`] flag, and [`catch_panic`] for jobs.
//!
//! A caller (a JS thread for sync calls, a helper thread for `setup_async`) submits a job
//! and waits for its reply at most until a deadline. The reply comes back through a slot
//! and an unpark of the waiting thread, not a per-call channel. Spinning before parking was
//! measured: a fixed spin helps the native core but slows the Go core 1.5-1.7x on two cores
//! (it competes with Go's own threads), and a bounded adaptive one (issue 15) was no clear
//! win, so the caller parks at once. Under `CoreAffinity: "follow-caller"`
//! ([`call_blocking_near`]) the core-host thread moves to the waiting caller's CPU first. What a missed deadline
//! means (cancelled while queued, or running too long) is the caller's business: this
//! module only reports that no reply came.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::affinity::Affinity;
use super::pool::{Job, Pool, Refusal, Turn};
use crate::napi::panic_message;

/// A one-shot reply: filled once by a core-host thread, taken by the thread that created it.
pub(crate) struct ReplySlot<T> {
    done: AtomicBool,
    value: Mutex<Option<T>>,
    waiter: std::thread::Thread,
}

impl<T> ReplySlot<T> {
    /// A slot whose filler wakes the calling thread.
    pub(crate) fn new() -> Self {
        ReplySlot {
            done: AtomicBool::new(false),
            value: Mutex::new(None),
            waiter: std::thread::current(),
        }
    }

    /// Stores the reply and wakes the waiter.
    pub(crate) fn fill(&self, v: T) {
        *self.value.lock() = Some(v);
        self.done.store(true, Ordering::Release);
        self.waiter.unpark();
    }

    /// The reply, or `None` at the deadline.
    pub(crate) fn wait(&self, deadline: Instant) -> Option<T> {
        // park_timeout may return early (spuriously, or on a token left by an earlier
        // call's unpark): the flag, not the wake-up, says whether the reply is there.
        while !self.done.load(Ordering::Acquire) {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::park_timeout(deadline - now);
        }
        self.value.lock().take()
    }

    /// The reply if it has arrived.
    pub(crate) fn try_take(&self) -> Option<T> {
        if self.done.load(Ordering::Acquire) {
            self.value.lock().take()
        } else {
            None
        }
    }
}

impl<T> Default for ReplySlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Why [`call_blocking`] returned without a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoReply {
    /// The pool refused the job; it was never queued.
    Refused(Refusal),
    /// The deadline passed with no reply (the job may still be queued or running).
    Deadline,
}

/// Submits a job to `pool` and waits for its reply until `deadline`. The job carries no
/// CPU to follow (see [`call_blocking_near`]): lifecycle steps such as a Go runtime's
/// start create threads, which must not inherit a narrowed mask.
///
/// `on_turn` runs once on the pool's side, with [`Turn::Run`] on a core-host thread or
/// [`Turn::Cancelled`] if the pool closed first; its `Some` is the reply, `None` sends none
/// (the caller has been answered some other way). A reply that lands just after the
/// deadline is still taken.
pub(crate) fn call_blocking<T: Send + 'static>(
    pool: &Pool,
    deadline: Instant,
    on_turn: impl FnOnce(Turn<'_>) -> Option<T> + Send + 'static,
) -> Result<T, NoReply> {
    call_blocking_with(pool, deadline, Affinity::None, on_turn)
}

/// [`call_blocking`] for a call (encrypt, decrypt): under `CoreAffinity: "follow-caller"`
/// the core-host thread moves to the caller's CPU first (`host::affinity`).
pub(crate) fn call_blocking_near<T: Send + 'static>(
    pool: &Pool,
    deadline: Instant,
    on_turn: impl FnOnce(Turn<'_>) -> Option<T> + Send + 'static,
) -> Result<T, NoReply> {
    call_blocking_with(pool, deadline, pool.affinity(), on_turn)
}

fn call_blocking_with<T: Send + 'static>(
    pool: &Pool,
    deadline: Instant,
    policy: Affinity,
    on_turn: impl FnOnce(Turn<'_>) -> Option<T> + Send + 'static,
) -> Result<T, NoReply> {
    let slot = Arc::new(ReplySlot::<T>::new());
    let job_slot = slot.clone();
    let job = Job::new(move |turn| {
        if let Some(out) = on_turn(turn) {
            job_slot.fill(out);
        }
    })
    .caller_waits(policy);
    pool.submit(job).map_err(|(_, why)| NoReply::Refused(why))?;
    slot.wait(deadline)
        .or_else(|| slot.try_take())
        .ok_or(NoReply::Deadline)
}

/// A one-way flag that threads can wait for (the end of a shutdown).
pub(crate) struct Done {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Done {
    /// A flag not yet set.
    pub(crate) fn new() -> Arc<Done> {
        Arc::new(Done {
            set: Mutex::new(false),
            cv: Condvar::new(),
        })
    }

    /// Sets the flag and wakes every waiter.
    pub(crate) fn set(&self) {
        *self.set.lock() = true;
        self.cv.notify_all();
    }

    /// Waits until set or `deadline`; returns whether it was set.
    pub(crate) fn wait_until(&self, deadline: Instant) -> bool {
        let mut set = self.set.lock();
        while !*set {
            if self.cv.wait_until(&mut set, deadline).timed_out() {
                return *set;
            }
        }
        true
    }
}

/// Runs `f`, turning a panic into its message: a core-host thread must survive its jobs.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(p.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{CoreThread, PoolConfig};
    use std::time::Duration;

    fn pool() -> Pool {
        Pool::start(PoolConfig {
            threads: 1,
            stack_size: 1 << 20,
            affinity: crate::host::Affinity::None,
            max_queued: 4,
            idle_spin: Duration::ZERO,
        })
        .unwrap()
    }

    #[test]
    fn a_reply_comes_from_a_core_host_thread() {
        let pool = pool();
        let far = Instant::now() + Duration::from_secs(30);
        let out = call_blocking(&pool, far, |turn| match turn {
            Turn::Run(_) => Some(CoreThread::is_current()),
            Turn::Cancelled => None,
        });
        assert_eq!(out, Ok(true));
        // A job that sends no reply is reported at the deadline, not waited for.
        let soon = Instant::now() + Duration::from_millis(50);
        assert_eq!(
            call_blocking(&pool, soon, |_| None::<()>),
            Err(NoReply::Deadline)
        );
        pool.stop(Duration::from_secs(5));
    }

    #[test]
    fn a_closed_pool_refuses_and_a_missed_deadline_says_so() {
        let pool = pool();
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        // Occupy the only thread until released, so the next call cannot start in time.
        let far = Instant::now() + Duration::from_secs(30);
        pool.submit(Job::new(move |_| {
            let _ = blocked.recv_timeout(Duration::from_secs(30));
        }))
        .unwrap_or_else(|_| panic!("pool closed"));
        let soon = Instant::now() + Duration::from_millis(50);
        assert_eq!(
            call_blocking(&pool, soon, |_| Some(1)),
            Err(NoReply::Deadline)
        );
        release.send(()).unwrap();
        assert!(pool.drain(far));
        pool.close();
        assert_eq!(
            call_blocking(&pool, far, |_| Some(1)),
            Err(NoReply::Refused(Refusal::Closed))
        );
        pool.stop(Duration::from_secs(5));
    }

    #[test]
    fn catch_panic_keeps_the_message() {
        assert_eq!(catch_panic(|| 7), Ok(7));
        let what = catch_panic(|| -> u8 { panic!("boom {}", 1) });
        assert_eq!(what, Err("boom 1".to_string()));
    }
}
