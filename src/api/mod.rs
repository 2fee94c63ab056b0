//! The JS-facing API: the export table, with asherah-node's names and camelCase aliases.
//!
//! [`register`] runs once per env (main thread and each Worker): it creates the env's state
//! and defines every export. The work itself lives in [`calls`] (with [`args`] and [`dispatch`]) and `settings`; configuration parsing in
//! [`config`]; the mapping of failures to JS error codes in [`errors`]; the process-wide
//! instance in [`state`]; per-env state and teardown in [`envs`]; log events in [`log`]
//! (libasherah's own lines in [`go_log`]); asherah 4.x's metrics hook in [`metrics`] and its
//! camelCase config keys in [`config_keys`].

/// Unwraps a `JsResult` inside a `dispatch::promise` closure, handing the deferred back on
/// error so the promise is rejected with it.
macro_rules! tri {
    ($e:expr, $d:ident) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err(($d, e)),
        }
    };
}

mod args;
pub mod calls;
pub mod config;
mod config_keys;
mod dispatch;
pub mod envs;
pub mod errors;
mod go_log;
pub mod log;
mod metrics;
mod settings;
pub mod state;

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
    ("_instance_id", None, calls::instance_id),
];

/// Initialises this env and fills `exports`.
pub fn register<'e>(env: &'e Env, exports: Value<'e>) -> JsResult<Value<'e>> {
    envs::init(env)?;
    crate::napi::set_before_throw(envs::flush);
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
