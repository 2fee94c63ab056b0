//! JS-callable functions and the failure boundary around every entry from the host.
//!
//! A [`JsFn`] is a plain Rust function; [`Env::create_function`](super::Env::create_function)
//! stores its pointer as the callback data and routes calls through [`trampoline`], which
//! collects the arguments and runs the function inside [`boundary`]. `boundary` is the only
//! place where panics are caught and where errors become thrown exceptions.

use std::ffi::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use super::env::{Env, Value};
use super::error::{JsError, JsErrorKind, JsResult};
use super::sys;

/// The most arguments any export of this module takes.
const MAX_ARGS: usize = 4;

/// A function exported to JS.
pub(crate) type JsFn = for<'e> fn(&'e Env, CallArgs<'e>) -> JsResult<Value<'e>>;

/// The arguments of one call; missing arguments read as `undefined`.
pub(crate) struct CallArgs<'e> {
    args: [Value<'e>; MAX_ARGS],
}

impl<'e> CallArgs<'e> {
    pub(crate) fn get(&self, i: usize) -> Value<'e> {
        self.args[i.min(MAX_ARGS - 1)]
    }
}

/// The message a panic was raised with (`panic!("...")`), or "unknown panic".
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// What the layer above wants done on the JS thread just before an error is thrown (the
/// API layer delivers queued log events, so an uncaught error does not lose them).
static BEFORE_THROW: std::sync::OnceLock<fn(&Env)> = std::sync::OnceLock::new();

/// Registers the before-throw step; the first registration wins.
pub(crate) fn set_before_throw(f: fn(&Env)) {
    let _ = BEFORE_THROW.set(f);
}

/// Runs `f`, turning an `Err` into a thrown JS exception and a panic into a thrown
/// internal error. Returns `None` when something was thrown.
pub(crate) fn boundary<R>(env: &Env, f: impl FnOnce() -> JsResult<R>) -> Option<R> {
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    let err = match outcome {
        Ok(Ok(v)) => return Some(v),
        Ok(Err(e)) => e,
        Err(payload) => {
            let what = panic_message(payload.as_ref());
            JsError::new(
                JsErrorKind::Error,
                "ERR_ASHERAH_INTERNAL",
                format!("internal error in asherah-shim: {what}"),
            )
        }
    };
    if let Some(before) = BEFORE_THROW.get() {
        if !env.is_exception_pending() {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| before(env)));
        }
    }
    throw(env, &err);
    None
}

/// Throws `err` unless an exception is already pending (which then propagates as it is).
pub(super) fn throw(env: &Env, err: &JsError) {
    if err.pending || env.is_exception_pending() {
        return;
    }
    if let Ok(v) = err.to_value(env) {
        let _ = env.throw(v);
    }
}

/// The C entry point of every function made by `create_function`.
///
/// # Safety
/// Called by the host with a live `env` and `info` on the JS thread; the callback data is a
/// `JsFn` pointer stored by `create_function`.
pub(super) unsafe extern "C" fn trampoline(
    raw_env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: the host calls us on the JS thread with the env of this callback.
    let env = unsafe { Env::from_raw(raw_env) };
    let result = boundary(&env, || {
        let mut argc = MAX_ARGS;
        let mut argv: [sys::napi_value; MAX_ARGS] = [ptr::null_mut(); MAX_ARGS];
        let mut data: *mut c_void = ptr::null_mut();
        // SAFETY: `argv` has room for `argc` handles; N-API fills missing ones with undefined.
        super::status::check(unsafe {
            sys::napi_get_cb_info(
                raw_env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                &mut data,
            )
        })?;
        // SAFETY: `data` was produced from a `JsFn` in `create_function`; fn pointers and data
        // pointers have the same size on every platform N-API supports.
        let f: JsFn = unsafe { std::mem::transmute::<*mut c_void, JsFn>(data) };
        // SAFETY: each handle in argv is live for this callback's scope.
        let args = argv.map(|raw| unsafe { env.value_from_raw(raw) });
        let out = f(&env, CallArgs { args })?;
        Ok(out.raw())
    });
    result.unwrap_or(ptr::null_mut())
}
