//! The shim's own log events, delivered to each env's log hook on its JS thread.
//!
//! Events come from any thread (setup on a core-host thread, the watchdog, signal-guard
//! decisions). Each env that set a hook gets the event as a completion on its own link, so
//! the hook always runs on the JS thread that registered it. Levels are syslog severities
//! (3 error, 4 warning, 6 info, 7 debug). A hook that takes one parameter gets asherah
//! 4.x's event object instead (`{ level: "error" | "warn" | "info" | "debug", message,
//! target, severity }`, see [`Level::name_4x`]). Each event names its source: the shim itself,
//! the native core (key and cache events, at debug level), or libasherah's own log lines
//! ([`super::go_log`]). With `Verbose: true` events also go to stderr. A sync call that is
//! about to throw first delivers what is queued ([`super::env_state::flush`]), so an uncaught
//! error does not lose the events that explain it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::env_state;
use crate::host::{Completion, EnvLink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Error = 3,
    Warn = 4,
    Info = 6,
    Debug = 7,
}

/// Where an event came from: its `target` in the event-object form.
pub(crate) const SHIM: &str = "asherah-shim";
/// The native core's key lifecycle and cache events.
pub(crate) const NATIVE_CORE: &str = "asherah-shim::native";
/// libasherah's own log lines (Go's `log` package), captured from stderr.
pub(crate) const GO_CORE: &str = "asherah-cobhan";

impl Level {
    /// asherah 4.x's level string (Rust `log::Level` names; 4.x's numbers 1 error, 2 warn,
    /// 3 info, 4 debug, 5 trace; nothing here is emitted at trace).
    pub(crate) fn name_4x(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }
}

struct Sink {
    env_id: u64,
    link: Weak<EnvLink>,
    hooked: Arc<AtomicBool>,
}

static SINKS: Mutex<Vec<Sink>> = Mutex::new(Vec::new());
static VERBOSE: AtomicBool = AtomicBool::new(false);
/// How many envs have a log hook (kept by [`hook_changed`] and [`remove_sink`]).
static HOOKS: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub(crate) fn add_sink(env_id: u64, link: &Arc<EnvLink>, hooked: Arc<AtomicBool>) {
    SINKS.lock().push(Sink {
        env_id,
        link: Arc::downgrade(link),
        hooked,
    });
}

pub(crate) fn remove_sink(env_id: u64) {
    SINKS.lock().retain(|s| {
        let keep = s.env_id != env_id;
        if !keep && s.hooked.load(Ordering::Acquire) {
            HOOKS.fetch_sub(1, Ordering::AcqRel);
        }
        keep
    });
}

/// An env's hook went from `had` to `has` (set, replaced or removed).
pub(crate) fn hook_changed(had: bool, has: bool) {
    match (had, has) {
        (false, true) => {
            HOOKS.fetch_add(1, Ordering::AcqRel);
        }
        (true, false) => {
            HOOKS.fetch_sub(1, Ordering::AcqRel);
        }
        _ => {}
    }
}

/// Whether some env has a log hook.
pub(crate) fn hooked() -> bool {
    HOOKS.load(Ordering::Acquire) > 0
}

/// Whether anyone would see an event now (a hook, or `Verbose`): callers check this before
/// formatting events that would otherwise be built for nobody.
pub(crate) fn listening() -> bool {
    VERBOSE.load(Ordering::Relaxed) || HOOKS.load(Ordering::Relaxed) > 0
}

/// Sends one of the shim's own events to every env with a log hook (and to stderr when
/// verbose).
pub(crate) fn emit(level: Level, message: String) {
    emit_from(SHIM, level, message);
}

/// Sends an event from `target` to every env with a log hook (and to stderr when verbose,
/// except libasherah's lines, which it printed there itself when no hook captures them).
pub(crate) fn emit_from(target: &'static str, level: Level, message: String) {
    if VERBOSE.load(Ordering::Relaxed) && target != GO_CORE {
        eprintln!("{target}: [{}] {message}", level.name());
    }
    let sinks = SINKS.lock();
    for sink in sinks.iter().filter(|s| s.hooked.load(Ordering::Acquire)) {
        let Some(link) = sink.link.upgrade() else {
            continue;
        };
        let msg = message.clone();
        link.push(Completion {
            settles_promise: false,
            run: Box::new(move |env| env_state::deliver_log(env, level, target, &msg)),
        });
    }
}
