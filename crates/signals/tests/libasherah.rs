//! The guard against the real Go library: in a forked child with a JSC-like SIGPWR handler
//! and SIGPIPE ignored, `dlopen` libasherah, make the first call, repair, and check that
//! SIGPWR lost the `SA_ONSTACK` Go added, SIGPIPE is ignored again, and Go's forwarding
//! fault handlers stayed. Needs `ASHERAH_GO_LIBRARY` (`source .cache/env.sh`); skips without.

mod common;

use asherah_shim_signals::{repair, Action, Disposition, Policy, Snapshot};
use common::{host, in_child, set};

#[test]
fn real_libasherah_is_repaired() {
    if std::env::var_os("ASHERAH_GO_LIBRARY").is_none() {
        eprintln!("skipped: ASHERAH_GO_LIBRARY is not set (source .cache/env.sh)");
        return;
    }
    in_child(30, || {
        let path = std::ffi::CString::new(std::env::var("ASHERAH_GO_LIBRARY").unwrap()).unwrap();
        set(libc::SIGPWR, host(), libc::SA_SIGINFO | libc::SA_RESTART);
        set(libc::SIGPIPE, libc::SIG_IGN, 0);
        let before = Snapshot::capture();
        // SAFETY: loading the Go library; its constructor starts the Go runtime.
        let lib = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW) };
        assert!(!lib.is_null(), "dlopen failed");
        // SAFETY: EstimateBuffer(int32, int32) -> int32 is a libasherah export.
        let estimate: extern "C" fn(i32, i32) -> i32 =
            unsafe { std::mem::transmute(libc::dlsym(lib, c"EstimateBuffer".as_ptr())) };
        assert!(estimate(10, 10) > 10);
        assert!(
            Disposition::read(libc::SIGPWR).unwrap().has_onstack(),
            "Go flagged SIGPWR"
        );
        assert!(
            !Disposition::read(libc::SIGPIPE).unwrap().is_ignore(),
            "Go took SIGPIPE"
        );

        // SAFETY: the handlers in `before` are this binary's, libc's or std's: still mapped.
        let report = unsafe { repair(&before, &Policy::DEFAULT) };
        let action = |sig| report.find(sig).map(|d| d.action);
        assert_eq!(action(libc::SIGPWR), Some(Action::RestoreFlags), "{report}");
        assert_eq!(
            action(libc::SIGPIPE),
            Some(Action::RestoreIgnore),
            "{report}"
        );
        assert_eq!(action(libc::SIGURG), Some(Action::KeepNew), "{report}");
        // std installs SIGSEGV/SIGBUS handlers (stack-overflow detection) in every binary.
        assert_eq!(
            action(libc::SIGSEGV),
            Some(Action::KeepForwarding),
            "{report}"
        );
        assert_eq!(report.restored(), 2, "{report}");
        assert!(report.iter().all(|d| d.error == 0), "{report}");
        let pwr = Disposition::read(libc::SIGPWR).unwrap();
        assert!(pwr.handler == host() && !pwr.has_onstack(), "{pwr}");
        assert!(Disposition::read(libc::SIGPIPE).unwrap().is_ignore());
    });
}
