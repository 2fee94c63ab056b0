//! Test support: run a closure in a forked child so that disposition changes never touch
//! the test harness process, with `alarm(2)` as a watchdog and a pipe for the failure text.
//! Children run one at a time (a global lock), as signal state is process-wide.
#![allow(dead_code)]

use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::Mutex;

use libc::{c_int, c_void};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `f` in a child process; panics (with the child's panic message) if it fails,
/// crashes or runs longer than `timeout_s` seconds.
pub fn in_child(timeout_s: u32, f: fn()) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only runs `f` and exits with _exit; glibc resets malloc locks at fork.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: closing our copy of the read end, a descriptor we own.
        unsafe { libc::close(fds[0]) };
        // SAFETY: alarm only arms a timer; SIGALRM's default action ends the child.
        unsafe { libc::alarm(timeout_s) };
        let code = match std::panic::catch_unwind(f) {
            Ok(()) => 0,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("panic");
                // SAFETY: writing a valid byte slice to the pipe we own.
                unsafe { libc::write(fds[1], msg.as_ptr().cast(), msg.len()) };
                1
            }
        };
        // SAFETY: leave without running the harness's atexit handlers or destructors.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: closing the parent's copy of the write end, a descriptor we own.
    unsafe { libc::close(fds[1]) };
    // SAFETY: fds[0] is an open descriptor nobody else owns; File closes it.
    let mut reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let mut msg = String::new();
    let _ = reader.read_to_string(&mut msg);
    let mut status = 0;
    // SAFETY: waiting for our own child; `status` is writable.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        if sig == libc::SIGALRM {
            panic!("child timed out after {timeout_s}s");
        }
        panic!("child killed by signal {sig}");
    }
    assert_eq!(libc::WEXITSTATUS(status), 0, "child failed: {msg}");
}

/// An `SA_SIGINFO` handler standing in for a host's (JSC's) handler.
pub extern "C" fn host_handler(_: c_int, _: *mut libc::siginfo_t, _: *mut c_void) {
    // black_box keeps the two bodies different: identical (empty) functions get folded into
    // one address by an optimised build, and the tests need two distinct handlers.
    std::hint::black_box(1);
}
/// A different handler standing in for Go's.
pub extern "C" fn go_handler(_: c_int, _: *mut libc::siginfo_t, _: *mut c_void) {
    std::hint::black_box(2);
}

/// Installs `handler` (`SIG_DFL`, `SIG_IGN` or a function address) with `flags`.
pub fn set(signo: c_int, handler: usize, flags: c_int) {
    // SAFETY: an all-zero sigaction is valid; handlers passed here are the functions above
    // (SA_SIGINFO signature) or SIG_DFL/SIG_IGN.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    act.sa_sigaction = handler;
    act.sa_flags = flags;
    // SAFETY: `act` is initialised; no old value requested.
    let rc = unsafe { libc::sigaction(signo, &act, std::ptr::null_mut()) };
    assert_eq!(rc, 0);
}

/// Does what Go's `setsigstack` does: read the disposition and OR in `SA_ONSTACK`.
pub fn or_onstack(signo: c_int) {
    // SAFETY: querying into a zeroed, writable sigaction.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: null `act` only queries.
    let rc = unsafe { libc::sigaction(signo, std::ptr::null(), &mut act) };
    assert_eq!(rc, 0);
    act.sa_flags |= libc::SA_ONSTACK;
    // SAFETY: writing back the handler we just read, which is valid code.
    let rc = unsafe { libc::sigaction(signo, &act, std::ptr::null_mut()) };
    assert_eq!(rc, 0);
}

pub fn host() -> usize {
    host_handler as *const () as usize
}
pub fn go() -> usize {
    go_handler as *const () as usize
}
