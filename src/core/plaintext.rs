//! Heap buffers that hold a user's plaintext, wiped before their memory goes back.
//!
//! A decrypted plaintext is copied into the JS value the user gets, and an encrypt's data is
//! copied when its call outlives the JS call (async) or runs on another thread; each of
//! those Rust-side copies used to be freed as it was, so the allocator could hand the bytes
//! to any later allocation (a log line, an error message, a core dump's heap). A
//! [`Plaintext`] zeroes its whole allocation, spare capacity included, with
//! `explicit_bzero` (a `memset` the compiler may not drop because the memory is about to
//! be freed) when it is dropped. `explicit_bzero` rather than `zeroize`, whose volatile
//! byte-by-byte writes cost a 1 MiB plaintext about as much as decrypting it; this runs at
//! `memset` speed (docs/performance.md "Round eighteen"). What the shim cannot reach is not
//! claimed: the JS values themselves, and the Go core's own heap.

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
        wipe_allocation(&mut self.0);
    }
}

/// Zeroes all of `v`'s allocation, its spare capacity too (a `truncate` leaves plaintext
/// there: the native core decrypts in place and cuts off the tag, Cobhan drops a header).
pub(crate) fn wipe_allocation(v: &mut Vec<u8>) {
    if v.capacity() == 0 {
        return;
    }
    // SAFETY: `v` owns an allocation of `capacity()` bytes; writing zeros to all of it,
    // spare capacity included, is in bounds, and `&mut` makes this the only access.
    // `explicit_bzero` is glibc's and musl's non-elidable `memset(0)`.
    unsafe { libc::explicit_bzero(v.as_mut_ptr().cast(), v.capacity()) };
}

#[cfg(test)]
pub(crate) mod freed {
    //! A test allocator that reports whether a freed block still held a marker: how the
    //! tests see that plaintext is wiped before its memory is freed, which no safe read
    //! can observe. Only blocks freed by a thread that armed it are scanned.

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub(crate) struct Scanning;

    #[global_allocator]
    static SCANNING: Scanning = Scanning;

    thread_local! {
        static MARKER: Cell<Option<&'static [u8]>> = const { Cell::new(None) };
        static FOUND: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: every call is forwarded to `System` unchanged; `dealloc` only reads the block
    // (still allocated at that point) before freeing it.
    unsafe impl GlobalAlloc for Scanning {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // `try_with`: TLS may be gone while a thread exits; nothing is armed then.
            if let Ok(Some(marker)) = MARKER.try_with(Cell::get) {
                // SAFETY: `ptr` is a live block of `layout.size()` bytes until `System.dealloc`
                // below, and nothing else uses it now. Spare capacity that was never
                // written is read too: formally uninitialized, in practice whatever the
                // system allocator left there. Test-only, armed only around the code under
                // test, and the bytes are only compared, never used.
                let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
                if block.windows(marker.len()).any(|w| w == marker) {
                    let _ = FOUND.try_with(|f| f.set(f.get() + 1));
                }
            }
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // A move to a new block frees the old one: scanned like a free.
            // SAFETY: forwarded with the caller's guarantees; the old block is only read,
            // and only before `System` may free it.
            unsafe {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new
            }
        }
    }

    /// Runs `f` and counts the blocks this thread freed meanwhile that still held `marker`.
    pub(crate) fn count_freed_holding(marker: &'static [u8], f: impl FnOnce()) -> usize {
        FOUND.with(|c| c.set(0));
        MARKER.with(|m| m.set(Some(marker)));
        f();
        MARKER.with(|m| m.set(None));
        FOUND.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::freed::count_freed_holding;
    use super::*;

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
