//! Asherah's envelope encryption in Rust, wire-compatible with Go's `appencryption` and
//! `libasherah`: what one writes, the other reads (records, key records, metastore rows).
//!
//! ```
//! use asherah_native::{Asherah, Config};
//! let asherah = Asherah::new(Config::new("service", "product")).unwrap();
//! let record = asherah.encrypt("partition-1", b"secret").unwrap();
//! assert_eq!(asherah.decrypt("partition-1", record.as_bytes()).unwrap(), b"secret");
//! ```
//!
//! Layout: `envelope` (key lifecycle, [`Asherah`]), `cache` (key and session caches),
//! `record` (JSON), `aead` (AES-256-GCM layout), `keys` (secret keys), `kms` (static and
//! AWS KMS), `metastore` (memory, SQLite, PostgreSQL, MySQL, DynamoDB), `aws` (the AWS SDK
//! setup and runtime those two share), `observe` (cache, metastore and key events for an
//! embedder's observer), `config`, `error`, `clock` (the coarse system clock), `b64`
//! (base64 with an AVX-512 VBMI kernel) and `locked` (mlock'ed key memory). `locked`, `b64`
//! and `clock` are the modules allowed `unsafe`: raw memory for keys, `std::arch`
//! intrinsics with raw loads and stores, and one `clock_gettime` call. The
//! crate root denies `unsafe_code` (a root-level `forbid` could not be lifted for those);
//! every other module `forbid`s it.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod aead;
mod aws;
mod b64;
mod cache;
mod clock;
mod config;
mod envelope;
mod error;
mod keys;
mod kms;
mod locked;
mod metastore;
mod observe;
mod record;
mod rng;

pub use crate::config::{
    AwsKmsConfig, Clock, Config, DynamoDbConfig, KmsConfig, MasterKey, MetastoreConfig,
    GO_STATIC_MASTER_KEY,
};
pub use crate::envelope::Asherah;
pub use crate::error::{Error, ErrorKind, MAX_MESSAGE_LEN};
pub use crate::locked::{locked_chunks, memory_lock_failures};
pub use crate::metastore::{
    mysql_dsn, DynamoDbMetastore, MemoryMetastore, Metastore, MysqlMetastore, PostgresMetastore,
    SqliteMetastore,
};
pub use crate::observe::{
    CacheKind, CacheOutcome, KeyChange, KeyEvent, MetastoreOp, Observer, ObserverSlot,
};
pub use crate::record::{EnvelopeKeyRecord, KeyMeta, RecordJson};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    /// Finding 8 of issue 10: decrypt errors quoted the input, unbounded.
    #[test]
    fn decrypt_errors_quote_no_input() {
        let a = Asherah::new(Config::new("svc", "prod")).unwrap();
        let secret = "my secret ssn 078-05-1120";
        let record = a.encrypt("p", b"x").unwrap();
        let other = record.replace("_IK_p_", "_IK_my secret ssn 078-05-1120_");
        let unknown = record.replacen("\"Created\":", "\"Created\":78051120,\"X\":", 2);
        let huge = format!("\"{}\"", secret.repeat(1 << 16));
        for (partition, input, kind) in [
            ("p", format!("\"{secret}\""), ErrorKind::MalformedRecord),
            ("p", huge, ErrorKind::MalformedRecord),
            ("p", other, ErrorKind::PartitionMismatch),
            (secret, record.clone(), ErrorKind::PartitionMismatch),
            ("p", unknown, ErrorKind::KeyNotFound),
        ] {
            let e = a.decrypt(partition, input.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), kind, "{e}");
            let m = e.to_string();
            assert!(m.len() <= MAX_MESSAGE_LEN + 32, "{} bytes", m.len());
            for s in ["secret", "078-05-1120", "78051120"] {
                assert!(!m.contains(s), "{m:?} quotes {s:?}");
            }
        }
    }

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Asherah>();
        assert_send_sync::<Config>();
        assert_send_sync::<Error>();
    }
}
