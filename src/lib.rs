//! asherah-shim: Asherah envelope encryption as an N-API module for Bun and Node. The Go
//! core runs only on threads the module creates and controls (core-host threads); the
//! native core runs short local calls on the calling JS thread and everything that can wait
//! on a network or another process on those same core-host threads.
//!
//! Layers, each using only the ones after it: [`api`] (JS entry points, parsing the JS
//! configuration into [`core::settings`], lifecycle) -> [`core`] (the Go and native cores,
//! which take a [`host::CoreThread`] token, and the settings they own) -> [`host`] (core-host
//! threads, queues, completions, the watchdog) -> [`napi`] (the safe layer over the generated
//! bindings). `wipe` (zeroing buffers that may hold plaintext) is a leaf any layer may use.
//! `core::signal_guard` guards the process's signal dispositions around the Go
//! runtime. This file is only the module registration. The modules are private and nothing
//! in them is more public than the crate needs (`unreachable_pub`), so dead code shows.
#![deny(unreachable_pub)]

mod api;
mod core;
mod host;
mod napi;
mod wipe;

use napi::{sys, Env};

/// The entry point Node and Bun look up when loading the module.
///
/// # Safety
/// Called by the host on the JS thread with a live env and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(
    raw_env: sys::napi_env,
    exports: sys::napi_value,
) -> sys::napi_value {
    // SAFETY: the host calls registration on the JS thread with this env.
    let env = unsafe { Env::from_raw(raw_env) };
    // SAFETY: `exports` is the live exports object handed to us for this call.
    let exports_value = unsafe { env.value_from_raw(exports) };
    napi::boundary(&env, || api::register(&env, exports_value).map(|v| v.raw()))
        .unwrap_or(std::ptr::null_mut())
}

/// Declares the N-API version this module needs (read by hosts that support it): 8, or
/// experimental on a Bun whose finalizers must run during collections (`napi::external`).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    napi::module_api_version()
}
