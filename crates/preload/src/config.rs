//! Settings, read once from the environment by the library constructor and kept in atomics
//! so the interposed functions never call `getenv` (and never race a host's `setenv`).
//!
//! - `ASHERAH_SHIM_MIN_STACK`: minimum thread stack, bytes or with a `K`/`M`/`G` suffix
//!   (default `8M`; `0` turns the stack adjustment off).
//! - `ASHERAH_SHIM_BLOCK_SIGNALS=1`: start new threads with asynchronous signals blocked.
//! - `ASHERAH_SHIM_REPAIR=0`: only report what a `dlopen` changed, restore nothing.
//! - `ASHERAH_SHIM_PRELOAD_LOG=stderr|<path>`: where the report lines go (default: none).

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub const DEFAULT_MIN_STACK: usize = 8 << 20;

static MIN_STACK: AtomicUsize = AtomicUsize::new(DEFAULT_MIN_STACK);
static BLOCK_SIGNALS: AtomicBool = AtomicBool::new(false);
static REPAIR: AtomicBool = AtomicBool::new(true);
static BAD_MIN_STACK: AtomicBool = AtomicBool::new(false);

pub fn min_stack() -> usize {
    MIN_STACK.load(Ordering::Relaxed)
}
pub fn block_signals() -> bool {
    BLOCK_SIGNALS.load(Ordering::Relaxed)
}
pub fn repair() -> bool {
    REPAIR.load(Ordering::Relaxed)
}
/// True when `ASHERAH_SHIM_MIN_STACK` was set but unreadable (the default was kept).
pub fn bad_min_stack() -> bool {
    BAD_MIN_STACK.load(Ordering::Relaxed)
}

/// Reads the environment; called once from the constructor.
pub fn load() {
    if let Some(v) = env(c"ASHERAH_SHIM_MIN_STACK") {
        match parse_size(v) {
            Some(n) => MIN_STACK.store(n, Ordering::Relaxed),
            None => BAD_MIN_STACK.store(true, Ordering::Relaxed),
        }
    }
    if let Some(v) = env(c"ASHERAH_SHIM_BLOCK_SIGNALS") {
        BLOCK_SIGNALS.store(truthy(v), Ordering::Relaxed);
    }
    if let Some(v) = env(c"ASHERAH_SHIM_REPAIR") {
        REPAIR.store(truthy(v), Ordering::Relaxed);
    }
    if let Some(v) = env(c"ASHERAH_SHIM_PRELOAD_LOG") {
        crate::log::open(v);
    }
}

/// The value of `name`, if set and non-empty.
pub fn env(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: getenv with a NUL-terminated name; the constructor runs before the host's
    // main, so no other thread can be calling setenv yet.
    let p = unsafe { libc::getenv(name.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: getenv returned a NUL-terminated string that lives in the environment block.
    let v = unsafe { CStr::from_ptr(p) }.to_bytes();
    (!v.is_empty()).then_some(v)
}

fn truthy(v: &[u8]) -> bool {
    !matches!(v, b"0" | b"false" | b"no" | b"off")
}

/// `8388608`, `8192K`, `8M`, `1G` (case-insensitive, optional trailing `B`/`iB`).
pub fn parse_size(v: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(v).ok()?.trim();
    let s = s
        .strip_suffix("iB")
        .or_else(|| s.strip_suffix('B'))
        .unwrap_or(s);
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n: usize = digits.trim().parse().ok()?;
    n.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size(b"8M"), Some(8 << 20));
        assert_eq!(parse_size(b"8192k"), Some(8 << 20));
        assert_eq!(parse_size(b"16MiB"), Some(16 << 20));
        assert_eq!(parse_size(b"1048576"), Some(1 << 20));
        assert_eq!(parse_size(b"0"), Some(0));
        assert_eq!(parse_size(b"lots"), None);
        assert_eq!(parse_size(b"M"), None);
        assert_eq!(parse_size(b"99999999999999999999G"), None);
    }
}
