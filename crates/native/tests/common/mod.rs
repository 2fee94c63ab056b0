//! Test helpers shared by the integration tests: throw-away PostgreSQL and MariaDB servers
//! (through `scripts/pg.sh` and `scripts/mysql.sh`, optionally with TLS), a moto server for
//! AWS KMS and DynamoDB (`scripts/moto.sh`), the real Go libasherah driven over Cobhan buffers on its own 8 MiB
//! thread, and small utilities. Everything external is bounded by timeouts, and a test
//! whose dependency is missing says so on stderr and returns (a visible skip).
#![allow(dead_code)]

pub mod golib;
pub mod interop;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use asherah_native::{EnvelopeKeyRecord, KeyMeta, Metastore};

/// `<repo>/scripts/pg.sh`.
pub fn pg_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg.sh")
}

/// A key record for metastore tests: created at `c`, revoked on even minutes, a key of 60
/// bytes of `c`, under SK `_SK_s_p` version 60.
pub fn test_record(c: i64) -> EnvelopeKeyRecord {
    EnvelopeKeyRecord {
        revoked: c % 120 == 0,
        created: c,
        encrypted_key: vec![c as u8; 60],
        parent_key_meta: Some(KeyMeta {
            id: "_SK_s_p".into(),
            created: 60,
        }),
    }
}

/// The contract every metastore keeps, on an empty store: insert-if-absent on
/// `(id, created)`, exact loads, the latest by `created`, and `None` for what is not there.
pub fn check_store_contract(ms: &dyn Metastore) {
    let rec = test_record;
    assert!(ms.store("k", 1_800_000_060, &rec(1_800_000_060)).unwrap());
    assert!(ms.store("k", 1_800_000_000, &rec(1_800_000_000)).unwrap());
    assert!(
        !ms.store("k", 1_800_000_000, &rec(1_800_000_000)).unwrap(),
        "duplicate (id, created)"
    );
    assert_eq!(
        ms.load("k", 1_800_000_000).unwrap(),
        Some(rec(1_800_000_000))
    );
    assert_eq!(ms.load("k", 1_800_000_001).unwrap(), None);
    assert_eq!(ms.load_latest("k").unwrap(), Some(rec(1_800_000_060)));
    assert_eq!(ms.load_latest("nope").unwrap(), None);
}

/// Prints a visible skip notice.
pub fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED {test}: {why}");
}

/// The real libasherah (`ASHERAH_GO_LIBRARY`), or `None` after a visible skip notice for
/// `test` when it is not set or not there.
pub fn go_library(test: &str) -> Option<String> {
    let Ok(path) = std::env::var("ASHERAH_GO_LIBRARY") else {
        skip(test, "ASHERAH_GO_LIBRARY is not set (source .cache/env.sh)");
        return None;
    };
    if !Path::new(&path).exists() {
        skip(test, &format!("{path} does not exist"));
        return None;
    }
    Some(path)
}

/// `<repo>/scripts/mysql.sh`.
pub fn mysql_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mysql.sh")
}

/// A running throw-away PostgreSQL; stopped (and its directory removed) on drop.
pub struct PgServer {
    dir: tempfile::TempDir,
    pub url: String,
}

impl PgServer {
    /// Starts one, or returns `Err(reason)` when PostgreSQL is not available here.
    pub fn start() -> Result<Self, String> {
        let (dir, url) = start_server(&pg_script(), "asherah-pg", false)?;
        Ok(PgServer { dir, url })
    }

    /// Starts one that takes TLS connections only, with a password (`pg.sh start --tls`);
    /// `url` has `sslmode=verify-full` and `sslrootcert` set.
    pub fn start_tls() -> Result<Self, String> {
        let (dir, url) = start_server(&pg_script(), "asherah-pgtls", true)?;
        Ok(PgServer { dir, url })
    }

    /// The server's data directory's parent (holds `tls/ca.pem`, `tls/other-ca.pem`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `query` with `psql` over the Unix socket (trusted there); its unaligned output.
    pub fn sql(&self, query: &str) -> String {
        let bindir = std::env::var("PG_BINDIR").unwrap_or_else(|_| {
            let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
                .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
                .unwrap_or_default();
            dirs.sort();
            dirs.last()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        });
        let port = std::fs::read_to_string(self.dir.path().join("port")).unwrap();
        let out = Command::new("timeout")
            .args(["30", &format!("{bindir}/psql"), "-h"])
            .arg(self.dir.path())
            .args([
                "-p",
                port.trim(),
                "-U",
                "postgres",
                "-d",
                "asherah",
                "-tA",
                "-c",
                query,
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Starts the stopped server again (`pg.sh resume`).
    pub fn resume(&self) {
        run_script(&pg_script(), "resume", self.dir.path());
    }

    /// Stops the server (`pg.sh stop`); [`PgServer::resume`] starts it again.
    pub fn stop(&self) {
        run_script(&pg_script(), "stop", self.dir.path());
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
        run_script(&pg_script(), "stop", self.dir.path());
    }
}

/// A running throw-away MariaDB; stopped (and its directory removed) on drop.
pub struct MysqlServer {
    dir: tempfile::TempDir,
    /// Go's DSN, `asherah:<password>@tcp(127.0.0.1:<port>)/asherah` (no `tls` parameter).
    pub dsn: String,
}

impl MysqlServer {
    /// Starts one, or returns `Err(reason)` when MariaDB is not available here.
    pub fn start() -> Result<Self, String> {
        let (dir, dsn) = start_server(&mysql_script(), "asherah-my", false)?;
        Ok(MysqlServer { dir, dsn })
    }

    /// Starts one whose user must connect over TLS (`mysql.sh start --tls`).
    pub fn start_tls() -> Result<Self, String> {
        let (dir, dsn) = start_server(&mysql_script(), "asherah-mytls", true)?;
        Ok(MysqlServer { dir, dsn })
    }

    /// The server's directory (holds `tls/ca.pem`, `tls/other-ca.pem`, `password`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The user's password.
    pub fn password(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("password"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Runs `query` as root with the `mariadb` client over the Unix socket; its output.
    pub fn sql(&self, query: &str) -> String {
        let out = Command::new("timeout")
            .args(["30", "mariadb", "--no-defaults", "-S"])
            .arg(self.dir.path().join("mysqld.sock"))
            .args(["-u", "root", "-N", "-B", "asherah", "-e", query])
            .output()
            .expect("mariadb client");
        assert!(
            out.status.success(),
            "mariadb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Stops the server (`mysql.sh stop`); [`MysqlServer::resume`] starts it again.
    pub fn stop(&self) {
        run_script(&mysql_script(), "stop", self.dir.path());
    }

    /// Starts the stopped server again, same port (`mysql.sh resume`).
    pub fn resume(&self) {
        run_script(&mysql_script(), "resume", self.dir.path());
    }
}

impl Drop for MysqlServer {
    fn drop(&mut self) {
        run_script(&mysql_script(), "stop", self.dir.path());
    }
}

/// Runs `<script> start <tempdir> [--tls]` and returns the directory and the first stdout line.
fn start_server(
    script: &Path,
    prefix: &str,
    tls: bool,
) -> Result<(tempfile::TempDir, String), String> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| e.to_string())?;
    let mut cmd = Command::new("timeout");
    cmd.arg("180").arg(script).arg("start").arg(dir.path());
    if tls {
        cmd.arg("--tls");
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} start failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Ok((dir, line))
}

/// Runs `<script> <cmd> <dir>` with a timeout, ignoring failure (used for stop and resume;
/// a resume that failed shows up as the next statement's error).
fn run_script(script: &Path, cmd: &str, dir: &Path) {
    let _ = Command::new("timeout")
        .arg("120")
        .arg(script)
        .arg(cmd)
        .arg(dir)
        .status();
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
        let (dir, url) = start_server(&moto_script(), "asherah-moto", false)?;
        Ok(MotoServer { dir, url })
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
        run_script(&moto_script(), "stop", self.dir.path());
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
