//! `_threads()`: what the threads that may run native code look like, for the doctor
//! (`bin/asherah-shim.cjs doctor`). It resolves to the facts (stack size, blocked signals,
//! alternate stack) of the calling JS thread, of one of the host's N-API pool threads (where
//! an unprotected addon's async work runs), and of a core-host thread spawned exactly as the
//! cores' threads are (default stack size, async signals blocked, own alternate stack).
//! `_signals()` reads the current disposition of every signal, and names the mapped
//! file whose code its handler is (`dladdr`), which tells a Go runtime's handler from the
//! host's. `_libraries()` lists the shared objects loaded in the process (`dl_iterate_phdr`),
//! which needs no access to `/proc/self` (Deno denies that without --allow-all).

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::sync::mpsc;

use super::settings::{disposition_to_js, facts_to_js};
use crate::host::pool::DEFAULT_STACK_SIZE;
use crate::host::{thread, ThreadFacts};
use crate::napi::{async_work, CallArgs, Deferred, Env, JsError, JsErrorKind, JsResult, Value};
use asherah_shim_signals::Disposition;

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

pub(super) fn threads<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let (js_tid, js) = here();
    let (deferred, promise) = Deferred::new(env)?;
    // The pool thread is read first and the core-host probe spawned only afterwards: glibc
    // keeps the stacks of joined threads for reuse, and hands a cached stack to a new thread
    // that asks for up to four times less. A host that starts its pool on first use (Bun)
    // would then give that pool thread our probe's 8 MiB stack instead of its own 4 MiB, and
    // the doctor would report the probe's size as the pool's.
    async_work::queue(env, "asherah-shim:threads", here, move |env, pool| {
        let built = (|| -> JsResult<Value<'_>> {
            let core = core_thread_facts()
                .map_err(|m| JsError::new(JsErrorKind::Error, "ERR_ASHERAH_INTERNAL", m))?;
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

/// `_signals()`: `[{ signo, name, disposition, owner }]` for every signal 1..=64 that
/// `sigaction` can read (glibc reserves 32 and 33), where `owner` is the path of the mapped
/// file holding the handler's code, or null (SIG_DFL, SIG_IGN, or an unmapped address).
pub(super) fn signals<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let out = env.create_array(0)?;
    let mut index = 0;
    for signo in 1..=asherah_shim_signals::MAX_SIGNO {
        let Ok(d) = Disposition::read(signo) else {
            continue;
        };
        let o = env.create_object()?;
        env.set_property(o, "signo", env.create_f64(signo as f64)?)?;
        env.set_property(
            o,
            "name",
            env.create_string(asherah_shim_signals::signal_name(signo))?,
        )?;
        env.set_property(o, "disposition", disposition_to_js(env, &d)?)?;
        let owner = match handler_owner(&d) {
            Some(path) => env.create_string(&path)?,
            None => env.null()?,
        };
        env.set_property(o, "owner", owner)?;
        env.set_element(out, index, o)?;
        index += 1;
    }
    Ok(out)
}

/// The file that maps a handler's address, via `dladdr`.
fn handler_owner(d: &Disposition) -> Option<String> {
    if !d.is_handler() {
        return None;
    }
    let mut info = MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only reads the address (it never calls it) and fills `info`.
    let found = unsafe { libc::dladdr(d.handler as *const libc::c_void, info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr returned non-zero, so it filled `info` (zeroed is valid anyway).
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the dynamic linker, valid while the
    // object stays loaded; we copy it at once.
    Some(
        unsafe { CStr::from_ptr(info.dli_fname) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// `_libraries()`: the paths of the shared objects loaded in the process, in load order
/// (the main executable, whose name the loader leaves empty, is left out).
pub(super) fn libraries<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let mut names: Vec<String> = Vec::new();
    // SAFETY: the callback only reads the entry it is given and pushes into `names`, which
    // outlives the call; dl_iterate_phdr holds the loader lock while it runs, so the names
    // stay valid while we copy them.
    unsafe {
        libc::dl_iterate_phdr(
            Some(collect_name),
            (&mut names as *mut Vec<String>).cast::<libc::c_void>(),
        )
    };
    let out = env.create_array(names.len())?;
    for (i, name) in names.iter().enumerate() {
        env.set_element(out, i as u32, env.create_string(name)?)?;
    }
    Ok(out)
}

/// `dl_iterate_phdr` callback: appends the object's path to the `Vec<String>` in `data`.
///
/// # Safety
/// `info` is a live entry from the loader and `data` the `&mut Vec<String>` passed by
/// [`libraries`].
unsafe extern "C" fn collect_name(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: see the function's contract.
    let (info, names) = unsafe { (&*info, &mut *data.cast::<Vec<String>>()) };
    if !info.dlpi_name.is_null() {
        // SAFETY: dlpi_name is a NUL-terminated string owned by the loader, valid during the
        // callback; we copy it at once.
        let name = unsafe { CStr::from_ptr(info.dlpi_name) }.to_string_lossy();
        if !name.is_empty() {
            names.push(name.into_owned());
        }
    }
    0
}
