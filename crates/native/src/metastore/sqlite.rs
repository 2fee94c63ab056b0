//! SQLite metastore (`sqlite://<path>`), through `rusqlite` with SQLite compiled in
//! (`bundled`: no system library, one known version). Go's schema; `created` is stored as
//! SQLite's UTC text timestamp `YYYY-MM-DD HH:MM:SS` (`datetime(?, 'unixepoch')`), the same
//! encoding the Rust Asherah core (PyPI `asherah` 0.5) uses, so both read one file.
//! Several processes may share a file: writers wait on SQLite's lock (busy timeout), and a
//! duplicate `(id, created)` insert is reported as "not stored" so the caller loads the winner.
//! The configured metastore timeout bounds both waits: for the file lock (SQLite's busy
//! timeout) and for this process's connection mutex.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use super::{Metastore, CREATE_TABLE};
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;

const LOAD: &str =
    "SELECT key_record FROM encryption_key WHERE id = ?1 AND created = datetime(?2, 'unixepoch')";
const LOAD_LATEST: &str =
    "SELECT key_record FROM encryption_key WHERE id = ?1 ORDER BY created DESC LIMIT 1";
const STORE: &str = "INSERT INTO encryption_key (id, created, key_record) VALUES (?1, datetime(?2, 'unixepoch'), ?3)";

/// The busy timeout of [`SqliteMetastore::open`] (the default of `Config::metastore_timeout`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A metastore in one SQLite file. One connection, serialised by a mutex: SQLite allows a
/// single writer anyway, and key loads are rare once the caches are warm.
#[derive(Debug)]
pub struct SqliteMetastore {
    conn: Mutex<Connection>,
    timeout: Duration,
}

impl SqliteMetastore {
    /// Opens (creating if needed) the file and the `encryption_key` table; waits for
    /// SQLite's lock and for the connection are bounded by 10 seconds.
    pub fn open(path: &str) -> Result<Self, Error> {
        Self::open_with_timeout(path, DEFAULT_TIMEOUT)
    }

    /// Like [`SqliteMetastore::open`], with `timeout` bounding each wait: for the file lock
    /// held by another connection or process, and for this store's connection mutex.
    pub fn open_with_timeout(path: &str, timeout: Duration) -> Result<Self, Error> {
        if timeout.is_zero() {
            return Err(Error::config("metastore timeout must be > 0"));
        }
        // The path is configuration, not shown (error messages quote no input); SQLite's
        // own message for this names it, so only the error code is shown.
        let conn = Connection::open(path).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(code, _) => {
                Error::metastore(format!("sqlite: cannot open the database file: {code}"))
            }
            _ => Error::metastore("sqlite: cannot open the database file"),
        })?;
        conn.busy_timeout(timeout)?;
        conn.execute_batch(CREATE_TABLE)?;
        Ok(SqliteMetastore {
            conn: Mutex::new(conn),
            timeout,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, Error> {
        let start = Instant::now();
        self.conn.try_lock_for(self.timeout).ok_or_else(|| {
            Error::metastore(format!(
                "sqlite: connection busy: gave up after {} ms waiting for another call's \
                 statement",
                start.elapsed().as_millis()
            ))
        })
    }

    fn query_one(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let conn = self.lock()?;
        let json: Option<String> = conn
            .prepare_cached(sql)?
            .query_row(params, |row| row.get(0))
            .optional()?;
        json.map(|j| EnvelopeKeyRecord::from_json(&j)).transpose()
    }
}

impl Metastore for SqliteMetastore {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.query_one(LOAD, params![id, created])
    }

    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.query_one(LOAD_LATEST, params![id])
    }

    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        let conn = self.lock()?;
        let result = conn
            .prepare_cached(STORE)?
            .execute(params![id, created, record.to_json()]);
        match result {
            Ok(_) => Ok(true),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_errors_do_not_quote_the_path() {
        let e = SqliteMetastore::open("/nonexistent-hunter2/dir/k.db").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Metastore);
        assert!(!e.message().contains("hunter2"), "{e}");
    }

    #[test]
    fn store_load_latest_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let ms = SqliteMetastore::open(dir.path().join("k.db").to_str().unwrap()).unwrap();
        let rec = |c| EnvelopeKeyRecord {
            revoked: false,
            created: c,
            encrypted_key: vec![c as u8],
            parent_key_meta: None,
        };
        assert!(ms.store("a", 120, &rec(120)).unwrap());
        assert!(ms.store("a", 60, &rec(60)).unwrap());
        assert!(!ms.store("a", 60, &rec(60)).unwrap());
        assert_eq!(ms.load("a", 60).unwrap(), Some(rec(60)));
        assert_eq!(ms.load("a", 61).unwrap(), None);
        assert_eq!(ms.load_latest("a").unwrap(), Some(rec(120)));
        assert_eq!(ms.load_latest("b").unwrap(), None);
        let text: String = ms
            .conn
            .lock()
            .query_row(
                "SELECT created FROM encryption_key WHERE created = datetime(120, 'unixepoch')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(text, "1970-01-01 00:02:00");
    }
}
