//! `_threads()`: what the threads that may run native code look like, for the doctor
//! (`bin/asherah-shim.cjs doctor`). It resolves to the facts (stack size, blocked signals,
//! alternate stack) of the calling JS thread, of one of the host's N-API pool threads (where
//! an unprotected addon's async work runs), and of a core-host thread spawned exactly as the
//! cores' threads are (default stack size, async signals blocked, own alternate stack).

use std::sync::mpsc;

use super::settings::facts_to_js;
use crate::host::pool::DEFAULT_STACK_SIZE;
use crate::host::{thread, ThreadFacts};
use crate::napi::{async_work, CallArgs, Deferred, Env, JsError, JsErrorKind, JsResult, Value};

/// The calling thread's kernel id and facts.
fn here() -> (i64, ThreadFacts) {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() } as i64;
    (tid, ThreadFacts::current())
}

/// Spawns one core-host thread with the default stack, reads its facts there, joins it.
fn core_thread_facts() -> Result<(i64, ThreadFacts), String> {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn("asherah-probe".into(), DEFAULT_STACK_SIZE, move |_| {
        let _ = tx.send(here());
    })
    .map_err(|e| format!("could not start a core-host thread: {e}"))?;
    handle
        .join()
        .map_err(|_| "the core-host probe thread panicked".to_string())?;
    rx.recv()
        .map_err(|_| "the core-host probe thread sent nothing".to_string())
}

pub fn threads<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let (js_tid, js) = here();
    let core = core_thread_facts()
        .map_err(|m| JsError::new(JsErrorKind::Error, "ERR_ASHERAH_INTERNAL", m))?;
    let (deferred, promise) = Deferred::new(env)?;
    async_work::queue(env, "asherah-shim:threads", here, move |env, pool| {
        let built = (|| -> JsResult<Value<'_>> {
            let out = env.create_object()?;
            env.set_property(out, "jsThread", facts_to_js(env, js_tid, &js)?)?;
            env.set_property(out, "coreThread", facts_to_js(env, core.0, &core.1)?)?;
            let pool = match pool {
                Some((tid, f)) => facts_to_js(env, tid, &f)?,
                None => env.null()?,
            };
            env.set_property(out, "poolThread", pool)?;
            Ok(out)
        })();
        let _ = match built {
            Ok(v) => deferred.resolve(env, v),
            Err(e) => match e.to_value(env) {
                Ok(v) => deferred.reject(env, v),
                Err(_) => Ok(()),
            },
        };
    })?;
    Ok(promise)
}
