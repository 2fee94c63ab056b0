//! The crate's one error type: an [`ErrorKind`] for callers to branch on (the shim maps kinds
//! to JS error codes in exactly one place) and a message for people. Messages name the field
//! and the problem; they are built only from static text, positions, lengths, the service's
//! own key ids and timestamps from the metastore, and the metastore drivers' errors (which
//! never see key plaintext). They never quote the caller's input: no record text, no
//! payload or key bytes, no partition ids, no connection strings (which may carry
//! passwords). Every message is cut to [`MAX_MESSAGE_LEN`] bytes as a backstop.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::fmt;

/// What went wrong, coarse enough to map onto stable error codes. Deliberately exhaustive:
/// the shim maps every kind with no wildcard, so a new kind fails its build until mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The configuration is invalid or names something this core does not support.
    Config,
    /// A caller-supplied argument is invalid (e.g. an empty partition id).
    InvalidInput,
    /// The metastore failed (connection, query, schema) or returned an unusable record.
    Metastore,
    /// The key management service could not wrap or unwrap a system key.
    Kms,
    /// The DataRowRecord is not valid JSON, lacks fields, or has bad base64 or lengths.
    MalformedRecord,
    /// The record's intermediate key belongs to another partition (or service/product).
    PartitionMismatch,
    /// Authentication failed: the record (or a key record) was tampered with or encrypted
    /// under a different key.
    DecryptFailed,
    /// The key named by a record does not exist in the metastore.
    KeyNotFound,
    /// The OS random number generator failed.
    Random,
    /// A bug or an unexpected state inside this crate.
    Internal,
}

/// The longest message an [`Error`] carries, in bytes; longer ones are cut (at a character
/// boundary) and end in `...`.
pub const MAX_MESSAGE_LEN: usize = 256;

/// An error from the native core. `Display` gives `<kind>: <message>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
}

impl Error {
    /// A new error; `message` must not contain secrets or input (see the module docs). It is
    /// cut to [`MAX_MESSAGE_LEN`] bytes.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: bounded(message.into()),
        }
    }

    /// The kind, for mapping to error codes.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (without the kind prefix).
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn metastore(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Metastore, message)
    }

    pub(crate) fn malformed(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::MalformedRecord, message)
    }

    pub(crate) fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Prefixes the message with context, keeping the kind.
    pub(crate) fn context(self, what: &str) -> Self {
        Self::new(self.kind, format!("{what}: {}", self.message))
    }
}

/// `message`, cut to at most [`MAX_MESSAGE_LEN`] bytes.
fn bounded(message: Cow<'static, str>) -> Cow<'static, str> {
    if message.len() <= MAX_MESSAGE_LEN {
        return message;
    }
    let mut end = MAX_MESSAGE_LEN - 3;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &message[..end]).into()
}

impl ErrorKind {
    /// A stable snake_case name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Metastore => "metastore",
            ErrorKind::Kms => "kms",
            ErrorKind::MalformedRecord => "malformed_record",
            ErrorKind::PartitionMismatch => "partition_mismatch",
            ErrorKind::DecryptFailed => "decrypt_failed",
            ErrorKind::KeyNotFound => "key_not_found",
            ErrorKind::Random => "random",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::metastore(format!("sqlite: {e}"))
    }
}

impl From<tokio_postgres::Error> for Error {
    /// A server error displays only as "db error"; its SQLSTATE and message live in the
    /// source. Those are named (never `detail()`, which can echo row values such as keys).
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            return Error::metastore(format!(
                "postgres: {} (SQLSTATE {})",
                db.message(),
                db.code().code()
            ));
        }
        let mut msg = format!("postgres: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        Error::metastore(msg)
    }
}

impl From<getrandom::Error> for Error {
    fn from(e: getrandom::Error) -> Self {
        Error::new(
            ErrorKind::Random,
            format!("OS random number generator: {e}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bounded_at_a_char_boundary() {
        let short = Error::new(ErrorKind::Internal, "short");
        assert_eq!(short.message(), "short");
        let long = Error::new(ErrorKind::Internal, "é".repeat(1000));
        assert!(long.message().len() <= MAX_MESSAGE_LEN);
        assert!(long.message().ends_with("..."));
        let wrapped = long.context(&"x".repeat(300));
        assert!(wrapped.message().len() <= MAX_MESSAGE_LEN);
        assert_eq!(wrapped.kind(), ErrorKind::Internal);
    }
}
