//! The Go core: the real `libasherah`, opened with `dlopen` and driven through Cobhan buffers.
//!
//! The library is opened on a core-host thread (so the Go runtime's threads inherit that
//! thread's blocked signal mask), inside the signal guard: dispositions are snapshotted
//! before `dlopen` and repaired once the first Go call has returned, i.e. once the runtime
//! has finished installing its handlers. A Go runtime cannot be unloaded, so the library is
//! opened at most once per process and never closed; `Shutdown` then `SetupJson` reuse it.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;

use std::time::{Duration, Instant};

use parking_lot::{Mutex, ReentrantMutex, ReentrantMutexGuard};

use super::cobhan::{self, Buffer};
use super::signal_guard;
use super::{Core, CoreError, CoreKind, Plaintext, Record};
use crate::host::{CoreThread, ThreadFacts};

/// Extra output capacity on top of libasherah's own estimate (`set_safety_padding_overhead`).
/// Read at each call; a change applies to the calls that start after it.
static SAFETY_PADDING: AtomicUsize = AtomicUsize::new(0);

/// When set, every Go call records the facts of the thread it runs on (tests read them).
static RECORD_CALL_FACTS: AtomicBool = AtomicBool::new(false);

/// Sets the extra output capacity given to every later Go call.
pub(crate) fn set_safety_padding(bytes: usize) {
    SAFETY_PADDING.store(bytes, Ordering::Relaxed);
}

/// Turns recording of each Go call's thread facts on or off (see [`last_call_facts`]).
pub(crate) fn record_call_facts(on: bool) {
    RECORD_CALL_FACTS.store(on, Ordering::Relaxed);
}
static LAST_CALL_FACTS: Mutex<Option<(i64, ThreadFacts)>> = Mutex::new(None);

/// The kernel thread id and facts of the thread that made the last recorded Go call.
pub(crate) fn last_call_facts() -> Option<(i64, ThreadFacts)> {
    LAST_CALL_FACTS.lock().clone()
}

/// Reads this thread's facts just before entering Go (always for SetupJson, otherwise only
/// when [`RECORD_CALL_FACTS`] is on).
fn record_facts(always: bool) {
    if always || RECORD_CALL_FACTS.load(Ordering::Relaxed) {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as i64;
        *LAST_CALL_FACTS.lock() = Some((tid, ThreadFacts::current()));
    }
}

/// How many times an output buffer is grown after a "buffer too small" answer.
const RESIZE_ATTEMPTS: usize = 3;

type SetupJsonFn = unsafe extern "C" fn(*mut c_void) -> i32;
type EncryptToJsonFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_void) -> i32;
type DecryptFromJsonFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_void) -> i32;
type EstimateBufferFn = unsafe extern "C" fn(i32, i32) -> i32;
type SetEnvFn = unsafe extern "C" fn(*mut c_void) -> i32;
type ShutdownFn = unsafe extern "C" fn();

/// The resolved exports of a loaded libasherah.
pub(crate) struct GoLibrary {
    path: PathBuf,
    setup_json: SetupJsonFn,
    encrypt_to_json: EncryptToJsonFn,
    decrypt_from_json: DecryptFromJsonFn,
    estimate_buffer: EstimateBufferFn,
    set_env: SetEnvFn,
    shutdown: ShutdownFn,
}

static LIBRARY: OnceLock<GoLibrary> = OnceLock::new();
static LOAD_LOCK: Mutex<()> = Mutex::new(());

/// Held around every Go lifecycle step (`SetupJson`, `Shutdown`) and, by a setup, until
/// its outcome is published or discarded: Go's setup and shutdown must never overlap, and
/// a setup whose caller gave up must be undone before the next one starts. Re-entrant, so
/// the holder may call [`GoCore::shutdown`] to discard what it just set up.
static LIFECYCLE: ReentrantMutex<()> = ReentrantMutex::new(());

/// Encrypt, decrypt and SetEnv calls inside Go right now, of any instance (an abandoned
/// instance's stuck calls included). Setup waits for zero: a Go `Shutdown` or `SetupJson`
/// under a running call is what made libasherah panic in `GetSession`.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Proof of holding the Go lifecycle lock (see [`lifecycle`]).
pub(crate) type Lifecycle = ReentrantMutexGuard<'static, ()>;

/// Takes the Go lifecycle lock, waiting at most until `deadline`.
pub(crate) fn lifecycle(deadline: Instant) -> Result<Lifecycle, CoreError> {
    LIFECYCLE.try_lock_until(deadline).ok_or_else(|| {
        CoreError::Unusable(
            "an earlier Go setup or shutdown is still running inside libasherah".into(),
        )
    })
}

/// Called as a call enters and leaves Go: the API layer routes libasherah's stderr lines
/// to the log hook while Go runs (`api::go_log`). Set once, at module load.
static CALL_WATCH: OnceLock<CallWatch> = OnceLock::new();

/// What runs as a call enters Go, and as it leaves.
type CallWatch = (fn(), fn());

/// Installs the enter/leave pair run around every call into Go; the first one wins.
pub(crate) fn set_call_watch(enter: fn(), leave: fn()) {
    let _ = CALL_WATCH.set((enter, leave));
}

/// Runs the call watch's enter now and its leave when dropped.
struct Watched;

impl Watched {
    fn open() -> Watched {
        if let Some((enter, _)) = CALL_WATCH.get() {
            enter();
        }
        Watched
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some((_, leave)) = CALL_WATCH.get() {
            leave();
        }
    }
}

/// Counts one call inside Go for as long as it lives (and is watched).
struct InGo {
    _watched: Watched,
}

impl InGo {
    fn enter() -> InGo {
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        InGo {
            _watched: Watched::open(),
        }
    }
}

impl Drop for InGo {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Waits (polling, bounded by `deadline`) until no call is inside Go.
fn wait_no_calls_in_go(deadline: Instant) -> Result<(), CoreError> {
    loop {
        let n = IN_FLIGHT.load(Ordering::Acquire);
        if n == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(CoreError::Unusable(format!(
                "{n} call(s) of an abandoned instance are still running inside libasherah; \
                 a new setup would race them"
            )));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether a Go runtime has been loaded into this process by us.
pub(crate) fn is_loaded() -> bool {
    LIBRARY.get().is_some()
}

/// Opens libasherah at `path` (once per process) on this core-host thread.
pub(crate) fn load(_ct: &CoreThread, path: &Path) -> Result<&'static GoLibrary, CoreError> {
    assert_core_thread();
    let _serial = LOAD_LOCK.lock();
    let wanted = path
        .canonicalize()
        .map_err(|e| CoreError::Library(format!("{}: {e}", path.display())))?;
    if let Some(lib) = LIBRARY.get() {
        if lib.path == wanted {
            return Ok(lib);
        }
        return Err(CoreError::Library(format!(
            "{} is already loaded in this process; a Go runtime cannot be unloaded, so {} cannot be opened too",
            lib.path.display(),
            wanted.display()
        )));
    }
    signal_guard::arm();
    // SAFETY: loading runs the library's constructors (the Go runtime's preinit). That is
    // exactly what we intend, on a core-host thread whose async signals are blocked; the
    // signal guard armed above records the dispositions first.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some(&wanted),
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL,
        )
    }
    .map_err(|e| CoreError::Library(e.to_string()))?;
    let resolved = resolve(&lib, wanted);
    // Never unload: Go's runtime threads keep running code from this mapping.
    std::mem::forget(lib);
    let resolved = resolved?;
    Ok(LIBRARY.get_or_init(|| resolved))
}

fn resolve(lib: &libloading::os::unix::Library, path: PathBuf) -> Result<GoLibrary, CoreError> {
    fn sym<T: Copy>(lib: &libloading::os::unix::Library, name: &str) -> Result<T, CoreError> {
        // SAFETY: each `T` below is the C signature libasherah exports under that name
        // (cgo `//export` functions with GoInt32 / unsafe.Pointer parameters).
        unsafe { lib.get::<T>(name.as_bytes()) }
            .map(|s| *s)
            .map_err(|e| CoreError::Library(format!("missing export {name}: {e}")))
    }
    Ok(GoLibrary {
        setup_json: sym(lib, "SetupJson")?,
        encrypt_to_json: sym(lib, "EncryptToJson")?,
        decrypt_from_json: sym(lib, "DecryptFromJson")?,
        estimate_buffer: sym(lib, "EstimateBuffer")?,
        set_env: sym(lib, "SetEnv")?,
        shutdown: sym(lib, "Shutdown")?,
        path,
    })
}

/// Refuses to let Go code run anywhere but a core-host thread, in release builds too: the
/// signal repair is only sound while this holds.
fn assert_core_thread() {
    assert!(
        CoreThread::is_current(),
        "Go code must only run on asherah-shim core-host threads"
    );
}

/// An initialised libasherah (after a successful `SetupJson`).
pub(crate) struct GoCore {
    lib: &'static GoLibrary,
    /// How encrypt sizes its output buffer (see [`Estimate`]).
    estimate: Estimate,
    /// What a record's key id may hold beyond what either estimate counts (see
    /// [`key_id_extra`]).
    key_id_extra: usize,
}

/// How `EncryptToJson`'s output buffer is sized.
///
/// libasherah's `EstimateBuffer` export is plain arithmetic on the two lengths and the
/// lengths of `ProductID` and `ServiceName` given to `SetupJson`. Calling it is a whole
/// C-to-Go call (on Go 1.20: taking an M, signal-mask and alt-stack system calls, waking
/// Go's scheduler), which cost about as much as the small encrypt itself; asherah-node
/// computes the same figure in C instead. So the shim computes it too ([`Estimate::Local`]),
/// once setup has checked that the library gives the same figures at a few sample lengths;
/// a library whose estimate differs is asked every time ([`Estimate::Library`]). Either
/// way a short estimate only costs a retry (`ERR_BUFFER_TOO_SMALL` grows the buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Estimate {
    /// libasherah's formula, computed here; holds `len(ProductID) + len(ServiceName)`.
    Local { key_id_overhead: usize },
    /// Ask the library's `EstimateBuffer` for every encrypt.
    Library,
}

impl Estimate {
    fn code(self) -> u8 {
        match self {
            Estimate::Local { .. } => 1,
            Estimate::Library => 2,
        }
    }
}

/// The [`Estimate`] of the Go core set up last: 0 none (never, or shut down since), 1
/// local, 2 library.
static LAST_ESTIMATE: AtomicU8 = AtomicU8::new(0);
/// How many times encrypt has asked the library's `EstimateBuffer` (test support).
static ESTIMATE_CALLS: AtomicU64 = AtomicU64::new(0);
/// How many Go calls were made again with a larger output buffer, after a first one that
/// was too small (test support: each is a whole extra call into Go).
static OUTPUT_RETRIES: AtomicU64 = AtomicU64::new(0);

/// The largest plaintext whose record fits the largest Cobhan buffer: the record holds the
/// base64 of the data and its 28-byte nonce and tag (4 characters per 3 bytes), plus key
/// JSON of a few hundred bytes (4 KiB allowed, for long partition ids and names; a longer
/// id is caught per call, in `encrypt`).
pub(crate) const MAX_ENCRYPT_INPUT: usize = (cobhan::MAX_PAYLOAD - 4096) / 4 * 3 - 28;

/// How many encrypts and decrypts were made again after libasherah failed them (see
/// [`FAILURE_ATTEMPTS`]; test support).
static FAILURE_RETRIES: AtomicU64 = AtomicU64::new(0);

/// How many times an encrypt or decrypt goes into libasherah before its failure is taken.
///
/// libasherah 0.3.x's session cache can close a session that another call is still using:
/// when more partitions are in use than `SessionCacheMaxSize`, it evicts a session and
/// destroys its keys while a call on another thread has just taken that session. The loser
/// fails with "secret has already been destroyed" (stderr), which reaches us only as -103
/// (encrypt) or -104 (decrypt), the codes of every other failure too. asherah-node makes
/// one call at a time and meets it less often; the shim's core-host threads run calls in
/// parallel. Measured with 37 partitions over a cache of 36 and two threads: 97-110 of
/// 8,000 round trips failed (1.3 %; with one thread 0.3 % of calls failed a first
/// attempt); with two retries, 0-1. The next attempt usually gets a fresh session; a much
/// smaller cache under the same load (1 to 16) still fails ~0.2 % of calls after both
/// retries (docs/troubleshooting.md). A call that fails for a real reason (a tampered
/// record) fails every time and costs two more Go calls of ~100 µs: failures are not the
/// hot path.
const FAILURE_ATTEMPTS: u32 = 3;

/// How the Go core set up last sizes encrypt output (`"local"`, `"library"`, or `None`
/// if none is set up), and how many encrypts have asked the library so far (test support,
/// `_diagnostics`).
pub(crate) fn last_estimate() -> (Option<&'static str>, u64) {
    let how = match LAST_ESTIMATE.load(Ordering::Relaxed) {
        1 => Some("local"),
        2 => Some("library"),
        _ => None,
    };
    (how, ESTIMATE_CALLS.load(Ordering::Relaxed))
}

/// How many Go calls have been made again with a larger output buffer (test support,
/// `_diagnostics().goOutputRetries`).
pub(crate) fn output_retries() -> u64 {
    OUTPUT_RETRIES.load(Ordering::Relaxed)
}

/// How many encrypts and decrypts were made again after libasherah failed them (test
/// support, `_diagnostics().goFailureRetries`).
pub(crate) fn failure_retries() -> u64 {
    FAILURE_RETRIES.load(Ordering::Relaxed)
}

/// A failed attempt that took longer than this is not retried: the session-cache collision
/// fails at once, while a metastore or KMS that stalled and then failed would stall again,
/// past the caller's deadline (the watchdog would then count the call as stuck).
const RETRY_ONLY_FASTER_THAN: Duration = Duration::from_millis(250);

/// Runs `call` up to [`FAILURE_ATTEMPTS`] times while it fails quickly (see
/// [`RETRY_ONLY_FASTER_THAN`]) with libasherah's own encrypt or decrypt failure (-103,
/// -104); any other outcome is taken at once.
fn retrying_failures<T>(mut call: impl FnMut() -> Result<T, CoreError>) -> Result<T, CoreError> {
    let mut attempt = 1;
    loop {
        let started = Instant::now();
        let out = call();
        let retry = attempt < FAILURE_ATTEMPTS
            && matches!(
                out,
                Err(CoreError::EncryptFailed(_) | CoreError::DecryptFailed(_))
            )
            && started.elapsed() < RETRY_ONLY_FASTER_THAN;
        if !retry {
            return out;
        }
        attempt += 1;
        FAILURE_RETRIES.fetch_add(1, Ordering::Relaxed);
    }
}

/// libasherah's constants in `EstimateBuffer`: the Cobhan header, the record's JSON around
/// its two base64 fields, the AES-GCM nonce and tag plus the wrapped key's growth, and the
/// base64 expansion it assumes.
const COBHAN_HEADER: usize = 8;
const ENVELOPE_OVERHEAD: usize = 185;
const ENCRYPTION_OVERHEAD: usize = 48;
const BASE64_FACTOR: f64 = 1.34;

/// Lengths (data, partition id) at which setup compares [`local_estimate`] with the library.
const ESTIMATE_SAMPLES: [(usize, usize); 4] = [(0, 0), (64, 16), (4_099, 255), (1 << 20, 7)];

/// libasherah's `EstimateBuffer` for these lengths, without calling it: the same sum, the
/// data term in `f64` and truncated, as Go converts it. Unlike the export (`int32`
/// arithmetic) it does not wrap for lengths near 2 GiB.
pub(crate) fn local_estimate(
    key_id_overhead: usize,
    data_len: usize,
    partition_len: usize,
) -> usize {
    let data_term = (data_len.saturating_add(ENCRYPTION_OVERHEAD) as f64 * BASE64_FACTOR) as usize;
    COBHAN_HEADER
        .saturating_add(ENVELOPE_OVERHEAD)
        .saturating_add(key_id_overhead)
        .saturating_add(partition_len)
        .saturating_add(data_term)
}

/// `len(ProductID) + len(ServiceName)` in bytes, as libasherah computes it from the same
/// JSON; `None` if either is missing (setup would have failed).
fn key_id_overhead(config_json: &str) -> Option<usize> {
    let v: serde_json::Value = serde_json::from_str(config_json).ok()?;
    let product = v.get("ProductID")?.as_str()?;
    let service = v.get("ServiceName")?.as_str()?;
    Some(product.len() + service.len())
}

/// Bytes a record's key id may hold that libasherah's estimate does not count, for this
/// setup JSON: the escaping of `ProductID` and `ServiceName` ([`json_escape_growth`]), and
/// with `EnableRegionSuffix` the `_<region>` Go appends to it: the longest region the
/// config names (the DynamoDB metastore uses one of them), and at least
/// [`REGION_ALLOWANCE`], since the region may come from the AWS environment instead.
fn key_id_extra(config_json: &str) -> usize {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(config_json) else {
        return 0;
    };
    let escaped = |key: &str| {
        v.get(key)
            .and_then(|n| n.as_str())
            .map_or(0, json_escape_growth)
    };
    let mut extra = escaped("ProductID") + escaped("ServiceName");
    if v.get("EnableRegionSuffix").and_then(|b| b.as_bool()) == Some(true) {
        let region_map = v.get("RegionMap").and_then(|m| m.as_object());
        let regions = ["DynamoDBRegion", "PreferredRegion"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(|r| r.as_str()))
            .chain(
                region_map
                    .into_iter()
                    .flat_map(|m| m.keys().map(String::as_str)),
            );
        let longest = regions
            .map(|r| r.len() + json_escape_growth(r))
            .max()
            .unwrap_or(0);
        extra += 1 + longest.max(REGION_ALLOWANCE);
    }
    extra
}

/// Room for a region name not in the config (`AWS_REGION`, a profile): AWS's longest today
/// are 14 characters (`ap-southeast-1`), so 20 leaves room.
const REGION_ALLOWANCE: usize = 20;

/// At least the bytes Go's `encoding/json` adds when it writes `s` inside a JSON string.
///
/// libasherah's `EstimateBuffer` counts the partition id and the two names by their raw
/// bytes, but the record carries them in its key id, escaped: `"` and `\` take two bytes,
/// control characters and the HTML-unsafe `<`, `>`, `&` take six (`\u003c`), and U+2028
/// and U+2029 six for three. For a partition id like `a<b>&c` the estimate was short, and
/// every such encrypt went into Go twice (the retry after `ERR_BUFFER_TOO_SMALL`), with
/// libasherah printing "Output buffer needed" on stderr each time. Any `0xE2` lead byte
/// counts as a possible U+2028/U+2029, so this may overshoot by a few bytes, never under.
pub(crate) fn json_escape_growth(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'"' | b'\\' => 1,
            b'<' | b'>' | b'&' | 0..=0x1f => 5,
            0xe2 => 3,
            _ => 0,
        })
        .sum()
}

impl GoCore {
    /// Calls `SetupJson` with `config_json` (Go's `Options`, durations in nanoseconds).
    ///
    /// The caller holds the lifecycle lock (`_held`) and, through it, is the only one
    /// setting Go up; calls of an abandoned instance still inside Go are waited for (until
    /// `deadline`). Go's own "already initialized" can then only be a leftover of an
    /// abandoned instance, so it is shut down and the setup retried once.
    pub(crate) fn setup(
        ct: &CoreThread,
        _held: &Lifecycle,
        lib: &'static GoLibrary,
        config_json: &str,
        deadline: Instant,
    ) -> Result<GoCore, CoreError> {
        let _ = ct;
        assert_core_thread();
        wait_no_calls_in_go(deadline)?;
        let mut cfg = Buffer::input(config_json.as_bytes()).map_err(buffer_error)?;
        record_facts(true);
        let _watched = Watched::open();
        // SAFETY: a valid Cobhan input buffer that outlives the call; core-host thread.
        let mut rc = unsafe { (lib.setup_json)(cfg.as_mut_ptr()) };
        // The first Go call has returned, so the runtime has installed all its handlers.
        signal_guard::repair_after_first_call();
        if rc == cobhan::ERR_ALREADY_INITIALIZED {
            // SAFETY: no arguments; core-host thread; no call is inside Go (waited above)
            // and we hold the lifecycle lock.
            unsafe { (lib.shutdown)() };
            let mut cfg = Buffer::input(config_json.as_bytes()).map_err(buffer_error)?;
            // SAFETY: as above.
            rc = unsafe { (lib.setup_json)(cfg.as_mut_ptr()) };
        }
        match rc {
            0 => {
                let estimate = choose_estimate(lib, config_json);
                LAST_ESTIMATE.store(estimate.code(), Ordering::Relaxed);
                Ok(GoCore {
                    lib,
                    estimate,
                    key_id_extra: key_id_extra(config_json),
                })
            }
            cobhan::ERR_ALREADY_INITIALIZED => Err(CoreError::AlreadyInitialized),
            cobhan::ERR_BAD_CONFIG => Err(CoreError::BadConfig(
                "libasherah rejected the configuration (-105); its stderr line says why".into(),
            )),
            cobhan::ERR_JSON_DECODE_FAILED => Err(CoreError::BadConfig(
                "libasherah could not decode the configuration JSON (-5)".into(),
            )),
            other => Err(map_rc(other, "SetupJson")),
        }
    }

    fn call_with_output(
        &self,
        call: &'static str,
        mut initial: usize,
        mut f: impl FnMut(*mut c_void) -> i32,
    ) -> Result<Vec<u8>, CoreError> {
        for attempt in 1..=RESIZE_ATTEMPTS {
            let mut out = Buffer::output(initial).map_err(buffer_error)?;
            let rc = f(out.as_mut_ptr());
            if rc == cobhan::ERR_BUFFER_TOO_SMALL {
                // The largest buffer cannot grow: asking again would only repeat the work.
                if attempt == RESIZE_ATTEMPTS || initial >= cobhan::MAX_PAYLOAD {
                    break;
                }
                OUTPUT_RETRIES.fetch_add(1, Ordering::Relaxed);
                // From at least 64 bytes: a library estimate of 0 must still grow.
                initial = initial.max(64).saturating_mul(2).min(cobhan::MAX_PAYLOAD);
                continue;
            }
            if rc != 0 {
                return Err(map_rc(rc, call));
            }
            return out.into_payload().map_err(buffer_error);
        }
        Err(CoreError::Cobhan {
            code: cobhan::ERR_BUFFER_TOO_SMALL,
            call,
        })
    }
}

/// [`Estimate::Local`] if the library's `EstimateBuffer` agrees with [`local_estimate`] at
/// every sample length, else [`Estimate::Library`]. Runs once per setup, on the core-host
/// thread that just ran `SetupJson` (which set the library's key-id overhead).
fn choose_estimate(lib: &GoLibrary, config_json: &str) -> Estimate {
    let Some(key_id_overhead) = key_id_overhead(config_json) else {
        return Estimate::Library;
    };
    let agrees = ESTIMATE_SAMPLES.iter().all(|&(d, p)| {
        // SAFETY: plain integer arguments (all sample lengths fit in i32). Only `GoCore::setup`
        // calls this with the real library: on a core-host thread, under the lifecycle lock.
        let theirs = unsafe { (lib.estimate_buffer)(d as i32, p as i32) };
        usize::try_from(theirs).ok() == Some(local_estimate(key_id_overhead, d, p))
    });
    if agrees {
        Estimate::Local { key_id_overhead }
    } else {
        Estimate::Library
    }
}

impl Core for GoCore {
    fn kind(&self) -> CoreKind {
        CoreKind::Go
    }

    fn max_encrypt_input(&self) -> usize {
        MAX_ENCRYPT_INPUT
    }

    fn encrypt(&self, _ct: &CoreThread, partition: &str, data: &[u8]) -> Result<Record, CoreError> {
        assert_core_thread();
        record_facts(false);
        let _in_go = InGo::enter();
        let estimate = match self.estimate {
            Estimate::Local { key_id_overhead } => {
                local_estimate(key_id_overhead, data.len(), partition.len())
            }
            Estimate::Library => {
                ESTIMATE_CALLS.fetch_add(1, Ordering::Relaxed);
                let (dl, pl) = (data.len() as i32, partition.len() as i32);
                // SAFETY: plain integer arguments; core-host thread.
                unsafe { (self.lib.estimate_buffer)(dl, pl) }.max(0) as usize
            }
        };
        // Either estimate counts the partition id and names unescaped, and no region suffix.
        let escaped = json_escape_growth(partition).saturating_add(self.key_id_extra);
        // The caller checked `max_encrypt_input` before copying the data. A long partition
        // id (or names) can still push the record past the largest Cobhan buffer, which
        // libasherah would find out only by encrypting it (1.5 GiB of data took 72 s and
        // 21 GB over three buffers): refused here first, by the estimate, which exceeds the
        // record by only a few dozen bytes.
        let needed = estimate.saturating_add(escaped);
        if needed > cobhan::MAX_PAYLOAD {
            let over = (needed - cobhan::MAX_PAYLOAD).div_ceil(4).saturating_mul(3);
            return Err(CoreError::InputTooLarge {
                len: data.len(),
                max: data.len().saturating_sub(over),
            });
        }
        let mut p = Buffer::input(partition.as_bytes()).map_err(buffer_error)?;
        let mut d = Buffer::input(data).map_err(buffer_error)?;
        // The padding may take it past the largest Cobhan buffer, which the record fits (by
        // the check above): capped.
        let cap = needed
            .saturating_add(SAFETY_PADDING.load(Ordering::Relaxed))
            .min(cobhan::MAX_PAYLOAD);
        let json = retrying_failures(|| {
            self.call_with_output("EncryptToJson", cap, |out| {
                // SAFETY: all three are valid Cobhan buffers that outlive the call.
                unsafe { (self.lib.encrypt_to_json)(p.as_mut_ptr(), d.as_mut_ptr(), out) }
            })
        })?;
        let json = String::from_utf8(json)
            .map_err(|_| CoreError::Internal("libasherah produced non-UTF-8 JSON".into()))?;
        Ok(Record {
            json,
            known_ascii: false,
        })
    }

    fn decrypt(
        &self,
        _ct: &CoreThread,
        partition: &str,
        record: &[u8],
    ) -> Result<Plaintext, CoreError> {
        assert_core_thread();
        let mut p = Buffer::input(partition.as_bytes()).map_err(buffer_error)?;
        let mut r = Buffer::input(record).map_err(buffer_error)?;
        // The plaintext is always shorter than its base64 inside the record.
        record_facts(false);
        let _in_go = InGo::enter();
        let cap = record.len() + SAFETY_PADDING.load(Ordering::Relaxed);
        retrying_failures(|| {
            self.call_with_output("DecryptFromJson", cap, |out| {
                // SAFETY: all three are valid Cobhan buffers that outlive the call.
                unsafe { (self.lib.decrypt_from_json)(p.as_mut_ptr(), r.as_mut_ptr(), out) }
            })
        })
        .map(Plaintext::from)
        .map_err(|e| match e {
            CoreError::Cobhan { code: cobhan::ERR_JSON_DECODE_FAILED, .. } => {
                CoreError::MalformedRecord("not a DataRowRecord JSON document".into())
            }
            CoreError::DecryptFailed(_) => CoreError::DecryptFailed(
                "libasherah could not decrypt the record (wrong partition, tampered data, or unknown key)".into(),
            ),
            other => other,
        })
    }

    fn set_env(&self, _ct: &CoreThread, vars_json: &str) -> Result<(), CoreError> {
        assert_core_thread();
        let mut b = Buffer::input(vars_json.as_bytes()).map_err(buffer_error)?;
        let _in_go = InGo::enter();
        // SAFETY: a valid Cobhan input buffer that outlives the call; core-host thread.
        match unsafe { (self.lib.set_env)(b.as_mut_ptr()) } {
            0 => Ok(()),
            rc => Err(map_rc(rc, "SetEnv")),
        }
    }

    fn shutdown(&self, _ct: &CoreThread) {
        assert_core_thread();
        // Go's setup and shutdown never overlap; the instance's own calls were drained
        // by the caller first.
        let _held = LIFECYCLE.lock();
        let _watched = Watched::open();
        // SAFETY: no arguments; core-host thread. libasherah tolerates repeated shutdowns.
        unsafe { (self.lib.shutdown)() };
        LAST_ESTIMATE.store(0, Ordering::Relaxed);
    }
}

/// `setenv` calls made while a loaded Go runtime had no running instance: applied (in
/// order) by [`apply_deferred_env`] right after the library is next set up, before
/// `SetupJson`.
static DEFERRED_ENV: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps `vars_json` for the next setup of the Go core (see [`DEFERRED_ENV`]).
pub(crate) fn defer_env(vars_json: String) {
    DEFERRED_ENV.lock().push(vars_json);
}

/// Applies, in order, the `setenv` calls kept by [`defer_env`].
pub(crate) fn apply_deferred_env(ct: &CoreThread) -> Result<(), CoreError> {
    for vars in DEFERRED_ENV.lock().drain(..) {
        set_env_loaded(ct, &vars)?;
    }
    Ok(())
}

/// Sets variables in an already loaded Go runtime (before setup, e.g. from `setenv`).
pub(crate) fn set_env_loaded(_ct: &CoreThread, vars_json: &str) -> Result<(), CoreError> {
    let Some(lib) = LIBRARY.get() else {
        return Ok(());
    };
    GoCore {
        lib,
        estimate: Estimate::Library,
        key_id_extra: 0,
    }
    .set_env(_ct, vars_json)
}

fn map_rc(rc: i32, call: &'static str) -> CoreError {
    match rc {
        cobhan::ERR_NOT_INITIALIZED => CoreError::NotInitialized,
        cobhan::ERR_ALREADY_INITIALIZED => CoreError::AlreadyInitialized,
        cobhan::ERR_GET_SESSION_FAILED => CoreError::GetSessionFailed,
        cobhan::ERR_ENCRYPT_FAILED => CoreError::EncryptFailed("libasherah reported -103".into()),
        cobhan::ERR_DECRYPT_FAILED => CoreError::DecryptFailed("libasherah reported -104".into()),
        cobhan::ERR_BAD_CONFIG => CoreError::BadConfig("libasherah reported -105".into()),
        cobhan::ERR_PANIC => {
            CoreError::Panic(format!("{call} reported a recovered Go panic (-106)"))
        }
        code => CoreError::Cobhan { code, call },
    }
}

fn buffer_error(e: cobhan::BufferError) -> CoreError {
    match e {
        cobhan::BufferError::TooLarge(len) => CoreError::InputTooLarge {
            len,
            max: cobhan::MAX_PAYLOAD,
        },
        cobhan::BufferError::TempFile => CoreError::Internal(
            "libasherah answered with a temp-file buffer, which is disabled".into(),
        ),
        cobhan::BufferError::BadLength(n) => {
            CoreError::Internal(format!("libasherah wrote an impossible length {n}"))
        }
        cobhan::BufferError::Overrun => CoreError::Internal(
            "libasherah wrote past the end of an output buffer (its canary changed); the result was discarded".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `EstimateBuffer` of the real libasherah (0.3.9, before any `SetupJson`, so with a
    /// key-id overhead of 0), read through ctypes: (data length, partition length, result).
    const LIBRARY_FIGURES: [(usize, usize, usize); 10] = [
        (0, 0, 257),
        (1, 0, 258),
        (2, 1, 261),
        (3, 0, 261),
        (64, 16, 359),
        (100, 0, 391),
        (4_099, 255, 6_004),
        (1_048_576, 7, 1_405_356),
        (123_456_789, 3, 165_432_357),
        (1_500_000_000, 0, 2_010_000_257),
    ];

    #[test]
    fn the_local_estimate_gives_the_library_figures() {
        for (d, p, want) in LIBRARY_FIGURES {
            assert_eq!(local_estimate(0, d, p), want, "data {d}, partition {p}");
        }
        assert_eq!(
            local_estimate(29, 64, 16),
            359 + 29,
            "the key-id overhead adds"
        );
        assert_eq!(local_estimate(1, usize::MAX, 0), usize::MAX, "no overflow");
    }

    #[test]
    fn escape_growth_is_what_go_adds_and_never_less() {
        // Go's encoding/json (HTML-safe, as json.Marshal writes) of each character, and
        // the bytes it adds: the function may overshoot only on other U+2xxx characters.
        for (s, go_escaped) in [
            ("plain-id_123", "plain-id_123"),
            ("a\"b", "a\\\"b"),
            ("a\\b", "a\\\\b"),
            ("<>&", "\\u003c\\u003e\\u0026"),
            ("\u{0}\u{1f}", "\\u0000\\u001f"),
            ("\n\t", "\\n\\t"),
            ("\u{2028}\u{2029}", "\\u2028\\u2029"),
            ("é😀\u{10FFFF}\u{7f}", "é😀\u{10FFFF}\u{7f}"),
        ] {
            let growth = go_escaped.len() - s.len();
            let ours = json_escape_growth(s);
            assert!(ours >= growth, "{s:?}: {ours} < {growth}");
            if !s.contains(['\n', '\t']) {
                assert_eq!(ours, growth, "{s:?}");
            }
        }
        assert_eq!(
            json_escape_growth("€"),
            3,
            "an 0xE2 lead byte is counted as U+2028"
        );
    }

    #[test]
    fn the_key_id_extra_counts_escaped_names_and_the_region_suffix() {
        let plain = r#"{"ProductID":"prod","ServiceName":"svc"}"#;
        assert_eq!(key_id_extra(plain), 0);
        assert_eq!(
            key_id_extra(r#"{"ProductID":"a&b","ServiceName":"<s>"}"#),
            15
        );
        let suffixed = r#"{"ProductID":"p","ServiceName":"s","EnableRegionSuffix":true,
            "DynamoDBRegion":"us-west-2","RegionMap":{"ap-southeast-1":"https://x"}}"#;
        assert_eq!(key_id_extra(suffixed), 1 + REGION_ALLOWANCE);
        let long_region = r#"{"ProductID":"p","ServiceName":"s","EnableRegionSuffix":true,
            "PreferredRegion":"a-region-name-of-25-chars"}"#;
        assert_eq!(key_id_extra(long_region), 1 + 25);
        let from_environment = r#"{"ProductID":"p","ServiceName":"s","EnableRegionSuffix":true}"#;
        assert_eq!(key_id_extra(from_environment), 1 + REGION_ALLOWANCE);
        let off = r#"{"ProductID":"p","ServiceName":"s","EnableRegionSuffix":false,
            "DynamoDBRegion":"us-west-2"}"#;
        assert_eq!(key_id_extra(off), 0);
        assert_eq!(key_id_extra("not json"), 0);
    }

    #[test]
    fn the_key_id_overhead_counts_utf8_bytes_as_go_does() {
        let json =
            r#"{"ProductID":"pr\u00f6d","ServiceName":"s\ud83d\ude00","Metastore":"memory"}"#;
        assert_eq!(key_id_overhead(json), Some(5 + 5));
        assert_eq!(key_id_overhead(r#"{"ProductID":"p"}"#), None);
        assert_eq!(key_id_overhead("not json"), None);
    }

    unsafe extern "C" fn no_setup(_: *mut c_void) -> i32 {
        0
    }
    unsafe extern "C" fn no_call(_: *mut c_void, _: *mut c_void, _: *mut c_void) -> i32 {
        -1
    }
    unsafe extern "C" fn no_shutdown() {}
    /// Go's `EstimateBuffer` after a setup with ProductID "prod" and ServiceName "svc",
    /// in its own int32/float64 arithmetic.
    unsafe extern "C" fn go_formula(d: i32, p: i32) -> i32 {
        let data = ((d + 48) as f64 * 1.34) as i64;
        (8 + 185 + 7 + p as i64 + data) as i32
    }
    /// A library with another formula (the test fixtures' stand-ins use this one).
    unsafe extern "C" fn other_formula(d: i32, p: i32) -> i32 {
        d + p + 256
    }

    fn library(estimate_buffer: EstimateBufferFn) -> GoLibrary {
        GoLibrary {
            path: PathBuf::from("test"),
            setup_json: no_setup,
            encrypt_to_json: no_call,
            decrypt_from_json: no_call,
            estimate_buffer,
            set_env: no_setup,
            shutdown: no_shutdown,
        }
    }

    #[test]
    fn setup_computes_the_estimate_only_when_the_library_agrees() {
        let cfg = r#"{"ProductID":"prod","ServiceName":"svc"}"#;
        assert_eq!(
            choose_estimate(&library(go_formula), cfg),
            Estimate::Local { key_id_overhead: 7 }
        );
        assert_eq!(
            choose_estimate(&library(other_formula), cfg),
            Estimate::Library
        );
        // Same formula, other names: the overhead no longer matches the library's.
        let longer = r#"{"ProductID":"product","ServiceName":"svc"}"#;
        assert_eq!(
            choose_estimate(&library(go_formula), longer),
            Estimate::Library
        );
    }
}
