//! The one place where failures become JS errors: each gets a stable `code`.
//!
//! Codes are documented in the README. Argument mistakes are `TypeError`s (or `RangeError`s
//! for sizes); everything from the cores maps from [`CoreError`]. Messages name what went
//! wrong and never include key material or plaintext.

use crate::core::CoreError;
use crate::napi::{JsError, JsErrorKind, Status};

pub const INVALID_ARGUMENT: &str = "ERR_ASHERAH_INVALID_ARGUMENT";
pub const CONFIG: &str = "ERR_ASHERAH_CONFIG";

/// A wrong argument type or value.
pub fn invalid_argument(message: impl Into<String>) -> JsError {
    JsError::new(JsErrorKind::TypeError, INVALID_ARGUMENT, message.into())
}

/// `decrypt_string` of a plaintext that is not UTF-8 text.
pub fn not_utf8() -> JsError {
    JsError::new(
        JsErrorKind::Error,
        "ERR_ASHERAH_NOT_UTF8",
        "the decrypted data is not UTF-8 text, so it has no exact string form; decrypt() returns its bytes",
    )
}

/// A configuration problem found before any core saw it.
pub fn config(message: impl Into<String>) -> JsError {
    JsError::new(
        JsErrorKind::Error,
        CONFIG,
        format!("invalid configuration: {}", message.into()),
    )
}

/// Maps a core-layer error to its JS error.
pub fn from_core(e: &CoreError) -> JsError {
    let (kind, code) = match e {
        CoreError::NotInitialized => (JsErrorKind::Error, "ERR_ASHERAH_NOT_INITIALIZED"),
        CoreError::AlreadyInitialized => (JsErrorKind::Error, "ERR_ASHERAH_ALREADY_INITIALIZED"),
        CoreError::BadConfig(_) => (JsErrorKind::Error, CONFIG),
        CoreError::Library(_) => (JsErrorKind::Error, "ERR_ASHERAH_LIBRARY"),
        CoreError::Cobhan { .. } => (JsErrorKind::Error, "ERR_ASHERAH_COBHAN"),
        CoreError::GetSessionFailed => (JsErrorKind::Error, "ERR_ASHERAH_SESSION"),
        CoreError::EncryptFailed(_) => (JsErrorKind::Error, "ERR_ASHERAH_ENCRYPT_FAILED"),
        CoreError::DecryptFailed(_) | CoreError::PartitionMismatch => {
            (JsErrorKind::Error, "ERR_ASHERAH_DECRYPT_FAILED")
        }
        CoreError::MalformedRecord(_) => (JsErrorKind::Error, "ERR_ASHERAH_MALFORMED_RECORD"),
        CoreError::Metastore(_) => (JsErrorKind::Error, "ERR_ASHERAH_METASTORE"),
        CoreError::Kms(_) => (JsErrorKind::Error, "ERR_ASHERAH_KMS"),
        CoreError::Panic(_) => (JsErrorKind::Error, "ERR_ASHERAH_PANIC"),
        CoreError::InputTooLarge { .. } => (JsErrorKind::RangeError, "ERR_ASHERAH_INPUT_TOO_LARGE"),
        CoreError::Timeout { .. } => (JsErrorKind::Error, "ERR_ASHERAH_TIMEOUT"),
        CoreError::Unusable(_) => (JsErrorKind::Error, "ERR_ASHERAH_CORE_UNUSABLE"),
        CoreError::ShuttingDown => (JsErrorKind::Error, "ERR_ASHERAH_SHUTTING_DOWN"),
        CoreError::Internal(_) => (JsErrorKind::Error, "ERR_ASHERAH_INTERNAL"),
        #[allow(unreachable_patterns)]
        _ => (JsErrorKind::Error, "ERR_ASHERAH_INTERNAL"),
    };
    let err = JsError::new(kind, code, e.to_string());
    match e {
        CoreError::Timeout { phase, millis } => err
            .with_prop("phase", *phase)
            .with_prop("timeoutMs", millis.to_string()),
        CoreError::Cobhan { code, call } => err
            .with_prop("cobhanCode", code.to_string())
            .with_prop("call", *call),
        _ => err,
    }
}

/// N-API failures while building a result.
pub fn from_status(s: Status) -> JsError {
    JsError::from(s)
}
