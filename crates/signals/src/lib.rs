//! Snapshot, compare and repair the process's signal dispositions around loading a Go
//! runtime (`libasherah`, or any cgo library) into a JavaScript host.
//!
//! Go's c-shared constructor ORs `SA_ONSTACK` into host handlers (breaking JavaScriptCore's
//! GC-suspend handler, SIGPWR by default) and replaces a host `SIG_IGN` on SIGPIPE. The
//! crate is split so the process-global part stays tiny: [`disposition`] is the only module
//! that calls `sigaction`; [`policy`] is a pure function from (before, after) to an
//! [`Action`]; [`repair()`] glues the two and returns a fixed-capacity [`Report`].
//! Nothing here allocates, so [`Snapshot::capture`] and [`repair()`] may run inside a
//! `dlopen` wrapper (the LD_PRELOAD library) as well as on the shim's core-host thread.
//!
//! Typical use, around the first load of a Go library:
//!
//! ```no_run
//! use asherah_shim_signals::{repair, Policy, Snapshot};
//! let before = Snapshot::capture();
//! // dlopen("libasherah.so") and the first call into it (runtime initialised) go here.
//! // SAFETY: no library whose handler `before` recorded was unloaded since the capture.
//! let report = unsafe { repair(&before, &Policy::DEFAULT) };
//! for d in report.iter() {
//!     eprintln!("{d}");
//! }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

pub mod disposition;
pub mod fmtbuf;
pub mod mask;
pub mod names;
pub mod policy;
pub mod report;
pub mod snapshot;

pub use disposition::{Disposition, SA_RESTORER};
pub use fmtbuf::StackBuf;
pub use mask::{async_signal_set, SYNCHRONOUS};
pub use names::signal_name;
pub use policy::{decide, Action, Policy, SignalSet};
pub use report::{repair, Decision, Report};
pub use snapshot::Snapshot;

/// Highest signal number on Linux (the kernel's `_NSIG - 1`); signals are `1..=MAX_SIGNO`.
pub const MAX_SIGNO: libc::c_int = 64;
