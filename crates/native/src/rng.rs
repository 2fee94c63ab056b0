//! Random bytes for each record's data-row key and nonces, without a system call per record.
//!
//! Every encrypt needs 56 fresh random bytes (a 32-byte data-row key and two 12-byte nonces).
//! `getrandom(2)` costs 680-820 ns for that on the benchmark box, more than half of a 64-byte
//! encrypt, so each thread keeps a generator: ChaCha20 with "fast key erasure" (Bernstein,
//! as in the kernel's own vDSO `getrandom` and OpenBSD's `arc4random`). A refill runs the
//! cipher over a zeroed block under the current key; the block's first 32 bytes become the
//! next key and the rest is handed out, each byte wiped as it is taken. The key that produced
//! a block is gone once the block exists, so a later look at the state cannot recover bytes
//! already handed out. The first key comes from `getrandom`, and fresh OS bytes are mixed
//! into the key every [`RESEED_EVERY`] refills (~60 KiB, ~1,100 records).
//!
//! The state lives in a [`WipeOnFork`] page: locked, out of core dumps, and zeroed by the
//! kernel in a forked child, which therefore seeds afresh instead of repeating its parent's
//! keys and nonces (the test in `locked.rs` shows the repeat without it). A thread that
//! cannot get such a page, and a thread whose thread-locals are already torn down, call
//! `getrandom` for every request. Not covered, as for any userspace generator: a VM snapshot
//! restored twice repeats what was buffered at the snapshot, at most one block (~17
//! records) before the next refill, and at most [`RESEED_EVERY`] blocks before fresh OS
//! bytes are mixed in. Keys that outlive a record (system and intermediate keys) and KMS
//! nonces still come from `getrandom` directly.
#![forbid(unsafe_code)]

use std::cell::RefCell;

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use zeroize::Zeroize;

use crate::error::Error;
use crate::locked::{WipeOnFork, WIPE_ON_FORK_LEN};

/// Refills between two mixes of fresh OS bytes into the key.
const RESEED_EVERY: u64 = 64;
/// Page layout: refills since the last seed plus one (0: never seeded in this process, which
/// is what a forked child finds), the read position in the block, the key, the block.
const COUNT: std::ops::Range<usize> = 0..8;
const POS: std::ops::Range<usize> = 8..16;
const KEY: std::ops::Range<usize> = 32..64;
const BLOCK_START: usize = 64;
/// Bytes handed out per refill: the page minus the header, a whole number of ChaCha blocks.
const BLOCK_LEN: usize = 992;
const _: () = assert!(BLOCK_START + BLOCK_LEN <= WIPE_ON_FORK_LEN);
const _: () = assert!((BLOCK_LEN + 32).is_multiple_of(64));

/// One thread's generator (see the module doc).
pub(crate) struct Generator {
    page: WipeOnFork,
}

impl Generator {
    /// A generator on a fresh wipe-on-fork page, or `None` where the kernel has none.
    pub(crate) fn new() -> Option<Self> {
        WipeOnFork::new().map(Self::on)
    }

    /// A generator on a given page (tests use one without wipe-on-fork).
    pub(crate) fn on(page: WipeOnFork) -> Self {
        Generator { page }
    }

    /// Fills `out` with random bytes; requests longer than a block go to `getrandom`.
    pub(crate) fn fill(&mut self, out: &mut [u8]) -> Result<(), Error> {
        if out.len() > BLOCK_LEN {
            return os_fill(out);
        }
        let page = self.page.bytes();
        let mut count = read_u64(&page[COUNT]);
        let mut pos = read_u64(&page[POS]) as usize;
        if count == 0 {
            // A fresh page, or a forked child's wiped copy: a new key from the OS.
            os_fill(&mut page[KEY])?;
            count = 1;
            pos = BLOCK_LEN;
        }
        if BLOCK_LEN - pos < out.len() {
            refill(page, &mut count)?;
            pos = 0;
        }
        let taken = &mut page[BLOCK_START + pos..BLOCK_START + pos + out.len()];
        out.copy_from_slice(taken);
        taken.zeroize();
        pos += out.len();
        page[COUNT].copy_from_slice(&count.to_le_bytes());
        page[POS].copy_from_slice(&(pos as u64).to_le_bytes());
        Ok(())
    }
}

/// Replaces the key and the block with ChaCha20's output under the current key; every
/// [`RESEED_EVERY`] refills, fresh OS bytes are first XORed into the key.
fn refill(page: &mut [u8], count: &mut u64) -> Result<(), Error> {
    if *count > RESEED_EVERY {
        let mut fresh = [0u8; 32];
        os_fill(&mut fresh)?;
        for (k, f) in page[KEY].iter_mut().zip(&fresh) {
            *k ^= f;
        }
        fresh.zeroize();
        *count = 1;
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&page[KEY]);
    // A new key for every block, so the all-zero nonce is never used twice with one key.
    let mut cipher = ChaCha20::new(&key.into(), &[0u8; 12].into());
    key.zeroize();
    let out = &mut page[KEY.start..BLOCK_START + BLOCK_LEN];
    out.zeroize();
    cipher.apply_keystream(out); // the state is wiped when `cipher` drops (`zeroize` feature)
    *count += 1;
    Ok(())
}

fn read_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
}

fn os_fill(out: &mut [u8]) -> Result<(), Error> {
    getrandom::getrandom(out).map_err(Into::into)
}

enum Local {
    Untried,
    Ready(Generator),
    Unavailable,
}

thread_local! {
    static LOCAL: RefCell<Local> = const { RefCell::new(Local::Untried) };
}

/// Fills `out` from this thread's generator (made on first use), or from `getrandom` where
/// there is none.
pub(crate) fn fill(out: &mut [u8]) -> Result<(), Error> {
    let from_local = LOCAL.try_with(|local| {
        let Ok(mut local) = local.try_borrow_mut() else {
            return None;
        };
        if matches!(*local, Local::Untried) {
            *local = Generator::new().map_or(Local::Unavailable, Local::Ready);
        }
        match &mut *local {
            Local::Ready(generator) => Some(generator.fill(out)),
            _ => None,
        }
    });
    match from_local {
        Ok(Some(result)) => result,
        _ => os_fill(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_differ_across_calls_blocks_and_threads() {
        let mut seen = std::collections::HashSet::new();
        // 3,000 draws of 56 bytes cross ~175 refills and two reseeds.
        for _ in 0..3000 {
            let mut b = [0u8; 56];
            fill(&mut b).unwrap();
            assert!(seen.insert(b), "a 56-byte draw repeated");
        }
        let other: Vec<[u8; 56]> = std::thread::spawn(|| {
            (0..100)
                .map(|_| {
                    let mut b = [0u8; 56];
                    fill(&mut b).unwrap();
                    b
                })
                .collect()
        })
        .join()
        .unwrap();
        for b in other {
            assert!(seen.insert(b), "two threads produced the same bytes");
        }
        // Long requests bypass the block.
        let mut long = vec![0u8; 4 * BLOCK_LEN];
        fill(&mut long).unwrap();
        assert!(long.iter().any(|&b| b != 0));
    }

    #[test]
    fn taken_bytes_are_wiped_and_bytes_look_uniform() {
        let mut g = Generator::new().expect("this kernel has MADV_WIPEONFORK");
        let mut counts = [0u32; 256];
        for _ in 0..20_000 {
            let mut b = [0u8; 56];
            g.fill(&mut b).unwrap();
            for &x in &b {
                counts[x as usize] += 1;
            }
            let page = g.page.bytes();
            let pos = read_u64(&page[POS]) as usize;
            assert!(
                page[BLOCK_START..BLOCK_START + pos].iter().all(|&x| x == 0),
                "a handed-out byte is still in the block"
            );
        }
        // 1,120,000 bytes: each value expected 4,375 times; a fair source stays within
        // +-10 % (about 6.6 standard deviations) with overwhelming probability.
        for (v, &c) in counts.iter().enumerate() {
            assert!((3900..4850).contains(&c), "byte {v} appeared {c} times");
        }
    }

    #[test]
    fn chacha20_keystream_is_rfc8439() {
        // RFC 8439 appendix A.1, test vector #1: all-zero key and nonce, block counter 0.
        let mut c = ChaCha20::new(&[0u8; 32].into(), &[0u8; 12].into());
        let mut block = [0u8; 64];
        c.apply_keystream(&mut block);
        assert_eq!(
            &block[..16],
            &[
                0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86,
                0xbd, 0x28
            ]
        );
    }
}
