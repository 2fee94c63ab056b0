//! Reading and checking JS arguments: partition ids, data, records, configs, sizes.
//!
//! Wrong types and values become `ERR_ASHERAH_INVALID_ARGUMENT` `TypeError`s here, before
//! anything is queued. The sync hot paths read strings into per-thread scratch buffers and
//! use `Buffer`/`Uint8Array` bytes in place; the async paths take owned copies, because
//! their work outlives the call.

use super::calls::DEFAULT_CORE;
use super::config::{self, ShimConfig};
use super::errors;
use super::log::{self, Level};
use crate::napi::{Env, JsResult, Value, ValueType};

thread_local! {
    /// Reused buffers for the partition id and a record string on the sync paths, so the
    /// hot path reads each JS string with one N-API call and no allocation.
    static SCRATCH: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

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
    f: impl FnOnce(&str, &[u8]) -> JsResult<R>,
) -> JsResult<R> {
    with_scratch(env, partition, |p, rbuf| {
        match read_record(env, record, rbuf)? {
            Some(bytes) => f(p, bytes),
            None => f(p, rbuf),
        }
    })
}

/// Borrows this thread's scratch buffers, reads the partition into the first and lends
/// `f` the partition and the second buffer.
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
        read_partition(env, partition, pbuf)?;
        f(partition_str(pbuf)?, rbuf)
    })
}

fn partition_str(buf: &[u8]) -> JsResult<&str> {
    std::str::from_utf8(buf).map_err(|_| errors::invalid_argument("partitionId is not valid UTF-8"))
}

pub(super) fn read_partition(env: &Env, v: Value<'_>, buf: &mut Vec<u8>) -> JsResult<()> {
    if env.type_of(v)? != ValueType::String {
        return Err(errors::invalid_argument(format!(
            "partitionId must be a string; got {}",
            describe(env, v)
        )));
    }
    env.string_into(v, buf)?;
    if buf.is_empty() {
        return Err(errors::invalid_argument("partitionId must not be empty"));
    }
    Ok(())
}

pub(super) fn read_config(env: &Env, v: Value<'_>) -> JsResult<ShimConfig> {
    let json = match env.type_of(v)? {
        ValueType::Object => env.json_stringify(v)?,
        ValueType::String => env.string_value(v)?,
        other => {
            return Err(errors::invalid_argument(format!(
                "setup expects an AsherahConfig object; got {}",
                other.name()
            )))
        }
    };
    let env_lib = std::env::var("ASHERAH_GO_LIBRARY").ok();
    let config = config::parse(&json, DEFAULT_CORE, env_lib).map_err(|m| {
        log::emit(
            Level::Error,
            format!("setup failed: invalid configuration: {m}"),
        );
        errors::config(m)
    })?;
    log::set_verbose(config.verbose);
    if !config.unknown_keys.is_empty() {
        log::emit(
            Level::Warn,
            format!(
                "setup: unknown config keys passed through to the core: {}",
                config.unknown_keys.join(", ")
            ),
        );
    }
    Ok(config)
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

pub(super) fn string_arg(env: &Env, v: Value<'_>, what: &str) -> JsResult<String> {
    if env.type_of(v)? != ValueType::String {
        return Err(errors::invalid_argument(format!(
            "{what} must be a string; got {}",
            describe(env, v)
        )));
    }
    Ok(env.string_value(v)?)
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
    if env.type_of(v)? == ValueType::String {
        env.string_into(v, buf)?;
        return Ok(None);
    }
    bytes_ref(env, v, "dataRowRecord").map(Some).map_err(|_| {
        errors::invalid_argument(format!(
            "dataRowRecord must be the JSON string returned by encrypt; got {}",
            describe(env, v)
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
