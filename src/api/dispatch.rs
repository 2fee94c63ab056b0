//! Getting work to a core and results back: inline, blocking on a core-host thread, or
//! through a promise settled on the JS thread.
//!
//! Sync calls run inline when the core allows it ([`crate::core::Core::inline`]) and
//! otherwise wait for a core-host thread at most the configured deadline. Async calls queue
//! a job whose result, or the watchdog's timeout, settles the promise exactly once (the two
//! race on a ticket) through the env's batched completion link.

use std::sync::Arc;

use parking_lot::Mutex;

use super::metrics::{self, Op};
use super::{envs, errors, state};
use crate::core::{Core, CoreError, InlineCore};
use crate::host::watchdog::{self, Ticket};
use crate::host::{CallState, Completion, CoreThread, EnvLink, Job, Turn};
use crate::napi::{Deferred, Env, JsError, JsResult, Value};

type ToJs<T> = for<'a> fn(&'a Env, T) -> JsResult<Value<'a>>;

/// A sync encrypt: inline on this thread when the core allows it (the input is then used
/// in place, no copy), else on a core-host thread with a copy of the input.
pub(super) fn encrypt_sync(partition: &str, data: &[u8]) -> JsResult<String> {
    let run = || -> Result<String, CoreError> {
        let r = state::running()?;
        check_size(&r, data.len())?;
        if let Some(core) = r.core.inline() {
            return core.encrypt_inline(partition, data);
        }
        let (core, partition, data) = (r.core.clone(), partition.to_owned(), data.to_vec());
        state::call_blocking(&r, "encrypt", move |ct| core.encrypt(ct, &partition, &data))
    };
    metrics::timed(Op::Encrypt, run).map_err(|e| errors::from_core(&e))
}

/// A sync decrypt, inline or on a core-host thread like [`encrypt_sync`].
pub(super) fn decrypt_sync(partition: &str, record: &[u8]) -> JsResult<Vec<u8>> {
    let run = || -> Result<Vec<u8>, CoreError> {
        let r = state::running()?;
        check_size(&r, record_budget(record.len()))?;
        if let Some(core) = r.core.inline() {
            return core.decrypt_inline(partition, record);
        }
        let (core, partition, record) = (r.core.clone(), partition.to_owned(), record.to_vec());
        state::call_blocking(&r, "decrypt", move |ct| {
            core.decrypt(ct, &partition, &record)
        })
    };
    metrics::timed(Op::Decrypt, run).map_err(|e| errors::from_core(&e))
}

/// The plaintext size a record of `record_len` bytes can at most carry: records are the
/// base64 of the data (4/3) plus a key envelope well under 64 KiB, so a record is allowed
/// up to 4/3 of the plaintext limit plus that envelope.
pub(super) fn record_budget(record_len: usize) -> usize {
    record_len.saturating_sub(64 << 10).saturating_mul(3) / 4
}

pub(super) fn check_size(r: &state::Running, len: usize) -> Result<(), CoreError> {
    let max = r.config.max_input;
    if len > max {
        return Err(CoreError::InputTooLarge { len, max });
    }
    Ok(())
}

/// What an async export asks of a core: the same operation, runnable inline (small inputs,
/// cores that allow it) or hosted on a core-host thread.
pub(super) struct AsyncOp<T> {
    pub phase: &'static str,
    /// Its duration event for the metrics hook.
    pub metric: Op,
    pub inline: InlineFn<T>,
    pub hosted: HostedFn<T>,
}

/// The operation on a core that runs on the calling thread.
pub(super) type InlineFn<T> = fn(&dyn InlineCore, &str, &[u8]) -> Result<T, CoreError>;
/// The operation on a core-host thread.
pub(super) type HostedFn<T> = fn(&dyn Core, &CoreThread, &str, &[u8]) -> Result<T, CoreError>;

pub(super) const ENCRYPT: AsyncOp<String> = AsyncOp {
    phase: "encrypt",
    metric: Op::Encrypt,
    inline: |c, p, d| c.encrypt_inline(p, d),
    hosted: |c, ct, p, d| c.encrypt(ct, p, d),
};

pub(super) const DECRYPT: AsyncOp<Vec<u8>> = AsyncOp {
    phase: "decrypt",
    metric: Op::Decrypt,
    inline: |c, p, r| c.decrypt_inline(p, r),
    hosted: |c, ct, p, r| c.decrypt(ct, p, r),
};

/// Inputs up to this size run inline in `*_async` when the core allows it and cannot wait
/// on I/O (native core, memory metastore): a few µs of work cost less than the hop to a
/// core-host thread and back (measured in docs/performance.md); larger inputs, and cores
/// that may wait (SQLite's lock), go to a core-host thread so the event loop stays free.
const INLINE_ASYNC_MAX: usize = 8 << 10;

/// Starts an async operation: settles `d` at once when it can run inline, else queues it.
pub(super) fn async_call<T: Send + 'static>(
    env: &Env,
    d: Deferred,
    op: &'static AsyncOp<T>,
    size: usize,
    to_js: ToJs<T>,
    partition: String,
    input: Vec<u8>,
) -> Result<(), (Deferred, JsError)> {
    let r = tri!(
        state::running()
            .and_then(|r| check_size(&r, size).map(|_| r))
            .map_err(|e| errors::from_core(&e)),
        d
    );
    if size <= INLINE_ASYNC_MAX {
        if let Some(core) = r.core.inline().filter(|c| !c.may_wait_on_io()) {
            let v = tri!(
                metrics::timed(op.metric, || (op.inline)(core, &partition, &input))
                    .map_err(|e| errors::from_core(&e))
                    .and_then(|out| to_js(env, out)),
                d
            );
            // A failed resolve is an N-API failure, handled like every other settle path.
            let _ = d.resolve(env, v);
            return Ok(());
        }
    }
    let core = r.core.clone();
    let (hosted, metric) = (op.hosted, op.metric);
    spawn_settled(env, d, &r, op.phase, to_js, move |ct| {
        metrics::timed(metric, || hosted(&*core, ct, &partition, &input))
    })
}

/// Queues `f` on the instance's pool; its result, or the watchdog at `TimeoutMs`, settles
/// `d`, whichever claims the ticket first. At the deadline a call still queued is cancelled
/// (`QueueTimeout`, it never runs); a running one is rejected with `Timeout` and counted as
/// stuck if it is still running `TimeoutMs` after it started. A call whose env has gone
/// (a terminated Worker) is skipped when its turn comes; a closing pool rejects it with
/// `ShuttingDown` without running it.
pub(super) fn spawn_settled<T: Send + 'static>(
    env: &Env,
    d: Deferred,
    r: &Arc<state::Running>,
    phase: &'static str,
    to_js: ToJs<T>,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError> + Send + 'static,
) -> Result<(), (Deferred, JsError)> {
    let link = tri!(envs::current(env), d).link.clone();
    let ticket = Arc::new(Ticket::default());
    let call = Arc::new(CallState::default());
    let slot = Arc::new(Mutex::new(Some(d)));
    let (job_link, job_slot, job_ticket, job_call, job_r) = (
        link.clone(),
        slot.clone(),
        ticket.clone(),
        call.clone(),
        r.clone(),
    );
    let job = Job::new(move |turn| match turn {
        Turn::Run(ct) => {
            if job_link.is_closed() {
                // The env that asked is gone: nothing can receive the result.
                if job_call.try_cancel() {
                    job_ticket.claim();
                }
                return;
            }
            // None: cancelled at its deadline while queued, already settled.
            if let Some(out) = state::run_call(ct, &job_call, &job_r, f) {
                if job_ticket.claim() {
                    settle_once(&job_link, &job_slot, out, to_js);
                }
            }
        }
        Turn::Cancelled => {
            if job_call.try_cancel() && job_ticket.claim() {
                settle_once(&job_link, &job_slot, Err(CoreError::ShuttingDown), to_js);
            }
        }
    });
    if let Err((_, why)) = r.pool.submit(job) {
        let d = slot.lock().take().expect("not yet shared");
        return Err((d, errors::from_core(&state::refused(why))));
    }
    link.begin_outstanding(env);
    let r = r.clone();
    watchdog::watch(
        std::time::Instant::now() + r.config.timeout,
        ticket,
        Box::new(move || {
            let err = state::missed_deadline(&r, &call, phase);
            settle_once(&link, &slot, Err(err), to_js);
        }),
    );
    Ok(())
}

/// Settles the promise held in `slot` with `out`, through `link`, unless it was settled
/// already (a promise shared by a job, the watchdog or a helper thread settles once).
pub(super) fn settle_once<T: Send + 'static>(
    link: &EnvLink,
    slot: &Mutex<Option<Deferred>>,
    out: Result<T, CoreError>,
    to_js: ToJs<T>,
) {
    if let Some(d) = slot.lock().take() {
        link.push(settle_completion(d, out, to_js));
    }
}

pub(super) fn settle_completion<T: Send + 'static>(
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
pub(super) fn promise<'e>(
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

pub(super) fn unit_to_js(env: &Env, _: ()) -> JsResult<Value<'_>> {
    env.undefined().map_err(Into::into)
}

pub(super) fn string_to_js(env: &Env, s: String) -> JsResult<Value<'_>> {
    env.create_string(&s).map_err(Into::into)
}

pub(super) fn buffer_to_js(env: &Env, b: Vec<u8>) -> JsResult<Value<'_>> {
    env.create_buffer_copy(&b).map_err(Into::into)
}

/// A decrypted plaintext as a JS string. Bytes that are not UTF-8 (data encrypted with
/// `encrypt` from a binary Buffer) are refused rather than replaced with U+FFFD.
pub(super) fn bytes_to_string(env: &Env, b: Vec<u8>) -> JsResult<Value<'_>> {
    let s = String::from_utf8(b).map_err(|_| errors::not_utf8())?;
    env.create_string(&s).map_err(Into::into)
}
