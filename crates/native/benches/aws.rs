//! AWS KMS + DynamoDB on a moto server on loopback, against the memory metastore with the
//! static KMS in the same run: first-use latency (the KMS and metastore round trips of a cold
//! key) and steady-state µs per 64-byte call with session caching. Prints numbers; asserts
//! nothing about speed. `cargo bench -p asherah-native --bench aws` (needs scripts/deps.sh's
//! moto venv). moto is a Python server: its round trips are slower than real DynamoDB's
//! within a region, so the cold figures are an upper bound of the client's share.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use asherah_native::{Asherah, AwsKmsConfig, Config, DynamoDbConfig, KmsConfig, MetastoreConfig};
use common::MotoServer;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn per_op_us(n: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn steady(label: &str, a: &Asherah) {
    let data = [7u8; 64];
    let record = a.encrypt("steady", &data).unwrap();
    for _ in 0..1000 {
        a.encrypt("steady", &data).unwrap();
    }
    let enc = per_op_us(20_000, || {
        a.encrypt("steady", &data).unwrap();
    });
    let dec = per_op_us(20_000, || {
        a.decrypt("steady", record.as_bytes()).unwrap();
    });
    println!("{label:<34} steady 64 B: encrypt {enc:6.2} µs/op, decrypt {dec:6.2} µs/op");
}

fn main() {
    let moto = match MotoServer::start() {
        Ok(m) => m,
        Err(why) => {
            println!("aws bench skipped: {why}");
            return;
        }
    };
    moto.export_env();
    let arns = moto.setup("EncryptionKey", &["us-west-2", "us-east-1"]);
    let config = |kms: KmsConfig, metastore: MetastoreConfig, cache: bool| {
        let mut c = Config::new("bench", "aws");
        c.kms = kms;
        c.metastore = metastore;
        c.session_cache = cache;
        c
    };
    let aws = KmsConfig::Aws(AwsKmsConfig {
        region_map: arns.clone(),
        preferred_region: Some("us-west-2".into()),
        profile: None,
    });
    let ddb = MetastoreConfig::DynamoDb(DynamoDbConfig {
        region: Some("us-west-2".into()),
        ..DynamoDbConfig::default()
    });
    let static_kms = KmsConfig::Static { master_key: None };

    // First use: setup, the first encrypt (SK: Query, GenerateDataKey, Encrypt in the second
    // region, PutItem; IK: Query, PutItem), and a cold decrypt on a new instance (IK and SK
    // GetItem, KMS Decrypt).
    let t = Instant::now();
    let a = Asherah::new(config(aws.clone(), ddb.clone(), true)).unwrap();
    let setup = t.elapsed();
    let t = Instant::now();
    let record = a.encrypt("first", b"first use").unwrap();
    let first_encrypt = t.elapsed();
    let b = Asherah::new(config(aws.clone(), ddb.clone(), true)).unwrap();
    let t = Instant::now();
    b.decrypt("first", record.as_bytes()).unwrap();
    let cold_decrypt = t.elapsed();
    println!(
        "KMS aws (2 regions) + DynamoDB, first use: setup {:.1} ms, first encrypt {:.1} ms, cold decrypt on a new instance {:.1} ms",
        ms(setup),
        ms(first_encrypt),
        ms(cold_decrypt)
    );
    // A new partition with the SK cached: one IK (Query + PutItem).
    let n = 50;
    let t = Instant::now();
    for i in 0..n {
        a.encrypt(&format!("new-{i}"), b"x").unwrap();
    }
    println!(
        "DynamoDB, new partition (IK Query + PutItem): {:.2} ms/op over {n}",
        ms(t.elapsed()) / f64::from(n)
    );
    // Session cache off: every decrypt loads its IK (GetItem), as Go does without caching.
    let nocache = Asherah::new(config(aws.clone(), ddb.clone(), false)).unwrap();
    let rec = nocache.encrypt("nocache", b"x").unwrap();
    let t = Instant::now();
    for _ in 0..n {
        nocache.decrypt("nocache", rec.as_bytes()).unwrap();
    }
    println!(
        "DynamoDB, session cache off: decrypt {:.2} ms/op (one GetItem each) over {n}",
        ms(t.elapsed()) / f64::from(n)
    );

    steady(
        "memory + static KMS",
        &Asherah::new(config(static_kms.clone(), MetastoreConfig::Memory, true)).unwrap(),
    );
    steady(
        "memory + KMS aws",
        &Asherah::new(config(aws.clone(), MetastoreConfig::Memory, true)).unwrap(),
    );
    steady("DynamoDB + KMS aws", &a);
}
