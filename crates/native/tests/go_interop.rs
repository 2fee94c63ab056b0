//! Interop with the real Go libasherah (env `ASHERAH_GO_LIBRARY`) over one throw-away
//! PostgreSQL metastore and the static KMS: each side decrypts what the other wrote, in
//! both directions, before and after a key rotation, and Go's records are byte-for-byte in
//! the layout the native core writes. libasherah is a process-wide singleton, so this
//! binary holds exactly one test. With `ASHERAH_WRITE_GO_FIXTURE=1` it also refreshes
//! `tests/fixtures/go_records.json`, which `known_answers.rs` replays without Go or PostgreSQL.

mod common;

use std::time::Duration;

use asherah_native::{Asherah, Config, MetastoreConfig};
use common::golib::GoAsherah;
use common::{ik_created, second_of_minute, skip, sleep_into_next_minute, PgServer};

const SERVICE: &str = "svc";
const PRODUCT: &str = "prod";

fn go_config(url: &str, expire_after: Duration, check_interval: Duration) -> String {
    serde_json::json!({
        "ServiceName": SERVICE,
        "ProductID": PRODUCT,
        "Metastore": "rdbms",
        "SQLMetastoreDBType": "postgres",
        "ConnectionString": url,
        "KMS": "static",
        "EnableSessionCaching": true,
        "SessionCacheMaxSize": 1000,
        "SessionCacheDuration": 7_200_000_000_000u64,
        "ExpireAfter": expire_after.as_nanos() as u64,
        "CheckInterval": check_interval.as_nanos() as u64,
        "Verbose": false,
    })
    .to_string()
}

fn native(url: &str, expire_after: Duration, check_interval: Duration) -> Asherah {
    let mut c = Config::new(SERVICE, PRODUCT);
    c.metastore = MetastoreConfig::from_connection_string(url).unwrap();
    c.expire_after = expire_after;
    c.check_interval = check_interval;
    Asherah::new(c).unwrap()
}

/// Rebuilds a record from its parsed values in the native core's layout; equal to the input
/// only if the input has exactly Go's field order, spacing and encodings.
fn relayout(record: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(record).unwrap();
    let k = &v["Key"];
    let m = &k["ParentKeyMeta"];
    format!(
        r#"{{"Key":{{"Created":{},"Key":"{}","ParentKeyMeta":{{"KeyId":"{}","Created":{}}}}},"Data":"{}"}}"#,
        k["Created"],
        k["Key"].as_str().unwrap(),
        m["KeyId"].as_str().unwrap(),
        m["Created"],
        v["Data"].as_str().unwrap()
    )
}

fn rows(url: &str) -> Vec<(String, i64, String)> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query(
        "SELECT id, extract(epoch from created)::bigint, key_record FROM encryption_key ORDER BY id, created",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

#[test]
fn go_and_native_share_postgres_across_rotation() {
    let Ok(lib_path) = std::env::var("ASHERAH_GO_LIBRARY") else {
        return skip(
            "go_interop",
            "ASHERAH_GO_LIBRARY is not set (source .cache/env.sh)",
        );
    };
    if !std::path::Path::new(&lib_path).exists() {
        return skip("go_interop", &format!("{lib_path} does not exist"));
    }
    let pg = match PgServer::start() {
        Ok(pg) => pg,
        Err(why) => return skip("go_interop", &why),
    };
    let long = Duration::from_secs(3600);
    let check = Duration::from_secs(1);
    // The native side creates the table (Go's libasherah expects it to exist).
    let native1 = native(&pg.url, long, check);
    let go = GoAsherah::open(&lib_path).expect("dlopen libasherah");
    if second_of_minute() > 40 {
        sleep_into_next_minute(1); // keep phase 1 inside one minute
    }
    assert_eq!(go.setup(&go_config(&pg.url, long, check)), 0, "SetupJson");

    // Phase 1: Go creates SK and IK(p-go); native reads them, and the reverse for p-native.
    let go1 = go.encrypt("p-go", b"written by go, phase 1").unwrap();
    assert_eq!(relayout(&go1), go1, "Go's record layout differs from ours");
    assert_eq!(
        native1.decrypt("p-go", go1.as_bytes()).unwrap(),
        b"written by go, phase 1"
    );
    let nat1 = native1
        .encrypt("p-go", b"written by native, phase 1")
        .unwrap();
    assert_eq!(
        ik_created(&nat1),
        ik_created(&go1),
        "native must reuse Go's IK"
    );
    assert_eq!(
        go.decrypt("p-go", &nat1).unwrap(),
        b"written by native, phase 1"
    );
    let nat1b = native1
        .encrypt("p-native", b"native-first partition")
        .unwrap();
    assert_eq!(
        go.decrypt("p-native", &nat1b).unwrap(),
        b"native-first partition"
    );
    let go1b = go.encrypt("p-native", b"go on native's IK").unwrap();
    assert_eq!(
        ik_created(&go1b),
        ik_created(&nat1b),
        "Go must reuse native's IK"
    );
    assert_eq!(
        native1.decrypt("p-native", go1b.as_bytes()).unwrap(),
        b"go on native's IK"
    );
    // Wrong partition is refused by both.
    assert!(go.decrypt("p-native", &nat1).is_err());
    assert_eq!(
        native1
            .decrypt("p-native", go1.as_bytes())
            .unwrap_err()
            .kind(),
        asherah_native::ErrorKind::PartitionMismatch
    );

    if std::env::var_os("ASHERAH_WRITE_GO_FIXTURE").is_some() {
        let fixture = serde_json::json!({
            "source": "libasherah-x64.so from PyPI asherah==0.3.9 (Go), static KMS, PostgreSQL metastore",
            "service": SERVICE, "product": PRODUCT,
            "rows": rows(&pg.url).iter().map(|(id, c, r)| serde_json::json!({"id": id, "created": c, "key_record": r})).collect::<Vec<_>>(),
            "records": [
                {"partition": "p-go", "plaintext": "written by go, phase 1", "record": go1},
                {"partition": "p-native", "plaintext": "go on native's IK", "record": go1b},
            ],
        });
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/go_records.json"
        );
        std::fs::write(path, serde_json::to_string_pretty(&fixture).unwrap()).unwrap();
    }

    // Phase 2: keys expire after 1 s; in the next minute both sides rotate. Go goes first,
    // then the native side tries to create the same (id, created), loses, and loads Go's.
    go.shutdown();
    assert_eq!(
        go.setup(&go_config(&pg.url, Duration::from_secs(1), check)),
        0,
        "SetupJson after Shutdown"
    );
    let native2 = native(&pg.url, Duration::from_secs(1), check);
    sleep_into_next_minute(2);
    let go2 = go.encrypt("p-go", b"go after rotation").unwrap();
    assert!(ik_created(&go2) > ik_created(&go1), "Go rotated the IK");
    let nat2 = native2.encrypt("p-go", b"native after rotation").unwrap();
    assert_eq!(
        ik_created(&nat2),
        ik_created(&go2),
        "native loads the IK Go rotated to"
    );
    let nat2b = native2
        .encrypt("p-native", b"native rotates p-native")
        .unwrap();
    assert!(
        ik_created(&nat2b) > ik_created(&nat1b),
        "native rotated the IK"
    );
    let go2b = go.encrypt("p-native", b"go after native rotated").unwrap();
    assert_eq!(
        ik_created(&go2b),
        ik_created(&nat2b),
        "Go loads the IK native rotated to"
    );

    let all = [
        ("p-go", &go1, &b"written by go, phase 1"[..]),
        ("p-go", &nat1, b"written by native, phase 1"),
        ("p-native", &nat1b, b"native-first partition"),
        ("p-native", &go1b, b"go on native's IK"),
        ("p-go", &go2, b"go after rotation"),
        ("p-go", &nat2, b"native after rotation"),
        ("p-native", &nat2b, b"native rotates p-native"),
        ("p-native", &go2b, b"go after native rotated"),
    ];
    let native3 = native(&pg.url, Duration::from_secs(1), check); // cold caches
    for (partition, record, plaintext) in all {
        assert_eq!(
            go.decrypt(partition, record).unwrap(),
            plaintext,
            "Go decrypts {record}"
        );
        assert_eq!(
            native2.decrypt(partition, record.as_bytes()).unwrap(),
            plaintext
        );
        assert_eq!(
            native3.decrypt(partition, record.as_bytes()).unwrap(),
            plaintext
        );
    }
    let rows = rows(&pg.url);
    let count = |id: &str| rows.iter().filter(|r| r.0 == id).count();
    assert_eq!(
        count("_SK_svc_prod"),
        2,
        "one SK per minute, shared by both sides: {rows:?}"
    );
    assert_eq!(count("_IK_p-go_svc_prod"), 2);
    assert_eq!(count("_IK_p-native_svc_prod"), 2);

    // Side-by-side cost of a warm 64-byte call (debug-built test binary: the native figure
    // here is pessimistic; `cargo bench` has the release numbers).
    // Both sides with long expiry and check interval, so the loops never touch PostgreSQL.
    go.shutdown();
    assert_eq!(go.setup(&go_config(&pg.url, long, long)), 0);
    let native4 = native(&pg.url, long, long);
    let data = [7u8; 64];
    let rec = native4.encrypt("p-go", &data).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..2000 {
        native4.encrypt("p-go", &data).unwrap();
    }
    let nat_enc = start.elapsed().as_nanos() as f64 / 2000.0;
    let start = std::time::Instant::now();
    for _ in 0..2000 {
        native4.decrypt("p-go", rec.as_bytes()).unwrap();
    }
    let nat_dec = start.elapsed().as_nanos() as f64 / 2000.0;
    let (go_enc, go_dec) = go.time_per_call("p-go", &data, 2000); // after native: Go's GC runs on
    eprintln!(
        "go_interop: 64 B warm, µs/op: Go encrypt {:.1} decrypt {:.1}; native encrypt {:.1} decrypt {:.1}",
        go_enc / 1e3, go_dec / 1e3, nat_enc / 1e3, nat_dec / 1e3
    );
    go.shutdown();
    eprintln!(
        "go_interop: {} records cross-decrypted by Go and native over PostgreSQL",
        all.len()
    );
}
