//! The guard against real process state: each test changes dispositions in a forked child
//! (see `common::in_child`) the way a Go runtime does, runs `repair`, and checks both the
//! report and what the kernel now says.

mod common;

use asherah_shim_signals::{repair, Action, Disposition, Policy, Snapshot};
use common::{go, host, in_child, or_onstack, set};

const HOST_FLAGS: libc::c_int = libc::SA_SIGINFO | libc::SA_RESTART;

#[test]
fn onstack_added_to_host_handler_is_removed() {
    in_child(10, || {
        set(libc::SIGPWR, host(), HOST_FLAGS);
        set(libc::SIGUSR2, host(), HOST_FLAGS);
        let before = Snapshot::capture();
        or_onstack(libc::SIGPWR);
        or_onstack(libc::SIGUSR2);
        assert!(Disposition::read(libc::SIGPWR).unwrap().has_onstack());
        // SAFETY: the handlers in `before` are this test binary's functions.
        let report = unsafe { repair(&before, &Policy::DEFAULT) };
        for sig in [libc::SIGPWR, libc::SIGUSR2] {
            let d = report.find(sig).expect("changed signal reported");
            assert_eq!(d.action, Action::RestoreFlags);
            assert_eq!(d.error, 0);
            assert!(d.after.has_onstack() && !d.before.has_onstack());
            let now = Disposition::read(sig).unwrap();
            assert_eq!(now.handler, host());
            assert!(!now.has_onstack(), "flags restored: {now}");
            assert!(now.same_as(&before.get(sig).unwrap()));
        }
        assert_eq!(report.len(), 2, "{report}");
        let line = report.find(libc::SIGPWR).unwrap().to_string();
        assert!(
            line.starts_with("SIGPWR(30) handler=0x") && line.ends_with(": restore-flags"),
            "{line}"
        );
    });
}

#[test]
fn ignored_signal_taken_over_is_ignored_again() {
    in_child(10, || {
        set(libc::SIGPIPE, libc::SIG_IGN, 0);
        let before = Snapshot::capture();
        set(libc::SIGPIPE, go(), HOST_FLAGS | libc::SA_ONSTACK);
        // SAFETY: the handlers in `before` are SIG_IGN/SIG_DFL or this binary's functions.
        let report = unsafe { repair(&before, &Policy::DEFAULT) };
        assert_eq!(
            report.find(libc::SIGPIPE).unwrap().action,
            Action::RestoreIgnore
        );
        assert!(Disposition::read(libc::SIGPIPE).unwrap().is_ignore());
    });
}

#[test]
fn fault_and_new_handlers_are_kept_others_restored() {
    in_child(10, || {
        set(libc::SIGSEGV, host(), HOST_FLAGS | libc::SA_ONSTACK);
        set(libc::SIGURG, libc::SIG_DFL, 0);
        set(libc::SIGUSR1, host(), HOST_FLAGS);
        let before = Snapshot::capture();
        set(libc::SIGSEGV, go(), HOST_FLAGS | libc::SA_ONSTACK);
        set(libc::SIGURG, go(), HOST_FLAGS | libc::SA_ONSTACK);
        set(libc::SIGUSR1, go(), HOST_FLAGS | libc::SA_ONSTACK);
        // SAFETY: the handlers in `before` are this binary's functions.
        let report = unsafe { repair(&before, &Policy::DEFAULT) };
        assert_eq!(
            report
                .find(libc::SIGSEGV)
                .unwrap_or_else(|| panic!("SIGSEGV missing: {report}"))
                .action,
            Action::KeepForwarding
        );
        assert_eq!(
            report
                .find(libc::SIGURG)
                .unwrap_or_else(|| panic!("SIGURG missing: {report}"))
                .action,
            Action::KeepNew
        );
        assert_eq!(
            report
                .find(libc::SIGUSR1)
                .unwrap_or_else(|| panic!("SIGUSR1 missing: {report}"))
                .action,
            Action::RestoreHandler
        );
        assert_eq!(Disposition::read(libc::SIGSEGV).unwrap().handler, go());
        assert_eq!(Disposition::read(libc::SIGURG).unwrap().handler, go());
        assert_eq!(Disposition::read(libc::SIGUSR1).unwrap().handler, host());
        assert_eq!(report.restored(), 1);
    });
}

#[test]
fn nothing_changed_nothing_reported() {
    in_child(10, || {
        let before = Snapshot::capture();
        assert!(before.get(libc::SIGKILL).is_none());
        assert!(before.get(libc::SIGPIPE).is_some());
        // SAFETY: nothing changed, so nothing is installed.
        let report = unsafe { repair(&before, &Policy::DEFAULT) };
        assert!(report.is_empty(), "{report}");
    });
}

#[test]
fn stand_in_handlers_have_distinct_addresses() {
    assert_ne!(
        host(),
        go(),
        "the two stand-in handlers were folded into one function"
    );
}
