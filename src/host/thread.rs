//! Spawning core-host threads, and the [`CoreThread`] token that proves where code runs.
//!
//! A thread is created with `pthread` attributes we choose (std's builder sets the stack size
//! through `pthread_attr_setstacksize`), inherits a signal mask in which every asynchronous
//! signal is blocked (we block them in the spawning thread around `pthread_create` and put
//! the old mask back afterwards, so there is no window in which the new thread can take
//! one), and installs its own alternate signal stack. Only synchronous faults stay
//! deliverable. JSC never learns about these threads, so it never signals them, and a Go
//! runtime first entered here inherits this mask for every thread it creates.

use std::cell::Cell;
use std::io;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr;
use std::thread::JoinHandle;

/// Size of each thread's alternate signal stack.
const ALTSTACK_SIZE: usize = 64 * 1024;

thread_local! {
    static ON_CORE_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Proof that the current code runs on a core-host thread. It is created only by this
/// module's thread entry, is neither `Send` nor `Sync`, and is lent (never given) to jobs,
/// so a function that takes `&CoreThread` cannot be called from a JS thread.
pub(crate) struct CoreThread {
    _not_send: PhantomData<*const ()>,
}

impl CoreThread {
    /// Whether the calling thread is a core-host thread (a runtime double-check for code
    /// that also takes the token).
    pub(crate) fn is_current() -> bool {
        ON_CORE_THREAD.with(|c| c.get())
    }
}

/// What a thread can observe about itself: used by tests to prove the guarantees above.
#[derive(Debug, Clone)]
pub(crate) struct ThreadFacts {
    pub stack_size: usize,
    pub blocked_signals: Vec<libc::c_int>,
    pub altstack_size: usize,
    pub is_core_thread: bool,
}

impl ThreadFacts {
    /// Reads the calling thread's stack size, blocked signals and alternate stack.
    pub(crate) fn current() -> ThreadFacts {
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        let mut stack_size = 0usize;
        // SAFETY: pthread_getattr_np initialises `attr` on success; we read it then destroy it.
        unsafe {
            if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) == 0 {
                libc::pthread_attr_getstacksize(attr.as_ptr(), &mut stack_size);
                libc::pthread_attr_destroy(attr.as_mut_ptr());
            }
        }
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        let mut blocked = Vec::new();
        // SAFETY: a null new-set only reads the current mask into `set`.
        let ok = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, ptr::null(), set.as_mut_ptr()) };
        if ok == 0 {
            for sig in 1..=libc::SIGRTMAX() {
                // SAFETY: `set` was initialised by pthread_sigmask above.
                if unsafe { libc::sigismember(set.as_ptr(), sig) } == 1 {
                    blocked.push(sig);
                }
            }
        }
        let mut ss = MaybeUninit::<libc::stack_t>::zeroed();
        // SAFETY: a null new stack only reads the current alternate stack.
        let altstack_size = if unsafe { libc::sigaltstack(ptr::null(), ss.as_mut_ptr()) } == 0 {
            // SAFETY: initialised by the successful call.
            let ss = unsafe { ss.assume_init() };
            if ss.ss_flags & libc::SS_DISABLE != 0 {
                0
            } else {
                ss.ss_size
            }
        } else {
            0
        };
        ThreadFacts {
            stack_size,
            blocked_signals: blocked,
            altstack_size,
            is_core_thread: CoreThread::is_current(),
        }
    }
}

/// Spawns a core-host thread running `body` with the token.
pub(crate) fn spawn<F>(name: String, stack_size: usize, body: F) -> io::Result<JoinHandle<()>>
where
    F: FnOnce(&CoreThread) + Send + 'static,
{
    let async_signals = asherah_shim_signals::async_signal_set();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: `async_signals` is an initialised set; `old` receives the caller's mask, which
    // is restored below on every path.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &async_signals, old.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    let spawned = std::thread::Builder::new()
        .name(name)
        .stack_size(stack_size)
        .spawn(move || {
            let _altstack = AltStack::install();
            ON_CORE_THREAD.with(|c| c.set(true));
            let token = CoreThread {
                _not_send: PhantomData,
            };
            body(&token);
            ON_CORE_THREAD.with(|c| c.set(false));
        });
    // SAFETY: `old` was filled by the successful pthread_sigmask above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), ptr::null_mut()) };
    spawned
}

/// The thread's own alternate signal stack, removed and unmapped when the thread ends.
struct AltStack {
    base: *mut libc::c_void,
}

impl AltStack {
    fn install() -> Option<AltStack> {
        // SAFETY: an anonymous private mapping has no preconditions; failure is checked.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                ALTSTACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let ss = libc::stack_t {
            ss_sp: base,
            ss_flags: 0,
            ss_size: ALTSTACK_SIZE,
        };
        // SAFETY: `ss` describes the mapping above, which lives until `drop` disables it.
        if unsafe { libc::sigaltstack(&ss, ptr::null_mut()) } != 0 {
            // SAFETY: unmapping the region we just mapped and never published.
            unsafe { libc::munmap(base, ALTSTACK_SIZE) };
            return None;
        }
        Some(AltStack { base })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let ss = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: disabling first means no handler can be running on the region we unmap;
        // we are on the owning thread and not inside a signal handler.
        unsafe {
            if libc::sigaltstack(&ss, ptr::null_mut()) == 0 {
                libc::munmap(self.base, ALTSTACK_SIZE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_threads_have_the_promised_stack_mask_and_altstack() {
        let (tx, rx) = std::sync::mpsc::channel();
        let h = spawn("test-core".into(), 8 << 20, move |_ct| {
            tx.send(ThreadFacts::current()).unwrap();
        })
        .unwrap();
        let facts = rx.recv().unwrap();
        h.join().unwrap();
        assert!(facts.is_core_thread);
        assert!(facts.stack_size >= 8 << 20, "stack {}", facts.stack_size);
        for sig in [
            libc::SIGPWR,
            libc::SIGPIPE,
            libc::SIGURG,
            libc::SIGINT,
            libc::SIGRTMIN(),
        ] {
            assert!(
                facts.blocked_signals.contains(&sig),
                "signal {sig} not blocked"
            );
        }
        for sig in asherah_shim_signals::SYNCHRONOUS {
            assert!(!facts.blocked_signals.contains(&sig), "fault {sig} blocked");
        }
        assert_eq!(facts.altstack_size, ALTSTACK_SIZE);
        assert!(!CoreThread::is_current());
    }

    #[test]
    fn spawning_leaves_the_callers_mask_alone() {
        let before = ThreadFacts::current().blocked_signals;
        spawn("test-core".into(), 1 << 20, |_| {})
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(ThreadFacts::current().blocked_signals, before);
    }
}
