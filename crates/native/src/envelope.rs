//! Envelope encryption with Go's key lifecycle: [`Asherah`].
//!
//! Hierarchy: a system key (SK, `_SK_<service>_<product>`, sealed by the KMS) seals one
//! intermediate key per partition (IK, `_IK_<partition>_<service>_<product>`), which seals a
//! fresh data-row key (DRK) per record, which seals the data. Encrypt uses the latest valid
//! IK: cached if fresh, else the metastore's latest if it and its SK are valid, else a new
//! one (minute-truncated `Created`, stored with insert-if-absent; a lost race loads the
//! winner). Expired or revoked IKs/SKs are thus rotated on the next encrypt, while decrypt
//! loads whichever version a record names, so old records keep decrypting. This follows
//! `envelope.go` in godaddy/asherah step by step (we read it; the code here is our own).
//!
//! A stalled metastore costs only the calls that need it: metastore calls are bounded by
//! `Config::metastore_timeout`, no cache lock is held across one (only the per-key load
//! mutexes, which serialise loaders of one key), and a call waiting for another's load of
//! the same key gives up after that timeout too. A partition whose keys are cached never
//! touches the metastore or a load mutex.
//!
//! Region suffixes (DynamoDB's `EnableRegionSuffix`): an instance writes and caches only its
//! own region's keys, but, like Go's `suffixedPartition`, it decrypts records whose IK is
//! another region's (`_IK_<partition>_<service>_<product>_<other>`) or unsuffixed. Those keys,
//! and the other regions' SKs they name, are kept apart in a small cache keyed by id and
//! version, since two regions' keys may share a `Created` minute.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard, RwLock};

use crate::aead::{self, KeyCipher, NONCE_LEN, OVERHEAD, SEALED_KEY_LEN};
use crate::cache::{KeyVersions, Lookup, Partition, Policy, SessionCache};
use crate::config::{Clock, Config};
use crate::error::{Error, ErrorKind};
use crate::keys::{is_expired, minute_timestamp, random_key, CryptoKey, KeyBytes};
use crate::kms::Kms;
use crate::locked::Locked;
use crate::metastore::{self, Metastore};
use crate::observe::{CacheKind, CacheOutcome, KeyChange, MetastoreOp, ObserverSlot};
use crate::record::{self, EnvelopeKeyRecord, KeyMeta, RecordJson};
use crate::rng;

/// Other regions' keys: (key id, created) to the key and when it was loaded.
type ForeignKeys = HashMap<(String, i64), (Arc<CryptoKey>, i64)>;

/// An Asherah instance for one service/product. `Send + Sync`: share it across threads.
pub struct Asherah {
    sk_id: String,
    /// `_<service>_<product>[_<region>]`, the tail of every IK id this instance writes.
    ik_suffix: String,
    /// With a region suffix: `_<service>_<product>`, the unsuffixed tail, so records of
    /// other regions (and unsuffixed ones) are recognised as this partition's.
    foreign_tail: Option<String>,
    /// Other regions' IKs and SKs, by (key id, created), each with when it was loaded.
    foreign: Mutex<ForeignKeys>,
    policy: Policy,
    clock: Clock,
    kms: Kms,
    metastore: Arc<dyn Metastore>,
    /// How long a call waits for another call's load of the same key.
    load_wait: Duration,
    sk_cache: RwLock<KeyVersions>,
    sk_load: Mutex<()>,
    sessions: Option<SessionCache>,
    observer: ObserverSlot,
}

impl std::fmt::Debug for Asherah {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Asherah")
            .field("sk_id", &self.sk_id)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Asherah {
    /// Opens the configured metastore and KMS.
    pub fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let metastore = metastore::open(&config)?;
        Self::with_metastore(config, metastore)
    }

    /// Like [`Asherah::new`] but over a metastore the caller provides (e.g. one
    /// [`crate::MemoryMetastore`] shared by several instances); `config.metastore` is ignored.
    pub fn with_metastore(config: Config, metastore: Arc<dyn Metastore>) -> Result<Self, Error> {
        config.validate()?;
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let policy = Policy {
            expire_after: secs(config.expire_after),
            check_interval: secs(config.check_interval),
            session_duration: secs(config.session_cache_duration),
            session_max: config.session_cache_max_size,
        };
        // Go's suffixed partitions: `_SK_<service>_<product>_<region>` and
        // `_IK_<partition>_<service>_<product>_<region>` when the metastore asks for it.
        let region = metastore
            .region_suffix()
            .map(|r| format!("_{r}"))
            .unwrap_or_default();
        let kms = Kms::from_config(&config.kms, config.metastore_timeout)?;
        Ok(Asherah {
            sk_id: format!("_SK_{}_{}{region}", config.service_name, config.product_id),
            ik_suffix: format!("_{}_{}{region}", config.service_name, config.product_id),
            foreign_tail: (!region.is_empty())
                .then(|| format!("_{}_{}", config.service_name, config.product_id)),
            foreign: Mutex::new(HashMap::new()),
            policy,
            clock: config.clock,
            kms,
            metastore,
            load_wait: config.metastore_timeout,
            sk_cache: RwLock::new(KeyVersions::default()),
            sk_load: Mutex::new(()),
            sessions: config.session_cache.then(|| SessionCache::new(policy)),
            observer: config.observer,
        })
    }

    /// Encrypts `data` for `partition`; returns the DataRowRecord JSON (Go's field order).
    pub fn encrypt(&self, partition: &str, data: &[u8]) -> Result<String, Error> {
        self.encrypt_record(partition, data).map(|r| r.json)
    }

    /// [`Asherah::encrypt`], also saying whether the record is all ASCII (known from how it
    /// was written, so a caller that makes a Latin-1 string of it need not scan it).
    pub fn encrypt_record(&self, partition: &str, data: &[u8]) -> Result<RecordJson, Error> {
        check_partition(partition)?;
        let now = self.clock.now();
        // The DRK and both nonces from this thread's generator, straight into locked memory.
        let mut random = Locked::<[u8; 64]>::zeroed();
        rng::fill(&mut random[..32 + 2 * NONCE_LEN])?;
        let (drk, nonces) = random.split_at(32);
        let data_nonce: &[u8; NONCE_LEN] = nonces[..NONCE_LEN].try_into().expect("12 bytes");
        let key_nonce: &[u8; NONCE_LEN] = nonces[NONCE_LEN..2 * NONCE_LEN]
            .try_into()
            .expect("12 bytes");
        let drk: &[u8; 32] = drk.try_into().expect("32 bytes");
        // The sealed parts are ciphertext, so they may sit in ordinary memory. Small data
        // (the common case) is sealed into a stack array: no heap buffer but the record's.
        // It is sealed and written while the IK is borrowed from the cache (a bounded amount
        // of work, see `with_latest_ik`); larger data after, with the IK's id and creation
        // time taken out.
        let mut sealed_drk = [0u8; SEALED_KEY_LEN];
        let small = data.len() < aead::RING_MIN;
        let sealed = self.with_latest_ik(partition, now, |ik, ik_id_json| {
            aead::seal_to(ik.cipher(), key_nonce, drk, &mut sealed_drk)?;
            if !small {
                return Ok(Sealed::DataLater {
                    ik_created: ik.created(),
                    ik_id_json: Arc::clone(ik_id_json),
                });
            }
            let mut room = [0u8; aead::RING_MIN + OVERHEAD];
            let sealed_data = &mut room[..data.len() + OVERHEAD];
            aead::seal_small_data(drk, data_nonce, data, sealed_data)?;
            Ok(Sealed::Record(record_json(
                now,
                &sealed_drk,
                ik_id_json,
                ik.created(),
                sealed_data,
            )))
        })?;
        match sealed {
            Sealed::Record(record) => Ok(record),
            Sealed::DataLater {
                ik_created,
                ik_id_json,
            } => {
                let mut sealed_data = Vec::with_capacity(data.len() + OVERHEAD);
                aead::seal_data(drk, data_nonce, data, &mut sealed_data)?;
                Ok(record_json(
                    now,
                    &sealed_drk,
                    &ik_id_json,
                    ik_created,
                    &sealed_data,
                ))
            }
        }
    }

    /// Decrypts a DataRowRecord written (by this core or by Go) for `partition`.
    pub fn decrypt(&self, partition: &str, record_json: &[u8]) -> Result<Vec<u8>, Error> {
        check_partition(partition)?;
        let mut drr = record::parse_data_row_record(record_json)?;
        let drk = self.data_row_key(partition, &drr.ik_id, drr.ik_created, &drr.sealed_drk)?;
        let n = aead::open_data(&drk, &mut drr.sealed_data).map_err(|e| e.context("data"))?;
        drr.sealed_data.truncate(n);
        Ok(drr.sealed_data)
    }

    /// Decrypts as [`Asherah::decrypt`] does, but into memory the caller provides:
    /// `out(len)` is asked once for exactly `len` bytes, and the record's ciphertext is
    /// decoded into them and opened there, so the plaintext is never anywhere else. Returns
    /// what `out` gave, holding the plaintext.
    ///
    /// `Ok(None)` means "use [`Asherah::decrypt`]" and nothing was decrypted: the record is
    /// not in the layout every writer produces, or its `Data` is not strict base64, so the
    /// general reader decides (with its leniency and its errors). `out` may have been asked
    /// already then. Every other outcome, errors included, is [`Asherah::decrypt`]'s, in the
    /// same order; when it fails after `out` was asked, what `out` gave holds ciphertext or
    /// zeros, never plaintext. An error from `out` itself is returned as it is.
    pub fn decrypt_with<B: AsMut<[u8]>>(
        &self,
        partition: &str,
        record_json: &[u8],
        out: impl FnOnce(usize) -> Result<B, Error>,
    ) -> Result<Option<B>, Error> {
        check_partition(partition)?;
        let Some(drr) = record::parse_canonical_undecoded(record_json) else {
            return Ok(None);
        };
        let Some(len) = record::sealed_len(drr.data).and_then(|n| n.checked_sub(OVERHEAD)) else {
            return Ok(None);
        };
        let mut buf = out(len)?;
        let mut tag_nonce = [0u8; OVERHEAD];
        if !crate::b64::decode_split(drr.data, buf.as_mut(), &mut tag_nonce) {
            return Ok(None);
        }
        let drk = self.data_row_key(partition, drr.ik_id, drr.ik_created, &drr.sealed_drk)?;
        let (tag, nonce) = tag_nonce.split_at(aead::TAG_LEN);
        let (tag, nonce) = (tag.try_into(), nonce.try_into());
        let (Ok(tag), Ok(nonce)) = (tag, nonce) else {
            unreachable!("OVERHEAD is TAG_LEN + NONCE_LEN");
        };
        aead::open_data_split(&drk, buf.as_mut(), tag, nonce).map_err(|e| e.context("data"))?;
        Ok(Some(buf))
    }

    /// A record's data-row key, opened with the IK it names, which must be `partition`'s
    /// (this region's, or with a region suffix another region's).
    fn data_row_key(
        &self,
        partition: &str,
        ik_id: &str,
        ik_created: i64,
        sealed_drk: &[u8],
    ) -> Result<KeyBytes, Error> {
        let now = self.clock.now();
        let open_drk = |ik: &CryptoKey| {
            aead::open_key(ik.cipher(), sealed_drk).map_err(|e| e.context("data row key"))
        };
        if self.is_ik_id_of(ik_id, partition) {
            self.with_ik(partition, ik_created, now, open_drk)
        } else if self.is_foreign_ik_id_of(ik_id, partition) {
            open_drk(&*self.foreign_ik(ik_id, ik_created, now)?)
        } else {
            Err(Error::new(
                ErrorKind::PartitionMismatch,
                "record was not encrypted for this partition",
            ))
        }
    }

    fn ik_id(&self, partition: &str) -> String {
        format!("_IK_{partition}{}", self.ik_suffix)
    }

    fn is_ik_id_of(&self, id: &str, partition: &str) -> bool {
        id.strip_prefix("_IK_")
            .and_then(|r| r.strip_prefix(partition))
            == Some(self.ik_suffix.as_str())
    }

    /// With a region suffix: `id` is `partition`'s IK in another region, or unsuffixed. Go's
    /// `suffixedPartition.IsValidIntermediateKeyID` takes any id that merely starts with the
    /// unsuffixed IK id, which lets partition `p` read partition `p_svc_prod_x`'s records;
    /// here the rest must be a region name (see [`is_region_tail`]).
    fn is_foreign_ik_id_of(&self, id: &str, partition: &str) -> bool {
        let Some(tail) = &self.foreign_tail else {
            return false;
        };
        match id
            .strip_prefix("_IK_")
            .and_then(|r| r.strip_prefix(partition))
            .and_then(|r| r.strip_prefix(tail.as_str()))
        {
            Some(rest) => is_region_tail(rest),
            None => false,
        }
    }

    /// Another region's (or an unsuffixed) IK version, for decryption: from the foreign
    /// cache while fresh, else from the metastore, unwrapped with the SK it names.
    fn foreign_ik(&self, ik_id: &str, created: i64, now: i64) -> Result<Arc<CryptoKey>, Error> {
        if let Some(k) = self.foreign_cached(CacheKind::Intermediate, ik_id, created, now) {
            return Ok(k);
        }
        let (ekr, parent) = self.load_ik_record(ik_id, created)?;
        let sk = if parent.id == self.sk_id {
            self.sk(&parent, now)?
        } else {
            self.foreign_sk(&parent, now)?
        };
        let key = aead::open_key(sk.cipher(), &ekr.encrypted_key)
            .map_err(|e| e.context("intermediate key"))?;
        self.observer.key(KeyChange::Loaded, false, ekr.created);
        Ok(self.foreign_insert(ik_id, CryptoKey::new(ekr.created, ekr.revoked, &key), now))
    }

    /// Another region's (or the unsuffixed) SK version that a foreign IK names.
    fn foreign_sk(&self, meta: &KeyMeta, now: i64) -> Result<Arc<CryptoKey>, Error> {
        let tail = self.foreign_tail.as_deref().unwrap_or_default();
        let ours = meta
            .id
            .strip_prefix("_SK")
            .and_then(|r| r.strip_prefix(tail))
            .is_some_and(is_region_tail);
        if !ours {
            return Err(Error::metastore(
                "an intermediate key record's parent is not this service's system key",
            ));
        }
        if let Some(k) = self.foreign_cached(CacheKind::System, &meta.id, meta.created, now) {
            return Ok(k);
        }
        let key = self.load_sk(meta)?;
        Ok(self.foreign_insert(&meta.id, key, now))
    }

    /// A foreign key loaded less than `CheckInterval` ago (or revoked: it cannot change).
    fn foreign_cached(
        &self,
        kind: CacheKind,
        id: &str,
        created: i64,
        now: i64,
    ) -> Option<Arc<CryptoKey>> {
        let hit = self
            .foreign
            .lock()
            .get(&(id.to_owned(), created))
            .filter(|(k, loaded_at)| now - loaded_at < self.policy.check_interval || k.revoked())
            .map(|(k, _)| Arc::clone(k));
        self.observer.cache(kind, lookup_outcome(hit.is_some()));
        hit
    }

    /// Caches a foreign key; the cache is emptied when it reaches its bound (twice the
    /// session cache's size, at least 64 keys), so it never grows without limit.
    fn foreign_insert(&self, id: &str, key: CryptoKey, now: i64) -> Arc<CryptoKey> {
        let key = Arc::new(key);
        let mut map = self.foreign.lock();
        if map.len() >= (2 * self.policy.session_max).max(64) {
            map.clear();
        }
        map.insert((id.to_owned(), key.created()), (Arc::clone(&key), now));
        key
    }

    fn open_partition(&self, partition: &str, now: i64) -> Partition {
        let id = self.ik_id(partition);
        let mut json = String::with_capacity(id.len() + 2);
        record::push_json_string(&mut json, &id);
        Partition::new(id, json, now)
    }

    /// Runs `f` with the IK to encrypt with and its id as a JSON string.
    ///
    /// On a session-cache hit, `f` runs under the cache's read locks with the key borrowed:
    /// no reference count is taken, so threads encrypting for the same partition write
    /// nothing to the key's cache line, which every lookup reads (its count sat next to
    /// the revoked flag). `f` must be short (callers seal a key and at most 255 bytes of
    /// data there) and must not call back into this instance.
    fn with_latest_ik<R>(
        &self,
        partition: &str,
        now: i64,
        f: impl FnOnce(&CryptoKey, &Arc<str>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let Some(sessions) = &self.sessions else {
            let p = self.open_partition(partition, now);
            let ik = self.load_latest_or_create_ik(&p.ik_id, now)?;
            return f(&ik, &p.ik_id_json);
        };
        let mut f = Some(f);
        let mut run = |k: &CryptoKey, id: &Arc<str>| f.take().expect("runs once")(k, id);
        let cached = sessions.with(partition, now, |p| {
            p.keys
                .read()
                .latest_ref(now, &self.policy)
                .map(|k| run(k, &p.ik_id_json))
        });
        if let Some(out) = self.report_cached(cached) {
            return out;
        }
        let (p, _) = sessions.get_or_open(partition, now, || self.open_partition(partition, now));
        let ik = self.latest_ik_loaded(&p, now)?;
        run(&ik, &p.ik_id_json)
    }

    /// Reports what a look under the session cache's read locks found, for both caches
    /// (the session, then the partition's IK when the session was cached), and hands back
    /// the result of a hit.
    fn report_cached<T>(&self, cached: Option<Lookup<T>>) -> Option<T> {
        self.observer
            .cache(CacheKind::Session, lookup_outcome(cached.is_some()));
        let lookup = cached?;
        self.observer
            .cache(CacheKind::Intermediate, lookup.outcome());
        lookup.hit()
    }

    /// The partition's IK to encrypt with, after a cache miss: loaded (or created) by one
    /// caller at a time, the others waiting for it.
    fn latest_ik_loaded(&self, p: &Partition, now: i64) -> Result<Arc<CryptoKey>, Error> {
        let _loading = self.wait_for_load(&p.load)?;
        if let Some(k) = p.keys.read().usable_latest(now, &self.policy) {
            return Ok(k);
        }
        let ik = self.load_latest_or_create_ik(&p.ik_id, now)?;
        Ok(p.keys.write().insert(ik, now, true))
    }

    /// Runs `f` with the IK version `created` of `partition`, for decryption; on a hit under
    /// the cache's read locks, as [`Self::with_latest_ik`] does.
    fn with_ik<R>(
        &self,
        partition: &str,
        created: i64,
        now: i64,
        f: impl FnOnce(&CryptoKey) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let Some(sessions) = &self.sessions else {
            return f(&self.load_ik(&self.ik_id(partition), created, now)?);
        };
        let mut f = Some(f);
        let mut run = |k: &CryptoKey| f.take().expect("runs once")(k);
        let cached = sessions.with(partition, now, |p| {
            p.keys
                .read()
                .version_ref(created, now, &self.policy)
                .map(|k| run(k))
        });
        let session_hit = cached.is_some();
        if let Some(out) = self.report_cached(cached) {
            return out;
        }
        let (p, _) = sessions.get_or_open(partition, now, || self.open_partition(partition, now));
        // After a session miss the partition may have been opened by another call since:
        // look once more, and report that look as the intermediate-key outcome (encrypt
        // reports none there; the observer's counts have always been so).
        if !session_hit {
            let lookup = p.keys.read().version_lookup(created, now, &self.policy);
            self.observer
                .cache(CacheKind::Intermediate, lookup.outcome());
            if let Lookup::Hit(k) = lookup {
                return run(&k);
            }
        }
        let ik = self.ik_version_loaded(&p, created, now)?;
        run(&ik)
    }

    /// The partition's IK version `created`, after a cache miss: loaded by one caller at a
    /// time, the others waiting for it (as [`Self::latest_ik_loaded`]).
    fn ik_version_loaded(
        &self,
        p: &Partition,
        created: i64,
        now: i64,
    ) -> Result<Arc<CryptoKey>, Error> {
        let _loading = self.wait_for_load(&p.load)?;
        if let Some(k) = p.keys.read().fresh(created, now, &self.policy) {
            return Ok(k);
        }
        let ik = self.load_ik(&p.ik_id, created, now)?;
        Ok(p.keys.write().insert(ik, now, false))
    }

    /// Takes a key's load mutex, waiting at most `load_wait` for the call that holds it
    /// (whose metastore calls are bounded by the same timeout).
    fn wait_for_load<'a>(&self, load: &'a Mutex<()>) -> Result<MutexGuard<'a, ()>, Error> {
        let start = Instant::now();
        load.try_lock_for(self.load_wait).ok_or_else(|| {
            Error::metastore(format!(
                "gave up after {} ms waiting for another call's metastore load of the same key",
                start.elapsed().as_millis()
            ))
        })
    }

    /// Go's `loadLatestOrCreateIntermediateKey`.
    fn load_latest_or_create_ik(&self, ik_id: &str, now: i64) -> Result<CryptoKey, Error> {
        let Some(ekr) = self.load_latest(ik_id)? else {
            return self.create_ik(ik_id, now, KeyChange::Created);
        };
        if ekr.revoked || is_expired(ekr.created, now, self.policy.expire_after) {
            return self.create_ik(ik_id, now, KeyChange::Rotated);
        }
        let Some(parent) = &ekr.parent_key_meta else {
            return self.create_ik(ik_id, now, KeyChange::Rotated);
        };
        match self.sk(parent, now) {
            Ok(sk) if !sk.is_invalid(now, self.policy.expire_after) => self
                .ik_from_record(sk, &ekr, now)
                .or_else(|_| self.create_ik(ik_id, now, KeyChange::Rotated)),
            _ => self.create_ik(ik_id, now, KeyChange::Rotated),
        }
    }

    /// Go's `createIntermediateKey`: new IK under the latest SK; a lost race loads the winner.
    fn create_ik(&self, ik_id: &str, now: i64, change: KeyChange) -> Result<CryptoKey, Error> {
        let sk = self.latest_sk(now)?;
        let created = minute_timestamp(now);
        let key = random_key()?;
        let record = EnvelopeKeyRecord {
            revoked: false,
            created,
            encrypted_key: seal_key(sk.cipher(), &key)?,
            parent_key_meta: Some(KeyMeta {
                id: self.sk_id.clone(),
                created: sk.created(),
            }),
        };
        let store_error = match self.store(ik_id, created, &record) {
            Ok(true) => {
                self.observer.key(change, false, created);
                return Ok(CryptoKey::new(created, false, &key));
            }
            Ok(false) => None,
            Err(e) => Some(e),
        };
        drop(key);
        match self.load_latest(ik_id)? {
            Some(winner) => self.ik_from_record(sk, &winner, now),
            None => Err(store_error.unwrap_or_else(|| {
                Error::metastore("error loading key from metastore after retry")
            })),
        }
    }

    /// Go's `loadIntermediateKey`: an exact IK version and its SK, from the metastore.
    fn load_ik(&self, ik_id: &str, created: i64, now: i64) -> Result<CryptoKey, Error> {
        let (ekr, parent) = self.load_ik_record(ik_id, created)?;
        let sk = self.sk(&parent, now)?;
        self.ik_from_record(sk, &ekr, now)
    }

    /// An exact IK version's record and the SK it names, from the metastore.
    fn load_ik_record(
        &self,
        ik_id: &str,
        created: i64,
    ) -> Result<(EnvelopeKeyRecord, KeyMeta), Error> {
        // Neither the partition (in the id) nor `created` (from the record) is named.
        let ekr = self.load(ik_id, created)?.ok_or_else(|| {
            Error::new(
                ErrorKind::KeyNotFound,
                "the record's intermediate key is not in the metastore",
            )
        })?;
        let parent = ekr
            .parent_key_meta
            .clone()
            .ok_or_else(|| Error::metastore("intermediate key record has no ParentKeyMeta"))?;
        Ok((ekr, parent))
    }

    /// Go's `intermediateKeyFromEKR`: unwraps with `sk`, or with the SK the record names.
    fn ik_from_record(
        &self,
        mut sk: Arc<CryptoKey>,
        ekr: &EnvelopeKeyRecord,
        now: i64,
    ) -> Result<CryptoKey, Error> {
        if let Some(parent) = &ekr.parent_key_meta {
            if parent.created != sk.created() {
                sk = self.sk(parent, now)?;
            }
        }
        let key = aead::open_key(sk.cipher(), &ekr.encrypted_key)
            .map_err(|e| e.context("intermediate key"))?;
        self.observer.key(KeyChange::Loaded, false, ekr.created);
        Ok(CryptoKey::new(ekr.created, ekr.revoked, &key))
    }

    /// An exact SK version (cache, then metastore + KMS).
    fn sk(&self, meta: &KeyMeta, now: i64) -> Result<Arc<CryptoKey>, Error> {
        if meta.id != self.sk_id {
            return Err(Error::metastore(
                "an intermediate key record's parent is not this service's system key",
            ));
        }
        let lookup = self
            .sk_cache
            .read()
            .version_lookup(meta.created, now, &self.policy);
        self.observer.cache(CacheKind::System, lookup.outcome());
        if let Lookup::Hit(k) = lookup {
            return Ok(k);
        }
        let _loading = self.wait_for_load(&self.sk_load)?;
        if let Some(k) = self.sk_cache.read().fresh(meta.created, now, &self.policy) {
            return Ok(k);
        }
        let key = self.load_sk(meta)?;
        Ok(self.sk_cache.write().insert(key, now, false))
    }

    /// An exact SK version from the metastore, unwrapped by the KMS.
    fn load_sk(&self, meta: &KeyMeta) -> Result<CryptoKey, Error> {
        let ekr = self.load(&meta.id, meta.created)?.ok_or_else(|| {
            // `created` comes from a key record, which may have been tampered with.
            Error::new(
                ErrorKind::KeyNotFound,
                "the system key an intermediate key names is not in the metastore",
            )
        })?;
        self.sk_from_record(&ekr)
    }

    /// The SK to create IKs under (Go's `skCache.GetOrLoadLatest`).
    fn latest_sk(&self, now: i64) -> Result<Arc<CryptoKey>, Error> {
        let lookup = self.sk_cache.read().latest_lookup(now, &self.policy);
        self.observer.cache(CacheKind::System, lookup.outcome());
        if let Lookup::Hit(k) = lookup {
            return Ok(k);
        }
        let _loading = self.wait_for_load(&self.sk_load)?;
        if let Some(k) = self.sk_cache.read().usable_latest(now, &self.policy) {
            return Ok(k);
        }
        let key = self.load_latest_or_create_sk(now)?;
        Ok(self.sk_cache.write().insert(key, now, true))
    }

    /// Go's `loadLatestOrCreateSystemKey`.
    fn load_latest_or_create_sk(&self, now: i64) -> Result<CryptoKey, Error> {
        let previous = self.load_latest(&self.sk_id)?;
        if let Some(ekr) = &previous {
            if !ekr.revoked && !is_expired(ekr.created, now, self.policy.expire_after) {
                return self.sk_from_record(ekr);
            }
        }
        let change = if previous.is_some() {
            KeyChange::Rotated
        } else {
            KeyChange::Created
        };
        let created = minute_timestamp(now);
        let key = random_key()?;
        let record = EnvelopeKeyRecord {
            revoked: false,
            created,
            encrypted_key: self.kms.encrypt_key(&key)?,
            parent_key_meta: None,
        };
        let store_error = match self.store(&self.sk_id, created, &record) {
            Ok(true) => {
                self.observer.key(change, true, created);
                return Ok(CryptoKey::new(created, false, &key));
            }
            Ok(false) => None,
            Err(e) => Some(e),
        };
        match self.load_latest(&self.sk_id)? {
            Some(winner) => self.sk_from_record(&winner),
            None => Err(store_error.unwrap_or_else(|| {
                Error::metastore("error loading key from metastore after retry")
            })),
        }
    }

    fn sk_from_record(&self, ekr: &EnvelopeKeyRecord) -> Result<CryptoKey, Error> {
        let key = self.kms.decrypt_key(&ekr.encrypted_key)?;
        self.observer.key(KeyChange::Loaded, true, ekr.created);
        Ok(CryptoKey::new(ekr.created, ekr.revoked, &key))
    }

    /// The metastore's `load`, timed for the observer.
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.observer
            .timed(MetastoreOp::Load, || self.metastore.load(id, created))
    }

    /// The metastore's `load_latest`, timed for the observer.
    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.observer
            .timed(MetastoreOp::Load, || self.metastore.load_latest(id))
    }

    /// The metastore's `store`, timed for the observer.
    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        self.observer.timed(MetastoreOp::Store, || {
            self.metastore.store(id, created, record)
        })
    }
}

/// What [`Asherah::encrypt_record`] produced while the IK was borrowed from the cache.
enum Sealed {
    /// Data under `RING_MIN` bytes: the whole record, written under the cache's locks.
    Record(RecordJson),
    /// Larger data, sealed after the locks are released: the IK's creation time and id.
    DataLater {
        ik_created: i64,
        ik_id_json: Arc<str>,
    },
}

/// The DataRowRecord JSON for sealed parts, saying whether it is all ASCII.
fn record_json(
    now: i64,
    sealed_drk: &[u8],
    ik_id_json: &str,
    ik_created: i64,
    sealed_data: &[u8],
) -> RecordJson {
    RecordJson {
        json: record::write_data_row_record(now, sealed_drk, ik_id_json, ik_created, sealed_data),
        // The writer adds only ASCII (JSON punctuation, digits, base64) to the id.
        ascii: ik_id_json.is_ascii(),
    }
}

/// `""` (unsuffixed) or `_<region>`, where an AWS region name has no `_` (`us-west-2`,
/// `us-gov-east-1`). Every other partition's key id leaves a `_<service>_<product>` in the
/// rest, so it never passes.
fn is_region_tail(rest: &str) -> bool {
    rest.is_empty()
        || rest.strip_prefix('_').is_some_and(|region| {
            !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A session-cache lookup's outcome (an expired session counts as a miss).
fn lookup_outcome(hit: bool) -> CacheOutcome {
    if hit {
        CacheOutcome::Hit
    } else {
        CacheOutcome::Miss
    }
}

fn seal_key(cipher: &KeyCipher, key: &KeyBytes) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce)?;
    let mut out = Vec::with_capacity(SEALED_KEY_LEN);
    aead::seal_into(cipher, &nonce, &key[..], &mut out)?;
    Ok(out)
}

fn check_partition(partition: &str) -> Result<(), Error> {
    if partition.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "partition id must be non-empty",
        ));
    }
    Ok(())
}
