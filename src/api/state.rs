//! The process-wide Asherah instance: one core, its core-host threads, and its lifecycle.
//!
//! libasherah is a process-wide singleton, so this shim is too (as asherah-node was): every
//! env (main thread, Workers) shares the instance that `setup` created. The lifecycle is
//! `Idle -> Starting -> Ready -> Idle`; a call that misses its deadline moves it to `Unusable`,
//! after which calls fail fast until `shutdown`. Sync calls wait for their reply at most the
//! configured deadline; async calls race their completion against the watchdog.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::config::ShimConfig;
use super::log::{self, Level};
use crate::core::{go, memlock, native, Core, CoreError, CoreKind};
use crate::host::{watchdog, CoreThread, Pool};

/// A running instance.
pub struct Running {
    pub core: Arc<dyn Core>,
    pub pool: Arc<Pool>,
    pub config: Arc<ShimConfig>,
    pub owner_env: u64,
}

enum Phase {
    Idle,
    Starting { pool: Arc<Pool> },
    Ready(Arc<Running>),
    Unusable { reason: String, pool: Arc<Pool> },
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Idle);

/// `setenv` calls made while a loaded Go runtime had no running instance: applied (in
/// order) right after the library is next used, before `SetupJson`.
static PENDING_GO_ENV: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn defer_go_env(vars_json: String) {
    PENDING_GO_ENV.lock().push(vars_json);
}

/// How long `shutdown` waits for core-host threads to finish before leaving them behind.
const STOP_GRACE: Duration = Duration::from_secs(2);

pub fn is_ready() -> bool {
    matches!(*PHASE.lock(), Phase::Ready(_))
}

/// The running instance, or why there is none.
pub fn running() -> Result<Arc<Running>, CoreError> {
    match &*PHASE.lock() {
        Phase::Ready(r) => Ok(r.clone()),
        Phase::Idle | Phase::Starting { .. } => Err(CoreError::NotInitialized),
        Phase::Unusable { reason, .. } => Err(CoreError::Unusable(reason.clone())),
    }
}

/// Marks the instance stuck after a missed deadline; later calls fail fast.
pub fn mark_unusable(reason: String) {
    let mut phase = PHASE.lock();
    let pool = match &*phase {
        Phase::Ready(r) => r.pool.clone(),
        Phase::Starting { pool } => pool.clone(),
        _ => return,
    };
    log::emit(Level::Error, format!("core marked unusable: {reason}"));
    *phase = Phase::Unusable { reason, pool };
}

/// The phase name used in timeout errors for a setup of this core.
pub fn setup_phase(kind: CoreKind) -> &'static str {
    match kind {
        CoreKind::Go => "Go runtime initialisation (dlopen + SetupJson)",
        CoreKind::Native => "native core setup",
    }
}

/// Fails unless no instance exists (checked before the config is even read, so that a
/// second `setup` reports "already initialized" whatever it was given).
pub fn ensure_idle() -> Result<(), CoreError> {
    match &*PHASE.lock() {
        Phase::Idle => Ok(()),
        Phase::Starting { .. } | Phase::Ready(_) => Err(CoreError::AlreadyInitialized),
        Phase::Unusable { reason, .. } => Err(CoreError::Unusable(format!(
            "{reason}; call shutdown() first"
        ))),
    }
}

/// Starts core-host threads and claims the `Starting` phase. The caller then runs
/// [`build_core`] on the pool and hands the outcome to [`finish_setup`].
pub fn begin_setup(config: &ShimConfig) -> Result<Arc<Pool>, CoreError> {
    let mut phase = PHASE.lock();
    match &*phase {
        Phase::Idle => {}
        Phase::Starting { .. } | Phase::Ready(_) => return Err(CoreError::AlreadyInitialized),
        Phase::Unusable { reason, .. } => {
            return Err(CoreError::Unusable(format!(
                "{reason}; call shutdown() first"
            )))
        }
    }
    let pool = Arc::new(
        Pool::start(config.pool)
            .map_err(|e| CoreError::Internal(format!("cannot start core-host threads: {e}")))?,
    );
    *phase = Phase::Starting { pool: pool.clone() };
    Ok(pool)
}

/// Runs on a core-host thread: loads and sets up the configured core.
pub fn build_core(ct: &CoreThread, config: &ShimConfig) -> Result<Arc<dyn Core>, CoreError> {
    match config.core {
        CoreKind::Go => {
            let path = config.go_library.as_ref().ok_or_else(|| {
                CoreError::BadConfig(
                    "Core \"go\" needs the path of libasherah: set GoLibrary or ASHERAH_GO_LIBRARY"
                        .into(),
                )
            })?;
            let a = &config.asherah;
            let sessions = if a.session_caching.unwrap_or(false) {
                a.session_cache_max_size
                    .filter(|n| *n > 0)
                    .map_or(memlock::GO_DEFAULT_SESSION_CACHE, |n| n as u64)
            } else {
                0
            } + config.pool.threads as u64;
            if let Some(note) = memlock::ensure_for_go(sessions)? {
                log::emit(Level::Info, note);
            }
            let lib = go::load(ct, path)?;
            for vars in PENDING_GO_ENV.lock().drain(..) {
                go::set_env_loaded(ct, &vars)?;
            }
            let core = go::GoCore::setup(ct, lib, &config.go_json);
            for d in crate::signals::take_unlogged() {
                let level = if d.action.restores() {
                    Level::Warn
                } else {
                    Level::Info
                };
                log::emit(level, format!("signal guard: {d}"));
            }
            Ok(Arc::new(core?))
        }
        CoreKind::Native => {
            let core = native::NativeCore::new(&config.asherah)?;
            let failures = asherah_native::memory_lock_failures();
            if failures > 0 {
                log::emit(Level::Warn, format!("native core: {failures} key page(s) could not be locked in memory (mlock); raise RLIMIT_MEMLOCK"));
            }
            Ok(Arc::new(core))
        }
    }
}

/// Publishes the outcome of a setup. A late outcome (the setup already timed out) is
/// discarded: the instance stays unusable until `shutdown`.
pub fn finish_setup(
    outcome: Result<Arc<dyn Core>, CoreError>,
    pool: Arc<Pool>,
    config: Arc<ShimConfig>,
    owner_env: u64,
) -> Result<(), CoreError> {
    let mut phase = PHASE.lock();
    let still_ours = matches!(&*phase, Phase::Starting { pool: p } if Arc::ptr_eq(p, &pool));
    if !still_ours {
        // The deadline passed first (the caller then reports its timeout), or this setup's
        // result arrived late and is discarded: the instance stays unusable until shutdown.
        return Err(match outcome {
            Err(e) => e,
            Ok(_) => CoreError::Unusable("setup finished after its deadline".into()),
        });
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
            *phase = Phase::Ready(Arc::new(Running {
                core,
                pool,
                config,
                owner_env,
            }));
            Ok(())
        }
        Err(e) => {
            *phase = Phase::Idle;
            drop(phase);
            pool.stop(STOP_GRACE);
            log::emit(Level::Error, format!("setup failed: {e}"));
            Err(e)
        }
    }
}

/// What `shutdown` has to do after leaving the `Ready`/`Unusable` phase.
pub enum Teardown {
    /// Nothing was running.
    Nothing,
    /// Call the core's shutdown on the pool, then stop the pool.
    Core(Arc<Running>),
    /// The core is stuck: just stop the pool (stuck threads are left behind).
    Abandon(Arc<Pool>),
}

/// Moves to `Idle` and says what remains to be torn down. `only_owner` restricts it to the
/// env that created the instance (env teardown).
pub fn begin_shutdown(only_owner: Option<u64>) -> Teardown {
    let mut phase = PHASE.lock();
    if let (Some(env), Phase::Ready(r)) = (only_owner, &*phase) {
        if r.owner_env != env {
            return Teardown::Nothing;
        }
    }
    match std::mem::replace(&mut *phase, Phase::Idle) {
        Phase::Ready(r) => Teardown::Core(r),
        Phase::Unusable { pool, .. } => Teardown::Abandon(pool),
        Phase::Starting { pool } if only_owner.is_none() => Teardown::Abandon(pool),
        other => {
            *phase = other;
            Teardown::Nothing
        }
    }
}

/// Runs the core's shutdown on a core-host thread (bounded), then stops the threads.
pub fn finish_shutdown_blocking(t: Teardown) -> Result<(), CoreError> {
    match t {
        Teardown::Nothing => Ok(()),
        Teardown::Abandon(pool) => {
            let left = pool.stop(Duration::from_millis(200));
            log::emit(
                Level::Warn,
                format!("shutdown abandoned {left} stuck core-host thread(s)"),
            );
            Ok(())
        }
        Teardown::Core(r) => {
            let core = r.core.clone();
            let result = call_blocking(&r.pool, r.config.timeout, "shutdown", move |ct| {
                core.shutdown(ct);
                Ok(())
            });
            let left = r.pool.stop(STOP_GRACE);
            log::emit(
                Level::Info,
                format!("shutdown complete ({left} thread(s) still busy)"),
            );
            result
        }
    }
}

/// Runs `f` on a core-host thread and waits for it at most `timeout`.
///
/// The reply comes back through a one-shot slot and an unpark of the waiting thread (no
/// per-call channel). Spinning before parking was measured: it helps the native core but
/// slows the Go core 1.5-1.7x on two cores, so the caller parks at once.
pub fn call_blocking<T: Send + 'static>(
    pool: &Pool,
    timeout: Duration,
    phase: &'static str,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    let slot = Arc::new(ReplySlot::<Result<T, CoreError>>::new());
    let job_slot = slot.clone();
    pool.submit(Box::new(move |ct| {
        job_slot.fill(guarded(ct, f));
    }))
    .map_err(|_| CoreError::ShuttingDown)?;
    match slot.wait(Instant::now() + timeout) {
        Some(Some(out)) => out,
        Some(None) => Err(CoreError::Internal(
            "a core-host thread ended without replying".into(),
        )),
        None => {
            let millis = timeout.as_millis() as u64;
            mark_unusable(format!("a call timed out after {millis} ms during {phase}"));
            Err(CoreError::Timeout { phase, millis })
        }
    }
}

/// A one-shot reply: filled once by a core-host thread, taken by the waiting caller.
struct ReplySlot<T> {
    done: std::sync::atomic::AtomicBool,
    value: Mutex<Option<T>>,
    waiter: std::thread::Thread,
}

impl<T> ReplySlot<T> {
    fn new() -> Self {
        ReplySlot {
            done: std::sync::atomic::AtomicBool::new(false),
            value: Mutex::new(None),
            waiter: std::thread::current(),
        }
    }

    fn fill(&self, v: T) {
        *self.value.lock() = Some(v);
        self.done.store(true, std::sync::atomic::Ordering::Release);
        self.waiter.unpark();
    }

    /// `None` on timeout; `Some(None)` if the job was dropped unfilled (cannot happen
    /// while the pool runs every job it accepted; kept for the types).
    fn wait(&self, deadline: Instant) -> Option<Option<T>> {
        use std::sync::atomic::Ordering;
        // park_timeout may return early (spuriously, or on a token left by an earlier
        // call's unpark): the flag, not the wake-up, says whether the reply is there.
        while !self.done.load(Ordering::Acquire) {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::park_timeout(deadline - now);
        }
        Some(self.value.lock().take())
    }
}

/// Runs `f` with panics turned into errors (a core-host thread must survive its jobs).
pub fn guarded<T>(
    ct: &CoreThread,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError>,
) -> Result<T, CoreError> {
    panic::catch_unwind(AssertUnwindSafe(|| f(ct))).unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(CoreError::Internal(format!(
            "panic on a core-host thread: {what}"
        )))
    })
}

/// Registers an async call with the watchdog: `on_timeout` runs if it is still pending at
/// the deadline, after the instance has been marked unusable.
pub fn watch_async(
    timeout: Duration,
    phase: &'static str,
    ticket: Arc<watchdog::Ticket>,
    on_timeout: impl FnOnce(CoreError) + Send + 'static,
) {
    let millis = timeout.as_millis() as u64;
    watchdog::watch(
        Instant::now() + timeout,
        ticket,
        Box::new(move || {
            mark_unusable(format!("a call timed out after {millis} ms during {phase}"));
            on_timeout(CoreError::Timeout { phase, millis });
        }),
    );
}
