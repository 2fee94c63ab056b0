//! Test helpers shared by the integration tests: a throw-away PostgreSQL server (through
//! `scripts/pg.sh`), a moto server for AWS KMS and DynamoDB (`scripts/moto.sh`), the real Go libasherah driven over Cobhan buffers on its own 8 MiB
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

/// `<repo>/scripts/moto.sh`.
pub fn moto_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/moto.sh")
}

/// A moto server (KMS + DynamoDB) on 127.0.0.1, stopped on drop.
pub struct MotoServer {
    dir: tempfile::TempDir,
    pub url: String,
}

impl MotoServer {
    /// Starts one, or returns `Err(reason)` when moto is not installed here.
    pub fn start() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("asherah-moto")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let out = Command::new("timeout")
            .arg("90")
            .arg(moto_script())
            .arg("start")
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run moto.sh: {e}"))?;
        let server = MotoServer {
            dir,
            url: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        };
        if !out.status.success() {
            return Err(format!(
                "moto.sh start failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(server)
    }

    /// Creates `table` (Go's schema) and one KMS key per region; returns `(region, arn)`s.
    pub fn setup(&self, table: &str, regions: &[&str]) -> Vec<(String, String)> {
        let out = Command::new("timeout")
            .arg("90")
            .arg(moto_script())
            .args(["setup", &self.url, table])
            .args(regions)
            .output()
            .expect("run moto.sh setup");
        assert!(
            out.status.success(),
            "moto.sh setup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(r, a)| (r.to_owned(), a.to_owned()))
            .collect()
    }

    /// Runs `python - args` with moto's Python (boto3 at hand), returning stdout.
    pub fn python(&self, script: &str, args: &[&str]) -> String {
        use std::io::Write;
        let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../.cache/moto-venv/bin/python")
                .display()
                .to_string()
        });
        let mut child = Command::new("timeout")
            .args(["60", &python, "-"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run moto's python");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "python helper failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The server's pid (to SIGSTOP / SIGCONT it).
    pub fn pid(&self) -> i32 {
        std::fs::read_to_string(self.dir.path().join("pid"))
            .expect("moto pid")
            .trim()
            .parse()
            .unwrap()
    }

    /// Sets the test environment the AWS SDK (and Go) read: fake credentials, the moto
    /// endpoint, no instance metadata. Call before any thread reads the environment.
    pub fn export_env(&self) {
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL", self.url.as_str()),
        ] {
            std::env::set_var(k, v);
        }
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_SESSION_TOKEN");
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = Command::new("timeout")
            .arg("30")
            .arg(moto_script())
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
