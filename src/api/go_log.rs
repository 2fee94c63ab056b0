//! libasherah's own log lines (`asherah-cobhan: ...`, printed by Go's `log` package to
//! stderr) delivered to the log hook.
//!
//! libasherah exports no logging hook (its exports are `SetupJson`, `Encrypt*`, `Decrypt*`,
//! `EstimateBuffer`, `SetEnv`, `Shutdown`), and Go writes straight to fd 2. So while a log
//! hook is set and the Go core is (or is about to be) loaded, fd 2 is a pipe: a reader thread
//! takes each complete line that has Go's log form (`YYYY/MM/DD HH:MM:SS asherah-cobhan: `)
//! to the hook, and writes every other byte, in order, to the real stderr (a saved duplicate
//! of the original fd 2). Nothing is captured when no hook is set, so Go's lines then reach
//! stderr as before.
//!
//! Trade-offs, by design: the user's stderr output keeps its order (one pipe, one reader,
//! forwarded as soon as it is read; only a partial line that could still become a Go line is
//! held until its next byte); a full real stderr blocks writers exactly as before, because
//! the reader only blocks on that write (it takes no lock a writer holds). While captured,
//! fd 2 is a pipe, not a TTY, and child processes spawned then inherit the pipe: their
//! stderr is forwarded while this process lives. At exit (`exit()`, as after an uncaught
//! error) an `atexit` handler puts fd 2 back and lets the reader forward what is still in the
//! pipe; a process killed by a signal loses what was not read yet. No signal handler is
//! involved, so nothing here has to be async-signal-safe.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::log::{self, Level};
use crate::core::go;

/// The running capture: the saved real stderr, the pipe's read end, the reader thread.
struct Tap {
    real_stderr: RawFd,
    read_end: RawFd,
    reader: JoinHandle<()>,
}

static TAP: Mutex<Option<Tap>> = Mutex::new(None);
/// Tells the reader to forward what is left and stop.
static STOP: AtomicBool = AtomicBool::new(false);
/// The reader is handling bytes it has read (see [`settle`]).
static BUSY: AtomicBool = AtomicBool::new(false);
/// The pipe's read end while a tap runs (for [`settle`] and the exit handler), else -1.
static READ_END: AtomicI32 = AtomicI32::new(-1);
static AT_EXIT: std::sync::Once = std::sync::Once::new();

/// Starts or stops the capture: on while some env has a log hook and the Go core is loaded
/// or `go_starting` (a Go setup is about to load it), off when no hook is left.
pub fn update(go_starting: bool) {
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
                    format!("libasherah's log lines stay on stderr: capturing fd 2 failed (errno {e})"),
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
/// far: a Go call's log line is in the pipe when the call returns, so after this its event
/// is queued. Called before a sync call throws.
pub fn settle() {
    let fd = READ_END.load(Ordering::Acquire);
    if fd < 0 {
        return;
    }
    let deadline = Instant::now() + Duration::from_millis(200);
    while Instant::now() < deadline {
        let mut pending: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the valid pointer; a stale fd only
        // makes the call fail, which ends the wait.
        if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut pending) } != 0 {
            return;
        }
        if pending == 0 && !BUSY.load(Ordering::Acquire) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn start() -> Result<Tap, i32> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(errno());
    }
    let (read_end, write_end) = (fds[0], fds[1]);
    // SAFETY: plain fd syscalls on descriptors we own (the pipe) or on fd 2.
    let real_stderr = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: as above.
    if real_stderr < 0 || unsafe { libc::dup2(write_end, 2) } < 0 {
        let e = errno();
        close_all(&[read_end, write_end, real_stderr]);
        return Err(e);
    }
    close_all(&[write_end]);
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
        Ok(reader) => Ok(Tap {
            real_stderr,
            read_end,
            reader,
        }),
        Err(e) => {
            restore(real_stderr);
            READ_END.store(-1, Ordering::Release);
            close_all(&[read_end, real_stderr]);
            Err(e)
        }
    }
}

/// Puts fd 2 back, lets the reader forward what is left, and closes the pipe.
fn stop(t: Tap) {
    restore(t.real_stderr);
    STOP.store(true, Ordering::Release);
    let _ = t.reader.join();
    READ_END.store(-1, Ordering::Release);
    close_all(&[t.read_end, t.real_stderr]);
}

/// The process is exiting: fd 2 goes back to the real stderr and the reader gets up to a
/// second to forward what is still in the pipe. Takes no lock another thread may hold: if
/// a tap is being started or stopped right now, it leaves things as they are.
extern "C" fn stop_at_exit() {
    let Some(mut tap) = TAP.try_lock() else {
        return;
    };
    if let Some(t) = tap.take() {
        restore(t.real_stderr);
        STOP.store(true, Ordering::Release);
        let deadline = Instant::now() + Duration::from_secs(1);
        while !t.reader.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        READ_END.store(-1, Ordering::Release);
    }
}

fn restore(real_stderr: RawFd) {
    // SAFETY: `real_stderr` is our open duplicate of the original fd 2.
    unsafe { libc::dup2(real_stderr, 2) };
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
