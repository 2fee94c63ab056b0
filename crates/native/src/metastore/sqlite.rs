//! SQLite metastore (`sqlite://<path>`), through `rusqlite` with SQLite compiled in
//! (`bundled`: no system library, one known version). Go's schema; `created` is stored as
//! SQLite's UTC text timestamp `YYYY-MM-DD HH:MM:SS` (`datetime(?, 'unixepoch')`), the same
//! encoding the Rust Asherah core (PyPI `asherah` 0.5) uses, so both read one file.
//! Several processes may share a file: writers wait on SQLite's lock (busy timeout), and a
//! duplicate `(id, created)` insert is reported as "not stored" so the caller loads the winner.
#![forbid(unsafe_code)]

use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use super::{Metastore, CREATE_TABLE};
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;

const LOAD: &str =
    "SELECT key_record FROM encryption_key WHERE id = ?1 AND created = datetime(?2, 'unixepoch')";
const LOAD_LATEST: &str =
    "SELECT key_record FROM encryption_key WHERE id = ?1 ORDER BY created DESC LIMIT 1";
const STORE: &str = "INSERT INTO encryption_key (id, created, key_record) VALUES (?1, datetime(?2, 'unixepoch'), ?3)";

/// A metastore in one SQLite file. One connection, serialised by a mutex: SQLite allows a
/// single writer anyway, and key loads are rare once the caches are warm.
#[derive(Debug)]
pub struct SqliteMetastore {
    conn: Mutex<Connection>,
}

impl SqliteMetastore {
    /// Opens (creating if needed) the file and the `encryption_key` table.
    pub fn open(path: &str) -> Result<Self, Error> {
        let conn = Connection::open(path)
            .map_err(|e| Error::metastore(format!("sqlite: cannot open {path:?}: {e}")))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(CREATE_TABLE)?;
        Ok(SqliteMetastore {
            conn: Mutex::new(conn),
        })
    }

    fn query_one(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let conn = self.conn.lock();
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
        let conn = self.conn.lock();
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
