//! The one place where failures become JS errors: each gets a stable `code`.
//!
//! Codes are documented in the README. Argument mistakes are `TypeError`s (or `RangeError`s
//! for sizes); everything from the cores maps from [`CoreError`]. Messages name what went
//! wrong and never include key material or plaintext.

use crate::core::CoreError;
use crate::napi::{JsError, JsErrorKind};

pub(crate) const INVALID_ARGUMENT: &str = "ERR_ASHERAH_INVALID_ARGUMENT";
pub(crate) const CONFIG: &str = "ERR_ASHERAH_CONFIG";

/// A wrong argument type or value.
pub(crate) fn invalid_argument(message: impl Into<String>) -> JsError {
    JsError::new(JsErrorKind::TypeError, INVALID_ARGUMENT, message.into())
}

/// `decrypt_string` of a plaintext that is not UTF-8 text.
pub(crate) fn not_utf8() -> JsError {
    JsError::new(
        JsErrorKind::Error,
        "ERR_ASHERAH_NOT_UTF8",
        "the decrypted data is not UTF-8 text, so it has no exact string form; decrypt() returns its bytes",
    )
}

/// A result (a record, or a plaintext as a string) longer than the runtime's longest string.
pub(crate) fn result_too_large(message: String) -> JsError {
    JsError::new(
        JsErrorKind::RangeError,
        "ERR_ASHERAH_RESULT_TOO_LARGE",
        message,
    )
}

/// A configuration problem found before any core saw it.
pub(crate) fn config(message: impl Into<String>) -> JsError {
    JsError::new(
        JsErrorKind::Error,
        CONFIG,
        format!("invalid configuration: {}", message.into()),
    )
}

/// Maps a core-layer error to its JS error.
pub(crate) fn from_core(e: &CoreError) -> JsError {
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
        CoreError::QueueTimeout { .. } => (JsErrorKind::Error, "ERR_ASHERAH_QUEUE_TIMEOUT"),
        CoreError::Overloaded { .. } => (JsErrorKind::Error, "ERR_ASHERAH_OVERLOADED"),
        CoreError::Unusable(_) => (JsErrorKind::Error, "ERR_ASHERAH_CORE_UNUSABLE"),
        CoreError::ShuttingDown => (JsErrorKind::Error, "ERR_ASHERAH_SHUTTING_DOWN"),
        CoreError::Internal(_) => (JsErrorKind::Error, "ERR_ASHERAH_INTERNAL"),
    };
    let err = JsError::new(kind, code, bounded(e.to_string()));
    match e {
        CoreError::Timeout { phase, millis } => err
            .with_prop("phase", *phase)
            .with_prop("timeoutMs", *millis as f64),
        CoreError::QueueTimeout { millis } => err
            .with_prop("phase", "waiting for a core-host thread")
            .with_prop("timeoutMs", *millis as f64),
        CoreError::Overloaded { limit } => err.with_prop("limit", *limit as f64),
        CoreError::Cobhan { code, call } => err
            .with_prop("cobhanCode", *code as f64)
            .with_prop("call", *call),
        CoreError::InputTooLarge { len, max } => err
            .with_prop("length", *len as f64)
            .with_prop("limit", *max as f64),
        // No properties beyond `code` and `message` (listed, not wildcarded, so a new
        // variant must decide).
        CoreError::NotInitialized
        | CoreError::AlreadyInitialized
        | CoreError::BadConfig(_)
        | CoreError::Library(_)
        | CoreError::GetSessionFailed
        | CoreError::EncryptFailed(_)
        | CoreError::DecryptFailed(_)
        | CoreError::PartitionMismatch
        | CoreError::MalformedRecord(_)
        | CoreError::Metastore(_)
        | CoreError::Kms(_)
        | CoreError::Panic(_)
        | CoreError::Unusable(_)
        | CoreError::ShuttingDown
        | CoreError::Internal(_) => err,
    }
}

/// The longest message an error carries: messages name the field and the problem, and a
/// core's text beyond this is cut (on a character boundary) rather than passed through.
pub(crate) const MAX_MESSAGE: usize = 512;

fn bounded(mut m: String) -> String {
    if m.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE - 3;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        m.truncate(cut);
        m.push_str("...");
    }
    m
}
