//! Where a core-host thread runs relative to the thread that called it (`CoreAffinity`).
//!
//! A blocking call is two hand-offs (caller -> core-host thread -> caller), and on a small
//! VM most of their cost is cross-CPU wake-ups (docs/performance.md, "Issue 15"). Under
//! [`Affinity::FollowCaller`] a caller that is about to wait records the CPU it runs on
//! ([`caller_cpu`], `sched_getcpu`) in its job, and the core-host thread that takes the job
//! narrows *its own* affinity to that CPU before running it ([`Follower`]), so the wake-ups
//! both ways stay on one CPU. It calls `sched_setaffinity` only when the CPU differs from
//! the one it last moved to, and goes back to the mask it started with when a job carries
//! no CPU (async calls, whose caller keeps running). The caller (a JS thread) is never
//! pinned. [`Affinity::None`] leaves every thread to the scheduler.

use std::mem::MaybeUninit;

/// The `CoreAffinity` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Affinity {
    /// Leave core-host threads to the scheduler.
    #[default]
    None,
    /// Move a core-host thread to the CPU of a blocked caller before it runs the call.
    FollowCaller,
}

/// The calling thread's current CPU, if the kernel tells.
pub fn caller_cpu() -> Option<u32> {
    // SAFETY: sched_getcpu has no preconditions; it returns -1 on failure.
    let cpu = unsafe { libc::sched_getcpu() };
    u32::try_from(cpu).ok()
}

/// A core-host thread's own affinity state: the mask it started with and the CPU it last
/// narrowed itself to.
pub struct Follower {
    original: Option<libc::cpu_set_t>,
    current: Option<u32>,
}

impl Follower {
    /// Reads the calling thread's mask (the one to come back to).
    pub fn new() -> Follower {
        let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
        // SAFETY: pid 0 is the calling thread; `set` is a writable cpu_set_t of the size given.
        let rc = unsafe {
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set.as_mut_ptr())
        };
        Follower {
            // SAFETY: zero-initialised, then filled by the successful call.
            original: (rc == 0).then(|| unsafe { set.assume_init() }),
            current: None,
        }
    }

    /// Moves this thread to `cpu` (or back to its original mask for `None`), unless it is
    /// there already. A CPU outside the original mask (the process was restricted with
    /// `taskset` after the caller looked) is ignored, and so is any failure: affinity is a
    /// speed hint, never a reason for a call to fail.
    pub fn follow(&mut self, cpu: Option<u32>) {
        if cpu == self.current {
            return;
        }
        let Some(original) = self.original else {
            return;
        };
        let set = match cpu {
            Some(c) => {
                let c = c as usize;
                // SAFETY: CPU_ISSET reads a bit of an initialised set; `c` is bounds-checked.
                if c >= libc::CPU_SETSIZE as usize || !unsafe { libc::CPU_ISSET(c, &original) } {
                    return;
                }
                // SAFETY: an all-zero cpu_set_t is the empty set.
                let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
                // SAFETY: `c` < CPU_SETSIZE was checked above.
                unsafe { libc::CPU_SET(c, &mut one) };
                one
            }
            None => original,
        };
        // SAFETY: pid 0 is the calling thread; `set` is an initialised cpu_set_t.
        let rc =
            unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
        if rc == 0 {
            self.current = cpu;
        }
    }
}

impl Default for Follower {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask() -> Vec<usize> {
        // SAFETY: as in Follower::new.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: pid 0 is the calling thread; `set` is writable.
        assert_eq!(
            unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) },
            0
        );
        // SAFETY: reading bits of an initialised set.
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect()
    }

    #[test]
    fn a_follower_narrows_to_one_cpu_and_comes_back() {
        // On a thread of its own, so the test harness's threads keep their masks.
        std::thread::spawn(|| {
            let before = mask();
            let mut f = Follower::new();
            let cpu = caller_cpu().expect("sched_getcpu works on Linux");
            f.follow(Some(cpu));
            assert_eq!(mask(), vec![cpu as usize]);
            f.follow(Some(u32::MAX)); // not in the mask: ignored
            assert_eq!(mask(), vec![cpu as usize]);
            f.follow(None);
            assert_eq!(mask(), before);
        })
        .join()
        .unwrap();
    }
}
