//! AWS KMS and the DynamoDB metastore against a moto server on loopback (`scripts/moto.sh`;
//! skipped with a notice when moto is not installed): round trips, Go's multi-region KMS
//! envelope in the stored system key, decryption through either region, rotation, independent
//! instances sharing the table, the conditional put under a race, region suffixes, and every
//! failure (a key ARN that does not exist, access denied, an endpoint that refuses, a stalled
//! server) as a typed error within the deadline, and recovery on the same instances once
//! the stalled server answers again. One test:
//! the SDK reads credentials and endpoints from the process environment, which is set once
//! before any thread reads it.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use asherah_native::{
    Asherah, AwsKmsConfig, Clock, Config, DynamoDbConfig, DynamoDbMetastore, EnvelopeKeyRecord,
    ErrorKind, KmsConfig, Metastore, MetastoreConfig,
};
use common::{ik_created, skip, MotoServer};

const SECRET: &str = "s3cr3t-never-in-messages";
const TIMEOUT: Duration = Duration::from_secs(3);

fn kms(map: &[(String, String)], preferred: &str) -> KmsConfig {
    KmsConfig::Aws(AwsKmsConfig {
        region_map: map.to_vec(),
        preferred_region: Some(preferred.to_owned()),
        profile: None,
    })
}

fn dynamodb(region_suffix: bool) -> DynamoDbConfig {
    DynamoDbConfig {
        region: Some("us-west-2".into()),
        region_suffix,
        ..DynamoDbConfig::default()
    }
}

fn config(kms: KmsConfig, metastore: MetastoreConfig) -> Config {
    let mut c = Config::new("svc", "prod");
    c.kms = kms;
    c.metastore = metastore;
    c.metastore_timeout = TIMEOUT;
    c
}

/// Asserts a typed failure of `kind`, within a generous bound of the deadline, quoting no
/// credential.
fn assert_fails(
    what: &str,
    kind: ErrorKind,
    f: impl FnOnce() -> Result<String, asherah_native::Error>,
) {
    let start = Instant::now();
    let e = f().expect_err(what);
    let took = start.elapsed();
    assert_eq!(e.kind(), kind, "{what}: {e}");
    assert!(
        took < TIMEOUT * 4 + Duration::from_secs(10),
        "{what}: took {took:?}, deadline {TIMEOUT:?}"
    );
    assert!(!e.to_string().contains(SECRET), "{what}: {e}");
    eprintln!("{what}: {e} ({} ms)", took.as_millis());
}

/// `f`'s value once the instance has recovered from a stall: retried for up to 15 s, as moto
/// may first answer what queued up while it was stopped. An instance that never recovers by
/// itself still fails the test, with the last error.
fn after_stall<T>(what: &str, mut f: impl FnMut() -> Result<T, asherah_native::Error>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() < deadline => {
                eprintln!("{what}, retried: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("{what}: no recovery within 15 s of SIGCONT: {e}"),
        }
    }
}

/// SIGCONTs the server when dropped, so a failed assertion never leaves it stopped.
struct Resume(i32);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

#[test]
fn aws_kms_and_dynamodb_on_moto() {
    let moto = match MotoServer::start() {
        Ok(m) => m,
        Err(why) => return skip("aws_backends", &why),
    };
    moto.export_env();
    std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET);
    let arns = moto.setup("EncryptionKey", &["us-west-2", "us-east-1"]);
    assert_eq!(arns.len(), 2, "{arns:?}");
    let both = kms(&arns, "us-west-2");
    let ddb = MetastoreConfig::DynamoDb(dynamodb(false));

    // Round trip, and an independent instance (its own clients and caches) reads it.
    let a = Asherah::new(config(both.clone(), ddb.clone())).unwrap();
    let r1 = a.encrypt("p1", b"hello dynamodb").unwrap();
    assert_eq!(a.decrypt("p1", r1.as_bytes()).unwrap(), b"hello dynamodb");
    let b = Asherah::new(config(both.clone(), ddb.clone())).unwrap();
    assert_eq!(b.decrypt("p1", r1.as_bytes()).unwrap(), b"hello dynamodb");
    let r2 = b.encrypt("p1", b"from b").unwrap();
    assert_eq!(ik_created(&r2), ik_created(&r1), "b reuses a's IK");
    assert_eq!(a.decrypt("p1", r2.as_bytes()).unwrap(), b"from b");

    // The stored SK is Go's envelope: the preferred region's KEK first, then the other.
    let store = DynamoDbMetastore::open(&dynamodb(false), TIMEOUT).unwrap();
    let sk: EnvelopeKeyRecord = store.load_latest("_SK_svc_prod").unwrap().unwrap();
    assert!(sk.parent_key_meta.is_none() && !sk.revoked);
    let envelope = String::from_utf8(sk.encrypted_key.clone()).unwrap();
    assert!(envelope.starts_with(r#"{"encryptedKey":""#), "{envelope}");
    let v: serde_json::Value = serde_json::from_str(&envelope).unwrap();
    let keks = v["kmsKeks"].as_array().unwrap();
    assert_eq!(keks.len(), 2, "{envelope}");
    assert_eq!(keks[0]["region"], "us-west-2");
    assert_eq!(keks[0]["arn"], arns[0].1.as_str());
    assert_eq!(keks[1]["region"], "us-east-1");
    assert_eq!(keks[1]["arn"], arns[1].1.as_str());
    let kek_pos = envelope.find(r#""kmsKeks":[{"region":"us-west-2","arn":"#);
    assert!(kek_pos.is_some(), "field order: {envelope}");
    let ik = store.load_latest("_IK_p1_svc_prod").unwrap().unwrap();
    assert_eq!(ik.parent_key_meta.unwrap().id, "_SK_svc_prod");

    // Either region alone unwraps the SK: us-east-1 preferred, and us-east-1 only.
    for (map, preferred) in [
        (arns.clone(), "us-east-1"),
        (arns[1..].to_vec(), "us-east-1"),
    ] {
        let other = Asherah::new(config(kms(&map, preferred), ddb.clone())).unwrap();
        assert_eq!(
            other.decrypt("p1", r1.as_bytes()).unwrap(),
            b"hello dynamodb"
        );
    }

    // Rotation: two days later with a one-day expiry, a new SK (through KMS) and a new IK;
    // old and new records both decrypt.
    let now = Arc::new(AtomicI64::new(Clock::System.now()));
    let mut rc = config(both.clone(), ddb.clone());
    rc.expire_after = Duration::from_secs(86_400);
    rc.clock = Clock::Manual(now.clone());
    let rot = Asherah::new(rc.clone()).unwrap();
    let before = rot.encrypt("p-rot", b"before").unwrap();
    now.fetch_add(2 * 86_400, Ordering::Relaxed);
    let rot2 = Asherah::new(rc).unwrap(); // cold caches, same clock
    let after = rot2.encrypt("p-rot", b"after").unwrap();
    assert!(ik_created(&after) > ik_created(&before), "IK rotated");
    let sk2 = store.load_latest("_SK_svc_prod").unwrap().unwrap();
    assert!(sk2.created > sk.created, "SK rotated");
    for inst in [&rot, &rot2, &a] {
        assert_eq!(inst.decrypt("p-rot", before.as_bytes()).unwrap(), b"before");
        assert_eq!(inst.decrypt("p-rot", after.as_bytes()).unwrap(), b"after");
    }

    // Conditional put: eight writers race on one (Id, Created); exactly one wins.
    let winners: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    let m = DynamoDbMetastore::open(&dynamodb(false), TIMEOUT).unwrap();
                    let rec = EnvelopeKeyRecord {
                        revoked: false,
                        created: 1_800_000_000,
                        encrypted_key: vec![i as u8; 60],
                        parent_key_meta: None,
                    };
                    m.store("race", 1_800_000_000, &rec).unwrap() as usize
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(winners, 1, "one item per (Id, Created)");
    // Eight instances race to create one partition's keys: one IK item, all records readable.
    let instances: Vec<_> = (0..8)
        .map(|_| Asherah::new(config(both.clone(), ddb.clone())).unwrap())
        .collect();
    let records: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = instances
            .iter()
            .map(|i| s.spawn(move || i.encrypt("p-race", b"raced").unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &records {
        for i in &instances {
            assert_eq!(i.decrypt("p-race", r.as_bytes()).unwrap(), b"raced");
        }
    }
    let count = moto.python(
        "import sys, boto3\n\
         t = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='us-west-2')\n\
         r = t.query(TableName='EncryptionKey', KeyConditionExpression='Id = :i',\n\
                     ExpressionAttributeValues={':i': {'S': '_IK_p-race_svc_prod'}})\n\
         print(r['Count'])\n",
        &[&moto.url],
    );
    let ik_ids: std::collections::HashSet<i64> =
        records.iter().map(|r| ik_created(r.as_str())).collect();
    assert_eq!(
        count.trim(),
        ik_ids.len().to_string(),
        "one IK item per minute"
    );

    // Region suffix: key ids end in the DynamoDB client's region.
    let suffixed = Asherah::new(config(
        both.clone(),
        MetastoreConfig::DynamoDb(dynamodb(true)),
    ))
    .unwrap();
    let rs = suffixed.encrypt("p1", b"suffixed").unwrap();
    assert!(rs.contains("\"_IK_p1_svc_prod_us-west-2\""), "{rs}");
    assert_eq!(suffixed.decrypt("p1", rs.as_bytes()).unwrap(), b"suffixed");
    assert!(store
        .load_latest("_SK_svc_prod_us-west-2")
        .unwrap()
        .is_some());
    assert_eq!(
        a.decrypt("p1", rs.as_bytes()).unwrap_err().kind(),
        ErrorKind::PartitionMismatch,
        "an unsuffixed instance does not take a suffixed IK for its own"
    );

    // A key ARN that does not exist: a KMS error.
    let missing = arns[0].1.replace(
        arns[0].1.rsplit('/').next().unwrap(),
        "00000000-0000-0000-0000-000000000000",
    );
    let wrong = Asherah::new(config(
        kms(&[("us-west-2".into(), missing)], "us-west-2"),
        MetastoreConfig::Memory,
    ))
    .unwrap();
    assert_fails("wrong key ARN", ErrorKind::Kms, || wrong.encrypt("p", b"x"));

    // Access denied: the region's configured ARN is another key than the one the KEK was
    // encrypted under, so KMS refuses Decrypt (AccessDeniedException): a KMS error.
    let other_key = moto.python(
        "import sys, boto3\n\
         k = boto3.client('kms', endpoint_url=sys.argv[1], region_name='us-west-2')\n\
         print(k.create_key()['KeyMetadata']['Arn'])\n",
        &[&moto.url],
    );
    let denied = Asherah::new(config(
        kms(
            &[("us-west-2".into(), other_key.trim().to_owned())],
            "us-west-2",
        ),
        ddb.clone(),
    ))
    .unwrap();
    let start = Instant::now();
    let e = denied.decrypt("p1", r1.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms, "{e}");
    assert!(e.message().contains("AccessDenied"), "{e}");
    assert!(start.elapsed() < TIMEOUT * 4 + Duration::from_secs(10));
    assert!(!e.to_string().contains(SECRET));
    eprintln!("access denied: {e}");

    // An endpoint that refuses connections: a metastore error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let refused = Asherah::new(config(
        both.clone(),
        MetastoreConfig::DynamoDb(DynamoDbConfig {
            endpoint: Some(dead_url),
            ..dynamodb(false)
        }),
    ))
    .unwrap();
    assert_fails("DynamoDB refused", ErrorKind::Metastore, || {
        refused.encrypt("p", b"x")
    });

    // A stalled server (SIGSTOP: the socket accepts, nothing answers): KMS and DynamoDB
    // calls fail within the deadline; after SIGCONT the same instances work again.
    let kms_only = Asherah::new(config(both.clone(), MetastoreConfig::Memory)).unwrap();
    let fresh = Asherah::new(config(both.clone(), ddb.clone())).unwrap();
    {
        let pid = moto.pid();
        assert!(Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .unwrap()
            .success());
        let _resume = Resume(pid);
        assert_fails("KMS stalled", ErrorKind::Kms, || {
            kms_only.encrypt("p", b"x")
        });
        assert_fails("DynamoDB stalled", ErrorKind::Metastore, || {
            fresh.encrypt("p-stall", b"x")
        });
    }
    let back = after_stall("KMS after the stall", || {
        kms_only.encrypt("p", b"after stall")
    });
    assert_eq!(
        kms_only.decrypt("p", back.as_bytes()).unwrap(),
        b"after stall"
    );
    let back = after_stall("DynamoDB after the stall", || {
        fresh.encrypt("p-stall", b"after stall")
    });
    assert_eq!(
        fresh.decrypt("p-stall", back.as_bytes()).unwrap(),
        b"after stall"
    );
    assert_eq!(
        a.decrypt("p-stall", back.as_bytes()).unwrap(),
        b"after stall"
    );
}
