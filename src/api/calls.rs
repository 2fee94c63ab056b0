//! The JS entry points for the instance's lifecycle and for encrypt/decrypt.
//!
//! Every export validates its arguments on the JS thread ([`super::args`]: typed errors,
//! nothing queued on bad input) and hands the work to [`super::dispatch`]: sync variants
//! return the result (inline or after a core-host thread replied, within the deadline);
//! `*_async` variants never throw: every failure, argument errors included, becomes a
//! rejected promise.

use std::sync::Arc;

use super::args::{
    bytes_arg, bytes_ref, data_string_arg, partition_arg, read_config, record_arg, with_partition,
    with_record, Lent,
};
use super::dispatch::{
    async_call, buffer_to_js, bytes_to_string, decrypt_sync, decrypt_sync_js, decrypt_to_js,
    encrypt_sync, promise, record_budget, record_to_js, route_owned, routed_to_js, settle_once,
    unit_to_js, Decrypted, Input, Owned, Routed, Settle, DECRYPT, ENCRYPT,
};
use super::{env_state, errors, go_log, state};
use crate::core::{CoreKind, Plaintext};
use crate::napi::{CallArgs, Env, JsResult, Value};

/// The core used when the config does not name one: native (no foreign runtime in the
/// process); `Core: "go"` selects the real libasherah.
pub(crate) const DEFAULT_CORE: CoreKind = CoreKind::Native;

pub(crate) fn setup<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    state::ensure_idle().map_err(|e| errors::from_core(&e))?;
    let config = Arc::new(read_config(env, args.get(0))?);
    go_log::update(config.core == CoreKind::Go);
    let owner = env_state::current(env)?.id;
    let claim = state::claim_setup(&config, owner).map_err(|e| errors::from_core(&e))?;
    state::complete_setup(claim, config, owner).map_err(|e| errors::from_core(&e))?;
    env.undefined().map_err(Into::into)
}

/// Like `setup`: the phase is claimed at once, on this thread; the rest runs on a helper
/// thread of its own (it may wait for a shutdown in progress, then for the core), settling
/// the promise through the env's link.
pub(crate) fn setup_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, settle| {
        state::ensure_idle().map_err(|e| errors::from_core(&e))?;
        let config = Arc::new(read_config(env, args.get(0))?);
        go_log::update(config.core == CoreKind::Go);
        let owner = env_state::current(env)?.id;
        let claim = state::claim_setup(&config, owner).map_err(|e| errors::from_core(&e))?;
        on_helper_thread(env, settle, "asherah-setup", move || {
            state::complete_setup(claim, config, owner)
        })
    })
}

pub(crate) fn shutdown<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let teardown = state::begin_shutdown(None);
    state::finish_shutdown_blocking(teardown).map_err(|e| errors::from_core(&e))?;
    env.undefined().map_err(Into::into)
}

pub(crate) fn shutdown_async<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, settle| {
        // The phase changes now, so a setup() right after this call waits for the
        // teardown to finish instead of racing it.
        let teardown = state::begin_shutdown(None);
        on_helper_thread(env, settle, "asherah-shutdown", move || {
            state::finish_shutdown_blocking(teardown)
        })
    })
}

/// Runs `f` on a new helper thread (it may wait on core-host threads) and settles `d`
/// with its outcome through this env's link.
fn on_helper_thread(
    env: &Env,
    settle: &Settle,
    name: &str,
    f: impl FnOnce() -> Result<(), crate::core::CoreError> + Send + 'static,
) -> JsResult<()> {
    let link = env_state::current(env)?.link.clone();
    let slot = Arc::new(parking_lot::Mutex::new(Some(settle.take())));
    let (job_slot, job_link, what) = (slot.clone(), link.clone(), name.to_owned());
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            // A panic must still settle the promise: unsettled, it would hold the event
            // loop open for good.
            let out = crate::host::catch_panic(f).unwrap_or_else(|m| {
                Err(crate::core::CoreError::Internal(format!(
                    "{what} panicked: {m}"
                )))
            });
            settle_once(&job_link, &job_slot, out, unit_to_js)
        });
    match spawned {
        Ok(_) => {
            link.begin_outstanding(env);
            Ok(())
        }
        Err(e) => {
            settle.give_back(slot.lock().take().expect("the thread never started"));
            Err(errors::from_core(&crate::core::CoreError::Internal(
                format!("cannot start a thread: {e}"),
            )))
        }
    }
}

pub(crate) fn get_setup_status<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    env.create_bool(state::is_ready()).map_err(Into::into)
}

/// `_instance_id()`: the running instance's id (a number), or `null` when none is ready.
/// `SessionFactory` (index.js) records it, so its sessions never reach an instance that
/// someone else set up after it was shut down.
pub(crate) fn instance_id<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    match state::instance_id() {
        Some(id) => env.create_f64(id as f64).map_err(Into::into),
        None => env.null().map_err(Into::into),
    }
}

pub(crate) fn encrypt<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let data = bytes_ref(env, args.get(1), "data")?;
    let record = with_partition(env, args.get(0), |p| {
        encrypt_sync(p, Input::Lent(Lent::Bytes(data)))
    })?;
    record_to_js(env, record)
}

pub(crate) fn encrypt_string<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let data = data_string_arg(env, args.get(1), "data")?;
    let record = with_partition(env, args.get(0), |p| {
        encrypt_sync(p, Input::Own(Owned::Plaintext(data)))
    })?;
    record_to_js(env, record)
}

pub(crate) fn decrypt<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    // A new Buffer, written in place or a copy, as every decrypt result is
    // (`napi::external`, module docs): an external Buffer cannot be transferred.
    with_record(env, args.get(0), args.get(1), |p, r| {
        decrypt_sync_js(env, p, r, None)
    })
}

/// `_decrypt_scratch()`: this env's scratch `Uint8Array` for `_decrypt_into` (made once,
/// the same object on every call).
pub(crate) fn decrypt_scratch<'e>(env: &'e Env, _args: CallArgs<'e>) -> JsResult<Value<'e>> {
    env_state::decrypt_scratch(env)
}

/// `_decrypt_into(partition, record)`: index.js's `decrypt`. A plaintext that fits in this
/// env's scratch array (`_decrypt_scratch`) is written there and its length returned;
/// index.js copies it into a `Buffer` of its own and wipes the scratch. On Node an
/// N-API `Buffer` costs ~1.5 µs to make and that copy ~0.3 µs, most of a 64 B decrypt
/// (docs/performance.md "Issue 15"). Anything else comes back as a `Buffer`, as from
/// `decrypt`. The native core decrypts straight into either (`decrypt_sync_js`).
pub(crate) fn decrypt_into<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let scratch = scratch_bytes(env)?;
    with_record(env, args.get(0), args.get(1), |p, r| {
        let scratch = scratch.filter(|&s| apart(s, r.bytes()));
        decrypt_sync_js(env, p, r, scratch)
    })
}

/// Where this env's scratch array keeps its bytes, once `_decrypt_scratch` has made it and
/// while it is not detached.
fn scratch_bytes(env: &Env) -> JsResult<Option<(*mut u8, usize)>> {
    match env_state::existing_decrypt_buffer(env)? {
        Some(buffer) => Ok(env.arraybuffer_raw(buffer)?),
        None => Ok(None),
    }
}

/// Whether the scratch's bytes `(at, room)` and `record` do not overlap. A record is read
/// in place from a Buffer argument, and one that is the scratch array itself (reachable as
/// `_decrypt_scratch()`) must not be written while it is read: such a call gets no scratch.
fn apart((at, room): (*mut u8, usize), record: &[u8]) -> bool {
    let (start, end) = (at as usize, at as usize + room);
    let (r_start, r_end) = (
        record.as_ptr() as usize,
        record.as_ptr() as usize + record.len(),
    );
    r_end <= start || end <= r_start
}

/// `_decrypt_async_into(partition, record)`: index.js's `decrypt_async` on Node. A call
/// that runs inline returns what `_decrypt_into` returns (a length in the scratch array,
/// or a `Buffer`) and makes no promise: index.js wraps the result in a resolved one, which
/// costs Node far less than an N-API promise and `Buffer`. A call that is hosted, and
/// every failure (argument errors included), returns the promise `decrypt_async` would.
/// Both settle alike: already resolved (or rejected) on return, or when the core replies.
///
/// An inline call on the native core decrypts straight into the scratch or the `Buffer`
/// it returns, as `_decrypt_into` does ([`decrypt_to_js`]).
pub(crate) fn decrypt_async_into<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let routed = decrypt_routed(env, args, true);
    routed_to_js(env, routed, &DECRYPT, |_, v| Ok(v), buffer_to_js)
}

/// The first half of an async decrypt: run inline, when [`route_async`]'s rules allow,
/// straight into JS memory ([`decrypt_to_js`]: the scratch array when `into_scratch` and it
/// fits, else a new `Buffer`), or the instance and owned arguments of a call to host (a
/// large record string moved, not copied: [`Lent::into_owned`]).
///
/// [`route_async`]: super::dispatch
fn decrypt_routed<'e>(
    env: &'e Env,
    args: CallArgs<'e>,
    into_scratch: bool,
) -> JsResult<Routed<Value<'e>>> {
    with_record(env, args.get(0), args.get(1), |p, r| {
        let scratch = match into_scratch {
            true => scratch_bytes(env)?.filter(|&s| apart(s, r.bytes())),
            false => None,
        };
        Ok(match decrypt_to_js(env, p, r.bytes(), scratch, true)? {
            Decrypted::Value(v) => Ok(v),
            Decrypted::Hosted(run) => Err((run, p.to_owned(), DECRYPT.own(r.into_owned()))),
        })
    })
}

pub(crate) fn decrypt_string<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let plain = with_record(env, args.get(0), args.get(1), decrypt_sync)?;
    bytes_to_string(env, plain)
}

pub(crate) fn encrypt_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    encrypt_async_of(env, args, |env, v| {
        bytes_arg(env, v, "data").map(Plaintext::from)
    })
}

pub(crate) fn encrypt_string_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    encrypt_async_of(env, args, |env, v| data_string_arg(env, v, "data"))
}

/// An async encrypt whose data argument `read` turns into bytes (a Buffer's, or a string's
/// UTF-8); the promise settles with the record JSON.
fn encrypt_async_of<'e>(
    env: &'e Env,
    args: CallArgs<'e>,
    read: fn(&Env, Value<'_>) -> JsResult<Plaintext>,
) -> JsResult<Value<'e>> {
    promise(env, |env, settle| {
        let partition = partition_arg(env, args.get(0))?;
        let data = read(env, args.get(1))?;
        async_call(
            env,
            settle,
            &ENCRYPT,
            data.len(),
            record_to_js,
            partition,
            Owned::Plaintext(data),
        )
    })
}

/// `_encrypt_async_into(partition, data)`: index.js's `encrypt_async` on Node, as
/// [`decrypt_async_into`] is its `decrypt_async`: the record JSON when the call ran inline
/// (index.js wraps it in a resolved promise), else the promise `encrypt_async` returns.
/// Arguments are read in `encrypt_async`'s order, so a bad call fails alike.
pub(crate) fn encrypt_async_into<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let routed = with_partition(env, args.get(0), |p| {
        let data = bytes_ref(env, args.get(1), "data")?;
        route_owned(&ENCRYPT, data.len(), p, data)
    });
    routed_to_js(env, routed, &ENCRYPT, record_to_js, record_to_js)
}

/// An inline call on the native core decrypts straight into the `Buffer` the promise
/// resolves with ([`decrypt_routed`]); a hosted one owns its record.
pub(crate) fn decrypt_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let routed = decrypt_routed(env, args, false);
    routed_to_js(env, routed, &DECRYPT, resolved, buffer_to_js)
}

/// A promise already resolved with `v`.
fn resolved<'e>(env: &'e Env, v: Value<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, settle| {
        // A failed resolve is an N-API failure, as on every other settle path.
        let _ = settle.take().resolve(env, v);
        Ok(())
    })
}

pub(crate) fn decrypt_string_async<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    promise(env, |env, settle| {
        let partition = partition_arg(env, args.get(0))?;
        let record = record_arg(env, args.get(1))?;
        let size = record_budget(record.len());
        async_call(
            env,
            settle,
            &DECRYPT,
            size,
            bytes_to_string,
            partition,
            Owned::Record(record),
        )
    })
}
