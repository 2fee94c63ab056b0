//! Measures when a Go c-shared library changes signal dispositions: prints the diff against
//! a pre-`dlopen` snapshot right after `dlopen` returns, then polls until a deadline, then
//! after the first call into the library (which waits for the Go runtime to initialise).
//! Usage: `cargo run --example go_timeline -- /path/libasherah-x64.so`

use std::ffi::CString;
use std::time::{Duration, Instant};

use asherah_shim_signals::{Policy, Report, Snapshot};

extern "C" fn host(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: go_timeline <libasherah.so>");
    // A JSC-like GC-suspend handler, so Go has a host handler to flag.
    // SAFETY: zeroed sigaction is valid; `host` has the SA_SIGINFO signature.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = host as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigaction(libc::SIGPWR, &act, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let before = Snapshot::capture();
    let c = CString::new(path).unwrap();
    let t0 = Instant::now();
    // SAFETY: loading a library by path; its constructors run here.
    let lib = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW) };
    assert!(!lib.is_null(), "dlopen failed");
    let at_return = Snapshot::capture();
    let show = |label: &str, s: &Snapshot| {
        let r = Report::plan(&before, s, &Policy::DEFAULT);
        println!(
            "[{:>8.3} ms] {label}: {} changed",
            t0.elapsed().as_secs_f64() * 1e3,
            r.len()
        );
        for d in r.iter() {
            println!("    {d}");
        }
    };
    show("dlopen returned", &at_return);
    let mut last = at_return;
    let end = Instant::now() + Duration::from_millis(300);
    while Instant::now() < end {
        let now = Snapshot::capture();
        if !Report::plan(
            &last,
            &now,
            &Policy {
                forwarding: Default::default(),
                leave: Default::default(),
            },
        )
        .is_empty()
        {
            show("changed while polling", &now);
            last = now;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    show("after 300 ms of polling", &Snapshot::capture());
    // SAFETY: EstimateBuffer(int32, int32) -> int32 is a libasherah export.
    let est: extern "C" fn(i32, i32) -> i32 =
        unsafe { std::mem::transmute(libc::dlsym(lib, c"EstimateBuffer".as_ptr())) };
    let t1 = Instant::now();
    let n = est(10, 10);
    println!(
        "first call EstimateBuffer(10,10) = {n} took {:.3} ms",
        t1.elapsed().as_secs_f64() * 1e3
    );
    show("after first call", &Snapshot::capture());

    // Repair now (what the preload does when dlopen returns), then drive the runtime hard
    // enough to start more Go threads, and check that nothing undoes the repair.
    // SAFETY: the handlers in `before` belong to this binary and libc, still mapped.
    let report = unsafe { asherah_shim_signals::repair(&before, &Policy::DEFAULT) };
    println!("repaired {} of {} changed", report.restored(), report.len());
    let repaired = Snapshot::capture();
    type Setup = extern "C" fn(*const u8) -> i32;
    // SAFETY: SetupJson(void*) -> int32 is a libasherah export.
    let setup: Setup = unsafe { std::mem::transmute(libc::dlsym(lib, c"SetupJson".as_ptr())) };
    let cfg = br#"{"ServiceName":"svc","ProductID":"prod","Metastore":"memory","KMS":"static","EnableSessionCaching":true}"#;
    let mut buf = Vec::with_capacity(8 + cfg.len());
    buf.extend_from_slice(&(cfg.len() as i32).to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(cfg);
    println!("SetupJson = {}", setup(buf.as_ptr()));
    std::thread::sleep(Duration::from_millis(500));
    let r = Report::plan(
        &repaired,
        &Snapshot::capture(),
        &Policy {
            forwarding: Default::default(),
            leave: Default::default(),
        },
    );
    println!("changes after repair + SetupJson + 500 ms: {}", r.len());
    for d in r.iter() {
        println!("    {d}");
    }
}
