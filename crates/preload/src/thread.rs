//! The `pthread_create` interposer. A thread that would get less than the minimum stack
//! (`ASHERAH_SHIM_MIN_STACK`, default 8 MiB) is created from a fresh attribute object that
//! copies every property of the caller's one (detach state, guard size, scheduling
//! inheritance, policy and priority, scope, CPU affinity, signal mask) with the larger
//! stack size; `pthread_attr_t` itself is never copied byte-wise. A caller that supplied
//! its own stack memory is left alone. With `ASHERAH_SHIM_BLOCK_SIGNALS=1` the thread also
//! starts with asynchronous signals blocked (the creating thread's mask is widened around
//! the real call and restored; synchronous fault signals stay deliverable).

use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use libc::{c_int, c_void, pthread_attr_t, pthread_t};

use crate::sys::{self, StartFn};
use crate::{config, log};

/// `pthread_create(3)` with the stack minimum and optional signal mask applied.
///
/// # Safety
/// As `pthread_create(3)`.
#[no_mangle]
pub unsafe extern "C" fn pthread_create(
    thread: *mut pthread_t,
    attr: *const pthread_attr_t,
    start: StartFn,
    arg: *mut c_void,
) -> c_int {
    let Some(real) = sys::pthread_create() else {
        return libc::EAGAIN;
    };
    let mut storage = MaybeUninit::<pthread_attr_t>::uninit();
    // SAFETY: `attr` is the caller's (NULL or initialised); `storage` is ours to initialise.
    let adjusted = catch_unwind(AssertUnwindSafe(|| unsafe {
        raise_stack(attr, storage.as_mut_ptr())
    }))
    .ok()
    .flatten();
    let use_attr = if adjusted.is_some() {
        storage.as_ptr()
    } else {
        attr
    };

    let block = config::block_signals();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    if block {
        let set = asherah_shim_signals::async_signal_set();
        // SAFETY: valid sets; only this thread's mask changes, and is restored below.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, old.as_mut_ptr()) };
    }
    // SAFETY: the caller's arguments, with `use_attr` an initialised attribute or NULL.
    let rc = unsafe { real(thread, use_attr, start, arg) };
    if block {
        // SAFETY: `old` was filled by the pthread_sigmask call above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), ptr::null_mut()) };
    }
    if adjusted.is_some() {
        // SAFETY: raise_stack initialised `storage`; pthread_create does not keep it.
        unsafe { libc::pthread_attr_destroy(storage.as_mut_ptr()) };
    }
    if (adjusted.is_some() || block) && log::enabled() {
        let start = start.map_or(0, |f| f as usize);
        let _ = catch_unwind(|| match adjusted {
            Some((from, to)) => log::line(format_args!(
                "thread start={start:#x} stack {from} -> {to}{} rc={rc}",
                if block { " signals=blocked" } else { "" }
            )),
            None => log::line(format_args!(
                "thread start={start:#x} signals=blocked rc={rc}"
            )),
        });
    }
    rc
}

/// When the thread would get less than the minimum stack, initialises `out` as a copy of
/// `attr` with the minimum and returns `(requested, minimum)`; `None` leaves `out` alone.
///
/// # Safety
/// `attr` is NULL or an initialised attribute object; `out` is writable storage.
unsafe fn raise_stack(
    attr: *const pthread_attr_t,
    out: *mut pthread_attr_t,
) -> Option<(usize, usize)> {
    let min = config::min_stack();
    if min == 0 {
        return None;
    }
    let requested = if attr.is_null() {
        default_stack_size()?
    } else {
        let mut addr: *mut c_void = ptr::null_mut();
        // SAFETY: `attr` is initialised. glibc's getstack would compute a bogus non-null
        // address from a size alone, so the stored address is read with getstackaddr.
        if unsafe { sys::pthread_attr_getstackaddr(attr, &mut addr) } != 0 {
            return None;
        }
        if !addr.is_null() {
            // The caller owns the stack memory: its size is not ours to change.
            let mut size = 0;
            // SAFETY: `attr` is initialised; `size` is writable.
            unsafe { libc::pthread_attr_getstacksize(attr, &mut size) };
            if size < min {
                log::line(format_args!(
                    "thread stack {size} at {addr:p} supplied by the caller: left alone"
                ));
            }
            return None;
        }
        let mut size = 0;
        // SAFETY: `attr` is initialised; `size` is writable.
        if unsafe { libc::pthread_attr_getstacksize(attr, &mut size) } != 0 {
            return None;
        }
        size
    };
    if requested >= min {
        return None;
    }
    // SAFETY: `out` is writable storage for an attribute object.
    if unsafe { libc::pthread_attr_init(out) } != 0 {
        return None;
    }
    // SAFETY: `out` is initialised; `attr` is NULL or initialised.
    let ok = (attr.is_null() || unsafe { copy_attr(attr, out) })
        && unsafe { libc::pthread_attr_setstacksize(out, min) } == 0;
    if !ok {
        log::line(format_args!(
            "thread stack {requested}: attributes could not be copied, left alone"
        ));
        // SAFETY: `out` was initialised above and is not used again.
        unsafe { libc::pthread_attr_destroy(out) };
        return None;
    }
    Some((requested, min))
}

/// Copies every property except the stack from `from` into `to`; false if any step fails.
///
/// # Safety
/// Both are initialised attribute objects.
unsafe fn copy_attr(from: *const pthread_attr_t, to: *mut pthread_attr_t) -> bool {
    // SAFETY: (the whole block) `from` and `to` are initialised attribute objects and
    // every out-parameter is a local of the type the function writes.
    unsafe {
        let mut v: c_int = 0;
        let mut guard: usize = 0;
        let mut param: libc::sched_param = std::mem::zeroed();
        let ok = sys::pthread_attr_getdetachstate(from, &mut v) == 0
            && libc::pthread_attr_setdetachstate(to, v) == 0
            && libc::pthread_attr_getguardsize(from, &mut guard) == 0
            && libc::pthread_attr_setguardsize(to, guard) == 0
            && libc::pthread_attr_getinheritsched(from, &mut v) == 0
            && libc::pthread_attr_setinheritsched(to, v) == 0
            && libc::pthread_attr_getschedpolicy(from, &mut v) == 0
            && libc::pthread_attr_setschedpolicy(to, v) == 0
            && libc::pthread_attr_getschedparam(from, &mut param) == 0
            && libc::pthread_attr_setschedparam(to, &param) == 0
            && sys::pthread_attr_getscope(from, &mut v) == 0
            && sys::pthread_attr_setscope(to, v) == 0;
        if !ok {
            return false;
        }
        let mut cpus: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::pthread_attr_getaffinity_np(from, size, &mut cpus) == 0 {
            // glibc reports "no affinity set" as every bit set: nothing to copy then.
            let bytes =
                std::slice::from_raw_parts((&cpus as *const libc::cpu_set_t).cast::<u8>(), size);
            if bytes.iter().any(|&b| b != 0xff)
                && libc::pthread_attr_setaffinity_np(to, size, &cpus) != 0
            {
                return false;
            }
        }
        if let (Some(get), Some(set)) = (sys::getsigmask_np(), sys::setsigmask_np()) {
            let mut mask: libc::sigset_t = std::mem::zeroed();
            match get(from, &mut mask) {
                0 => {
                    if set(to, &mask) != 0 {
                        return false;
                    }
                }
                sys::PTHREAD_ATTR_NO_SIGMASK_NP => {}
                _ => return false,
            }
        }
        true
    }
}

/// The stack size a thread created with a NULL attribute gets.
fn default_stack_size() -> Option<usize> {
    let mut a = MaybeUninit::<pthread_attr_t>::uninit();
    // SAFETY: getattr_default_np initialises `a` on success; destroyed right after use.
    unsafe {
        if sys::pthread_getattr_default_np(a.as_mut_ptr()) != 0 {
            return None;
        }
        let mut size = 0;
        let rc = libc::pthread_attr_getstacksize(a.as_ptr(), &mut size);
        libc::pthread_attr_destroy(a.as_mut_ptr());
        (rc == 0).then_some(size)
    }
}
