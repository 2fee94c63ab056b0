//! `libasherah_shim_preload.so`: an `LD_PRELOAD` library that protects an unmodified cgo
//! addon (asherah-node, or a Go library opened with `bun:ffi`) in a stock Bun.
//!
//! It interposes two libc entry points. `dlopen`/`dlmopen` ([`dl`]) take a signal
//! snapshot, call the real function, and repair what the loaded library (a Go runtime)
//! changed on the host's handlers, using the shared `asherah-shim-signals` policy.
//! `pthread_create` ([`thread`]) gives threads that ask for a small stack at least
//! `ASHERAH_SHIM_MIN_STACK` (default 8 MiB), and can start them with asynchronous signals
//! blocked. Settings are read once from the environment by a constructor ([`config`]);
//! decisions go to `ASHERAH_SHIM_PRELOAD_LOG` ([`log`]). Every exported function catches
//! panics, so nothing unwinds into C.
#![deny(unsafe_op_in_unsafe_fn)]

mod config;
mod dl;
mod log;
mod sys;
mod thread;

/// Runs when the dynamic loader maps this library (before the host's `main`).
extern "C" fn init() {
    let _ = std::panic::catch_unwind(|| {
        config::load();
        sys::resolve_all();
        dl::install_fork_handlers();
        log::startup();
    });
}

#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = init;
