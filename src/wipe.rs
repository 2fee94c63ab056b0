//! Zeroing memory that may have held a user's plaintext before it is freed or reused.
//!
//! Used by `core::plaintext` (owned plaintext buffers) and by `napi::env`'s string reads,
//! whose buffers may hold an encrypt's data string; a leaf with no other dependency, so
//! every layer may use it. The zeroing is `zeroize`'s, which the compiler may not drop as a
//! dead store although the memory is about to be freed, and which runs at `memset` speed
//! (on slices: 1 MiB in 11 µs on the benchmark box, as glibc's `explicit_bzero`). The
//! test-only [`freed`] allocator is how the tests see that a wipe happened.

use zeroize::Zeroize;

/// Zeroes all of `v`'s allocation, its spare capacity too (a `truncate` or `clear` leaves
/// the old bytes there: the native core decrypts in place and cuts off the tag, Cobhan drops
/// a header, a string read is retried), and leaves `v` empty with its capacity.
///
/// Emptied first, so the whole allocation is spare capacity and is zeroed in one `memset`
/// speed pass. Not `Vec::zeroize`, which zeroes the elements one at a time before the
/// spare capacity: 15x slower (64 KiB 9.0 against 0.57 µs, 1 MiB 144 against 11 µs), and
/// it made a 64 KiB decrypt 30 % slower (docs/performance.md "Round eighteen").
pub(crate) fn wipe_allocation<T: zeroize::DefaultIsZeroes>(v: &mut Vec<T>) {
    v.clear();
    v.spare_capacity_mut().zeroize();
}

/// Empties `v` and makes room for at least `room` elements. When that needs a new
/// allocation, the old one is wiped before it is freed, so its contents (which `reserve`
/// would copy and free unwiped) do not stay behind. Grows at least twofold, as `reserve`
/// does, so a reused buffer fed ever larger inputs is not replaced on every call.
pub(crate) fn clear_with_room<T: zeroize::DefaultIsZeroes>(v: &mut Vec<T>, room: usize) {
    v.clear();
    if v.capacity() < room {
        wipe_allocation(v);
        *v = Vec::with_capacity(room.max(v.capacity().saturating_mul(2)));
    }
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

    const MARK: &[u8] = b"wipe-marker-0c94";

    #[test]
    fn growing_wipes_the_old_allocation_and_keeps_one_that_fits() {
        let found = count_freed_holding(MARK, || {
            let mut v = MARK.to_vec();
            clear_with_room(&mut v, 4096);
            assert!(v.is_empty() && v.capacity() >= 4096);
            v.extend_from_slice(MARK);
            let before = v.as_ptr();
            clear_with_room(&mut v, 16);
            assert_eq!(v.as_ptr(), before, "an allocation that fits is kept");
            v.extend_from_slice(MARK);
            wipe_allocation(&mut v);
        });
        assert_eq!(found, 0);
        // `reserve` in its place frees the old bytes unwiped: the check can fail.
        let found = count_freed_holding(MARK, || {
            let mut v = MARK.to_vec();
            v.clear();
            v.reserve(4096);
        });
        assert!(found >= 1, "{found}");
    }

    #[test]
    fn wide_elements_are_wiped_whole() {
        let mut v: Vec<u16> = vec![0xabcd; 100];
        v.truncate(1);
        wipe_allocation(&mut v);
        assert!(v.is_empty() && v.capacity() >= 100);
        // SAFETY: the test reads back the first 100 elements of the allocation, all just
        // zeroed (initialised) by the wipe, within its capacity.
        let all = unsafe { std::slice::from_raw_parts(v.as_ptr(), 100) };
        assert!(all.iter().all(|&u| u == 0));
    }
}
