//! The shim's own log events, delivered to each env's log hook on its JS thread.
//!
//! Events come from any thread (setup on a core-host thread, the watchdog, signal-guard
//! decisions). Each env that set a hook gets the event as a completion on its own link, so
//! the hook always runs on the JS thread that registered it. Levels are syslog severities
//! (3 error, 4 warning, 6 info, 7 debug). With `Verbose: true` events also go to stderr.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::env_state;
use crate::host::{Completion, EnvLink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error = 3,
    Warn = 4,
    Info = 6,
    Debug = 7,
}

impl Level {
    pub fn name(self) -> &'static str {
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

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn add_sink(env_id: u64, link: &Arc<EnvLink>, hooked: Arc<AtomicBool>) {
    SINKS.lock().push(Sink {
        env_id,
        link: Arc::downgrade(link),
        hooked,
    });
}

pub fn remove_sink(env_id: u64) {
    SINKS.lock().retain(|s| s.env_id != env_id);
}

/// Sends an event to every env with a log hook (and to stderr when verbose).
pub fn emit(level: Level, message: String) {
    if VERBOSE.load(Ordering::Relaxed) {
        eprintln!("asherah-shim: [{}] {message}", level.name());
    }
    let sinks = SINKS.lock();
    for sink in sinks.iter().filter(|s| s.hooked.load(Ordering::Acquire)) {
        let Some(link) = sink.link.upgrade() else {
            continue;
        };
        let msg = message.clone();
        link.push(Completion {
            settles_promise: false,
            run: Box::new(move |env| env_state::deliver_log(env, level, &msg)),
        });
    }
}
