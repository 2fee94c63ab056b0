//! The JS entry points: argument checks, then a sync wait or a promise.
//!
//! Every export validates its arguments on the JS thread (typed errors, nothing queued on
//! bad input), copies what the core needs, and hands the work to a core-host thread. Sync
//! variants wait at most the configured deadline; `*_async` variants never throw: every
//! failure, argument errors included, becomes a rejected promise.

use std::sync::Arc;

use parking_lot::Mutex;

use super::config::{self, ShimConfig};
use super::log::{self, Level};
use super::{envs, errors, state};
use crate::core::{go, Core, CoreError, CoreKind};
use crate::host::{watchdog::Ticket, Completion, CoreThread};
use crate::napi::{CallArgs, Deferred, Env, JsError, JsResult, Value, ValueType};

/// The core used when the config does not name one: native (no foreign runtime in the
/// process); `Core: "go"` selects the real libasherah.
pub const DEFAULT_CORE: CoreKind = CoreKind::Native;

/// Unwraps a `JsResult` inside a `promise` closure, handing the deferred back on error.
macro_rules! tri {
    ($e:expr, $d:ident) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err(($d, e)),
        }
    };
}

type ToJs<T> = for<'a> fn(&'a Env, T) -> JsResult<Value<'a>>;

// ---- setup / shutdown -------------------------------------------------------------------

pub fn setup<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    state::ensure_idle().map_err(|e| errors::from_core(&e))?;
    let config = Arc::new(read_config(env, args.get(0))?);
    let owner = envs::current(env)?.id;
    let pool = state::begin_setup(&config).map_err(|e| errors::from_core(&e))?;
    let cfg = config.clone();
    let outcome = state::call_blocking(
        &pool,
        config.timeout,
        state::setup_phase(config.core),
        move |ct| state::build_core(ct, &cfg),
    );
    state::finish_setup(outcome, pool, config, owner).map_err(|e| errors::from_core(&e))?;
    env.undefined().map_err(Into::into)
}

pub fn setup_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, d| {
        tri!(state::ensure_idle().map_err(|e| errors::from_core(&e)), d);
        let config = Arc::new(tri!(read_config(env, args.get(0)), d));
        let owner = tri!(envs::current(env), d).id;
        let pool = tri!(
            state::begin_setup(&config).map_err(|e| errors::from_core(&e)),
            d
        );
        let phase = state::setup_phase(config.core);
        let (job_pool, job_cfg) = (pool.clone(), config.clone());
        spawn_settled(
            env,
            d,
            config.timeout,
            phase,
            &pool,
            unit_to_js,
            move |ct| {
                let outcome = state::build_core(ct, &job_cfg);
                state::finish_setup(outcome, job_pool, job_cfg, owner)
            },
        )
    })
}

pub fn shutdown<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let teardown = state::begin_shutdown(None);
    state::finish_shutdown_blocking(teardown).map_err(|e| errors::from_core(&e))?;
    env.undefined().map_err(Into::into)
}

pub fn shutdown_async<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, d| {
        let link = tri!(envs::current(env), d).link.clone();
        let teardown = state::begin_shutdown(None);
        link.begin_outstanding(env);
        // Teardown waits on core-host threads, so it runs on a helper thread of its own.
        std::thread::Builder::new()
            .name("asherah-shutdown".into())
            .spawn(move || {
                let out = state::finish_shutdown_blocking(teardown);
                link.push(settle_completion(d, out, unit_to_js));
            })
            .expect("cannot start a thread for shutdown_async");
        Ok(())
    })
}

pub fn get_setup_status<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    env.create_bool(state::is_ready()).map_err(Into::into)
}

// ---- encrypt / decrypt ------------------------------------------------------------------

pub fn encrypt<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let data = bytes_ref(env, args.get(1), "data")?;
    let json = with_partition(env, args.get(0), |p| encrypt_sync(p, data))?;
    env.create_string(&json).map_err(Into::into)
}

pub fn encrypt_string<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let data = string_arg(env, args.get(1), "data")?;
    let json = with_partition(env, args.get(0), |p| encrypt_sync(p, data.as_bytes()))?;
    env.create_string(&json).map_err(Into::into)
}

pub fn decrypt<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let plain = with_record(env, args.get(0), args.get(1), decrypt_sync)?;
    env.create_buffer_copy(&plain).map_err(Into::into)
}

pub fn decrypt_string<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let plain = with_record(env, args.get(0), args.get(1), decrypt_sync)?;
    bytes_to_string(env, plain)
}

thread_local! {
    /// Reused buffers for the partition id and a record string on the sync paths, so the
    /// hot path reads each JS string with one N-API call and no allocation.
    static SCRATCH: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Runs `f` with the partition argument read into the scratch buffer and checked.
fn with_partition<R>(env: &Env, v: Value<'_>, f: impl FnOnce(&str) -> JsResult<R>) -> JsResult<R> {
    SCRATCH.with(|s| {
        let mut s = s
            .try_borrow_mut()
            .map_err(|_| errors::invalid_argument("re-entrant call"))?;
        read_partition(env, v, &mut s.0)?;
        f(std::str::from_utf8(&s.0)
            .map_err(|_| errors::invalid_argument("partitionId is not valid UTF-8"))?)
    })
}

/// Runs `f` with the partition and the record (string or bytes, used in place) read.
fn with_record<R>(
    env: &Env,
    partition: Value<'_>,
    record: Value<'_>,
    f: impl FnOnce(&str, &[u8]) -> JsResult<R>,
) -> JsResult<R> {
    SCRATCH.with(|s| {
        let mut s = s
            .try_borrow_mut()
            .map_err(|_| errors::invalid_argument("re-entrant call"))?;
        let (pbuf, rbuf) = &mut *s;
        read_partition(env, partition, pbuf)?;
        let p = std::str::from_utf8(pbuf)
            .map_err(|_| errors::invalid_argument("partitionId is not valid UTF-8"))?;
        if env.type_of(record)? == ValueType::String {
            env.string_into(record, rbuf)?;
            return f(p, rbuf);
        }
        let bytes = bytes_ref(env, record, "dataRowRecord").map_err(|_| {
            errors::invalid_argument(format!(
                "dataRowRecord must be the JSON string returned by encrypt; got {}",
                describe(env, record)
            ))
        })?;
        f(p, bytes)
    })
}

fn read_partition(env: &Env, v: Value<'_>, buf: &mut Vec<u8>) -> JsResult<()> {
    if env.type_of(v)? != ValueType::String {
        return Err(errors::invalid_argument(format!(
            "partitionId must be a string; got {}",
            describe(env, v)
        )));
    }
    env.string_into(v, buf)?;
    if buf.is_empty() {
        return Err(errors::invalid_argument("partitionId must not be empty"));
    }
    Ok(())
}

/// A sync encrypt: inline on this thread when the core allows it (the input is then used
/// in place, no copy), else on a core-host thread with a copy of the input.
fn encrypt_sync(partition: &str, data: &[u8]) -> JsResult<String> {
    let run = || -> Result<String, CoreError> {
        let r = state::running()?;
        check_size(&r, data.len())?;
        if let Some(core) = r.core.inline() {
            return core.encrypt_inline(partition, data);
        }
        let (core, partition, data) = (r.core.clone(), partition.to_owned(), data.to_vec());
        state::call_blocking(&r.pool, r.config.timeout, "encrypt", move |ct| {
            core.encrypt(ct, &partition, &data)
        })
    };
    run().map_err(|e| errors::from_core(&e))
}

/// A sync decrypt, inline or on a core-host thread like [`encrypt_sync`].
fn decrypt_sync(partition: &str, record: &[u8]) -> JsResult<Vec<u8>> {
    let run = || -> Result<Vec<u8>, CoreError> {
        let r = state::running()?;
        check_size(&r, record_budget(record.len()))?;
        if let Some(core) = r.core.inline() {
            return core.decrypt_inline(partition, record);
        }
        let (core, partition, record) = (r.core.clone(), partition.to_owned(), record.to_vec());
        state::call_blocking(&r.pool, r.config.timeout, "decrypt", move |ct| {
            core.decrypt(ct, &partition, &record)
        })
    };
    run().map_err(|e| errors::from_core(&e))
}

pub fn encrypt_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, d| {
        let partition = tri!(partition_arg(env, args.get(0)), d);
        let data = tri!(bytes_arg(env, args.get(1), "data"), d);
        async_call(
            env,
            d,
            "encrypt",
            data.len(),
            string_to_js,
            move |ct, core| core.encrypt(ct, &partition, &data),
        )
    })
}

pub fn encrypt_string_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, d| {
        let partition = tri!(partition_arg(env, args.get(0)), d);
        let data = tri!(string_arg(env, args.get(1), "data"), d);
        async_call(
            env,
            d,
            "encrypt",
            data.len(),
            string_to_js,
            move |ct, core| core.encrypt(ct, &partition, data.as_bytes()),
        )
    })
}

pub fn decrypt_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, d| {
        let partition = tri!(partition_arg(env, args.get(0)), d);
        let record = tri!(record_arg(env, args.get(1)), d);
        async_call(
            env,
            d,
            "decrypt",
            record_budget(record.len()),
            buffer_to_js,
            move |ct, core| core.decrypt(ct, &partition, &record),
        )
    })
}

pub fn decrypt_string_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, d| {
        let partition = tri!(partition_arg(env, args.get(0)), d);
        let record = tri!(record_arg(env, args.get(1)), d);
        async_call(
            env,
            d,
            "decrypt",
            record_budget(record.len()),
            bytes_to_string,
            move |ct, core| core.decrypt(ct, &partition, &record),
        )
    })
}

// ---- settings -----------------------------------------------------------------------------

pub fn set_log_hook<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let hook = args.get(0);
    match env.type_of(hook)? {
        ValueType::Function => envs::set_hook(env, Some(hook))?,
        ValueType::Undefined | ValueType::Null => envs::set_hook(env, None)?,
        other => {
            return Err(errors::invalid_argument(format!(
                "set_log_hook expects a function (level, message) => void, or null; got {}",
                other.name()
            )))
        }
    }
    env.undefined().map_err(Into::into)
}

pub fn setenv<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let v = args.get(0);
    let json = match env.type_of(v)? {
        ValueType::String => env.string_value(v)?,
        ValueType::Object => env.json_stringify(v)?,
        other => {
            return Err(errors::invalid_argument(format!(
                "setenv expects an object of NAME: value strings (or its JSON); got {}",
                other.name()
            )))
        }
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
fn state_set_go_env(json: String) -> JsResult<()> {
    if !go::is_loaded() {
        return Ok(()); // it will read the real environment when it loads
    }
    match state::running() {
        Ok(r) => {
            let timeout = r.config.timeout;
            state::call_blocking(&r.pool, timeout, "setenv", move |ct| {
                go::set_env_loaded(ct, &json)
            })
            .map_err(|e| errors::from_core(&e))
        }
        Err(_) => {
            state::defer_go_env(json);
            Ok(())
        }
    }
}

pub fn set_max_stack_alloc_item_size<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    // Kept for asherah-node compatibility: this shim never stack-allocates caller data, so
    // the value is validated and recorded but changes nothing.
    let n = size_arg(env, args.get(0), "max_item_size")?;
    log::emit(
        Level::Debug,
        format!("set_max_stack_alloc_item_size({n}): accepted, no effect in this shim"),
    );
    env.undefined().map_err(Into::into)
}

pub fn set_safety_padding_overhead<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let n = size_arg(env, args.get(0), "safety_padding_overhead")?;
    go::SAFETY_PADDING.store(n, std::sync::atomic::Ordering::Relaxed);
    env.undefined().map_err(Into::into)
}

/// `signal_report()`: what the signal guard found and did when the Go runtime was loaded,
/// one entry per changed signal (an empty array before any Go load).
pub fn signal_report<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let report = crate::signals::report();
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

fn disposition_to_js<'e>(env: &'e Env, d: &crate::signals::Disposition) -> JsResult<Value<'e>> {
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
/// about the thread of the last recorded Go call; `record` turns per-call recording on/off.
pub fn diagnostics<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    if env.type_of(args.get(0))? == ValueType::Boolean {
        let on = env.bool_value(args.get(0))?;
        go::RECORD_CALL_FACTS.store(on, std::sync::atomic::Ordering::Relaxed);
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
    env.set_property(out, "pid", env.create_f64(std::process::id() as f64)?)?;
    Ok(out)
}

fn facts_to_js<'e>(env: &'e Env, tid: i64, f: &crate::host::ThreadFacts) -> JsResult<Value<'e>> {
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

// ---- helpers --------------------------------------------------------------------------------

fn read_config(env: &Env, v: Value<'_>) -> JsResult<ShimConfig> {
    let json = match env.type_of(v)? {
        ValueType::Object => env.json_stringify(v)?,
        ValueType::String => env.string_value(v)?,
        other => {
            return Err(errors::invalid_argument(format!(
                "setup expects an AsherahConfig object; got {}",
                other.name()
            )))
        }
    };
    let env_lib = std::env::var("ASHERAH_GO_LIBRARY").ok();
    let config = config::parse(&json, DEFAULT_CORE, env_lib).map_err(|m| {
        log::emit(
            Level::Error,
            format!("setup failed: invalid configuration: {m}"),
        );
        errors::config(m)
    })?;
    log::set_verbose(config.verbose);
    if !config.unknown_keys.is_empty() {
        log::emit(
            Level::Warn,
            format!(
                "setup: unknown config keys passed through to the core: {}",
                config.unknown_keys.join(", ")
            ),
        );
    }
    Ok(config)
}

fn partition_arg(env: &Env, v: Value<'_>) -> JsResult<String> {
    if env.type_of(v)? != ValueType::String {
        return Err(errors::invalid_argument(format!(
            "partitionId must be a string; got {}",
            env.type_of(v)?.name()
        )));
    }
    let s = env.string_value(v)?;
    if s.is_empty() {
        return Err(errors::invalid_argument("partitionId must not be empty"));
    }
    Ok(s)
}

/// The bytes of a Buffer/Uint8Array argument, in place (valid for this call only).
fn bytes_ref<'e>(env: &'e Env, v: Value<'e>, what: &str) -> JsResult<&'e [u8]> {
    match env.uint8_bytes(v)? {
        Some(bytes) => Ok(bytes),
        None => Err(errors::invalid_argument(format!(
            "{what} must be a Buffer or Uint8Array; got {}",
            describe(env, v)
        ))),
    }
}

/// A copy of a Buffer/Uint8Array argument, for work that outlives the call.
fn bytes_arg(env: &Env, v: Value<'_>, what: &str) -> JsResult<Vec<u8>> {
    bytes_ref(env, v, what).map(<[u8]>::to_vec)
}

fn string_arg(env: &Env, v: Value<'_>, what: &str) -> JsResult<String> {
    if env.type_of(v)? != ValueType::String {
        return Err(errors::invalid_argument(format!(
            "{what} must be a string; got {}",
            describe(env, v)
        )));
    }
    Ok(env.string_value(v)?)
}

/// A DataRowRecord: its JSON as a string, or the JSON's bytes.
fn record_arg(env: &Env, v: Value<'_>) -> JsResult<Vec<u8>> {
    record_ref(env, v).map(std::borrow::Cow::into_owned)
}

/// A DataRowRecord argument: a string (copied out as UTF-8) or bytes used in place.
fn record_ref<'e>(env: &'e Env, v: Value<'e>) -> JsResult<std::borrow::Cow<'e, [u8]>> {
    if env.type_of(v)? == ValueType::String {
        return Ok(std::borrow::Cow::Owned(env.string_value(v)?.into_bytes()));
    }
    bytes_ref(env, v, "dataRowRecord")
        .map(std::borrow::Cow::Borrowed)
        .map_err(|_| {
            errors::invalid_argument(format!(
                "dataRowRecord must be the JSON string returned by encrypt; got {}",
                describe(env, v)
            ))
        })
}

fn size_arg(env: &Env, v: Value<'_>, what: &str) -> JsResult<usize> {
    let n = if env.type_of(v)? == ValueType::Number {
        env.f64_value(v)?
    } else {
        f64::NAN
    };
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64) {
        return Err(errors::invalid_argument(format!(
            "{what} must be a non-negative whole number"
        )));
    }
    Ok(n as usize)
}

fn describe(env: &Env, v: Value<'_>) -> &'static str {
    env.type_of(v)
        .map(|t| t.name())
        .unwrap_or("an unreadable value")
}

/// The plaintext size a record of `record_len` bytes can at most carry: records are the
/// base64 of the data (4/3) plus a key envelope well under 64 KiB, so a record is allowed
/// up to 4/3 of the plaintext limit plus that envelope.
fn record_budget(record_len: usize) -> usize {
    record_len.saturating_sub(64 << 10).saturating_mul(3) / 4
}

fn check_size(r: &state::Running, len: usize) -> Result<(), CoreError> {
    let max = r.config.max_input;
    if len > max {
        return Err(CoreError::InputTooLarge { len, max });
    }
    Ok(())
}

fn async_call<T: Send + 'static>(
    env: &Env,
    d: Deferred,
    phase: &'static str,
    size: usize,
    to_js: ToJs<T>,
    f: impl FnOnce(&CoreThread, &dyn Core) -> Result<T, CoreError> + Send + 'static,
) -> Result<(), (Deferred, JsError)> {
    let r = tri!(
        state::running()
            .and_then(|r| check_size(&r, size).map(|_| r))
            .map_err(|e| errors::from_core(&e)),
        d
    );
    let core = r.core.clone();
    spawn_settled(env, d, r.config.timeout, phase, &r.pool, to_js, move |ct| {
        f(ct, &*core)
    })
}

/// Queues `f` on the pool; its result (or the watchdog's timeout) settles `d`.
fn spawn_settled<T: Send + 'static>(
    env: &Env,
    d: Deferred,
    timeout: std::time::Duration,
    phase: &'static str,
    pool: &crate::host::Pool,
    to_js: ToJs<T>,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError> + Send + 'static,
) -> Result<(), (Deferred, JsError)> {
    let link = tri!(envs::current(env), d).link.clone();
    link.begin_outstanding(env);
    let ticket = Arc::new(Ticket::default());
    let slot = Arc::new(Mutex::new(Some(d)));
    let (job_link, job_slot, job_ticket) = (link.clone(), slot.clone(), ticket.clone());
    let submitted = pool.submit(Box::new(move |ct| {
        let out = state::guarded(ct, f);
        if job_ticket.claim() {
            if let Some(d) = job_slot.lock().take() {
                job_link.push(settle_completion(d, out, to_js));
            }
        }
    }));
    if submitted.is_err() {
        if ticket.claim() {
            if let Some(d) = slot.lock().take() {
                link.push(settle_completion(d, Err(CoreError::ShuttingDown), to_js));
            }
        }
        return Ok(());
    }
    state::watch_async(timeout, phase, ticket, move |err| {
        if let Some(d) = slot.lock().take() {
            link.push(settle_completion::<T>(d, Err(err), to_js));
        }
    });
    Ok(())
}

fn settle_completion<T: Send + 'static>(
    d: Deferred,
    out: Result<T, CoreError>,
    to_js: ToJs<T>,
) -> Completion {
    Completion {
        settles_promise: true,
        run: Box::new(move |env| {
            let result = out
                .map_err(|e| errors::from_core(&e))
                .and_then(|v| to_js(env, v));
            let _ = match result {
                Ok(v) => d.resolve(env, v),
                Err(e) => match e.to_value(env) {
                    Ok(ev) => d.reject(env, ev),
                    Err(s) => Err(s),
                },
            };
        }),
    }
}

/// Creates a promise and runs `f` with its settle-side. `f` either takes charge of the
/// deferred, or hands it back with the error to reject it with.
fn promise<'e>(
    env: &'e Env,
    f: impl FnOnce(&'e Env, Deferred) -> Result<(), (Deferred, JsError)>,
) -> JsResult<Value<'e>> {
    let (d, p) = Deferred::new(env)?;
    if let Err((d, e)) = f(env, d) {
        let ev = e.to_value(env)?;
        d.reject(env, ev)?;
    }
    Ok(p)
}

fn unit_to_js(env: &Env, _: ()) -> JsResult<Value<'_>> {
    env.undefined().map_err(Into::into)
}

fn string_to_js(env: &Env, s: String) -> JsResult<Value<'_>> {
    env.create_string(&s).map_err(Into::into)
}

fn buffer_to_js(env: &Env, b: Vec<u8>) -> JsResult<Value<'_>> {
    env.create_buffer_copy(&b).map_err(Into::into)
}

fn bytes_to_string(env: &Env, b: Vec<u8>) -> JsResult<Value<'_>> {
    let s =
        String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    env.create_string(&s).map_err(Into::into)
}
