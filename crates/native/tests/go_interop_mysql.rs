//! Interop with the real Go libasherah (env `ASHERAH_GO_LIBRARY`) over a throw-away MariaDB
//! (`scripts/mysql.sh`) with Go's DSN and the static KMS: the scenario of
//! `common::interop`, both directions across a rotation, plus the rows' `created` column
//! read back as the UTC wall time both sides write. One test: libasherah is a singleton.

mod common;

use asherah_native::MetastoreConfig;
use common::golib::GoAsherah;
use common::interop::{self, Store};
use common::{go_library, skip, MysqlServer};

#[test]
fn go_and_native_share_mysql_across_rotation() {
    let Some(lib_path) = go_library("go_interop_mysql") else {
        return;
    };
    let my = match MysqlServer::start() {
        Ok(my) => my,
        Err(why) => return skip("go_interop_mysql", &why),
    };
    let count_rows = |id: &str| {
        my.sql(&format!(
            "SELECT COUNT(*) FROM encryption_key WHERE id = '{id}'"
        ))
        .parse::<usize>()
        .unwrap()
    };
    let store = Store {
        go_metastore: interop::go_rdbms("mysql", &my.dsn),
        native: MetastoreConfig::Mysql {
            dsn: my.dsn.clone(),
        },
        native_ca_file: None,
        count_rows: &count_rows,
    };
    let go = GoAsherah::open(&lib_path).expect("dlopen libasherah");
    let records = interop::across_rotation(&go, &store, |_| {});
    // Every row's `created` is a whole minute in UTC and matches the key JSON's Created
    // (both sides bind UTC wall time; the server's time zone is UTC here, as Go assumes).
    let rows = my.sql(
        "SELECT id, UNIX_TIMESTAMP(created), key_record FROM encryption_key ORDER BY id, created",
    );
    assert_eq!(rows.lines().count(), 6, "{rows}");
    for line in rows.lines() {
        let mut cols = line.split('\t');
        let (_, created, json) = (cols.next(), cols.next().unwrap(), cols.next().unwrap());
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["Created"].to_string(), created, "{line}");
    }
    eprintln!("go_interop_mysql: {records} records cross-decrypted by Go and native over MariaDB");
}
