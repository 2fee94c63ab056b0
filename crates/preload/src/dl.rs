//! The `dlopen`/`dlmopen` interposers: snapshot every signal disposition, call the real
//! function, then repair what the library's constructors changed (a Go c-shared library
//! ORs `SA_ONSTACK` into host handlers and takes SIGPIPE) with the shared policy, and log
//! each decision.
//!
//! When to repair: measured with Go 1.20.12's libasherah, every change happens inside the
//! library constructor (`libpreinit`), i.e. before the real `dlopen` returns; nothing moved
//! in the 300 ms after, nor after the first call and a full `SetupJson`
//! (`cargo run --example go_timeline`). So the repair runs right after `dlopen` returns.
//! Go package initialisers run later, on the runtime's own thread, and could still install
//! handlers (`signal.Notify`); a short-lived re-check thread ([`recheck`]) looks again at
//! 100 ms, 1 s and 4 s, acting only on changes that carry Go's fingerprint (a handler
//! address Go installed during the load, or exactly `SA_ONSTACK` added to a handler), so a
//! handler the host itself installs meanwhile is never touched.
//!
//! Calls are serialised by a recursive mutex (a library constructor may call `dlopen`
//! again on the same thread), re-initialised in a forked child by a `pthread_atfork` handler.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use asherah_shim_signals::{repair, Action, Policy, Report, Snapshot, SA_RESTORER};
use libc::{c_char, c_int, c_void};

use crate::log::CPath;
use crate::{config, log, sys};

/// `dlopen(3)`, with the signal guard around it.
///
/// # Safety
/// As `dlopen(3)`: `filename` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void {
    let Some(real) = sys::dlopen() else {
        return std::ptr::null_mut();
    };
    // SAFETY: forwarding the caller's arguments to the real dlopen.
    guarded("dlopen", filename, flags, || unsafe {
        real(filename, flags)
    })
}

/// `dlmopen(3)`, with the signal guard around it.
///
/// # Safety
/// As `dlmopen(3)`.
#[no_mangle]
pub unsafe extern "C" fn dlmopen(
    lmid: libc::Lmid_t,
    filename: *const c_char,
    flags: c_int,
) -> *mut c_void {
    let Some(real) = sys::dlmopen() else {
        return std::ptr::null_mut();
    };
    // SAFETY: forwarding the caller's arguments to the real dlmopen.
    guarded("dlmopen", filename, flags, || unsafe {
        real(lmid, filename, flags)
    })
}

fn guarded(
    kind: &str,
    filename: *const c_char,
    flags: c_int,
    load: impl FnOnce() -> *mut c_void,
) -> *mut c_void {
    if flags & libc::RTLD_NOLOAD != 0 {
        return load(); // nothing is mapped, no constructor runs
    }
    let _serial = LOCK.lock();
    let before = catch_unwind(Snapshot::capture).ok();
    let handle = load();
    if let Some(before) = before {
        let _ = catch_unwind(AssertUnwindSafe(|| after_load(kind, filename, &before)));
    }
    handle
}

fn after_load(kind: &str, filename: *const c_char, before: &Snapshot) {
    if !config::repair() {
        let report = Report::plan(before, &Snapshot::capture(), &Policy::DEFAULT);
        for d in report.iter() {
            log::line(format_args!(
                "{kind} {}: {d} (report only, ASHERAH_SHIM_REPAIR=0)",
                CPath(filename)
            ));
        }
        return;
    }
    // SAFETY: every handler in `before` was installed before this dlopen began; we hold the
    // loader lock of this library, and a host that dlclose()s a library whose signal handler
    // is still installed is already broken, so the handlers are still mapped.
    let report = unsafe { repair(before, &Policy::DEFAULT) };
    for d in report.iter() {
        log::line(format_args!("{kind} {}: {d}", CPath(filename)));
    }
    if !report.is_empty() {
        recheck::schedule(&report);
    }
}

/// Deferred re-checks after a load that changed signals.
mod recheck {
    use super::*;

    const MAX_GO_HANDLERS: usize = 8;
    const DELAYS_MS: [u64; 3] = [100, 900, 3000];

    /// What the re-check thread needs: the state we left, and the handlers Go installed.
    struct Pending {
        settled: Snapshot,
        go: [usize; MAX_GO_HANDLERS],
    }

    pub(super) fn schedule(report: &Report) {
        let mut go = [0usize; MAX_GO_HANDLERS];
        let new_handlers = report
            .iter()
            .filter(|d| d.after.is_handler() && d.after.handler != d.before.handler);
        for (slot, d) in go.iter_mut().zip(new_handlers) {
            *slot = d.after.handler;
        }
        let pending = Pending {
            settled: Snapshot::capture(),
            go,
        };
        let spawned = std::thread::Builder::new()
            .name("asherah-recheck".into())
            .spawn(move || {
                let _ = catch_unwind(AssertUnwindSafe(|| run(pending)));
            });
        if let Err(e) = spawned {
            log::line(format_args!("re-check thread not started: {e}"));
        }
    }

    fn run(mut p: Pending) {
        block_all_signals();
        for ms in DELAYS_MS {
            std::thread::sleep(Duration::from_millis(ms));
            let _serial = LOCK.lock();
            let now = Snapshot::capture();
            let changed = Report::plan(&p.settled, &now, &Policy::DEFAULT);
            for d in changed.iter().filter(|d| looks_like_go(d, &p.go)) {
                let mut error = 0;
                if d.action.restores() {
                    // SAFETY: `d.before` was the live disposition at the last look (under
                    // the lock), so its handler is mapped code.
                    if let Err(e) = unsafe { d.before.install(d.signo) } {
                        error = e;
                    }
                }
                log::line(format_args!(
                    "deferred re-check {ms}ms: {d}{}",
                    if error != 0 { " FAILED" } else { "" }
                ));
            }
            p.settled = Snapshot::capture();
        }
    }

    /// A change Go made: to a handler Go installed during the load, or exactly `SA_ONSTACK`
    /// ORed into an unchanged handler.
    fn looks_like_go(d: &asherah_shim_signals::Decision, go: &[usize]) -> bool {
        if d.after.is_handler() && go.contains(&d.after.handler) {
            return true;
        }
        let (b, a) = (d.before.flags & !SA_RESTORER, d.after.flags & !SA_RESTORER);
        d.action == Action::RestoreFlags && a & !b == libc::SA_ONSTACK && b & !a == 0
    }

    fn block_all_signals() {
        let mut all = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigfillset initialises `all`; pthread_sigmask only changes this thread.
        unsafe {
            libc::sigfillset(all.as_mut_ptr());
            libc::pthread_sigmask(libc::SIG_BLOCK, all.as_ptr(), std::ptr::null_mut());
        }
    }
}

/// A process-wide recursive pthread mutex (a constructor may `dlopen` on the same thread).
struct RecursiveLock(UnsafeCell<libc::pthread_mutex_t>);

// SAFETY: the mutex is only used through pthread_mutex_* calls, which synchronise.
unsafe impl Sync for RecursiveLock {}

static LOCK: RecursiveLock = RecursiveLock(UnsafeCell::new(
    libc::PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
));

struct SerialGuard;

impl RecursiveLock {
    fn lock(&self) -> SerialGuard {
        // SAFETY: a statically initialised recursive mutex; relocking by its owner is allowed.
        unsafe { libc::pthread_mutex_lock(self.0.get()) };
        SerialGuard
    }
}

impl Drop for SerialGuard {
    fn drop(&mut self) {
        // SAFETY: `SerialGuard` exists only while this thread owns one level of the lock.
        unsafe { libc::pthread_mutex_unlock(LOCK.0.get()) };
    }
}

extern "C" fn reset_in_child() {
    // SAFETY: in the child of fork only the forking thread exists, so nobody else can be
    // using the mutex; it may have been inherited locked by a thread that no longer exists
    // (and a recursive mutex cannot be unlocked by a different thread id), so it is
    // re-initialised rather than unlocked.
    unsafe {
        LOCK.0
            .get()
            .write(libc::PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP)
    };
}

/// Registers the fork handler that gives a forked child a fresh, unlocked lock.
pub fn install_fork_handlers() {
    // SAFETY: registering a plain extern "C" function with no preconditions.
    unsafe { libc::pthread_atfork(None, None, Some(reset_in_child)) };
}
