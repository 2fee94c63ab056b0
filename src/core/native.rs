//! The native core: `asherah-native` (Asherah's envelope encryption in Rust) behind [`Core`].
//!
//! No foreign runtime is involved, so nothing here touches signals. With a local metastore
//! (memory, SQLite) and static KMS it offers [`InlineCore`], so sync calls (and small async
//! calls on the memory metastore) run on the calling JS thread; calls that may touch the
//! network (PostgreSQL, MySQL, DynamoDB, AWS KMS) always go to core-host threads under the
//! watchdog. This module only maps settings in and errors out:
//! asherah-node's settings to `asherah_native::Config`, and the crate's error kinds to
//! [`CoreError`] (which `api::errors` maps to JS codes).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use asherah_native::{
    Asherah as Engine, AwsKmsConfig, Config, DynamoDbConfig, ErrorKind, KmsConfig, MasterKey,
    MetastoreConfig, Observer, ObserverSlot,
};

use super::settings::{KmsKind, MetastoreKind, Settings, SqlDbType};
use super::{Core, CoreError, CoreKind, InlineCore, Plaintext, Record};
use crate::host::CoreThread;

pub(crate) struct NativeCore {
    engine: Engine,
    /// Memory or SQLite with static KMS: every call is local and short, so sync calls may
    /// run inline on the JS thread. PostgreSQL, MySQL, DynamoDB and AWS KMS calls go
    /// through core-host threads, under the watchdog.
    local: bool,
    /// Memory metastore with static KMS: no I/O at all, so even async calls may run inline.
    in_memory: bool,
}

/// The observer every native core reports to (cache, metastore and key events), installed
/// once by the API layer at module load.
static OBSERVER: OnceLock<Arc<dyn Observer>> = OnceLock::new();

/// Installs the observer for native cores created from now on; the first one wins.
pub(crate) fn set_observer(observer: Arc<dyn Observer>) {
    let _ = OBSERVER.set(observer);
}

impl NativeCore {
    /// `timeout` is the shim's `TimeoutMs`: each metastore operation gets a third of it
    /// (see [`metastore_timeout`]).
    pub(crate) fn new(a: &Settings, timeout: Duration) -> Result<NativeCore, CoreError> {
        let mut config = config(a)?;
        config.metastore_timeout = metastore_timeout(timeout);
        if let Some(o) = OBSERVER.get() {
            config.observer = ObserverSlot::new(Arc::clone(o));
        }
        let static_kms = matches!(config.kms, KmsConfig::Static { .. });
        let local = static_kms
            && matches!(
                config.metastore,
                MetastoreConfig::Memory | MetastoreConfig::Sqlite { .. }
            );
        let in_memory = static_kms && matches!(config.metastore, MetastoreConfig::Memory);
        let engine = Engine::new(config).map_err(map_error)?;
        Ok(NativeCore {
            engine,
            local,
            in_memory,
        })
    }
}

fn record(r: asherah_native::RecordJson) -> Record {
    Record {
        json: r.json,
        known_ascii: r.ascii,
    }
}

impl InlineCore for NativeCore {
    fn encrypt_inline(&self, partition: &str, data: &[u8]) -> Result<Record, CoreError> {
        self.engine
            .encrypt_record(partition, data)
            .map(record)
            .map_err(map_error)
    }

    fn decrypt_inline(&self, partition: &str, record: &[u8]) -> Result<Plaintext, CoreError> {
        decrypt(&self.engine, partition, record)
    }

    fn decrypt_inline_to<'a>(
        &self,
        partition: &str,
        record: &[u8],
        out: &mut dyn FnMut(usize) -> Option<&'a mut [u8]>,
    ) -> Result<bool, CoreError> {
        // The engine writes the ciphertext into `out`'s memory and opens it there
        // (`Asherah::decrypt_with`); a failed tag check leaves ciphertext or zeros.
        let ask = |len| {
            out(len).ok_or_else(|| {
                asherah_native::Error::new(ErrorKind::Internal, "no memory for the plaintext")
            })
        };
        match self.engine.decrypt_with(partition, record, ask) {
            Ok(written) => Ok(written.is_some()),
            Err(e) => Err(map_error(e)),
        }
    }

    fn may_wait_on_io(&self) -> bool {
        !self.in_memory // SQLite may wait up to its busy timeout on another writer
    }
}

/// The deadline of one metastore operation (connect, statement, lock wait) for a call
/// deadline of `timeout`: a third of it, between 50 ms and 10 s. A cold call may need two
/// operations (a failed store is followed by a reload, as in Go), so a stalled database
/// fails the call with a metastore error before the call's own deadline, and the call is
/// never counted as stuck.
pub(crate) fn metastore_timeout(timeout: Duration) -> Duration {
    (timeout / 3).clamp(Duration::from_millis(50), Duration::from_secs(10))
}

/// Builds the native configuration; unset values keep the crate's (Go's) defaults.
pub(crate) fn config(a: &Settings) -> Result<Config, CoreError> {
    let mut c = Config::new(a.service_name.clone(), a.product_id.clone());
    if let Some(d) = a.expire_after {
        c.expire_after = d;
    }
    if let Some(d) = a.check_interval {
        c.check_interval = d;
    }
    if let Some(on) = a.session_caching {
        c.session_cache = on;
    }
    if let Some(n) = a.session_cache_max_size {
        c.session_cache_max_size = n;
    }
    if let Some(d) = a.session_cache_duration {
        c.session_cache_duration = d;
    }
    c.metastore_ca_file.clone_from(&a.sql_ca_file);
    c.metastore = match a.metastore {
        MetastoreKind::Memory | MetastoreKind::TestDebugMemory => MetastoreConfig::Memory,
        MetastoreKind::Rdbms | MetastoreKind::Sqlite | MetastoreKind::Postgres => {
            let conn = a.connection_string.as_deref().unwrap_or("");
            match a.sql_db_type {
                // Go's DSN, parsed (and any error reported) when the store connects.
                Some(SqlDbType::Mysql) => MetastoreConfig::Mysql {
                    dsn: conn.to_owned(),
                },
                None | Some(SqlDbType::Postgres | SqlDbType::Sqlite) => {
                    MetastoreConfig::from_connection_string(conn).map_err(map_error)?
                }
            }
        }
        MetastoreKind::DynamoDb => MetastoreConfig::DynamoDb(DynamoDbConfig {
            endpoint: a.dynamodb_endpoint.clone(),
            region: a.dynamodb_region.clone(),
            table_name: a.dynamodb_table_name.clone(),
            region_suffix: a.enable_region_suffix.unwrap_or(false),
            profile: a.aws_profile_name.clone(),
        }),
    };
    c.kms = match a.kms {
        KmsKind::Static | KmsKind::TestDebugStatic => {
            let key = match &a.static_master_key_hex {
                Some(hex) => Some(MasterKey::from_hex(hex).map_err(map_error)?),
                None => None,
            };
            KmsConfig::Static { master_key: key }
        }
        KmsKind::Aws => KmsConfig::Aws(AwsKmsConfig {
            region_map: a.region_map.clone(),
            preferred_region: a.preferred_region.clone(),
            profile: a.aws_profile_name.clone(),
        }),
    };
    Ok(c)
}

impl Core for NativeCore {
    fn kind(&self) -> CoreKind {
        CoreKind::Native
    }

    fn encrypt(&self, _ct: &CoreThread, partition: &str, data: &[u8]) -> Result<Record, CoreError> {
        self.encrypt_inline(partition, data)
    }

    fn decrypt(
        &self,
        _ct: &CoreThread,
        partition: &str,
        record: &[u8],
    ) -> Result<Plaintext, CoreError> {
        decrypt(&self.engine, partition, record)
    }

    fn set_env(&self, _ct: &CoreThread, _vars_json: &str) -> Result<(), CoreError> {
        // Nothing to forward: the AWS SDK reads the real process environment (which the
        // shim's `setenv` sets) when `setup` builds its credentials chain.
        Ok(())
    }

    fn shutdown(&self, _ct: &CoreThread) {}

    fn inline(&self) -> Option<&dyn InlineCore> {
        self.local.then_some(self as &dyn InlineCore)
    }
}

/// A decrypt, its plaintext taken over (no copy) into a [`Plaintext`]: the engine decrypts
/// in place in the record's decoded data, so that one allocation is all there is to wipe
/// (a failed tag check leaves ciphertext, or zeros from `ring`).
fn decrypt(engine: &Engine, partition: &str, record: &[u8]) -> Result<Plaintext, CoreError> {
    engine
        .decrypt(partition, record)
        .map(Plaintext::from)
        .map_err(map_error)
}

fn map_error(e: asherah_native::Error) -> CoreError {
    let m = e.message().to_string();
    match e.kind() {
        ErrorKind::Config | ErrorKind::InvalidInput => CoreError::BadConfig(m),
        ErrorKind::Metastore => CoreError::Metastore(m),
        ErrorKind::Kms => CoreError::Kms(m),
        ErrorKind::MalformedRecord => CoreError::MalformedRecord(m),
        ErrorKind::PartitionMismatch => CoreError::PartitionMismatch,
        ErrorKind::DecryptFailed | ErrorKind::KeyNotFound => CoreError::DecryptFailed(m),
        ErrorKind::Random | ErrorKind::Internal => CoreError::Internal(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wipe::freed::count_freed_holding;

    const MARK: &[u8] = b"native-plaintext-marker-5e";

    fn plaintext_of(len: usize) -> Vec<u8> {
        let mut v = vec![b'.'; len];
        v[len - MARK.len()..].copy_from_slice(MARK);
        v
    }

    /// What the shim frees of a decrypt (the engine's parse and base64 buffers, the
    /// plaintext once the JS value is made) holds no copy of the plaintext, on both of the
    /// engine's AEAD paths (stack-sized `aes-gcm` data, `ring` above it).
    #[test]
    fn a_decrypt_frees_no_plaintext() {
        let engine = Engine::new(Config::new("svc", "prod")).unwrap();
        for len in [64, 4096, 1 << 20] {
            let data = plaintext_of(len);
            let record = engine.encrypt("p", &data).unwrap();
            let found = count_freed_holding(MARK, || {
                let plain = decrypt(&engine, "p", record.as_bytes()).unwrap();
                assert_eq!(*plain, data[..]);
            });
            assert_eq!(found, 0, "{len} bytes");
            // The same decrypt without the wrapper: the check sees the plaintext freed.
            let found = count_freed_holding(MARK, || {
                drop(engine.decrypt("p", record.as_bytes()).unwrap());
            });
            assert_eq!(found, 1, "{len} bytes, unwrapped");
        }
    }

    /// A decrypt into the caller's memory (`decrypt_inline_to`, the path of sync decrypts)
    /// frees no copy of the plaintext at all, and writes exactly what `decrypt` returns.
    #[test]
    fn a_decrypt_into_the_callers_memory_frees_no_plaintext() {
        let core = NativeCore {
            engine: Engine::new(Config::new("svc", "prod")).unwrap(),
            local: true,
            in_memory: true,
        };
        for len in [64, 4096, 1 << 20] {
            let data = plaintext_of(len);
            let record = core.encrypt_inline("p", &data).unwrap();
            let mut target = vec![0u8; len];
            let found = count_freed_holding(MARK, || {
                let mut asked = Vec::new();
                let mut slot = Some(&mut target[..]);
                let mut out = |n: usize| {
                    asked.push(n);
                    slot.take().and_then(|t| t.get_mut(..n))
                };
                let written = core
                    .decrypt_inline_to("p", record.json.as_bytes(), &mut out)
                    .unwrap();
                assert!(written, "{len} bytes: left to decrypt_inline");
                assert_eq!(asked, [len]);
            });
            assert_eq!(found, 0, "{len} bytes");
            assert_eq!(target, data, "{len} bytes");
        }
    }

    /// A record whose data fails its tag check frees no decrypted bytes either: `aes-gcm`
    /// checks before it decrypts, and `ring` zeroes what it decrypted.
    #[test]
    fn a_tampered_record_frees_no_plaintext() {
        let engine = Engine::new(Config::new("svc", "prod")).unwrap();
        for len in [64, 4096, 1 << 20] {
            let record = engine.encrypt("p", &plaintext_of(len)).unwrap();
            let mut v: serde_json::Value = serde_json::from_str(&record).unwrap();
            let data = v["Data"].as_str().unwrap();
            // Flip the first ciphertext character to another base64 digit.
            let first = if data.starts_with('A') { "B" } else { "A" };
            v["Data"] = serde_json::Value::String(format!("{first}{}", &data[1..]));
            let tampered = v.to_string();
            let found = count_freed_holding(MARK, || {
                let e = decrypt(&engine, "p", tampered.as_bytes()).unwrap_err();
                assert!(matches!(e, CoreError::DecryptFailed(_)), "{e:?}");
            });
            assert_eq!(found, 0, "{len} bytes");
        }
    }
}
