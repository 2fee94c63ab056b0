//! PostgreSQL metastore, the one Go's libasherah also speaks (`SQLMetastoreDBType:
//! "postgres"`). We use the synchronous `postgres` crate on purpose: the core is called on
//! the shim's own worker threads, each call is a blocking unit of work, and a sync client
//! keeps any async runtime out of the shim's API (the crate drives tokio-postgres on a
//! private runtime internally). Go's schema with `created TIMESTAMP` holding UTC wall time:
//! we bind `SystemTime`, which the driver sends as a UTC timestamp; Go's lib/pq sends local
//! time, which is UTC on servers (and in our tests). TLS is not built in: URLs must use
//! `sslmode=disable` or `prefer` (the default, which then falls back to plain TCP).
#![forbid(unsafe_code)]

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use postgres::error::SqlState;
use postgres::{Client, NoTls};

use super::{Metastore, CREATE_TABLE};
use crate::config::redact_password;
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;

const LOAD: &str = "SELECT key_record FROM encryption_key WHERE id = $1 AND created = $2";
const LOAD_LATEST: &str =
    "SELECT key_record FROM encryption_key WHERE id = $1 ORDER BY created DESC LIMIT 1";
const STORE: &str = "INSERT INTO encryption_key (id, created, key_record) VALUES ($1, $2, $3)";

/// A metastore in PostgreSQL: one connection behind a mutex, re-opened if it drops.
pub struct PostgresMetastore {
    config: postgres::Config,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresMetastore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresMetastore").finish_non_exhaustive()
    }
}

impl PostgresMetastore {
    /// Connects and creates the `encryption_key` table if it is missing.
    pub fn connect(url: &str) -> Result<Self, Error> {
        let mut config = postgres::Config::from_str(url).map_err(|e| {
            Error::config(format!(
                "invalid PostgreSQL connection string {:?}: {e}",
                redact_password(url)
            ))
        })?;
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(Error::config(
                "PostgreSQL sslmode=require is not supported by the native core (no TLS built in)",
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let store = PostgresMetastore {
            config,
            client: Mutex::new(None),
        };
        store.with_client(|c| c.batch_execute(CREATE_TABLE))?;
        Ok(store)
    }

    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, Error> {
        let mut guard = self.client.lock();
        if !matches!(guard.as_ref(), Some(c) if !c.is_closed()) {
            *guard = Some(self.config.connect(NoTls)?);
        }
        let client = guard.as_mut().expect("connected above");
        f(client).map_err(Error::from)
    }

    fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let row = self.with_client(|c| c.query_opt(sql, params))?;
        row.map(|r| EnvelopeKeyRecord::from_json(&r.get::<_, String>(0)))
            .transpose()
    }
}

fn timestamp(created: i64) -> SystemTime {
    if created >= 0 {
        UNIX_EPOCH + Duration::from_secs(created as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(created.unsigned_abs())
    }
}

impl Metastore for PostgresMetastore {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.query_one(LOAD, &[&id, &timestamp(created)])
    }

    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.query_one(LOAD_LATEST, &[&id])
    }

    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        let json = record.to_json();
        let mut duplicate = false;
        self.with_client(
            |c| match c.execute(STORE, &[&id, &timestamp(created), &json]) {
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    duplicate = true;
                    Ok(0)
                }
                other => other,
            },
        )?;
        Ok(!duplicate)
    }
}
