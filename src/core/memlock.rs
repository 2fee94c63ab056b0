//! Locked-memory headroom for the Go core, checked before libasherah is loaded.
//!
//! libasherah keeps every key in memguard buffers, which `mlock` their pages and panic,
//! aborting the whole process, when `mlock` fails. Measured with libasherah 0.3.9 and no
//! `CAP_IPC_LOCK`: setup and the first calls need about 32 KiB of `RLIMIT_MEMLOCK`, and each
//! cached session (one partition's intermediate key) one more 4 KiB page, so a 64 KiB limit
//! aborts at the eighth partition. Before loading Go we therefore raise the soft limit to
//! the hard one (allowed without privilege) and refuse the Go core, with a typed error that
//! names the fix, when the limit still cannot hold the configured cache. The native core
//! needs none of this: it falls back to unlocked memory and reports it.

use super::CoreError;

/// What setup and the first calls lock, rounded up from the measured 28-32 KiB.
const BASE_BYTES: u64 = 48 << 10;
/// What each cached or in-flight session locks (one page for its intermediate key).
const PER_SESSION_BYTES: u64 = 4 << 10;
/// libasherah's default `SessionCacheMaxSize`.
pub(crate) const GO_DEFAULT_SESSION_CACHE: u64 = 1000;

/// `CAP_IPC_LOCK`'s bit in the capability sets (linux/capability.h).
const CAP_IPC_LOCK: u32 = 14;

/// The locked memory the Go core needs with `sessions` sessions cached or in flight.
pub(crate) fn needed_bytes(sessions: u64) -> u64 {
    BASE_BYTES + PER_SESSION_BYTES * sessions
}

/// Makes sure the Go core can lock what `sessions` sessions need, raising the soft limit
/// if that is enough. Returns a note for the log when it changed the limit.
pub(crate) fn ensure_for_go(sessions: u64) -> Result<Option<String>, CoreError> {
    if has_ipc_lock() {
        return Ok(None);
    }
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out pointer for getrlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0 {
        return Ok(None); // cannot tell; let the core try
    }
    let need = needed_bytes(sessions);
    let mut note = None;
    if lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < need && lim.rlim_max > lim.rlim_cur {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; raising the soft limit up to the hard one
        // needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &raised) } == 0 {
            note = Some(format!(
                "raised RLIMIT_MEMLOCK's soft limit from {} to {} for the Go core's memguard",
                show(lim.rlim_cur),
                show(lim.rlim_max)
            ));
            lim.rlim_cur = lim.rlim_max;
        }
    }
    if lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur >= need {
        return Ok(note);
    }
    Err(CoreError::BadConfig(format!(
        "the Go core needs about {} KiB of locked memory for {sessions} session(s), but \
         RLIMIT_MEMLOCK is {} and this process lacks CAP_IPC_LOCK; libasherah's memguard \
         aborts the whole process when mlock fails. Raise the limit (ulimit -l, or \
         LimitMEMLOCK= / --ulimit memlock=), grant CAP_IPC_LOCK, lower SessionCacheMaxSize \
         or set EnableSessionCaching false, or use the native core",
        need >> 10,
        show(lim.rlim_cur)
    )))
}

fn show(n: libc::rlim_t) -> String {
    if n == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        format!("{} KiB", n >> 10)
    }
}

/// Whether `CAP_IPC_LOCK` is in the effective set (then mlock ignores the limit).
fn has_ipc_lock() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0)
}
