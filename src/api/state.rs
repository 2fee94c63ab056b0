//! The process-wide Asherah instance: one core, its core-host threads, and its lifecycle.
//!
//! libasherah is a process-wide singleton, so this shim is too (as asherah-node was): every
//! env (main thread, Workers) shares the instance that `setup` created. The phases:
//!
//! - `Idle -> Starting -> Ready -> Stopping -> Idle`. `Stopping` lasts until the core has
//!   finished its own shutdown: a `setup` arriving meanwhile waits for it (bounded), calls
//!   get `ERR_ASHERAH_SHUTTING_DOWN`, and calls still queued are rejected at once rather
//!   than run.
//! - A setup that misses its deadline leaves `Starting` for `SetupTimedOut`; when it
//!   finishes anyway, what it built is undone and the phase returns to `Idle` by itself.
//! - A `Ready` instance is unusable only while a call is *stuck*: running inside the core
//!   for longer than `TimeoutMs`. Calls that merely waited too long in the queue fail
//!   with `ERR_ASHERAH_QUEUE_TIMEOUT` and harm nothing; when every stuck call has
//!   returned, the instance is usable again.
//!
//! Sync calls wait for their reply at most `TimeoutMs`; async calls race their completion
//! against the watchdog (see `dispatch`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use parking_lot::Mutex;

use super::build::build_core;
use super::config::ShimConfig;
use super::log::{self, Level};
use crate::core::{go, guarded, Core, CoreError, CoreKind};
use crate::host::{
    call_blocking, CallState, CoreThread, Done, Job, NoReply, Pool, ReplySlot, StuckCount, Turn,
};

/// A running instance.
pub(crate) struct Running {
    pub core: Arc<dyn Core>,
    pub pool: Arc<Pool>,
    pub config: Arc<ShimConfig>,
    pub owner_env: u64,
    attempt: u64,
    /// Calls running inside the core for longer than `TimeoutMs` (see [`Running::stuck`]).
    stuck: StuckCount,
}

impl Running {
    /// How many calls are stuck inside the core right now.
    pub(crate) fn stuck(&self) -> usize {
        self.stuck.get()
    }

    /// Counts `call` as stuck if it is still running (see [`StuckCount`]), and says so in
    /// the log.
    pub(super) fn count_if_stuck(&self, call: &CallState, phase: &str) {
        if !self.stuck.count_if_stuck(call) {
            return;
        }
        log::emit(
            Level::Error,
            format!(
                "a call ({phase}) has been running inside the core for more than {} ms: new calls \
                 fail with ERR_ASHERAH_CORE_UNUSABLE until it returns or shutdown() is called",
                self.config.timeout.as_millis()
            ),
        );
    }

    pub(super) fn unstick(&self) {
        if self.stuck.uncount() == 1 {
            log::emit(
                Level::Warn,
                "the stuck call returned: the instance is usable again".into(),
            );
        }
    }
}

enum Phase {
    Idle,
    Starting {
        attempt: u64,
        pool: Arc<Pool>,
        owner: u64,
    },
    Ready(Arc<Running>),
    SetupTimedOut {
        attempt: u64,
        pool: Arc<Pool>,
        owner: u64,
        millis: u64,
        phase: &'static str,
    },
    Stopping {
        done: Arc<Done>,
    },
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Idle);
/// The instance of `Phase::Ready`, mirrored for the call path ([`with_running`]): set and
/// cleared only under the `PHASE` lock, together with the phase. A call reads it with no
/// lock and no reference count taken: with calls arriving from several threads (Workers,
/// core-host threads), the phase mutex and the instance's count were cache lines every
/// call wrote.
static READY: ArcSwapOption<Running> = ArcSwapOption::const_empty();
static ATTEMPT: AtomicU64 = AtomicU64::new(1);

/// How long `shutdown` waits for core-host threads to end once the core has stopped.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Whether `setup` has succeeded and no shutdown has begun since.
pub(crate) fn is_ready() -> bool {
    READY.load().is_some()
}

/// The id of the running instance (its setup attempt), if one is ready: lets a 4.x
/// `SessionFactory` tell its own instance from one set up after it was shut down.
pub(crate) fn instance_id() -> Option<u64> {
    READY.load().as_ref().map(|r| r.attempt)
}

/// Runs `f` with the running instance (see [`running`] for when there is none, or it is
/// unusable). The hot path of every call: no lock and no reference count, unless the
/// instance is not ready, when [`running`] says why.
pub(crate) fn with_running<R>(f: impl FnOnce(&Arc<Running>) -> R) -> Result<R, CoreError> {
    let ready = READY.load();
    match &*ready {
        Some(r) if r.stuck() == 0 => Ok(f(r)),
        _ => {
            drop(ready);
            running().map(|r| f(&r))
        }
    }
}

/// The running instance, or why there is none (or why it is unusable).
pub(crate) fn running() -> Result<Arc<Running>, CoreError> {
    match &*PHASE.lock() {
        Phase::Ready(r) => match r.stuck() {
            0 => Ok(r.clone()),
            n => Err(CoreError::Unusable(format!(
                "{n} call(s) have been running inside the core for more than TimeoutMs ({} ms); \
                 calls fail until they return (the instance then recovers by itself) or \
                 shutdown() is called",
                r.config.timeout.as_millis()
            ))),
        },
        Phase::Idle | Phase::Starting { .. } => Err(CoreError::NotInitialized),
        Phase::SetupTimedOut { millis, phase, .. } => Err(setup_still_running(*millis, phase)),
        Phase::Stopping { .. } => Err(CoreError::ShuttingDown),
    }
}

fn setup_still_running(millis: u64, phase: &str) -> CoreError {
    CoreError::Unusable(format!(
        "the last setup timed out after {millis} ms during {phase} and is still running; it \
         is undone when it finishes (setup() is then possible again), or call shutdown() to \
         abandon it now"
    ))
}

/// The phase name used in timeout errors for a setup of this core.
pub(crate) fn setup_phase(kind: CoreKind) -> &'static str {
    match kind {
        CoreKind::Go => "Go runtime initialisation (dlopen + SetupJson)",
        CoreKind::Native => "native core setup",
    }
}

/// Fails if an instance exists or is starting (checked before the config is even read,
/// so that a second `setup` reports "already initialized" whatever it was given). A
/// shutdown in progress is not an error: setup waits for it.
pub(crate) fn ensure_idle() -> Result<(), CoreError> {
    match &*PHASE.lock() {
        Phase::Idle | Phase::Stopping { .. } => Ok(()),
        Phase::Starting { .. } | Phase::Ready(_) => Err(CoreError::AlreadyInitialized),
        Phase::SetupTimedOut { millis, phase, .. } => Err(setup_still_running(*millis, phase)),
    }
}

enum Begin {
    Started(Arc<Pool>, u64),
    WaitFor(Arc<Done>),
}

/// Claims the `Starting` phase and starts core-host threads, or says which shutdown to
/// wait for first.
fn begin_setup(config: &ShimConfig, owner: u64) -> Result<Begin, CoreError> {
    let mut phase = PHASE.lock();
    match &*phase {
        Phase::Idle => {}
        Phase::Stopping { done } => return Ok(Begin::WaitFor(done.clone())),
        Phase::Starting { .. } | Phase::Ready(_) => return Err(CoreError::AlreadyInitialized),
        Phase::SetupTimedOut { millis, phase, .. } => {
            return Err(setup_still_running(*millis, phase))
        }
    }
    let pool = Arc::new(
        Pool::start(config.pool)
            .map_err(|e| CoreError::Internal(format!("cannot start core-host threads: {e}")))?,
    );
    let attempt = ATTEMPT.fetch_add(1, Ordering::Relaxed);
    *phase = Phase::Starting {
        attempt,
        pool: pool.clone(),
        owner,
    };
    Ok(Begin::Started(pool, attempt))
}

/// A setup that has claimed its place: the `Starting` phase, or a shutdown to wait for.
pub(crate) struct Claim(Begin);

/// The first half of a setup, on the JS thread that called it: claims `Starting` at once
/// (so a `shutdown()` right after `setup_async()` applies to this setup), or notes the
/// shutdown in progress that the second half must wait for.
pub(crate) fn claim_setup(config: &ShimConfig, owner: u64) -> Result<Claim, CoreError> {
    begin_setup(config, owner).map(Claim)
}

/// The second half of a setup (on the JS thread for `setup`, a helper thread for
/// `setup_async`): waits for a shutdown in progress, builds the core on a core-host
/// thread and waits at most `TimeoutMs` for the outcome.
pub(crate) fn complete_setup(
    claim: Claim,
    config: Arc<ShimConfig>,
    owner: u64,
) -> Result<(), CoreError> {
    let stop_deadline = Instant::now() + config.timeout + STOP_GRACE;
    let mut begin = claim.0;
    let (pool, attempt) = loop {
        match begin {
            Begin::Started(pool, attempt) => break (pool, attempt),
            Begin::WaitFor(done) => {
                if !done.wait_until(stop_deadline) {
                    return Err(CoreError::ShuttingDown);
                }
                begin = begin_setup(&config, owner)?;
            }
        }
    };
    let deadline = Instant::now() + config.timeout;
    let (job_pool, job_cfg) = (pool.clone(), config.clone());
    let reply = call_blocking(&pool, deadline, move |turn| {
        Some(match turn {
            Turn::Run(ct) => run_setup(ct, &job_cfg, attempt, owner, &job_pool, deadline),
            Turn::Cancelled => publish_setup(
                None,
                attempt,
                Err(CoreError::ShuttingDown),
                &job_pool,
                &job_cfg,
                owner,
            ),
        })
    });
    match reply {
        Ok(out) => out,
        Err(NoReply::Refused(_)) => publish_setup(
            None,
            attempt,
            Err(CoreError::ShuttingDown),
            &pool,
            &config,
            owner,
        ),
        Err(NoReply::Deadline) => setup_missed_deadline(attempt, config.core, config.timeout),
    }
}

/// On a core-host thread: builds the core and publishes the outcome. For the Go core the
/// lifecycle lock is held from before `SetupJson` until the outcome is published or
/// undone, so a setup whose caller gave up is shut down before any later one starts.
fn run_setup(
    ct: &CoreThread,
    config: &Arc<ShimConfig>,
    attempt: u64,
    owner: u64,
    pool: &Arc<Pool>,
    deadline: Instant,
) -> Result<(), CoreError> {
    let held = match config.core {
        CoreKind::Go => match go::lifecycle(deadline) {
            Ok(held) => Some(held),
            Err(e) => return publish_setup(Some(ct), attempt, Err(e), pool, config, owner),
        },
        CoreKind::Native => None,
    };
    let outcome = guarded(ct, |ct| build_core(ct, config, held.as_ref(), deadline));
    let published = publish_setup(Some(ct), attempt, outcome, pool, config, owner);
    drop(held);
    published
}

/// Publishes a setup's outcome if its attempt is still the current one; otherwise (its
/// caller timed out, or a shutdown abandoned it) undoes what it built.
fn publish_setup(
    ct: Option<&CoreThread>,
    attempt: u64,
    outcome: Result<Arc<dyn Core>, CoreError>,
    pool: &Arc<Pool>,
    config: &Arc<ShimConfig>,
    owner: u64,
) -> Result<(), CoreError> {
    let mut phase = PHASE.lock();
    let late = match &*phase {
        Phase::Starting { attempt: a, .. } if *a == attempt => None,
        Phase::SetupTimedOut { attempt: a, .. } if *a == attempt => {
            *phase = Phase::Idle;
            Some(CoreError::Unusable(
                "setup finished after its deadline".into(),
            ))
        }
        // Abandoned by shutdown() (or its env's exit) while it ran: the shutdown won.
        _ => Some(CoreError::ShuttingDown),
    };
    if let Some(err) = late {
        drop(phase);
        if let (Ok(core), Some(ct)) = (&outcome, ct) {
            core.shutdown(ct);
        }
        pool.stop(Duration::ZERO); // this thread ends after this job
        log::emit(
            Level::Warn,
            "a setup that had timed out or been abandoned finished; what it set up was shut \
             down, and setup() may be called again"
                .into(),
        );
        return Err(err);
    }
    match outcome {
        Ok(core) => {
            log::emit(
                Level::Info,
                format!(
                    "setup complete: core={} service={} product={} metastore={} threads={}",
                    core.kind().name(),
                    config.asherah.service_name,
                    config.asherah.product_id,
                    config.asherah.metastore,
                    config.pool.threads
                ),
            );
            let r = Arc::new(Running {
                core,
                pool: pool.clone(),
                config: config.clone(),
                owner_env: owner,
                attempt,
                stuck: StuckCount::default(),
            });
            READY.store(Some(r.clone()));
            *phase = Phase::Ready(r);
            Ok(())
        }
        Err(e) => {
            *phase = Phase::Idle;
            drop(phase);
            pool.stop(Duration::ZERO);
            log::emit(Level::Error, format!("setup failed: {e}"));
            Err(e)
        }
    }
}

/// The setup's caller reached its deadline without an outcome.
fn setup_missed_deadline(attempt: u64, kind: CoreKind, timeout: Duration) -> Result<(), CoreError> {
    let millis = timeout.as_millis() as u64;
    let mut phase = PHASE.lock();
    match &*phase {
        Phase::Starting {
            attempt: a,
            pool,
            owner,
        } if *a == attempt => {
            *phase = Phase::SetupTimedOut {
                attempt,
                pool: pool.clone(),
                owner: *owner,
                millis,
                phase: setup_phase(kind),
            };
            drop(phase);
            log::emit(
                Level::Error,
                format!("setup timed out after {millis} ms; it is undone if it finishes later"),
            );
        }
        // Published between the deadline and this lock: it succeeded.
        Phase::Ready(r) if r.attempt == attempt => return Ok(()),
        _ => {}
    }
    Err(CoreError::Timeout {
        phase: setup_phase(kind),
        millis,
    })
}

/// What `shutdown` has to do after leaving its phase.
pub(crate) enum Teardown {
    /// Nothing was running (or it belongs to another env).
    Nothing,
    /// Stop the instance: reject queued calls, wait for running ones, stop the core.
    Core(Arc<Running>, Arc<Done>),
    /// A setup in progress or timed out: leave it to undo itself, stop waiting for it.
    Abandon(Arc<Pool>),
    /// Another shutdown is in progress: wait for it.
    Wait(Arc<Done>),
}

/// Leaves the current phase and says what remains to be torn down. `only_owner`
/// restricts it to the env that created the instance (env teardown), in every phase.
pub(crate) fn begin_shutdown(only_owner: Option<u64>) -> Teardown {
    let mut phase = PHASE.lock();
    let owner = match &*phase {
        Phase::Ready(r) => Some(r.owner_env),
        Phase::Starting { owner, .. } | Phase::SetupTimedOut { owner, .. } => Some(*owner),
        Phase::Idle | Phase::Stopping { .. } => None,
    };
    if let Some(env) = only_owner {
        if owner != Some(env) {
            return Teardown::Nothing;
        }
    }
    match std::mem::replace(&mut *phase, Phase::Idle) {
        Phase::Ready(r) => {
            READY.store(None);
            let done = Done::new();
            *phase = Phase::Stopping { done: done.clone() };
            Teardown::Core(r, done)
        }
        Phase::Starting { pool, .. } | Phase::SetupTimedOut { pool, .. } => Teardown::Abandon(pool),
        Phase::Stopping { done } => {
            *phase = Phase::Stopping { done: done.clone() };
            Teardown::Wait(done)
        }
        Phase::Idle => Teardown::Nothing,
    }
}

/// Carries out a [`Teardown`]. Calls still queued are rejected with
/// `ERR_ASHERAH_SHUTTING_DOWN` at once; running calls get up to `TimeoutMs` to finish;
/// then the core's own shutdown runs on a core-host thread, and only then may a new setup
/// start. Calls stuck inside the core are left behind (and the Go core is then not shut
/// down under them).
pub(crate) fn finish_shutdown_blocking(t: Teardown) -> Result<(), CoreError> {
    match t {
        Teardown::Nothing => Ok(()),
        Teardown::Wait(done) => {
            done.wait_until(Instant::now() + crate::api::config::DEFAULT_TIMEOUT + STOP_GRACE);
            Ok(())
        }
        Teardown::Abandon(pool) => {
            pool.close();
            let left = pool.stop(Duration::from_millis(200));
            if left > 0 {
                log::emit(
                    Level::Warn,
                    format!(
                        "shutdown abandoned a setup still running on {left} core-host thread(s)"
                    ),
                );
            }
            Ok(())
        }
        Teardown::Core(r, done) => {
            let deadline = Instant::now() + r.config.timeout;
            r.pool.close();
            let drained = r.pool.drain(deadline);
            if drained && r.stuck() == 0 {
                run_final(&r.pool, deadline, r.core.clone());
            } else {
                log::emit(
                    Level::Warn,
                    format!(
                        "shutdown: {} call(s) still running inside the core after {} ms are \
                         abandoned; the core is not shut down under them",
                        r.pool.running(),
                        r.config.timeout.as_millis()
                    ),
                );
            }
            let grace = if drained {
                STOP_GRACE
            } else {
                Duration::from_millis(200)
            };
            let left = r.pool.stop(grace);
            {
                let mut phase = PHASE.lock();
                if matches!(&*phase, Phase::Stopping { done: d } if Arc::ptr_eq(d, &done)) {
                    *phase = Phase::Idle;
                }
            }
            done.set();
            log::emit(
                Level::Info,
                format!("shutdown complete ({left} thread(s) left behind)"),
            );
            Ok(())
        }
    }
}

/// Runs the core's own shutdown on a core-host thread of a closed, drained pool, waiting
/// at most until `deadline`.
fn run_final(pool: &Pool, deadline: Instant, core: Arc<dyn Core>) {
    let slot = Arc::new(ReplySlot::new());
    let job_slot = slot.clone();
    let job = Job::privileged(move |turn| {
        if let Turn::Run(ct) = turn {
            let _ = guarded(ct, |ct| {
                core.shutdown(ct);
                Ok(())
            });
        }
        job_slot.fill(());
    });
    if pool.submit(job).is_err() || slot.wait(deadline).is_none() {
        log::emit(
            Level::Warn,
            "shutdown: the core's own shutdown did not finish within TimeoutMs".into(),
        );
    }
}
