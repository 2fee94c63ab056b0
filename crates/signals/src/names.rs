//! Human-readable signal names that need no allocation.
//!
//! Standard signals come from a static table (Linux x86_64/aarch64 numbering); real-time
//! signals are named relative to the C library's `SIGRTMIN` (34 on glibc, 35 on musl),
//! e.g. `SIGRTMIN+3`, because that is how programs refer to them.

use libc::c_int;

use crate::MAX_SIGNO;

const STANDARD: [&str; 32] = [
    "SIG0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

const REALTIME: [&str; 31] = [
    "SIGRTMIN",
    "SIGRTMIN+1",
    "SIGRTMIN+2",
    "SIGRTMIN+3",
    "SIGRTMIN+4",
    "SIGRTMIN+5",
    "SIGRTMIN+6",
    "SIGRTMIN+7",
    "SIGRTMIN+8",
    "SIGRTMIN+9",
    "SIGRTMIN+10",
    "SIGRTMIN+11",
    "SIGRTMIN+12",
    "SIGRTMIN+13",
    "SIGRTMIN+14",
    "SIGRTMIN+15",
    "SIGRTMIN+16",
    "SIGRTMIN+17",
    "SIGRTMIN+18",
    "SIGRTMIN+19",
    "SIGRTMIN+20",
    "SIGRTMIN+21",
    "SIGRTMIN+22",
    "SIGRTMIN+23",
    "SIGRTMIN+24",
    "SIGRTMIN+25",
    "SIGRTMIN+26",
    "SIGRTMIN+27",
    "SIGRTMIN+28",
    "SIGRTMIN+29",
    "SIGRTMIN+30",
];

/// The conventional name of `signo`: `SIGPWR`, `SIGPIPE`, `SIGRTMIN+2`, or `SIG32`/`SIG33`
/// for the numbers glibc reserves; `SIG?` when out of range. Async-signal-safe.
pub fn signal_name(signo: c_int) -> &'static str {
    if (0..32).contains(&signo) {
        return STANDARD[signo as usize];
    }
    if !(32..=MAX_SIGNO).contains(&signo) {
        return "SIG?";
    }
    let rtmin = libc::SIGRTMIN();
    if signo >= rtmin {
        return REALTIME
            .get((signo - rtmin) as usize)
            .copied()
            .unwrap_or("SIG?");
    }
    match signo {
        32 => "SIG32",
        33 => "SIG33",
        _ => "SIG34",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(signal_name(libc::SIGPWR), "SIGPWR");
        assert_eq!(signal_name(libc::SIGPIPE), "SIGPIPE");
        assert_eq!(signal_name(libc::SIGURG), "SIGURG");
        assert_eq!(signal_name(libc::SIGRTMIN()), "SIGRTMIN");
        assert_eq!(signal_name(libc::SIGRTMIN() + 2), "SIGRTMIN+2");
        assert_eq!(signal_name(MAX_SIGNO), "SIGRTMIN+30");
        assert_eq!(signal_name(0), "SIG0");
        assert_eq!(signal_name(65), "SIG?");
        assert_eq!(signal_name(-1), "SIG?");
    }
}
