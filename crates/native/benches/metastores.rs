//! First-use latency and steady-state cost of the network metastores, against the memory
//! metastore in the same run: `cargo bench -p asherah-native --bench metastores` (source
//! `.cache/env.sh` first). Starts throw-away servers on loopback with the test scripts
//! (MariaDB plain and TLS, PostgreSQL plain and TLS); a backend whose server cannot start
//! is reported and left out. Prints one table; medians of wall time on this machine.
//!
//! Columns: `connect` is `Asherah::new` (connect, TLS handshake, create-table check);
//! `new partition` is the first encrypt of a partition with the SK already cached (IK
//! load-latest miss, IK insert); `cold read` is a second instance's first decrypt of a
//! partition (IK load by id and created); `encrypt`/`decrypt` are warm 64-byte calls with
//! session caching on, which touch no metastore.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use asherah_native::{Asherah, Config, MemoryMetastore, Metastore, MetastoreConfig};
use common::{MysqlServer, PgServer};

const PARTITIONS: usize = 40;
const WARM_CALLS: usize = 20_000;

struct Backend {
    name: &'static str,
    metastore: MetastoreConfig,
    ca_file: Option<std::path::PathBuf>,
    /// For the memory metastore: one store shared by the writer and the reader.
    shared: Option<Arc<dyn Metastore>>,
}

/// A new instance on `b` (its own connection and caches).
fn instance(b: &Backend) -> Asherah {
    match &b.shared {
        Some(store) => Asherah::with_metastore(config(b), store.clone()).unwrap(),
        None => Asherah::new(config(b)).unwrap(),
    }
}

fn config(b: &Backend) -> Config {
    let mut c = Config::new("bench-svc", "bench-prod");
    c.metastore = b.metastore.clone();
    c.metastore_ca_file.clone_from(&b.ca_file);
    c.metastore_timeout = Duration::from_secs(10);
    c
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn us(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e6
}

/// One row: connect ms, new-partition µs, cold-read µs, warm encrypt and decrypt µs/op.
fn measure(b: &Backend, run: &str) -> [f64; 5] {
    let connects: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            drop(instance(b));
            us(t) / 1e3
        })
        .collect();
    let writer = instance(b);
    writer.encrypt(&format!("{run}-warmup"), b"x").unwrap(); // creates or loads the SK
    let data = [7u8; 64];
    let mut records = Vec::new();
    let new_partition: Vec<f64> = (0..PARTITIONS)
        .map(|i| {
            let p = format!("{run}-p{i}");
            let t = Instant::now();
            records.push((p.clone(), writer.encrypt(&p, &data).unwrap()));
            us(t)
        })
        .collect();
    let reader = instance(b);
    reader
        .decrypt(&records[0].0, records[0].1.as_bytes())
        .unwrap(); // SK into the cache
    let cold_read: Vec<f64> = records[1..]
        .iter()
        .map(|(p, r)| {
            let t = Instant::now();
            assert_eq!(reader.decrypt(p, r.as_bytes()).unwrap(), data);
            us(t)
        })
        .collect();
    let p = &records[0].0;
    let t = Instant::now();
    let mut record = String::new();
    for _ in 0..WARM_CALLS {
        record = writer.encrypt(p, &data).unwrap();
    }
    let enc = us(t) / WARM_CALLS as f64;
    let t = Instant::now();
    for _ in 0..WARM_CALLS {
        writer.decrypt(p, record.as_bytes()).unwrap();
    }
    let dec = us(t) / WARM_CALLS as f64;
    [
        median(connects),
        median(new_partition),
        median(cold_read),
        enc,
        dec,
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is ignored.
    let run = format!(
        "r{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
    let my = MysqlServer::start()
        .map_err(|e| eprintln!("MariaDB left out: {e}"))
        .ok();
    let my_tls = MysqlServer::start_tls()
        .map_err(|e| eprintln!("TLS MariaDB left out: {e}"))
        .ok();
    let pg = PgServer::start()
        .map_err(|e| eprintln!("PostgreSQL left out: {e}"))
        .ok();
    let pg_tls = PgServer::start_tls()
        .map_err(|e| eprintln!("TLS PostgreSQL left out: {e}"))
        .ok();
    let mut backends = vec![Backend {
        name: "memory",
        metastore: MetastoreConfig::Memory,
        ca_file: None,
        shared: Some(Arc::new(MemoryMetastore::new())),
    }];
    if let Some(my) = &my {
        backends.push(Backend {
            name: "MariaDB",
            metastore: MetastoreConfig::Mysql {
                dsn: my.dsn.clone(),
            },
            ca_file: None,
            shared: None,
        });
    }
    if let Some(my) = &my_tls {
        backends.push(Backend {
            name: "MariaDB tls=true",
            metastore: MetastoreConfig::Mysql {
                dsn: format!("{}?tls=true", my.dsn),
            },
            ca_file: Some(my.dir().join("tls/ca.pem")),
            shared: None,
        });
    }
    if let Some(pg) = &pg {
        backends.push(Backend {
            name: "PostgreSQL",
            metastore: MetastoreConfig::from_connection_string(&pg.url).unwrap(),
            ca_file: None,
            shared: None,
        });
    }
    if let Some(pg) = &pg_tls {
        backends.push(Backend {
            name: "PostgreSQL verify-full",
            metastore: MetastoreConfig::from_connection_string(&pg.url).unwrap(),
            ca_file: None,
            shared: None,
        });
    }
    println!(
        "{:<24} {:>12} {:>16} {:>14} {:>14} {:>14}",
        "metastore",
        "connect ms",
        "new partition µs",
        "cold read µs",
        "encrypt µs/op",
        "decrypt µs/op"
    );
    for b in &backends {
        let [connect, new_partition, cold_read, enc, dec] = measure(b, &run);
        println!(
            "{:<24} {connect:>12.2} {new_partition:>16.0} {cold_read:>14.0} {enc:>14.2} {dec:>14.2}",
            b.name
        );
    }
}
