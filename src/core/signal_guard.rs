//! The signal guard around the Go runtime, built on the shared `asherah-shim-signals` crate.
//!
//! [`arm`] snapshots every signal's disposition right before libasherah is opened; once the
//! first Go call has returned (the runtime is fully initialised), [`repair_after_first_call`]
//! compares and applies the shared policy: `SA_ONSTACK` that Go ORed into a host handler
//! (JavaScriptCore's GC-suspend signal, found by that change rather than by number) is taken
//! back off, a host `SIG_IGN` that Go replaced (SIGPIPE) is restored, Go's forwarding
//! handlers for synchronous faults and its SIGURG are kept. The repair is sound only because
//! Go code never runs on a JS thread: `core::go` refuses to call Go anywhere but on a
//! core-host thread, whose asynchronous signals are blocked.

use parking_lot::Mutex;

use asherah_shim_signals::{repair, Policy, Snapshot};
pub(crate) use asherah_shim_signals::{Decision, Disposition, Report};

static ARMED: Mutex<Option<Snapshot>> = Mutex::new(None);
static REPORT: Mutex<Option<Report>> = Mutex::new(None);
static UNLOGGED: Mutex<bool> = Mutex::new(false);

/// Records every signal's disposition before the Go library is opened.
pub(crate) fn arm() {
    *ARMED.lock() = Some(Snapshot::capture());
}

/// Repairs what the Go runtime changed, once its first call has returned. Later calls do
/// nothing: the guard runs once per process, around the one Go load.
pub(crate) fn repair_after_first_call() {
    let Some(before) = ARMED.lock().take() else {
        return;
    };
    // SAFETY: `repair` may write back handlers recorded in `before`; no library has been
    // unloaded since the capture (we never dlclose, and the host's own handlers live in its
    // executable), so every recorded handler address is still valid code.
    let report = unsafe { repair(&before, &Policy::DEFAULT) };
    *REPORT.lock() = Some(report);
    *UNLOGGED.lock() = true;
}

/// What the guard decided, once it has run.
pub(crate) fn report() -> Option<Report> {
    *REPORT.lock()
}

/// The decisions not yet sent to the log hook (each is returned exactly once).
pub(crate) fn take_unlogged() -> Vec<Decision> {
    let mut unlogged = UNLOGGED.lock();
    if !std::mem::take(&mut *unlogged) {
        return Vec::new();
    }
    report()
        .map(|r| r.iter().copied().collect())
        .unwrap_or_default()
}
