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
//! saved (round six; round twenty-three measured both). The spin is bounded and adaptive:
//! a thread spins only when its last wait for a job was shorter than the spin, so a process
//! whose calls come rarely spins once after a call, for at most the budget, and not again
//! until two calls come close together; and never on a single-CPU machine, where the
//! caller needs that CPU.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// The default longest spin of an idle core-host thread (`CoreIdleSpinMicros`), chosen by
/// measurement: docs/performance.md, "Round twenty-three".
pub(crate) const DEFAULT_IDLE_SPIN: Duration = Duration::from_micros(100);

/// One idle thread's spin budget: the full `max` when its last wait for a job was shorter
/// than `max` (calls are coming close together, so a spin would have caught the job), none
/// otherwise. A thread whose calls come rarely thus spins once, for at most `max`, and not
/// again until two calls come close together; a thread kept busy by a steady stream never
/// has a long wait, and spins for every job.
///
/// Spins during which the thread was preempted (its involuntary context switches rose)
/// mean other threads want the CPU: spinning then takes time from them, the caller among
/// them. After [`BUSY_STREAK`] such spins in a row the thread stops spinning for
/// [`BUSY_BACKOFF`]. (A single preemption is no sign: a runtime's own helper threads, GC
/// among them, preempt a spin now and then on an idle machine too.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spin {
    max: Duration,
    budget: Duration,
    /// No spin before this instant (set after a streak of preempted spins).
    calm_from: Option<Instant>,
    /// Preempted spins in a row.
    streak: u32,
    /// Whether a preempted spin backs off (always, but in tests that need a steady spin).
    backs_off: bool,
}

/// How long a thread whose spins were preempted parks at once instead.
pub(crate) const BUSY_BACKOFF: Duration = Duration::from_millis(50);
/// Preempted spins in a row that make a thread back off.
pub(crate) const BUSY_STREAK: u32 = 3;

impl Spin {
    pub(crate) fn new(max: Duration) -> Spin {
        Spin {
            max,
            budget: max,
            calm_from: None,
            streak: 0,
            backs_off: true,
        }
    }

    /// A spin that ignores preemption (for tests on a machine busy with other tests).
    #[cfg(test)]
    fn steady(max: Duration) -> Spin {
        Spin {
            backs_off: false,
            ..Spin::new(max)
        }
    }

    /// How long the next idle wait may spin before it parks.
    pub(crate) fn budget(&self) -> Duration {
        match self.calm_from {
            Some(t) if Instant::now() < t => Duration::ZERO,
            _ => self.budget,
        }
    }

    /// After a spin; `preempted` if the thread was preempted during it.
    fn after_spin(&mut self, preempted: bool, now: Instant) {
        if !preempted {
            self.streak = 0;
            return;
        }
        self.streak += 1;
        if self.streak >= BUSY_STREAK && self.backs_off {
            self.streak = 0;
            self.calm_from = Some(now + BUSY_BACKOFF);
        }
    }

    /// After a wait of `waited` (spinning, parked, or both) for a job.
    fn after_wait(&mut self, waited: Duration) {
        self.budget = if waited < self.max {
            self.max
        } else {
            Duration::ZERO
        };
    }
}

struct State<T> {
    jobs: VecDeque<T>,
    /// Threads spinning for a job (at most one).
    spinners: usize,
    /// Threads parked on `wake` (or about to be: counted before the wait, uncounted after).
    sleepers: usize,
    closed: bool,
}

/// A FIFO of jobs for a set of threads; see the module comment.
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
    /// Jobs in the queue, written under the lock and polled without it by a spinning thread.
    len: AtomicUsize,
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
                closed: false,
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
        if st.closed {
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
        if !budget.is_zero() && st.spinners == 0 && !st.closed {
            st.spinners += 1;
            drop(st);
            let before = involuntary_switches();
            self.spin_until(idle_since + budget);
            spin.after_spin(involuntary_switches() > before, Instant::now());
            st = self.state.lock();
            st.spinners -= 1;
        }
        loop {
            if let Some(job) = self.take(&mut st) {
                spin.after_wait(idle_since.elapsed());
                return Some(job);
            }
            if st.closed {
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
            if self.len.load(Ordering::Acquire) > 0 || self.closed.load(Ordering::Acquire) {
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
        let mut st = self.state.lock();
        st.closed = true;
        self.closed.store(true, Ordering::Release);
        self.wake.notify_all();
    }
}

/// The calling thread's involuntary context switches so far (0 if unreadable).
fn involuntary_switches() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable `rusage`; RUSAGE_THREAD reads the calling thread's
    // counters and only writes into it. On failure it stays zeroed.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    // SAFETY: zero-initialized, and filled in by a successful getrusage.
    unsafe { usage.assume_init() }.ru_nivcsw
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_thread_spins_only_after_a_short_wait() {
        let max = Duration::from_micros(64);
        let mut s = Spin::new(max);
        assert_eq!(s.budget(), max);
        s.after_wait(max);
        assert_eq!(
            s.budget(),
            Duration::ZERO,
            "a wait the spin could not cover"
        );
        s.after_wait(Duration::from_secs(1));
        assert_eq!(s.budget(), Duration::ZERO);
        s.after_wait(max - Duration::from_nanos(1));
        assert_eq!(s.budget(), max, "calls close together again");
        let mut off = Spin::new(Duration::ZERO);
        off.after_wait(Duration::ZERO);
        assert_eq!(off.budget(), Duration::ZERO, "zero turns the spin off");
        let now = Instant::now();
        s.after_spin(true, now);
        s.after_spin(true, now);
        s.after_spin(false, now);
        s.after_spin(true, now);
        s.after_spin(true, now);
        assert_eq!(s.budget(), max, "preempted now and then: it still spins");
        s.after_spin(true, now);
        assert_eq!(s.budget(), Duration::ZERO, "three in a row: it backs off");
        let mut s = Spin::new(max);
        for _ in 0..BUSY_STREAK {
            s.after_spin(true, Instant::now() - BUSY_BACKOFF);
        }
        assert_eq!(s.budget(), max, "and spins again after the back-off");
    }

    #[test]
    fn involuntary_switches_count_this_thread() {
        let before = involuntary_switches();
        assert!(before >= 0);
        // Two threads busy on one CPU preempt each other.
        // SAFETY: sched_getcpu takes no arguments and only reads the calling thread's CPU.
        let cpu = unsafe { libc::sched_getcpu() };
        let pin = move || {
            // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it, and
            // sched_setaffinity(0) reads it for the calling thread only.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu.max(0) as usize, &mut set);
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            }
        };
        let spin = |until: Instant| while Instant::now() < until {};
        let until = Instant::now() + Duration::from_millis(300);
        let other = std::thread::spawn(move || {
            pin();
            spin(until);
        });
        let mine = std::thread::spawn(move || {
            pin();
            let before = involuntary_switches();
            spin(until);
            involuntary_switches() - before
        });
        other.join().unwrap();
        assert!(
            mine.join().unwrap() > 0,
            "no preemption counted on a shared CPU"
        );
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
                    let mut spin = Spin::steady(Duration::from_millis(200));
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
