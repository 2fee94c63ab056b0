//! Key caches, with Go's semantics and a lock-light hot path.
//!
//! [`KeyVersions`] holds the loaded versions of one key id plus which one is the latest,
//! each stamped with when it was (re)loaded: an entry older than `CheckInterval` is stale and
//! the caller re-reads the metastore (to see revocations and newer keys), as Go's `keyCache`
//! does; a latest key that is expired or revoked is never handed out for encryption.
//! [`SessionCache`] is the per-partition layer (Go's session cache): at most
//! `SessionCacheMaxSize` partitions, each dropped `SessionCacheDuration` after it was opened,
//! least recently used evicted first. It also keeps each partition's IK id pre-escaped for
//! JSON, so encrypt only copies it. Lookups take a read lock and clone `Arc`s; loads happen
//! outside these locks, serialised by the caller's load mutex.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::keys::CryptoKey;
use crate::observe::CacheOutcome;

/// Freshness and validity rules, in seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) expire_after: i64,
    pub(crate) check_interval: i64,
    pub(crate) session_duration: i64,
    pub(crate) session_max: usize,
}

struct Entry {
    key: Arc<CryptoKey>,
    loaded_at: i64,
}

/// What a key-cache lookup found (reported to the observer as hit, miss or stale): the key
/// as an `Arc` of its own, or borrowed from the cache under its read lock (`K = &Arc<_>`).
pub(crate) enum Lookup<K = Arc<CryptoKey>> {
    Hit(K),
    Miss,
    Stale,
}

impl<K> Lookup<K> {
    pub(crate) fn hit(self) -> Option<K> {
        match self {
            Lookup::Hit(k) => Some(k),
            Lookup::Miss | Lookup::Stale => None,
        }
    }

    pub(crate) fn map<J>(self, f: impl FnOnce(K) -> J) -> Lookup<J> {
        match self {
            Lookup::Hit(k) => Lookup::Hit(f(k)),
            Lookup::Miss => Lookup::Miss,
            Lookup::Stale => Lookup::Stale,
        }
    }

    pub(crate) fn outcome(&self) -> CacheOutcome {
        match self {
            Lookup::Hit(_) => CacheOutcome::Hit,
            Lookup::Miss => CacheOutcome::Miss,
            Lookup::Stale => CacheOutcome::Stale,
        }
    }
}

/// Loaded versions of one key id.
///
/// A `BTreeMap`, not a `HashMap`: every encrypt and decrypt looks a version up, and a
/// `HashMap` hashes the `i64` with SipHash first (about 1 % of a 64 B decrypt in `perf`),
/// while a tree of this size is one node scanned with a few compares. Only versions read
/// from the metastore are inserted, so the map stays as small as a key's rotation history,
/// whatever `Created` values records carry.
#[derive(Default)]
pub(crate) struct KeyVersions {
    latest: Option<i64>,
    versions: BTreeMap<i64, Entry>,
}

impl KeyVersions {
    /// The latest version, if it is fresh and still valid for encryption.
    pub(crate) fn usable_latest(&self, now: i64, p: &Policy) -> Option<Arc<CryptoKey>> {
        self.latest_lookup(now, p).hit()
    }

    /// [`Self::usable_latest`], telling a stale (old, expired or revoked) entry from none.
    pub(crate) fn latest_lookup(&self, now: i64, p: &Policy) -> Lookup {
        self.latest_ref(now, p).map(Arc::clone)
    }

    /// [`Self::latest_lookup`], borrowing the key: no reference count is taken, so threads
    /// that share the key write nothing to its cache line.
    pub(crate) fn latest_ref(&self, now: i64, p: &Policy) -> Lookup<&Arc<CryptoKey>> {
        let Some(e) = self.latest.and_then(|l| self.versions.get(&l)) else {
            return Lookup::Miss;
        };
        let fresh = now - e.loaded_at < p.check_interval;
        if fresh && !e.key.is_invalid(now, p.expire_after) {
            Lookup::Hit(&e.key)
        } else {
            Lookup::Stale
        }
    }

    /// The version created at `created`, if loaded and fresh (revoked keys still decrypt).
    pub(crate) fn fresh(&self, created: i64, now: i64, p: &Policy) -> Option<Arc<CryptoKey>> {
        self.version_lookup(created, now, p).hit()
    }

    /// [`Self::fresh`], telling a stale entry from none.
    pub(crate) fn version_lookup(&self, created: i64, now: i64, p: &Policy) -> Lookup {
        self.version_ref(created, now, p).map(Arc::clone)
    }

    /// [`Self::version_lookup`], borrowing the key (see [`Self::latest_ref`]).
    pub(crate) fn version_ref(
        &self,
        created: i64,
        now: i64,
        p: &Policy,
    ) -> Lookup<&Arc<CryptoKey>> {
        let Some(e) = self.versions.get(&created) else {
            return Lookup::Miss;
        };
        if now - e.loaded_at < p.check_interval || e.key.revoked() {
            Lookup::Hit(&e.key)
        } else {
            Lookup::Stale
        }
    }

    /// Records a key just read from the metastore. An already cached version is kept (its
    /// revoked flag and load time refreshed) and returned; `latest` marks the newest known.
    pub(crate) fn insert(&mut self, key: CryptoKey, now: i64, latest: bool) -> Arc<CryptoKey> {
        let created = key.created();
        if latest || !matches!(self.latest, Some(l) if l >= created) {
            self.latest = Some(created);
        }
        match self.versions.get_mut(&created) {
            Some(e) => {
                e.key.set_revoked(key.revoked());
                e.loaded_at = now;
                Arc::clone(&e.key)
            }
            None => {
                let key = Arc::new(key);
                self.versions.insert(
                    created,
                    Entry {
                        key: Arc::clone(&key),
                        loaded_at: now,
                    },
                );
                key
            }
        }
    }
}

/// One partition's cached state.
pub(crate) struct Partition {
    pub(crate) ik_id: Arc<str>,
    pub(crate) ik_id_json: Arc<str>,
    pub(crate) keys: RwLock<KeyVersions>,
    /// Serialises metastore loads for this partition (one loader, the others wait and hit).
    pub(crate) load: Mutex<()>,
    opened_at: i64,
    last_used: AtomicI64,
}

impl Partition {
    pub(crate) fn new(ik_id: String, ik_id_json: String, now: i64) -> Self {
        Partition {
            ik_id: ik_id.into(),
            ik_id_json: ik_id_json.into(),
            keys: RwLock::new(KeyVersions::default()),
            load: Mutex::new(()),
            opened_at: now,
            last_used: AtomicI64::new(now),
        }
    }
}

/// Partitions by partition id.
pub(crate) struct SessionCache {
    policy: Policy,
    partitions: RwLock<HashMap<String, Arc<Partition>>>,
}

impl SessionCache {
    pub(crate) fn new(policy: Policy) -> Self {
        SessionCache {
            policy,
            partitions: RwLock::new(HashMap::new()),
        }
    }

    /// Runs `f` on the live cached partition, if any (touching its LRU stamp), under the
    /// map's read lock. The hot path of every call with session caching: no `Arc` of the
    /// partition is taken (its count is a cache line every calling thread would write), and
    /// the stamp is written only when the second changes. `f` must not call back into this
    /// cache.
    pub(crate) fn with<R>(
        &self,
        partition: &str,
        now: i64,
        f: impl FnOnce(&Arc<Partition>) -> R,
    ) -> Option<R> {
        let map = self.partitions.read();
        let p = map.get(partition)?;
        if now - p.opened_at >= self.policy.session_duration {
            return None;
        }
        if p.last_used.load(Ordering::Relaxed) != now {
            p.last_used.store(now, Ordering::Relaxed);
        }
        Some(f(p))
    }

    /// The cached partition, or a new empty one (replacing an expired one, evicting the
    /// least recently used partition when full); `true` when it was cached.
    pub(crate) fn get_or_open(
        &self,
        partition: &str,
        now: i64,
        open: impl FnOnce() -> Partition,
    ) -> (Arc<Partition>, bool) {
        if let Some(p) = self.with(partition, now, Arc::clone) {
            return (p, true);
        }
        let mut map = self.partitions.write();
        if let Some(p) = map.get(partition) {
            if now - p.opened_at < self.policy.session_duration {
                return (Arc::clone(p), true);
            }
        }
        map.retain(|_, p| now - p.opened_at < self.policy.session_duration);
        while map.len() >= self.policy.session_max {
            let lru = map
                .iter()
                .min_by_key(|(_, p)| p.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            match lru {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        let p = Arc::new(open());
        map.insert(partition.to_owned(), Arc::clone(&p));
        (p, false)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.partitions.read().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::random_key;

    const P: Policy = Policy {
        expire_after: 100,
        check_interval: 10,
        session_duration: 50,
        session_max: 2,
    };

    fn key(created: i64) -> CryptoKey {
        CryptoKey::new(created, false, &random_key().unwrap())
    }

    #[test]
    fn latest_freshness_and_expiry() {
        let mut v = KeyVersions::default();
        v.insert(key(1000), 1000, true);
        assert!(v.usable_latest(1005, &P).is_some());
        assert!(
            v.usable_latest(1010, &P).is_none(),
            "stale after check interval"
        );
        v.insert(key(1000), 1095, true);
        assert!(v.usable_latest(1100, &P).is_some());
        assert!(v.usable_latest(1101, &P).is_none(), "expired");
        assert!(
            v.fresh(1000, 1101, &P).is_some(),
            "expired keys still decrypt"
        );
        v.insert(key(900), 1101, false);
        assert_eq!(
            v.latest,
            Some(1000),
            "an older version never becomes latest implicitly"
        );
    }

    #[test]
    fn session_lru_and_duration() {
        let c = SessionCache::new(P);
        let open = |n: &'static str| move || Partition::new(n.to_owned(), format!("\"{n}\""), 0);
        c.get_or_open("a", 0, open("a"));
        c.get_or_open("b", 1, open("b"));
        let live = |name, now| c.with(name, now, |p| p.ik_id.to_string());
        assert_eq!(live("a", 2).as_deref(), Some("a")); // a is now more recent than b
        c.get_or_open("c", 3, open("c"));
        assert_eq!(c.len(), 2);
        assert!(live("b", 3).is_none() && live("a", 3).is_some());
        assert!(live("a", 50).is_none(), "session expired");
    }
}
