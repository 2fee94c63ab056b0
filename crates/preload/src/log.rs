//! The report: one line per repaired signal and per adjusted thread, written with a single
//! `write(2)` from a stack buffer (no heap, no stdio lock), so concurrent lines from
//! several threads never interleave inside a line. Off unless `ASHERAH_SHIM_PRELOAD_LOG`
//! names `stderr` or a file (opened once, append mode, close-on-exec).

use core::fmt::{self, Write};
use std::sync::atomic::{AtomicI32, Ordering};

use asherah_shim_signals::StackBuf;

static FD: AtomicI32 = AtomicI32::new(-1);

/// Opens the log target; called once from the constructor.
pub fn open(target: &[u8]) {
    if target == b"stderr" || target == b"2" {
        FD.store(2, Ordering::Relaxed);
        return;
    }
    let mut path = [0u8; 4096];
    if target.len() >= path.len() {
        return;
    }
    path[..target.len()].copy_from_slice(target);
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC;
    // SAFETY: `path` is NUL-terminated (zero-filled beyond the copied bytes).
    let fd = unsafe { libc::open(path.as_ptr().cast(), flags, 0o644) };
    FD.store(fd, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    FD.load(Ordering::Relaxed) >= 0
}

/// Writes `asherah-shim-preload[<pid>]: <args>\n` if logging is on.
pub fn line(args: fmt::Arguments<'_>) {
    let fd = FD.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let mut buf = StackBuf::<768>::new();
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let _ = write!(buf, "asherah-shim-preload[{pid}]: {args}");
    let _ = buf.write_str("\n");
    let bytes = buf.as_bytes();
    // SAFETY: writing an initialised byte slice; a short or failed write only loses a line.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}

/// The first line: what this process will do.
pub fn startup() {
    if !enabled() {
        return;
    }
    line(format_args!(
        "active min_stack={} block_signals={} repair={}{}",
        crate::config::min_stack(),
        crate::config::block_signals() as u8,
        crate::config::repair() as u8,
        if crate::config::bad_min_stack() {
            " (ASHERAH_SHIM_MIN_STACK unreadable, default kept)"
        } else {
            ""
        },
    ));
}

/// Displays a C string (or `NULL`) with at most 200 bytes of it, lossily.
pub struct CPath(pub *const libc::c_char);

impl fmt::Display for CPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_null() {
            return f.write_str("NULL");
        }
        // SAFETY: the caller passed a NUL-terminated string (dlopen's contract).
        let bytes = unsafe { std::ffi::CStr::from_ptr(self.0) }.to_bytes();
        let shown = &bytes[bytes.len().saturating_sub(200)..];
        for chunk in shown.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_char('?')?;
            }
        }
        Ok(())
    }
}
