//! Locked memory for key material: the only module of this crate that uses `unsafe`.
//!
//! Plaintext keys (and the AES key schedules built from them) live in [`Locked<T>`] slots
//! carved out of 64 KiB chunks that are `mmap`ed privately, `mlock`ed (never swapped) and
//! marked `MADV_DONTDUMP` (left out of core dumps). Slots come in power-of-two size classes
//! from 64 to 4096 bytes, so slots never straddle pages and a slot is aligned to its size.
//! A slot is zeroed (with `zeroize`, which the optimiser cannot elide) when its value is
//! dropped and goes back to a per-class free list (through a stash of a few slots per thread,
//! so a thread that frees and takes a key per call never touches the shared lists); chunks
//! are kept for reuse, so the pool grows to the peak number of live keys and never unlocks a
//! page another key still uses.
//!
//! If `mlock` fails (e.g. `RLIMIT_MEMLOCK` too low for an unprivileged process), the chunk is
//! still used, zeroed on release and excluded from dumps; the failure is counted and can be
//! read with [`memory_lock_failures`], so a caller can refuse to run or warn. We chose this
//! over failing every encrypt: Go's memguard fails hard, which in practice makes operators
//! raise the limit or disable locking globally.
//!
//! [`WipeOnFork`] is a second kind of locked memory: one page that the kernel also zeroes in
//! a forked child (`MADV_WIPEONFORK`), for the per-thread random generator (`rng.rs`), whose
//! state a child must never reuse.
//!
//! Residual exposure, stated plainly: [`Locked::new`] moves a value in, so a transient copy
//! may exist in a stack frame (the AES key schedule is built by `aes-gcm` on the stack and
//! moved here); raw 32-byte keys avoid that by being generated or decrypted in place.
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use zeroize::Zeroize;

const CHUNK: usize = 64 * 1024;
const MIN_CLASS: usize = 64;
const MAX_CLASS: usize = 4096;
const CLASSES: usize = 7; // 64, 128, 256, 512, 1024, 2048, 4096

/// Free slots per size class, as addresses (kept outside the locked chunks).
static FREE: [Mutex<Vec<usize>>; CLASSES] = [
    parking_lot::const_mutex(Vec::new()),
    parking_lot::const_mutex(Vec::new()),
    parking_lot::const_mutex(Vec::new()),
    parking_lot::const_mutex(Vec::new()),
    parking_lot::const_mutex(Vec::new()),
    parking_lot::const_mutex(Vec::new()),
    parking_lot::const_mutex(Vec::new()),
];
static LOCK_FAILURES: AtomicUsize = AtomicUsize::new(0);
static CHUNKS: AtomicUsize = AtomicUsize::new(0);

/// How many mappings of key memory could not be `mlock`ed: 64 KiB chunks of key slots and
/// the 4 KiB pages of the per-thread record generators (0 means all of it is locked).
pub fn memory_lock_failures() -> usize {
    LOCK_FAILURES.load(Ordering::Relaxed)
}

/// How many 64 KiB chunks of key memory are mapped (a rough gauge of locked memory in use).
pub fn locked_chunks() -> usize {
    CHUNKS.load(Ordering::Relaxed)
}

/// A `T` stored in a locked, zero-on-drop slot. Derefs to `T`; `Debug` never shows content.
pub(crate) struct Locked<T> {
    ptr: NonNull<T>,
    class: usize,
    _owns: PhantomData<T>,
}

// SAFETY: `Locked<T>` owns its `T` exclusively (like `Box<T>`): sending it sends the `T`.
unsafe impl<T: Send> Send for Locked<T> {}
// SAFETY: shared access only hands out `&T` (like `Box<T>`), so `T: Sync` suffices.
unsafe impl<T: Sync> Sync for Locked<T> {}

impl<T> Locked<T> {
    /// Moves `value` into a locked slot.
    pub(crate) fn new(value: T) -> Self {
        let (addr, class) = alloc_slot::<T>();
        let ptr = addr as *mut T;
        // SAFETY: `addr` is a fresh slot of `class >= size_of::<T>()` bytes, aligned to
        // `class >= align_of::<T>()`, exclusively ours until `Drop` returns it.
        unsafe { ptr.write(value) };
        Locked {
            ptr: NonNull::new(ptr).expect("mmap never returns null"),
            class,
            _owns: PhantomData,
        }
    }
}

impl<const N: usize> Locked<[u8; N]> {
    /// A locked all-zero byte array, to be filled in place (keys never transit the stack).
    pub(crate) fn zeroed() -> Self {
        let (addr, class) = alloc_slot::<[u8; N]>();
        // Slots are always zero when handed out (fresh `mmap` pages, or zeroized on release),
        // and all-zero bytes are a valid `[u8; N]`.
        Locked {
            ptr: NonNull::new(addr as *mut [u8; N]).expect("mmap never returns null"),
            class,
            _owns: PhantomData,
        }
    }
}

impl<T> Deref for Locked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `ptr` points at an initialised `T` that lives until `Drop`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for Locked<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` guarantees exclusive access.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for Locked<T> {
    fn drop(&mut self) {
        let addr = self.ptr.as_ptr() as usize;
        // SAFETY: the `T` is initialised and is never used again after this line.
        unsafe { std::ptr::drop_in_place(self.ptr.as_ptr()) };
        // SAFETY: the slot is `class` bytes of mapped, writable memory that only we own,
        // aligned to `class` (a power of two >= 64), so it is `class / 8` aligned `u64`s.
        let words = unsafe { std::slice::from_raw_parts_mut(addr as *mut u64, self.class / 8) };
        // Word stores: `zeroize` writes a `[u8]` one volatile byte at a time.
        words.zeroize();
        free_slot(addr, self.class);
    }
}

impl<T> std::fmt::Debug for Locked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Locked(<redacted>)")
    }
}

fn size_class<T>() -> usize {
    let class = size_of::<T>()
        .max(align_of::<T>())
        .max(MIN_CLASS)
        .next_power_of_two();
    assert!(
        class <= MAX_CLASS,
        "locked memory: type of {} bytes is too large",
        size_of::<T>()
    );
    class
}

fn class_index(class: usize) -> usize {
    (class.trailing_zeros() - MIN_CLASS.trailing_zeros()) as usize
}

/// Free slots each thread keeps for itself, per size class, before it returns one to
/// [`FREE`]. A call allocates and frees a slot or two (a data-row key, its random bytes), so
/// a thread that keeps a few never takes the global class lock in steady state: two lock
/// round trips per slot, on a cache line every calling thread writes, measured at about
/// 3 % of a 64 B decrypt in the core alone.
const LOCAL_SLOTS: usize = 4;

/// A thread's own free slots (zeroed, like those in [`FREE`]); handed back to [`FREE`] when
/// the thread exits.
struct LocalSlots {
    slots: [[usize; LOCAL_SLOTS]; CLASSES],
    lens: [usize; CLASSES],
}

impl Drop for LocalSlots {
    fn drop(&mut self) {
        for (i, slots) in self.slots.iter().enumerate() {
            FREE[i].lock().extend_from_slice(&slots[..self.lens[i]]);
        }
    }
}

thread_local! {
    static LOCAL: std::cell::RefCell<LocalSlots> = const {
        std::cell::RefCell::new(LocalSlots { slots: [[0; LOCAL_SLOTS]; CLASSES], lens: [0; CLASSES] })
    };
}

/// Returns a zeroed slot to this thread's stash, or to [`FREE`] when that is full (or the
/// thread's locals are already gone, during its exit).
fn free_slot(addr: usize, class: usize) {
    let i = class_index(class);
    let kept = LOCAL
        .try_with(|l| {
            let mut l = l.borrow_mut();
            let n = l.lens[i];
            if n == LOCAL_SLOTS {
                return false;
            }
            l.slots[i][n] = addr;
            l.lens[i] = n + 1;
            true
        })
        .unwrap_or(false);
    if !kept {
        FREE[i].lock().push(addr);
    }
}

/// Returns the address of a zeroed slot for a `T`, and the slot's size class.
fn alloc_slot<T>() -> (usize, usize) {
    let class = size_class::<T>();
    let i = class_index(class);
    let local = LOCAL
        .try_with(|l| {
            let mut l = l.borrow_mut();
            let n = l.lens[i].checked_sub(1)?;
            l.lens[i] = n;
            Some(l.slots[i][n])
        })
        .ok()
        .flatten();
    if let Some(addr) = local {
        return (addr, class);
    }
    let mut free = FREE[i].lock();
    if let Some(addr) = free.pop() {
        return (addr, class);
    }
    let base = map_chunk();
    free.extend((1..CHUNK / class).map(|i| base + i * class));
    (base, class)
}

/// Maps, locks and dump-excludes one chunk; aborts the process if the kernel has no memory
/// left (as the global allocator does), since there is nowhere safe to put a key.
fn map_chunk() -> usize {
    let Some(ptr) = map_private(CHUNK) else {
        std::alloc::handle_alloc_error(
            std::alloc::Layout::from_size_align(CHUNK, 4096).expect("valid layout"),
        );
    };
    lock_and_hide(ptr, CHUNK);
    CHUNKS.fetch_add(1, Ordering::Relaxed);
    ptr as usize
}

/// A fresh anonymous private mapping of `len` bytes (zeroed), or `None` if the kernel
/// refuses.
fn map_private(len: usize) -> Option<*mut libc::c_void> {
    // SAFETY: an anonymous private mapping with no address hint has no preconditions.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    (ptr != libc::MAP_FAILED).then_some(ptr)
}

/// Locks a mapping in memory (counting a failure, see [`memory_lock_failures`]) and leaves
/// it out of core dumps.
fn lock_and_hide(ptr: *mut libc::c_void, len: usize) {
    // SAFETY: `ptr..ptr+len` is a whole mapping made by `map_private`. Both calls only change
    // residency and dump behaviour; their failure leaves a usable mapping.
    unsafe {
        if libc::mlock(ptr, len) != 0 {
            LOCK_FAILURES.fetch_add(1, Ordering::Relaxed);
        }
        let _ = libc::madvise(ptr, len, libc::MADV_DONTDUMP);
    }
}

/// Size of a [`WipeOnFork`] region (one page on every Linux architecture we build for).
pub(crate) const WIPE_ON_FORK_LEN: usize = 4096;

/// One private page that a forked child sees as all zeros (`MADV_WIPEONFORK`, Linux 4.14+),
/// locked like key slots, left out of core dumps, zeroed and unmapped on drop. Holds plain
/// bytes only, so the zero page a child finds is a valid value.
pub(crate) struct WipeOnFork {
    ptr: NonNull<u8>,
}

// SAFETY: the page is owned exclusively (like a `Box<[u8]>`); nothing refers to it elsewhere.
unsafe impl Send for WipeOnFork {}

impl WipeOnFork {
    /// A fresh zeroed page, or `None` if the kernel cannot wipe it on fork (older than 4.14,
    /// or not Linux) or has no memory: callers then must not keep state across calls.
    pub(crate) fn new() -> Option<Self> {
        Self::map(true)
    }

    /// The same page without `MADV_WIPEONFORK`: only for the test that shows what a child
    /// would inherit without it.
    #[cfg(test)]
    pub(crate) fn without_wipe_for_test() -> Option<Self> {
        Self::map(false)
    }

    fn map(wipe: bool) -> Option<Self> {
        let ptr = map_private(WIPE_ON_FORK_LEN)?;
        let page = WipeOnFork {
            ptr: NonNull::new(ptr.cast::<u8>()).expect("mmap never returns null"),
        };
        if wipe && !advise_wipe_on_fork(ptr) {
            return None; // `page` is unmapped by its drop
        }
        lock_and_hide(ptr, WIPE_ON_FORK_LEN);
        Some(page)
    }

    /// The page's bytes.
    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the page is `WIPE_ON_FORK_LEN` mapped, writable bytes owned by `self`, and
        // `&mut self` makes this the only reference; any byte pattern is a valid `u8`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), WIPE_ON_FORK_LEN) }
    }
}

#[cfg(target_os = "linux")]
fn advise_wipe_on_fork(ptr: *mut libc::c_void) -> bool {
    // SAFETY: `ptr` is a whole private anonymous mapping of `WIPE_ON_FORK_LEN` bytes, the only
    // kind MADV_WIPEONFORK accepts; the advice changes what a child sees, nothing here.
    unsafe { libc::madvise(ptr, WIPE_ON_FORK_LEN, libc::MADV_WIPEONFORK) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn advise_wipe_on_fork(_: *mut libc::c_void) -> bool {
    false
}

impl Drop for WipeOnFork {
    fn drop(&mut self) {
        self.bytes().zeroize();
        // SAFETY: the mapping was created by `map` with this length and is not used again.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), WIPE_ON_FORK_LEN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_zeroed_reused_and_aligned() {
        let mut a = Locked::<[u8; 32]>::zeroed();
        assert_eq!(*a, [0u8; 32]);
        a.copy_from_slice(&[7u8; 32]);
        let addr = &*a as *const _ as usize;
        assert_eq!(addr % 64, 0);
        drop(a);
        // Another slot of the class is handed out zeroed, whichever one it is.
        let b = Locked::<[u8; 32]>::zeroed();
        assert_eq!(*b, [0u8; 32]);
    }

    /// A thread reuses the slots it freed (no global lock) and, when it exits, hands the ones
    /// it still keeps back to the shared lists, wiped. A class no other test uses (2 KiB),
    /// so the shared list is this test's alone.
    #[test]
    fn a_thread_keeps_freed_slots_and_returns_them_wiped_on_exit() {
        type Big = [u8; 2000];
        let stashed = std::thread::spawn(|| {
            let mut keys: Vec<Locked<Big>> = (0..LOCAL_SLOTS + 2)
                .map(|i| {
                    let mut k = Locked::<Big>::zeroed();
                    k.fill(i as u8 + 1);
                    k
                })
                .collect();
            let last = &*keys[0] as *const Big as usize;
            drop(keys.remove(0));
            let again = Locked::<Big>::zeroed();
            assert_eq!(
                &*again as *const Big as usize, last,
                "reused from the stash"
            );
            assert!(again.iter().all(|&b| b == 0));
            keys.push(again);
            keys.iter()
                .map(|k| &**k as *const Big as usize)
                .collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        let free = FREE[class_index(2048)].lock();
        for addr in stashed {
            assert!(
                free.contains(&addr),
                "slot {addr:#x} came back to the shared list"
            );
            // SAFETY: a free slot of mapped chunk memory, which is never unmapped.
            let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, 2048) };
            assert!(bytes.iter().all(|&b| b == 0), "slot {addr:#x} was wiped");
        }
    }

    #[test]
    fn chunks_are_locked_when_the_limit_allows() {
        let _key = Locked::<[u8; 32]>::zeroed();
        assert!(locked_chunks() >= 1);
        if memory_lock_failures() == 0 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("VmLck:")).unwrap();
            let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
            assert!(kb >= (CHUNK / 1024) as u64, "{line}");
        }
    }

    #[test]
    fn drops_inner_value() {
        use std::sync::Arc;
        let marker = Arc::new(());
        let l = Locked::new(Arc::clone(&marker));
        assert_eq!(Arc::strong_count(&marker), 2);
        drop(l);
        assert_eq!(Arc::strong_count(&marker), 1);
        assert_eq!(format!("{:?}", Locked::new(5u64)), "Locked(<redacted>)");
    }

    /// Draws 56 bytes in a forked child and in the parent after it, from a generator the
    /// parent had already used. With `MADV_WIPEONFORK` the child seeds afresh and the two
    /// differ; on a page without it, the child repeats the parent's next bytes exactly, which
    /// would give both the same data-row key and nonces (the failure the advice prevents).
    #[test]
    fn forked_child_never_repeats_its_parents_random_bytes() {
        fn child_and_parent(mut g: crate::rng::Generator) -> ([u8; 56], [u8; 56]) {
            let mut warm = [0u8; 56];
            g.fill(&mut warm).unwrap();
            let mut fds = [0i32; 2];
            // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            // SAFETY: the child only fills a stack array from the page (no allocation, no
            // lock: `getrandom` and ChaCha20 on memory it owns), writes it and `_exit`s.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0);
            if pid == 0 {
                let mut b = [0u8; 56];
                let ok = g.fill(&mut b).is_ok();
                // SAFETY: `b` is 56 readable bytes; `_exit` never returns.
                unsafe {
                    if ok {
                        libc::write(fds[1], b.as_ptr().cast(), b.len());
                    }
                    libc::_exit(0);
                }
            }
            let mut from_child = [0u8; 56];
            // SAFETY: `from_child` has room for 56 bytes; the descriptors are ours.
            unsafe {
                libc::close(fds[1]);
                assert_eq!(
                    libc::read(fds[0], from_child.as_mut_ptr().cast(), 56),
                    56,
                    "the child wrote no bytes"
                );
                libc::close(fds[0]);
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0);
            }
            let mut from_parent = [0u8; 56];
            g.fill(&mut from_parent).unwrap();
            (from_child, from_parent)
        }

        let page = WipeOnFork::new().expect("this kernel has MADV_WIPEONFORK");
        let (child, parent) = child_and_parent(crate::rng::Generator::on(page));
        assert_ne!(
            child, parent,
            "the child repeated its parent's random bytes"
        );

        let page = WipeOnFork::without_wipe_for_test().unwrap();
        let (child, parent) = child_and_parent(crate::rng::Generator::on(page));
        assert_eq!(
            child, parent,
            "without the advice the child shares the state"
        );
    }
}
