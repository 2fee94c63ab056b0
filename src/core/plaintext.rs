//! Heap buffers that hold a user's plaintext, wiped before their memory goes back.
//!
//! A decrypted plaintext is copied into the JS value the user gets, and an encrypt's data is
//! copied when its call outlives the JS call (async), runs on another thread, or arrives as
//! a string; each of those Rust-side copies used to be freed as it was, so the allocator
//! could hand the bytes to any later allocation (a log line, an error message, a core
//! dump's heap). A [`Plaintext`] zeroes its whole allocation, spare capacity included, when
//! it is dropped (`crate::wipe`, at `memset` speed: docs/performance.md "Round eighteen").
//! What the shim cannot reach is not claimed: the JS values themselves, and the Go core's
//! own heap.

use std::ops::Deref;

/// Bytes that may be a user's plaintext: a `Vec<u8>` wiped on drop.
pub(crate) struct Plaintext(Vec<u8>);

impl From<Vec<u8>> for Plaintext {
    /// Takes over `bytes` (and the allocation behind it) without a copy.
    fn from(bytes: Vec<u8>) -> Plaintext {
        Plaintext(bytes)
    }
}

impl Deref for Plaintext {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Plaintext {
    /// The length only: a plaintext never reaches a log or an error message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plaintext({} bytes)", self.0.len())
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        crate::wipe::wipe_allocation(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wipe::freed::count_freed_holding;

    const MARK: &[u8] = b"plaintext-marker-7d1c";

    fn holding_mark(len: usize) -> Vec<u8> {
        let mut v = vec![b'.'; len];
        v[len / 2..len / 2 + MARK.len()].copy_from_slice(MARK);
        v
    }

    #[test]
    fn the_scanner_sees_an_unwiped_free() {
        // The check below could not fail if the scanner missed ordinary frees.
        assert_eq!(count_freed_holding(MARK, || drop(holding_mark(4096))), 1);
    }

    #[test]
    fn a_dropped_plaintext_leaves_no_copy_in_freed_memory() {
        for len in [64, 4096, 1 << 20] {
            let source = holding_mark(len);
            let found = count_freed_holding(MARK, || {
                let mut v = holding_mark(len);
                v.truncate(len / 4); // the marker now sits in spare capacity
                drop(Plaintext::from(v));
                drop(Plaintext::from(source.to_vec()));
            });
            assert_eq!(found, 0, "length {len}");
        }
    }

    #[test]
    fn debug_shows_the_length_only() {
        assert_eq!(
            format!("{:?}", Plaintext::from(MARK.to_vec())),
            "Plaintext(21 bytes)"
        );
    }
}
