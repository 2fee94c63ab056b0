//! Promises created on the JS thread and settled later, also on the JS thread.
//!
//! A [`Deferred`] may travel to another thread inside a completion, but it can only be
//! settled with an `Env`, i.e. back on the JS thread that created it.

use std::ptr;

use super::env::{Env, Value};
use super::status::{check, Status};
use super::sys;

/// The settle-side of a JS promise.
pub(crate) struct Deferred {
    raw: sys::napi_deferred,
}

// SAFETY: a napi_deferred is an opaque token; we only ever use it with an `Env`, which exists
// only on the JS thread that owns it, so moving the token between threads is sound.
unsafe impl Send for Deferred {}

impl Deferred {
    /// Creates a promise; returns the settle-side and the promise value.
    pub(crate) fn new(env: &Env) -> Result<(Deferred, Value<'_>), Status> {
        let mut raw = ptr::null_mut();
        let mut promise = ptr::null_mut();
        // SAFETY: live env; valid out pointers.
        check(unsafe { sys::napi_create_promise(env.raw(), &mut raw, &mut promise) })?;
        // SAFETY: `promise` was just created in env's current scope.
        Ok((Deferred { raw }, unsafe { env.value_from_raw(promise) }))
    }

    pub(crate) fn resolve(self, env: &Env, v: Value<'_>) -> Result<(), Status> {
        // SAFETY: the deferred is settled exactly once (self is consumed) on its own env.
        check(unsafe { sys::napi_resolve_deferred(env.raw(), self.raw, v.raw()) })
    }

    pub(crate) fn reject(self, env: &Env, v: Value<'_>) -> Result<(), Status> {
        // SAFETY: the deferred is settled exactly once (self is consumed) on its own env.
        check(unsafe { sys::napi_reject_deferred(env.raw(), self.raw, v.raw()) })
    }
}
