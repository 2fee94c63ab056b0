//! A fixed workload for profilers: `cargo run --release -p asherah-native --example core_loop
//! -- <encrypt|decrypt> <size> <n>` runs exactly `n` operations of one kind on the memory
//! metastore with a warm session cache and prints the time per operation, so `perf record`
//! sees the core alone, without criterion's analysis or a JS runtime around it.

use std::time::Instant;

use asherah_native::{Asherah, Config};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let op = args.get(1).map(String::as_str).unwrap_or("encrypt");
    let size: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64);
    let n: usize = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let asherah = Asherah::new(Config::new("loop-svc", "loop-prod")).expect("setup");
    let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let record = asherah.encrypt("partition-1", &data).expect("encrypt");
    let t0 = Instant::now();
    let mut sink = 0usize;
    for _ in 0..n {
        sink += match op {
            "decrypt" => asherah
                .decrypt("partition-1", record.as_bytes())
                .expect("decrypt")
                .len(),
            _ => asherah
                .encrypt("partition-1", &data)
                .expect("encrypt")
                .len(),
        };
    }
    let ns = t0.elapsed().as_nanos() as f64 / n as f64;
    println!("{op} {size} B x {n}: {ns:.0} ns/op (checksum {sink})");
}
