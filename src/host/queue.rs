//! The queue between the threads that submit calls and the core-host threads that run them:
//! a FIFO under one lock in which the thread that just finished a job may wait for the next
//! one by spinning for a short time before it parks ([`Spin`]), and a submit wakes a parked
//! thread only when no spinning thread is there to take its job.
//!
//! Why: back-to-back calls (a loop of sync calls, or async calls one at a time) hand each
//! job to a thread that parked moments ago, and waking a parked thread is the largest part
//! of the hand-off. On the 2-vCPU KVM box of docs/performance.md a parked round trip costs
//! ~30 µs against ~0.2 µs spinning, and a Go decrypt itself takes ~27 µs. The queue this
//! replaces (a `crossbeam` channel) woke a parked receiver on every send, even when the
//! thread that had just replied took the job; that spurious wake cost more than the spin
//! saved (round six; round twenty-three measured both). The spin is bounded and adaptive
//! ([`Spin`]): a process whose calls come rarely spins after four of them at most, for at
//! most the budget each, and not again until calls come close together; and no thread spins
//! on a single-CPU machine, where the caller needs that CPU.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// The default longest spin of an idle core-host thread (`CoreIdleSpinMicros`), chosen by
/// measurement: docs/performance.md, "Round twenty-three".
pub(crate) const DEFAULT_IDLE_SPIN: Duration = Duration::from_micros(100);

/// One idle thread's spin budget. After a wait shorter than `max` (calls are coming close
/// together) it is the full `max`; after a longer wait it halves, and once below an eighth
/// of `max` it is none, until a wait is short again. So a steady stream of calls keeps its
/// spin through the odd long gap (a GC pause in the caller), while calls that come rarely,
/// or at a steady pace slower than the spin, stop it after four waits.
///
/// Measured and not kept: no spin after any wait of `max` or more (it cost the Go core's
/// 64 B encrypt its whole gain: 1.42-1.81x the direct call against 1.15-1.18x), and stopping
/// the spin for a while after spins that were preempted (no better than the rule without
/// it). docs/performance.md, "Round twenty-three".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spin {
    max: Duration,
    budget: Duration,
}

impl Spin {
    pub(crate) fn new(max: Duration) -> Spin {
        Spin { max, budget: max }
    }

    /// How long the next idle wait may spin before it parks.
    pub(crate) fn budget(&self) -> Duration {
        self.budget
    }

    /// After a wait of `waited` (spinning, parked, or both) for a job.
    fn after_wait(&mut self, waited: Duration) {
        self.budget = if waited < self.max {
            self.max
        } else {
            let half = self.budget / 2;
            if half < self.max / 8 {
                Duration::ZERO
            } else {
                half
            }
        };
    }
}

struct State<T> {
    jobs: VecDeque<T>,
    /// Threads spinning for a job (at most one).
    spinners: usize,
    /// Threads parked on `wake` (or about to be: counted before the wait, uncounted after).
    sleepers: usize,
}

/// A FIFO of jobs for a set of threads; see the module comment.
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
    /// Jobs in the queue, written under the lock and polled without it by a spinning thread.
    len: AtomicUsize,
    /// Set once, under the lock (so a thread that checks it under the lock before parking
    /// cannot miss the close's wake), and polled without it by a spinning thread.
    closed: AtomicBool,
    /// How many times a thread has parked (what the tests look at).
    #[cfg(test)]
    parks: AtomicUsize,
}

impl<T> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                spinners: 0,
                sleepers: 0,
            }),
            wake: Condvar::new(),
            len: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            #[cfg(test)]
            parks: AtomicUsize::new(0),
        }
    }

    /// Adds a job, or gives it back if the queue is closed.
    pub(crate) fn push(&self, job: T) -> Result<(), T> {
        let mut st = self.state.lock();
        if self.is_closed() {
            return Err(job);
        }
        st.jobs.push_back(job);
        self.len.store(st.jobs.len(), Ordering::Release);
        // A spinning thread takes one job without being woken; a job beyond what the
        // spinners will take needs a parked thread. (Counts can run high for a moment, a
        // woken thread uncounting itself only once it has the lock again: that wakes one
        // thread too many, never one too few.)
        if st.sleepers > 0 && st.jobs.len() > st.spinners {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// The next job, waiting for one as long as it takes: first by spinning (if `spin` has
    /// a budget and no other thread spins), then parked. `None` once the queue is closed
    /// and empty.
    pub(crate) fn pop(&self, spin: &mut Spin) -> Option<T> {
        let mut st = self.state.lock();
        if let Some(job) = self.take(&mut st) {
            spin.after_wait(Duration::ZERO);
            return Some(job);
        }
        let idle_since = Instant::now();
        let budget = spin.budget();
        if !budget.is_zero() && st.spinners == 0 && !self.is_closed() {
            st.spinners += 1;
            drop(st);
            self.spin_until(idle_since + budget);
            st = self.state.lock();
            st.spinners -= 1;
        }
        loop {
            if let Some(job) = self.take(&mut st) {
                spin.after_wait(idle_since.elapsed());
                return Some(job);
            }
            if self.is_closed() {
                return None;
            }
            st.sleepers += 1;
            #[cfg(test)]
            self.parks.fetch_add(1, Ordering::SeqCst);
            self.wake.wait(&mut st);
            st.sleepers -= 1;
        }
    }

    fn take(&self, st: &mut State<T>) -> Option<T> {
        let job = st.jobs.pop_front()?;
        self.len.store(st.jobs.len(), Ordering::Release);
        Some(job)
    }

    /// Polls for a job (or the close) until `until`.
    fn spin_until(&self, until: Instant) {
        loop {
            if self.len.load(Ordering::Acquire) > 0 || self.is_closed() {
                return;
            }
            for _ in 0..32 {
                std::hint::spin_loop();
            }
            if Instant::now() >= until {
                return;
            }
        }
    }

    /// Refuses new jobs; threads take what is queued, then [`Queue::pop`] returns `None`.
    pub(crate) fn close(&self) {
        let _st = self.state.lock();
        self.closed.store(true, Ordering::Release);
        self.wake.notify_all();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_spin_budget_follows_the_waits() {
        let max = Duration::from_micros(64);
        let long = Duration::from_secs(1);
        let mut s = Spin::new(max);
        assert_eq!(s.budget(), max);
        s.after_wait(long);
        assert_eq!(s.budget(), max / 2, "one long wait halves it");
        s.after_wait(Duration::from_micros(3));
        assert_eq!(s.budget(), max, "a short wait brings it back");
        for expected in [max / 2, max / 4, max / 8, Duration::ZERO, Duration::ZERO] {
            s.after_wait(long);
            assert_eq!(s.budget(), expected);
        }
        s.after_wait(max - Duration::from_nanos(1));
        assert_eq!(s.budget(), max, "calls close together again");
        let mut off = Spin::new(Duration::ZERO);
        off.after_wait(Duration::ZERO);
        assert_eq!(off.budget(), Duration::ZERO, "zero turns the spin off");
    }

    /// Every job pushed is taken exactly once, by threads that spin, park, or both, with
    /// pushes in bursts and in trickles, and close ends every thread after the queue is
    /// empty. A lost wake shows as a job never taken (the test's deadline).
    #[test]
    fn every_job_is_taken_once_and_close_ends_the_takers() {
        for (threads, spin_us) in [(1, 0), (1, 50), (2, 0), (2, 50), (4, 5), (4, 200)] {
            let q = Arc::new(Queue::<usize>::new());
            let taken = Arc::new(Mutex::new(Vec::new()));
            let takers: Vec<_> = (0..threads)
                .map(|_| {
                    let (q, taken) = (q.clone(), taken.clone());
                    std::thread::spawn(move || {
                        let mut spin = Spin::new(Duration::from_micros(spin_us));
                        while let Some(j) = q.pop(&mut spin) {
                            taken.lock().push(j);
                        }
                    })
                })
                .collect();
            let n = 20_000;
            for i in 0..n {
                q.push(i).unwrap();
                match i % 1000 {
                    0 => std::thread::sleep(Duration::from_millis(2)),
                    x if x % 97 == 0 => std::thread::sleep(Duration::from_micros(30)),
                    _ => {}
                }
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while taken.lock().len() < n {
                assert!(
                    Instant::now() < deadline,
                    "{threads} threads, spin {spin_us} µs: only {} of {n} jobs taken",
                    taken.lock().len()
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            q.close();
            assert!(q.push(n).is_err(), "a closed queue refuses");
            for t in takers {
                t.join().unwrap();
            }
            let mut got = taken.lock().clone();
            got.sort_unstable();
            assert!(
                got.iter().copied().eq(0..n),
                "{threads} threads: jobs lost or doubled"
            );
        }
    }

    /// A thread that spins takes a job without being woken, and its neighbour stays parked.
    /// (With the old channel every call woke a parked thread as well.)
    #[test]
    fn a_spinning_thread_takes_the_job_and_nobody_is_woken() {
        let q = Arc::new(Queue::<u32>::new());
        let wakes = Arc::new(AtomicUsize::new(0));
        let takers: Vec<_> = (0..2)
            .map(|_| {
                let (q, wakes) = (q.clone(), wakes.clone());
                std::thread::spawn(move || {
                    let mut spin = Spin::new(Duration::from_millis(200));
                    while q.pop(&mut spin).is_some() {
                        wakes.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        // Both threads are waiting (one of them spinning) once the first job is taken.
        q.push(0).unwrap();
        while wakes.load(Ordering::SeqCst) < 1 {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(20));
        let (spinners, sleepers) = {
            let st = q.state.lock();
            (st.spinners, st.sleepers)
        };
        assert_eq!((spinners, sleepers), (1, 1), "one spins, one is parked");
        let parks = q.parks.load(Ordering::SeqCst);
        for i in 1..=20 {
            q.push(i).unwrap();
            while wakes.load(Ordering::SeqCst) < 1 + i as usize {
                std::thread::yield_now();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            q.parks.load(Ordering::SeqCst),
            parks,
            "20 jobs taken by the spinning thread, and the parked one never woke"
        );
        q.close();
        for t in takers {
            t.join().unwrap();
        }
    }
}
