//! The Go <-> native interop scenario, shared by the per-metastore test binaries: each side
//! decrypts what the other wrote, in both directions, before and after a key rotation in
//! which both sides race to create the same new keys. libasherah is a process-wide
//! singleton, so each binary runs this once.

use std::path::PathBuf;
use std::time::Duration;

use asherah_native::{Asherah, Config, MetastoreConfig};

use super::golib::GoAsherah;
use super::{ik_created, second_of_minute, sleep_into_next_minute};

pub const SERVICE: &str = "svc";
pub const PRODUCT: &str = "prod";

/// One metastore as both sides see it.
pub struct Store<'a> {
    /// Go's metastore keys (`Metastore` and what goes with it), a JSON object.
    pub go_metastore: serde_json::Value,
    /// The native core's metastore.
    pub native: MetastoreConfig,
    /// The native core's CA file, if any.
    pub native_ca_file: Option<PathBuf>,
    /// Counts the rows with this key id, read from the server directly.
    pub count_rows: &'a dyn Fn(&str) -> usize,
}

/// Go's metastore keys for a SQL database: `Metastore: "rdbms"`, the type and the DSN.
pub fn go_rdbms(db_type: &str, connection: &str) -> serde_json::Value {
    serde_json::json!({
        "Metastore": "rdbms",
        "SQLMetastoreDBType": db_type,
        "ConnectionString": connection,
    })
}

/// libasherah's setup JSON for `store`.
pub fn go_config(store: &Store<'_>, expire_after: Duration, check_interval: Duration) -> String {
    let mut config = serde_json::json!({
        "ServiceName": SERVICE,
        "ProductID": PRODUCT,
        "KMS": "static",
        "EnableSessionCaching": true,
        "SessionCacheMaxSize": 1000,
        "SessionCacheDuration": 7_200_000_000_000u64,
        "ExpireAfter": expire_after.as_nanos() as u64,
        "CheckInterval": check_interval.as_nanos() as u64,
        "Verbose": false,
    });
    for (key, value) in store
        .go_metastore
        .as_object()
        .expect("go_metastore is an object")
    {
        config[key] = value.clone();
    }
    config.to_string()
}

/// A native instance on `store` (its own connection and caches).
pub fn native(store: &Store<'_>, expire_after: Duration, check_interval: Duration) -> Asherah {
    let mut c = Config::new(SERVICE, PRODUCT);
    c.metastore = store.native.clone();
    c.metastore_ca_file.clone_from(&store.native_ca_file);
    c.expire_after = expire_after;
    c.check_interval = check_interval;
    Asherah::new(c).unwrap()
}

/// What [`across_rotation`] wrote in phase 1 (for callers that keep fixtures).
pub struct Phase1 {
    pub go_first: String,
    pub go_on_native_ik: String,
}

/// The scenario. The native side creates the table first (Go's libasherah expects it).
/// `after_phase1` runs between the phases. Returns the number of records both sides read.
pub fn across_rotation(
    go: &GoAsherah,
    store: &Store<'_>,
    after_phase1: impl FnOnce(&Phase1),
) -> usize {
    let long = Duration::from_secs(3600);
    let check = Duration::from_secs(1);
    let native1 = native(store, long, check);
    if second_of_minute() > 40 {
        sleep_into_next_minute(1); // keep phase 1 inside one minute
    }
    assert_eq!(go.setup(&go_config(store, long, check)), 0, "SetupJson");

    // Phase 1: Go creates SK and IK(p-go); native reads them, and the reverse for p-native.
    let go1 = go.encrypt("p-go", b"written by go, phase 1").unwrap();
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
    after_phase1(&Phase1 {
        go_first: go1.clone(),
        go_on_native_ik: go1b.clone(),
    });

    // Phase 2: keys expire after 1 s; in the next minute both sides rotate. Go goes first,
    // then the native side tries to create the same (id, created), loses, and loads Go's.
    go.shutdown();
    let short = Duration::from_secs(1);
    assert_eq!(
        go.setup(&go_config(store, short, check)),
        0,
        "SetupJson after Shutdown"
    );
    let native2 = native(store, short, check);
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
    let native3 = native(store, short, check); // cold caches
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
    for id in ["_SK_svc_prod", "_IK_p-go_svc_prod", "_IK_p-native_svc_prod"] {
        assert_eq!(
            (store.count_rows)(id),
            2,
            "one {id} per minute, shared by both sides"
        );
    }
    go.shutdown();
    all.len()
}
