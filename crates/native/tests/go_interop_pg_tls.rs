//! Interop with the real Go libasherah (env `ASHERAH_GO_LIBRARY`) over a throw-away
//! PostgreSQL that takes TLS connections only (`scripts/pg.sh start --tls`: a certificate
//! from a CA the script makes, password auth; plain TCP is rejected, so every connection that worked was TLS): both
//! sides use the same URL,
//! `sslmode=verify-full&sslrootcert=<ca.pem>` (lib/pq for Go, rustls for native). The
//! scenario of `common::interop`, both directions across a rotation. One test: libasherah
//! is a singleton.

mod common;

use asherah_native::MetastoreConfig;
use common::golib::GoAsherah;
use common::interop::{self, Store};
use common::{go_library, skip, PgServer};

#[test]
fn go_and_native_share_tls_postgres_across_rotation() {
    let Some(lib_path) = go_library("go_interop_pg_tls") else {
        return;
    };
    let pg = match PgServer::start_tls() {
        Ok(pg) => pg,
        Err(why) => return skip("go_interop_pg_tls", &why),
    };
    assert!(pg.url.contains("sslmode=verify-full"), "{}", pg.url);
    let count_rows = |id: &str| {
        pg.sql(&format!(
            "SELECT COUNT(*) FROM encryption_key WHERE id = '{id}'"
        ))
        .parse::<usize>()
        .unwrap()
    };
    let store = Store {
        go_metastore: interop::go_rdbms("postgres", &pg.url),
        native: MetastoreConfig::from_connection_string(&pg.url).unwrap(),
        native_ca_file: None,
        count_rows: &count_rows,
    };
    let go = GoAsherah::open(&lib_path).expect("dlopen libasherah");
    let records = interop::across_rotation(&go, &store, |_| {});
    eprintln!(
        "go_interop_pg_tls: {records} records cross-decrypted by Go and native over TLS PostgreSQL"
    );
}
