//! The repair policy: a pure function from a signal's disposition before and after loading
//! a Go library to the [`Action`] to take. Nothing here touches process state.
//!
//! The rules (the reason for each is in docs/root-cause.md, section 3): the host's own
//! handlers are the host's. If Go only changed their flags (it ORs in `SA_ONSTACK`, which
//! breaks JavaScriptCore's GC-suspend handler), the host's flags come back; a host `SIG_IGN` (SIGPIPE) comes back. For the
//! synchronous fault signals Go's handler is kept, because it forwards faults that are not
//! Go's to the handler it replaced. A Go handler over `SIG_DFL` (SIGURG for preemption,
//! the fault signals in a host without handlers) is kept. Any other replaced host handler
//! is restored, since an asynchronous signal belongs to the host and Go does not need it.
//! The GC-suspend signal is never named here: it is simply a host handler whose flags Go
//! changed, so `JSC_SIGNAL_FOR_GC` moving it elsewhere changes nothing.

use core::fmt;

use libc::c_int;

use crate::Disposition;

/// What the guard does about one changed signal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    /// Same handler, different flags (Go's `SA_ONSTACK`): the host's flags are restored.
    RestoreFlags,
    /// The host ignored the signal (SIGPIPE): `SIG_IGN` is restored.
    RestoreIgnore,
    /// A host handler was replaced or removed on a signal that is not a forwarding fault
    /// signal: the host's handler is restored.
    RestoreHandler,
    /// A fault signal's host handler was replaced by Go's, which forwards: kept.
    KeepForwarding,
    /// A handler was installed where the host had `SIG_DFL` (SIGURG...): kept.
    KeepNew,
    /// Changed, but left alone: the signal is in [`Policy::leave`], or it went from
    /// `SIG_DFL` to `SIG_IGN`.
    KeepOther,
}

impl Action {
    /// True when the action writes the `before` disposition back.
    pub fn restores(self) -> bool {
        matches!(
            self,
            Action::RestoreFlags | Action::RestoreIgnore | Action::RestoreHandler
        )
    }
    /// Stable kebab-case name, used in log lines and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::RestoreFlags => "restore-flags",
            Action::RestoreIgnore => "restore-ignore",
            Action::RestoreHandler => "restore-handler",
            Action::KeepForwarding => "keep-forwarding",
            Action::KeepNew => "keep-new",
            Action::KeepOther => "keep-other",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of signal numbers `1..=64`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SignalSet(u64);

impl SignalSet {
    /// No signal.
    pub const EMPTY: SignalSet = SignalSet(0);

    /// The set holding `signals` (numbers outside `1..=64` are dropped).
    pub const fn of(signals: &[c_int]) -> SignalSet {
        let mut set = SignalSet(0);
        let mut i = 0;
        while i < signals.len() {
            set = set.with(signals[i]);
            i += 1;
        }
        set
    }
    /// This set plus `signo` (unchanged if `signo` is outside `1..=64`).
    pub const fn with(self, signo: c_int) -> SignalSet {
        if signo >= 1 && signo <= 64 {
            SignalSet(self.0 | 1 << (signo - 1))
        } else {
            self
        }
    }
    /// Whether `signo` is in the set.
    pub const fn contains(self, signo: c_int) -> bool {
        signo >= 1 && signo <= 64 && self.0 & (1 << (signo - 1)) != 0
    }
}

/// Knobs of the policy; [`Policy::DEFAULT`] is the set of rules in this module's doc.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Policy {
    /// Signals where Go's replacement of a host handler is kept because Go forwards them.
    pub forwarding: SignalSet,
    /// Signals reported but never changed (an escape hatch for hosts that want Go's state).
    pub leave: SignalSet,
}

impl Policy {
    /// The rules of this module's doc: keep Go's forwarding handlers for the synchronous
    /// fault signals, leave nothing out.
    pub const DEFAULT: Policy = Policy {
        forwarding: SignalSet::of(&[libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL]),
        leave: SignalSet::EMPTY,
    };
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

/// The action for `signo`, or `None` when nothing that matters changed (handler and flags
/// equal, `SA_RESTORER` and the mask ignored; flags of `SIG_DFL`/`SIG_IGN` do not matter).
pub fn decide(
    signo: c_int,
    before: &Disposition,
    after: &Disposition,
    policy: &Policy,
) -> Option<Action> {
    if before.same_as(after) || (before.handler == after.handler && !before.is_handler()) {
        return None;
    }
    if policy.leave.contains(signo) {
        return Some(Action::KeepOther);
    }
    let action = if before.handler == after.handler {
        Action::RestoreFlags
    } else if before.is_ignore() {
        Action::RestoreIgnore
    } else if before.is_default() {
        if after.is_handler() {
            Action::KeepNew
        } else {
            Action::KeepOther
        }
    } else if after.is_handler() && policy.forwarding.contains(signo) {
        Action::KeepForwarding
    } else {
        Action::RestoreHandler
    };
    Some(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: usize = 0x1000;
    const GO: usize = 0x2000;
    fn h(handler: usize, flags: c_int) -> Disposition {
        Disposition {
            handler,
            flags,
            mask: 0,
        }
    }
    fn d(signo: c_int, b: Disposition, a: Disposition) -> Option<Action> {
        decide(signo, &b, &a, &Policy::DEFAULT)
    }

    #[test]
    fn table() {
        let si = libc::SA_SIGINFO | libc::SA_RESTART;
        let onstack = si | libc::SA_ONSTACK;
        assert_eq!(
            d(30, h(HOST, si), h(HOST, onstack)),
            Some(Action::RestoreFlags)
        );
        assert_eq!(
            d(13, Disposition::IGNORE, h(GO, onstack)),
            Some(Action::RestoreIgnore)
        );
        assert_eq!(
            d(11, h(HOST, si), h(GO, onstack)),
            Some(Action::KeepForwarding)
        );
        assert_eq!(
            d(11, Disposition::DEFAULT, h(GO, onstack)),
            Some(Action::KeepNew)
        );
        assert_eq!(
            d(23, Disposition::DEFAULT, h(GO, onstack)),
            Some(Action::KeepNew)
        );
        assert_eq!(
            d(2, h(HOST, si), h(GO, onstack)),
            Some(Action::RestoreHandler)
        );
        assert_eq!(
            d(2, h(HOST, si), Disposition::DEFAULT),
            Some(Action::RestoreHandler)
        );
        assert_eq!(
            d(11, h(HOST, si), Disposition::DEFAULT),
            Some(Action::RestoreHandler)
        );
        assert_eq!(
            d(1, Disposition::DEFAULT, Disposition::IGNORE),
            Some(Action::KeepOther)
        );
    }

    #[test]
    fn unchanged() {
        let r = crate::disposition::SA_RESTORER;
        assert_eq!(
            d(30, h(HOST, libc::SA_SIGINFO), h(HOST, libc::SA_SIGINFO | r)),
            None
        );
        assert_eq!(
            d(13, Disposition::IGNORE, h(libc::SIG_IGN, libc::SA_ONSTACK)),
            None
        );
        let leave = Policy {
            leave: SignalSet::of(&[30]),
            ..Policy::DEFAULT
        };
        assert_eq!(
            decide(30, &h(HOST, 0), &h(HOST, libc::SA_ONSTACK), &leave),
            Some(Action::KeepOther)
        );
    }

    #[test]
    fn signal_set() {
        let s = SignalSet::of(&[1, 64, 0, 65, -3]);
        assert!(s.contains(1) && s.contains(64));
        assert!(!s.contains(0) && !s.contains(65) && !s.contains(2));
    }
}
