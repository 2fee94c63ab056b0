//! Known-answer tests for the record format, tamper tests, wrong partition, malformed input.
//! `fixtures/kat.json` is built by `fixtures/make_kat.py` with fixed keys and nonces through
//! OpenSSL (Python `cryptography`), independently of this crate; `fixtures/go_records.json`
//! holds records and metastore rows written by the real libasherah (see `go_interop.rs`).

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use asherah_native::{
    Asherah, Clock, Config, EnvelopeKeyRecord, ErrorKind, MemoryMetastore, Metastore,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An instance over a memory metastore preloaded with the fixture's rows.
fn preloaded(fx: &Value, clock: Clock) -> Asherah {
    let ms = Arc::new(MemoryMetastore::new());
    for row in fx["rows"].as_array().unwrap() {
        let record = EnvelopeKeyRecord::from_json(row["key_record"].as_str().unwrap()).unwrap();
        assert_eq!(
            record.to_json(),
            row["key_record"].as_str().unwrap(),
            "key record re-serialises identically"
        );
        assert!(ms
            .store(
                row["id"].as_str().unwrap(),
                row["created"].as_i64().unwrap(),
                &record
            )
            .unwrap());
    }
    let mut config = Config::new(
        fx["service"].as_str().unwrap(),
        fx["product"].as_str().unwrap(),
    );
    config.clock = clock;
    Asherah::with_metastore(config, ms).unwrap()
}

fn cases(fx: &Value) -> Vec<(String, String, Vec<u8>)> {
    fx["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let pt = match r.get("plaintext_hex") {
                Some(h) => (0..h.as_str().unwrap().len() / 2)
                    .map(|i| {
                        u8::from_str_radix(&h.as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap()
                    })
                    .collect(),
                None => r["plaintext"].as_str().unwrap().as_bytes().to_vec(),
            };
            (
                r["partition"].as_str().unwrap().to_owned(),
                r["record"].as_str().unwrap().to_owned(),
                pt,
            )
        })
        .collect()
}

#[test]
fn decrypts_fixed_key_and_nonce_records() {
    let fx = fixture("kat.json");
    let a = preloaded(&fx, Clock::System);
    for (partition, record, plaintext) in cases(&fx) {
        assert_eq!(
            a.decrypt(&partition, record.as_bytes()).unwrap(),
            plaintext,
            "{partition}"
        );
    }
}

#[test]
fn decrypts_records_written_by_go_libasherah() {
    let fx = fixture("go_records.json");
    let a = preloaded(&fx, Clock::System);
    let cases = cases(&fx);
    assert!(!cases.is_empty());
    for (partition, record, plaintext) in cases {
        assert_eq!(
            a.decrypt(&partition, record.as_bytes()).unwrap(),
            plaintext,
            "{partition}"
        );
    }
}

#[test]
fn encrypts_in_go_layout_under_the_fixture_ik() {
    let fx = fixture("kat.json");
    let now = 1_700_000_100;
    let a = preloaded(&fx, Clock::Manual(Arc::new(AtomicI64::new(now))));
    let ik: Vec<u8> = (32u8..64).collect();
    for (partition, fixture_record, _) in cases(&fx) {
        let record = a.encrypt(&partition, b"known answer").unwrap();
        // The ParentKeyMeta text (Go escaping included) is exactly what the fixture has.
        let meta = |r: &str| {
            r[r.find("\"ParentKeyMeta\"").unwrap()..r.find("},\"Data\"").unwrap()].to_owned()
        };
        assert_eq!(meta(&record), meta(&fixture_record));
        assert!(
            record.starts_with(&format!("{{\"Key\":{{\"Created\":{now},\"Key\":\"")),
            "{record}"
        );
        // Open it by hand with the fixture IK: Key = seal(IK, DRK), Data = seal(DRK, data).
        let v: Value = serde_json::from_str(&record).unwrap();
        let open = |key: &[u8], sealed: &[u8]| {
            let (ct, nonce) = sealed.split_at(sealed.len() - 12);
            Aes256Gcm::new_from_slice(key)
                .unwrap()
                .decrypt(<&Nonce<_>>::try_from(nonce).unwrap(), ct)
                .unwrap()
        };
        let drk = open(
            &ik,
            &STANDARD.decode(v["Key"]["Key"].as_str().unwrap()).unwrap(),
        );
        let data = open(&drk, &STANDARD.decode(v["Data"].as_str().unwrap()).unwrap());
        assert_eq!(data, b"known answer");
    }
}

fn flip_b64_field(record: &str, path: &[&str], index: usize) -> Option<String> {
    let mut v: Value = serde_json::from_str(record).unwrap();
    let mut field = &mut v;
    for p in path {
        field = &mut field[*p];
    }
    let mut bytes = STANDARD.decode(field.as_str().unwrap()).unwrap();
    if index >= bytes.len() {
        return None;
    }
    bytes[index] ^= 0x01;
    *field = Value::String(STANDARD.encode(bytes));
    Some(v.to_string())
}

#[test]
fn any_flipped_byte_in_key_or_data_fails() {
    let fx = fixture("kat.json");
    let a = preloaded(&fx, Clock::System);
    for (partition, record, plaintext) in cases(&fx).into_iter().take(3) {
        for path in [&["Key", "Key"][..], &["Data"][..]] {
            for i in 0.. {
                let Some(bad) = flip_b64_field(&record, path, i) else {
                    break;
                };
                let err = a.decrypt(&partition, bad.as_bytes()).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::DecryptFailed, "{path:?}[{i}]");
                if !plaintext.is_empty() {
                    let shown = err.to_string();
                    assert!(
                        !shown.contains(&*String::from_utf8_lossy(&plaintext)),
                        "error leaks plaintext"
                    );
                }
            }
        }
        // Flipping any character of the JSON text: an error or, where the flip only touches
        // unauthenticated metadata (the DRK's Created), the right plaintext; never another.
        let bytes = record.as_bytes();
        for i in 0..bytes.len() {
            let mut bad = bytes.to_vec();
            bad[i] ^= 0x01;
            if let Ok(pt) = a.decrypt(&partition, &bad) {
                assert_eq!(pt, plaintext, "flip at {i} produced a different plaintext");
            }
        }
    }
}

#[test]
fn wrong_partition_service_or_product_is_refused() {
    let fx = fixture("kat.json");
    let a = preloaded(&fx, Clock::System);
    let (partition, record, _) = cases(&fx).remove(1);
    assert_eq!(partition, "alpha");
    for wrong in ["beta", "alph", "alpha_kat-svc", "ALPHA"] {
        assert_eq!(
            a.decrypt(wrong, record.as_bytes()).unwrap_err().kind(),
            ErrorKind::PartitionMismatch,
            "{wrong}"
        );
    }
    let other = Asherah::new(Config::new("kat-svc", "other")).unwrap();
    assert_eq!(
        other
            .decrypt("alpha", record.as_bytes())
            .unwrap_err()
            .kind(),
        ErrorKind::PartitionMismatch
    );
    assert_eq!(
        a.decrypt("", record.as_bytes()).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn malformed_and_unknown_key_records() {
    let fx = fixture("kat.json");
    let a = preloaded(&fx, Clock::System);
    let (_, record, _) = cases(&fx).remove(1);
    for bad in [
        "",
        "null",
        "[]",
        "{}",
        r#"{"Data":"AA=="}"#,
        r#"{"Key":{"Created":1,"Key":"AA=="},"Data":"AA=="}"#,
    ] {
        assert_eq!(
            a.decrypt("alpha", bad.as_bytes()).unwrap_err().kind(),
            ErrorKind::MalformedRecord,
            "{bad}"
        );
    }
    let bad_b64 = record.replacen("\"Data\":\"", "\"Data\":\"!", 1);
    assert_eq!(
        a.decrypt("alpha", bad_b64.as_bytes()).unwrap_err().kind(),
        ErrorKind::MalformedRecord
    );
    let unknown = record.replace("\"Created\":1700000040}", "\"Created\":1700000100}");
    assert_eq!(
        a.decrypt("alpha", unknown.as_bytes()).unwrap_err().kind(),
        ErrorKind::KeyNotFound
    );
}
