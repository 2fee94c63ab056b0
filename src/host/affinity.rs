//! Where a core-host thread runs relative to the thread that called it (`CoreAffinity`).
//!
//! A blocking call is two hand-offs (caller -> core-host thread -> caller), and on a small
//! VM much of their cost is cross-CPU wake-ups. Under [`Affinity::FollowCaller`] a caller
//! that is about to wait (a sync call, or an async one with at most one other call in
//! flight) records the CPU it runs on ([`caller_cpu`], `sched_getcpu`) in its job, and the
//! core-host thread that takes the job narrows *its own* affinity to that CPU before
//! running it ([`Follower`]). It calls `sched_setaffinity` only when the CPU differs from
//! the one it last moved to, and goes back to the mask it started with for a job that
//! carries no CPU. The caller (a JS thread) is never pinned. [`Affinity::None`], the
//! default, leaves every thread to the scheduler: measured on 2 vCPUs, following was no
//! clear win (docs/performance.md, "Issue 15").
//!
//! A thread inherits the affinity of the thread that creates it, and the Go runtime creates
//! its threads (Ms) from whichever thread runs Go code at the time, so an M born during a
//! call on a narrowed core-host thread would stay on that one CPU for good (measured: all
//! of Go's threads ended up on CPU 0). Two things prevent that: runtime start-up (`setup`)
//! is never narrowed, and a follower looks at the process's thread count every
//! [`REPAIR_EVERY`] narrowed jobs and whenever it widens again; when the count changed (or
//! the last look listed fewer threads than it counted), every thread named like a core-host
//! thread (new threads inherit the creator's name) that is not itself a follower (of any
//! pool) gets the original mask back.

use std::mem::MaybeUninit;

use parking_lot::Mutex;

/// How many narrowed jobs a follower runs between two looks at the thread count.
pub(crate) const REPAIR_EVERY: u32 = 64;
/// The name prefix of core-host threads, which threads they create inherit.
pub(crate) const THREAD_PREFIX: &str = "asherah-core-";

/// The `CoreAffinity` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Affinity {
    /// Leave core-host threads to the scheduler.
    #[default]
    None,
    /// Move a core-host thread to the CPU of a blocked caller before it runs the call.
    FollowCaller,
}

/// The calling thread's current CPU, if the kernel tells.
pub(crate) fn caller_cpu() -> Option<u32> {
    // SAFETY: sched_getcpu has no preconditions; it returns -1 on failure.
    let cpu = unsafe { libc::sched_getcpu() };
    u32::try_from(cpu).ok()
}

/// The kernel ids of every live follower in the process, whichever pool it serves: a
/// repair leaves these alone. One list for the process, not one per pool, so that one
/// pool's repair never widens another pool's narrowed thread behind its back (its
/// [`Follower::current`] would then be wrong until the caller's CPU changed).
static FOLLOWERS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// A core-host thread's own affinity state: the mask it started with, the CPU it last
/// narrowed itself to, and what the stray-thread repair needs.
pub(crate) struct Follower {
    original: Option<libc::cpu_set_t>,
    current: Option<u32>,
    tid: libc::pid_t,
    narrowed_jobs: u32,
    threads_seen: usize,
}

impl Follower {
    /// Reads the calling thread's mask (the one to come back to) and registers the thread
    /// as a follower until the value is dropped. Create and drop it on the thread it serves.
    pub(crate) fn new() -> Follower {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        FOLLOWERS.lock().push(tid);
        let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
        // SAFETY: pid 0 is the calling thread; `set` is a writable cpu_set_t of the size given.
        let rc = unsafe {
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set.as_mut_ptr())
        };
        Follower {
            // SAFETY: zero-initialised, then filled by the successful call.
            original: (rc == 0).then(|| unsafe { set.assume_init() }),
            current: None,
            tid,
            narrowed_jobs: 0,
            threads_seen: 0,
        }
    }

    /// Called after each job: while narrowed, every [`REPAIR_EVERY`] jobs, gives threads
    /// created from a narrowed core-host thread the original mask back (module docs).
    pub(crate) fn after_job(&mut self) {
        if self.current.is_none() {
            return;
        }
        self.narrowed_jobs = self.narrowed_jobs.wrapping_add(1);
        if self.narrowed_jobs % REPAIR_EVERY == 1 {
            self.repair();
        }
    }

    /// Gives strays the original mask back if the thread count changed since last time.
    fn repair(&mut self) {
        let (Some(original), Some(n)) = (self.original, thread_count()) else {
            return;
        };
        if n != self.threads_seen {
            let listed = restore_strays(&original, &FOLLOWERS.lock());
            // Reading /proc/self/task while another thread exits can miss threads (the
            // kernel's listing can end early at a thread that is going away). A listing
            // shorter than the count is looked at again at the next repair, even if the
            // count is then back where it was.
            self.threads_seen = if listed >= n { n } else { 0 };
        }
    }

    /// Moves this thread to `cpu` (or back to its original mask for `None`), unless it is
    /// there already. A CPU outside the original mask (the process was restricted with
    /// `taskset` after the caller looked) is ignored, and so is any failure: affinity is a
    /// speed hint, never a reason for a call to fail.
    pub(crate) fn follow(&mut self, cpu: Option<u32>) {
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
            let widened = cpu.is_none();
            self.current = cpu;
            if widened {
                // Leaving a narrowed stretch (e.g. sync calls, then only async ones): a
                // thread born since the last look would otherwise keep the narrow mask.
                self.repair();
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let mut followers = FOLLOWERS.lock();
        if let Some(i) = followers.iter().position(|&t| t == self.tid) {
            followers.swap_remove(i);
        }
    }
}

/// The process's thread count (`/proc/self/stat`, field 20).
fn thread_count() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(17)?.parse().ok()
}

/// Gives every thread named like a core-host thread, other than `own`, the mask `original`.
/// Returns how many threads the listing showed (0 if it could not be read).
fn restore_strays(original: &libc::cpu_set_t, own: &[libc::pid_t]) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut listed = 0;
    for entry in dir.flatten() {
        listed += 1;
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if own.contains(&tid) {
            continue;
        }
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(THREAD_PREFIX) {
            continue;
        }
        // A failure (ESRCH: the thread exited since) leaves nothing to repair.
        // SAFETY: `tid` is a thread of this process or has exited (then the call fails with
        // ESRCH); `original` is an initialised cpu_set_t.
        let _ = unsafe {
            libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), original)
        };
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Followers repair every stray in the process, so tests that narrow threads or look at
    /// masks take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn mask() -> Vec<usize> {
        // SAFETY: an all-zero cpu_set_t is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: pid 0 is the calling thread; `set` is writable and `size` bytes long.
        let rc = unsafe { libc::sched_getaffinity(0, size, &mut set) };
        assert_eq!(rc, 0);
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: reading a bit below CPU_SETSIZE of an initialised set.
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect()
    }

    #[test]
    fn a_follower_narrows_to_one_cpu_and_comes_back() {
        let _turn = SERIAL.lock();
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

    #[test]
    fn threads_born_on_a_narrowed_thread_get_the_original_mask_back() {
        let _turn = SERIAL.lock();
        // The same situation as a Go M created during a narrowed call: a thread named like a
        // core-host thread, spawned from one while it is on a single CPU.
        std::thread::Builder::new()
            .name(format!("{THREAD_PREFIX}9"))
            .spawn(|| {
                let before = mask();
                let mut f = Follower::new();
                f.follow(Some(caller_cpu().unwrap()));
                // The child reports its mask whenever asked, and exits when the sender goes.
                let (tx, rx) = std::sync::mpsc::channel();
                let (ask_tx, ask_rx) = std::sync::mpsc::channel::<()>();
                let child = std::thread::spawn(move || {
                    // Unnamed std threads keep the creator's kernel name, as clone does.
                    tx.send(mask()).unwrap();
                    while ask_rx.recv().is_ok() {
                        tx.send(mask()).unwrap();
                    }
                });
                let born_with = rx.recv().unwrap();
                assert_eq!(born_with.len(), 1, "inherits the narrow mask");
                // The first narrowed job looks at the thread count. Other tests' threads come
                // and go meanwhile, and a listing that misses the child must be retried at
                // the next look, REPAIR_EVERY jobs later: allow two of those.
                let mut after = Vec::new();
                for _ in 0..3 {
                    for _ in 0..REPAIR_EVERY {
                        f.after_job();
                    }
                    ask_tx.send(()).unwrap();
                    after = rx.recv().unwrap();
                    if after != born_with {
                        break;
                    }
                }
                drop(ask_tx);
                child.join().unwrap();
                f.follow(None);
                if before.len() > 1 {
                    assert_eq!(after, before, "the stray got the original mask back");
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn a_repair_leaves_other_followers_narrowed() {
        // Two pools' followers: B's repair must not widen A, which would then believe it is
        // still on its CPU and skip the next narrowing.
        let _turn = SERIAL.lock();
        let (a_narrowed_tx, a_narrowed_rx) = std::sync::mpsc::channel::<Vec<usize>>();
        let (b_done_tx, b_done_rx) = std::sync::mpsc::channel::<()>();
        let a = std::thread::Builder::new()
            .name(format!("{THREAD_PREFIX}7"))
            .spawn(move || {
                let mut f = Follower::new();
                f.follow(Some(caller_cpu().unwrap()));
                a_narrowed_tx.send(mask()).unwrap();
                b_done_rx.recv().unwrap();
                let after = mask();
                f.follow(None);
                after
            })
            .unwrap();
        let narrowed = a_narrowed_rx.recv().unwrap();
        assert_eq!(narrowed.len(), 1);
        std::thread::Builder::new()
            .name(format!("{THREAD_PREFIX}8"))
            .spawn(|| {
                let mut f = Follower::new();
                f.follow(Some(caller_cpu().unwrap()));
                std::thread::spawn(|| ()).join().unwrap(); // the thread count changes
                f.follow(None); // widening repairs
            })
            .unwrap()
            .join()
            .unwrap();
        b_done_tx.send(()).unwrap();
        assert_eq!(a.join().unwrap(), narrowed, "B's repair left A on its CPU");
    }

    #[test]
    fn thread_count_reads_this_process() {
        assert!(thread_count().unwrap() >= 1);
    }
}
