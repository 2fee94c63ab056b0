//! libasherah's own log lines (`asherah-cobhan: ...`, printed by Go's `log` package to
//! stderr) delivered to the log hook.
//!
//! libasherah exports no logging hook (its exports are `SetupJson`, `Encrypt*`, `Decrypt*`,
//! `EstimateBuffer`, `SetEnv`, `Shutdown`), and Go writes straight to fd 2. So while a log
//! hook is set and the Go core is (or is about to be) loaded, a pipe and a reader thread are
//! ready, and **while a call is inside Go** fd 2 points at the pipe (the core's call watch,
//! [`go::set_call_watch`], opens and closes that window). The reader takes each complete
//! line of Go's log form (`asherah-cobhan: ...`, after an optional `YYYY/MM/DD HH:MM:SS `)
//! to the hook and writes every other byte, in order, to the real stderr (a saved duplicate
//! of the original fd 2). When the last call leaves Go, fd 2 is put back and the leaving
//! thread waits (at most 200 ms) until the reader has handled what is in the pipe. Nothing
//! is captured when no hook is set: Go's lines then reach stderr as before.
//!
//! Trade-offs, by design. Outside Go calls fd 2 is the real stderr, so a JS runtime's own
//! last words (an uncaught error printed just before `_exit`, which no exit handler sees)
//! never sit in the pipe; a process that dies while a call is inside Go can lose what the
//! reader had not read yet (an `atexit` handler drains on `exit()`). Bytes written by other
//! threads during a window are forwarded in order, but one written just after a window
//! closes can overtake one written just before it (the pipe is drained right after). A
//! full real stderr blocks writers exactly as before: the reader only blocks on that write
//! and takes no lock a writer holds. Child processes spawned during a window inherit the
//! pipe as their stderr. No signal handler is involved, so nothing here has to be
//! async-signal-safe.

use std::cell::Cell;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::log::{self, Level};
use crate::core::go;

/// The reader thread of a running capture.
struct Tap {
    read_end: RawFd,
    reader: JoinHandle<()>,
}

/// Where fd 2 goes: the number of calls inside Go, and the two ends it switches between
/// (-1 when no capture runs, so a late window never touches a closed descriptor).
struct Window {
    calls: usize,
    pipe: RawFd,
    real_stderr: RawFd,
}

static TAP: Mutex<Option<Tap>> = Mutex::new(None);
static WINDOW: Mutex<Window> = Mutex::new(Window {
    calls: 0,
    pipe: -1,
    real_stderr: -1,
});
/// A capture runs (checked first by every window, so Go calls cost nothing otherwise).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Tells the reader to forward what is left and stop.
static STOP: AtomicBool = AtomicBool::new(false);
/// The reader is handling bytes it has read (see [`settle`]).
static BUSY: AtomicBool = AtomicBool::new(false);
/// The pipe's read end while a capture runs, else -1.
static READ_END: AtomicI32 = AtomicI32::new(-1);
static AT_EXIT: std::sync::Once = std::sync::Once::new();

thread_local! {
    /// Windows this thread opened and has not closed (a capture may start mid-call).
    static OPENED: Cell<u32> = const { Cell::new(0) };
}

/// Installs the window around every Go call; called once at module load.
pub(super) fn install() {
    go::set_call_watch(enter_go, leave_go);
}

/// Starts or stops the capture: on while some env has a log hook and the Go core is loaded
/// or `go_starting` (a Go setup is about to load it), off when no hook is left.
pub(super) fn update(go_starting: bool) {
    let want = log::hooked() && (go_starting || go::is_loaded());
    let mut tap = TAP.lock();
    match (tap.is_some(), want) {
        (false, true) => {
            match start() {
                Ok(t) => *tap = Some(t),
                Err(e) => {
                    drop(tap);
                    log::emit(
                    Level::Warn,
                    format!("libasherah's log lines stay on stderr: capturing them failed (errno {e})"),
                );
                }
            }
        }
        (true, false) if !log::hooked() => {
            if let Some(t) = tap.take() {
                stop(t);
            }
        }
        _ => {}
    }
}

/// Waits (at most 200 ms) until the reader has handled every byte written to the pipe so
/// far. Called when the last call leaves Go, and before a sync call throws.
pub(super) fn settle() {
    settle_for(Duration::from_millis(200));
}

/// A call enters Go: the first one points fd 2 at the pipe.
fn enter_go() {
    if !ACTIVE.load(Ordering::Acquire) {
        return;
    }
    let mut w = WINDOW.lock();
    if w.pipe < 0 {
        return;
    }
    if w.calls == 0 {
        // SAFETY: both fds are open while `pipe` is not -1 (cleared under this lock before
        // they are closed).
        unsafe { libc::dup2(w.pipe, 2) };
    }
    w.calls += 1;
    OPENED.with(|o| o.set(o.get() + 1));
}

/// A call leaves Go: the last one puts fd 2 back, then waits for the reader.
fn leave_go() {
    if OPENED.with(|o| o.get()) == 0 {
        return;
    }
    OPENED.with(|o| o.set(o.get() - 1));
    {
        let mut w = WINDOW.lock();
        w.calls = w.calls.saturating_sub(1);
        if w.calls == 0 && w.real_stderr >= 0 {
            // SAFETY: as in `enter_go`.
            unsafe { libc::dup2(w.real_stderr, 2) };
        }
    }
    settle();
}

fn start() -> Result<Tap, i32> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(errno());
    }
    let (read_end, write_end) = (fds[0], fds[1]);
    // SAFETY: duplicating fd 2 (always open in a JS runtime) to a new close-on-exec fd.
    let real_stderr = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3) };
    if real_stderr < 0 {
        let e = errno();
        close_all(&[read_end, write_end]);
        return Err(e);
    }
    STOP.store(false, Ordering::Release);
    READ_END.store(read_end, Ordering::Release);
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain extern "C" fn with no arguments.
        unsafe { libc::atexit(stop_at_exit) };
    });
    let reader = std::thread::Builder::new()
        .name("asherah-go-log".into())
        .spawn(move || read_loop(read_end, real_stderr))
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EAGAIN));
    match reader {
        Ok(reader) => {
            let mut w = WINDOW.lock();
            w.pipe = write_end;
            w.real_stderr = real_stderr;
            ACTIVE.store(true, Ordering::Release);
            Ok(Tap { read_end, reader })
        }
        Err(e) => {
            READ_END.store(-1, Ordering::Release);
            close_all(&[read_end, write_end, real_stderr]);
            Err(e)
        }
    }
}

/// Puts fd 2 back (even mid-call), lets the reader forward what is left, closes the pipe.
fn stop(t: Tap) {
    ACTIVE.store(false, Ordering::Release);
    let (pipe, real_stderr) = {
        let mut w = WINDOW.lock();
        if w.calls > 0 && w.real_stderr >= 0 {
            // SAFETY: as in `enter_go`.
            unsafe { libc::dup2(w.real_stderr, 2) };
        }
        let fds = (w.pipe, w.real_stderr);
        (w.pipe, w.real_stderr) = (-1, -1);
        fds
    };
    close_all(&[pipe]); // the reader sees EOF once the pipe is empty
    STOP.store(true, Ordering::Release);
    let _ = t.reader.join();
    READ_END.store(-1, Ordering::Release);
    close_all(&[t.read_end, real_stderr]);
}

/// The process is exiting (`exit()`): fd 2 goes back to the real stderr and the reader gets
/// up to a second to forward what is still in the pipe. Takes no lock another thread may
/// hold: if one is held right now, it leaves things as they are.
extern "C" fn stop_at_exit() {
    let Some(mut w) = WINDOW.try_lock() else {
        return;
    };
    if w.calls > 0 && w.real_stderr >= 0 {
        // SAFETY: as in `enter_go`.
        unsafe { libc::dup2(w.real_stderr, 2) };
    }
    w.calls = 0;
    drop(w);
    if ACTIVE.load(Ordering::Acquire) {
        STOP.store(true, Ordering::Release);
        settle_for(Duration::from_secs(1));
    }
}

/// Waits, polling, until the pipe is empty and the reader idle, or `limit` has passed.
fn settle_for(limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let fd = READ_END.load(Ordering::Acquire);
        let mut pending: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the valid pointer; a closed fd only
        // makes the call fail, which ends the wait.
        if fd < 0 || unsafe { libc::ioctl(fd, libc::FIONREAD, &mut pending) } != 0 {
            return;
        }
        if pending == 0 && !BUSY.load(Ordering::Acquire) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn read_loop(read_end: RawFd, real_stderr: RawFd) {
    let mut buf = vec![0u8; 64 << 10];
    let mut pending: Vec<u8> = Vec::new();
    let mut stop_seen: Option<Instant> = None;
    loop {
        let mut pfd = libc::pollfd {
            fd: read_end,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, 50) };
        if STOP.load(Ordering::Acquire) {
            // A child process may still hold the pipe: forward for at most a second more.
            if stop_seen.get_or_insert_with(Instant::now).elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        if ready > 0 {
            BUSY.store(true, Ordering::Release);
            // SAFETY: `buf` is valid for `buf.len()` bytes.
            let n = unsafe { libc::read(read_end, buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                pending.extend_from_slice(&buf[..n as usize]);
                route(&mut pending, real_stderr);
                BUSY.store(false, Ordering::Release);
                continue; // read until the pipe is empty before looking at STOP
            }
            BUSY.store(false, Ordering::Release);
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            // 0: every writer is gone (fd 2 restored, no child holds the pipe).
            break;
        }
        if stop_seen.is_some() {
            break;
        }
    }
    write_all(real_stderr, &pending);
}

/// Sends each complete line to the hook (Go's) or to the real stderr (anything else), and
/// forwards a trailing partial line at once unless it may still become a Go line.
fn route(pending: &mut Vec<u8>, real_stderr: RawFd) {
    let mut start = 0;
    let mut plain_from = 0; // start of bytes to forward that are not yet written
    while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
        let line = &pending[start..start + nl + 1];
        if let Some(message) = go_message(line) {
            write_all(real_stderr, &pending[plain_from..start]);
            let text = unquote(String::from_utf8_lossy(message).trim_end()).to_owned();
            log::emit_from(log::GO_CORE, level_of(&text), text);
            plain_from = start + nl + 1;
        }
        start += nl + 1;
    }
    let tail = &pending[start..];
    let hold = !tail.is_empty() && may_become_go_line(tail);
    let forward_to = if hold { start } else { pending.len() };
    write_all(real_stderr, &pending[plain_from..forward_to]);
    pending.drain(..forward_to);
}

const PREFIX: &[u8] = b"asherah-cobhan: ";
/// Go's `log.LstdFlags` date and time: `2006/01/02 15:04:05 ` (`9` = any digit).
const STAMP: &[u8] = b"9999/99/99 99:99:99 ";

/// The message of a Go log line from libasherah (without date and prefix), or `None`.
fn go_message(line: &[u8]) -> Option<&[u8]> {
    let rest = if line.len() >= STAMP.len() && stamp_matches(&line[..STAMP.len()]) {
        &line[STAMP.len()..]
    } else {
        line
    };
    rest.strip_prefix(PREFIX)
}

fn stamp_matches(s: &[u8]) -> bool {
    s.iter().zip(STAMP).all(|(c, t)| {
        if *t == b'9' {
            c.is_ascii_digit()
        } else {
            c == t
        }
    })
}

/// Whether a partial line could still turn into a Go log line.
fn may_become_go_line(tail: &[u8]) -> bool {
    let stamp_len = tail.len().min(STAMP.len());
    if stamp_matches(&tail[..stamp_len]) {
        let after = &tail[stamp_len..];
        return PREFIX.starts_with(&after[..after.len().min(PREFIX.len())]);
    }
    PREFIX.starts_with(&tail[..tail.len().min(PREFIX.len())])
}

/// libasherah 0.3.9 prints some messages with `%#v`, i.e. as a quoted Go string: drop the
/// quotes (the text inside has no escapes worth decoding for a log line).
fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// libasherah's lines carry no level: errors and failures are `Error`, warnings `Warn`,
/// the rest (setup notes, its debug log with `Verbose`) `Info`.
fn level_of(text: &str) -> Level {
    let lower = text.to_ascii_lowercase();
    if lower.contains("error") || lower.contains("fail") || lower.contains("panic") {
        Level::Error
    } else if lower.contains("warn") {
        Level::Warn
    } else {
        Level::Info
    }
}

fn write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        match errno() {
            libc::EINTR => continue,
            libc::EAGAIN => {
                // A non-blocking real stderr that is full: wait until it drains.
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pfd, 1, 1000) };
            }
            _ => return, // stderr is gone: nothing more can be shown
        }
    }
}

fn close_all(fds: &[RawFd]) {
    for &fd in fds.iter().filter(|fd| **fd >= 0) {
        // SAFETY: each fd is one we opened and no longer use.
        unsafe { libc::close(fd) };
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_lines_are_recognised_with_or_without_a_stamp() {
        assert_eq!(
            go_message(b"2026/12/01 06:20:00 asherah-cobhan: hello\n"),
            Some(&b"hello\n"[..])
        );
        assert_eq!(go_message(b"asherah-cobhan: x\n"), Some(&b"x\n"[..]));
        assert_eq!(go_message(b"user: asherah-cobhan: x\n"), None);
        assert_eq!(go_message(b"2026/12/01 06:20:00 other\n"), None);
    }

    #[test]
    fn partial_lines_are_held_only_while_they_may_become_go_lines() {
        assert!(may_become_go_line(b"2026/12/0"));
        assert!(may_become_go_line(b"2026/12/01 06:20:00 asherah-c"));
        assert!(may_become_go_line(b"ash"));
        assert!(!may_become_go_line(b"progress: 10%"));
        assert!(!may_become_go_line(b"2026-12-01"));
    }

    #[test]
    fn quoted_messages_lose_their_quotes() {
        assert_eq!(unquote("\"*** WARNING ***\""), "*** WARNING ***");
        assert_eq!(unquote("plain"), "plain");
    }

    #[test]
    fn levels_follow_the_words() {
        assert_eq!(level_of("failed to connect"), Level::Error);
        assert_eq!(level_of("WARNING: memory metastore"), Level::Warn);
        assert_eq!(level_of("setup called"), Level::Info);
    }
}
