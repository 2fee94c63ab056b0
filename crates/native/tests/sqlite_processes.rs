//! Two processes sharing one SQLite file. The test binary re-runs itself as a child (the
//! `child` test, which does nothing unless `ASHERAH_SQLITE_CHILD` is set): two children race
//! to create the same SK and IKs while encrypting, then each decrypts the other's records.
//! Children are bounded by a timeout and killed if they overrun.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use asherah_native::{Asherah, Config, MetastoreConfig};

const PARTITIONS: [&str; 3] = ["alpha", "beta", "gamma"];

fn asherah(db: &str) -> Asherah {
    let mut c = Config::new("svc", "prod");
    c.metastore = MetastoreConfig::from_connection_string(&format!("sqlite://{db}")).unwrap();
    Asherah::new(c).unwrap()
}

/// Child mode: `encrypt <db> <out> <tag>` or `decrypt <db> <in>`.
#[test]
fn child() {
    let Ok(args) = std::env::var("ASHERAH_SQLITE_CHILD") else {
        return;
    };
    let args: Vec<&str> = args.split('\t').collect();
    let a = asherah(args[1]);
    match args[0] {
        "encrypt" => {
            // Start line: wait for the parent's go-file so both children hit the empty
            // database at the same moment and race to create the SK and IKs.
            let start = Instant::now();
            while !Path::new(&format!("{}.go", args[1])).exists() {
                assert!(start.elapsed() < Duration::from_secs(30), "no start signal");
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut lines = Vec::new();
            for i in 0..60 {
                let p = PARTITIONS[i % PARTITIONS.len()];
                let plaintext = format!("{}-{i}", args[3]);
                lines.push(
                    serde_json::json!([p, plaintext, a.encrypt(p, plaintext.as_bytes()).unwrap()])
                        .to_string(),
                );
            }
            std::fs::write(args[2], lines.join("\n")).unwrap();
        }
        "decrypt" => {
            for line in std::fs::read_to_string(args[2]).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let pt = a
                    .decrypt(v[0].as_str().unwrap(), v[2].as_str().unwrap().as_bytes())
                    .unwrap();
                assert_eq!(pt, v[1].as_str().unwrap().as_bytes());
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn spawn(args: &[&str]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("ASHERAH_SQLITE_CHILD", args.join("\t"))
        .spawn()
        .unwrap()
}

fn wait_all(children: Vec<Child>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    for mut c in children {
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                assert!(status.success(), "child failed: {status}");
                break;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("child timed out");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn two_processes_share_one_sqlite_file() {
    if std::env::var_os("ASHERAH_SQLITE_CHILD").is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let (db, a_out, b_out) = (path("keys.db"), path("a.jsonl"), path("b.jsonl"));
    let encryptors = vec![
        spawn(&["encrypt", &db, &a_out, "A"]),
        spawn(&["encrypt", &db, &b_out, "B"]),
    ];
    std::thread::sleep(Duration::from_millis(200)); // let both children reach the start line
    std::fs::write(format!("{db}.go"), b"").unwrap();
    wait_all(encryptors, Duration::from_secs(120));
    wait_all(
        vec![
            spawn(&["decrypt", &db, &b_out]),
            spawn(&["decrypt", &db, &a_out]),
        ],
        Duration::from_secs(120),
    );

    // One SK and one IK per partition: the loser of each insert race loaded the winner.
    let conn = rusqlite::Connection::open(Path::new(&db)).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, count(*) FROM encryption_key GROUP BY id ORDER BY id")
        .unwrap();
    let counts: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(counts.len(), 1 + PARTITIONS.len(), "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
    // And this (third) process reads both children's records.
    let a = asherah(&db);
    for file in [&a_out, &b_out] {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                a.decrypt(v[0].as_str().unwrap(), v[2].as_str().unwrap().as_bytes())
                    .unwrap(),
                v[1].as_str().unwrap().as_bytes()
            );
        }
    }
}
