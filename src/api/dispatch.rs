//! Getting work to a core and results back: inline, blocking on a core-host thread, or
//! through a promise settled on the JS thread.
//!
//! Sync calls run inline when the core allows it ([`crate::core::Core::inline`]) and
//! otherwise wait for a core-host thread at most the configured deadline. Async calls queue
//! a job whose result, or the watchdog's timeout, settles the promise exactly once (the two
//! race on a ticket) through the env's batched completion link.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use super::args::Lent;
use super::metrics::{self, CallKind};
use super::state::{self, Running};
use super::{env_state, errors};
use crate::core::{guarded, Core, CoreError, InlineCore, Plaintext, Record};
use crate::host::watchdog::{self, Ticket};
use crate::host::{self, CallState, Completion, CoreThread, EnvLink, Job, NoReply, Refusal, Turn};
use crate::napi::{Deferred, Env, JsError, JsResult, Status, Value};

type ToJs<T> = for<'a> fn(&'a Env, T) -> JsResult<Value<'a>>;

/// Runs `op` synchronously: inline on this thread when the core allows it (the input is
/// then used in place, no copy), else on a core-host thread, which gets the input owned
/// ([`Input::owned`]). `size` is what `MaxInputSize` is checked against.
fn sync_call<T: Send + 'static>(
    op: &'static Op<T>,
    partition: &str,
    input: Input<'_>,
    size: usize,
) -> JsResult<T> {
    let run = || -> Result<T, CoreError> {
        state::with_running(|r| {
            check_size(r, op.metric, size)?;
            if let Some(core) = r.core.inline() {
                return (op.inline)(core, partition, input.bytes());
            }
            hosted_sync(r, op, partition, input)
        })?
    };
    metrics::timed(op.metric, run).map_err(|e| errors::from_core(&e))
}

/// A sync call's input: lent for the call, or already the call's own (an encrypt's data
/// read from a string).
pub(super) enum Input<'a> {
    Lent(Lent<'a>),
    Own(Owned),
}

impl Input<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Lent(lent) => lent.bytes(),
            Input::Own(owned) => owned,
        }
    }

    /// The input as a call on a core-host thread owns it: its own moved there, lent bytes
    /// copied, or a large string moved out of the scratch ([`Lent::into_owned`]). A sync
    /// call cannot lend the thread its bytes: at its deadline the caller returns while the
    /// core may still be reading them.
    fn owned<T>(self, op: &Op<T>) -> Owned {
        match self {
            Input::Lent(lent) => op.own(lent.into_owned()),
            Input::Own(owned) => owned,
        }
    }
}

/// A plaintext the core returned, copied where [`decrypt_sync_js`] would have written it:
/// into `scratch` when it fits (the result is its length), else into a new `Buffer`.
pub(super) fn copied_to_js<'e>(
    env: &'e Env,
    plain: &[u8],
    scratch: Option<(*mut u8, usize)>,
) -> JsResult<Value<'e>> {
    if let Some((at, room)) = scratch {
        if plain.len() <= room {
            // SAFETY: `at` has `room >= plain.len()` writable bytes of the scratch array's
            // ArrayBuffer (made by this module, never shared, read in this call so not
            // detached), on this JS thread, and no JS runs before we return; `plain` is a
            // separate Rust allocation.
            unsafe { std::ptr::copy_nonoverlapping(plain.as_ptr(), at, plain.len()) };
            return env.create_f64(plain.len() as f64).map_err(|status| {
                // JS will never be told the plaintext is there: take it back out.
                // SAFETY: the same `plain.len()` bytes at `at`, with no JS run since.
                unsafe { std::ptr::write_bytes(at, 0, plain.len()) };
                status.into()
            });
        }
    }
    env.create_buffer_copy(plain).map_err(Into::into)
}

/// The hosted half of [`sync_call`]: `op` on a core-host thread, with the input owned,
/// waited for at most the deadline.
fn hosted_sync<T: Send + 'static>(
    r: &Arc<Running>,
    op: &'static Op<T>,
    partition: &str,
    input: Input<'_>,
) -> Result<T, CoreError> {
    let (core, partition) = (r.core.clone(), partition.to_owned());
    let input = input.owned(op);
    let hosted = op.hosted;
    call_blocking(r, op.phase, move |ct| {
        hosted(&*core, ct, &partition, &input)
    })
}

/// A sync decrypt whose plaintext goes straight where JS will read it when the core runs
/// inline and can write there ([`crate::core::InlineCore::decrypt_inline_to`]): into
/// `scratch` (index.js's scratch array: its bytes and length) when it fits, the result
/// then being the plaintext's length, else into a new `Buffer`, the result. No copy of
/// the plaintext is made outside JS memory then. Otherwise (the Go core, a record for the
/// general reader) the core's plaintext is copied there, as before.
///
/// A core that is not inline decrypts on a core-host thread, which gets the record owned
/// (a large record string moved there, not copied: [`Lent::into_owned`]).
#[inline(always)]
pub(super) fn decrypt_sync_js<'e>(
    env: &'e Env,
    partition: &str,
    record: Lent<'_>,
    scratch: Option<(*mut u8, usize)>,
) -> JsResult<Value<'e>> {
    match decrypt_to_js(env, partition, record.bytes(), scratch, false)? {
        Decrypted::Value(v) => Ok(v),
        Decrypted::Hosted(r) => decrypt_hosted_sync(env, &r, partition, record, scratch),
    }
}

/// The hosted case of [`decrypt_sync_js`], out of line so that the inline case stays small
/// enough to inline: the core's plaintext copied where JS reads it ([`copied_to_js`]).
#[cold]
#[inline(never)]
fn decrypt_hosted_sync<'e>(
    env: &'e Env,
    r: &Arc<Running>,
    partition: &str,
    record: Lent<'_>,
    scratch: Option<(*mut u8, usize)>,
) -> JsResult<Value<'e>> {
    let plain = metrics::timed(DECRYPT.metric, || {
        hosted_sync(r, &DECRYPT, partition, Input::Lent(record))
    })
    .map_err(|e| errors::from_core(&e))?;
    copied_to_js(env, &plain, scratch)
}

/// What [`decrypt_to_js`] did: the call's JS value, or nothing yet because the call does
/// not run inline (see [`route_async`]): the caller hosts it, with the record owned.
pub(super) enum Decrypted<'e> {
    Value(Value<'e>),
    Hosted(Arc<Running>),
}

/// The inline half of [`decrypt_sync_js`], or with `async_route` of an async decrypt: run
/// (and written into JS memory) only when the core is inline and, for an async call,
/// [`route_async`] would run it inline; else [`Decrypted::Hosted`] with nothing run.
pub(super) fn decrypt_to_js<'e>(
    env: &'e Env,
    partition: &str,
    record: &[u8],
    scratch: Option<(*mut u8, usize)>,
    async_route: bool,
) -> JsResult<Decrypted<'e>> {
    let mut made = None;
    let mut host_failure = None;
    // The scratch is handed out at most once, even to a caller that asked twice: a second
    // `&mut` slice of the same bytes would alias the first. `lent` is how many of its bytes
    // were handed out: the plaintext's length when it ends up there, else how many to wipe.
    let mut unlent = scratch;
    let mut lent = 0;
    let mut out = |len: usize| -> Option<&'e mut [u8]> {
        if let Some((at, _)) = unlent.take().filter(|&(_, room)| len <= room) {
            lent = len;
            if len == 0 {
                return Some(&mut []);
            }
            // SAFETY: the scratch array's ArrayBuffer, which this module made and never
            // shares, has `room >= len` bytes at `at` (read in this call, so not detached
            // since); no JS runs until this call returns, and nothing else holds a slice.
            return Some(unsafe { std::slice::from_raw_parts_mut(at, len) });
        }
        match env.create_buffer(len) {
            Ok((v, at)) => {
                made = Some(v);
                if len == 0 || at.is_null() {
                    return Some(&mut []);
                }
                // SAFETY: `create_buffer` made `len` writable bytes at `at` that no JS has
                // seen, valid while the buffer's handle is (this call's scope, `'e`).
                Some(unsafe { std::slice::from_raw_parts_mut(at, len) })
            }
            Err(s) => {
                host_failure = Some(s);
                None
            }
        }
    };
    /// How the call went, short of its JS value.
    enum Ran {
        /// Written through `out`.
        InPlace,
        /// A plaintext of the core's own, to copy.
        Copy(Plaintext),
        Hosted(Arc<Running>),
    }
    let size = record_budget(record.len());
    let small = record.len() / 4 * DECRYPT.work_quarters <= INLINE_ASYNC_MAX;
    let mut run = |core: Option<&dyn InlineCore>, r: &Arc<Running>| match core {
        Some(core) => {
            if core.decrypt_inline_to(partition, record, &mut out)? {
                return Ok(Ran::InPlace);
            }
            core.decrypt_inline(partition, record).map(Ran::Copy)
        }
        None => Ok(Ran::Hosted(r.clone())),
    };
    let result = if async_route {
        // As `route_async`: only a call that runs inline is timed.
        state::with_running(|r| {
            check_size(r, DECRYPT.metric, size)?;
            match r.core.inline().filter(|c| small && !c.may_wait_on_io()) {
                Some(core) => metrics::timed(DECRYPT.metric, || run(Some(core), r)),
                None => Ok(Ran::Hosted(r.clone())),
            }
        })
    } else {
        // As `sync_call`: the whole call is timed, a refusal included; a call that turns
        // out to be hosted is timed where it runs, in `decrypt_sync_js`.
        metrics::timed_unless(
            DECRYPT.metric,
            || {
                state::with_running(|r| {
                    check_size(r, DECRYPT.metric, size)?;
                    run(r.core.inline(), r)
                })
            },
            |out| matches!(out, Ok(Ok(Ran::Hosted(_)))),
        )
    }
    .and_then(|r| r);
    // Zeroes the scratch's lent bytes: they may hold what was written there (ciphertext,
    // `ring`'s zeros, part of a decode the general reader then redid, or a plaintext JS
    // will not be told of), and index.js expects the scratch clean between calls.
    let wipe_lent = || {
        if let (Some((at, _)), 1..) = (scratch, lent) {
            // SAFETY: as in `out`: `lent <= room` bytes at `at` in the scratch array's
            // ArrayBuffer, on this JS thread, with no JS run since and no slice of them
            // alive (`out` is no longer used).
            unsafe { std::ptr::write_bytes(at, 0, lent) };
        }
    };
    // The plaintext is in the scratch only when written in place with no Buffer made: a
    // core that asked twice may have had the scratch first, then a Buffer.
    if !(matches!(result, Ok(Ran::InPlace)) && made.is_none()) {
        wipe_lent();
    }
    match result {
        Ok(Ran::InPlace) => match made {
            Some(buffer) => Ok(Decrypted::Value(buffer)),
            None => match env.create_f64(lent as f64) {
                Ok(v) => Ok(Decrypted::Value(v)),
                Err(status) => {
                    // The plaintext is in the scratch, and JS will never be told its length.
                    wipe_lent();
                    Err(status.into())
                }
            },
        },
        Ok(Ran::Copy(plain)) => copied_to_js(env, &plain, scratch).map(Decrypted::Value),
        Ok(Ran::Hosted(r)) => Ok(Decrypted::Hosted(r)),
        Err(e) => Err(match host_failure {
            Some(status) => status.into(),
            None => errors::from_core(&e),
        }),
    }
}

/// A sync encrypt (see [`sync_call`]).
pub(super) fn encrypt_sync(partition: &str, data: Input<'_>) -> JsResult<Record> {
    let size = data.bytes().len();
    sync_call(&ENCRYPT, partition, data, size)
}

/// A sync decrypt (see [`sync_call`]).
pub(super) fn decrypt_sync(partition: &str, record: Lent<'_>) -> JsResult<Plaintext> {
    let size = record_budget(record.bytes().len());
    sync_call(&DECRYPT, partition, Input::Lent(record), size)
}

/// The plaintext size a record of `record_len` bytes can at most carry: records are the
/// base64 of the data (4/3) plus a key envelope well under 64 KiB, so a record is allowed
/// up to 4/3 of the plaintext limit plus that envelope.
pub(super) fn record_budget(record_len: usize) -> usize {
    record_len.saturating_sub(64 << 10).saturating_mul(3) / 4
}

pub(super) fn check_size(r: &state::Running, kind: CallKind, len: usize) -> Result<(), CoreError> {
    let mut max = r.config.max_input;
    if kind == CallKind::Encrypt {
        max = max.min(r.core.max_encrypt_input());
    }
    if len > max {
        return Err(CoreError::InputTooLarge { len, max });
    }
    Ok(())
}

/// What an export asks of a core: the same operation, runnable inline (cores that allow
/// it; for async calls, small inputs only) or hosted on a core-host thread.
pub(super) struct Op<T> {
    pub phase: &'static str,
    /// Its duration event for the metrics hook.
    pub metric: CallKind,
    /// Bytes of work per input byte, in quarters: 4 for a plaintext, 3 for a record (its
    /// base64 is 4/3 of the plaintext). Decides which async calls are small enough to run
    /// inline.
    pub work_quarters: usize,
    pub inline: InlineFn<T>,
    pub hosted: HostedFn<T>,
    /// Whether the input is a user's plaintext (an encrypt's data), wiped when a copy of
    /// it is dropped (`core::plaintext`); a record is ciphertext and is not.
    pub plaintext_input: bool,
}

impl<T> Op<T> {
    /// `input`, copied for a call that outlives its JS call or runs on another thread, as
    /// the call owns it.
    pub(super) fn own(&self, input: Vec<u8>) -> Owned {
        if self.plaintext_input {
            Owned::Plaintext(Plaintext::from(input))
        } else {
            Owned::Record(input)
        }
    }
}

/// A call's own copy of its input (see [`Op::own`]).
pub(super) enum Owned {
    Plaintext(Plaintext),
    Record(Vec<u8>),
}

impl std::ops::Deref for Owned {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Owned::Plaintext(p) => p,
            Owned::Record(r) => r,
        }
    }
}

/// The operation on a core that runs on the calling thread.
pub(super) type InlineFn<T> = fn(&dyn InlineCore, &str, &[u8]) -> Result<T, CoreError>;
/// The operation on a core-host thread.
pub(super) type HostedFn<T> = fn(&dyn Core, &CoreThread, &str, &[u8]) -> Result<T, CoreError>;

pub(super) const ENCRYPT: Op<Record> = Op {
    phase: "encrypt",
    metric: CallKind::Encrypt,
    work_quarters: 4,
    inline: |c, p, d| c.encrypt_inline(p, d),
    hosted: |c, ct, p, d| c.encrypt(ct, p, d),
    plaintext_input: true,
};

pub(super) const DECRYPT: Op<Plaintext> = Op {
    phase: "decrypt",
    metric: CallKind::Decrypt,
    work_quarters: 3,
    inline: |c, p, r| c.decrypt_inline(p, r),
    hosted: |c, ct, p, r| c.decrypt(ct, p, r),
    plaintext_input: false,
};

/// Inputs up to this size run inline in `*_async` when the core allows it and cannot wait
/// on I/O (native core, memory metastore); larger inputs, and cores that may wait (SQLite's
/// lock), go to a core-host thread so the event loop stays free. The hop to a core-host
/// thread and back costs 130-230 µs of latency for a lone call on the benchmark VM (two
/// wake-ups of idle CPUs) and about nothing at 64 calls in flight, while a 32 KiB call costs
/// 20-35 µs inline: up to here inline is 5-10x faster alone and as fast in a crowd, and
/// blocks the event loop for less than one hop (bench/scaling.cjs, docs/performance.md
/// "Issue 15"; it was 8 KiB, where a lone 16 KiB encrypt took 205-250 µs).
const INLINE_ASYNC_MAX: usize = 32 << 10;

/// Where an async call runs: already done inline (its result), or on a core-host thread of
/// this instance.
enum Route<T> {
    Inline(T),
    Hosted(Arc<Running>),
}

/// The first half of an async call: the instance and size checks, then the call itself
/// when it can run inline (input up to [`INLINE_ASYNC_MAX`] of work, scaled by
/// `op.work_quarters`, on a core that allows inline calls and cannot wait on I/O). `size`
/// is what the size limit checks (for a record, the lenient [`record_budget`]). The input
/// is borrowed: an inline call copies nothing.
fn route_async<T>(
    op: &'static Op<T>,
    size: usize,
    partition: &str,
    input: &[u8],
) -> JsResult<Route<T>> {
    let small = input.len() / 4 * op.work_quarters <= INLINE_ASYNC_MAX;
    let routed = state::with_running(|r| {
        check_size(r, op.metric, size)?;
        match r.core.inline().filter(|c| small && !c.may_wait_on_io()) {
            Some(core) => {
                metrics::timed(op.metric, || (op.inline)(core, partition, input)).map(Route::Inline)
            }
            None => Ok(Route::Hosted(r.clone())),
        }
    });
    routed.and_then(|r| r).map_err(|e| errors::from_core(&e))
}

/// An async call run by an export that takes an inline result itself (index.js's
/// `_*_async_into`): the result, or a hosted call's instance and owned arguments for
/// [`host_async`].
pub(super) type Routed<T> = Result<T, (Arc<Running>, String, Owned)>;

/// [`route_async`], with a hosted call's arguments copied for [`host_async`].
pub(super) fn route_owned<T>(
    op: &'static Op<T>,
    size: usize,
    partition: &str,
    input: &[u8],
) -> JsResult<Routed<T>> {
    Ok(match route_async(op, size, partition, input)? {
        Route::Inline(out) => Ok(out),
        Route::Hosted(r) => Err((r, partition.to_owned(), op.own(input.to_vec()))),
    })
}

/// The JS value of a [`route_owned`] call (or of an async [`decrypt_to_js`], whose inline
/// result `I` is already a JS value): an inline result through `inline_to_js`; a hosted
/// call's promise, settled through `hosted_to_js`; or, for any failure, a rejected promise.
pub(super) fn routed_to_js<'e, I, T: Send + 'static>(
    env: &'e Env,
    routed: JsResult<Routed<I>>,
    op: &'static Op<T>,
    inline_to_js: impl FnOnce(&'e Env, I) -> JsResult<Value<'e>>,
    hosted_to_js: ToJs<T>,
) -> JsResult<Value<'e>> {
    match routed {
        Ok(Ok(out)) => inline_to_js(env, out),
        Ok(Err(hosted)) => hosted_promise(env, Ok(hosted), op, hosted_to_js),
        Err(e) => hosted_promise(env, Err(e), op, hosted_to_js),
    }
}

/// The promise of an async call that did not run inline ([`route_owned`],
/// [`decrypt_to_js`]), settled through `to_js`; or a rejected one for a failure.
fn hosted_promise<'e, T: Send + 'static>(
    env: &'e Env,
    hosted: JsResult<(Arc<Running>, String, Owned)>,
    op: &'static Op<T>,
    to_js: ToJs<T>,
) -> JsResult<Value<'e>> {
    match hosted {
        Ok((r, partition, input)) => promise(env, |env, settle| {
            host_async(env, settle, &r, op, to_js, partition, input)
        }),
        Err(e) => promise(env, |_, _| Err(e)),
    }
}

/// Starts an async operation: settles `d` at once when it can run inline, else queues it
/// (see [`route_async`]).
pub(super) fn async_call<T: Send + 'static>(
    env: &Env,
    settle: &Settle,
    op: &'static Op<T>,
    size: usize,
    to_js: ToJs<T>,
    partition: String,
    input: Owned,
) -> JsResult<()> {
    match route_async(op, size, &partition, &input)? {
        Route::Inline(out) => {
            let v = to_js(env, out)?;
            // A failed resolve is an N-API failure, handled like every other settle path.
            let _ = settle.take().resolve(env, v);
            Ok(())
        }
        Route::Hosted(r) => host_async(env, settle, &r, op, to_js, partition, input),
    }
}

/// The second half of an async call that does not run inline: queued on `r`'s pool, its
/// result settles `settle` (see [`spawn_settled`]).
fn host_async<T: Send + 'static>(
    env: &Env,
    settle: &Settle,
    r: &Arc<Running>,
    op: &'static Op<T>,
    to_js: ToJs<T>,
    partition: String,
    input: Owned,
) -> JsResult<()> {
    let core = r.core.clone();
    let (hosted, metric) = (op.hosted, op.metric);
    spawn_settled(env, settle, r, op.phase, to_js, move |ct| {
        metrics::timed(metric, || hosted(&*core, ct, &partition, &input))
    })
}

/// Queues `f` on the instance's pool; its result, or the watchdog at `TimeoutMs`, settles
/// the promise, whichever claims the ticket first. At the deadline a call still queued is cancelled
/// (`QueueTimeout`, it never runs); a running one is rejected with `Timeout` and counted as
/// stuck if it is still running `TimeoutMs` after it started. A call whose env has gone
/// (a terminated Worker) is skipped when its turn comes; a closing pool rejects it with
/// `ShuttingDown` without running it.
pub(super) fn spawn_settled<T: Send + 'static>(
    env: &Env,
    settle: &Settle,
    r: &Arc<state::Running>,
    phase: &'static str,
    to_js: ToJs<T>,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError> + Send + 'static,
) -> JsResult<()> {
    let link = env_state::current(env)?.link.clone();
    let ticket = Arc::new(Ticket::default());
    let call = Arc::new(CallState::default());
    let slot = Arc::new(Mutex::new(Some(settle.take())));
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
            if let Some(out) = run_call(ct, &job_call, &job_r, f) {
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
    let job = job.caller_may_wait(&r.pool);
    if let Err((_, why)) = r.pool.submit(job) {
        settle.give_back(slot.lock().take().expect("the job never ran"));
        return Err(errors::from_core(&refused(why)));
    }
    link.begin_outstanding(env);
    let r = r.clone();
    watchdog::watch(
        std::time::Instant::now() + r.config.timeout,
        ticket,
        Box::new(move || {
            let err = missed_deadline(&r, &call, phase);
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

/// A new promise's deferred, until something takes charge of settling it.
///
/// [`promise`] lends one to its closure. While it still holds the deferred, an `Err` from
/// the closure rejects the promise with that error, so `?` works and no early return can
/// leave a promise pending. Code that hands the deferred to a job or a thread takes it
/// with [`Settle::take`]; if the hand-over then fails, [`Settle::give_back`] returns it
/// before the error is returned.
pub(super) struct Settle(Cell<Option<Deferred>>);

impl Settle {
    /// Takes charge of settling the promise.
    pub(super) fn take(&self) -> Deferred {
        self.0
            .take()
            .expect("a promise's deferred is taken once, or given back first")
    }

    /// Hands the deferred back after a failed hand-over; the error returned next rejects it.
    pub(super) fn give_back(&self, d: Deferred) {
        self.0.set(Some(d));
    }
}

/// Creates a promise and runs `f` with its [`Settle`]: an `Err` from `f` rejects the
/// promise unless `f` took charge of the deferred (then `f` settles it, and must not fail
/// after taking it without giving it back).
pub(super) fn promise<'e>(
    env: &'e Env,
    f: impl FnOnce(&'e Env, &Settle) -> JsResult<()>,
) -> JsResult<Value<'e>> {
    let (d, p) = Deferred::new(env)?;
    let settle = Settle(Cell::new(Some(d)));
    if let Err(e) = f(env, &settle) {
        if let Some(d) = settle.0.take() {
            let ev = e.to_value(env)?;
            d.reject(env, ev)?;
        }
    }
    Ok(p)
}

pub(super) fn unit_to_js(env: &Env, _: ()) -> JsResult<Value<'_>> {
    env.undefined().map_err(Into::into)
}

/// V8's longest string, in UTF-16 code units (`v8::String::kMaxLength` on 64-bit since V8
/// 6.2): Node cannot make a longer one, and N-API says only "generic failure". JSC (Bun)
/// allows 2^31 - 1.
const V8_MAX_STRING: usize = (1 << 29) - 24;

/// The error for a string result the host failed to make: when it is longer than V8's
/// longest string, one that says so (with `what` to do instead), else the host's status.
fn string_failure(env: &Env, status: Status, len: usize, what: &str, instead: &str) -> JsError {
    if len <= V8_MAX_STRING {
        return status.into();
    }
    let _ = env.take_exception();
    errors::result_too_large(format!(
        "{what} is {len} bytes, more than the longest string this runtime can make \
         ({V8_MAX_STRING} UTF-16 units in Node's V8); {instead}"
    ))
}

/// A record's JSON as a JS string (a large one external on Node and Bun, see `napi::external`).
pub(super) fn record_to_js(env: &Env, r: Record) -> JsResult<Value<'_>> {
    let len = r.json.len();
    env.create_string_owned(r.json, r.known_ascii).map_err(|s| {
        string_failure(
            env,
            s,
            len,
            "the record",
            "encrypt at most 383 MiB per call (MaxInputBytes)",
        )
    })
}

/// A decrypted plaintext as a `Buffer`: a copy into an ordinary one, so the user may transfer it
/// (`napi::external`, module docs).
pub(super) fn buffer_to_js(env: &Env, b: Plaintext) -> JsResult<Value<'_>> {
    env.create_buffer_copy(&b).map_err(Into::into)
}

/// A decrypted plaintext as a JS string. Bytes that are not UTF-8 (data encrypted with
/// `encrypt` from a binary Buffer) are refused rather than replaced with U+FFFD.
pub(super) fn bytes_to_string(env: &Env, b: Plaintext) -> JsResult<Value<'_>> {
    // Borrowed, not taken into a `String`: `b` stays the owner that wipes it.
    let s = std::str::from_utf8(&b).map_err(|_| errors::not_utf8())?;
    env.create_string(s).map_err(|status| {
        string_failure(
            env,
            status,
            s.len(),
            "the plaintext",
            "decrypt() returns it as a Buffer",
        )
    })
}

/// Runs `f` on a core-host thread of `r`'s pool and waits for it at most `TimeoutMs`.
///
/// A call still queued at the deadline is cancelled (it never runs) and fails with
/// `QueueTimeout`; a call running at the deadline fails with `Timeout`, and if it is still
/// running `TimeoutMs` after it started, it is counted as stuck until it returns.
/// How the caller waits (a reply slot, parking at once) is `host::reply`.
pub(super) fn call_blocking<T: Send + 'static>(
    r: &Arc<Running>,
    phase: &'static str,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    let call = Arc::new(CallState::default());
    let (job_call, job_r) = (call.clone(), r.clone());
    let reply = host::call_blocking_near(&r.pool, Instant::now() + r.config.timeout, move |turn| {
        match turn {
            // None: cancelled at its deadline while queued; the caller has gone.
            Turn::Run(ct) => run_call(ct, &job_call, &job_r, f),
            Turn::Cancelled => {
                job_call.try_cancel();
                Some(Err(CoreError::ShuttingDown))
            }
        }
    });
    match reply {
        Ok(out) => out,
        Err(NoReply::Refused(why)) => Err(refused(why)),
        Err(NoReply::Deadline) => Err(missed_deadline(r, &call, phase)),
    }
}

/// Runs a queued call's `f` on its core-host thread, panics turned into errors. `None` if
/// the call's deadline cancelled it while it was still queued (its caller was answered);
/// a call that had been counted as stuck is uncounted when it returns.
pub(super) fn run_call<T>(
    ct: &CoreThread,
    call: &CallState,
    r: &Running,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError>,
) -> Option<Result<T, CoreError>> {
    if !call.try_start() {
        return None;
    }
    let out = guarded(ct, f);
    if call.finish() {
        r.unstick();
    }
    Some(out)
}

/// What a call that missed its deadline fails with: `QueueTimeout` if it was still queued
/// (it is cancelled and never runs), else `Timeout`, and then it is watched for being stuck.
pub(super) fn missed_deadline(
    r: &Arc<Running>,
    call: &Arc<CallState>,
    phase: &'static str,
) -> CoreError {
    let millis = r.config.timeout.as_millis() as u64;
    if call.try_cancel() {
        return CoreError::QueueTimeout { millis };
    }
    watch_stuck(r, call, phase);
    CoreError::Timeout { phase, millis }
}

/// The error for a job the pool refused.
pub(super) fn refused(why: Refusal) -> CoreError {
    match why {
        Refusal::Closed => CoreError::ShuttingDown,
        Refusal::Full { limit } => CoreError::Overloaded { limit },
    }
}

/// After a running call missed its caller's deadline: counts it as stuck if it is still
/// running `TimeoutMs` after it started.
fn watch_stuck(r: &Arc<Running>, call: &Arc<CallState>, phase: &'static str) {
    let Some(started) = call.started_at() else {
        return;
    };
    let (call, r) = (call.clone(), r.clone());
    watchdog::watch(
        started + r.config.timeout,
        Arc::new(watchdog::Ticket::default()),
        Box::new(move || r.count_if_stuck(&call, phase)),
    );
}
