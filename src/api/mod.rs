//! The JS-facing API: the export table, with asherah-node's names and camelCase aliases.
//!
//! [`register`] runs once per env (main thread and each Worker): it creates the env's state
//! and defines every export. The exports live in [`calls`] and `settings`, reading their
//! arguments with `args`; `dispatch` gets a call to the core (inline, blocking on a
//! core-host thread, or through a promise) and settles promises; [`config`] parses the
//! configuration ([`config_keys`]: asherah 4.x's camelCase spellings); [`errors`] maps
//! failures to JS error codes; [`state`] is the lifecycle of the process-wide instance and
//! `build` makes its core; [`env_state`] holds per-env state and teardown; [`log`] delivers
//! log events (libasherah's own lines through [`go_log`]); [`metrics`] is asherah 4.x's
//! metrics hook; `probe` gathers thread and signal facts for the doctor.

mod args;
mod build;
pub(crate) mod calls;
pub(crate) mod config;
mod config_keys;
mod dispatch;
pub(crate) mod env_state;
pub(crate) mod errors;
mod go_log;
pub(crate) mod log;
mod metrics;
mod probe;
mod settings;
pub(crate) mod state;

use crate::napi::{Env, JsFn, JsResult, Value};

/// Every export: its snake_case name, its camelCase alias (if different), and the function.
const EXPORTS: &[(&str, Option<&str>, JsFn)] = &[
    ("setup", None, calls::setup),
    ("setup_async", Some("setupAsync"), calls::setup_async),
    ("encrypt", None, calls::encrypt),
    ("encrypt_async", Some("encryptAsync"), calls::encrypt_async),
    (
        "encrypt_string",
        Some("encryptString"),
        calls::encrypt_string,
    ),
    (
        "encrypt_string_async",
        Some("encryptStringAsync"),
        calls::encrypt_string_async,
    ),
    ("decrypt", None, calls::decrypt),
    ("decrypt_async", Some("decryptAsync"), calls::decrypt_async),
    (
        "decrypt_string",
        Some("decryptString"),
        calls::decrypt_string,
    ),
    (
        "decrypt_string_async",
        Some("decryptStringAsync"),
        calls::decrypt_string_async,
    ),
    ("shutdown", None, calls::shutdown),
    (
        "shutdown_async",
        Some("shutdownAsync"),
        calls::shutdown_async,
    ),
    (
        "get_setup_status",
        Some("getSetupStatus"),
        calls::get_setup_status,
    ),
    ("set_log_hook", Some("setLogHook"), settings::set_log_hook),
    (
        "set_metrics_hook",
        Some("setMetricsHook"),
        metrics::set_metrics_hook,
    ),
    ("setenv", None, settings::setenv),
    (
        "set_max_stack_alloc_item_size",
        Some("setMaxStackAllocItemSize"),
        settings::set_max_stack_alloc_item_size,
    ),
    (
        "set_safety_padding_overhead",
        Some("setSafetyPaddingOverhead"),
        settings::set_safety_padding_overhead,
    ),
    (
        "signal_report",
        Some("signalReport"),
        settings::signal_report,
    ),
    ("_diagnostics", None, settings::diagnostics),
    ("_threads", None, probe::threads),
    ("_signals", None, probe::signals),
    ("_libraries", None, probe::libraries),
    ("_instance_id", None, calls::instance_id),
    ("_decrypt_scratch", None, calls::decrypt_scratch),
    ("_decrypt_into", None, calls::decrypt_into),
    ("_decrypt_async_into", None, calls::decrypt_async_into),
    ("_encrypt_async_into", None, calls::encrypt_async_into),
];

/// Initialises this env and fills `exports`.
pub(crate) fn register<'e>(env: &'e Env, exports: Value<'e>) -> JsResult<Value<'e>> {
    env_state::init(env)?;
    crate::napi::set_before_throw(env_state::flush);
    go_log::install();
    crate::core::native::set_observer(std::sync::Arc::new(metrics::NativeObserver));
    for (name, alias, f) in EXPORTS {
        let func = env.create_function(name, *f)?;
        env.set_property(exports, name, func)?;
        if let Some(alias) = alias {
            env.set_property(exports, alias, func)?;
        }
    }
    Ok(exports)
}
