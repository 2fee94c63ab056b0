//! The request queue feeding the core-host threads.
//!
//! JS threads submit [`Job`]s to a [`Queue`]; each core-host thread takes jobs one at a time
//! and runs them with its [`CoreThread`] token, and between jobs spins briefly for the next
//! before it parks (`CoreIdleSpinMicros`; see `host::queue`). The queue is bounded by a
//! count (a full queue refuses the job at once: backpressure, not an unbounded backlog). Closing
//! the pool makes it refuse new jobs and hand every job still queued a
//! [`Turn::Cancelled`] instead of a thread, so a shutdown rejects what has not started in
//! microseconds instead of running it; [`Pool::drain`] then waits, bounded, for the jobs
//! that had started. Stopping ends the threads, waiting a bounded time: a thread stuck
//! inside a core (a Go call that never returns) is left behind rather than waited on.
//! [`CallState`] is one call's place in that life (queued, running, done, or cancelled
//! while still queued), which is how a deadline tells a call that waited too long in the
//! queue from one that is stuck inside a core.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use parking_lot::{Condvar, Mutex};

use super::affinity::{self, Affinity, Follower};
use super::queue::{Queue, Spin};
use super::reply::catch_panic;
use super::thread::{self, CoreThread};

/// What a core-host thread gives a job: itself, or the news that the pool closed first.
pub(crate) enum Turn<'a> {
    Run(&'a CoreThread),
    Cancelled,
}

/// A unit of work for a core-host thread.
pub(crate) struct Job {
    f: Box<dyn FnOnce(Turn<'_>) + Send>,
    /// Runs even on a closing pool (the core's own shutdown).
    privileged: bool,
    /// The CPU of a caller that waits for this job (`CoreAffinity: "follow-caller"`).
    caller_cpu: Option<u32>,
}

impl Job {
    pub(crate) fn new(f: impl FnOnce(Turn<'_>) + Send + 'static) -> Job {
        Job {
            f: Box::new(f),
            privileged: false,
            caller_cpu: None,
        }
    }

    /// Marks the job as one its caller blocks on: under [`Affinity::FollowCaller`] it
    /// records the caller's CPU, which the core-host thread moves to before running it.
    pub(crate) fn caller_waits(mut self, policy: Affinity) -> Job {
        if policy == Affinity::FollowCaller {
            self.caller_cpu = affinity::caller_cpu();
        }
        self
    }

    /// Marks an async job: its caller goes back to its event loop, which under
    /// [`Affinity::FollowCaller`] is worth following only when about one call is in flight
    /// (the loop then sleeps until the completion): nothing queued and at most one job
    /// still running (the previous call's thread may not have counted itself out yet when
    /// its completion already reached JS). With more in flight the job carries no CPU, so
    /// the core-host threads spread over the CPUs.
    pub(crate) fn caller_may_wait(mut self, pool: &Pool) -> Job {
        let in_flight =
            pool.load.queued.load(Ordering::Acquire) + pool.load.running.load(Ordering::Acquire);
        if pool.affinity == Affinity::FollowCaller && in_flight <= 1 {
            self.caller_cpu = affinity::caller_cpu();
        }
        self
    }

    /// A job that a closing pool still runs: the last one, which stops the core.
    pub(crate) fn privileged(f: impl FnOnce(Turn<'_>) + Send + 'static) -> Job {
        Job {
            f: Box::new(f),
            privileged: true,
            caller_cpu: None,
        }
    }
}

/// Why a job was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The pool is closing or stopped.
    Closed,
    /// The queue holds its limit of jobs already.
    Full { limit: usize },
}

/// Default stack for core-host threads: what Node's libuv threads get, twice Bun's pool.
pub(crate) const DEFAULT_STACK_SIZE: usize = 8 << 20;
/// Default bound on queued (not yet started) jobs.
pub(crate) const DEFAULT_MAX_QUEUED: usize = 16384;

#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolConfig {
    pub threads: usize,
    pub stack_size: usize,
    pub max_queued: usize,
    /// Where core-host threads run relative to a blocked caller (`CoreAffinity`).
    pub affinity: Affinity,
    /// Longest spin of a core-host thread waiting for its next job (`CoreIdleSpinMicros`).
    pub idle_spin: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        PoolConfig {
            threads: cpus.clamp(2, 4),
            stack_size: DEFAULT_STACK_SIZE,
            max_queued: DEFAULT_MAX_QUEUED,
            affinity: Affinity::default(),
            // With one CPU a spinning core-host thread would hold the CPU its caller needs.
            idle_spin: if cpus >= 2 {
                super::queue::DEFAULT_IDLE_SPIN
            } else {
                Duration::ZERO
            },
        }
    }
}

/// Counters shared by the submitters and the threads.
struct Load {
    queued: AtomicUsize,
    running: AtomicUsize,
    closing: AtomicBool,
    idle_lock: Mutex<()>,
    idle: Condvar,
}

impl Load {
    fn is_idle(&self) -> bool {
        self.queued.load(Ordering::Acquire) == 0 && self.running.load(Ordering::Acquire) == 0
    }

    fn notify_if_idle(&self) {
        if self.is_idle() {
            let _g = self.idle_lock.lock();
            self.idle.notify_all();
        }
    }
}

/// Running core-host threads and the queue in front of them.
pub(crate) struct Pool {
    /// Closed (refusing every job) once stopped.
    queue: std::sync::Arc<Queue<Job>>,
    load: std::sync::Arc<Load>,
    max_queued: usize,
    affinity: Affinity,
    done_rx: Receiver<usize>,
    handles: Mutex<Vec<Option<JoinHandle<()>>>>,
}

impl Pool {
    pub(crate) fn start(config: PoolConfig) -> io::Result<Pool> {
        let queue = std::sync::Arc::new(Queue::<Job>::new());
        let (done_tx, done_rx) = crossbeam_channel::unbounded::<usize>();
        let load = std::sync::Arc::new(Load {
            queued: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            idle_lock: Mutex::new(()),
            idle: Condvar::new(),
        });
        let mut handles = Vec::with_capacity(config.threads);
        for i in 0..config.threads.max(1) {
            let queue = queue.clone();
            let done_tx = done_tx.clone();
            let load = load.clone();
            let follows = config.affinity == Affinity::FollowCaller;
            let handle = thread::spawn(
                format!("{}{i}", affinity::THREAD_PREFIX),
                config.stack_size,
                move |ct| {
                    let mut follower = follows.then(Follower::new);
                    // A follower runs on its caller's CPU, where a spin would hold the
                    // CPU that caller needs to send the next job.
                    let mut spin = Spin::new(if follows {
                        Duration::ZERO
                    } else {
                        config.idle_spin
                    });
                    while let Some(job) = queue.pop(&mut spin) {
                        if let Some(f) = follower.as_mut() {
                            f.follow(job.caller_cpu);
                        }
                        // Counted as running before it stops counting as queued, so that
                        // `drain` never sees an idle pool while a job changes hands.
                        load.running.fetch_add(1, Ordering::AcqRel);
                        load.queued.fetch_sub(1, Ordering::AcqRel);
                        let turn = if load.closing.load(Ordering::Acquire) && !job.privileged {
                            Turn::Cancelled
                        } else {
                            Turn::Run(ct)
                        };
                        // Core calls catch their own panics (`core::guarded`); this is for
                        // the rest of a job. One that panics anyway is given up, and the
                        // thread and the pool's accounting go on: unwinding out of here
                        // would end the thread with the job still counted as running, and
                        // every later drain and stop would wait out its deadline.
                        // (The panic hook has printed the panic.)
                        let _ = catch_panic(move || (job.f)(turn));
                        if let Some(f) = follower.as_mut() {
                            f.after_job();
                        }
                        load.running.fetch_sub(1, Ordering::AcqRel);
                        load.notify_if_idle();
                    }
                    let _ = done_tx.send(i);
                },
            )?;
            handles.push(Some(handle));
        }
        Ok(Pool {
            queue,
            load,
            max_queued: config.max_queued.max(1),
            affinity: config.affinity,
            done_rx,
            handles: Mutex::new(handles),
        })
    }

    /// Queues a job, or gives it back with the reason it was refused.
    pub(crate) fn submit(&self, job: Job) -> Result<(), (Job, Refusal)> {
        if self.load.closing.load(Ordering::Acquire) && !job.privileged {
            return Err((job, Refusal::Closed));
        }
        if self.load.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued && !job.privileged {
            self.load.queued.fetch_sub(1, Ordering::AcqRel);
            return Err((
                job,
                Refusal::Full {
                    limit: self.max_queued,
                },
            ));
        }
        self.queue.push(job).map_err(|job| {
            self.load.queued.fetch_sub(1, Ordering::AcqRel);
            (job, Refusal::Closed)
        })
    }

    /// The pool's `CoreAffinity` policy (what [`Job::caller_waits`] needs).
    pub(crate) fn affinity(&self) -> Affinity {
        self.affinity
    }

    /// Refuses new jobs from now on; jobs still queued get [`Turn::Cancelled`].
    pub(crate) fn close(&self) {
        self.load.closing.store(true, Ordering::Release);
    }

    /// Jobs started and not finished.
    pub(crate) fn running(&self) -> usize {
        self.load.running.load(Ordering::Acquire)
    }

    /// Waits until no job is queued or running, at most until `deadline`. Returns whether
    /// the pool went idle.
    pub(crate) fn drain(&self, deadline: Instant) -> bool {
        let mut g = self.load.idle_lock.lock();
        while !self.load.is_idle() {
            if self.load.idle.wait_until(&mut g, deadline).timed_out() {
                return self.load.is_idle();
            }
        }
        true
    }

    /// Closes the queue and waits up to `grace` for the threads to finish their jobs.
    /// Returns how many threads were still busy (left running, detached) at the deadline.
    pub(crate) fn stop(&self, grace: Duration) -> usize {
        self.close();
        self.queue.close();
        let mut handles = self.handles.lock();
        let done_rx = &self.done_rx;
        let deadline = Instant::now() + grace;
        let mut remaining = handles.iter().filter(|h| h.is_some()).count();
        while remaining > 0 {
            match done_rx.recv_deadline(deadline) {
                Ok(i) => {
                    if let Some(h) = handles[i].take() {
                        let _ = h.join();
                    }
                    remaining -= 1;
                }
                Err(_) => break,
            }
        }
        remaining
    }
}

impl Drop for Pool {
    /// A pool dropped without [`Pool::stop`] still ends its threads once they have taken
    /// what is queued (as the channel it replaced did when its sender went away), instead
    /// of leaving them parked for the life of the process.
    fn drop(&mut self) {
        self.queue.close();
    }
}

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const CANCELLED: u8 = 3;
const STUCK: u8 = 4;

/// One call's place in its life: queued, running, done, cancelled while still queued, or
/// marked stuck (still running after its deadline). Every transition is one atomic step,
/// so a deadline and a core-host thread can race on it safely.
pub(crate) struct CallState {
    state: AtomicU8,
    /// When the call started running, in nanoseconds since [`epoch`].
    started: AtomicU64,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Default for CallState {
    fn default() -> Self {
        epoch();
        CallState {
            state: AtomicU8::new(QUEUED),
            started: AtomicU64::new(0),
        }
    }
}

impl CallState {
    fn step(&self, from: u8, to: u8) -> bool {
        self.state
            .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Queued -> running; false if the call was cancelled first.
    pub(crate) fn try_start(&self) -> bool {
        let now = epoch().elapsed().as_nanos() as u64;
        self.started.store(now, Ordering::Release);
        self.step(QUEUED, RUNNING)
    }

    /// Queued -> cancelled; false if a thread started it first.
    pub(crate) fn try_cancel(&self) -> bool {
        self.step(QUEUED, CANCELLED)
    }

    /// Running -> stuck; false if it finished (or never started).
    pub(crate) fn mark_stuck(&self) -> bool {
        self.step(RUNNING, STUCK)
    }

    /// Running (or stuck) -> done. Returns true if it had been marked stuck.
    pub(crate) fn finish(&self) -> bool {
        self.state.swap(DONE, Ordering::AcqRel) == STUCK
    }

    /// When the call started running (if it has).
    pub(crate) fn started_at(&self) -> Option<Instant> {
        match self.state.load(Ordering::Acquire) {
            QUEUED | CANCELLED => None,
            _ => Some(epoch() + Duration::from_nanos(self.started.load(Ordering::Acquire))),
        }
    }
}

/// How many calls are stuck: still running inside the core after their deadline. Read on
/// every call (an atomic load); written under a lock, so that marking a call stuck and
/// counting it are one step to the call's return, which uncounts it only when it finds it
/// marked. The count is then exact: never below zero (when the count went up after the
/// mark, outside a lock, a call returning in between took it from 0 to `usize::MAX`, and
/// calls failed with "18446744073709551615 call(s) stuck"), and never above the calls
/// really stuck (counting first and taking it back opened a window on every check).
#[derive(Default)]
pub(crate) struct StuckCount {
    count: AtomicUsize,
    writers: Mutex<()>,
}

impl StuckCount {
    /// The calls stuck now.
    pub(crate) fn get(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Counts `call` as stuck if it is still running; true if it was.
    pub(crate) fn count_if_stuck(&self, call: &CallState) -> bool {
        self.count_if_stuck_then(call, || {})
    }

    /// [`StuckCount::count_if_stuck`], running `meanwhile` between the mark and the count,
    /// where a racing return of the call is the hardest case (tests put one there).
    fn count_if_stuck_then(&self, call: &CallState, meanwhile: impl FnOnce()) -> bool {
        let _w = self.writers.lock();
        if !call.mark_stuck() {
            return false;
        }
        meanwhile();
        self.count.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Uncounts a call whose [`CallState::finish`] said it had been marked stuck; returns
    /// how many were stuck before (at least 1).
    pub(crate) fn uncount(&self) -> usize {
        let _w = self.writers.lock();
        self.count.fetch_sub(1, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn jobs_run_on_core_threads_and_drain_waits_for_the_queue() {
        for spin in [Duration::ZERO, Duration::from_micros(100)] {
            jobs_run_and_drain(
                Pool::start(PoolConfig {
                    idle_spin: spin,
                    ..test_config(3, 1000)
                })
                .unwrap(),
            );
        }
    }

    fn jobs_run_and_drain(pool: Pool) {
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let ran = ran.clone();
            pool.submit(Job::new(move |turn| {
                assert!(matches!(turn, Turn::Run(_)));
                assert!(CoreThread::is_current());
                ran.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap_or_else(|_| panic!("pool closed"));
        }
        assert!(pool.drain(Instant::now() + Duration::from_secs(5)));
        assert_eq!(ran.load(Ordering::SeqCst), 100);
        assert_eq!(pool.stop(Duration::from_secs(5)), 0);
    }

    /// The watchdog marking a call stuck races the call's return. Wherever the return lands,
    /// before the marking, between the mark and the count, or after, the count ends at zero,
    /// is never taken below it (it was, with the count raised after the mark and no lock),
    /// and counts nothing for a call that had returned.
    #[test]
    fn a_stuck_count_stays_exact_whenever_the_call_returns() {
        fn returns(call: &CallState, count: &StuckCount) {
            if call.finish() {
                let before = count.uncount();
                assert!(before >= 1, "a return took the stuck count below zero");
            }
        }
        let running = || {
            let call = Arc::new(CallState::default());
            assert!(call.try_start());
            call
        };
        let count = Arc::new(StuckCount::default());
        // Returned before the watchdog looked: not stuck, never counted.
        let call = running();
        returns(&call, &count);
        assert!(!count.count_if_stuck(&call));
        assert_eq!(count.get(), 0);
        // Returned between the mark and the count, on its own thread: its uncount waits.
        let call = running();
        let mut returning = None;
        assert!(count.count_if_stuck_then(&call, || {
            let (call, count) = (call.clone(), count.clone());
            returning = Some(std::thread::spawn(move || returns(&call, &count)));
            std::thread::sleep(Duration::from_millis(50));
        }));
        returning.unwrap().join().expect("the return's uncount");
        assert_eq!(count.get(), 0);
        // Still running: stuck until it returns.
        let call = running();
        assert!(count.count_if_stuck(&call));
        assert_eq!(count.get(), 1);
        returns(&call, &count);
        assert_eq!(count.get(), 0);
    }

    #[test]
    fn a_job_that_panics_leaves_the_thread_and_the_accounting_working() {
        let pool = test_pool(1, 10);
        pool.submit(Job::new(|_| panic!("a job's own bug")))
            .unwrap_or_else(|_| panic!("pool closed"));
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        pool.submit(Job::new(move |turn| {
            assert!(matches!(turn, Turn::Run(_)));
            tx.send(()).unwrap();
        }))
        .unwrap_or_else(|_| panic!("pool closed"));
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the job after the panic ran");
        assert!(pool.drain(Instant::now() + Duration::from_secs(5)));
        assert_eq!(pool.stop(Duration::from_secs(5)), 0);
    }

    #[test]
    fn a_dropped_pool_ends_its_threads() {
        let pool = Pool::start(PoolConfig {
            idle_spin: Duration::from_micros(100),
            ..test_config(2, 10)
        })
        .unwrap();
        let (tid_tx, tid_rx) = crossbeam_channel::unbounded::<i32>();
        let both = Arc::new(std::sync::Barrier::new(2));
        for _ in 0..2 {
            let (tid_tx, both) = (tid_tx.clone(), both.clone());
            pool.submit(Job::new(move |_| {
                // SAFETY: gettid takes no arguments and only reads the calling thread's id.
                tid_tx.send(unsafe { libc::gettid() }).unwrap();
                both.wait();
            }))
            .unwrap_or_else(|_| panic!("pool closed"));
        }
        let tids: Vec<i32> = (0..2)
            .map(|_| tid_rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        assert!(pool.drain(Instant::now() + Duration::from_secs(5)));
        let alive = || {
            tids.iter()
                .filter(|t| std::path::Path::new(&format!("/proc/self/task/{t}")).exists())
                .count()
        };
        assert_eq!(alive(), 2);
        drop(pool);
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive() > 0 {
            assert!(
                Instant::now() < deadline,
                "a dropped pool left its threads running"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_stuck_thread_does_not_block_stop() {
        let pool = test_pool(1, 10);
        let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(1);
        pool.submit(Job::new(move |_| {
            let _ = release_rx.recv();
        }))
        .unwrap_or_else(|_| panic!("pool closed"));
        let t = Instant::now();
        assert_eq!(pool.stop(Duration::from_millis(100)), 1);
        assert!(t.elapsed() < Duration::from_secs(2));
        release_tx.send(()).unwrap();
    }

    /// A pool of `threads` core-host threads with 1 MiB stacks, no affinity, no idle spin.
    fn test_pool(threads: usize, max_queued: usize) -> Pool {
        Pool::start(test_config(threads, max_queued)).unwrap()
    }

    fn test_config(threads: usize, max_queued: usize) -> PoolConfig {
        PoolConfig {
            threads,
            stack_size: 1 << 20,
            affinity: Affinity::None,
            max_queued,
            idle_spin: Duration::ZERO,
        }
    }

    /// A pool whose only thread is blocked until the returned sender is dropped or sent to.
    fn blocked_pool(max_queued: usize) -> (Pool, crossbeam_channel::Sender<()>) {
        let pool = test_pool(1, max_queued);
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        let (started_tx, started_rx) = crossbeam_channel::bounded::<()>(1);
        pool.submit(Job::new(move |_| {
            started_tx.send(()).unwrap();
            let _ = rx.recv_timeout(Duration::from_secs(10));
        }))
        .unwrap_or_else(|_| panic!("pool closed"));
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        (pool, tx)
    }

    #[test]
    fn a_full_queue_refuses_with_its_limit() {
        let (pool, release) = blocked_pool(3);
        for _ in 0..3 {
            assert!(pool.submit(Job::new(|_| {})).is_ok());
        }
        match pool.submit(Job::new(|_| {})) {
            Err((_, Refusal::Full { limit })) => assert_eq!(limit, 3),
            _ => panic!("a fourth queued job must be refused"),
        }
        release.send(()).unwrap();
        assert!(pool.drain(Instant::now() + Duration::from_secs(5)));
        assert!(
            pool.submit(Job::new(|_| {})).is_ok(),
            "room again once drained"
        );
        assert_eq!(pool.stop(Duration::from_secs(5)), 0);
    }

    #[test]
    fn closing_cancels_queued_jobs_but_runs_privileged_ones() {
        let (pool, release) = blocked_pool(100);
        let (out_tx, out_rx) = crossbeam_channel::unbounded::<&str>();
        for _ in 0..50 {
            let out = out_tx.clone();
            pool.submit(Job::new(move |turn| {
                out.send(match turn {
                    Turn::Run(_) => "ran",
                    Turn::Cancelled => "cancelled",
                })
                .unwrap();
            }))
            .unwrap_or_else(|_| panic!("pool closed"));
        }
        pool.close();
        assert!(matches!(
            pool.submit(Job::new(|_| {})),
            Err((_, Refusal::Closed))
        ));
        let out = out_tx.clone();
        pool.submit(Job::privileged(move |turn| {
            out.send(if matches!(turn, Turn::Run(_)) {
                "final"
            } else {
                "lost"
            })
            .unwrap();
        }))
        .unwrap_or_else(|_| panic!("a privileged job is accepted while closing"));
        release.send(()).unwrap();
        assert!(pool.drain(Instant::now() + Duration::from_secs(5)));
        let got: Vec<_> = out_rx.try_iter().collect();
        assert_eq!(got.len(), 51);
        assert!(got[..50].iter().all(|s| *s == "cancelled"), "{got:?}");
        assert_eq!(got[50], "final");
        assert_eq!(pool.stop(Duration::from_secs(5)), 0);
    }

    #[test]
    fn call_state_lets_exactly_one_side_win() {
        let c = CallState::default();
        assert!(c.started_at().is_none());
        assert!(c.try_cancel());
        assert!(!c.try_start(), "a cancelled call never starts");
        let c = CallState::default();
        assert!(c.try_start());
        assert!(!c.try_cancel(), "a started call cannot be cancelled");
        assert!(c.started_at().is_some());
        assert!(c.mark_stuck());
        assert!(c.finish(), "finishing reports the stuck mark");
        assert!(!c.mark_stuck());
    }
}
