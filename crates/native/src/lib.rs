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

    /// `decrypt_with` writes what `decrypt` returns into the caller's buffer on both AEAD
    /// paths and at every split of a base64 group, fails as `decrypt` fails, and leaves to
    /// `decrypt` what only its general reader takes (Go's lenient base64, other layouts).
    /// On both base64 paths.
    #[test]
    fn decrypt_with_agrees_with_decrypt() {
        crate::b64::both_paths(decrypt_with_agrees_with_decrypt_on_this_path);
    }

    fn decrypt_with_agrees_with_decrypt_on_this_path() {
        let a = Asherah::new(Config::new("svc", "prod")).unwrap();
        let buffer = |n| Ok::<_, Error>(vec![0xee; n]);
        for len in [
            0usize,
            1,
            2,
            3,
            4,
            227,
            255,
            256,
            257,
            4095,
            65_537,
            (1 << 20) + 2,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            let record = a.encrypt("p", &data).unwrap();
            let got = a.decrypt_with("p", record.as_bytes(), buffer).unwrap();
            assert_eq!(got.as_deref(), Some(&data[..]), "{len} bytes");

            let e = a.decrypt_with("q", record.as_bytes(), buffer).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::PartitionMismatch, "{len} bytes");

            // A character of the nonce (in the next-to-last group of Data, so never
            // padding), changed: the tag check fails on both paths, with decrypt's error.
            let at = record.len() - 2 - 4 - 2;
            let mut bad = record.clone().into_bytes();
            bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
            let w = a.decrypt_with("p", &bad, buffer).unwrap_err();
            let e = a.decrypt("p", &bad).unwrap_err();
            assert_eq!(
                (w.kind(), w.message()),
                (e.kind(), e.message()),
                "{len} bytes"
            );
            assert_eq!(w.kind(), ErrorKind::DecryptFailed);

            // Line breaks in Data: Go reads them, so decrypt does; decrypt_with defers.
            let data_at = record.find("\"Data\":\"").unwrap() + 8;
            let mut crlf = record.clone();
            crlf.insert_str(data_at + 4, "\r\n");
            assert!(a
                .decrypt_with("p", crlf.as_bytes(), buffer)
                .unwrap()
                .is_none());
            assert_eq!(
                a.decrypt("p", crlf.as_bytes()).unwrap(),
                data,
                "{len} bytes"
            );

            // Another layout (a space after the first colon): the general reader's.
            let spaced = record.replacen(':', ": ", 1);
            assert!(a
                .decrypt_with("p", spaced.as_bytes(), buffer)
                .unwrap()
                .is_none());
            assert_eq!(a.decrypt("p", spaced.as_bytes()).unwrap(), data);

            // Data that passes the length check but not the strict decoder, which is only
            // found once `out` was asked: spare bits after the last byte (Go reads them,
            // so decrypt does) and a character outside the alphabet (decrypt refuses it).
            // decrypt_with defers both to decrypt, having asked `out` once.
            let data_end = data_at + record[data_at..].find('"').unwrap();
            let last = record[data_at..data_end].trim_end_matches('=').len() + data_at - 1;
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut starred = record.clone().into_bytes();
            starred[last] = b'*';
            let mut variants = vec![(starred, false)];
            if data_end - last > 1 {
                let mut spare = record.clone().into_bytes();
                let i = alphabet.iter().position(|&c| c == spare[last]).unwrap();
                spare[last] = alphabet[i ^ 1];
                variants.push((spare, true));
            }
            for (variant, readable) in variants {
                let mut asked = Vec::new();
                let got = a
                    .decrypt_with("p", &variant, |n| {
                        asked.push(n);
                        Ok::<_, Error>(vec![0xee; n])
                    })
                    .unwrap();
                assert!(got.is_none(), "{len} bytes, readable {readable}");
                assert_eq!(asked, [len], "{len} bytes, readable {readable}");
                let plain = a.decrypt("p", &variant);
                assert_eq!(plain.ok(), readable.then(|| data.clone()), "{len} bytes");
            }
        }
        // The caller's error is returned as it is.
        let record = a.encrypt("p", b"x").unwrap();
        let refuse = |_| Err::<Vec<u8>, _>(Error::new(ErrorKind::Internal, "no memory"));
        let e = a.decrypt_with("p", record.as_bytes(), refuse).unwrap_err();
        assert_eq!(e.message(), "no memory");
    }

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Asherah>();
        assert_send_sync::<Config>();
        assert_send_sync::<Error>();
    }
}
