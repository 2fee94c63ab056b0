//! The one place that reads and writes the kernel's per-signal disposition.
//!
//! A [`Disposition`] is a plain copy of what `sigaction(2)` reports: the handler address
//! (or `SIG_DFL`/`SIG_IGN`), the flags and the blocked-while-handling mask (as a 64-bit
//! set, enough for every Linux signal). `read` and `install` are thin, allocation-free
//! wrappers around `sigaction`, and both are async-signal-safe. `SA_RESTORER` is an ABI
//! detail the C library adds on every write, so it is ignored when flags are compared.

use core::fmt;
use core::mem::MaybeUninit;

use libc::c_int;

/// `SA_RESTORER` on x86_64/aarch64 Linux; the libc crate does not export it for glibc.
pub const SA_RESTORER: c_int = 0x0400_0000;

/// One signal's disposition, as reported by `sigaction(sig, NULL, &old)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Disposition {
    /// `SIG_DFL` (0), `SIG_IGN` (1) or the handler's address.
    pub handler: usize,
    /// `sa_flags` as reported, `SA_RESTORER` included.
    pub flags: c_int,
    /// `sa_mask`: bit `n - 1` set when signal `n` is blocked while the handler runs.
    pub mask: u64,
}

impl Disposition {
    /// `SIG_DFL`.
    pub const DEFAULT: Disposition = Disposition {
        handler: libc::SIG_DFL,
        flags: 0,
        mask: 0,
    };
    /// `SIG_IGN`.
    pub const IGNORE: Disposition = Disposition {
        handler: libc::SIG_IGN,
        flags: 0,
        mask: 0,
    };

    /// Reads the current disposition of `signo`; `Err(errno)` when `sigaction` rejects it
    /// (SIGKILL and SIGSTOP are readable; glibc rejects its reserved 32 and 33).
    /// Async-signal-safe: one system call, no allocation.
    pub fn read(signo: c_int) -> Result<Disposition, c_int> {
        let mut old = MaybeUninit::<libc::sigaction>::zeroed();
        // SAFETY: a null `act` only queries; `old` is a valid, writable sigaction.
        let rc = unsafe { libc::sigaction(signo, core::ptr::null(), old.as_mut_ptr()) };
        if rc != 0 {
            return Err(errno());
        }
        // SAFETY: sigaction returned 0, so it filled `old` (and zeroed is valid anyway).
        let old = unsafe { old.assume_init() };
        Ok(Disposition {
            handler: old.sa_sigaction,
            flags: old.sa_flags,
            mask: mask_bits(&old.sa_mask),
        })
    }

    /// Makes `self` the disposition of `signo`. Async-signal-safe.
    ///
    /// # Safety
    /// `self.handler` must be `SIG_DFL`, `SIG_IGN` or the address of a function that is still
    /// mapped and has the calling convention `self.flags` announces (`SA_SIGINFO` or not):
    /// in practice, a value read with [`Disposition::read`] from a library not unloaded since.
    pub unsafe fn install(&self, signo: c_int) -> Result<(), c_int> {
        // SAFETY: an all-zero sigaction is a valid value (SIG_DFL, empty mask, no flags).
        let mut act: libc::sigaction = unsafe { core::mem::zeroed() };
        act.sa_sigaction = self.handler;
        act.sa_flags = self.flags & !SA_RESTORER; // the C library supplies its own restorer
        act.sa_mask = mask_set(self.mask);
        // SAFETY: `act` is initialised; the caller guarantees the handler is valid code.
        let rc = unsafe { libc::sigaction(signo, &act, core::ptr::null_mut()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(errno())
        }
    }

    /// `SIG_DFL`: the kernel's default action.
    pub fn is_default(&self) -> bool {
        self.handler == libc::SIG_DFL
    }
    /// `SIG_IGN`: the signal is discarded.
    pub fn is_ignore(&self) -> bool {
        self.handler == libc::SIG_IGN
    }
    /// A real function, not `SIG_DFL`/`SIG_IGN`.
    pub fn is_handler(&self) -> bool {
        !self.is_default() && !self.is_ignore()
    }
    /// Whether the handler runs on the thread's alternate signal stack (`SA_ONSTACK`).
    pub fn has_onstack(&self) -> bool {
        self.flags & libc::SA_ONSTACK != 0
    }
    /// Whether the handler takes `siginfo_t` and a context (`SA_SIGINFO`).
    pub fn has_siginfo(&self) -> bool {
        self.flags & libc::SA_SIGINFO != 0
    }
    /// Flags without `SA_RESTORER`, the part that is compared.
    pub fn semantic_flags(&self) -> c_int {
        self.flags & !SA_RESTORER
    }
    /// Same handler and same flags (ignoring `SA_RESTORER` and the mask).
    pub fn same_as(&self, other: &Disposition) -> bool {
        self.handler == other.handler && self.semantic_flags() == other.semantic_flags()
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.handler {
            libc::SIG_DFL => f.write_str("SIG_DFL"),
            libc::SIG_IGN => f.write_str("SIG_IGN"),
            h => write!(f, "handler={h:#x} flags={:#x}", self.semantic_flags()),
        }
    }
}

fn errno() -> c_int {
    // SAFETY: __errno_location returns this thread's errno slot, always valid to read.
    unsafe { *libc::__errno_location() }
}

fn mask_bits(set: &libc::sigset_t) -> u64 {
    let mut bits = 0u64;
    for signo in 1..=64 {
        // SAFETY: `set` is a valid sigset_t; sigismember only reads it.
        if unsafe { libc::sigismember(set, signo) } == 1 {
            bits |= 1 << (signo - 1);
        }
    }
    bits
}

fn mask_set(bits: u64) -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: `set` is writable storage for a sigset_t; sigemptyset initialises it.
    unsafe { libc::sigemptyset(set.as_mut_ptr()) };
    for signo in 1..=64 {
        if bits & (1 << (signo - 1)) != 0 {
            // SAFETY: `set` was initialised by sigemptyset; invalid numbers only yield EINVAL.
            unsafe { libc::sigaddset(set.as_mut_ptr(), signo) };
        }
    }
    // SAFETY: initialised by sigemptyset above.
    unsafe { set.assume_init() }
}
