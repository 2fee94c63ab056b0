//! MySQL / MariaDB metastore, the one Go's libasherah uses by default (`SQLMetastoreDBType:
//! "mysql"`), reached with Go's DSN (`user:pass@tcp(host:port)/db?tls=true`, parsed by
//! [`super::mysql_dsn`]). Go's queries (with `?` placeholders) and Go's documented table,
//! `created TIMESTAMP` holding UTC wall time, as go-sql-driver sends `time.Time` by default
//! (`loc=UTC`); like Go we leave the session time zone alone, so both read the same rows.
//!
//! TLS follows the DSN's `tls` parameter: `true` checks the chain and the host name,
//! `skip-verify` encrypts without checking the certificate, `false` (the default) is plain.
//! A CA file (the config's `metastore_ca_file`) replaces Mozilla's roots and needs
//! `tls=true`. `tls=preferred` (TLS only if the server offers it) is refused: mysql_async
//! cannot fall back, and silently plain would be worse. Parameters that only shape Go's
//! decoding (`parseTime`, `interpolateParams`, timeouts, ...) are ignored; our deadline
//! bounds every operation. Other parameters become `SET name=value` on each new
//! connection, as the Go driver sends them.
//!
//! Every operation has one budget, the configured timeout, covering waiting for the
//! connection, (re)connecting and the statement, exactly as in [`super::postgres`]: the
//! async `mysql_async` client runs on a private current-thread runtime, only inside these
//! calls, on the caller's thread; a deadline that passes drops the connection (the next
//! call connects afresh), and a kept connection found dead is replaced and the statement
//! retried once within the same budget.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts, Value};
use parking_lot::Mutex;
use tokio::runtime::Runtime;

use super::mysql_dsn::{self, Endpoint, MysqlDsn};
use super::{block_within, tls, Metastore};
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;

const LOAD: &str = "SELECT key_record FROM encryption_key WHERE id = ? AND created = ?";
const LOAD_LATEST: &str =
    "SELECT key_record FROM encryption_key WHERE id = ? ORDER BY created DESC LIMIT 1";
const STORE: &str = "INSERT INTO encryption_key (id, created, key_record) VALUES (?, ?, ?)";
/// Go's documented MySQL table (asherah docs/Metastore.md), created if missing.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS encryption_key (
    id VARCHAR(255) NOT NULL,
    created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    key_record TEXT NOT NULL,
    PRIMARY KEY (id, created),
    INDEX (created)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4";

/// MySQL's "duplicate entry" error (ER_DUP_ENTRY).
const ER_DUP_ENTRY: u16 = 1062;

/// DSN parameters that only change how Go's driver decodes or times things; our client
/// needs none of them (our deadline bounds each operation).
const IGNORED_PARAMS: [&str; 17] = [
    "allowAllFiles",
    "allowFallbackToPlaintext",
    "allowNativePasswords",
    "allowOldPasswords",
    "charset",
    "checkConnLiveness",
    "clientFoundRows",
    "collation",
    "columnsWithAlias",
    "interpolateParams",
    "maxAllowedPacket",
    "multiStatements",
    "parseTime",
    "readTimeout",
    "rejectReadOnly",
    "timeout",
    "writeTimeout",
];

/// A metastore in MySQL or MariaDB: one connection behind a mutex, re-opened when it drops
/// or a deadline passes. Every call finishes or fails within the configured timeout.
pub struct MysqlMetastore {
    opts: OptsBuilder,
    timeout: Duration,
    runtime: Runtime,
    live: Mutex<Option<Conn>>,
}

impl std::fmt::Debug for MysqlMetastore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlMetastore")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// One of the statements this store runs.
enum Statement<'a> {
    CreateTable,
    Load(&'a str, Value),
    LoadLatest(&'a str),
    Store(&'a str, Value, &'a str),
}

/// What a statement returned.
enum Outcome {
    Done,
    Row(Option<String>),
    Stored(bool),
}

impl MysqlMetastore {
    /// Connects (Go's DSN), creates the `encryption_key` table if it is missing; `timeout`
    /// bounds each operation, this one included; `ca_file` holds the PEM roots trusted
    /// with `tls=true`.
    pub fn connect(dsn: &str, timeout: Duration, ca_file: Option<&Path>) -> Result<Self, Error> {
        if timeout.is_zero() {
            return Err(Error::config("metastore timeout must be > 0"));
        }
        let dsn = mysql_dsn::parse(dsn).map_err(Error::config)?;
        let opts = options(&dsn, ca_file)?;
        tls::ensure_default_provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::metastore(format!("cannot start the MySQL I/O runtime: {e}")))?;
        let store = MysqlMetastore {
            opts,
            timeout,
            runtime,
            live: Mutex::new(None),
        };
        store.run(Statement::CreateTable)?;
        Ok(store)
    }

    /// Runs one statement within `self.timeout`, connecting first if needed.
    fn run(&self, statement: Statement<'_>) -> Result<Outcome, Error> {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let ms = || start.elapsed().as_millis();
        let mut live = self.live.try_lock_until(deadline).ok_or_else(|| {
            Error::metastore(format!(
                "MySQL connection busy: gave up after {} ms waiting for another call's statement",
                ms()
            ))
        })?;
        // A kept connection may have died since its last use (a server restart, the
        // server's wait_timeout); then the statement is retried once on a new one. Loads
        // are reads, and a store that did land is reported by the retry as a duplicate.
        let mut retry = live.is_some();
        loop {
            if live.is_none() {
                match block_within(&self.runtime, deadline, Conn::new(self.opts.clone())) {
                    Some(Ok(conn)) => *live = Some(conn),
                    Some(Err(e)) => return Err(error("MySQL connect", e)),
                    None => {
                        return Err(Error::metastore(format!(
                            "MySQL connect timed out after {} ms (the next call retries)",
                            ms()
                        )))
                    }
                }
            }
            let conn = live.as_mut().expect("connected above");
            let error = match block_within(&self.runtime, deadline, execute(conn, &statement)) {
                Some(Ok(outcome)) => return Ok(outcome),
                // A server-side error (say, a missing table) leaves the session usable.
                Some(Err(e @ mysql_async::Error::Server(_))) => return Err(error("MySQL", e)),
                Some(Err(e)) => error("MySQL connection lost", e),
                None => {
                    *live = None;
                    return Err(Error::metastore(format!(
                        "MySQL query timed out after {} ms (the connection was dropped; the \
                         next call reconnects)",
                        ms()
                    )));
                }
            };
            *live = None;
            if !std::mem::take(&mut retry) {
                return Err(error);
            }
        }
    }

    fn load_one(&self, statement: Statement<'_>) -> Result<Option<EnvelopeKeyRecord>, Error> {
        match self.run(statement)? {
            Outcome::Row(json) => json.map(|j| EnvelopeKeyRecord::from_json(&j)).transpose(),
            _ => Err(Error::internal("MySQL load returned no row set")),
        }
    }
}

impl Drop for MysqlMetastore {
    fn drop(&mut self) {
        // Close the connection politely (COM_QUIT) if that is quick; otherwise just drop it.
        if let Some(conn) = self.live.get_mut().take() {
            let deadline = Instant::now() + self.timeout.min(Duration::from_millis(200));
            let _ = block_within(&self.runtime, deadline, conn.disconnect());
        }
    }
}

async fn execute(
    conn: &mut Conn,
    statement: &Statement<'_>,
) -> Result<Outcome, mysql_async::Error> {
    match statement {
        Statement::CreateTable => conn.query_drop(CREATE_TABLE).await.map(|()| Outcome::Done),
        Statement::Load(id, created) => {
            let row: Option<String> = conn.exec_first(LOAD, (*id, created.clone())).await?;
            Ok(Outcome::Row(row))
        }
        Statement::LoadLatest(id) => {
            let row: Option<String> = conn.exec_first(LOAD_LATEST, (*id,)).await?;
            Ok(Outcome::Row(row))
        }
        Statement::Store(id, created, json) => {
            match conn.exec_drop(STORE, (*id, created.clone(), *json)).await {
                Ok(()) => Ok(Outcome::Stored(true)),
                Err(mysql_async::Error::Server(e)) if e.code == ER_DUP_ENTRY => {
                    Ok(Outcome::Stored(false))
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// The client options for a parsed DSN.
fn options(dsn: &MysqlDsn, ca_file: Option<&Path>) -> Result<OptsBuilder, Error> {
    let mut opts = OptsBuilder::default()
        .user(Some(dsn.user.clone()).filter(|u| !u.is_empty()))
        .pass(dsn.password.clone())
        .db_name(Some(dsn.db.clone()).filter(|d| !d.is_empty()))
        // Do not look up @@socket and reconnect through it: connect where the DSN says.
        .prefer_socket(false)
        .stmt_cache_size(8);
    opts = match dsn.endpoint().map_err(Error::config)? {
        Endpoint::Tcp { host, port } => opts.ip_or_hostname(host).tcp_port(port),
        Endpoint::Unix { path } => opts.socket(Some(path)),
    };
    let mut setup = Vec::new();
    for (key, value) in &dsn.params {
        match key.as_str() {
            "tls" => {}
            "loc" if value == "UTC" => {}
            "loc" => {
                return Err(Error::config(
                    "the native core writes key timestamps in UTC, as Go does by default; \
                     the MySQL DSN parameter loc must be UTC or absent",
                ))
            }
            "allowCleartextPasswords" => {
                opts = opts.enable_cleartext_plugin(matches!(
                    value.as_str(),
                    "1" | "true" | "TRUE" | "True"
                ));
            }
            k if IGNORED_PARAMS.contains(&k) => {}
            k => setup.push(format!("SET {k}={value}")),
        }
    }
    opts = opts.setup(setup);
    let ssl = match dsn.param("tls") {
        None | Some("false" | "FALSE" | "False" | "0") => None,
        Some("true" | "TRUE" | "True" | "1") => Some(SslOpts::default()),
        Some(v) if v.eq_ignore_ascii_case("skip-verify") => {
            if ca_file.is_some() {
                return Err(Error::config(
                    "a metastore CA file needs tls=true in the MySQL DSN, not tls=skip-verify \
                     (which checks no certificate)",
                ));
            }
            Some(SslOpts::default().with_danger_accept_invalid_certs(true))
        }
        Some(_) => {
            return Err(Error::config(
                "the native core supports the MySQL DSN parameter tls=true, skip-verify or \
                 false (not preferred, which may fall back to plain TCP)",
            ))
        }
    };
    let ssl = match (ssl, ca_file) {
        (None, Some(_)) => {
            return Err(Error::config(
                "a metastore CA file needs tls=true in the MySQL DSN",
            ))
        }
        (Some(ssl), Some(path)) => {
            // Each certificate, DER-encoded (mysql_async takes PEM or DER buffers).
            let roots = tls::read_ca_file(path)?
                .into_iter()
                .map(|der| der.to_vec().into())
                .collect();
            Some(ssl.with_root_certs(roots).with_disable_built_in_roots(true))
        }
        (ssl, None) => ssl,
    };
    Ok(opts.ssl_opts(ssl))
}

/// A metastore error from a client error; server errors carry their code and SQLSTATE
/// (their messages name users and hosts, never passwords).
fn error(what: &str, e: mysql_async::Error) -> Error {
    Error::metastore(format!("{what}: {e}"))
}

/// `created` (unix seconds) as a DATETIME value in UTC, if it is in years 1 to 9999.
fn datetime(created: i64) -> Option<Value> {
    const RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;
    if !RANGE.contains(&created) {
        return None;
    }
    let (days, secs) = (created.div_euclid(86_400), created.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    Some(Value::Date(
        y as u16,
        m,
        d,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        0,
    ))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl Metastore for MysqlMetastore {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        match datetime(created) {
            Some(created) => self.load_one(Statement::Load(id, created)),
            None => Ok(None),
        }
    }

    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.load_one(Statement::LoadLatest(id))
    }

    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        let created = datetime(created)
            .ok_or_else(|| Error::metastore("key created timestamp outside years 1 to 9999"))?;
        let json = record.to_json();
        match self.run(Statement::Store(id, created, &json))? {
            Outcome::Stored(stored) => Ok(stored),
            _ => Err(Error::internal("MySQL insert returned no result")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_utc_civil_time() {
        assert_eq!(datetime(0), Some(Value::Date(1970, 1, 1, 0, 0, 0, 0)));
        assert_eq!(
            datetime(1_800_000_000),
            Some(Value::Date(2027, 1, 15, 8, 0, 0, 0))
        );
        assert_eq!(
            datetime(951_782_400),
            Some(Value::Date(2000, 2, 29, 0, 0, 0, 0))
        );
        assert_eq!(datetime(-1), Some(Value::Date(1969, 12, 31, 23, 59, 59, 0)));
        assert_eq!(
            datetime(253_402_300_799),
            Some(Value::Date(9999, 12, 31, 23, 59, 59, 0))
        );
        assert_eq!(
            datetime(-62_135_596_800),
            Some(Value::Date(1, 1, 1, 0, 0, 0, 0))
        );
        assert!(datetime(i64::MIN).is_none() && datetime(i64::MAX).is_none());
    }

    #[test]
    fn dsn_options_refused_with_reasons_that_hide_the_password() {
        let timeout = Duration::from_millis(200);
        for dsn in [
            "u:hunter2@tcp(127.0.0.1:1)/db?tls=preferred",
            "u:hunter2@tcp(127.0.0.1:1)/db?loc=Local",
            "u:hunter2@tcp(127.0.0.1:1)x/db",
            "u:hunter2@tcp6x(127.0.0.1:1)/db",
        ] {
            let e = MysqlMetastore::connect(dsn, timeout, None).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{dsn}: {e}");
            assert!(!e.message().contains("hunter2"), "{e}");
        }
        let ca = Path::new("/nonexistent/ca.pem");
        for dsn in ["u:p@tcp(h:1)/db", "u:p@tcp(h:1)/db?tls=skip-verify"] {
            let e = MysqlMetastore::connect(dsn, timeout, Some(ca)).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{dsn}: {e}");
        }
        let e = MysqlMetastore::connect("u:p@tcp(h:1)/db?tls=true", timeout, Some(ca)).unwrap_err();
        assert!(e.message().contains("cannot read the CA file"), "{e}");
    }
}
