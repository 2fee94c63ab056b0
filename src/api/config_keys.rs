//! Config key spellings: asherah-node's PascalCase keys, and asherah 4.x's camelCase keys
//! (GoDaddy's Rust `asherah` npm package) mapped onto them.
//!
//! [`normalize`] runs before any value is read. A config uses one style: a camelCase key
//! among PascalCase ones (or the reverse) is refused, naming the key and how it is spelled in
//! the style the rest of the config uses. A key that fits neither style is refused with its
//! nearest valid spelling, and the options of 4.x that this shim does not implement (Vault,
//! Secrets Manager, pool sizes, ...) are refused by name, so a typo or a missing feature is
//! never silently ignored. The camelCase durations keep 4.x's unit, **seconds**; the
//! PascalCase ones keep asherah-node's (Go nanoseconds, or a string with a unit). The result
//! is a PascalCase object, so [`super::config`] reads one spelling only.

use serde_json::{Map, Value};

/// Every accepted key: its PascalCase name, then its camelCase spellings (4.x accepts two
/// for some keys: `dynamoDbRegion` and the deprecated `dynamoDBRegion`).
const KEYS: &[(&str, &[&str])] = &[
    ("ServiceName", &["serviceName"]),
    ("ProductID", &["productId"]),
    ("Metastore", &["metastore"]),
    ("ConnectionString", &["connectionString"]),
    (
        "SQLMetastoreDBType",
        &["sqlMetastoreDbType", "sqlMetastoreDBType"],
    ),
    ("ReplicaReadConsistency", &["replicaReadConsistency"]),
    (
        "DynamoDBEndpoint",
        &["dynamoDbEndpoint", "dynamoDBEndpoint"],
    ),
    ("DynamoDBRegion", &["dynamoDbRegion", "dynamoDBRegion"]),
    (
        "DynamoDBTableName",
        &["dynamoDbTableName", "dynamoDBTableName"],
    ),
    ("EnableRegionSuffix", &["enableRegionSuffix"]),
    ("KMS", &["kms"]),
    ("RegionMap", &["regionMap"]),
    ("PreferredRegion", &["preferredRegion"]),
    ("ExpireAfter", &["expireAfter"]),
    ("CheckInterval", &["checkInterval"]),
    ("EnableSessionCaching", &["enableSessionCaching"]),
    ("SessionCacheMaxSize", &["sessionCacheMaxSize"]),
    ("SessionCacheDuration", &["sessionCacheDuration"]),
    ("Verbose", &["verbose"]),
    ("DisableZeroCopy", &["disableZeroCopy"]),
    ("NullDataCheck", &["nullDataCheck"]),
    ("EnableCanaries", &["enableCanaries"]),
    ("StaticMasterKeyHex", &["staticMasterKeyHex"]),
    // This shim's own keys.
    ("Core", &["core"]),
    ("GoLibrary", &["goLibrary"]),
    ("TimeoutMs", &["timeoutMs"]),
    ("CoreThreads", &["coreThreads"]),
    ("CoreStackSize", &["coreStackSize"]),
    ("CoreAffinity", &["coreAffinity"]),
    ("CoreIdleSpinMicros", &["coreIdleSpinMicros"]),
    ("MaxInputBytes", &["maxInputBytes"]),
    ("MaxQueuedCalls", &["maxQueuedCalls"]),
    (
        "SQLMetastoreCAFile",
        &["sqlMetastoreCaFile", "sqlMetastoreCAFile"],
    ),
];

/// 4.x options this shim does not implement, in either spelling.
const UNSUPPORTED: &[&str] = &[
    "AwsProfileName",
    "awsProfileName",
    "dynamoDbSigningRegion",
    "configDriftForceRun",
    "configDriftForceUpdate",
    "poolMaxOpen",
    "poolMaxIdle",
    "poolMaxLifetime",
    "poolMaxIdleTime",
    "kmsKeyId",
    "secretsManagerSecretId",
    "vaultAddr",
    "vaultToken",
    "vaultAuthMethod",
    "vaultAuthRole",
    "vaultAuthMount",
    "vaultApproleRoleId",
    "vaultApproleSecretId",
    "vaultClientCert",
    "vaultClientKey",
    "vaultK8sTokenPath",
    "vaultTransitKey",
    "vaultTransitMount",
];

/// 4.x's camelCase durations are whole seconds.
const CAMEL_DURATIONS: [&str; 3] = ["expireAfter", "checkInterval", "sessionCacheDuration"];

/// Which spelling a config used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Pascal,
    Camel,
}

/// The config with PascalCase keys, and the style it was written in.
#[derive(Debug)]
pub(super) struct Normalized {
    pub obj: Map<String, Value>,
    pub style: Style,
}

/// Maps a config object (nulls already removed) to PascalCase keys; see the module docs.
pub(super) fn normalize(obj: Map<String, Value>) -> Result<Normalized, String> {
    let mut first_pascal: Option<&str> = None;
    let mut first_camel: Option<(&str, &str)> = None;
    let mut unknown: Option<&str> = None;
    for key in obj.keys() {
        if let Some(p) = pascal_key(key) {
            first_pascal.get_or_insert(p);
        } else if let Some(p) = pascal_of_camel(key) {
            first_camel.get_or_insert((key.as_str(), p));
        } else if UNSUPPORTED.contains(&key.as_str()) {
            return Err(format!(
                "{key} is an asherah 4.x option that asherah-shim does not support \
                 (see docs/migration-asherah-4.md)"
            ));
        } else {
            unknown.get_or_insert(key.as_str());
        }
    }
    if let Some(key) = unknown {
        // Suggest in the style the rest of the config uses (both when it is unclear).
        let style = match (first_pascal, first_camel) {
            (None, Some(_)) => Some(Style::Camel),
            (Some(_), None) => Some(Style::Pascal),
            _ => None,
        };
        return Err(format!(
            "unknown configuration key {:?}; did you mean {:?}?",
            clip(key),
            nearest(key, style)
        ));
    }
    if let (Some(pascal), Some((camel, camel_as_pascal))) = (first_pascal, first_camel) {
        return Err(format!(
            "the configuration mixes camelCase and PascalCase keys ({camel:?} with {pascal:?}); \
             use one style: in PascalCase {camel:?} is {camel_as_pascal:?}"
        ));
    }
    if first_camel.is_none() {
        return Ok(Normalized {
            obj,
            style: Style::Pascal,
        });
    }
    let mut out = Map::new();
    for (key, value) in obj {
        let pascal = pascal_of_camel(&key).expect("classified above");
        if out.contains_key(pascal) {
            return Err(format!(
                "{key} is given twice, in two spellings; keep one (4.x's current spelling is {:?})",
                camel_spellings(pascal)[0]
            ));
        }
        let value = if CAMEL_DURATIONS.contains(&key.as_str()) {
            seconds_to_go_duration(&key, value)?
        } else {
            value
        };
        out.insert(pascal.to_owned(), value);
    }
    Ok(Normalized {
        obj: out,
        style: Style::Camel,
    })
}

/// Rewrites the PascalCase key names in a config error to the camelCase spelling the caller
/// used, so a camelCase config hears about `serviceName`, not `ServiceName`.
pub(super) fn respell_error(message: &str, style: Style) -> String {
    if style == Style::Pascal {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match pascal_key(word) {
            Some(p) => out.push_str(camel_spellings(p)[0]),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn pascal_key(key: &str) -> Option<&'static str> {
    KEYS.iter().map(|(p, _)| *p).find(|p| *p == key)
}

fn pascal_of_camel(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .find(|(_, camels)| camels.contains(&key))
        .map(|(p, _)| *p)
}

fn camel_spellings(pascal: &str) -> &'static [&'static str] {
    KEYS.iter()
        .find(|(p, _)| *p == pascal)
        .map(|(_, c)| *c)
        .unwrap_or(&[])
}

/// 4.x's seconds as a Go duration in nanoseconds (what the PascalCase reader takes). Zero
/// stays zero (Go's "use the default"); strings with a unit pass through.
fn seconds_to_go_duration(key: &str, value: Value) -> Result<Value, String> {
    match &value {
        Value::Number(n) => {
            let secs = n.as_u64().ok_or_else(|| {
                format!("{key} must be a whole, non-negative number of seconds, not {n}")
            })?;
            secs.checked_mul(1_000_000_000)
                .filter(|ns| *ns <= i64::MAX as u64)
                .map(Value::from)
                .ok_or_else(|| {
                    format!("{key} is out of range: durations are at most 9223372036 seconds")
                })
        }
        _ => Ok(value),
    }
}

/// The valid key closest to `key` (case-insensitive edit distance), in `style` if known.
fn nearest(key: &str, style: Option<Style>) -> &'static str {
    let candidates = KEYS.iter().flat_map(|(p, camels)| {
        let pascal = (style != Some(Style::Camel)).then_some(*p);
        let camel = camels
            .iter()
            .copied()
            .filter(move |_| style != Some(Style::Pascal));
        pascal.into_iter().chain(camel)
    });
    let lower = key.to_ascii_lowercase();
    candidates
        .min_by_key(|c| edit_distance(&lower, &c.to_ascii_lowercase()))
        .unwrap_or("ServiceName")
}

/// Levenshtein distance over chars (keys are short; two rows are enough).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A key as quoted in a message: at most 64 characters.
fn clip(key: &str) -> String {
    key.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn camel_case_maps_to_pascal_with_durations_in_seconds() {
        let n = normalize(obj(
            r#"{"serviceName":"s","productId":"p","metastore":"memory","kms":"static",
                "expireAfter":3600,"checkInterval":"10m","dynamoDbRegion":"r"}"#,
        ))
        .unwrap();
        assert_eq!(n.style, Style::Camel);
        assert_eq!(n.obj["ServiceName"], "s");
        assert_eq!(n.obj["ProductID"], "p");
        assert_eq!(n.obj["KMS"], "static");
        assert_eq!(n.obj["ExpireAfter"], Value::from(3_600_000_000_000u64));
        assert_eq!(n.obj["CheckInterval"], "10m");
        assert_eq!(n.obj["DynamoDBRegion"], "r");
    }

    #[test]
    fn pascal_case_is_unchanged() {
        let n = normalize(obj(r#"{"ServiceName":"s","ExpireAfter":5}"#)).unwrap();
        assert_eq!(n.style, Style::Pascal);
        assert_eq!(n.obj["ExpireAfter"], 5);
    }

    #[test]
    fn mixing_styles_names_the_key_and_its_other_spelling() {
        let e = normalize(obj(r#"{"ServiceName":"s","productId":"p"}"#)).unwrap_err();
        assert!(
            e.contains("\"productId\"") && e.contains("\"ProductID\"") && e.contains("mixes"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_get_the_nearest_spelling_in_the_same_style() {
        let e = normalize(obj(r#"{"serviceName":"s","prodcutId":"p"}"#)).unwrap_err();
        assert!(
            e.contains("\"prodcutId\"") && e.contains("\"productId\""),
            "{e}"
        );
        let e = normalize(obj(r#"{"ServiceName":"s","ProductId":"p"}"#)).unwrap_err();
        assert!(e.contains("\"ProductID\""), "{e}");
        let e = normalize(obj(r#"{"Metastore":"memory","ConectionString":"x"}"#)).unwrap_err();
        assert!(e.contains("\"ConnectionString\""), "{e}");
    }

    #[test]
    fn unsupported_4x_options_and_double_spellings_are_refused() {
        let e = normalize(obj(r#"{"serviceName":"s","vaultToken":"t0k3n"}"#)).unwrap_err();
        assert!(e.contains("vaultToken") && !e.contains("t0k3n"), "{e}");
        let e = normalize(obj(r#"{"dynamoDbRegion":"a","dynamoDBRegion":"b"}"#)).unwrap_err();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn camel_durations_must_be_whole_seconds() {
        assert!(normalize(obj(r#"{"expireAfter":1.5}"#)).is_err());
        assert!(normalize(obj(r#"{"expireAfter":-1}"#)).is_err());
        assert!(normalize(obj(r#"{"expireAfter":18446744073709551615}"#)).is_err());
        let n = normalize(obj(r#"{"sessionCacheDuration":0}"#)).unwrap();
        assert_eq!(n.obj["SessionCacheDuration"], 0);
    }

    #[test]
    fn errors_are_respelled_for_camel_case_configs() {
        assert_eq!(
            respell_error("ServiceName is required (a non-empty string)", Style::Camel),
            "serviceName is required (a non-empty string)"
        );
        assert_eq!(
            respell_error("KMS must be a string", Style::Pascal),
            "KMS must be a string"
        );
    }
}
