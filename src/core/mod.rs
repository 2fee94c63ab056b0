//! Encryption cores behind one trait.
//!
//! A [`Core`] turns plaintext into a DataRowRecord JSON string and back. Every [`Core`] method
//! takes a [`CoreThread`] token, so through it a core can only be driven from a core-host
//! thread: for the Go core that is what keeps Go code off JS threads, which the signal guard
//! relies on. A core with no foreign runtime and only local, bounded I/O (the native core on
//! the memory or SQLite metastore) may also offer [`InlineCore`], which the API layer calls
//! on the JS thread to skip the thread hop.
//! [`CoreError`] is the one error type of this layer; `api::errors` maps it to JS.

pub(crate) mod cobhan;
pub(crate) mod go;
pub(crate) mod memlock;
pub(crate) mod native;
pub(crate) mod plaintext;
pub(crate) mod settings;
pub(crate) mod signal_guard;

use std::fmt;

use crate::host::{catch_panic, CoreThread};
pub(crate) use plaintext::Plaintext;

/// Which implementation runs the encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoreKind {
    Go,
    Native,
}

impl CoreKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            CoreKind::Go => "go",
            CoreKind::Native => "native",
        }
    }
}

/// An encryption core, driven from core-host threads (see [`Core::inline`] for the exception).
pub(crate) trait Core: Send + Sync {
    fn kind(&self) -> CoreKind;
    fn encrypt(&self, ct: &CoreThread, partition: &str, data: &[u8]) -> Result<Record, CoreError>;
    fn decrypt(
        &self,
        ct: &CoreThread,
        partition: &str,
        record: &[u8],
    ) -> Result<Plaintext, CoreError>;
    /// Makes environment variables visible to the core (the real process environment is
    /// set by the caller; a Go runtime keeps its own copy, hence this hook).
    fn set_env(&self, ct: &CoreThread, vars_json: &str) -> Result<(), CoreError>;
    fn shutdown(&self, ct: &CoreThread);

    /// The same core, callable from any thread (a JS thread included), when that is safe
    /// and worth it: no foreign runtime and no network I/O that a deadline must bound.
    /// Sync calls then skip the thread hop. `None` for the Go core, always.
    fn inline(&self) -> Option<&dyn InlineCore> {
        None
    }

    /// The most data one encrypt can take whatever the limit configured (the Go core's
    /// records must fit a Cobhan buffer); checked before the data is copied for the core.
    fn max_encrypt_input(&self) -> usize {
        usize::MAX
    }
}

/// A DataRowRecord's JSON as a core returns it.
pub(crate) struct Record {
    pub(crate) json: String,
    /// The core vouches that every byte of `json` is ASCII (the native core knows it from
    /// how it wrote the record), so its JS string is made from Latin-1 without a scan of up
    /// to 1.4 MB. `false` means unknown, not non-ASCII: the JS layer then scans.
    pub(crate) known_ascii: bool,
}

/// A core that may run on the calling thread. Only cores with no foreign runtime and only
/// local, bounded I/O implement it.
pub(crate) trait InlineCore: Send + Sync {
    fn encrypt_inline(&self, partition: &str, data: &[u8]) -> Result<Record, CoreError>;
    fn decrypt_inline(&self, partition: &str, record: &[u8]) -> Result<Plaintext, CoreError>;
    /// Decrypts into memory the caller provides, so the plaintext is never anywhere else:
    /// `out(len)` is asked at most once, for the length the plaintext has if the record
    /// decrypts (`None` from it fails the call). `Ok(false)`: nothing was decrypted,
    /// because the record needs a reader this path does not have; call
    /// [`InlineCore::decrypt_inline`], which returns a plaintext of its own. `out` may have
    /// been asked already then, and what it gave may hold part of the ciphertext. After an
    /// error what `out` gave holds no plaintext.
    fn decrypt_inline_to<'a>(
        &self,
        partition: &str,
        record: &[u8],
        out: &mut dyn FnMut(usize) -> Option<&'a mut [u8]>,
    ) -> Result<bool, CoreError>;
    /// Whether a call may wait on I/O (e.g. another process's SQLite write lock). Sync
    /// calls block their caller anyway; async calls run inline only when this is false.
    fn may_wait_on_io(&self) -> bool;
}

/// What can go wrong below the JS API. Messages never carry key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum CoreError {
    NotInitialized,
    AlreadyInitialized,
    /// The configuration was rejected (by us or by the core).
    BadConfig(String),
    /// The core's library could not be loaded or lacks an export.
    Library(String),
    /// A Cobhan transport failure, with the raw code and the call it came from.
    Cobhan {
        code: i32,
        call: &'static str,
    },
    GetSessionFailed,
    EncryptFailed(String),
    DecryptFailed(String),
    MalformedRecord(String),
    PartitionMismatch,
    Metastore(String),
    Kms(String),
    /// The core panicked (Go reports recovered panics as -106).
    Panic(String),
    InputTooLarge {
        len: usize,
        max: usize,
    },
    /// A call missed its deadline; `phase` names what was running.
    Timeout {
        phase: &'static str,
        millis: u64,
    },
    /// A call waited in the queue past its deadline without starting; nothing ran.
    QueueTimeout {
        millis: u64,
    },
    /// The queue already holds its limit of calls; nothing was queued.
    Overloaded {
        limit: usize,
    },
    /// A call is stuck inside the core (or a setup that timed out is still running).
    Unusable(String),
    ShuttingDown,
    Internal(String),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::NotInitialized => f.write_str("asherah is not set up: call setup() first"),
            CoreError::AlreadyInitialized => {
                f.write_str("asherah is already set up: call shutdown() before setup() again")
            }
            CoreError::BadConfig(m) => write!(f, "invalid configuration: {m}"),
            CoreError::Library(m) => write!(f, "cannot load the Go library: {m}"),
            CoreError::Cobhan { code, call } => {
                write!(
                    f,
                    "{call} failed with Cobhan error {code} ({})",
                    cobhan::error_name(*code)
                )
            }
            CoreError::GetSessionFailed => f.write_str("could not get an encryption session"),
            CoreError::EncryptFailed(m) => write!(f, "encrypt failed: {m}"),
            CoreError::DecryptFailed(m) => write!(f, "decrypt failed: {m}"),
            CoreError::MalformedRecord(m) => write!(f, "malformed DataRowRecord: {m}"),
            CoreError::PartitionMismatch => {
                f.write_str("decrypt failed: the record belongs to a different partition")
            }
            CoreError::Metastore(m) => write!(f, "metastore error: {m}"),
            CoreError::Kms(m) => write!(f, "KMS error: {m}"),
            CoreError::Panic(m) => write!(f, "the encryption core panicked: {m}"),
            CoreError::InputTooLarge { len, max } => {
                write!(
                    f,
                    "input of {len} bytes is larger than the limit of {max} bytes"
                )
            }
            CoreError::Timeout { phase, millis } => {
                write!(f, "timed out after {millis} ms during {phase}")
            }
            CoreError::QueueTimeout { millis } => write!(
                f,
                "timed out after {millis} ms waiting for a core-host thread; the call never started (safe to retry)"
            ),
            CoreError::Overloaded { limit } => write!(
                f,
                "overloaded: {limit} calls are already queued (MaxQueuedCalls); nothing was queued, retry later"
            ),
            CoreError::Unusable(m) => write!(f, "the encryption core is unusable: {m}"),
            CoreError::ShuttingDown => f.write_str("asherah is shutting down"),
            CoreError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for CoreError {}

/// Runs `f` on a core-host thread with a panic turned into [`CoreError::Internal`]: a
/// core-host thread must survive its jobs.
pub(crate) fn guarded<T>(
    ct: &CoreThread,
    f: impl FnOnce(&CoreThread) -> Result<T, CoreError>,
) -> Result<T, CoreError> {
    catch_panic(|| f(ct)).unwrap_or_else(|what| {
        Err(CoreError::Internal(format!(
            "panic on a core-host thread: {what}"
        )))
    })
}
