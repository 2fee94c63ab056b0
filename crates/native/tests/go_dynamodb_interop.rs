//! Interop with the real Go libasherah (env `ASHERAH_GO_LIBRARY`) over one DynamoDB table on
//! a moto server (`scripts/moto.sh`), with the static KMS: Go reaches moto through its
//! `DynamoDBEndpoint` config key. Each side decrypts what the other wrote, in both
//! directions, before and after a key rotation, and the table ends with one item per key
//! and minute, written in one layout by both. libasherah is a process-wide singleton that
//! keeps its own copy of the environment from process start, so this binary holds exactly
//! one test and gives Go the AWS test credentials (and `AWS_EC2_METADATA_DISABLED`, so it
//! never looks for instance metadata off this machine) through `SetEnv` before `SetupJson`.
//! A last phase turns on `EnableRegionSuffix` and checks that records cross regions of a
//! global table (simulated by copying items between moto's per-region tables).

mod common;

use std::time::Duration;

use asherah_native::{
    Asherah, Config, DynamoDbConfig, DynamoDbMetastore, Metastore, MetastoreConfig,
};
use common::golib::GoAsherah;
use common::{ik_created, second_of_minute, skip, sleep_into_next_minute, MotoServer};

const SERVICE: &str = "svc";
const PRODUCT: &str = "prod";
const TABLE: &str = "AsherahInterop";

fn go_config(endpoint: &str, expire_after: Duration, check_interval: Duration) -> String {
    serde_json::json!({
        "ServiceName": SERVICE,
        "ProductID": PRODUCT,
        "Metastore": "dynamodb",
        "DynamoDBEndpoint": endpoint,
        "DynamoDBRegion": "us-west-2",
        "DynamoDBTableName": TABLE,
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

fn ddb(endpoint: &str) -> DynamoDbConfig {
    DynamoDbConfig {
        endpoint: Some(endpoint.to_owned()),
        region: Some("us-west-2".into()),
        table_name: Some(TABLE.into()),
        ..DynamoDbConfig::default()
    }
}

fn native(endpoint: &str, expire_after: Duration, check_interval: Duration) -> Asherah {
    let mut c = Config::new(SERVICE, PRODUCT);
    c.metastore = MetastoreConfig::DynamoDb(ddb(endpoint));
    c.expire_after = expire_after;
    c.check_interval = check_interval;
    Asherah::new(c).unwrap()
}

#[test]
fn go_and_native_share_dynamodb_across_rotation() {
    let Ok(lib_path) = std::env::var("ASHERAH_GO_LIBRARY") else {
        return skip(
            "go_dynamodb_interop",
            "ASHERAH_GO_LIBRARY is not set (source .cache/env.sh)",
        );
    };
    if !std::path::Path::new(&lib_path).exists() {
        return skip("go_dynamodb_interop", &format!("{lib_path} does not exist"));
    }
    let moto = match MotoServer::start() {
        Ok(m) => m,
        Err(why) => return skip("go_dynamodb_interop", &why),
    };
    moto.export_env();
    moto.setup(TABLE, &["us-west-2"]);
    let url = moto.url.clone();
    let long = Duration::from_secs(3600);
    let check = Duration::from_secs(1);
    let native1 = native(&url, long, check);
    let go = GoAsherah::open(&lib_path).expect("dlopen libasherah");
    let go_env = serde_json::json!({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "us-west-2",
    });
    assert_eq!(go.set_env(&go_env.to_string()), 0, "SetEnv");
    if second_of_minute() > 40 {
        sleep_into_next_minute(1); // keep phase 1 inside one minute
    }
    assert_eq!(go.setup(&go_config(&url, long, check)), 0, "SetupJson");

    // Phase 1: Go creates SK and IK(p-go); native reads them, and the reverse for p-native.
    let go1 = go.encrypt("p-go", b"written by go, phase 1").unwrap();
    assert_eq!(
        native1.decrypt("p-go", go1.as_bytes()).unwrap(),
        b"written by go, phase 1"
    );
    let nat1 = native1
        .encrypt("p-go", b"written by native, phase 1")
        .unwrap();
    assert_eq!(ik_created(&nat1), ik_created(&go1), "native reuses Go's IK");
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
        "Go reuses native's IK"
    );
    assert_eq!(
        native1.decrypt("p-native", go1b.as_bytes()).unwrap(),
        b"go on native's IK"
    );
    assert!(go.decrypt("p-native", &nat1).is_err());

    // Go's items decode with the native item reader: the same attribute names and types.
    let store = DynamoDbMetastore::open(&ddb(&url), Duration::from_secs(10)).unwrap();
    let go_ik = store.load_latest("_IK_p-go_svc_prod").unwrap().unwrap();
    assert_eq!(go_ik.parent_key_meta.as_ref().unwrap().id, "_SK_svc_prod");
    assert_eq!(go_ik.created, ik_created(&go1));
    let item_shape = moto.python(
        "import sys, boto3\n\
         t = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='us-west-2')\n\
         show = lambda i: (i['Id']['S'], sorted(i), sorted((k, list(v)[0]) for k, v in i['KeyRecord']['M'].items()))\n\
         print('\\n'.join(' '.join(map(str, show(i))) for i in t.scan(TableName=sys.argv[2])['Items']))\n",
        &[&url, TABLE],
    );
    eprintln!("go_dynamodb_interop: items:\n{item_shape}");
    for line in item_shape.lines() {
        assert!(line.contains("['Created', 'Id', 'KeyRecord']"), "{line}");
        assert!(
            line.contains("('Created', 'N')") && line.contains("('Key', 'S')"),
            "{line}"
        );
        if line.starts_with("_IK_") {
            assert!(line.contains("('ParentKeyMeta', 'M')"), "{line}");
        } else {
            assert!(!line.contains("ParentKeyMeta"), "{line}");
        }
    }

    // Phase 2: keys expire after 1 s; in the next minute both sides rotate. Go goes first,
    // then the native side tries to create the same (Id, Created), loses the conditional put,
    // and loads Go's.
    go.shutdown();
    assert_eq!(
        go.setup(&go_config(&url, Duration::from_secs(1), check)),
        0,
        "SetupJson after Shutdown"
    );
    let native2 = native(&url, Duration::from_secs(1), check);
    sleep_into_next_minute(2);
    let go2 = go.encrypt("p-go", b"go after rotation").unwrap();
    assert!(ik_created(&go2) > ik_created(&go1), "Go rotated the IK");
    let nat2 = native2.encrypt("p-go", b"native after rotation").unwrap();
    assert_eq!(
        ik_created(&nat2),
        ik_created(&go2),
        "native loads Go's new IK"
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
        "Go loads native's new IK"
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
    let native3 = native(&url, Duration::from_secs(1), check); // cold caches
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
    let count = |id: &str| {
        moto.python(
            "import sys, boto3\n\
             t = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='us-west-2')\n\
             print(t.query(TableName=sys.argv[2], KeyConditionExpression='Id = :i',\n\
                   ExpressionAttributeValues={':i': {'S': sys.argv[3]}})['Count'])\n",
            &[&url, TABLE, id],
        )
        .trim()
        .to_owned()
    };
    assert_eq!(
        count("_SK_svc_prod"),
        "2",
        "one SK per minute, shared by both sides"
    );
    assert_eq!(count("_IK_p-go_svc_prod"), "2");
    assert_eq!(count("_IK_p-native_svc_prod"), "2");

    // Phase 3: region suffixes on a global table, with moto's per-region tables standing in
    // for DynamoDB's replication (items are copied between regions with boto3). Go writes in
    // us-west-2 with EnableRegionSuffix; a suffixed native instance in us-east-1 reads it (and
    // the unsuffixed records of the phases before), and Go reads what native wrote there.
    go.shutdown();
    let suffixed_go = {
        let mut v: serde_json::Value = serde_json::from_str(&go_config(&url, long, check)).unwrap();
        v["EnableRegionSuffix"] = true.into();
        v.to_string()
    };
    assert_eq!(
        go.setup(&suffixed_go),
        0,
        "SetupJson with EnableRegionSuffix"
    );
    let go_west = go.encrypt("p-go", b"go in us-west-2").unwrap();
    assert!(
        go_west.contains("\"_IK_p-go_svc_prod_us-west-2\""),
        "{go_west}"
    );
    moto.setup(TABLE, &["us-east-1"]);
    let replicate = |from: &str, to: &str| {
        moto.python(
            "import sys, boto3\n\
             src = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name=sys.argv[3])\n\
             dst = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name=sys.argv[4])\n\
             for i in src.scan(TableName=sys.argv[2])['Items']:\n\
             \x20   dst.put_item(TableName=sys.argv[2], Item=i)\n",
            &[&url, TABLE, from, to],
        );
    };
    replicate("us-west-2", "us-east-1");
    let mut east = Config::new(SERVICE, PRODUCT);
    east.metastore = MetastoreConfig::DynamoDb(DynamoDbConfig {
        region: Some("us-east-1".into()),
        region_suffix: true,
        ..ddb(&url)
    });
    let east = Asherah::new(east).unwrap();
    assert_eq!(
        east.decrypt("p-go", go_west.as_bytes()).unwrap(),
        b"go in us-west-2",
        "native in us-east-1 reads Go's us-west-2 record"
    );
    assert_eq!(
        east.decrypt("p-go", go1.as_bytes()).unwrap(),
        b"written by go, phase 1",
        "a suffixed instance reads unsuffixed records"
    );
    assert!(
        east.decrypt("p-native", go_west.as_bytes()).is_err(),
        "another partition's record stays refused"
    );
    let nat_east = east.encrypt("p-go", b"native in us-east-1").unwrap();
    assert!(
        nat_east.contains("\"_IK_p-go_svc_prod_us-east-1\""),
        "{nat_east}"
    );
    replicate("us-east-1", "us-west-2");
    assert_eq!(
        go.decrypt("p-go", &nat_east).unwrap(),
        b"native in us-east-1",
        "Go in us-west-2 reads native's us-east-1 record"
    );
    go.shutdown();
    eprintln!(
        "go_dynamodb_interop: {} records cross-decrypted by Go and native over DynamoDB",
        all.len()
    );
}
