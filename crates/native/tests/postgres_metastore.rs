//! The PostgreSQL metastore on a throw-away server (`scripts/pg.sh`; skipped with a notice
//! when PostgreSQL is not installed): Go's queries and schema, duplicate inserts reported as
//! "not stored", UTC timestamps, and native instances racing to create keys over it.

mod common;

use std::sync::Arc;

use asherah_native::{Asherah, Config, Metastore, MetastoreConfig, PostgresMetastore};
use common::{
    check_store_contract, second_of_minute, skip, sleep_into_next_minute, test_record, PgServer,
};

#[test]
fn postgres_metastore_contract_and_racing_instances() {
    let pg = match PgServer::start() {
        Ok(pg) => pg,
        Err(why) => return skip("postgres_metastore", &why),
    };
    let ms = PostgresMetastore::connect(&pg.url).unwrap();
    let rec = test_record;
    check_store_contract(&ms);
    // lib/pq's key=value DSN form reaches the same database.
    let port = pg
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let dsn = format!("host=127.0.0.1 port={port} user=postgres dbname=asherah sslmode=disable");
    let MetastoreConfig::Postgres { url } = MetastoreConfig::from_connection_string(&dsn).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        PostgresMetastore::connect(&url)
            .unwrap()
            .load_latest("k")
            .unwrap(),
        Some(rec(1_800_000_060))
    );
    // `created` holds UTC wall time, as Go's lib/pq writes it on a UTC host.
    let mut c = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
    let text: String = c
        .query_one("SELECT to_char(created, 'YYYY-MM-DD HH24:MI:SS') FROM encryption_key WHERE id = 'k' ORDER BY created LIMIT 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(text, "2027-01-15 08:00:00");

    // Eight instances (each its own connection and caches) race on one partition.
    let mut config = Config::new("svc", "prod");
    config.metastore = MetastoreConfig::from_connection_string(&pg.url).unwrap();
    let instances: Vec<_> = (0..8)
        .map(|_| Arc::new(Asherah::new(config.clone()).unwrap()))
        .collect();
    if second_of_minute() > 55 {
        sleep_into_next_minute(0); // keep the race inside one minute: one IK and one SK
    }
    let barrier = Arc::new(std::sync::Barrier::new(instances.len()));
    let records: Vec<String> = instances
        .iter()
        .map(|a| {
            let (a, barrier) = (Arc::clone(a), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                a.encrypt("race", b"same partition").unwrap()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            instances[(i + 1) % instances.len()]
                .decrypt("race", r.as_bytes())
                .unwrap(),
            b"same partition"
        );
    }
    let counts: Vec<(String, i64)> = c
        .query(
            "SELECT id, count(*) FROM encryption_key WHERE id <> 'k' GROUP BY id ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("_IK_race_svc_prod".to_owned(), 1),
            ("_SK_svc_prod".to_owned(), 1)
        ]
    );
}
