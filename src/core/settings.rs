//! The Asherah settings both cores take, as types: which metastore, which KMS, which SQL
//! database, the key lifetimes and the session cache. They belong to the core layer because
//! the cores consume them; `api::config` only turns the JS configuration object into a
//! [`Settings`] (parse, don't validate), so no string is matched twice. A value that is not
//! one of the spellings below is refused when the configuration is parsed, with the key, the
//! accepted spellings and the value it got (settings hold no secrets; connection strings are
//! never quoted).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// `Metastore`: where key records live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetastoreKind {
    /// `"memory"`: in this process only.
    Memory,
    /// `"test-debug-memory"`: libasherah's alias of `"memory"`.
    TestDebugMemory,
    /// `"rdbms"`: a SQL database, chosen by `SQLMetastoreDBType` and `ConnectionString`.
    Rdbms,
    /// `"sqlite"` (native core only): as `"rdbms"` with a `sqlite://` connection string.
    Sqlite,
    /// `"postgres"` (native core only): as `"rdbms"` with a PostgreSQL connection string.
    Postgres,
    /// `"dynamodb"`: Go's DynamoDB table layout.
    DynamoDb,
}

impl MetastoreKind {
    const ALL: [MetastoreKind; 6] = [
        MetastoreKind::Memory,
        MetastoreKind::TestDebugMemory,
        MetastoreKind::Rdbms,
        MetastoreKind::Sqlite,
        MetastoreKind::Postgres,
        MetastoreKind::DynamoDb,
    ];

    /// The configuration spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MetastoreKind::Memory => "memory",
            MetastoreKind::TestDebugMemory => "test-debug-memory",
            MetastoreKind::Rdbms => "rdbms",
            MetastoreKind::Sqlite => "sqlite",
            MetastoreKind::Postgres => "postgres",
            MetastoreKind::DynamoDb => "dynamodb",
        }
    }

    /// Parses a `Metastore` value.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        one_of("Metastore", s, &Self::ALL, |k| k.as_str())
    }

    /// Whether libasherah knows this spelling (it panics on others, see `api::config`).
    pub(crate) fn go_supports(self) -> bool {
        !matches!(self, MetastoreKind::Sqlite | MetastoreKind::Postgres)
    }
}

impl fmt::Display for MetastoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `KMS`: what wraps the system keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KmsKind {
    /// `"static"`: a fixed master key (Go's test key unless `StaticMasterKeyHex`).
    Static,
    /// `"test-debug-static"`: libasherah's alias of `"static"`.
    TestDebugStatic,
    /// `"aws"`: AWS KMS with `RegionMap` and `PreferredRegion`.
    Aws,
}

impl KmsKind {
    const ALL: [KmsKind; 3] = [KmsKind::Static, KmsKind::TestDebugStatic, KmsKind::Aws];

    /// The configuration spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KmsKind::Static => "static",
            KmsKind::TestDebugStatic => "test-debug-static",
            KmsKind::Aws => "aws",
        }
    }

    /// Parses a `KMS` value.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        one_of("KMS", s, &Self::ALL, |k| k.as_str())
    }
}

/// `SQLMetastoreDBType`: which SQL database an `rdbms` metastore is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlDbType {
    /// `"mysql"`: MySQL or MariaDB, with Go's DSN.
    Mysql,
    /// `"postgres"`: PostgreSQL.
    Postgres,
    /// `"sqlite"` (native core only).
    Sqlite,
}

impl SqlDbType {
    const ALL: [SqlDbType; 3] = [SqlDbType::Mysql, SqlDbType::Postgres, SqlDbType::Sqlite];

    /// The configuration spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SqlDbType::Mysql => "mysql",
            SqlDbType::Postgres => "postgres",
            SqlDbType::Sqlite => "sqlite",
        }
    }

    /// Parses a `SQLMetastoreDBType` value; `""` means not set (libasherah's default).
    pub(crate) fn parse(s: &str) -> Result<Option<Self>, String> {
        if s.is_empty() {
            return Ok(None);
        }
        one_of("SQLMetastoreDBType", s, &Self::ALL, |k| k.as_str()).map(Some)
    }
}

/// The spelling in `all` that `s` is, or an error naming `key` and every accepted spelling.
fn one_of<T: Copy>(
    key: &str,
    s: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, String> {
    all.iter().copied().find(|k| name(*k) == s).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|k| format!("\"{}\"", name(*k))).collect();
        format!("{key} must be one of {}, not {s:?}", names.join(", "))
    })
}

/// The Asherah settings proper, shared by both cores. `None` means "not set": each core
/// applies its own (Go's) default.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `ServiceName`: part of every key id.
    pub service_name: String,
    /// `ProductID`: part of every key id.
    pub product_id: String,
    /// `Metastore`.
    pub metastore: MetastoreKind,
    /// `ConnectionString` of an SQL metastore (may hold a password: never logged).
    pub connection_string: Option<String>,
    /// `SQLMetastoreDBType`.
    pub sql_db_type: Option<SqlDbType>,
    /// `KMS`.
    pub kms: KmsKind,
    /// `ExpireAfter`: when keys are rotated.
    pub expire_after: Option<Duration>,
    /// `CheckInterval`: how long a cached key is trusted.
    pub check_interval: Option<Duration>,
    /// `EnableSessionCaching`.
    pub session_caching: Option<bool>,
    /// `SessionCacheMaxSize`.
    pub session_cache_max_size: Option<usize>,
    /// `SessionCacheDuration`.
    pub session_cache_duration: Option<Duration>,
    /// Native core only: a 32-byte static master key as 64 hex digits (default: Go's test key).
    pub static_master_key_hex: Option<String>,
    /// Native core only: PEM CA certificates trusted for a MySQL or PostgreSQL metastore's
    /// TLS (`SQLMetastoreCAFile`).
    pub sql_ca_file: Option<PathBuf>,
    /// `RegionMap` (KMS aws): region to key ARN.
    pub region_map: Vec<(String, String)>,
    /// `PreferredRegion` (KMS aws): the region tried first.
    pub preferred_region: Option<String>,
    /// `DynamoDBEndpoint`: overrides the standard endpoint resolution.
    pub dynamodb_endpoint: Option<String>,
    /// `DynamoDBRegion`.
    pub dynamodb_region: Option<String>,
    /// `DynamoDBTableName`.
    pub dynamodb_table_name: Option<String>,
    /// `EnableRegionSuffix`: key ids end in the DynamoDB region.
    pub enable_region_suffix: Option<bool>,
    /// `AwsProfileName`: the shared-config profile for AWS credentials.
    pub aws_profile_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses_back_to_itself() {
        for k in MetastoreKind::ALL {
            assert_eq!(MetastoreKind::parse(k.as_str()), Ok(k));
        }
        for k in KmsKind::ALL {
            assert_eq!(KmsKind::parse(k.as_str()), Ok(k));
        }
        for k in SqlDbType::ALL {
            assert_eq!(SqlDbType::parse(k.as_str()), Ok(Some(k)));
        }
        assert_eq!(SqlDbType::parse(""), Ok(None));
    }

    #[test]
    fn other_spellings_are_refused_with_the_accepted_ones() {
        let e = MetastoreKind::parse("Memory").unwrap_err();
        assert!(e.contains("\"memory\"") && e.contains("\"Memory\""), "{e}");
        assert!(KmsKind::parse("kms")
            .unwrap_err()
            .starts_with("KMS must be one of"));
        assert!(SqlDbType::parse("mssql").is_err());
        assert!(!MetastoreKind::Sqlite.go_supports() && MetastoreKind::Rdbms.go_supports());
    }
}
