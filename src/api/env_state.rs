//! Per-env state: the completion link, the log hook, and teardown.
//!
//! Each env that loads the module (the main thread, each Worker) gets an [`EnvState`] as its
//! N-API instance data. When the env is torn down, its cleanup hook closes the link (later
//! completions for it are dropped, never run against a dead env) and, if this env created
//! the running instance, shuts that instance down.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::log::{self, Level};
use super::state;
use crate::host::EnvLink;
use crate::napi::{sys, Env, JsResult, Ref, Value, ValueType};

static NEXT_ENV_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct EnvState {
    pub id: u64,
    pub link: Arc<EnvLink>,
    hook: RefCell<Option<Ref>>,
    /// asherah 4.x's metrics hook, when this env set it (see [`super::metrics`]).
    metrics_hook: RefCell<Option<Ref>>,
    /// The hook takes one parameter: it gets asherah 4.x's event object, not (level, message).
    event_form: Cell<bool>,
    /// index.js's scratch `Uint8Array`, into whose `ArrayBuffer` `_decrypt_into` writes small
    /// plaintexts.
    decrypt_scratch: RefCell<Option<Scratch>>,
    hooked: Arc<AtomicBool>,
}

/// The decrypt scratch array and its `ArrayBuffer`: `_decrypt_scratch` hands out the array,
/// `_decrypt_into` writes through the buffer (one host call for its bytes, see
/// [`Env::arraybuffer_raw`]).
struct Scratch {
    array: Ref,
    buffer: Ref,
}

struct Cleanup {
    id: u64,
    link: Arc<EnvLink>,
}

/// Sets up this env's state. Called once per env from module registration.
pub(crate) fn init(env: &Env) -> JsResult<()> {
    let id = NEXT_ENV_ID.fetch_add(1, Ordering::Relaxed);
    let link = EnvLink::new(env)?;
    let hooked = Arc::new(AtomicBool::new(false));
    log::add_sink(id, &link, hooked.clone());
    let state = Box::new(EnvState {
        id,
        link: link.clone(),
        hook: RefCell::new(None),
        metrics_hook: RefCell::new(None),
        event_form: Cell::new(false),
        decrypt_scratch: RefCell::new(None),
        hooked,
    });
    // SAFETY: live env; the box is owned by the host from here and freed in
    // `finalize_state`, the only finalizer registered for this env's instance data.
    crate::napi::status_check(unsafe {
        sys::napi_set_instance_data(
            env.raw(),
            Box::into_raw(state).cast(),
            Some(finalize_state),
            ptr::null_mut(),
        )
    })?;
    let cleanup = Box::into_raw(Box::new(Cleanup { id, link }));
    // SAFETY: `cleanup` stays valid until `on_teardown` reclaims it, which runs once.
    unsafe { env.add_cleanup_hook(on_teardown, cleanup.cast()) }?;
    Ok(())
}

/// This env's state.
pub(crate) fn current(env: &Env) -> JsResult<&EnvState> {
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: live env; valid out pointer.
    crate::napi::status_check(unsafe { sys::napi_get_instance_data(env.raw(), &mut data) })?;
    if data.is_null() {
        return Err(crate::napi::JsError::from(
            crate::napi::Status::GenericFailure,
        ));
    }
    // SAFETY: the only instance data this module stores is a Box<EnvState> (see `init`),
    // alive until the env is finalized, which cannot happen during a call on it.
    Ok(unsafe { &*data.cast::<EnvState>() })
}

/// Replaces the log hook (`None` removes it). A function declared with exactly one
/// parameter (`(event) => ...`) gets 4.x's event objects; any other gets (level, message).
pub(crate) fn set_hook(env: &Env, hook: Option<Value<'_>>) -> JsResult<()> {
    let state = current(env)?;
    let new = match hook {
        Some(f) => {
            // A getter or Proxy trap of the user's may throw here: that is a bad argument,
            // reported as one (with a code), and the hook in place stays.
            let Ok(length) = env.get_property(f, "length") else {
                let _ = env.take_exception();
                return Err(super::errors::invalid_argument(
                    "set_log_hook: reading the hook's `length` threw (a getter or Proxy trap); \
                     pass a plain function",
                ));
            };
            let one = env.type_of(length)? == ValueType::Number && env.f64_value(length)? == 1.0;
            state.event_form.set(one);
            Some(env.create_reference(f)?)
        }
        None => None,
    };
    let has = new.is_some();
    if let Some(old) = state.hook.replace(new) {
        env.delete_reference(old)?;
    }
    let had = state.hooked.swap(has, Ordering::AcqRel);
    log::hook_changed(had, has);
    Ok(())
}

/// Replaces this env's metrics hook (`None` removes it).
pub(crate) fn set_metrics_hook(env: &Env, hook: Option<Value<'_>>) -> JsResult<()> {
    let state = current(env)?;
    let new = match hook {
        Some(f) => Some(env.create_reference(f)?),
        None => None,
    };
    if let Some(old) = state.metrics_hook.replace(new) {
        env.delete_reference(old)?;
    }
    Ok(())
}

/// This env's metrics hook, if it has one.
pub(crate) fn metrics_hook<'e>(env: &'e Env) -> JsResult<Option<Value<'e>>> {
    let state = current(env)?;
    let f = match state.metrics_hook.borrow().as_ref() {
        Some(r) => env.reference_value(r)?,
        None => return Ok(None),
    };
    Ok((env.type_of(f)? == ValueType::Function).then_some(f))
}

/// Bytes in this env's decrypt scratch array (index.js copies results out of it).
const DECRYPT_SCRATCH_LEN: usize = 4096;

/// This env's decrypt scratch array, made on first use; always the same object afterwards,
/// so the array index.js holds is the one `_decrypt_into` writes (a second array would let
/// index.js read stale bytes).
pub(crate) fn decrypt_scratch<'e>(env: &'e Env) -> JsResult<Value<'e>> {
    let state = current(env)?;
    if let Some(s) = state.decrypt_scratch.borrow().as_ref() {
        return Ok(env.reference_value(&s.array)?);
    }
    let (array, buffer) = env.create_uint8_array(DECRYPT_SCRATCH_LEN)?;
    let scratch = Scratch {
        array: env.create_reference(array)?,
        buffer: env.create_reference(buffer)?,
    };
    *state.decrypt_scratch.borrow_mut() = Some(scratch);
    Ok(array)
}

/// The `ArrayBuffer` under this env's decrypt scratch array, if `_decrypt_scratch` has made
/// it.
pub(crate) fn existing_decrypt_buffer<'e>(env: &'e Env) -> JsResult<Option<Value<'e>>> {
    let scratch = current(env)?.decrypt_scratch.borrow();
    Ok(scratch
        .as_ref()
        .map(|s| env.reference_value(&s.buffer))
        .transpose()?)
}

/// Runs this env's queued completions (log events, metrics batches, settled promises) now,
/// on its JS thread: called just before a sync call throws, so that an uncaught error
/// cannot end the process before the hooks have seen the events that led to it.
pub(crate) fn flush(env: &Env) {
    super::go_log::settle();
    if let Ok(state) = current(env) {
        state.link.drain_now(env);
    }
}

/// Calls this env's hook with one event. A hook that throws does not take the process
/// down: its exception is cleared and dropped.
pub(crate) fn deliver_log(env: &Env, level: Level, target: &str, message: &str) {
    let Ok(state) = current(env) else { return };
    let call = || -> JsResult<()> {
        // Take the function out before calling it: the hook may replace itself
        // (set_log_hook), which must not find the cell still borrowed.
        let f = match state.hook.borrow().as_ref() {
            Some(r) => env.reference_value(r)?,
            None => return Ok(()),
        };
        if env.type_of(f)? != ValueType::Function {
            return Ok(());
        }
        let severity = env.create_f64(level as i32 as f64)?;
        let msg = env.create_string(message)?;
        if state.event_form.get() {
            let event = env.create_object()?;
            env.set_property(event, "level", env.create_string(level.name_4x())?)?;
            env.set_property(event, "message", msg)?;
            env.set_property(event, "target", env.create_string(target)?)?;
            env.set_property(event, "severity", severity)?;
            env.call(f, &[event])?;
        } else {
            env.call(f, &[severity, msg])?;
        }
        Ok(())
    };
    if call().is_err() {
        let _ = env.take_exception();
    }
}

unsafe extern "C" fn finalize_state(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is the Box<EnvState> leaked in `init`; finalized once.
    let state = unsafe { Box::from_raw(data.cast::<EnvState>()) };
    if env.is_null() {
        return;
    }
    // The references this env made (hooks, the scratch array) are deleted, not left to the
    // host: Node frees at teardown only the references it owns, so a Worker's would leak.
    // SAFETY: `env` is the env being finalized, which made these references. Hosts run
    // instance-data finalizers before they release the env's other references (Node
    // finalizes its finalizer-bearing list, where instance data is, before the plain one),
    // so the references are still live, and `napi_delete_reference` is one of the calls
    // a finalizer may make.
    let env = unsafe { Env::from_raw(env) };
    let scratch = state.decrypt_scratch.take();
    let (array, buffer) = scratch.map(|s| (s.array, s.buffer)).unzip();
    let refs = [state.hook.take(), state.metrics_hook.take(), array, buffer];
    for r in refs.into_iter().flatten() {
        let _ = env.delete_reference(r);
    }
}

unsafe extern "C" fn on_teardown(arg: *mut c_void) {
    // SAFETY: `arg` is the Box<Cleanup> leaked in `init`; the host runs this hook once.
    let cleanup = unsafe { Box::from_raw(arg.cast::<Cleanup>()) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cleanup.link.close();
        log::remove_sink(cleanup.id);
        super::metrics::release(cleanup.id);
        super::go_log::update(false);
        let teardown = state::begin_shutdown(Some(cleanup.id));
        if !matches!(teardown, state::Teardown::Nothing) {
            log::emit(
                Level::Info,
                "the env that set up asherah is exiting: shutting down".into(),
            );
            let _ = state::finish_shutdown_blocking(teardown);
        }
    }));
}
