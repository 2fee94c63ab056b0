//! Applying the policy to the live process, and the fixed-capacity record of what was done.
//!
//! [`repair()`] captures the current dispositions, asks [`decide`] about every signal that
//! differs from the earlier snapshot, writes back the `before` disposition where the action
//! says so, and returns a [`Report`]: at most one [`Decision`] per signal, held in an
//! array, so neither building nor reading it allocates. [`Report::plan`] does the same
//! comparison without touching the process, for dry runs and tests.

use core::fmt;

use libc::c_int;

use crate::{decide, signal_name, Action, Disposition, Policy, Snapshot, MAX_SIGNO};

const CAPACITY: usize = MAX_SIGNO as usize;

/// What happened to one signal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Decision {
    /// The signal number.
    pub signo: c_int,
    /// Its name (`SIGPIPE`), or `"SIG?"` for one without a name here.
    pub name: &'static str,
    /// Before the library was loaded.
    pub before: Disposition,
    /// When the repair looked (before the repair itself).
    pub after: Disposition,
    /// What the policy decided.
    pub action: Action,
    /// 0, or the errno of a failed restoring `sigaction` (and of a planned-only report: 0).
    pub error: c_int,
}

impl Decision {
    const EMPTY: Decision = Decision {
        signo: 0,
        name: "",
        before: Disposition::DEFAULT,
        after: Disposition::DEFAULT,
        action: Action::KeepOther,
        error: 0,
    };
}

impl fmt::Display for Decision {
    /// One line, e.g. `SIGPWR(30) handler=0x55d0 flags=0x10000004 -> handler=0x55d0
    /// flags=0x18000004: restore-flags`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({}) {} -> {}: {}",
            self.name, self.signo, self.before, self.after, self.action
        )?;
        if self.error != 0 {
            write!(f, " FAILED errno={}", self.error)?;
        }
        Ok(())
    }
}

/// Every changed signal and the action taken, in signal order.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    items: [Decision; CAPACITY],
    len: usize,
    applied: bool,
}

impl Report {
    /// Compares two snapshots under `policy` without changing anything.
    pub fn plan(before: &Snapshot, after: &Snapshot, policy: &Policy) -> Report {
        let mut report = Report {
            items: [Decision::EMPTY; CAPACITY],
            len: 0,
            applied: false,
        };
        for (signo, b) in before.iter() {
            let Some(a) = after.get(signo) else { continue };
            let Some(action) = decide(signo, &b, &a, policy) else {
                continue;
            };
            if report.len < CAPACITY {
                report.items[report.len] = Decision {
                    signo,
                    name: signal_name(signo),
                    before: b,
                    after: a,
                    action,
                    error: 0,
                };
                report.len += 1;
            }
        }
        report
    }

    /// Writes back every `before` disposition whose action restores it.
    ///
    /// # Safety
    /// As [`Disposition::install`]: each restored handler is still mapped code.
    unsafe fn apply(&mut self) {
        for d in &mut self.items[..self.len] {
            if d.action.restores() {
                // SAFETY: the caller guarantees `before` handlers are still valid code.
                if let Err(e) = unsafe { d.before.install(d.signo) } {
                    d.error = e;
                }
            }
        }
        self.applied = true;
    }

    /// The decisions, in signal-number order.
    pub fn iter(&self) -> impl Iterator<Item = &Decision> {
        self.items[..self.len].iter()
    }
    /// How many signals changed.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The decision about `signo`, if it changed.
    pub fn find(&self, signo: c_int) -> Option<&Decision> {
        self.iter().find(|d| d.signo == signo)
    }
    /// True when this report came from [`repair()`] (restores were attempted).
    pub fn applied(&self) -> bool {
        self.applied
    }
    /// Number of restores attempted (successful or not).
    pub fn restored(&self) -> usize {
        self.iter().filter(|d| d.action.restores()).count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.iter() {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Captures the current dispositions, compares them with `before` and restores what the
/// policy says. Call it after the Go runtime finished initialising (after the first call
/// into the library returned), on any thread. Does not allocate; async-signal-safe apart
/// from being non-atomic: a handler changed concurrently by another thread may be lost.
///
/// # Safety
/// Every handler address recorded in `before` must still be mapped code: no library whose
/// handler was captured may have been unloaded since the capture.
pub unsafe fn repair(before: &Snapshot, policy: &Policy) -> Report {
    let after = Snapshot::capture();
    let mut report = Report::plan(before, &after, policy);
    // SAFETY: forwarded from this function's contract.
    unsafe { report.apply() };
    report
}
