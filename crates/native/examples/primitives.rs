//! What the primitives under an encrypt cost on this machine, without N-API or the core:
//! `getrandom(2)` for a record's 56 random bytes against a ChaCha20 refill shared by ~17
//! records (src/rng.rs), and AES-256-GCM sealing in `aes-gcm` against `ring`, key setup
//! included (src/aead.rs), and what waking a parked thread costs here (a round trip between
//! two threads, parking against spinning), which is what every hop to a core-host thread
//! pays twice when both CPUs are idle (src/host/reply.rs). These figures chose the designs recorded in
//! docs/performance.md ("Issue 15"); re-run them on other hardware with
//!
//!     cargo run --release -p asherah-native --example primitives
//!
//! Prints ns/op (median of 5 timed batches) and MB/s.

use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::AeadInOut;
use aes_gcm::aes::Aes256Enc;
use aes_gcm::{Aes256Gcm, AesGcm, KeyInit};
use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

/// Median ns per call of `f` over 5 batches of `n` calls.
fn ns_per_op(n: u32, mut f: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_secs_f64() * 1e9 / f64::from(n)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[2]
}

/// µs per round trip between two threads handing a counter back and forth.
fn round_trip_us(spin: bool) -> f64 {
    const TRIPS: u32 = 5000;
    let turn = Arc::new(AtomicU32::new(0));
    let wait = move |turn: &AtomicU32, want: u32| {
        while turn.load(Ordering::Acquire) != want {
            if spin {
                std::hint::spin_loop();
            } else {
                std::thread::park();
            }
        }
    };
    let main_thread = std::thread::current();
    let theirs = turn.clone();
    let other = std::thread::spawn(move || {
        for i in 0..TRIPS {
            wait(&theirs, 2 * i + 1);
            theirs.store(2 * i + 2, Ordering::Release);
            main_thread.unpark();
        }
    });
    let t = Instant::now();
    for i in 0..TRIPS {
        turn.store(2 * i + 1, Ordering::Release);
        other.thread().unpark();
        wait(&turn, 2 * i + 2);
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(TRIPS);
    other.join().unwrap();
    us
}

fn main() {
    println!(
        "thread round trip: parked {:.1} µs, spinning {:.2} µs",
        round_trip_us(false),
        round_trip_us(true)
    );
    let mut random = [0u8; 56];
    let os = ns_per_op(20_000, || {
        getrandom::getrandom(black_box(&mut random)).unwrap();
    });
    println!("getrandom(2), 56 B per record:                 {os:8.1} ns/record");
    let mut block = [0u8; 1024];
    let refill = ns_per_op(20_000, || {
        let mut c = ChaCha20::new(&[7u8; 32].into(), &[0u8; 12].into());
        block.fill(0);
        c.apply_keystream(black_box(&mut block));
    });
    println!(
        "ChaCha20 refill of 1 KiB, shared by 17 records: {:8.1} ns/record ({refill:.0} ns/refill)",
        refill / 17.0
    );

    let key = [9u8; 32];
    for size in [64usize, 256, 1024, 8192, 1 << 20] {
        let n = if size >= 1 << 20 { 200 } else { 50_000 };
        let mut buf = vec![1u8; size];
        let rustcrypto = ns_per_op(n, || {
            let c = Aes256Gcm::new((&key).into());
            let tag = c
                .encrypt_inout_detached((&[0u8; 12]).into(), b"", (&mut buf[..]).into())
                .unwrap();
            let _ = black_box(tag);
        });
        // What the crate uses (src/aead.rs `KeyCipher`): no inverse round keys.
        let enc_only = ns_per_op(n, || {
            let c = AesGcm::<Aes256Enc, U12>::new((&key).into());
            let tag = c
                .encrypt_inout_detached((&[0u8; 12]).into(), b"", (&mut buf[..]).into())
                .unwrap();
            let _ = black_box(tag);
        });
        let ring = ns_per_op(n, || {
            let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).unwrap());
            let tag = k
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key([0u8; 12]),
                    Aad::empty(),
                    &mut buf[..],
                )
                .unwrap();
            let _ = black_box(tag);
        });
        let mbps = |ns: f64| size as f64 / ns * 1e3;
        println!(
            "AES-256-GCM seal {size:>8} B with key setup: aes-gcm {rustcrypto:10.0} ns ({:6.0} MB/s), encrypt-only schedule {enc_only:10.0} ns, ring {ring:10.0} ns ({:6.0} MB/s)",
            mbps(rustcrypto),
            mbps(ring)
        );
    }
}
