//! Metastores: where encrypted key records live, keyed by `(id, created)`. The contract is
//! Go's `Metastore` interface: `load` one exact version, `load_latest` (highest `created`),
//! and `store`, which inserts only if `(id, created)` is new and returns `Ok(false)` when the
//! row already exists; that is how concurrent creators of the same key (threads, processes,
//! or Go and native side by side) agree on one winner. SQL stores use Go's schema:
//! `encryption_key(id, created, key_record)` with `created` a UTC timestamp and `key_record`
//! the EnvelopeKeyRecord JSON. DynamoDB uses Go's item layout (see `dynamodb.rs`).
#![forbid(unsafe_code)]

mod dynamodb;
mod memory;
mod mysql;
pub mod mysql_dsn;
mod postgres;
mod postgres_ssl;
mod sqlite;
mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

pub use self::dynamodb::DynamoDbMetastore;
pub use self::memory::MemoryMetastore;
pub use self::mysql::MysqlMetastore;
pub use self::postgres::PostgresMetastore;
pub use self::sqlite::SqliteMetastore;
use crate::config::{Config, MetastoreConfig};
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;

/// Storage for key records. Implementations must be safe to call from many threads, and
/// should bound each call in time (the SQL stores take `Config::metastore_timeout`): the
/// core holds a per-key load lock across these calls, and waiters give up after that
/// timeout too.
pub trait Metastore: Send + Sync + 'static {
    /// The record with exactly this id and created timestamp, if any.
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error>;
    /// The record with this id and the highest created timestamp, if any.
    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error>;
    /// Inserts the record; `Ok(false)` if `(id, created)` already exists.
    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error>;
    /// A region that key ids end in (`_SK_<service>_<product>_<region>`), as Go's suffixed
    /// partitions do for DynamoDB with `EnableRegionSuffix`; `None` for no suffix.
    fn region_suffix(&self) -> Option<&str> {
        None
    }
}

/// Opens the metastore a config names; `metastore_timeout` bounds each of its operations.
pub fn open(config: &Config) -> Result<Arc<dyn Metastore>, Error> {
    let timeout = config.metastore_timeout;
    let ca_file = config.metastore_ca_file.as_deref();
    if ca_file.is_some()
        && matches!(
            config.metastore,
            MetastoreConfig::Memory | MetastoreConfig::Sqlite { .. } | MetastoreConfig::DynamoDb(_)
        )
    {
        return Err(Error::config(
            "a metastore CA file applies to MySQL and PostgreSQL only",
        ));
    }
    Ok(match &config.metastore {
        MetastoreConfig::Memory => Arc::new(MemoryMetastore::new()),
        MetastoreConfig::Sqlite { path } => {
            Arc::new(SqliteMetastore::open_with_timeout(path, timeout)?)
        }
        MetastoreConfig::Postgres { url } => {
            Arc::new(PostgresMetastore::connect_with(url, timeout, ca_file)?)
        }
        MetastoreConfig::Mysql { dsn } => Arc::new(MysqlMetastore::connect(dsn, timeout, ca_file)?),
        MetastoreConfig::DynamoDb(config) => Arc::new(DynamoDbMetastore::open(config, timeout)?),
    })
}

/// The table the SQLite and PostgreSQL metastores create if it is missing (Go's
/// documented schema; MySQL's, with its engine and index, is in `mysql.rs`).
pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS encryption_key (
    id VARCHAR(255) NOT NULL,
    created TIMESTAMP NOT NULL,
    key_record TEXT NOT NULL,
    PRIMARY KEY (id, created)
)";

/// Runs `work` on a store's private current-thread `runtime` until it finishes, or until
/// `deadline` passes (`None`): the one way the SQL stores wait on the network. The timer is
/// made inside the runtime, since tokio's `Sleep` binds to the current one.
pub(crate) fn block_within<T>(
    runtime: &tokio::runtime::Runtime,
    deadline: Instant,
    work: impl Future<Output = T>,
) -> Option<T> {
    runtime.block_on(async {
        tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), work)
            .await
            .ok()
    })
}
