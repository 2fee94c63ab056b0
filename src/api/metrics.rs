//! asherah 4.x's metrics hook: `setMetricsHook((event) => ...)` gets per-call durations
//! (`encrypt`, `decrypt`: both cores; `store`, `load`: the native core's metastore) and key
//! cache events (`cache_hit`, `cache_miss`, `cache_stale`, with the cache's `name`:
//! `session`, `ik` or `sk`; the native core only, libasherah has no such hooks).
//!
//! Cost: one relaxed atomic load per call when no hook is set (no clock is read, nothing is
//! queued). With a hook, events go into one lock-free queue (bounded at [`MAX_PENDING`];
//! beyond that they are counted and dropped, and a warning says how many) and the first
//! event of a batch rings the hook owner's completion link; the hook then runs on that
//! env's JS thread once per event, for every event queued by then. One process-wide hook,
//! as in 4.x: the env that set it last owns it. The native core's key lifecycle events
//! (created, rotated, loaded), cache misses and metastore timings also go to the log hook
//! at debug level, with kinds and timestamps only.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use asherah_native::{CacheKind, CacheOutcome, KeyChange, KeyEvent, MetastoreOp, Observer};
use crossbeam_queue::SegQueue;
use parking_lot::Mutex;

use super::log::{self, Level};
use super::{env_state, errors};
use crate::host::{Completion, EnvLink};
use crate::napi::{CallArgs, Env, JsResult, Value, ValueType};

/// Most events waiting for the JS thread; more are dropped (and counted).
pub(super) const MAX_PENDING: usize = 1 << 16;

/// A call whose duration is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallKind {
    Encrypt,
    Decrypt,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Duration {
        kind: &'static str,
        nanos: u64,
    },
    Cache {
        kind: &'static str,
        name: &'static str,
    },
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static QUEUE: SegQueue<Event> = SegQueue::new();
static PENDING: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static SCHEDULED: AtomicBool = AtomicBool::new(false);
/// The env whose hook receives events, and its link.
static OWNER: Mutex<Option<(u64, Weak<EnvLink>)>> = Mutex::new(None);

/// `setMetricsHook(fn | null)`.
pub(super) fn set_metrics_hook<'e>(env: &'e Env, args: CallArgs<'e>) -> JsResult<Value<'e>> {
    let hook = args.get(0);
    let state = env_state::current(env)?;
    match env.type_of(hook)? {
        ValueType::Function => {
            env_state::set_metrics_hook(env, Some(hook))?;
            *OWNER.lock() = Some((state.id, Arc::downgrade(&state.link)));
            ENABLED.store(true, Ordering::Release);
            // A delivery still queued on the previous owner waits for that env's JS thread,
            // which may be busy for long (a Worker in a sync loop): this owner gets its own
            // now. The old one finds the events gone, or passes them on, when it runs.
            SCHEDULED.store(false, Ordering::Release);
            if !QUEUE.is_empty() {
                schedule();
            }
        }
        ValueType::Undefined | ValueType::Null => {
            env_state::set_metrics_hook(env, None)?;
            release(state.id);
        }
        other => {
            return Err(errors::invalid_argument(format!(
                "set_metrics_hook expects a function (event) => void, or null; got {}",
                other.name()
            )))
        }
    }
    env.undefined().map_err(Into::into)
}

/// Stops sending events to `env_id` (its hook was removed, or the env is going away).
pub(super) fn release(env_id: u64) {
    let mut owner = OWNER.lock();
    if owner.as_ref().is_some_and(|(id, _)| *id == env_id) {
        *owner = None;
        ENABLED.store(false, Ordering::Release);
        while QUEUE.pop().is_some() {
            PENDING.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Runs `f`, reporting its duration as an `op` event when a hook is set.
pub(super) fn timed<T>(op: CallKind, f: impl FnOnce() -> T) -> T {
    timed_unless(op, f, |_| false)
}

/// [`timed`], except that an outcome `skip` picks is not reported: a call that found it
/// must run elsewhere, and is timed there.
pub(super) fn timed_unless<T>(
    op: CallKind,
    f: impl FnOnce() -> T,
    skip: impl FnOnce(&T) -> bool,
) -> T {
    if !ENABLED.load(Ordering::Relaxed) {
        return f();
    }
    let start = Instant::now();
    let out = f();
    if skip(&out) {
        return out;
    }
    let kind = match op {
        CallKind::Encrypt => "encrypt",
        CallKind::Decrypt => "decrypt",
    };
    record(Event::Duration {
        kind,
        nanos: nanos(start.elapsed()),
    });
    out
}

/// The native core's observer: metrics events when a metrics hook is set, debug log events
/// when someone listens to the log.
#[derive(Debug)]
pub(super) struct NativeObserver;

impl Observer for NativeObserver {
    fn wants(&self) -> bool {
        ENABLED.load(Ordering::Relaxed) || log::listening()
    }

    fn cache(&self, cache: CacheKind, outcome: CacheOutcome) {
        let kind = match outcome {
            CacheOutcome::Hit => "cache_hit",
            CacheOutcome::Miss => "cache_miss",
            CacheOutcome::Stale => "cache_stale",
        };
        if ENABLED.load(Ordering::Relaxed) {
            record(Event::Cache {
                kind,
                name: cache.name(),
            });
        }
        if outcome != CacheOutcome::Hit && log::listening() {
            let what = if outcome == CacheOutcome::Miss {
                "miss"
            } else {
                "stale entry, reloading"
            };
            log::emit_from(
                log::NATIVE_CORE,
                Level::Debug,
                format!("{} cache: {what}", cache.name()),
            );
        }
    }

    fn metastore(&self, op: MetastoreOp, took: Duration) {
        let kind = match op {
            MetastoreOp::Load => "load",
            MetastoreOp::Store => "store",
        };
        if ENABLED.load(Ordering::Relaxed) {
            record(Event::Duration {
                kind,
                nanos: nanos(took),
            });
        }
        if log::listening() {
            log::emit_from(
                log::NATIVE_CORE,
                Level::Debug,
                format!("metastore {kind} took {} µs", took.as_micros()),
            );
        }
    }

    fn key(&self, e: KeyEvent) {
        if !log::listening() {
            return;
        }
        let key = if e.system {
            "system key"
        } else {
            "intermediate key"
        };
        let what = match e.what {
            KeyChange::Created => "created",
            KeyChange::Rotated => "rotated (the latest was expired or revoked): new key",
            KeyChange::Loaded => "loaded from the metastore",
        };
        log::emit_from(
            log::NATIVE_CORE,
            Level::Debug,
            format!("{key} {what} (Created {})", e.created),
        );
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn record(e: Event) {
    if PENDING.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING {
        PENDING.fetch_sub(1, Ordering::AcqRel);
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    QUEUE.push(e);
    schedule();
}

/// One delivery queued on the owner's JS thread: `SCHEDULED` stays set while it exists,
/// and is cleared when it is dropped, whether it ran or not. A delivery can be dropped
/// unrun: a Worker that exits closes its completion link with jobs still queued. Were the
/// flag left set then, no later event would ever schedule a delivery again, for any env.
struct Delivery;

impl Drop for Delivery {
    fn drop(&mut self) {
        // A read-modify-write, so that it is ordered with the queue pops that follow it in
        // `deliver` (a producer pushes, then swaps the flag).
        SCHEDULED.swap(false, Ordering::AcqRel);
    }
}

/// Queues a delivery on the owner's link unless one is queued already.
fn schedule() {
    if SCHEDULED.swap(true, Ordering::AcqRel) {
        return;
    }
    let delivery = Delivery;
    let link = OWNER.lock().as_ref().and_then(|(_, l)| l.upgrade());
    let rung = link.is_some_and(|l| {
        l.push(Completion {
            settles_promise: false,
            run: Box::new(move |env| deliver(env, delivery)),
        })
    });
    if !rung {
        // Not queued, or queued on a link that is closing, where it may never run (or be
        // dropped): free the flag now. A second delivery is harmless; it finds the events
        // gone and does nothing.
        SCHEDULED.store(false, Ordering::Release);
    }
}

/// On a JS thread: hands every queued event to the hook of this env, if it still owns the
/// hook. `SCHEDULED` is cleared first, so an event queued during delivery schedules the
/// next batch instead of waiting. A delivery queued before another env took the hook over
/// is passed on to the new owner, with every event still queued: those recorded since the
/// handover, and any recorded before it that the old owner had not yet received.
fn deliver(env: &Env, delivery: Delivery) {
    drop(delivery);
    let owner = OWNER.lock().as_ref().map(|(id, _)| *id);
    let here = env_state::current(env).ok().map(|s| s.id);
    if owner.is_none() {
        return; // released: `release` has emptied the queue
    }
    if owner != here {
        schedule();
        return;
    }
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        log::emit(
            Level::Warn,
            format!("metrics hook: {dropped} event(s) dropped (more than {MAX_PENDING} waiting for the JS thread)"),
        );
    }
    while let Some(e) = QUEUE.pop() {
        PENDING.fetch_sub(1, Ordering::AcqRel);
        let call = |env: &Env| -> JsResult<()> {
            let Some(f) = env_state::metrics_hook(env)? else {
                return Ok(());
            };
            let o = env.create_object()?;
            match e {
                Event::Duration { kind, nanos } => {
                    env.set_property(o, "type", env.create_string(kind)?)?;
                    env.set_property(o, "durationNs", env.create_f64(nanos as f64)?)?;
                }
                Event::Cache { kind, name } => {
                    env.set_property(o, "type", env.create_string(kind)?)?;
                    env.set_property(o, "name", env.create_string(name)?)?;
                }
            }
            env.call(f, &[o])?;
            Ok(())
        };
        let _ = env.scope(|env| {
            if call(env).is_err() {
                let _ = env.take_exception();
            }
        });
    }
}
