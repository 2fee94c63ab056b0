//! The signal mask that threads we create start with: every asynchronous signal blocked.
//!
//! Synchronous signals (faults, traps, bad syscalls, abort) are raised by the thread's own
//! instruction and must stay deliverable to it; everything else is process- or
//! thread-directed from outside and is kept away from threads that run foreign runtimes.
//! Shared by the shim's core-host threads and the preload's optional thread masking.

use core::mem::MaybeUninit;

use libc::c_int;

/// Signals left unblocked: caused by the instruction the thread itself executes.
pub const SYNCHRONOUS: [c_int; 7] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGSYS,
    libc::SIGABRT,
];

/// Every signal except [`SYNCHRONOUS`] (SIGKILL and SIGSTOP cannot be blocked anyway).
pub fn async_signal_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises the set; sigdelset only edits an initialised set.
    unsafe {
        libc::sigfillset(set.as_mut_ptr());
        for sig in SYNCHRONOUS {
            libc::sigdelset(set.as_mut_ptr(), sig);
        }
        set.assume_init()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_stay_deliverable_everything_else_is_blocked() {
        let set = async_signal_set();
        // glibc keeps 32 and 33 for itself (sigfillset leaves them out): check the rest.
        for sig in (1..32).chain(libc::SIGRTMIN()..=libc::SIGRTMAX()) {
            // SAFETY: `set` is initialised.
            let member = unsafe { libc::sigismember(&set, sig) } == 1;
            assert_eq!(member, !SYNCHRONOUS.contains(&sig), "signal {sig}");
        }
    }
}
