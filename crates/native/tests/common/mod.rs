//! Test helpers shared by the integration tests: a throw-away PostgreSQL server (through
//! `scripts/pg.sh`), the real Go libasherah driven over Cobhan buffers on its own 8 MiB
//! thread, and small utilities. Everything external is bounded by timeouts, and a test
//! whose dependency is missing says so on stderr and returns (a visible skip).
#![allow(dead_code)]

pub mod golib;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// `<repo>/scripts/pg.sh`.
pub fn pg_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg.sh")
}

/// Prints a visible skip notice.
pub fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED {test}: {why}");
}

/// A running throw-away PostgreSQL; stopped (and its directory removed) on drop.
pub struct PgServer {
    dir: tempfile::TempDir,
    pub url: String,
}

impl PgServer {
    /// Starts one, or returns `Err(reason)` when PostgreSQL is not available here.
    pub fn start() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("asherah-pg")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let out = Command::new("timeout")
            .arg("120")
            .arg(pg_script())
            .arg("start")
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run pg.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg.sh start failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(PgServer { dir, url })
    }

    /// The postmaster's pid (the first line of `postmaster.pid` in the data directory).
    pub fn postmaster_pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid"))
            .expect("postmaster.pid");
        text.lines().next().unwrap().trim().parse().unwrap()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = Command::new("timeout")
            .arg("90")
            .arg(pg_script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// Sleeps until `secs_into_minute` seconds past the next minute boundary (for tests that
/// need a new minute-truncated key timestamp with the real clock).
pub fn sleep_into_next_minute(secs_into_minute: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let target = (now / 60 + 1) * 60 + secs_into_minute;
    std::thread::sleep(Duration::from_secs(target - now));
}

/// Seconds into the current minute.
pub fn second_of_minute() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60
}

/// The `ParentKeyMeta.Created` of a DataRowRecord.
pub fn ik_created(record: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(record).unwrap();
    v["Key"]["ParentKeyMeta"]["Created"].as_i64().unwrap()
}
