//! Interop with the real Go libasherah (env `ASHERAH_GO_LIBRARY`) over one DynamoDB table on
//! a moto server (`scripts/moto.sh`), with the static KMS: Go reaches moto through its
//! `DynamoDBEndpoint` config key. The shared scenario (`common::interop`) has each side
//! decrypt what the other wrote, in both directions, before and after a key rotation, and
//! the table end with one item per key and minute; here the items are also checked to have
//! one layout whoever wrote them. A last phase turns on `EnableRegionSuffix` and checks that
//! records cross regions of a global table (simulated by copying items between moto's
//! per-region tables). libasherah is a process-wide singleton that keeps its own copy of the
//! environment from process start, so this binary holds exactly one test and gives Go the
//! AWS test credentials (and `AWS_EC2_METADATA_DISABLED`, so it never looks for instance
//! metadata off this machine) through `SetEnv` before `SetupJson`.

mod common;

use std::time::Duration;

use asherah_native::{
    Asherah, Config, DynamoDbConfig, DynamoDbMetastore, Metastore, MetastoreConfig,
};
use common::golib::GoAsherah;
use common::interop::{self, Store, PRODUCT, SERVICE};
use common::{go_library, ik_created, skip, MotoServer};

const TABLE: &str = "AsherahInterop";

/// The native side's DynamoDB settings in `region`.
fn ddb(endpoint: &str, region: &str, region_suffix: bool) -> DynamoDbConfig {
    DynamoDbConfig {
        endpoint: Some(endpoint.to_owned()),
        region: Some(region.into()),
        table_name: Some(TABLE.into()),
        region_suffix,
        ..DynamoDbConfig::default()
    }
}

/// The same, as Go's config keys.
fn go_ddb(endpoint: &str, region: &str, region_suffix: bool) -> serde_json::Value {
    serde_json::json!({
        "Metastore": "dynamodb",
        "DynamoDBEndpoint": endpoint,
        "DynamoDBRegion": region,
        "DynamoDBTableName": TABLE,
        "EnableRegionSuffix": region_suffix,
    })
}

#[test]
fn go_and_native_share_dynamodb_across_rotation() {
    let Some(lib_path) = go_library("go_dynamodb_interop") else {
        return;
    };
    let moto = match MotoServer::start() {
        Ok(m) => m,
        Err(why) => return skip("go_dynamodb_interop", &why),
    };
    moto.export_env();
    moto.setup(TABLE, &["us-west-2"]);
    let url = moto.url.clone();
    let count_rows = |id: &str| -> usize {
        moto.python(
            "import sys, boto3\n\
             t = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='us-west-2')\n\
             print(t.query(TableName=sys.argv[2], KeyConditionExpression='Id = :i',\n\
                   ExpressionAttributeValues={':i': {'S': sys.argv[3]}})['Count'])\n",
            &[&url, TABLE, id],
        )
        .trim()
        .parse()
        .unwrap()
    };
    let store = Store {
        go_metastore: go_ddb(&url, "us-west-2", false),
        native: MetastoreConfig::DynamoDb(ddb(&url, "us-west-2", false)),
        native_ca_file: None,
        count_rows: &count_rows,
    };
    let go = GoAsherah::open(&lib_path).expect("dlopen libasherah");
    let go_env = serde_json::json!({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "us-west-2",
    });
    assert_eq!(go.set_env(&go_env.to_string()), 0, "SetEnv");
    let mut go1 = String::new();
    let records = interop::across_rotation(&go, &store, |p| go1.clone_from(&p.go_first));

    // Go's items decode with the native item reader: the same attribute names and types.
    let reader =
        DynamoDbMetastore::open(&ddb(&url, "us-west-2", false), Duration::from_secs(10)).unwrap();
    let go_ik = reader
        .load("_IK_p-go_svc_prod", ik_created(&go1))
        .unwrap()
        .unwrap();
    assert_eq!(go_ik.parent_key_meta.as_ref().unwrap().id, "_SK_svc_prod");
    let item_shape = moto.python(
        "import sys, boto3\n\
         t = boto3.client('dynamodb', endpoint_url=sys.argv[1], region_name='us-west-2')\n\
         show = lambda i: (i['Id']['S'], sorted(i), sorted((k, list(v)[0]) for k, v in i['KeyRecord']['M'].items()))\n\
         print('\\n'.join(' '.join(map(str, show(i))) for i in t.scan(TableName=sys.argv[2])['Items']))\n",
        &[&url, TABLE],
    );
    eprintln!("go_dynamodb_interop: items:\n{item_shape}");
    assert_eq!(item_shape.lines().count(), 6, "2 SK and 2 x 2 IK items");
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

    // Phase 3: region suffixes on a global table, with moto's per-region tables standing in
    // for DynamoDB's replication (items are copied between regions with boto3). Go writes in
    // us-west-2 with EnableRegionSuffix; a suffixed native instance in us-east-1 reads it (and
    // the unsuffixed records of the phases before), and Go reads what native wrote there.
    let long = Duration::from_secs(3600);
    let suffixed = Store {
        go_metastore: go_ddb(&url, "us-west-2", true),
        ..store
    };
    assert_eq!(
        go.setup(&interop::go_config(&suffixed, long, long)),
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
    east.metastore = MetastoreConfig::DynamoDb(ddb(&url, "us-east-1", true));
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
        "go_dynamodb_interop: {records} records cross-decrypted by Go and native over DynamoDB, \
         and across two regions with suffixes"
    );
}
