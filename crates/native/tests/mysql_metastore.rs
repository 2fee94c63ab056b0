//! The MySQL metastore on throw-away MariaDB servers (`scripts/mysql.sh`; skipped with a
//! notice when MariaDB is not installed): Go's queries and table, duplicate inserts
//! reported as "not stored", UTC timestamps, instances racing to create keys, typed errors
//! within the timeout for a stopped server and a wrong password (which never appears in
//! a message), recovery without a new instance once the server is back, records read
//! after a restart; and TLS (`tls=true` with a CA file, `skip-verify`, a wrong root, plain
//! TCP refused by a user that requires TLS).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use asherah_native::{Asherah, Config, ErrorKind, Metastore, MetastoreConfig, MysqlMetastore};
use common::{second_of_minute, skip, sleep_into_next_minute, MysqlServer};

const TIMEOUT: Duration = Duration::from_secs(5);

fn asherah(dsn: &str, ca_file: Option<&std::path::Path>) -> Asherah {
    let mut c = Config::new("svc", "prod");
    c.metastore = MetastoreConfig::Mysql { dsn: dsn.into() };
    c.metastore_ca_file = ca_file.map(Into::into);
    c.metastore_timeout = TIMEOUT;
    Asherah::new(c).unwrap()
}

use common::test_record as rec;

#[test]
fn mysql_metastore_contract_failures_and_recovery() {
    let my = match MysqlServer::start() {
        Ok(my) => my,
        Err(why) => return skip("mysql_metastore", &why),
    };
    let ms = MysqlMetastore::connect(&my.dsn, TIMEOUT, None).unwrap();
    common::check_store_contract(&ms);
    assert_eq!(
        ms.load("k", i64::MAX).unwrap(),
        None,
        "out of range: never sent"
    );
    // `created` holds UTC wall time, as Go's driver writes it (loc=UTC, its default).
    assert_eq!(
        my.sql("SELECT DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s') FROM encryption_key WHERE id = 'k' ORDER BY created LIMIT 1"),
        "2027-01-15 08:00:00"
    );
    // A DSN with parameters the Go driver takes: ignored ones, and a system variable.
    let with_params = format!(
        "{}?parseTime=true&timeout=5s&sql_mode=%27ANSI_QUOTES%27",
        my.dsn
    );
    let other = MysqlMetastore::connect(&with_params, TIMEOUT, None).unwrap();
    assert_eq!(other.load_latest("k").unwrap(), Some(rec(1_800_000_060)));

    // Eight instances (each its own connection and caches) race on one partition.
    let instances: Vec<_> = (0..8).map(|_| Arc::new(asherah(&my.dsn, None))).collect();
    if second_of_minute() > 55 {
        sleep_into_next_minute(0); // keep the race inside one minute: one IK and one SK
    }
    let records: Vec<(usize, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = instances
            .iter()
            .enumerate()
            .map(|(i, a)| {
                s.spawn(move || (i, a.encrypt("race", format!("n{i}").as_bytes()).unwrap()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, record) in &records {
        for a in &instances {
            assert_eq!(
                a.decrypt("race", record.as_bytes()).unwrap(),
                format!("n{i}").as_bytes()
            );
        }
    }
    assert_eq!(
        my.sql("SELECT COUNT(*) FROM encryption_key WHERE id = '_IK_race_svc_prod'"),
        "1"
    );
    assert_eq!(
        my.sql("SELECT COUNT(*) FROM encryption_key WHERE id = '_SK_svc_prod'"),
        "1"
    );

    // A wrong password: a typed metastore error that does not quote it.
    let password = my.password();
    let wrong = my.dsn.replace(&password, "wrong-secret-123");
    let e = MysqlMetastore::connect(&wrong, TIMEOUT, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Metastore, "{e}");
    assert!(e.message().contains("Access denied"), "{e}");
    assert!(
        !e.message().contains("wrong-secret-123") && !e.message().contains(&password),
        "{e}"
    );

    // The server goes away: calls that need the metastore fail with a typed error within
    // the timeout; once it is back, the same instance works again, and what was written
    // before the restart is still readable.
    let a = &instances[0];
    let cold = asherah(&my.dsn, None); // no cached keys: every call reaches the server
    let before = a.encrypt("restart", b"written before the restart").unwrap();
    my.stop();
    let start = Instant::now();
    let e = cold.decrypt("restart", before.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Metastore, "{e}");
    assert!(start.elapsed() < TIMEOUT * 3, "{:?}", start.elapsed());
    assert!(!e.message().contains(&password), "{e}");
    let e = cold.encrypt("new-partition", b"x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Metastore, "{e}");
    my.resume();
    assert_eq!(
        cold.decrypt("restart", before.as_bytes()).unwrap(),
        b"written before the restart"
    );
    let after = cold.encrypt("new-partition", b"after").unwrap();
    assert_eq!(
        a.decrypt("new-partition", after.as_bytes()).unwrap(),
        b"after"
    );
    // A kept connection that died with the server is replaced without a failed call.
    assert_eq!(
        ms.load("k", 1_800_000_000).unwrap(),
        Some(rec(1_800_000_000))
    );
}

#[test]
fn mysql_over_tls() {
    let my = match MysqlServer::start_tls() {
        Ok(my) => my,
        Err(why) => return skip("mysql_over_tls", &why),
    };
    let ca = my.dir().join("tls/ca.pem");
    let other_ca = my.dir().join("tls/other-ca.pem");
    let password = my.password();

    // tls=true with the test CA: the chain and the host name (IP 127.0.0.1) are checked.
    let verified = asherah(&format!("{}?tls=true", my.dsn), Some(&ca));
    let record = verified.encrypt("p", b"over tls").unwrap();
    assert_eq!(
        verified.decrypt("p", record.as_bytes()).unwrap(),
        b"over tls"
    );
    // skip-verify: encrypted, the certificate unchecked.
    let unverified = asherah(&format!("{}?tls=skip-verify", my.dsn), None);
    assert_eq!(
        unverified.decrypt("p", record.as_bytes()).unwrap(),
        b"over tls"
    );

    let fails = |dsn: String, ca: Option<&std::path::Path>| {
        let e = MysqlMetastore::connect(&dsn, TIMEOUT, ca).unwrap_err();
        assert!(!e.message().contains(&password), "{e}");
        e
    };
    // tls=true with Mozilla's roots only, or an unrelated CA: the certificate is refused.
    for ca in [None, Some(other_ca.as_path())] {
        let e = fails(format!("{}?tls=true", my.dsn), ca);
        assert_eq!(e.kind(), ErrorKind::Metastore, "{e}");
        assert!(
            e.message().contains("UnknownIssuer") || e.message().contains("certificate"),
            "{e}"
        );
    }
    // The user requires TLS: plain TCP is refused by the server.
    let e = fails(my.dsn.clone(), None);
    assert_eq!(e.kind(), ErrorKind::Metastore, "{e}");
    assert!(e.message().contains("Access denied"), "{e}");
    // A CA file that is not PEM is a configuration error naming the file only.
    let e = fails(
        format!("{}?tls=true", my.dsn),
        Some(&my.dir().join("password")),
    );
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
}
