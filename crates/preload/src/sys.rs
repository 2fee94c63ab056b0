//! The real libc functions behind our interposers, found with `dlsym(RTLD_NEXT, ..)` (so a
//! call never lands back in this library), plus the few glibc declarations the `libc`
//! crate lacks. Resolution happens in the constructor and again lazily, because another
//! preloaded library's constructor may call `dlopen` or `pthread_create` before ours ran.

use std::ffi::CStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use libc::{c_char, c_int, c_void, pthread_attr_t, pthread_t};

pub type StartFn = Option<extern "C" fn(*mut c_void) -> *mut c_void>;
pub type DlopenFn = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;
pub type DlmopenFn = unsafe extern "C" fn(libc::Lmid_t, *const c_char, c_int) -> *mut c_void;
pub type PthreadCreateFn =
    unsafe extern "C" fn(*mut pthread_t, *const pthread_attr_t, StartFn, *mut c_void) -> c_int;
pub type SigmaskNpFn = unsafe extern "C" fn(*const pthread_attr_t, *mut libc::sigset_t) -> c_int;
pub type SetSigmaskNpFn = unsafe extern "C" fn(*mut pthread_attr_t, *const libc::sigset_t) -> c_int;

/// `pthread_attr_getsigmask_np` result when no mask was set (glibc 2.32+).
pub const PTHREAD_ATTR_NO_SIGMASK_NP: c_int = -1;

extern "C" {
    pub fn pthread_attr_getdetachstate(attr: *const pthread_attr_t, state: *mut c_int) -> c_int;
    pub fn pthread_attr_getscope(attr: *const pthread_attr_t, scope: *mut c_int) -> c_int;
    pub fn pthread_attr_setscope(attr: *mut pthread_attr_t, scope: c_int) -> c_int;
    pub fn pthread_attr_getstackaddr(attr: *const pthread_attr_t, addr: *mut *mut c_void) -> c_int;
    pub fn pthread_getattr_default_np(attr: *mut pthread_attr_t) -> c_int;
}

struct Slot {
    name: &'static CStr,
    next: bool,
    addr: AtomicUsize,
}

static DLOPEN: Slot = Slot::next(c"dlopen");
static DLMOPEN: Slot = Slot::next(c"dlmopen");
static PTHREAD_CREATE: Slot = Slot::next(c"pthread_create");
static GETSIGMASK_NP: Slot = Slot::any(c"pthread_attr_getsigmask_np");
static SETSIGMASK_NP: Slot = Slot::any(c"pthread_attr_setsigmask_np");

impl Slot {
    const fn next(name: &'static CStr) -> Slot {
        Slot {
            name,
            next: true,
            addr: AtomicUsize::new(0),
        }
    }
    const fn any(name: &'static CStr) -> Slot {
        Slot {
            name,
            next: false,
            addr: AtomicUsize::new(0),
        }
    }
    fn get(&self) -> usize {
        let a = self.addr.load(Ordering::Acquire);
        if a != 0 {
            return a;
        }
        let handle = if self.next {
            libc::RTLD_NEXT
        } else {
            libc::RTLD_DEFAULT
        };
        // SAFETY: dlsym with a pseudo-handle and a NUL-terminated name; it only looks up.
        let a = unsafe { libc::dlsym(handle, self.name.as_ptr()) } as usize;
        self.addr.store(a, Ordering::Release);
        a
    }
}

pub fn resolve_all() {
    for s in [
        &DLOPEN,
        &DLMOPEN,
        &PTHREAD_CREATE,
        &GETSIGMASK_NP,
        &SETSIGMASK_NP,
    ] {
        s.get();
    }
}

macro_rules! real {
    ($fn_name:ident, $slot:ident, $ty:ty) => {
        pub fn $fn_name() -> Option<$ty> {
            let a = $slot.get();
            // SAFETY: a non-zero address from dlsym for this name is that function, whose C
            // signature is `$ty`.
            (a != 0).then(|| unsafe { std::mem::transmute::<usize, $ty>(a) })
        }
    };
}

real!(dlopen, DLOPEN, DlopenFn);
real!(dlmopen, DLMOPEN, DlmopenFn);
real!(pthread_create, PTHREAD_CREATE, PthreadCreateFn);
real!(getsigmask_np, GETSIGMASK_NP, SigmaskNpFn);
real!(setsigmask_np, SETSIGMASK_NP, SetSigmaskNpFn);
