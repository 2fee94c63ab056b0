//! PostgreSQL metastore, the one Go's libasherah also speaks (`SQLMetastoreDBType:
//! "postgres"`). Go's schema, with `created TIMESTAMP` holding UTC wall time: we bind
//! `SystemTime`, which the driver sends as a UTC timestamp; Go's lib/pq sends local time,
//! which is UTC on servers (and in our tests). TLS follows libpq's `sslmode` (see
//! [`super::postgres_ssl`]), on rustls ([`super::tls`]); `sslrootcert` or the configured
//! CA file names the trusted roots.
//!
//! Every operation has a deadline. A stalled server (SIGSTOP, a hung host behind a live
//! kernel) keeps ACKing TCP, so neither TCP_USER_TIMEOUT nor keepalives ever fire and a
//! blocking read waits forever. Each [`Metastore`] call therefore gets one budget, the
//! configured timeout, which covers waiting for the connection, (re)connecting and the
//! statement. We use the async `tokio-postgres` client on a private current-thread runtime
//! that runs only inside these calls, on the caller's thread (no background threads): the
//! statement and the connection's I/O are polled together under `tokio::time::timeout_at`.
//! When the deadline passes, the connection is dropped (its socket closed: the server is in
//! an unknown state, mid-statement), and the next call connects afresh; nothing else needs
//! to happen for the store to recover once the server answers again. A kept connection
//! found dead (say, after a server restart) costs no call: the statement is retried once on
//! a new connection, within the same budget.
#![forbid(unsafe_code)]

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::str::FromStr;
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use std::path::Path;
use tokio::runtime::Runtime;

use tokio_postgres::error::SqlState;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Connection, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{block_within, postgres_ssl, tls, Metastore, CREATE_TABLE};
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;

const LOAD: &str = "SELECT key_record FROM encryption_key WHERE id = $1 AND created = $2";
const LOAD_LATEST: &str =
    "SELECT key_record FROM encryption_key WHERE id = $1 ORDER BY created DESC LIMIT 1";
const STORE: &str = "INSERT INTO encryption_key (id, created, key_record) VALUES ($1, $2, $3)";

/// The budget of [`PostgresMetastore::connect`] (the default of `Config::metastore_timeout`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A metastore in PostgreSQL: one connection behind a mutex, re-opened when it drops or a
/// deadline passes. Every call finishes or fails within the configured timeout.
pub struct PostgresMetastore {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    timeout: Duration,
    runtime: Runtime,
    live: Mutex<Option<Live>>,
}

/// A connection's stream: TCP or a Unix socket, with TLS or not (as `sslmode` decided).
type Stream = <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;

/// An open connection: the client and the I/O half that must be polled for it to progress.
struct Live {
    client: Client,
    connection: Connection<Socket, Stream>,
}

/// One of the statements this store runs.
enum Statement<'a> {
    CreateTable,
    Load(&'a str, SystemTime),
    LoadLatest(&'a str),
    Store(&'a str, SystemTime, &'a str),
}

/// What a statement returned.
enum Outcome {
    Done,
    Row(Option<String>),
    Stored(bool),
}

/// Why a statement failed, short of its deadline.
enum Failure {
    /// The statement failed; `tokio_postgres` says whether the connection is still usable.
    Statement(tokio_postgres::Error),
    /// The connection's I/O ended (with an error, or closed) before the statement finished.
    Connection(Option<tokio_postgres::Error>),
}

impl std::fmt::Debug for PostgresMetastore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresMetastore")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresMetastore {
    /// Connects and creates the `encryption_key` table if it is missing; each operation
    /// (this one included) is bounded by 10 seconds.
    pub fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with_timeout(url, DEFAULT_TIMEOUT)
    }

    /// Like [`PostgresMetastore::connect`], with `timeout` as the budget of each operation:
    /// waiting for the connection, connecting and the statement, together.
    pub fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, Error> {
        Self::connect_with(url, timeout, None)
    }

    /// Like [`PostgresMetastore::connect_with_timeout`], trusting the PEM certificates of
    /// `ca_file` for TLS (as `sslrootcert` in `url` would; `url`'s wins if both are given).
    pub fn connect_with(
        url: &str,
        timeout: Duration,
        ca_file: Option<&Path>,
    ) -> Result<Self, Error> {
        if timeout.is_zero() {
            return Err(Error::config("metastore timeout must be > 0"));
        }
        let (url, ssl) = postgres_ssl::split(url, ca_file.is_some())?;
        // The driver's parse errors can quote parts of the string (an option name, a
        // character), and the string may hold a password: name the problem only.
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|_| {
            Error::config(
                "invalid PostgreSQL connection string (not shown: it may hold a password)",
            )
        })?;
        config.ssl_mode(ssl.mode);
        let roots = ssl.root_cert.as_deref().map(Path::new).or(ca_file);
        let tls = MakeRustlsConnect::new(tls::client_config(ssl.verify, roots)?);
        // The driver's own TCP connect timeout, per address tried; ours bounds the whole.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| {
                Error::metastore(format!("cannot start the PostgreSQL I/O runtime: {e}"))
            })?;
        let store = PostgresMetastore {
            config,
            tls,
            timeout,
            runtime,
            live: Mutex::new(None),
        };
        store.run(&Statement::CreateTable)?;
        Ok(store)
    }

    /// Runs one statement within `self.timeout`, connecting first if needed.
    fn run(&self, statement: &Statement<'_>) -> Result<Outcome, Error> {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let ms = || start.elapsed().as_millis();
        let mut live = self.live.try_lock_until(deadline).ok_or_else(|| {
            Error::metastore(format!(
                "PostgreSQL connection busy: gave up after {} ms waiting for another call's \
                 statement",
                ms()
            ))
        })?;
        if live.as_ref().is_some_and(|l| l.client.is_closed()) {
            *live = None;
        }
        // A kept connection may have died since its last use (a server restart, an idle
        // timeout) without our noticing; then the statement is retried once on a new one.
        // That is safe: loads are reads, and a store that did land is reported by the retry
        // as a duplicate, after which the caller loads the winner.
        let mut retry = live.is_some();
        loop {
            if live.is_none() {
                let connect = self.config.connect(self.tls.clone());
                let (client, connection) = match block_within(&self.runtime, deadline, connect) {
                    Some(Ok(pair)) => pair,
                    Some(Err(e)) => return Err(Error::from(e).context("PostgreSQL connect")),
                    None => {
                        return Err(Error::metastore(format!(
                            "PostgreSQL connect timed out after {} ms (the next call retries)",
                            ms()
                        )))
                    }
                };
                *live = Some(Live { client, connection });
            }
            let Live { client, connection } = live.as_mut().expect("connected above");
            let work = drive(connection, execute(client, statement));
            let error = match block_within(&self.runtime, deadline, work) {
                Some(Ok(outcome)) => return Ok(outcome),
                // A server-side error (say, a constraint) leaves the session usable.
                Some(Err(Failure::Statement(e))) if e.as_db_error().is_some() => {
                    return Err(Error::from(e))
                }
                Some(Err(Failure::Statement(e))) => Error::from(e),
                Some(Err(Failure::Connection(Some(e)))) => {
                    Error::from(e).context("PostgreSQL connection lost")
                }
                Some(Err(Failure::Connection(None))) => {
                    Error::metastore("PostgreSQL connection closed by the server")
                }
                None => {
                    *live = None;
                    return Err(Error::metastore(format!(
                        "PostgreSQL query timed out after {} ms (the connection was dropped; \
                         the next call reconnects)",
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
        match self.run(&statement)? {
            Outcome::Row(json) => json.map(|j| EnvelopeKeyRecord::from_json(&j)).transpose(),
            _ => Err(Error::internal("PostgreSQL load returned no row set")),
        }
    }
}

/// Polls `work` and the connection's I/O together until `work` finishes or the connection
/// ends; this is what makes the statement progress on our current-thread runtime.
async fn drive<T>(
    connection: &mut Connection<Socket, Stream>,
    work: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, Failure> {
    let mut work = pin!(work);
    let mut connection_done = false;
    poll_fn(|cx| {
        if let Poll::Ready(result) = work.as_mut().poll(cx) {
            return Poll::Ready(result.map_err(Failure::Statement));
        }
        if !connection_done {
            if let Poll::Ready(result) = Pin::new(&mut *connection).poll(cx) {
                connection_done = true;
                return Poll::Ready(Err(Failure::Connection(result.err())));
            }
        }
        Poll::Pending
    })
    .await
}

async fn execute(
    client: &Client,
    statement: &Statement<'_>,
) -> Result<Outcome, tokio_postgres::Error> {
    match *statement {
        Statement::CreateTable => client
            .batch_execute(CREATE_TABLE)
            .await
            .map(|()| Outcome::Done),
        Statement::Load(id, created) => {
            let row = client.query_opt(LOAD, &[&id, &created]).await?;
            Ok(Outcome::Row(row.map(|r| r.get(0))))
        }
        Statement::LoadLatest(id) => {
            let row = client.query_opt(LOAD_LATEST, &[&id]).await?;
            Ok(Outcome::Row(row.map(|r| r.get(0))))
        }
        Statement::Store(id, created, json) => {
            match client.execute(STORE, &[&id, &created, &json]).await {
                Ok(_) => Ok(Outcome::Stored(true)),
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    Ok(Outcome::Stored(false))
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// The first and last second of years 1 to 9999 (what Go's time formats), well inside
/// PostgreSQL's TIMESTAMP range and the driver's microsecond arithmetic, which would
/// overflow for the extreme values a hostile record's `Created` can name.
const CREATED_RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// `created` as a `SystemTime`, if it is in [`CREATED_RANGE`] (no key outside it exists).
fn timestamp(created: i64) -> Option<SystemTime> {
    if !CREATED_RANGE.contains(&created) {
        return None;
    }
    Some(if created >= 0 {
        UNIX_EPOCH + Duration::from_secs(created.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(created.unsigned_abs())
    })
}

impl Metastore for PostgresMetastore {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        match timestamp(created) {
            Some(created) => self.load_one(Statement::Load(id, created)),
            None => Ok(None),
        }
    }

    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.load_one(Statement::LoadLatest(id))
    }

    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        let created = timestamp(created)
            .ok_or_else(|| Error::metastore("key created timestamp outside years 1 to 9999"))?;
        let json = record.to_json();
        match self.run(&Statement::Store(id, created, &json))? {
            Outcome::Stored(stored) => Ok(stored),
            _ => Err(Error::internal("PostgreSQL insert returned no row count")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_connection_strings_are_not_quoted() {
        for url in [
            "postgres://u:hunter2@127.0.0.1:notaport/db",
            "postgres://u:hunter2@127.0.0.1/db?hunter2=1",
            "host=127.0.0.1 password=hunter2 bogus=hunter2",
            "host=127.0.0.1 password='hunter2",
        ] {
            let e = PostgresMetastore::connect_with_timeout(url, Duration::from_millis(100))
                .unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{e}");
            assert!(!e.message().contains("hunter2"), "{e}");
        }
        let e = PostgresMetastore::connect_with_timeout("host=127.0.0.1", Duration::ZERO);
        assert_eq!(e.unwrap_err().kind(), crate::ErrorKind::Config);
    }

    #[test]
    fn created_outside_years_1_to_9999_is_never_sent() {
        assert!(timestamp(i64::MIN).is_none() && timestamp(i64::MAX).is_none());
        assert!(timestamp(-62_135_596_801).is_none() && timestamp(253_402_300_800).is_none());
        assert_eq!(timestamp(60), Some(UNIX_EPOCH + Duration::from_secs(60)));
        assert_eq!(timestamp(-60), Some(UNIX_EPOCH - Duration::from_secs(60)));
    }
}
