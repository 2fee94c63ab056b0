//! Configuration: typed values built at the edge ("parse, don't validate"). Defaults follow
//! Go's appencryption/libasherah: keys expire after 90 days, revocation re-check every 60
//! minutes, session cache on with 1000 partitions for 2 hours, static KMS key
//! `thisIsAStaticMasterKeyForTesting`. Durations are [`Duration`]s; the JS layer converts
//! asherah-node's units (Go `time.Duration` nanoseconds) before building a [`Config`].
//! `Debug` is safe to log: the master key and the PostgreSQL and MySQL connection strings
//! (which may hold a password, in forms no simple redaction catches: `password = x`, `?password=x`,
//! `user:p@ss@host`) are not shown. Errors name the field and the problem, never the value.
#![forbid(unsafe_code)]

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::Error;
use crate::observe::ObserverSlot;

/// The bytes libasherah uses for `KMS: "static"` / `"test-debug-static"`.
pub const GO_STATIC_MASTER_KEY: &[u8; 32] = b"thisIsAStaticMasterKeyForTesting";

/// Everything [`crate::Asherah::new`] needs. Build with [`Config::new`], then set fields.
#[derive(Clone, Debug)]
pub struct Config {
    /// Service name: part of every key id (`_SK_<service>_<product>`).
    pub service_name: String,
    /// Product id: part of every key id.
    pub product_id: String,
    /// IKs and SKs older than this are rotated on the next encrypt (default 90 days).
    pub expire_after: Duration,
    /// How long a cached key is trusted before the metastore is asked again for revocation
    /// or a newer key (default 60 minutes). Second granularity.
    pub check_interval: Duration,
    /// Where key records live (default: memory).
    pub metastore: MetastoreConfig,
    /// How system keys are wrapped (default: static KMS with Go's test key).
    pub kms: KmsConfig,
    /// Cache intermediate keys per partition across calls (Go: `EnableSessionCaching`,
    /// default true). Off: every call loads its IK from the metastore, as Go does.
    pub session_cache: bool,
    /// Most partitions kept in the session cache (default 1000).
    pub session_cache_max_size: usize,
    /// A partition's cached keys are dropped this long after they were loaded (default 2 h).
    pub session_cache_duration: Duration,
    /// The most one metastore operation (a load or a store) may take, waiting for the
    /// connection and (re)connecting included; past it the call fails with
    /// `ErrorKind::Metastore` and a stalled connection is dropped, so the next call
    /// reconnects (default 10 s). Calls that wait for another call's load of the same key
    /// give up after this long too. Also SQLite's busy timeout. Must be > 0.
    pub metastore_timeout: Duration,
    /// PEM certificates trusted for the TLS of a MySQL or PostgreSQL metastore, in place
    /// of Mozilla's roots (PostgreSQL: as `sslrootcert`; MySQL: needs `tls=true`).
    pub metastore_ca_file: Option<PathBuf>,
    /// Time source; [`Clock::System`] except in tests.
    pub clock: Clock,
    /// Who hears about cache lookups, metastore timings and key events (default: nobody).
    pub observer: ObserverSlot,
}

impl Config {
    /// A config with Go's defaults, the memory metastore and the static KMS default key.
    pub fn new(service_name: impl Into<String>, product_id: impl Into<String>) -> Self {
        Config {
            service_name: service_name.into(),
            product_id: product_id.into(),
            expire_after: Duration::from_secs(90 * 24 * 3600),
            check_interval: Duration::from_secs(60 * 60),
            metastore: MetastoreConfig::Memory,
            kms: KmsConfig::Static { master_key: None },
            session_cache: true,
            session_cache_max_size: 1000,
            session_cache_duration: Duration::from_secs(2 * 3600),
            metastore_timeout: Duration::from_secs(10),
            metastore_ca_file: None,
            clock: Clock::System,
            observer: ObserverSlot::default(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.service_name.is_empty() || self.product_id.is_empty() {
            return Err(Error::config(
                "service_name and product_id must be non-empty",
            ));
        }
        if self.expire_after.is_zero() {
            return Err(Error::config("expire_after must be > 0"));
        }
        if self.metastore_timeout.is_zero() {
            return Err(Error::config("metastore_timeout must be > 0"));
        }
        if self.session_cache && self.session_cache_max_size == 0 {
            return Err(Error::config(
                "session_cache_max_size must be > 0 when the session cache is on",
            ));
        }
        Ok(())
    }
}

/// Where key records live.
#[derive(Clone, PartialEq, Eq)]
pub enum MetastoreConfig {
    /// In-process only; keys die with the process (Go: `Metastore: "memory"`).
    Memory,
    /// A SQLite file with Go's `encryption_key` table (created if missing).
    Sqlite {
        /// The database file (`sqlite://` stripped).
        path: String,
    },
    /// PostgreSQL, URL (`postgres://user@host:port/db?sslmode=disable`) or key=value DSN.
    Postgres {
        /// The URL or key=value DSN, as given (may hold a password).
        url: String,
    },
    /// MySQL or MariaDB, with Go's DSN (`user:pass@tcp(host:port)/db?tls=true`), checked
    /// when the store connects.
    Mysql {
        /// Go's DSN, as given (may hold a password).
        dsn: String,
    },
    /// DynamoDB with Go's table layout (`Id` S hash, `Created` N range, `KeyRecord` map).
    DynamoDb(DynamoDbConfig),
}

/// Go's DynamoDB metastore settings (`Metastore: "dynamodb"`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DynamoDbConfig {
    /// `DynamoDBEndpoint`: overrides the standard endpoint resolution (which already
    /// honours `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// `DynamoDBRegion`; unset: the standard region chain (`AWS_REGION`, the profile).
    pub region: Option<String>,
    /// `DynamoDBTableName`; unset or empty: Go's `EncryptionKey`.
    pub table_name: Option<String>,
    /// `EnableRegionSuffix`: key ids end in `_<region>` (the DynamoDB client's region), as
    /// Go's suffixed partitions do for global tables.
    pub region_suffix: bool,
    /// `AwsProfileName`: the shared-config profile the credentials chain reads.
    pub profile: Option<String>,
}

impl MetastoreConfig {
    /// Parses a `ConnectionString`: `sqlite://<path>` (`sqlite:///abs/path` or
    /// `sqlite://relative.db`), `postgres://...` / `postgresql://...` (lib/pq URL form), a
    /// key=value PostgreSQL DSN (`host=... dbname=...`), or `memory`.
    pub fn from_connection_string(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(Error::config("sqlite:// connection string has no path"));
            }
            return Ok(MetastoreConfig::Sqlite {
                path: path.to_owned(),
            });
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(MetastoreConfig::Postgres { url: s.to_owned() });
        }
        if s.eq_ignore_ascii_case("memory") {
            return Ok(MetastoreConfig::Memory);
        }
        let looks_like_dsn = s.split_whitespace().any(|kv| {
            matches!(
                kv.split_once('=').map(|(k, _)| k),
                Some("host" | "dbname" | "user" | "port" | "sslmode")
            )
        });
        if looks_like_dsn {
            return Ok(MetastoreConfig::Postgres { url: s.to_owned() });
        }
        Err(Error::config(
            "unsupported connection string: expected sqlite://<path>, postgres://..., or a key=value PostgreSQL DSN \
             (a MySQL DSN needs SQLMetastoreDBType \"mysql\")",
        ))
    }
}

impl fmt::Debug for MetastoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetastoreConfig::Memory => f.write_str("Memory"),
            MetastoreConfig::Sqlite { path } => {
                f.debug_struct("Sqlite").field("path", path).finish()
            }
            MetastoreConfig::Postgres { .. } => f
                .debug_struct("Postgres")
                .field("url", &format_args!("<not shown: may hold a password>"))
                .finish(),
            MetastoreConfig::Mysql { .. } => f
                .debug_struct("Mysql")
                .field("dsn", &format_args!("<not shown: may hold a password>"))
                .finish(),
            MetastoreConfig::DynamoDb(d) => f.debug_tuple("DynamoDb").field(d).finish(),
        }
    }
}

/// Where the master key that wraps system keys comes from.
#[derive(Clone, Debug)]
pub enum KmsConfig {
    /// A static 32-byte master key; `None` means Go's testing key ([`GO_STATIC_MASTER_KEY`]),
    /// so records interoperate with libasherah's `KMS: "static"`.
    Static {
        /// The key; `None` for Go's testing key.
        master_key: Option<MasterKey>,
    },
    /// AWS KMS with Go's multi-region envelope: one key ARN per region.
    Aws(AwsKmsConfig),
}

/// Go's AWS KMS settings (`KMS: "aws"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsKmsConfig {
    /// `RegionMap`: region to key ARN; at least one entry.
    pub region_map: Vec<(String, String)>,
    /// `PreferredRegion`: tried first for GenerateDataKey and Decrypt. Required when the
    /// map has more than one region (as in Go); with one region it defaults to that one.
    pub preferred_region: Option<String>,
    /// `AwsProfileName`: the shared-config profile the credentials chain reads.
    pub profile: Option<String>,
}

impl AwsKmsConfig {
    /// The regions with their ARNs, the preferred one first, then the others by name (Go
    /// puts the rest in map order, which is random; any order reads the same envelopes).
    pub(crate) fn ordered_regions(&self) -> Result<Vec<(String, String)>, Error> {
        if self.region_map.is_empty() {
            return Err(Error::config(
                "RegionMap must name at least one region for KMS aws",
            ));
        }
        if self
            .region_map
            .iter()
            .any(|(r, a)| r.trim().is_empty() || a.trim().is_empty())
        {
            return Err(Error::config("RegionMap has an empty region or ARN"));
        }
        let preferred = match (&self.preferred_region, self.region_map.as_slice()) {
            (Some(p), _) if !p.is_empty() => p.clone(),
            (_, [(only, _)]) => only.clone(),
            _ => {
                return Err(Error::config(
                    "PreferredRegion must be set when RegionMap has more than one region",
                ))
            }
        };
        let mut rest: Vec<(String, String)> = self
            .region_map
            .iter()
            .filter(|(r, _)| *r != preferred)
            .cloned()
            .collect();
        rest.sort();
        rest.dedup_by(|a, b| a.0 == b.0);
        let first = self
            .region_map
            .iter()
            .find(|(r, _)| *r == preferred)
            .cloned()
            .ok_or_else(|| Error::config("PreferredRegion is not a region of RegionMap"))?;
        let mut out = vec![first];
        out.extend(rest);
        Ok(out)
    }
}

/// 32 key bytes, zeroized on drop, never printed.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    /// Takes exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::config(format!("master key must be 32 bytes, got {}", bytes.len()))
        })?;
        Ok(MasterKey(Zeroizing::new(array)))
    }

    /// Parses 64 hex digits (the `StaticMasterKeyHex` form).
    pub fn from_hex(hex: &str) -> Result<Self, Error> {
        let hex = hex.trim().as_bytes();
        if hex.len() != 64 {
            return Err(Error::config("master key hex must be 64 hex digits"));
        }
        let mut out = Zeroizing::new([0u8; 32]);
        for (i, pair) in hex.chunks(2).enumerate() {
            let digit = |c: u8| {
                (c as char)
                    .to_digit(16)
                    .ok_or_else(|| Error::config("master key hex has a non-hex digit"))
            };
            out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Ok(MasterKey(out))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// The time source for key timestamps, expiry and cache freshness (unix seconds).
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A settable clock for tests: the value is the current unix time in seconds.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The current unix time in seconds.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => crate::clock::unix_seconds(),
            Clock::Manual(t) => t.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings() {
        assert_eq!(
            MetastoreConfig::from_connection_string("sqlite:///tmp/a.db").unwrap(),
            MetastoreConfig::Sqlite {
                path: "/tmp/a.db".into()
            }
        );
        assert_eq!(
            MetastoreConfig::from_connection_string("sqlite://rel.db").unwrap(),
            MetastoreConfig::Sqlite {
                path: "rel.db".into()
            }
        );
        let url = "postgres://u:pw@127.0.0.1:5432/asherah?sslmode=disable";
        let pg = MetastoreConfig::from_connection_string(url).unwrap();
        assert_eq!(pg, MetastoreConfig::Postgres { url: url.into() });
        assert!(!format!("{pg:?}").contains("pw"));
        assert!(matches!(
            MetastoreConfig::from_connection_string("host=127.0.0.1 user=u password=pw dbname=a")
                .unwrap(),
            MetastoreConfig::Postgres { .. }
        ));
        for dsn in [
            "host=h password=pw",
            "host=h password = pw",
            "postgres://u@h/db?password=pw",
            "postgres://u:p@pw@h/db",
        ] {
            let c = MetastoreConfig::from_connection_string(dsn).unwrap();
            assert!(!format!("{c:?}").contains("pw"), "{c:?}");
        }
        let e = MetastoreConfig::from_connection_string("user:pass@tcp(localhost:3306)/db")
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(!e.to_string().contains("pass@"));
    }

    #[test]
    fn config_errors_quote_no_input() {
        let hex_secret = "0123456789abcdef".repeat(4);
        for input in [
            format!("{hex_secret}00"),
            hex_secret.replace('0', "z"),
            "secret-hunter2".into(),
            "é".repeat(32),
            "hunter2".repeat(1 << 17),
        ] {
            let e = MasterKey::from_hex(&input).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            assert!(!e.message().contains("89abcdef") && !e.message().contains("hunter2"));
        }
        for input in [
            "mysql://root:hunter2@tcp(db)/x".to_owned(),
            "sqlite://".to_owned(),
            "hunter2".repeat(1 << 17),
        ] {
            let e = MetastoreConfig::from_connection_string(&input).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config);
            assert!(e.message().len() <= crate::error::MAX_MESSAGE_LEN);
            assert!(!e.message().contains("hunter2") && !e.message().contains("root"));
        }
    }

    #[test]
    fn aws_regions_preferred_first_then_by_name() {
        let map = |pairs: &[(&str, &str)]| AwsKmsConfig {
            region_map: pairs
                .iter()
                .map(|(r, a)| (r.to_string(), a.to_string()))
                .collect(),
            preferred_region: None,
            profile: None,
        };
        let mut c = map(&[
            ("us-west-2", "a1"),
            ("eu-west-1", "a2"),
            ("us-east-1", "a3"),
        ]);
        assert_eq!(
            c.ordered_regions().unwrap_err().kind(),
            crate::ErrorKind::Config
        );
        c.preferred_region = Some("us-east-1".into());
        let order: Vec<_> = c
            .ordered_regions()
            .unwrap()
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(order, ["us-east-1", "eu-west-1", "us-west-2"]);
        c.preferred_region = Some("ap-south-1".into());
        assert!(
            c.ordered_regions().is_err(),
            "preferred region not in the map"
        );
        let one = map(&[("us-west-2", "a1")]);
        assert_eq!(
            one.ordered_regions().unwrap(),
            [("us-west-2".into(), "a1".into())]
        );
        assert!(map(&[]).ordered_regions().is_err());
        assert!(map(&[("us-west-2", " ")]).ordered_regions().is_err());
    }

    #[test]
    fn master_key_parsing_and_debug() {
        let k = MasterKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(k.bytes(), &[0xab; 32]);
        assert_eq!(format!("{k:?}"), "MasterKey(<redacted>)");
        assert!(MasterKey::from_slice(&[1; 31]).is_err());
        let mut c = Config::new("s", "p");
        c.kms = KmsConfig::Static {
            master_key: Some(MasterKey::from_slice(GO_STATIC_MASTER_KEY).unwrap()),
        };
        assert!(!format!("{c:?}").contains("thisIs"));
    }
}
