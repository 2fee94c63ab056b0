//! Interop with a second, independent Asherah implementation: PyPI `asherah` 0.5.x
//! (GoDaddy's Rust core behind Python, `tests/peer/peer.py`), over one SQLite file and the
//! static KMS with Go's test key. The peer decrypts our records and reuses our keys; we
//! decrypt its records and reuse its keys. The interpreter is `$ASHERAH_PEER_PYTHON`, else
//! `$ASHERAH_SHIM_CACHE/peer-venv/bin/python`, else `python3`; without the package the test
//! prints SKIPPED and passes.

mod common;

use std::process::Command;
use std::time::Duration;

use asherah_native::{Asherah, Config, MetastoreConfig};
use common::{ik_created, skip};

fn python() -> String {
    if let Ok(p) = std::env::var("ASHERAH_PEER_PYTHON") {
        return p;
    }
    if let Ok(cache) = std::env::var("ASHERAH_SHIM_CACHE") {
        let venv = format!("{cache}/peer-venv/bin/python");
        if std::path::Path::new(&venv).exists() {
            return venv;
        }
    }
    "python3".into()
}

fn native(db: &str) -> Asherah {
    let mut c = Config::new("svc", "prod");
    c.metastore = MetastoreConfig::from_connection_string(&format!("sqlite://{db}")).unwrap();
    c.check_interval = Duration::from_secs(1);
    Asherah::new(c).unwrap()
}

fn lines(path: &str) -> Vec<(String, String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn python_peer_and_native_read_each_other_over_sqlite() {
    let py = python();
    let probe = Command::new("timeout")
        .args(["60", &py, "-c", "import asherah; print(asherah.version())"])
        .output();
    let version = match probe {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => {
            return skip(
                "peer_interop",
                &format!(
                "{py} cannot import the PyPI `asherah` package (pip install 'asherah>=0.5,<0.6')"
            ),
            )
        }
    };
    if !version.starts_with("0.5.") {
        return skip(
            "peer_interop",
            &format!("PyPI asherah {version} is not 0.5.x"),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let (db, ours, theirs) = (path("keys.db"), path("native.jsonl"), path("peer.jsonl"));

    let a = native(&db);
    let mut out = Vec::new();
    for (i, p) in ["shared-1", "shared-2", "shared-1"].iter().enumerate() {
        let text = format!("written by the native core #{i}");
        out.push(serde_json::json!([p, text, a.encrypt(p, text.as_bytes()).unwrap()]).to_string());
    }
    std::fs::write(&ours, out.join("\n") + "\n").unwrap();
    let native_ik = ik_created(
        &serde_json::from_str::<(String, String, String)>(&out[0])
            .unwrap()
            .2,
    );

    let run = Command::new("timeout")
        .args(["120", &py])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peer/peer.py"))
        .args([&db, &ours, &theirs, "shared-1", "peer-only"])
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&run.stdout).trim());
    assert!(
        run.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let peer = lines(&theirs);
    assert_eq!(peer.len(), 2);
    assert_eq!(
        ik_created(&peer[0].2),
        native_ik,
        "the peer reused the native core's IK for shared-1"
    );
    let cold = native(&db);
    for (p, text, record) in &peer {
        assert_eq!(
            cold.decrypt(p, record.as_bytes()).unwrap(),
            text.as_bytes(),
            "{p}"
        );
        assert_eq!(
            a.decrypt(p, record.as_bytes()).unwrap(),
            text.as_bytes(),
            "{p}"
        );
    }
    // The IK the peer created for peer-only is the one we now encrypt with.
    let ours_on_peer_ik = cold
        .encrypt("peer-only", b"native on the peer's IK")
        .unwrap();
    assert_eq!(ik_created(&ours_on_peer_ik), ik_created(&peer[1].2));
    eprintln!("peer_interop: PyPI asherah {version} and the native core exchanged records over one SQLite file");
}
