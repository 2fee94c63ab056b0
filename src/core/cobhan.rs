//! Cobhan buffers: the byte layout libasherah's exports read and write.
//!
//! A buffer is an 8-byte header (`i32` little-endian length, `i32` reserved zero) followed
//! by the payload. For outputs the caller writes the capacity into the length field and the
//! callee overwrites it with the length it produced. A negative length would name a temp
//! file; libasherah disables those, so we treat one as an error.
//!
//! Every output buffer also ends with 8 canary bytes past its capacity (asherah-node's
//! `EnableCanaries`, always on here: it costs 8 bytes and one compare). A callee that writes
//! past the capacity it was given lands in them, inside our own allocation, and reading the
//! payload then fails with [`BufferError::Overrun`] instead of trusting the buffer.

use std::ffi::c_void;

pub(crate) const HEADER: usize = 8;

/// Cobhan's own error codes.
pub(crate) const ERR_NULL_PTR: i32 = -1;
pub(crate) const ERR_BUFFER_TOO_LARGE: i32 = -2;
pub(crate) const ERR_BUFFER_TOO_SMALL: i32 = -3;
pub(crate) const ERR_COPY_FAILED: i32 = -4;
pub(crate) const ERR_JSON_DECODE_FAILED: i32 = -5;
pub(crate) const ERR_JSON_ENCODE_FAILED: i32 = -6;
pub(crate) const ERR_INVALID_UTF8: i32 = -7;
pub(crate) const ERR_READ_TEMP_FILE_FAILED: i32 = -8;
pub(crate) const ERR_WRITE_TEMP_FILE_FAILED: i32 = -9;

/// libasherah's error codes.
pub(crate) const ERR_NOT_INITIALIZED: i32 = -100;
pub(crate) const ERR_ALREADY_INITIALIZED: i32 = -101;
pub(crate) const ERR_GET_SESSION_FAILED: i32 = -102;
pub(crate) const ERR_ENCRYPT_FAILED: i32 = -103;
pub(crate) const ERR_DECRYPT_FAILED: i32 = -104;
pub(crate) const ERR_BAD_CONFIG: i32 = -105;
pub(crate) const ERR_PANIC: i32 = -106;

/// The largest payload a buffer can describe.
pub(crate) const MAX_PAYLOAD: usize = i32::MAX as usize - HEADER - CANARY.len();

/// The bytes after an output buffer's capacity (asherah-node uses 0 then 0xdeadbeef too).
const CANARY: [u8; 8] = [0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde];

pub(crate) fn error_name(code: i32) -> &'static str {
    match code {
        0 => "ok",
        ERR_NULL_PTR => "null pointer",
        ERR_BUFFER_TOO_LARGE => "buffer too large",
        ERR_BUFFER_TOO_SMALL => "buffer too small",
        ERR_COPY_FAILED => "copy failed",
        ERR_JSON_DECODE_FAILED => "JSON decode failed",
        ERR_JSON_ENCODE_FAILED => "JSON encode failed",
        ERR_INVALID_UTF8 => "invalid UTF-8",
        ERR_READ_TEMP_FILE_FAILED => "read temp file failed",
        ERR_WRITE_TEMP_FILE_FAILED => "write temp file failed",
        ERR_NOT_INITIALIZED => "not initialized",
        ERR_ALREADY_INITIALIZED => "already initialized",
        ERR_GET_SESSION_FAILED => "get session failed",
        ERR_ENCRYPT_FAILED => "encrypt failed",
        ERR_DECRYPT_FAILED => "decrypt failed",
        ERR_BAD_CONFIG => "bad config",
        ERR_PANIC => "panic",
        _ => "unknown",
    }
}

/// An owned Cobhan buffer (header + payload area).
pub(crate) struct Buffer {
    bytes: Vec<u8>,
    /// Output buffers end with [`CANARY`]; input buffers have none.
    canary: bool,
}

/// Why a buffer could not be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BufferError {
    TooLarge(usize),
    TempFile,
    BadLength(i32),
    /// The callee wrote past the capacity of an output buffer (its canary changed).
    Overrun,
}

impl Buffer {
    /// A buffer carrying `payload` as input.
    pub(crate) fn input(payload: &[u8]) -> Result<Buffer, BufferError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(BufferError::TooLarge(payload.len()));
        }
        let mut bytes = Vec::with_capacity(HEADER + payload.len());
        bytes.extend_from_slice(&(payload.len() as i32).to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(payload);
        Ok(Buffer {
            bytes,
            canary: false,
        })
    }

    /// An empty output buffer with room for `capacity` payload bytes.
    pub(crate) fn output(capacity: usize) -> Result<Buffer, BufferError> {
        if capacity > MAX_PAYLOAD {
            return Err(BufferError::TooLarge(capacity));
        }
        let mut bytes = vec![0u8; HEADER + capacity + CANARY.len()];
        bytes[..4].copy_from_slice(&(capacity as i32).to_le_bytes());
        bytes[HEADER + capacity..].copy_from_slice(&CANARY);
        Ok(Buffer {
            bytes,
            canary: true,
        })
    }

    /// The pointer libasherah expects (to the header).
    pub(crate) fn as_mut_ptr(&mut self) -> *mut c_void {
        self.bytes.as_mut_ptr().cast()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.bytes.len() - HEADER - if self.canary { CANARY.len() } else { 0 }
    }

    /// The payload, as long as the header now says it is.
    pub(crate) fn payload(&self) -> Result<&[u8], BufferError> {
        if self.canary && self.bytes[self.bytes.len() - CANARY.len()..] != CANARY {
            return Err(BufferError::Overrun);
        }
        let len = i32::from_le_bytes(self.bytes[..4].try_into().expect("4-byte header field"));
        if len < 0 {
            return Err(BufferError::TempFile);
        }
        let len = len as usize;
        if len > self.capacity() {
            return Err(BufferError::BadLength(len as i32));
        }
        Ok(&self.bytes[HEADER..HEADER + len])
    }

    /// Takes the payload out without another copy. The caller then owns its wiping: the
    /// decrypt path wraps it in a [`Plaintext`](super::Plaintext).
    pub(crate) fn into_payload(mut self) -> Result<Vec<u8>, BufferError> {
        let len = self.payload()?.len();
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.drain(..HEADER);
        bytes.truncate(len);
        Ok(bytes)
    }
}

impl Drop for Buffer {
    /// Every buffer may hold plaintext (an encrypt's data, a decrypt's output, or part of
    /// one a failed call left), so all are wiped before they are freed; a record or a
    /// partition id costs the same `memset` and is not worth telling apart.
    fn drop(&mut self) {
        crate::wipe::wipe_allocation(&mut self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_past_an_output_buffers_capacity_is_caught() {
        let mut b = Buffer::output(4).unwrap();
        b.bytes[..4].copy_from_slice(&4i32.to_le_bytes());
        b.bytes[HEADER..HEADER + 4].copy_from_slice(b"abcd");
        assert_eq!(b.payload().unwrap(), b"abcd");
        b.bytes[HEADER + 4] = b'e'; // one byte too many
        assert_eq!(b.payload(), Err(BufferError::Overrun));
        assert_eq!(b.into_payload(), Err(BufferError::Overrun));
    }

    /// Every buffer is wiped before it is freed: an encrypt's data going in, a decrypt's
    /// plaintext coming out (taken over by a `Plaintext`), and what a failed call left.
    #[test]
    fn buffers_free_no_payload() {
        use crate::core::Plaintext;
        use crate::wipe::freed::count_freed_holding;
        const MARK: &[u8] = b"cobhan-payload-marker-31";
        let written = |cap: usize| {
            let mut b = Buffer::output(cap).unwrap();
            b.bytes[..4].copy_from_slice(&(MARK.len() as i32).to_le_bytes());
            b.bytes[HEADER..HEADER + MARK.len()].copy_from_slice(MARK);
            b
        };
        let found = count_freed_holding(MARK, || {
            drop(Buffer::input(MARK).unwrap());
            drop(written(64));
            drop(Plaintext::from(written(4096).into_payload().unwrap()));
        });
        assert_eq!(found, 0);
        // Taken out and not wrapped, the payload is seen when freed: the check can fail.
        let found = count_freed_holding(MARK, || drop(written(64).into_payload().unwrap()));
        assert_eq!(found, 1);
    }

    #[test]
    fn input_has_header_then_payload() {
        let b = Buffer::input(b"abc").unwrap();
        assert_eq!(&b.bytes[..8], &[3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(b.payload().unwrap(), b"abc");
    }

    #[test]
    fn output_carries_capacity_until_the_callee_writes() {
        let mut b = Buffer::output(16).unwrap();
        assert_eq!(b.payload().unwrap().len(), 16);
        // What a callee does: write the payload, then the real length.
        let p = b.as_mut_ptr().cast::<u8>();
        // SAFETY: the buffer has 8 + 16 bytes; we write within them.
        unsafe {
            p.add(HEADER).copy_from_nonoverlapping(b"hi".as_ptr(), 2);
            p.copy_from_nonoverlapping(2i32.to_le_bytes().as_ptr(), 4);
        }
        assert_eq!(b.into_payload().unwrap(), b"hi");
    }

    #[test]
    fn temp_file_and_overlong_lengths_are_errors() {
        let mut b = Buffer::output(4).unwrap();
        b.bytes[..4].copy_from_slice(&(-12i32).to_le_bytes());
        assert_eq!(b.payload(), Err(BufferError::TempFile));
        b.bytes[..4].copy_from_slice(&9i32.to_le_bytes());
        assert_eq!(b.payload(), Err(BufferError::BadLength(9)));
    }

    #[test]
    fn every_documented_code_has_a_name() {
        for code in (-9..=-1).chain(-106..=-100) {
            assert_ne!(error_name(code), "unknown", "code {code}");
        }
    }
}
