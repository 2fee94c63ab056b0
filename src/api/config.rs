//! Parsing asherah-node's `AsherahConfig` (plus this shim's own keys) into typed settings.
//!
//! The JS object arrives as JSON (`JSON.stringify` in the caller's realm) and is parsed once,
//! here, into [`ShimConfig`]; nothing below this module sees untyped configuration. Keys are
//! asherah-node's PascalCase names, or asherah 4.x's camelCase ones, which
//! [`super::config_keys`] maps to PascalCase first (refusing mixed styles and unknown keys);
//! `null` means "not set". Durations (`ExpireAfter`,
//! `CheckInterval`, `SessionCacheDuration`) are Go `time.Duration` values in nanoseconds, as
//! asherah-node passed them straight to Go, or strings with a unit (`"90d"`, `"2h"`, `"1500ms"`).
//! A bare number below one second's worth of nanoseconds is rejected as ambiguous: it is almost
//! certainly seconds or milliseconds meant for another unit.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use super::config_keys;
use crate::core::settings::{KmsKind, MetastoreKind, Settings, SqlDbType};
use crate::core::CoreKind;
use crate::host::{Affinity, PoolConfig};

/// Default deadline for one call into a core. Long enough for a cold Go runtime start plus a
/// first metastore round trip; see README "Lifecycle, deadlines and overload".
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default largest plaintext accepted by `encrypt` (and record by `decrypt`).
pub(crate) const DEFAULT_MAX_INPUT: usize = 256 << 20;
/// Hard ceiling: what a Cobhan buffer can carry after base64 and the JSON envelope.
pub(crate) const MAX_INPUT_CEILING: usize = 1536 << 20;

/// Everything `setup` was told, typed.
#[derive(Debug, Clone)]
pub(crate) struct ShimConfig {
    pub core: CoreKind,
    pub go_library: Option<PathBuf>,
    pub timeout: Duration,
    pub pool: PoolConfig,
    pub max_input: usize,
    pub verbose: bool,
    pub asherah: Settings,
    /// The configuration as libasherah's `Options` JSON (Go core only).
    pub go_json: String,
}

const OUR_KEYS: [&str; 12] = [
    "Core",
    // asherah-node's own (not Go's): the shim's output buffers always carry canaries.
    "EnableCanaries",
    "SQLMetastoreCAFile",
    "MaxQueuedCalls",
    "GoLibrary",
    "TimeoutMs",
    "CoreThreads",
    "CoreStackSize",
    "CoreAffinity",
    "CoreIdleSpinMicros",
    "MaxInputBytes",
    "Verbose",
];
/// Longest idle spin a config may ask of a core-host thread: past a millisecond a spin
/// is a busy thread, not a hand-off.
const MAX_IDLE_SPIN_MICROS: u64 = 1000;
const DURATION_KEYS: [&str; 3] = ["ExpireAfter", "CheckInterval", "SessionCacheDuration"];

/// Parses the JSON text of the config object. `default_core` applies when `Core` is absent;
/// `env_go_library` is `ASHERAH_GO_LIBRARY` from the real process environment.
pub(crate) fn parse(
    json: &str,
    default_core: CoreKind,
    env_go_library: Option<String>,
) -> Result<ShimConfig, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| {
        let m = e.to_string();
        // JSON.stringify writes a lone surrogate as a \u escape, which serde refuses in
        // these words; say what it means.
        if m.contains("surrogate") || m.contains("hex escape") {
            format!(
                "a string in it holds a lone surrogate (U+D800-U+DFFF, which has no UTF-8 \
                 form) or a cut \\u escape ({e})"
            )
        } else {
            format!("not valid JSON: {e}")
        }
    })?;
    let Value::Object(obj) = root else {
        return Err("the configuration must be an object".into());
    };
    let obj: Map<String, Value> = obj.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let normalized = config_keys::normalize(obj)?;
    parse_pascal(&normalized.obj, default_core, env_go_library)
        .map_err(|e| config_keys::respell_error(&e, normalized.style))
}

/// [`parse`] once the keys are PascalCase.
fn parse_pascal(
    obj: &Map<String, Value>,
    default_core: CoreKind,
    env_go_library: Option<String>,
) -> Result<ShimConfig, String> {
    let r = Reader(obj);

    let core = match r.string("Core")?.as_deref() {
        None => default_core,
        Some("go") => CoreKind::Go,
        Some("native") => CoreKind::Native,
        Some(other) => return Err(format!("Core must be \"go\" or \"native\", not {other:?}")),
    };
    let service_name = r.required_string("ServiceName")?;
    let product_id = r.required_string("ProductID")?;
    let metastore = MetastoreKind::parse(&r.required_string("Metastore")?)?;
    let kms = match r.string("KMS")? {
        Some(s) => KmsKind::parse(&s)?,
        None if core == CoreKind::Native => KmsKind::Static,
        None => KmsKind::Aws,
    };
    let timeout_ms = r
        .integer("TimeoutMs")?
        .unwrap_or(DEFAULT_TIMEOUT.as_millis() as u64);
    if timeout_ms == 0 {
        return Err("TimeoutMs must be at least 1".into());
    }
    let mut pool = PoolConfig::default();
    if let Some(n) = r.integer("CoreThreads")? {
        if !(1..=64).contains(&n) {
            return Err(format!("CoreThreads must be between 1 and 64, not {n}"));
        }
        pool.threads = n as usize;
    }
    if let Some(n) = r.integer("CoreStackSize")? {
        if !((256 << 10)..=(1 << 30)).contains(&n) {
            return Err(format!(
                "CoreStackSize must be between 256 KiB and 1 GiB (bytes), not {n}"
            ));
        }
        pool.stack_size = n as usize;
    }
    pool.affinity = match r.string("CoreAffinity")?.as_deref() {
        None | Some("none") => Affinity::None,
        Some("follow-caller") => Affinity::FollowCaller,
        Some(other) => {
            return Err(format!(
                "CoreAffinity must be \"none\" or \"follow-caller\", not {other:?}"
            ))
        }
    };
    if let Some(n) = r.integer("CoreIdleSpinMicros")? {
        if n > MAX_IDLE_SPIN_MICROS {
            return Err(format!(
                "CoreIdleSpinMicros must be between 0 and {MAX_IDLE_SPIN_MICROS}, not {n}"
            ));
        }
        pool.idle_spin = Duration::from_micros(n);
    }
    if let Some(n) = r.integer("MaxQueuedCalls")? {
        if !(1..=(1 << 24)).contains(&n) {
            return Err(format!(
                "MaxQueuedCalls must be between 1 and 16777216, not {n}"
            ));
        }
        pool.max_queued = n as usize;
    }
    let max_input = match r.integer("MaxInputBytes")? {
        None => DEFAULT_MAX_INPUT,
        Some(n) if n as usize <= MAX_INPUT_CEILING && n > 0 => n as usize,
        Some(n) => {
            return Err(format!(
                "MaxInputBytes must be between 1 and {MAX_INPUT_CEILING}, not {n}"
            ))
        }
    };
    let go_library = r
        .string("GoLibrary")?
        .or(env_go_library.filter(|s| !s.is_empty()))
        .map(PathBuf::from);

    let asherah = Settings {
        service_name,
        product_id,
        metastore,
        connection_string: r.string("ConnectionString")?,
        sql_db_type: match r.string("SQLMetastoreDBType")? {
            Some(s) => SqlDbType::parse(&s)?,
            None => None,
        },
        kms,
        expire_after: r.duration("ExpireAfter")?,
        check_interval: r.duration("CheckInterval")?,
        session_caching: r.boolean("EnableSessionCaching")?,
        // 0 is Go's zero value, which libasherah reads as "the default" (as for durations).
        session_cache_max_size: r
            .integer("SessionCacheMaxSize")?
            .filter(|&n| n != 0)
            .map(|n| n as usize),
        session_cache_duration: r.duration("SessionCacheDuration")?,
        static_master_key_hex: r.string("StaticMasterKeyHex")?,
        region_map: match obj.get("RegionMap") {
            None => Vec::new(),
            Some(v) => match region_map(v)? {
                Value::Object(m) => m
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
                _ => Vec::new(),
            },
        },
        preferred_region: r.string("PreferredRegion")?,
        dynamodb_endpoint: r.string("DynamoDBEndpoint")?,
        dynamodb_region: r.string("DynamoDBRegion")?,
        dynamodb_table_name: r.string("DynamoDBTableName")?,
        enable_region_suffix: r.boolean("EnableRegionSuffix")?,
        aws_profile_name: r.string("AwsProfileName")?,
        sql_ca_file: r.string("SQLMetastoreCAFile")?.map(PathBuf::from),
    };
    if core == CoreKind::Go && asherah.static_master_key_hex.is_some() {
        return Err("StaticMasterKeyHex is only supported by Core \"native\": libasherah always uses its built-in test key for KMS \"static\"".into());
    }
    if core == CoreKind::Go && asherah.sql_ca_file.is_some() {
        return Err("SQLMetastoreCAFile is only supported by Core \"native\": libasherah's MySQL driver takes no CA file (for PostgreSQL put sslrootcert=<file> in the ConnectionString)".into());
    }
    r.string("ReplicaReadConsistency")?;
    for key in ["DisableZeroCopy", "NullDataCheck", "EnableCanaries"] {
        r.boolean(key)?;
    }
    let verbose = r.boolean("Verbose")?.unwrap_or(false);
    if core == CoreKind::Go {
        check_go_would_not_panic(&asherah)?;
    }
    let go_json = go_options(obj, &asherah)?;
    Ok(ShimConfig {
        core,
        go_library,
        timeout: Duration::from_millis(timeout_ms),
        pool,
        max_input,
        verbose,
        asherah,
        go_json,
    })
}

/// libasherah 0.3.9 turns some bad settings into a Go panic inside `SetupJson`, which it
/// re-raises: the whole process aborts. Reject those here, before Go ever sees them.
/// (Measured: an unknown `Metastore`, an unknown `SQLMetastoreDBType`, and any MySQL DSN
/// its driver cannot parse, see [`asherah_native::mysql_dsn`]; PostgreSQL URLs never panic,
/// their errors come back per call.)
fn check_go_would_not_panic(a: &Settings) -> Result<(), String> {
    if !a.metastore.go_supports() {
        return Err(format!(
            "Metastore must be \"memory\", \"rdbms\", \"dynamodb\" or \"test-debug-memory\" for the Go core, not \"{}\"",
            a.metastore
        ));
    }
    if a.metastore != MetastoreKind::Rdbms {
        return Ok(());
    }
    match a.sql_db_type.unwrap_or(SqlDbType::Mysql) {
        SqlDbType::Mysql => {
            asherah_native::mysql_dsn::check(a.connection_string.as_deref().unwrap_or(""))
                .map_err(|e| format!("ConnectionString: {e}"))
        }
        SqlDbType::Postgres => Ok(()),
        SqlDbType::Sqlite => Err(
            "SQLMetastoreDBType must be \"mysql\" or \"postgres\" for the Go core, not \"sqlite\""
                .into(),
        ),
    }
}

/// libasherah's `Options` JSON: Go's field names, durations in nanoseconds, our keys removed.
fn go_options(obj: &Map<String, Value>, a: &Settings) -> Result<String, String> {
    let mut out = Map::new();
    for (k, v) in obj {
        if OUR_KEYS.contains(&k.as_str()) && k != "Verbose" {
            continue;
        }
        let v = if DURATION_KEYS.contains(&k.as_str()) {
            continue; // written below from the parsed values
        } else if k == "RegionMap" {
            region_map(v)?
        } else {
            v.clone()
        };
        out.insert(k.clone(), v);
    }
    for (key, d) in [
        ("ExpireAfter", a.expire_after),
        ("CheckInterval", a.check_interval),
        ("SessionCacheDuration", a.session_cache_duration),
    ] {
        if let Some(d) = d {
            out.insert(key.into(), Value::from(d.as_nanos() as u64));
        }
    }
    Ok(Value::Object(out).to_string())
}

/// `RegionMap` as Go decodes it (an object); asherah-node also allowed "r1=arn1,r2=arn2".
fn region_map(v: &Value) -> Result<Value, String> {
    match v {
        Value::Object(m) if m.values().all(Value::is_string) => Ok(v.clone()),
        Value::String(s) => {
            let mut m = Map::new();
            for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
                let (region, arn) = pair
                    .split_once('=')
                    .filter(|(r, a)| !r.trim().is_empty() && !a.trim().is_empty())
                    .ok_or_else(|| {
                        "RegionMap must look like \"REGION1=ARN1,REGION2=ARN2\"".to_string()
                    })?;
                m.insert(region.trim().into(), Value::from(arn.trim()));
            }
            Ok(Value::Object(m))
        }
        _ => Err("RegionMap must be an object of region -> ARN strings".into()),
    }
}

struct Reader<'a>(&'a Map<String, Value>);

impl Reader<'_> {
    fn string(&self, key: &str) -> Result<Option<String>, String> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("{key} must be a string, not {}", kind(other))),
        }
    }

    fn required_string(&self, key: &str) -> Result<String, String> {
        match self.string(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(format!("{key} is required (a non-empty string)")),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!("{key} must be a boolean, not {}", kind(other))),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<u64>, String> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("{key} must be a non-negative whole number, not {n}")),
            Some(other) => Err(format!("{key} must be a number, not {}", kind(other))),
        }
    }

    fn duration(&self, key: &str) -> Result<Option<Duration>, String> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let ns = n.as_u64().ok_or_else(|| {
                    format!("{key} must be a non-negative whole number of nanoseconds, not {n}")
                })?;
                match ns {
                    0 => Ok(None), // Go's zero value: use the default
                    1..=999_999_999 => Err(format!(
                        "{key}={ns} is ambiguous: numbers are Go durations in nanoseconds, so this \
                         is under one second; pass a string with a unit instead, e.g. \"{ns}s\" or \"{ns}ms\""
                    )),
                    ns if ns > MAX_DURATION_NANOS => Err(out_of_range(key)),
                    _ => Ok(Some(Duration::from_nanos(ns))),
                }
            }
            Some(Value::String(s)) => match parse_duration(s) {
                Ok(d) if d.is_zero() => Ok(None), // "0s" is 0, Go's zero value: the default
                Ok(d) if d.as_nanos() > u128::from(MAX_DURATION_NANOS) => Err(out_of_range(key)),
                Ok(d) => Ok(Some(d)),
                Err(e) => Err(format!("{key} {e}")),
            },
            Some(other) => Err(format!(
                "{key} must be a number of nanoseconds or a string like \"90d\", not {}",
                kind(other)
            )),
        }
    }
}

/// The longest duration Go can hold (`time.Duration` is an int64 of nanoseconds, about
/// 292 years). Anything longer would reach Go as a number it cannot decode.
const MAX_DURATION_NANOS: u64 = i64::MAX as u64;

fn out_of_range(key: &str) -> String {
    format!("{key} is out of range: Go durations are at most 106751d (about 292 years)")
}

fn too_long() -> String {
    "is longer than any duration Go can hold (at most 106751d, about 292 years)".into()
}

/// Parses `"90d"`, `"2h30m"`, `"1500ms"`, `"10s"` (units: ns, us, ms, s, m, h, d). Values
/// too large for a duration are refused, never saturated. Messages do not quote the input.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || "is not a duration like \"90d\", \"2h30m\" or \"500ms\"".to_string();
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let value: f64 = num.parse().map_err(|_| bad())?;
        if !value.is_finite() {
            return Err(bad());
        }
        let nanos_per = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            _ => return Err(bad()),
        };
        let nanos = value * nanos_per;
        if nanos > MAX_DURATION_NANOS as f64 {
            return Err(too_long());
        }
        total = total
            .checked_add(Duration::from_nanos(nanos as u64))
            .filter(|t| t.as_nanos() <= u128::from(MAX_DURATION_NANOS))
            .ok_or_else(too_long)?;
        rest = next;
    }
    Ok(total)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        r#""ServiceName":"svc","ProductID":"prod","Metastore":"memory","KMS":"static""#;

    fn parse_with(extra: &str) -> Result<ShimConfig, String> {
        let sep = if extra.is_empty() { "" } else { "," };
        parse(&format!("{{{BASE}{sep}{extra}}}"), CoreKind::Go, None)
    }

    #[test]
    fn minimal_config_parses_with_defaults() {
        let c = parse_with("").unwrap();
        assert_eq!(c.core, CoreKind::Go);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.asherah.service_name, "svc");
    }

    /// Go reads a zero duration or cache size as "the default"; both cores now do, however
    /// it is written (the native core refused "0s" and a cache size of 0, the Go core took
    /// them as the default).
    #[test]
    fn zero_durations_and_cache_sizes_mean_the_default() {
        for zero in ["0", "\"0s\"", "\"0ms\"", "\"0d\""] {
            let c = parse_with(&format!(r#""ExpireAfter":{zero},"CheckInterval":{zero}"#))
                .unwrap_or_else(|e| panic!("{zero}: {e}"));
            assert_eq!(c.asherah.expire_after, None, "{zero}");
            assert_eq!(c.asherah.check_interval, None, "{zero}");
        }
        let c = parse_with(r#""EnableSessionCaching":true,"SessionCacheMaxSize":0"#).unwrap();
        assert_eq!(c.asherah.session_cache_max_size, None);
    }

    #[test]
    fn a_lone_surrogate_in_the_config_is_named() {
        let e = parse(
            &format!("{{{BASE},\"Region\":\"a\\ud800b\"}}"),
            CoreKind::Go,
            None,
        )
        .unwrap_err();
        assert!(
            e.starts_with("a string in it holds a lone surrogate"),
            "{e}"
        );
    }

    #[test]
    fn durations_are_nanoseconds_or_unit_strings() {
        let c = parse_with(
            r#""ExpireAfter":7776000000000000,"CheckInterval":"60m","SessionCacheDuration":"2h""#,
        )
        .unwrap();
        assert_eq!(
            c.asherah.expire_after,
            Some(Duration::from_secs(90 * 86400))
        );
        assert_eq!(c.asherah.check_interval, Some(Duration::from_secs(3600)));
        assert_eq!(
            c.asherah.session_cache_duration,
            Some(Duration::from_secs(7200))
        );
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert_eq!(go["CheckInterval"], Value::from(3_600_000_000_000u64));
    }

    #[test]
    fn ambiguous_small_numbers_are_rejected_with_a_hint() {
        let e = parse_with(r#""ExpireAfter":3600"#).unwrap_err();
        assert!(e.contains("ambiguous") && e.contains("\"3600s\""), "{e}");
    }

    #[test]
    fn wrong_types_and_missing_keys_name_the_key() {
        assert!(parse_with(r#""Verbose":"yes""#)
            .unwrap_err()
            .contains("Verbose must be a boolean"));
        assert!(parse(
            r#"{"ProductID":"p","Metastore":"memory"}"#,
            CoreKind::Go,
            None
        )
        .unwrap_err()
        .contains("ServiceName"));
        assert!(parse("[1]", CoreKind::Go, None)
            .unwrap_err()
            .contains("object"));
        assert!(parse_with(r#""Core":"rust""#)
            .unwrap_err()
            .contains("Core must be"));
    }

    #[test]
    fn our_keys_stay_out_of_the_go_options_and_unknown_keys_are_refused() {
        let e = parse_with(r#""Custom":1"#).unwrap_err();
        assert!(e.contains("unknown configuration key \"Custom\""), "{e}");
        let c = parse_with(r#""Core":"go","TimeoutMs":500,"GoLibrary":"/x.so""#).unwrap();
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert!(
            go.get("Core").is_none()
                && go.get("TimeoutMs").is_none()
                && go.get("GoLibrary").is_none()
        );
        assert_eq!(go["ServiceName"], "svc");
        assert_eq!(c.timeout, Duration::from_millis(500));
    }

    #[test]
    fn core_affinity_is_typed_and_stays_out_of_the_go_options() {
        assert_eq!(parse_with("").unwrap().pool.affinity, Affinity::None);
        let c = parse_with(r#""Core":"go","CoreAffinity":"follow-caller""#).unwrap();
        assert_eq!(c.pool.affinity, Affinity::FollowCaller);
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert!(go.get("CoreAffinity").is_none());
        assert_eq!(
            parse_with(r#""CoreAffinity":"none""#)
                .unwrap()
                .pool
                .affinity,
            Affinity::None
        );
        let e = parse_with(r#""CoreAffinity":"pin""#).unwrap_err();
        assert!(e.contains("CoreAffinity must be"), "{e}");
        let e = parse_with(r#""CoreAffinity":1"#).unwrap_err();
        assert!(e.contains("CoreAffinity must be a string"), "{e}");
    }

    #[test]
    fn core_idle_spin_is_bounded_and_stays_out_of_the_go_options() {
        use crate::host::queue::DEFAULT_IDLE_SPIN;
        let default = parse_with("").unwrap().pool.idle_spin;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let expected = if cpus >= 2 {
            DEFAULT_IDLE_SPIN
        } else {
            Duration::ZERO
        };
        assert_eq!(default, expected);
        let c = parse_with(r#""Core":"go","CoreIdleSpinMicros":0"#).unwrap();
        assert_eq!(c.pool.idle_spin, Duration::ZERO);
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert!(go.get("CoreIdleSpinMicros").is_none());
        let c = parse_with(r#""CoreIdleSpinMicros":1000"#).unwrap();
        assert_eq!(c.pool.idle_spin, Duration::from_micros(1000));
        let e = parse_with(r#""CoreIdleSpinMicros":1001"#).unwrap_err();
        assert!(
            e.contains("CoreIdleSpinMicros must be between 0 and 1000, not 1001"),
            "{e}"
        );
        let e = parse_with(r#""CoreIdleSpinMicros":-1"#).unwrap_err();
        assert!(e.contains("non-negative whole number"), "{e}");
        let e = parse_with(r#""CoreIdleSpinMicros":"50""#).unwrap_err();
        assert!(e.contains("must be a number"), "{e}");
    }

    #[test]
    fn every_key_this_module_reads_is_a_known_spelling() {
        // config_keys keeps the list of accepted spellings; a key added here and not there
        // would be refused as unknown before it is ever read.
        for key in OUR_KEYS.iter().chain(DURATION_KEYS.iter()) {
            let obj: Map<String, Value> =
                [(key.to_string(), Value::Bool(true))].into_iter().collect();
            assert!(
                super::super::config_keys::normalize(obj).is_ok(),
                "{key} is not a known configuration key"
            );
        }
    }

    #[test]
    fn asherah_node_3_keys_are_accepted_as_booleans_or_null() {
        let c = parse_with(r#""DisableZeroCopy":true,"EnableCanaries":false"#).unwrap();
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert!(
            go.get("EnableCanaries").is_none(),
            "asherah-node's own key stays out of Go's"
        );
        assert_eq!(
            go["DisableZeroCopy"], true,
            "libasherah's own option is passed through"
        );
        assert!(parse_with(r#""DisableZeroCopy":null,"EnableCanaries":null"#).is_ok());
        assert!(parse_with(r#""EnableCanaries":"yes""#)
            .unwrap_err()
            .contains("EnableCanaries"));
    }

    #[test]
    fn camel_case_configs_parse_and_their_errors_use_their_spelling() {
        let c = parse(
            r#"{"serviceName":"s","productId":"p","metastore":"memory","kms":"static","expireAfter":7200,"core":"go"}"#,
            CoreKind::Native,
            None,
        )
        .unwrap();
        assert_eq!(c.core, CoreKind::Go);
        assert_eq!(c.asherah.expire_after, Some(Duration::from_secs(7200)));
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert_eq!(go["ExpireAfter"], Value::from(7_200_000_000_000u64));
        let e = parse(
            r#"{"productId":"p","metastore":"memory"}"#,
            CoreKind::Go,
            None,
        )
        .unwrap_err();
        assert!(e.starts_with("serviceName is required"), "{e}");
    }

    #[test]
    fn region_map_string_becomes_an_object() {
        let c = parse_with(r#""RegionMap":"us-west-2=arn:a,us-east-1=arn:b""#).unwrap();
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert_eq!(go["RegionMap"]["us-east-1"], "arn:b");
        assert!(parse_with(r#""RegionMap":"nope""#).is_err());
    }

    #[test]
    fn configs_that_would_abort_the_go_runtime_are_rejected() {
        for bad in [
            r#""Metastore":"bogus""#,
            r#""Metastore":"rdbms","SQLMetastoreDBType":"oracle","ConnectionString":"x""#,
            r#""Metastore":"rdbms","ConnectionString":"not a dsn""#,
            r#""Metastore":"rdbms","ConnectionString":"u@tcp(host:1/db""#,
        ] {
            let cfg = format!(r#"{{"ServiceName":"s","ProductID":"p","KMS":"static",{bad}}}"#);
            assert!(parse(&cfg, CoreKind::Go, None).is_err(), "{bad}");
        }
        let ok = r#"{"ServiceName":"s","ProductID":"p","Metastore":"rdbms","ConnectionString":"u@tcp(h:1)/db"}"#;
        assert!(parse(ok, CoreKind::Go, None).is_ok());
    }

    #[test]
    fn durations_go_cannot_hold_are_refused_not_saturated() {
        for bad in [
            r#""ExpireAfter":"99999999999999999999999d""#,
            r#""ExpireAfter":"106752d""#,
            r#""CheckInterval":"1e400h""#,
            r#""SessionCacheDuration":18446744073709551615"#,
            r#""ExpireAfter":"100000d100000d100000d""#,
        ] {
            let e = parse_with(bad).unwrap_err();
            assert!(
                e.contains("292 years") || e.contains("not a duration"),
                "{bad}: {e}"
            );
        }
        let c = parse_with(r#""ExpireAfter":"106751d""#).unwrap();
        let go: Value = serde_json::from_str(&c.go_json).unwrap();
        assert!(go["ExpireAfter"].as_i64().is_some());
    }

    #[test]
    fn duration_strings() {
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_duration("2h30m").unwrap(), Duration::from_secs(9000));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
