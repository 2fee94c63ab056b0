//! A stalled PostgreSQL (SIGSTOP: the kernel keeps ACKing TCP, so only client-side
//! deadlines help) costs only the calls that need it, and the core recovers by itself.
//!
//! Under load, the throw-away server's processes are SIGSTOPped for four metastore
//! timeouts, then SIGCONTed. Checked: warm-partition calls (keys cached) keep succeeding
//! quickly; calls on cold partitions fail with `ErrorKind::Metastore` within about one
//! timeout, and no call is ever in flight much longer; after SIGCONT, cold calls succeed
//! again on the same instance. Every wait is bounded, and a watchdog resumes the server
//! and fails the test if the scenario itself hangs.

mod common;

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use asherah_native::{Asherah, Config, ErrorKind, MetastoreConfig, MAX_MESSAGE_LEN};
use common::{skip, PgServer};

/// `Config::metastore_timeout` in this test.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How long the server stays stopped: long enough that a call waiting on the stopped
/// server without a deadline would pass 2 * TIMEOUT + SLACK before the stall ends.
const STALL: Duration = Duration::from_secs(8);
/// Scheduling slack on a shared, loaded 2-core box (timers fire late when CPU-starved:
/// 1.5 s was exceeded once at load average 10).
const SLACK: Duration = Duration::from_millis(2500);
/// A warm call is fast: under the timeout (a call that waited on the database would take
/// the whole timeout), whatever the database does; the rest is room for a CPU-starved box.
const WARM_BOUND: Duration = Duration::from_millis(1500);
const WATCHDOG: Duration = Duration::from_secs(120);

#[test]
fn stalled_postgres_costs_only_the_calls_that_need_it() {
    let pg = match PgServer::start() {
        Ok(pg) => pg,
        Err(why) => return skip("postgres_stall", &why),
    };
    let postmaster = pg.postmaster_pid();
    let url = pg.url.clone();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(|| {
            scenario(&url, postmaster)
        })));
    });
    let outcome = rx.recv_timeout(WATCHDOG);
    // Whatever happened, the server runs again before `pg` stops it.
    signal_server(postmaster, "CONT");
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => resume_unwind(panic),
        Err(_) => panic!("watchdog: the scenario did not finish within {WATCHDOG:?}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    Warm,
    ColdEncrypt,
    ColdDecrypt,
}

/// One finished call.
struct Sample {
    call: Call,
    started: Instant,
    took: Duration,
    result: Result<(), (ErrorKind, String)>,
}

fn scenario(url: &str, postmaster: u32) {
    let a = Arc::new(instance(url));
    // Records of partitions `a` has never seen, written by a second instance: decrypting
    // one needs the metastore (cold decrypts).
    let b = instance(url);
    let premade: Vec<(String, String)> = (0..300)
        .map(|i| {
            let p = format!("pre-{i}");
            let r = b.encrypt(&p, b"premade").unwrap();
            (p, r)
        })
        .collect();
    drop(b);
    let warm_record = a.encrypt("warm", b"warm payload").unwrap();
    assert_eq!(
        a.decrypt("warm", warm_record.as_bytes()).unwrap(),
        b"warm payload"
    );

    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_workers = StopOnDrop(Arc::clone(&stop));
    let epoch = Instant::now();
    // Per worker: when its current call started (ms since `epoch` + 1; 0 = between calls).
    let in_flight: Arc<Vec<AtomicU64>> = Arc::new((0..6).map(|_| AtomicU64::new(0)).collect());
    let premade = Arc::new(Mutex::new(premade));
    let mut workers = Vec::new();
    for w in 0..6 {
        let (a, samples, stop, in_flight) = (
            Arc::clone(&a),
            Arc::clone(&samples),
            Arc::clone(&stop),
            Arc::clone(&in_flight),
        );
        let (premade, warm_record) = (Arc::clone(&premade), warm_record.clone());
        workers.push(thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let call = match w {
                    0 | 1 => Call::Warm,
                    2 | 3 => Call::ColdEncrypt,
                    _ => Call::ColdDecrypt,
                };
                let pause = if call == Call::Warm { 1 } else { 20 };
                let started = Instant::now();
                in_flight[w].store(ms_since(epoch) + 1, Ordering::Relaxed);
                let result = match w {
                    // Warm: encrypt and decrypt on the cached partition.
                    0 => a.encrypt("warm", b"warm payload").map(drop),
                    1 => a.decrypt("warm", warm_record.as_bytes()).map(|p| {
                        assert_eq!(p, b"warm payload");
                    }),
                    // Cold encrypts: a new partition each time.
                    2 | 3 => a.encrypt(&format!("cold-{w}-{n}"), b"cold").map(drop),
                    // Cold decrypts: a partition this instance has not seen.
                    _ => {
                        let Some((p, r)) = premade.lock().unwrap().pop() else {
                            in_flight[w].store(0, Ordering::Relaxed);
                            break;
                        };
                        a.decrypt(&p, r.as_bytes())
                            .map(|p| assert_eq!(p, b"premade"))
                    }
                };
                let took = started.elapsed();
                in_flight[w].store(0, Ordering::Relaxed);
                let result = result.map_err(|e| (e.kind(), e.message().to_owned()));
                samples.lock().unwrap().push(Sample {
                    call,
                    started,
                    took,
                    result,
                });
                thread::sleep(Duration::from_millis(pause));
            }
        }));
    }

    thread::sleep(Duration::from_secs(1));
    // The stall starts once every server process is stopped, not when stopping begins:
    // signalling the postmaster, listing its children and signalling them runs two `kill`
    // processes, which can take over 100 ms on a loaded box, and a backend not yet stopped
    // meanwhile still answers, so a cold call would succeed "inside" the stall (a CI run
    // failed so; delaying the children's signal by 400 ms reproduces it every time).
    let stopping = Instant::now();
    let stopped = Stopped::new(postmaster);
    let stopped_at = Instant::now();
    let stop_took = stopped_at - stopping;
    // During the stall, no call may stay in flight much longer than two timeouts once the
    // server has stopped (what ran before the stop is not the stall's doing): a cold
    // encrypt whose load finished before the stop then stores, which times out, and a
    // failed store is followed by a reload (as in Go), which times out too.
    let stopped_ms = ms_since(epoch);
    let mut longest = Duration::ZERO;
    while stopped_at.elapsed() < STALL {
        thread::sleep(Duration::from_millis(50));
        for (w, started) in in_flight.iter().enumerate() {
            let started = started.load(Ordering::Relaxed);
            if started != 0 {
                let since = (started - 1).max(stopped_ms);
                let running = Duration::from_millis(ms_since(epoch).saturating_sub(since));
                longest = longest.max(running);
                assert!(
                    running <= 2 * TIMEOUT + SLACK,
                    "worker {w}'s call has been in flight for {running:?} with the server \
                     stopped (metastore_timeout {TIMEOUT:?})"
                );
            }
        }
    }
    // Resuming, like stopping, takes a while: a backend may answer from `resuming` on.
    let resuming = Instant::now();
    drop(stopped);
    let resumed_at = Instant::now();
    // Recovery: a cold encrypt and a cold decrypt started after SIGCONT succeed, bounded.
    let recovered = |call: Call| {
        let samples = samples.lock().unwrap();
        samples
            .iter()
            .any(|s| s.call == call && s.started >= resumed_at && s.result.is_ok())
    };
    while !(recovered(Call::ColdEncrypt) && recovered(Call::ColdDecrypt))
        && resumed_at.elapsed() < Duration::from_secs(20)
    {
        thread::sleep(Duration::from_millis(50));
    }
    let recovery = resumed_at.elapsed();
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker panicked");
    }

    let recovered = recovered(Call::ColdEncrypt) && recovered(Call::ColdDecrypt);
    let samples = samples.lock().unwrap();
    let in_stall = |s: &Sample| s.started >= stopped_at && s.started < resumed_at;
    let warm: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.call == Call::Warm && in_stall(s))
        .collect();
    let warm_max = warm.iter().map(|s| s.took).max().unwrap_or_default();
    // Cold calls that started and ended inside the stall, with every server process
    // stopped throughout: none of them can have had an answer from the database. (A call
    // whose deadline passed just before resuming may, on a loaded box, see its timer fire
    // after the server answered, and then rightly succeed.)
    let cold_since_stop = || {
        samples
            .iter()
            .filter(|s| s.call != Call::Warm && s.started >= stopped_at)
    };
    let cold: Vec<&Sample> = cold_since_stop()
        .filter(|s| s.started + s.took <= resuming)
        .collect();
    let cold_max = cold.iter().map(|s| s.took).max().unwrap_or_default();
    // Cold calls whose deadline, plus slack, passed inside the stall: each ended by then.
    let due = cold_since_stop().filter(|s| s.started + TIMEOUT + SLACK <= resuming);
    let overall_max = samples.iter().map(|s| s.took).max().unwrap_or_default();
    eprintln!(
        "postgres_stall: {} calls; stopping the server took {stop_took:?}; stall {STALL:?}: {} \
         warm calls (slowest {warm_max:?}), {} cold calls (slowest {cold_max:?}); slowest \
         call overall {overall_max:?}, longest in flight {longest:?}; cold calls succeeded \
         again {recovery:?} after SIGCONT",
        samples.len(),
        warm.len(),
        cold.len()
    );

    // (a) Warm partitions do not notice.
    assert!(warm.len() >= 20, "too few warm calls during the stall");
    for s in &warm {
        assert!(s.result.is_ok(), "warm call failed: {:?}", s.result);
    }
    assert!(warm_max < WARM_BOUND, "a warm call took {warm_max:?}");
    // (b) Cold partitions fail, typed and bounded, and the message says why.
    // Cold callers queue on the one connection and fail together at their deadlines, so a
    // stall of four timeouts holds about three rounds of them (the in-flight check above
    // covers every call regardless).
    assert!(cold.len() >= 2, "too few cold calls during the stall");
    for s in &cold {
        let Err((kind, message)) = &s.result else {
            panic!(
                "a cold call succeeded with the server stopped: it started {:?} after the \
                 stop and took {:?}",
                s.started - stopped_at,
                s.took
            );
        };
        assert_eq!(*kind, ErrorKind::Metastore, "{message}");
        assert!(
            message.contains("timed out") || message.contains("gave up"),
            "{message}"
        );
        assert!(message.len() <= MAX_MESSAGE_LEN && !message.contains("postgres://"));
    }
    for s in due {
        assert!(s.took <= TIMEOUT + SLACK, "a cold call took {:?}", s.took);
    }
    assert!(
        overall_max <= 2 * TIMEOUT + SLACK,
        "a call took {overall_max:?}"
    );
    // (c) The same instance recovers by itself.
    assert!(
        recovered,
        "no cold encrypt or no cold decrypt succeeded within 20 s of SIGCONT"
    );
    let r = a.encrypt("after-the-stall", b"again").unwrap();
    assert_eq!(
        a.decrypt("after-the-stall", r.as_bytes()).unwrap(),
        b"again"
    );
    let rest = premade.lock().unwrap().pop();
    if let Some((p, r)) = rest {
        assert_eq!(a.decrypt(&p, r.as_bytes()).unwrap(), b"premade");
    }
}

fn instance(url: &str) -> Asherah {
    let mut c = Config::new("svc", "prod");
    c.metastore = MetastoreConfig::from_connection_string(url).unwrap();
    c.metastore_timeout = TIMEOUT;
    Asherah::new(c).unwrap()
}

fn ms_since(epoch: Instant) -> u64 {
    epoch.elapsed().as_millis() as u64
}

/// The server stopped (SIGSTOP) while this lives; resumed (SIGCONT) on drop, panics included.
struct Stopped(u32);

impl Stopped {
    fn new(postmaster: u32) -> Self {
        signal_server(postmaster, "STOP");
        Stopped(postmaster)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        signal_server(self.0, "CONT");
    }
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Sends `sig` to the postmaster first, then to its children (backends and auxiliary
/// processes), listed again until no new one appears: a stopped postmaster forks no more.
fn signal_server(postmaster: u32, sig: &str) {
    let mut done = vec![postmaster];
    assert!(kill(sig, &done), "kill -{sig} {postmaster} failed");
    loop {
        let children: Vec<u32> = children_of(postmaster)
            .into_iter()
            .filter(|p| !done.contains(p))
            .collect();
        if children.is_empty() {
            break;
        }
        // A child may exit between listing and signalling: not an error.
        kill(sig, &children);
        done.extend(children);
    }
}

/// `kill -<sig> <pids>`; whether every pid was signalled.
fn kill(sig: &str, pids: &[u32]) -> bool {
    Command::new("kill")
        .stderr(std::process::Stdio::null())
        .arg(format!("-{sig}"))
        .args(pids.iter().map(u32::to_string))
        .status()
        .is_ok_and(|s| s.success())
}

/// Pids whose parent is `parent`, from `/proc/<pid>/stat`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
                    let rest = &stat[stat.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}
