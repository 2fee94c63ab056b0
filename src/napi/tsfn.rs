//! [`Tsfn`]: a thread-safe function used as a doorbell to the JS thread.
//!
//! Other threads call [`Tsfn::notify`]; the host then runs the handler on the JS thread with
//! a fresh `Env`. The handler drains whatever work queue the owner keeps, so one ring can
//! carry a whole batch of completions. The raw handle lives behind a lock: once [`Tsfn::close`]
//! has run (env teardown), `notify` sees `None` and never touches a released handle.

use std::ffi::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use parking_lot::RwLock;

use super::env::Env;
use super::status::{check, Status};
use super::sys;

type Handler = dyn Fn(&Env) + Send + Sync;

/// A doorbell that runs a handler on the JS thread. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Tsfn(Arc<Inner>);

struct Inner {
    /// `None` once either side has let go: `close` (our env cleanup) or the host's finalizer,
    /// whichever runs first. Callers hold the read lock while they use the handle.
    raw: RwLock<Option<RawTsfn>>,
    handler: Box<Handler>,
}

#[derive(Clone, Copy)]
struct RawTsfn(sys::napi_threadsafe_function);

// SAFETY: thread-safe functions are designed to be called from any thread; the handle is
// only used while the lock proves it has not been released or finalized.
unsafe impl Send for RawTsfn {}
// SAFETY: as above; concurrent `napi_call_threadsafe_function` calls are allowed by N-API.
unsafe impl Sync for RawTsfn {}

impl Tsfn {
    /// Creates the doorbell. It starts unreferenced: it does not keep the event loop alive
    /// until [`Tsfn::set_ref`] says there is work outstanding.
    pub(crate) fn new(env: &Env, name: &str, handler: Box<Handler>) -> Result<Tsfn, Status> {
        let resource_name = env.create_string(name)?;
        let inner = Arc::new(Inner {
            raw: RwLock::new(None),
            handler,
        });
        let ctx = Arc::into_raw(inner.clone()).cast_mut().cast::<c_void>();
        let mut raw = ptr::null_mut();
        // SAFETY: live env; `ctx` is one strong count of `inner`, given back exactly once in
        // `finalize`; `call_js` and `finalize` match the N-API signatures.
        let status = check(unsafe {
            sys::napi_create_threadsafe_function(
                env.raw(),
                ptr::null_mut(),
                ptr::null_mut(),
                resource_name.raw(),
                0,
                1,
                ctx,
                Some(finalize),
                ctx,
                Some(call_js),
                &mut raw,
            )
        });
        if let Err(e) = status {
            // SAFETY: creation failed, so N-API will never call `finalize` with `ctx`.
            drop(unsafe { Arc::from_raw(ctx.cast::<Inner>()) });
            return Err(e);
        }
        *inner.raw.write() = Some(RawTsfn(raw));
        // SAFETY: freshly created handle, on this env's JS thread.
        check(unsafe { sys::napi_unref_threadsafe_function(env.raw(), raw) })?;
        Ok(Tsfn(inner))
    }

    /// Rings the doorbell from any thread. Returns `false` once the env is gone.
    pub(crate) fn notify(&self) -> bool {
        let guard = self.0.raw.read();
        let Some(raw) = *guard else { return false };
        // The data pointer is never read (`call_js` ignores it) but must not be null: Bun
        // before 1.1.14 treated a null item as an empty queue and silently dropped the call
        // (oven-sh/bun#11952), so every promise settled through this doorbell hung there.
        // SAFETY: the read lock proves neither `close` nor `finalize` has let go of it.
        let status = unsafe {
            sys::napi_call_threadsafe_function(raw.0, ring_token(), sys::napi_tsfn_nonblocking)
        };
        check(status).is_ok()
    }

    /// Keeps (or stops keeping) the event loop alive for this doorbell. JS thread only.
    pub(crate) fn set_ref(&self, env: &Env, referenced: bool) -> Result<(), Status> {
        let guard = self.0.raw.read();
        let Some(raw) = *guard else { return Ok(()) };
        // SAFETY: JS thread (we hold an Env) and a handle not yet released.
        check(unsafe {
            if referenced {
                sys::napi_ref_threadsafe_function(env.raw(), raw.0)
            } else {
                sys::napi_unref_threadsafe_function(env.raw(), raw.0)
            }
        })
    }

    /// Lets go of the handle (env teardown). Later `notify` calls return `false`.
    pub(crate) fn close(&self) {
        // Take it under the write lock (waits for in-flight `notify`s), release outside it,
        // so a host that finalizes synchronously cannot deadlock on our lock.
        let taken = self.0.raw.write().take();
        if let Some(raw) = taken {
            // SAFETY: nobody else can reach the handle any more; it has not been finalized
            // (finalize would have emptied the slot first).
            unsafe { sys::napi_release_threadsafe_function(raw.0, sys::napi_tsfn_abort) };
        }
    }
}

/// What each ring carries as its data: the address of a static, never dereferenced; only
/// its being non-null matters (see [`Tsfn::notify`]).
fn ring_token() -> *mut c_void {
    static TOKEN: u8 = 0;
    ptr::addr_of!(TOKEN).cast_mut().cast::<c_void>()
}

unsafe extern "C" fn call_js(
    raw_env: sys::napi_env,
    _js_callback: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    if raw_env.is_null() || context.is_null() {
        return; // the env is being torn down: nothing may run
    }
    // SAFETY: `context` is the strong count leaked in `new`, alive until `finalize`.
    let inner = unsafe { &*context.cast::<Inner>() };
    // SAFETY: the host runs call_js on the JS thread with a live env and an open scope.
    let env = unsafe { Env::from_raw(raw_env) };
    // A panic must not unwind into the host; the handler reports its own errors.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| (inner.handler)(&env)));
}

unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is the strong count leaked in `new`; the host finalizes once.
    let inner = unsafe { Arc::from_raw(data.cast::<Inner>()) };
    inner.raw.write().take();
}
