//! The JS entry points that configure or inspect rather than encrypt: the log hook,
//! `setenv`, asherah-node's tuning knobs, the signal report, and test diagnostics.

use super::args::{object_or_json, size_arg, Refused};
use super::log::{self, Level};
use super::{dispatch, env_state, errors, state};
use crate::core::go;
use crate::napi::{CallArgs, Env, JsResult, Value, ValueType};

pub(super) fn set_log_hook<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let hook = args.get(0);
    match env.type_of(hook)? {
        ValueType::Function => env_state::set_hook(env, Some(hook))?,
        ValueType::Undefined | ValueType::Null => env_state::set_hook(env, None)?,
        other => {
            return Err(errors::invalid_argument(format!(
                "set_log_hook expects a function (level, message) => void or (event) => void, or null; got {}",
                other.name()
            )))
        }
    }
    super::go_log::update(false);
    env.undefined().map_err(Into::into)
}

pub(super) fn setenv<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let json = match object_or_json(env, args.get(0), "the setenv object") {
        Ok(json) => json,
        Err(Refused::Type(t)) => {
            return Err(errors::invalid_argument(format!(
                "setenv expects an object of NAME: value strings (or its JSON); got {t}"
            )))
        }
        Err(Refused::Value(m)) => return Err(errors::invalid_argument(m)),
        Err(Refused::Js(e)) => return Err(e),
    };
    let vars: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&json).map_err(|_| {
            errors::invalid_argument("setenv expects a JSON object of NAME: value strings")
        })?;
    // Values must be strings, as in libasherah's SetEnv (a Go map[string]string). Removing a
    // variable is deliberately not offered: unsetenv shrinks `environ`, and Bun <= 1.3 reads
    // it through a slice captured at startup, so its next Worker reads the NULL terminator
    // and crashes (measured with Bun 1.3.14; see docs/root-cause.md).
    for (name, value) in &vars {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(errors::invalid_argument(format!(
                "setenv: {name:?} is not a valid variable name"
            )));
        }
        if !matches!(value, serde_json::Value::String(s) if !s.contains('\0')) {
            return Err(errors::invalid_argument(format!(
                "setenv: the value of {name} must be a string (variables cannot be removed)"
            )));
        }
    }
    // All checked: now apply, to the real process environment first.
    for (name, value) in &vars {
        if let serde_json::Value::String(s) = value {
            std::env::set_var(name, s);
        }
    }
    let go_vars = vars;
    state_set_go_env(serde_json::Value::Object(go_vars).to_string())?;
    env.undefined().map_err(Into::into)
}

/// Go keeps its own copy of the environment: give it the new variables on a core-host
/// thread now if it is loaded and running, or before its next setup otherwise.
pub(super) fn state_set_go_env(json: String) -> JsResult<()> {
    if !go::is_loaded() {
        return Ok(()); // it will read the real environment when it loads
    }
    match state::running() {
        Ok(r) => dispatch::call_blocking(&r, "setenv", move |ct| go::set_env_loaded(ct, &json))
            .map_err(|e| errors::from_core(&e)),
        Err(_) => {
            go::defer_env(json);
            Ok(())
        }
    }
}

pub(super) fn set_max_stack_alloc_item_size<'e>(
    env: &'e Env,
    args: CallArgs<'e>,
) -> JsResult<Value<'e>> {
    // Kept for asherah-node compatibility: this shim never stack-allocates caller data, so
    // the value is validated and recorded but changes nothing.
    let n = size_arg(env, args.get(0), "max_item_size")?;
    log::emit(
        Level::Debug,
        format!("set_max_stack_alloc_item_size({n}): accepted, no effect in this shim"),
    );
    env.undefined().map_err(Into::into)
}

pub(super) fn set_safety_padding_overhead<'e>(
    env: &'e Env,
    args: CallArgs<'e>,
) -> JsResult<Value<'e>> {
    let n = size_arg(env, args.get(0), "safety_padding_overhead")?;
    go::set_safety_padding(n);
    env.undefined().map_err(Into::into)
}

/// `signal_report()`: what the signal guard found and did when the Go runtime was loaded,
/// one entry per changed signal (an empty array before any Go load).
pub(super) fn signal_report<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let report = crate::core::signal_guard::report();
    let decisions: Vec<_> = report.iter().flat_map(|r| r.iter().copied()).collect();
    let out = env.create_array(decisions.len())?;
    for (i, d) in decisions.iter().enumerate() {
        let o = env.create_object()?;
        env.set_property(o, "signo", env.create_f64(d.signo as f64)?)?;
        env.set_property(o, "name", env.create_string(d.name)?)?;
        env.set_property(o, "before", disposition_to_js(env, &d.before)?)?;
        env.set_property(o, "after", disposition_to_js(env, &d.after)?)?;
        env.set_property(o, "action", env.create_string(d.action.as_str())?)?;
        env.set_property(
            o,
            "restored",
            env.create_bool(d.action.restores() && d.error == 0)?,
        )?;
        if d.error != 0 {
            env.set_property(o, "errno", env.create_f64(d.error as f64)?)?;
        }
        env.set_element(out, i as u32, o)?;
    }
    Ok(out)
}

pub(super) fn disposition_to_js<'e>(
    env: &'e Env,
    d: &crate::core::signal_guard::Disposition,
) -> JsResult<Value<'e>> {
    let o = env.create_object()?;
    let handler = if d.is_default() {
        "default".to_string()
    } else if d.is_ignore() {
        "ignore".to_string()
    } else {
        format!("{:#x}", d.handler)
    };
    env.set_property(o, "handler", env.create_string(&handler)?)?;
    env.set_property(o, "flags", env.create_f64(d.flags as f64)?)?;
    env.set_property(o, "onStack", env.create_bool(d.has_onstack())?)?;
    env.set_property(o, "siginfo", env.create_bool(d.has_siginfo())?)?;
    Ok(o)
}

/// Test support: `_diagnostics(record?)` returns facts about the calling (JS) thread and
/// about the thread of the last recorded Go call, and how the Go core sizes encrypt output
/// (`goEstimate`, `goEstimateCalls` made to the library, and `goOutputRetries`: Go calls
/// made again because the first output buffer was too small), and `goFailureRetries`
/// (encrypts and decrypts made again after libasherah failed them); `record` turns
/// per-call recording on/off.
pub(super) fn diagnostics<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    if env.type_of(args.get(0))? == ValueType::Boolean {
        let on = env.bool_value(args.get(0))?;
        go::record_call_facts(on);
    }
    let out = env.create_object()?;
    // SAFETY: gettid has no preconditions.
    let js_tid = unsafe { libc::gettid() } as i64;
    let js = facts_to_js(env, js_tid, &crate::host::ThreadFacts::current())?;
    env.set_property(out, "jsThread", js)?;
    let last = match go::last_call_facts() {
        Some((tid, f)) => facts_to_js(env, tid, &f)?,
        None => env.null()?,
    };
    env.set_property(out, "lastGoCall", last)?;
    env.set_property(out, "goLoaded", env.create_bool(go::is_loaded())?)?;
    let (how, library_calls) = go::last_estimate();
    let estimate = match how {
        Some(how) => env.create_string(how)?,
        None => env.null()?,
    };
    env.set_property(out, "goEstimate", estimate)?;
    env.set_property(
        out,
        "goEstimateCalls",
        env.create_f64(library_calls as f64)?,
    )?;
    env.set_property(
        out,
        "goOutputRetries",
        env.create_f64(go::output_retries() as f64)?,
    )?;
    env.set_property(
        out,
        "goFailureRetries",
        env.create_f64(go::failure_retries() as f64)?,
    )?;
    env.set_property(out, "pid", env.create_f64(std::process::id() as f64)?)?;
    Ok(out)
}

pub(super) fn facts_to_js<'e>(
    env: &'e Env,
    tid: i64,
    f: &crate::host::ThreadFacts,
) -> JsResult<Value<'e>> {
    let o = env.create_object()?;
    env.set_property(o, "tid", env.create_f64(tid as f64)?)?;
    env.set_property(o, "stackSize", env.create_f64(f.stack_size as f64)?)?;
    env.set_property(o, "altStackSize", env.create_f64(f.altstack_size as f64)?)?;
    env.set_property(o, "isCoreThread", env.create_bool(f.is_core_thread)?)?;
    let blocked = env.create_array(f.blocked_signals.len())?;
    for (i, sig) in f.blocked_signals.iter().enumerate() {
        env.set_element(blocked, i as u32, env.create_f64(*sig as f64)?)?;
    }
    env.set_property(o, "blockedSignals", blocked)?;
    Ok(o)
}
