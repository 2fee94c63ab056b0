//! Encrypt and decrypt throughput of the native core with the memory metastore and a warm
//! session cache, at 64 B, 1 KiB, 8 KiB and 1 MiB: `cargo bench -p asherah-native`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use asherah_native::{Asherah, Config};

fn core(c: &mut Criterion) {
    let asherah = Asherah::new(Config::new("bench-svc", "bench-prod")).unwrap();
    let mut group = c.benchmark_group("native");
    for size in [64usize, 1024, 8 * 1024, 1024 * 1024] {
        let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let record = asherah.encrypt("partition-1", &data).unwrap();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("encrypt", size), &data, |b, data| {
            b.iter(|| {
                asherah
                    .encrypt(black_box("partition-1"), black_box(data))
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("decrypt", size), &record, |b, record| {
            b.iter(|| {
                asherah
                    .decrypt(black_box("partition-1"), black_box(record.as_bytes()))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
