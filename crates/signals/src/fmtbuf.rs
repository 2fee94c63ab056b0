//! A `fmt::Write` sink over a fixed byte array, for building log lines without the heap.
//!
//! `core::fmt` itself never allocates, so `write!(buf, "{decision}")` into a [`StackBuf`]
//! is usable in a `dlopen` or `pthread_create` wrapper (not inside a signal handler: the
//! formatting machinery is not documented as async-signal-safe). Output that does not fit
//! is truncated, never an error, so a long line can't abort the caller.

use core::fmt;

/// `N` bytes of text, filled by `write!` and read back with [`StackBuf::as_bytes`].
pub struct StackBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        StackBuf {
            buf: [0; N],
            len: 0,
        }
    }
    /// What has been written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    /// What has been written so far, as text.
    pub fn as_str(&self) -> &str {
        // Truncation happens on char boundaries (see write_str), so this never fails.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
    /// Forgets what was written.
    pub fn clear(&mut self) {
        self.len = 0;
    }
    /// Whether a write was (or would be) cut short.
    pub fn is_full(&self) -> bool {
        self.len == N
    }
}

impl<const N: usize> Default for StackBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for StackBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use core::fmt::Write;

    use super::*;

    #[test]
    fn truncates_on_char_boundary() {
        let mut b = StackBuf::<5>::new();
        let tail = "é€x";
        write!(b, "ab{tail}").unwrap();
        assert_eq!(b.as_str(), "abé");
        let mut b = StackBuf::<64>::new();
        write!(b, "n={} {:#x}", 42, 255).unwrap();
        assert_eq!(b.as_str(), "n=42 0xff");
    }
}
