//! N-API async work: a closure run on the host's own worker pool (libuv's threadpool in
//! Node, the "Bun Pool" threads in Bun), then a completion back on the JS thread.
//!
//! No core ever runs here (cores run on core-host threads); this exists so the shim can
//! report what the host's pool threads look like (their stack size and signal mask), which
//! is what an unprotected addon's async work gets. Panics on either side are caught: the
//! completion then receives `None`, as it does when the host cancels the work.

use std::ffi::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use super::env::Env;
use super::status::{check, Status};
use super::sys;

type Execute<T> = Box<dyn FnOnce() -> T + Send>;
type Complete<T> = Box<dyn FnOnce(&Env, Option<T>)>;

struct Work<T> {
    raw: sys::napi_async_work,
    execute: Option<Execute<T>>,
    output: Option<T>,
    complete: Option<Complete<T>>,
}

/// Queues `execute` on the host's worker pool; `complete` runs afterwards on this env's JS
/// thread with its result (`None` if it panicked or the work was cancelled).
pub(crate) fn queue<T: Send + 'static>(
    env: &Env,
    name: &str,
    execute: impl FnOnce() -> T + Send + 'static,
    complete: impl FnOnce(&Env, Option<T>) + 'static,
) -> Result<(), Status> {
    let work = Box::into_raw(Box::new(Work::<T> {
        raw: ptr::null_mut(),
        execute: Some(Box::new(execute)),
        output: None,
        complete: Some(Box::new(complete)),
    }));
    let resource_name = env.create_string(name)?;
    // SAFETY: live env on its JS thread; `work` is a valid, uniquely owned allocation that
    // the callbacks below take back exactly once (in `on_complete`), and `raw` is written
    // before the work can run because it is queued only after creation returns.
    let created = check(unsafe {
        sys::napi_create_async_work(
            env.raw(),
            ptr::null_mut(),
            resource_name.raw(),
            Some(on_execute::<T>),
            Some(on_complete::<T>),
            work.cast::<c_void>(),
            &mut (*work).raw,
        )
    });
    if let Err(s) = created {
        // SAFETY: creation failed, so no callback will ever see `work`; we still own it.
        drop(unsafe { Box::from_raw(work) });
        return Err(s);
    }
    // SAFETY: `raw` was just created on this env and not yet queued or deleted.
    let queued = check(unsafe { sys::napi_queue_async_work(env.raw(), (*work).raw) });
    if let Err(s) = queued {
        // SAFETY: the work never ran and never will: delete it and reclaim the box.
        unsafe {
            sys::napi_delete_async_work(env.raw(), (*work).raw);
            drop(Box::from_raw(work));
        }
        return Err(s);
    }
    Ok(())
}

/// Runs on a pool thread.
///
/// # Safety
/// `data` is the `Work<T>` passed to `napi_create_async_work`; the host calls this at most
/// once, before `on_complete`, and nothing else touches the box meanwhile.
unsafe extern "C" fn on_execute<T: Send + 'static>(_env: sys::napi_env, data: *mut c_void) {
    // SAFETY: see the function's contract: exclusive access until `on_complete`.
    let work = unsafe { &mut *data.cast::<Work<T>>() };
    if let Some(f) = work.execute.take() {
        work.output = panic::catch_unwind(AssertUnwindSafe(f)).ok();
    }
}

/// Runs on the JS thread after `on_execute` (or after a cancellation).
///
/// # Safety
/// `data` is the `Work<T>` box created by [`queue`]; the host calls this exactly once, on
/// the env's JS thread, after which the box is never used again.
unsafe extern "C" fn on_complete<T: Send + 'static>(
    raw_env: sys::napi_env,
    status: sys::napi_status,
    data: *mut c_void,
) {
    // SAFETY: the last use of the box (see the contract); we take ownership back here.
    let mut work = unsafe { Box::from_raw(data.cast::<Work<T>>()) };
    // SAFETY: the host calls completions on the JS thread with a live env.
    let env = unsafe { Env::from_raw(raw_env) };
    let output = if status == sys::napi_ok {
        work.output.take()
    } else {
        None
    };
    if let Some(complete) = work.complete.take() {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| complete(&env, output)));
    }
    // SAFETY: the work has completed; deleting it is its owner's last step.
    unsafe { sys::napi_delete_async_work(raw_env, work.raw) };
}
