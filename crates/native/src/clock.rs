//! The system clock, read coarsely. Key timestamps, expiry and cache freshness are whole
//! unix seconds, so every call reads the time only to the second. On Linux that reading is
//! `CLOCK_REALTIME_COARSE`: the time at the kernel's last tick (1-4 ms old), returned by the
//! vDSO without reading the TSC, about 4x cheaper than `SystemTime::now` (3-4 % of a 64 B
//! decrypt on the native core). Lagging by a tick moves a second boundary by at most that
//! much, which no rule here can see: Go's own checks compare seconds with `>`/`>=` on
//! values that are days or minutes apart. Elsewhere, and if the call ever fails, it falls
//! back to `SystemTime`.
#![allow(unsafe_code)] // one libc call, below

use std::time::{SystemTime, UNIX_EPOCH};

/// The current unix time in whole seconds.
pub(crate) fn unix_seconds() -> i64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `timespec` for the duration of the call, and
        // `CLOCK_REALTIME_COARSE` is a clock id every Linux since 2.6.32 accepts; on an
        // error nothing is relied on but the return value.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
            return ts.tv_sec;
        }
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_precise_clock_to_the_second() {
        for _ in 0..1000 {
            let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let coarse = unix_seconds();
            let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            // The coarse reading is at most one tick (well under a second) old.
            assert!(
                coarse <= after.as_secs() as i64 && coarse >= before.as_secs() as i64 - 1,
                "coarse {coarse} outside [{}-1, {}]",
                before.as_secs(),
                after.as_secs()
            );
        }
    }
}
