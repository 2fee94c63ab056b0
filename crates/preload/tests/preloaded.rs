//! The preload library loaded for real: each test re-runs this test binary as a child with
//! `LD_PRELOAD=libasherah_shim_preload.so` (built by cargo next to the test binary), where
//! the probe makes the calls and panics on a wrong result. The parent bounds the child with
//! a deadline and checks its exit status and output.

use std::ffi::CString;
use std::mem::MaybeUninit;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libc::{c_int, c_void};

const PROBE: &str = "ASHERAH_PRELOAD_PROBE";
const MIB: usize = 1 << 20;

/// Runs `name` as a probe under the preload (or, inside the child, does nothing: the
/// caller's probe body runs instead). Returns the child's stderr (the preload log).
fn under_preload(name: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let lib = preload_library();
    let mut cmd = Command::new(&exe);
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(PROBE, name)
        .env("LD_PRELOAD", &lib)
        .env("ASHERAH_SHIM_PRELOAD_LOG", "stderr")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("probe {name} timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "probe {name} failed\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("PROBE OK"),
        "probe {name} did not run\n{stdout}\n{stderr}"
    );
    stderr
}

/// Cargo does not build a cdylib-only crate for its own integration tests, so build it
/// here (same profile and target directory as this test binary) and return its path.
fn preload_library() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let profile_dir = std::env::current_exe()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .to_path_buf();
            // The profile's directory name is the profile's name, except `dev` (`debug`).
            let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev",
                Some(name) => name,
            };
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args([
                "build",
                "--quiet",
                "-p",
                "asherah-shim-preload",
                "--profile",
                profile,
            ]);
            cargo.env("CARGO_TARGET_DIR", profile_dir.parent().unwrap());
            assert!(
                cargo.status().unwrap().success(),
                "building the preload library failed"
            );
            let lib = profile_dir.join("libasherah_shim_preload.so");
            assert!(lib.exists(), "{} not built", lib.display());
            lib
        })
        .clone()
}

/// Compiles `source` with gcc into `lib<name>.so` in the target's scratch directory and
/// returns its path. Each library has its own source file (`<name>.c`): tests run in
/// parallel, and a source file shared between them could be read by one gcc while another
/// test rewrites it (an empty read builds a library without its constructor).
fn c_library(name: &str, source: &str, extra_args: &[&str]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(format!("lib{name}.so"));
    let ok = Command::new("gcc")
        .args(["-shared", "-fPIC"])
        .args(extra_args)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap();
    assert!(ok.success(), "gcc failed for {name}");
    out
}

fn in_probe(name: &str) -> bool {
    std::env::var(PROBE).is_ok_and(|v| v == name)
}
fn is_child() -> bool {
    std::env::var_os(PROBE).is_some()
}

/// What a thread sees of itself.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    stack: usize,
    guard: usize,
    detached: bool,
    cpus: c_int,
    cpu0: bool,
    sigint_blocked: bool,
    sigusr1_blocked: bool,
    sigsegv_blocked: bool,
}

extern "C" fn observe(arg: *mut c_void) -> *mut c_void {
    let seen = arg.cast::<Seen>();
    // SAFETY: `arg` points to a Seen owned by the creator, which waits for us; every
    // out-parameter is a local of the right type.
    unsafe {
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        assert_eq!(
            libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()),
            0
        );
        let mut s = Seen::default();
        libc::pthread_attr_getstacksize(attr.as_ptr(), &mut s.stack);
        libc::pthread_attr_getguardsize(attr.as_ptr(), &mut s.guard);
        let mut state = 0;
        pthread_attr_getdetachstate(attr.as_ptr(), &mut state);
        s.detached = state == libc::PTHREAD_CREATE_DETACHED;
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        let mut cpus: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut cpus);
        s.cpus = libc::CPU_COUNT(&cpus);
        s.cpu0 = libc::CPU_ISSET(0, &cpus);
        let mut mask = MaybeUninit::<libc::sigset_t>::uninit();
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), mask.as_mut_ptr());
        s.sigint_blocked = libc::sigismember(mask.as_ptr(), libc::SIGINT) == 1;
        s.sigusr1_blocked = libc::sigismember(mask.as_ptr(), libc::SIGUSR1) == 1;
        s.sigsegv_blocked = libc::sigismember(mask.as_ptr(), libc::SIGSEGV) == 1;
        seen.write(s);
    }
    std::ptr::null_mut()
}

extern "C" {
    fn pthread_attr_getdetachstate(attr: *const libc::pthread_attr_t, state: *mut c_int) -> c_int;
    fn pthread_attr_setsigmask_np(
        attr: *mut libc::pthread_attr_t,
        mask: *const libc::sigset_t,
    ) -> c_int;
}

/// Creates a thread with `attr` (through the interposed pthread_create) and returns what it
/// saw. Detached threads are waited for with a short poll on the shared slot.
fn spawn_observe(attr: *const libc::pthread_attr_t, detached: bool) -> Seen {
    let mut seen = Box::new(Seen {
        stack: usize::MAX,
        ..Default::default()
    });
    let slot: *mut Seen = &mut *seen;
    let mut t = MaybeUninit::<libc::pthread_t>::uninit();
    // SAFETY: `attr` is NULL or initialised; `slot` outlives the thread (joined or polled).
    let rc = unsafe { libc::pthread_create(t.as_mut_ptr(), attr, observe, slot.cast()) };
    assert_eq!(rc, 0);
    if detached {
        let deadline = Instant::now() + Duration::from_secs(10);
        // SAFETY: reading the slot the thread writes once; volatile avoids caching.
        while unsafe { std::ptr::read_volatile(&(*slot).stack) } == usize::MAX {
            assert!(Instant::now() < deadline, "detached thread did not report");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(20));
    } else {
        // SAFETY: joining the joinable thread we created (pthread_create succeeded, so
        // `t` is initialised).
        let rc = unsafe { libc::pthread_join(t.assume_init(), std::ptr::null_mut()) };
        assert_eq!(rc, 0);
    }
    *seen
}

#[test]
fn small_stacks_are_raised_and_attributes_copied() {
    if is_child() {
        if !in_probe("small_stacks_are_raised_and_attributes_copied") {
            return;
        }
        assert!(spawn_observe(std::ptr::null(), false).stack >= 8 * MIB);
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        // SAFETY: initialising and configuring our own attribute object.
        unsafe {
            let a = attr.as_mut_ptr();
            assert_eq!(libc::pthread_attr_init(a), 0);
            assert_eq!(libc::pthread_attr_setstacksize(a, MIB), 0);
            assert_eq!(libc::pthread_attr_setguardsize(a, 64 << 10), 0);
            assert_eq!(
                libc::pthread_attr_setdetachstate(a, libc::PTHREAD_CREATE_DETACHED),
                0
            );
            let mut cpus: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut cpus);
            assert_eq!(
                libc::pthread_attr_setaffinity_np(a, std::mem::size_of::<libc::cpu_set_t>(), &cpus),
                0
            );
            let mut mask = MaybeUninit::<libc::sigset_t>::uninit();
            libc::sigemptyset(mask.as_mut_ptr());
            libc::sigaddset(mask.as_mut_ptr(), libc::SIGUSR1);
            assert_eq!(pthread_attr_setsigmask_np(a, mask.as_ptr()), 0);
        }
        let s = spawn_observe(attr.as_ptr(), true);
        assert_eq!(s.stack, 8 * MIB, "{s:?}");
        assert_eq!(s.guard, 64 << 10, "{s:?}");
        assert!(s.detached, "{s:?}");
        assert!(s.cpus == 1 && s.cpu0, "{s:?}");
        assert!(s.sigusr1_blocked && !s.sigint_blocked, "{s:?}");
        // SAFETY: our attribute object, no longer used.
        unsafe { libc::pthread_attr_destroy(attr.as_mut_ptr()) };
        println!("PROBE OK");
        return;
    }
    let log = under_preload("small_stacks_are_raised_and_attributes_copied", &[]);
    assert!(
        log.contains(&format!("stack {MIB} -> {}", 8 * MIB)),
        "{log}"
    );
}

#[test]
fn caller_supplied_stacks_are_left_alone() {
    if is_child() {
        if !in_probe("caller_supplied_stacks_are_left_alone") {
            return;
        }
        let mut memory = vec![0u8; MIB];
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        // SAFETY: our attribute object; `memory` outlives the joined thread.
        unsafe {
            assert_eq!(libc::pthread_attr_init(attr.as_mut_ptr()), 0);
            assert_eq!(
                libc::pthread_attr_setstack(attr.as_mut_ptr(), memory.as_mut_ptr().cast(), MIB),
                0
            );
        }
        let s = spawn_observe(attr.as_ptr(), false);
        assert_eq!(s.stack, MIB, "{s:?}");
        // SAFETY: our attribute object, no longer used.
        unsafe { libc::pthread_attr_destroy(attr.as_mut_ptr()) };
        drop(memory);
        println!("PROBE OK");
        return;
    }
    let log = under_preload("caller_supplied_stacks_are_left_alone", &[]);
    assert!(log.contains("supplied by the caller: left alone"), "{log}");
}

#[test]
fn block_signals_switch_masks_async_signals_only() {
    if is_child() {
        if !in_probe("block_signals_switch_masks_async_signals_only") {
            return;
        }
        // This test thread was itself made under the switch; open SIGINT here first so the
        // check below shows the creator's mask is restored after pthread_create.
        let mut mask = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: editing and applying a local set to this thread's own mask.
        unsafe {
            libc::sigemptyset(mask.as_mut_ptr());
            libc::sigaddset(mask.as_mut_ptr(), libc::SIGINT);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, mask.as_ptr(), std::ptr::null_mut());
        }
        let s = spawn_observe(std::ptr::null(), false);
        assert!(
            s.sigint_blocked && s.sigusr1_blocked && !s.sigsegv_blocked,
            "{s:?}"
        );
        // SAFETY: querying this thread's mask into a local.
        unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), mask.as_mut_ptr());
            assert_eq!(libc::sigismember(mask.as_ptr(), libc::SIGINT), 0);
        }
        println!("PROBE OK");
        return;
    }
    let log = under_preload(
        "block_signals_switch_masks_async_signals_only",
        &[("ASHERAH_SHIM_BLOCK_SIGNALS", "1")],
    );
    assert!(log.contains("signals=blocked"), "{log}");
}

/// A library whose constructor does what Go's does to the host: OR `SA_ONSTACK` into the
/// SIGUSR1 handler and take over an ignored SIGPIPE. Each copy is its own library.
fn signal_changing_library(copy: usize) -> PathBuf {
    c_library(
        &format!("gofake{copy}"),
        r#"#include <signal.h>
#include <string.h>
static void fake_go_handler(int s, siginfo_t *i, void *c) { (void)s; (void)i; (void)c; }
__attribute__((constructor)) static void like_go(void) {
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  sa.sa_flags |= SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fake_go_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigaction(SIGPIPE, &sa, NULL);
}
"#,
        &[],
    )
}

extern "C" fn host_handler(_: c_int, _: *mut libc::siginfo_t, _: *mut c_void) {}

#[test]
fn concurrent_dlopens_are_each_repaired() {
    const THREADS: usize = 8;
    if is_child() {
        if !in_probe("concurrent_dlopens_are_each_repaired") {
            return;
        }
        // SAFETY: installing a do-nothing SA_SIGINFO handler and SIG_IGN, as a host would.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = host_handler as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigaction(libc::SIGUSR1, &act, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        let paths: Vec<String> = std::env::var("GOFAKE_LIBS")
            .unwrap()
            .split(':')
            .map(String::from)
            .collect();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(paths.len()));
        let threads: Vec<_> = paths
            .into_iter()
            .map(|p| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let c = CString::new(p).unwrap();
                    barrier.wait();
                    // SAFETY: loading a test library by path (goes through the preload).
                    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW) };
                    assert!(!h.is_null());
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // SAFETY: querying dispositions into zeroed locals.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut act);
            assert_eq!(act.sa_sigaction, host_handler as *const () as usize);
            assert_eq!(
                act.sa_flags & libc::SA_ONSTACK,
                0,
                "SA_ONSTACK left on SIGUSR1"
            );
            libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut act);
            assert_eq!(act.sa_sigaction, libc::SIG_IGN, "SIGPIPE not ignored");
        }
        println!("PROBE OK");
        return;
    }
    let libs: Vec<String> = (0..THREADS)
        .map(|i| signal_changing_library(i).display().to_string())
        .collect();
    let log = under_preload(
        "concurrent_dlopens_are_each_repaired",
        &[("GOFAKE_LIBS", &libs.join(":"))],
    );
    // The first load to run repairs both signals; each later one repairs them again,
    // because every constructor changes them again.
    assert_eq!(log.matches("SIGUSR1(10)").count(), THREADS, "{log}");
    assert_eq!(log.matches("SIGPIPE(13) SIG_IGN").count(), THREADS, "{log}");
    assert_eq!(log.matches(": restore-flags").count(), THREADS, "{log}");
}

#[test]
fn real_libasherah_under_the_preload() {
    if is_child() {
        if !in_probe("real_libasherah_under_the_preload") {
            return;
        }
        // SAFETY: a JSC-like SIGPWR handler and an ignored SIGPIPE, as Bun has them.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = host_handler as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigaction(libc::SIGPWR, &act, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        let c = CString::new(std::env::var("ASHERAH_GO_LIBRARY").unwrap()).unwrap();
        // SAFETY: loading the Go library through the interposed dlopen.
        let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW) };
        assert!(!h.is_null());
        // SAFETY: EstimateBuffer(int32, int32) -> int32 is a libasherah export.
        let estimate: extern "C" fn(i32, i32) -> i32 =
            unsafe { std::mem::transmute(libc::dlsym(h, c"EstimateBuffer".as_ptr())) };
        assert!(estimate(10, 10) > 10);
        std::thread::sleep(Duration::from_millis(200)); // past the first deferred re-check
                                                        // SAFETY: querying dispositions into zeroed locals.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGPWR, std::ptr::null(), &mut act);
            assert_eq!(
                act.sa_flags & libc::SA_ONSTACK,
                0,
                "SA_ONSTACK left on SIGPWR"
            );
            libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut act);
            assert_eq!(act.sa_sigaction, libc::SIG_IGN, "SIGPIPE not ignored");
        }
        println!("PROBE OK");
        return;
    }
    if std::env::var_os("ASHERAH_GO_LIBRARY").is_none() {
        eprintln!("skipped: ASHERAH_GO_LIBRARY is not set (source .cache/env.sh)");
        return;
    }
    let log = under_preload("real_libasherah_under_the_preload", &[]);
    assert!(
        log.contains("SIGPWR(30)") && log.contains("restore-flags"),
        "{log}"
    );
    assert!(
        log.contains("SIGPIPE(13) SIG_IGN") && log.contains("restore-ignore"),
        "{log}"
    );
    assert!(
        !log.contains("deferred"),
        "Go 1.20 changes nothing after dlopen returns: {log}"
    );
}

/// A library whose constructor takes a while, so a `dlopen` of it holds the preload's lock.
fn slow_constructor_library() -> PathBuf {
    c_library(
        "slowctor",
        "#include <unistd.h>\n__attribute__((constructor)) static void slow(void) { usleep(500000); }\n",
        &[],
    )
}

#[test]
fn fork_while_another_thread_is_in_dlopen() {
    if is_child() {
        if !in_probe("fork_while_another_thread_is_in_dlopen") {
            return;
        }
        let slow = CString::new(std::env::var("SLOW_LIB").unwrap()).unwrap();
        let other = CString::new(std::env::var("OTHER_LIB").unwrap()).unwrap();
        let loader = std::thread::spawn(move || {
            // SAFETY: loading a test library; its constructor sleeps 500 ms under our lock.
            assert!(!unsafe { libc::dlopen(slow.as_ptr(), libc::RTLD_NOW) }.is_null());
        });
        std::thread::sleep(Duration::from_millis(150));
        // SAFETY: the child only calls dlopen (async-signal-unsafe but fine in a glibc
        // child of a multi-threaded parent for this test) and _exit, under an alarm.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: alarm's default action ends a deadlocked child.
            unsafe { libc::alarm(5) };
            // SAFETY: loading another test library in the child, through the preload.
            let h = unsafe { libc::dlopen(other.as_ptr(), libc::RTLD_NOW) };
            // SAFETY: leaving the child without running the parent's atexit handlers.
            unsafe { libc::_exit(if h.is_null() { 2 } else { 0 }) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child status {status:#x}"
        );
        loader.join().unwrap();
        // Nested forks in a shell (what hung `sh` before the fork handler was fixed).
        let out = Command::new("sh")
            .args(["-c", "x=$(y=$(echo nested); echo $y); echo $x"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "nested");
        println!("PROBE OK");
        return;
    }
    let slow = slow_constructor_library();
    let other = signal_changing_library(100);
    under_preload(
        "fork_while_another_thread_is_in_dlopen",
        &[
            ("SLOW_LIB", slow.to_str().unwrap()),
            ("OTHER_LIB", other.to_str().unwrap()),
        ],
    );
}

/// A library that, like a Go runtime finishing its start on its own thread, takes SIGPIPE
/// in its constructor and ORs `SA_ONSTACK` into the SIGUSR1 handler 50 ms later; it then
/// sets its exported `late_done`, so a probe knows the change was made whatever the load.
fn late_changing_library() -> PathBuf {
    c_library(
        "latechange",
        r#"#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
static void fake_go_handler(int s, siginfo_t *i, void *c) { (void)s; (void)i; (void)c; }
volatile int late_done;
static void *later(void *arg) {
  struct sigaction sa;
  (void)arg;
  usleep(50000);
  sigaction(SIGUSR1, NULL, &sa);
  sa.sa_flags |= SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  __atomic_store_n(&late_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}
__attribute__((constructor)) static void start(void) {
  struct sigaction sa;
  pthread_t t;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fake_go_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigaction(SIGPIPE, &sa, NULL);
  pthread_create(&t, NULL, later, NULL);
  pthread_detach(t);
}
"#,
        &["-pthread"],
    )
}

#[test]
fn late_changes_are_caught_by_the_deferred_recheck() {
    if is_child() {
        if !in_probe("late_changes_are_caught_by_the_deferred_recheck") {
            return;
        }
        let flags = |sig| {
            // SAFETY: querying a disposition into a zeroed local.
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, std::ptr::null(), &mut act);
                (act.sa_sigaction, act.sa_flags)
            }
        };
        let install = |sig, flags| {
            // SAFETY: installing the do-nothing SA_SIGINFO handler.
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = host_handler as *const () as usize;
                act.sa_flags = flags;
                libc::sigaction(sig, &act, std::ptr::null_mut());
            }
        };
        install(libc::SIGUSR1, libc::SA_SIGINFO | libc::SA_RESTART);
        // SAFETY: the host ignores SIGPIPE.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        let lib = CString::new(std::env::var("LATE_LIB").unwrap()).unwrap();
        // SAFETY: loading the test library through the preload.
        let handle = unsafe { libc::dlopen(lib.as_ptr(), libc::RTLD_NOW) };
        assert!(!handle.is_null());
        assert_eq!(
            flags(libc::SIGPIPE).0,
            libc::SIG_IGN,
            "repaired when dlopen returned"
        );
        // The host changes its own handler after the load: the re-check must leave it.
        install(libc::SIGUSR2, libc::SA_SIGINFO | libc::SA_ONSTACK);
        // SAFETY: looking up the library's exported int by name.
        let done = unsafe { libc::dlsym(handle, c"late_done".as_ptr()) } as *const i32;
        assert!(!done.is_null());
        // No timing assumption: wait until the library's thread has made its late change
        // (it may run before or after the first re-check on a loaded machine), then until
        // a re-check (100 ms, 1 s and 4 s after the load) has undone it. Both bounded.
        let deadline = Instant::now() + Duration::from_secs(10);
        // SAFETY: `done` points at the library's int, which its thread writes atomically.
        while unsafe { std::ptr::read_volatile(done) } == 0 {
            assert!(Instant::now() < deadline, "the late change never happened");
            std::thread::sleep(Duration::from_millis(5));
        }
        while flags(libc::SIGUSR1).1 & libc::SA_ONSTACK != 0 {
            assert!(Instant::now() < deadline, "late SA_ONSTACK not removed");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_ne!(
            flags(libc::SIGUSR2).1 & libc::SA_ONSTACK,
            0,
            "the host's own change was undone"
        );
        println!("PROBE OK");
        return;
    }
    let lib = late_changing_library();
    let log = under_preload(
        "late_changes_are_caught_by_the_deferred_recheck",
        &[("LATE_LIB", lib.to_str().unwrap())],
    );
    assert!(
        log.lines()
            .any(|l| l.contains("deferred re-check") && l.contains("SIGUSR1(10)")),
        "{log}"
    );
    assert!(!log.contains("SIGUSR2"), "{log}");
}
