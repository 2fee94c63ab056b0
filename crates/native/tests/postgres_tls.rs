//! The PostgreSQL metastore over TLS, on a throw-away server that rejects plain TCP and
//! wants a password (`scripts/pg.sh start --tls`, skipped with a notice when PostgreSQL is
//! not installed): libpq's sslmode semantics (verify-full, verify-ca, require, disable),
//! the root given as `sslrootcert` or as the config's CA file, a wrong root refused, a
//! wrong password refused without being quoted, and recovery after a server restart.

mod common;

use std::time::{Duration, Instant};

use asherah_native::{Asherah, Config, ErrorKind, MetastoreConfig, PostgresMetastore};
use common::{skip, PgServer};

const TIMEOUT: Duration = Duration::from_secs(5);

fn asherah(url: &str, ca_file: Option<&std::path::Path>) -> Asherah {
    let mut c = Config::new("svc", "prod");
    c.metastore = MetastoreConfig::from_connection_string(url).unwrap();
    c.metastore_ca_file = ca_file.map(Into::into);
    c.metastore_timeout = TIMEOUT;
    Asherah::new(c).unwrap()
}

#[test]
fn postgres_over_tls() {
    let pg = match PgServer::start_tls() {
        Ok(pg) => pg,
        Err(why) => return skip("postgres_over_tls", &why),
    };
    let ca = pg.dir().join("tls/ca.pem");
    let other_ca = pg.dir().join("tls/other-ca.pem");
    let password = std::fs::read_to_string(pg.dir().join("password")).unwrap();
    let password = password.trim();
    // pg.sh's URL: sslmode=verify-full&sslrootcert=<ca>.
    let base = pg.url.split('?').next().unwrap().to_owned();
    let with = |query: &str| format!("{base}?{query}");

    let full = asherah(&pg.url, None);
    let record = full.encrypt("p", b"over tls").unwrap();
    assert_eq!(full.decrypt("p", record.as_bytes()).unwrap(), b"over tls");
    // The same server by name: the certificate names localhost too.
    let by_name = with(&format!("sslmode=verify-full&sslrootcert={}", ca.display()))
        .replace("127.0.0.1", "localhost");
    assert_eq!(
        asherah(&by_name, None)
            .decrypt("p", record.as_bytes())
            .unwrap(),
        b"over tls"
    );
    // The root as the config's CA file instead of sslrootcert; verify-ca; require (no
    // root: encrypted, unchecked); and the key=value form.
    for (url, ca_file) in [
        (with("sslmode=verify-full"), Some(ca.as_path())),
        (with("sslmode=verify-ca"), Some(ca.as_path())),
        (with("sslmode=require"), None),
    ] {
        let a = asherah(&url, ca_file);
        assert_eq!(
            a.decrypt("p", record.as_bytes()).unwrap(),
            b"over tls",
            "{url}"
        );
    }
    let port = base.rsplit(':').next().unwrap().split('/').next().unwrap();
    let dsn = format!(
        "host=127.0.0.1 port={port} user=postgres password='{password}' dbname=asherah sslmode=verify-full sslrootcert='{}'",
        ca.display()
    );
    assert_eq!(
        asherah(&dsn, None).decrypt("p", record.as_bytes()).unwrap(),
        b"over tls"
    );

    let fails = |url: String, ca_file: Option<&std::path::Path>| {
        let e = PostgresMetastore::connect_with(&url, TIMEOUT, ca_file).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Metastore, "{e}");
        assert!(!e.message().contains(password), "{e}");
        e.message().to_owned()
    };
    // A wrong root (in the URL or as the CA file), and Mozilla's roots: refused.
    let m = fails(
        with(&format!(
            "sslmode=verify-full&sslrootcert={}",
            other_ca.display()
        )),
        None,
    );
    assert!(m.contains("UnknownIssuer"), "{m}");
    assert!(fails(with("sslmode=verify-ca"), Some(&other_ca)).contains("UnknownIssuer"));
    assert!(fails(with("sslmode=verify-full"), None).contains("UnknownIssuer"));
    // require with a root checks the chain, as libpq does.
    assert!(fails(with("sslmode=require"), Some(&other_ca)).contains("UnknownIssuer"));
    // Plain TCP is rejected by the server (hostnossl reject).
    let m = fails(with("sslmode=disable"), None);
    assert!(m.contains("no encryption"), "{m}");
    // A wrong password: refused, and neither password is quoted.
    let wrong = pg.url.replace(password, "wrong-secret-123");
    let m = fails(wrong, None);
    assert!(m.contains("password authentication failed"), "{m}");
    assert!(!m.contains("wrong-secret-123"), "{m}");

    // Down, then back: typed errors within the timeout, then the same instance recovers,
    // and the record written before the restart is read by a cold instance.
    let cold = asherah(&pg.url, None);
    pg.stop();
    let start = Instant::now();
    let e = cold.decrypt("p", record.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Metastore, "{e}");
    assert!(start.elapsed() < TIMEOUT * 3, "{:?}", start.elapsed());
    pg.resume();
    assert_eq!(cold.decrypt("p", record.as_bytes()).unwrap(), b"over tls");
    let q = full.encrypt("q", b"after").unwrap(); // its kept connection died: replaced
    assert_eq!(cold.decrypt("q", q.as_bytes()).unwrap(), b"after");
}
