//! Interop with the real Go libasherah (env `ASHERAH_GO_LIBRARY`) over one throw-away
//! PostgreSQL metastore and the static KMS: each side decrypts what the other wrote, in
//! both directions, before and after a key rotation, and Go's records are byte-for-byte in
//! the layout the native core writes. libasherah is a process-wide singleton, so this
//! binary holds exactly one test. With `ASHERAH_WRITE_GO_FIXTURE=1` it also refreshes
//! `tests/fixtures/go_records.json`, which `known_answers.rs` replays without Go or PostgreSQL.

mod common;

use std::time::Duration;

use asherah_native::MetastoreConfig;
use common::golib::GoAsherah;
use common::interop::{self, Store, PRODUCT, SERVICE};
use common::{go_library, skip, PgServer};

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
    let Some(lib_path) = go_library("go_interop") else {
        return;
    };
    let pg = match PgServer::start() {
        Ok(pg) => pg,
        Err(why) => return skip("go_interop", &why),
    };
    let count_rows = |id: &str| rows(&pg.url).iter().filter(|r| r.0 == id).count();
    let store = Store {
        go_metastore: interop::go_rdbms("postgres", &pg.url),
        native: MetastoreConfig::from_connection_string(&pg.url).unwrap(),
        native_ca_file: None,
        count_rows: &count_rows,
    };
    let go = GoAsherah::open(&lib_path).expect("dlopen libasherah");
    let records = interop::across_rotation(&go, &store, |phase1| {
        let go1 = &phase1.go_first;
        assert_eq!(&relayout(go1), go1, "Go's record layout differs from ours");
        if std::env::var_os("ASHERAH_WRITE_GO_FIXTURE").is_some() {
            let fixture = serde_json::json!({
                "source": "libasherah-x64.so from PyPI asherah==0.3.9 (Go), static KMS, PostgreSQL metastore",
                "service": SERVICE, "product": PRODUCT,
                "rows": rows(&pg.url).iter().map(|(id, c, r)| serde_json::json!({"id": id, "created": c, "key_record": r})).collect::<Vec<_>>(),
                "records": [
                    {"partition": "p-go", "plaintext": "written by go, phase 1", "record": go1},
                    {"partition": "p-native", "plaintext": "go on native's IK", "record": phase1.go_on_native_ik},
                ],
            });
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/go_records.json"
            );
            std::fs::write(path, serde_json::to_string_pretty(&fixture).unwrap()).unwrap();
        }
    });

    // Side-by-side cost of a warm 64-byte call (debug-built test binary: the native figure
    // here is pessimistic; `cargo bench` has the release numbers).
    // Both sides with long expiry and check interval, so the loops never touch PostgreSQL.
    let long = Duration::from_secs(3600);
    assert_eq!(go.setup(&interop::go_config(&store, long, long)), 0);
    let native4 = interop::native(&store, long, long);
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
        records
    );
}
