//! Reading and checking JS arguments: partition ids, data, records, configs, sizes.
//!
//! Wrong types and values become `ERR_ASHERAH_INVALID_ARGUMENT` `TypeError`s here, before
//! anything is queued. The hot paths read strings into per-thread scratch buffers and use
//! `Buffer`/`Uint8Array` bytes in place; a call that runs on a core-host thread or
//! outlives its JS call owns its input: a copy of bytes, or a large record string's buffer
//! moved out of the scratch ([`Lent::into_owned`]).

use super::calls::DEFAULT_CORE;
use super::config::{self, ShimConfig};
use super::errors;
use super::log::{self, Level};
use crate::core::Plaintext;
use crate::napi::{Env, JsResult, Value, ValueType};

thread_local! {
    /// Reused buffers for the partition id and a record string on the sync paths, so the
    /// hot path reads each JS string with one N-API call and no allocation.
    static SCRATCH: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// The most a scratch buffer keeps between calls. One that held more (a record string of
/// more than 32 MiB of UTF-8) is freed when its call ends, so one big call does not pin its
/// size on a JS thread for good; up to here a buffer is reused. The bound is a trade:
/// freeing a 22 MB buffer after every call (a 16 MiB plaintext's record, when this was
/// 8 MiB) cost Node's sync decrypt of such records 19 % (page faults on a fresh mapping each
/// call; docs/performance.md, round twenty-one). It is checked against what the buffer
/// held, not its capacity: a read reserves up to 3 bytes per UTF-16 unit for a string that
/// is not ASCII (any record whose partition id is not), and capacity never written costs
/// no memory. Capacity past [`SCRATCH_CAPACITY_MAX`] is freed as well.
const SCRATCH_KEEP: usize = 32 << 20;

/// The most capacity a kept scratch buffer may have: a 3x reservation for a record of up
/// to [`SCRATCH_KEEP`], rounded up.
const SCRATCH_CAPACITY_MAX: usize = 4 * SCRATCH_KEEP;

/// Runs `f` with the partition argument read into the scratch buffer and checked.
pub(super) fn with_partition<R>(
    env: &Env,
    v: Value<'_>,
    f: impl FnOnce(&str) -> JsResult<R>,
) -> JsResult<R> {
    with_scratch(env, v, |p, _| f(p))
}

/// Runs `f` with the partition and the record (string or bytes, used in place) read.
pub(super) fn with_record<R>(
    env: &Env,
    partition: Value<'_>,
    record: Value<'_>,
    f: impl FnOnce(&str, Lent<'_>) -> JsResult<R>,
) -> JsResult<R> {
    with_scratch(env, partition, |p, rbuf| {
        let lent = match read_record(env, record, rbuf)? {
            Some(bytes) => Lent::Bytes(bytes),
            None => Lent::Scratch(rbuf),
        };
        f(p, lent)
    })
}

/// Bytes lent for one call: a string argument's UTF-8 in this thread's scratch buffer, or
/// a `Buffer`'s bytes in place. Used where they are while the call runs on this thread; a
/// call that runs on a core-host thread or outlives its JS call owns them
/// ([`Lent::into_owned`]).
pub(super) enum Lent<'a> {
    Scratch(&'a mut Vec<u8>),
    Bytes(&'a [u8]),
}

impl Lent<'_> {
    #[inline]
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Lent::Scratch(buf) => buf,
            Lent::Bytes(bytes) => bytes,
        }
    }

    /// The bytes owned. A string of [`TAKE_MIN`] or more is moved out of the scratch
    /// buffer, not copied, so a large record is held once; a shorter one is copied, and
    /// the scratch keeps its capacity for the next call; a `Buffer`'s bytes are copied
    /// (JS owns them).
    #[cold]
    pub(super) fn into_owned(self) -> Vec<u8> {
        match self {
            Lent::Scratch(buf) if buf.len() >= TAKE_MIN => std::mem::take(buf),
            Lent::Scratch(buf) => buf.to_vec(),
            Lent::Bytes(bytes) => bytes.to_vec(),
        }
    }
}

/// The shortest string [`Lent::into_owned`] moves out of the scratch rather than copies.
/// Moving a large one saves its copy and half the peak memory. A smaller one is copied, as
/// before: that copy is cheap, and the scratch keeps its capacity, so a run of small hosted
/// calls (the Go core's usual case) behaves as it did.
const TAKE_MIN: usize = 1 << 20;

/// Borrows this thread's scratch buffers, reads the partition into the first and lends
/// `f` the partition and the second buffer. A buffer that held more than [`SCRATCH_KEEP`]
/// is freed afterwards.
fn with_scratch<R>(
    env: &Env,
    partition: Value<'_>,
    f: impl FnOnce(&str, &mut Vec<u8>) -> JsResult<R>,
) -> JsResult<R> {
    SCRATCH.with(|s| {
        let mut s = s
            .try_borrow_mut()
            .map_err(|_| errors::invalid_argument("re-entrant call"))?;
        let (pbuf, rbuf) = &mut *s;
        let out = read_partition(env, partition, pbuf).and_then(|()| f(partition_str(pbuf)?, rbuf));
        for buf in [pbuf, rbuf] {
            if buf.len() > SCRATCH_KEEP || buf.capacity() > SCRATCH_CAPACITY_MAX {
                *buf = Vec::new();
            }
        }
        out
    })
}

fn partition_str(buf: &[u8]) -> JsResult<&str> {
    std::str::from_utf8(buf).map_err(|_| errors::invalid_argument("partitionId is not valid UTF-8"))
}

pub(super) fn read_partition(env: &Env, v: Value<'_>, buf: &mut Vec<u8>) -> JsResult<()> {
    read_str(env, v, buf, "partitionId")?;
    if buf.is_empty() {
        return Err(errors::invalid_argument("partitionId must not be empty"));
    }
    Ok(())
}

/// Reads a string argument as UTF-8 into `buf`. A string that has no exact UTF-8 form (a
/// lone surrogate) is refused: reading it would silently change it, and two different
/// partition ids would then share one key.
fn read_str(env: &Env, v: Value<'_>, buf: &mut Vec<u8>, what: &str) -> JsResult<()> {
    match env.string_into_if_string(v, buf)? {
        Some(true) => Ok(()),
        Some(false) => Err(lone_surrogate(what)),
        None => Err(errors::invalid_argument(format!(
            "{what} must be a string; got {}",
            describe_non_string(env, v)
        ))),
    }
}

/// [`describe`] for a value the string read refused: Bun 1.1 and 1.2.0-1.2.4 call a
/// `String` object a string (see [`Env::string_into_if_string`]).
fn describe_non_string(env: &Env, v: Value<'_>) -> &'static str {
    match describe(env, v) {
        "string" => "a String object",
        other => other,
    }
}

fn lone_surrogate(what: &str) -> crate::napi::JsError {
    errors::invalid_argument(format!(
        "{what} contains a lone surrogate (an unpaired UTF-16 code unit, U+D800-U+DFFF), \
         which has no UTF-8 form; it is refused rather than silently changed"
    ))
}

/// Config keys whose numbers must be finite: `JSON.stringify` writes NaN and Infinity as
/// `null`, which would otherwise read as "not set".
const NUMERIC_CONFIG_KEYS: [&str; 10] = [
    "TimeoutMs",
    "CoreThreads",
    "CoreIdleSpinMicros",
    "CoreStackSize",
    "MaxInputBytes",
    "MaxQueuedCalls",
    "SessionCacheMaxSize",
    "ExpireAfter",
    "CheckInterval",
    "SessionCacheDuration",
];

pub(super) fn read_config(env: &Env, v: Value<'_>) -> JsResult<ShimConfig> {
    if env.type_of(v)? == ValueType::Object {
        check_finite_numbers(env, v)?;
    }
    let json = match object_or_json(env, v, "the config") {
        Ok(json) => json,
        Err(Refused::Type(t)) => {
            return Err(errors::invalid_argument(format!(
                "setup expects an AsherahConfig object; got {t}"
            )))
        }
        Err(Refused::Value(m)) => return Err(config_error(m)),
        Err(Refused::Js(e)) => return Err(e),
    };
    let env_lib = std::env::var("ASHERAH_GO_LIBRARY").ok();
    let config = config::parse(&json, DEFAULT_CORE, env_lib).map_err(config_error)?;
    log::set_verbose(config.verbose);
    Ok(config)
}

/// Why [`object_or_json`] refused a value.
pub(super) enum Refused {
    /// Neither an object nor a string (the type's name).
    Type(&'static str),
    /// An object or string that cannot become exact JSON text (why).
    Value(String),
    /// N-API itself failed.
    Js(crate::napi::JsError),
}

/// The JSON text of an object argument (through the realm's `JSON.stringify`), or a
/// string argument taken as JSON text. Exceptions thrown while serialising (a BigInt, a
/// cycle, a throwing getter, `toJSON` or Proxy trap) are caught and refused, never left
/// pending: the caller turns them into a typed error or a rejection.
pub(super) fn object_or_json(env: &Env, v: Value<'_>, what: &str) -> Result<String, Refused> {
    let mut text = Vec::new();
    match env
        .string_into_if_string(v, &mut text)
        .map_err(|s| Refused::Js(s.into()))?
    {
        Some(true) => return crate::napi::utf8_text(text).map_err(|s| Refused::Js(s.into())),
        Some(false) => {
            return Err(Refused::Value(format!(
                "{what} JSON contains a lone surrogate (U+D800-U+DFFF); it is refused rather \
                 than silently changed"
            )))
        }
        None => {}
    }
    match env.type_of(v).map_err(|s| Refused::Js(s.into()))? {
        // Not read as a string: an object, or a String object, which Bun 1.1 and
        // 1.2.0-1.2.4 call a string and then refuse to read as one.
        ValueType::Object | ValueType::String => match env.json_stringify(v) {
            Ok(Some(json)) => Ok(json),
            Ok(None) => Err(Refused::Value(format!(
                "{what} serialises to undefined (its toJSON returned nothing)"
            ))),
            Err(e) if e.pending || env.is_exception_pending() => {
                let thrown = env
                    .take_exception()
                    .map_or("an exception", |x| thrown_name(env, x));
                Err(Refused::Value(format!(
                    "{what} cannot be serialised: JSON.stringify threw {thrown} (a BigInt, a \
                     circular reference, or a throwing getter, toJSON or Proxy trap)"
                )))
            }
            Err(e) => Err(Refused::Js(e)),
        },
        other => Err(Refused::Type(other.name())),
    }
}

/// The constructor name of a thrown error (`TypeError`, `RangeError`, ...), never its
/// message, which may quote the value that failed.
fn thrown_name(env: &Env, x: Value<'_>) -> &'static str {
    const KNOWN: [&str; 7] = [
        "TypeError",
        "RangeError",
        "SyntaxError",
        "ReferenceError",
        "EvalError",
        "URIError",
        "Error",
    ];
    let name = env
        .get_property(x, "name")
        .ok()
        .filter(|n| env.type_of(*n).ok() == Some(ValueType::String))
        .and_then(|n| env.string_value(n).ok().flatten());
    let _ = env.take_exception(); // a throwing `name` getter
    match name {
        Some(n) => KNOWN
            .into_iter()
            .find(|k| *k == n)
            .unwrap_or("an exception"),
        None => "a non-error value",
    }
}

/// Logs and builds an `ERR_ASHERAH_CONFIG` error.
fn config_error(m: impl Into<String>) -> crate::napi::JsError {
    let m = m.into();
    log::emit(
        Level::Error,
        format!("setup failed: invalid configuration: {m}"),
    );
    errors::config(m)
}

/// Refuses NaN and +-Infinity in the numeric config keys (see [`NUMERIC_CONFIG_KEYS`]).
fn check_finite_numbers(env: &Env, obj: Value<'_>) -> JsResult<()> {
    for key in NUMERIC_CONFIG_KEYS {
        let v = match env.get_property(obj, key) {
            Ok(v) => v,
            Err(_) => {
                let _ = env.take_exception();
                return Err(config_error(format!("{key} could not be read")));
            }
        };
        if env.type_of(v)? == ValueType::Number {
            let n = env.f64_value(v)?;
            if !n.is_finite() {
                let name = match n {
                    n if n.is_nan() => "NaN",
                    n if n > 0.0 => "Infinity",
                    _ => "-Infinity",
                };
                return Err(config_error(format!(
                    "{key} must be a finite number, not {name}"
                )));
            }
        }
    }
    Ok(())
}

pub(super) fn partition_arg(env: &Env, v: Value<'_>) -> JsResult<String> {
    let mut buf = Vec::new();
    read_partition(env, v, &mut buf)?;
    partition_str(&buf).map(str::to_owned)
}

/// The bytes of a Buffer/Uint8Array argument, in place (valid for this call only).
pub(super) fn bytes_ref<'e>(env: &'e Env, v: Value<'e>, what: &str) -> JsResult<&'e [u8]> {
    match env.uint8_bytes(v)? {
        Some(bytes) => Ok(bytes),
        None => Err(errors::invalid_argument(format!(
            "{what} must be a Buffer or Uint8Array; got {}",
            describe(env, v)
        ))),
    }
}

/// A copy of a Buffer/Uint8Array argument, for work that outlives the call.
pub(super) fn bytes_arg(env: &Env, v: Value<'_>, what: &str) -> JsResult<Vec<u8>> {
    bytes_ref(env, v, what).map(<[u8]>::to_vec)
}

/// A string argument that is a user's data, as UTF-8 in a buffer wiped when dropped; also
/// when the read fails part way (a lone surrogate after some of the text).
pub(super) fn data_string_arg(env: &Env, v: Value<'_>, what: &str) -> JsResult<Plaintext> {
    let mut buf = Vec::new();
    let read = read_str(env, v, &mut buf, what);
    let buf = Plaintext::from(buf);
    read?;
    if std::str::from_utf8(&buf).is_err() {
        return Err(errors::invalid_argument(format!("{what} is not text")));
    }
    Ok(buf)
}

/// A DataRowRecord: its JSON as a string, or the JSON's bytes (owned).
pub(super) fn record_arg(env: &Env, v: Value<'_>) -> JsResult<Vec<u8>> {
    let mut buf = Vec::new();
    Ok(match read_record(env, v, &mut buf)? {
        Some(bytes) => bytes.to_vec(),
        None => buf,
    })
}

/// Reads a DataRowRecord argument: a string is read into `buf` (`None`); bytes are
/// returned in place (`Some`, valid for this call only).
fn read_record<'e>(env: &'e Env, v: Value<'e>, buf: &mut Vec<u8>) -> JsResult<Option<&'e [u8]>> {
    match env.string_into_if_string(v, buf)? {
        Some(true) => return Ok(None),
        Some(false) => return Err(lone_surrogate("dataRowRecord")),
        None => {}
    }
    bytes_ref(env, v, "dataRowRecord").map(Some).map_err(|_| {
        errors::invalid_argument(format!(
            "dataRowRecord must be the JSON string returned by encrypt; got {}",
            describe_non_string(env, v)
        ))
    })
}

pub(super) fn size_arg(env: &Env, v: Value<'_>, what: &str) -> JsResult<usize> {
    let n = if env.type_of(v)? == ValueType::Number {
        env.f64_value(v)?
    } else {
        f64::NAN
    };
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64) {
        return Err(errors::invalid_argument(format!(
            "{what} must be a non-negative whole number"
        )));
    }
    Ok(n as usize)
}

pub(super) fn describe(env: &Env, v: Value<'_>) -> &'static str {
    env.type_of(v)
        .map(|t| t.name())
        .unwrap_or("an unreadable value")
}
