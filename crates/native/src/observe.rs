//! Watching the core work: cache hits, misses and stale entries, metastore timings, and key
//! lifecycle events, reported to an [`Observer`] the embedder installs in
//! [`crate::Config::observer`].
//!
//! The core asks [`Observer::wants`] (meant to be one relaxed atomic load) before it measures
//! or reports anything, so an installed observer that nobody listens to costs a branch per
//! lookup, and no observer costs nothing. Events carry kinds and timestamps only: never key
//! bytes, and never a key id (an intermediate key's id holds the partition id, which callers
//! may treat as sensitive).
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Receives the core's events, on the thread that made the call.
pub trait Observer: Send + Sync {
    /// Whether anyone listens now; when `false` nothing is measured or reported.
    fn wants(&self) -> bool;
    /// A lookup in one of the key caches.
    fn cache(&self, cache: CacheKind, outcome: CacheOutcome);
    /// One metastore operation and how long it took (failed ones included).
    fn metastore(&self, op: MetastoreOp, took: Duration);
    /// A key was created, rotated or loaded.
    fn key(&self, event: KeyEvent);
}

/// Which cache a lookup went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheKind {
    /// The per-partition session cache.
    Session,
    /// Intermediate keys (within a partition's session).
    Intermediate,
    /// System keys.
    System,
}

impl CacheKind {
    /// The cache's name in metrics events: `"session"`, `"ik"` or `"sk"`.
    pub fn name(self) -> &'static str {
        match self {
            CacheKind::Session => "session",
            CacheKind::Intermediate => "ik",
            CacheKind::System => "sk",
        }
    }
}

/// What a cache lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// A fresh, usable entry.
    Hit,
    /// Nothing cached.
    Miss,
    /// An entry older than `CheckInterval` (or, for the latest key, expired or revoked): the
    /// metastore is asked again.
    Stale,
}

/// A metastore operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetastoreOp {
    /// `load` or `load_latest`.
    Load,
    /// `store` (insert if absent).
    Store,
}

/// A key lifecycle event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    /// What happened to the key.
    pub what: KeyChange,
    /// `true` for a system key, `false` for an intermediate key.
    pub system: bool,
    /// The key's `Created` (unix seconds).
    pub created: i64,
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyChange {
    /// The first key of its id was created.
    Created,
    /// A new key replaced an expired or revoked latest one.
    Rotated,
    /// A key was read from the metastore (and unwrapped).
    Loaded,
}

/// The observer slot of a [`crate::Config`]: empty by default.
#[derive(Clone, Default)]
pub struct ObserverSlot(Option<Arc<dyn Observer>>);

impl ObserverSlot {
    /// A slot holding `observer`.
    pub fn new(observer: Arc<dyn Observer>) -> Self {
        ObserverSlot(Some(observer))
    }

    /// The observer, if one is installed and listening.
    pub(crate) fn active(&self) -> Option<&dyn Observer> {
        self.0.as_deref().filter(|o| o.wants())
    }

    pub(crate) fn cache(&self, cache: CacheKind, outcome: CacheOutcome) {
        if let Some(o) = self.active() {
            o.cache(cache, outcome);
        }
    }

    pub(crate) fn key(&self, what: KeyChange, system: bool, created: i64) {
        if let Some(o) = self.active() {
            o.key(KeyEvent {
                what,
                system,
                created,
            });
        }
    }

    /// Runs a metastore operation, timing it only when someone listens.
    pub(crate) fn timed<T>(&self, op: MetastoreOp, f: impl FnOnce() -> T) -> T {
        match self.active() {
            None => f(),
            Some(o) => {
                let start = Instant::now();
                let out = f();
                o.metastore(op, start.elapsed());
                out
            }
        }
    }
}

impl fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ObserverSlot(installed)"
        } else {
            "ObserverSlot(none)"
        })
    }
}
