//! A fixed-size record of every signal's disposition at one instant.
//!
//! [`Snapshot::capture`] queries `sigaction` for signals `1..=MAX_SIGNO` into an array on
//! the caller's stack (about 2 KiB): no heap, no locks, async-signal-safe, so the preload
//! library can take one inside its `dlopen` wrapper. Signals that cannot be changed
//! (SIGKILL, SIGSTOP) or that `sigaction` rejects (glibc's reserved 32 and 33) are absent.

use libc::c_int;

use crate::{Disposition, MAX_SIGNO};

const SLOTS: usize = MAX_SIGNO as usize + 1;

/// Every signal's disposition at capture time, indexed by signal number.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    slots: [Option<Disposition>; SLOTS],
}

impl Snapshot {
    /// Reads all dispositions now. Async-signal-safe; does not allocate.
    pub fn capture() -> Snapshot {
        let mut slots = [None; SLOTS];
        for signo in 1..=MAX_SIGNO {
            if signo == libc::SIGKILL || signo == libc::SIGSTOP {
                continue;
            }
            slots[signo as usize] = Disposition::read(signo).ok();
        }
        Snapshot { slots }
    }

    /// An empty snapshot, to be filled with [`Snapshot::set`] (tests and planning).
    pub const fn empty() -> Snapshot {
        Snapshot {
            slots: [None; SLOTS],
        }
    }

    /// The recorded disposition of `signo`, if it was readable.
    pub fn get(&self, signo: c_int) -> Option<Disposition> {
        usize::try_from(signo)
            .ok()
            .and_then(|i| self.slots.get(i).copied().flatten())
    }

    /// Records `d` for `signo` (ignored when `signo` is out of range).
    pub fn set(&mut self, signo: c_int, d: Disposition) {
        if let Some(slot) = usize::try_from(signo)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
        {
            *slot = Some(d);
        }
    }

    /// `(signo, disposition)` for every recorded signal, in signal order.
    pub fn iter(&self) -> impl Iterator<Item = (c_int, Disposition)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|d| (i as c_int, d)))
    }
}
