//! The real Go libasherah, opened with `dlopen` and called over Cobhan buffers (8-byte
//! header: i32 LE length, i32 reserved; output buffers carry their capacity in the length
//! field). All calls run on one thread we spawn with an 8 MiB stack, as the shim does.
//! libasherah is a process-wide singleton: use one `GoAsherah` per test binary.
#![allow(unsafe_code)]

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use libloading::Library;

type Job = Box<dyn FnOnce(&Library) + Send>;

/// `EstimateBuffer(dataLen, partitionLen) -> int32`.
type Estimate = unsafe extern "C" fn(i32, i32) -> i32;
/// `EncryptToJson` / `DecryptFromJson(partition, input, output) -> int32` on Cobhan buffers.
type Transform = unsafe extern "C" fn(*const u8, *const u8, *mut u8) -> i32;

/// The export `name` (NUL-terminated) of `lib` as a `T`.
///
/// # Safety
/// `T` is the export's real signature.
unsafe fn export<T: Copy>(lib: &Library, name: &[u8]) -> T {
    // SAFETY: the caller guarantees the signature; the symbol lives as long as `lib`.
    unsafe { *lib.get::<T>(name).unwrap() }
}

/// A handle to the libasherah thread.
pub struct GoAsherah {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<thread::JoinHandle<()>>,
}

fn input(payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(8 + payload.len());
    buf.extend_from_slice(&(payload.len() as i32).to_le_bytes());
    buf.extend_from_slice(&0i32.to_le_bytes());
    buf.extend_from_slice(payload);
    buf
}

fn output(capacity: usize) -> Vec<u8> {
    let mut buf = vec![0u8; 8 + capacity];
    buf[..4].copy_from_slice(&(capacity as i32).to_le_bytes());
    buf
}

fn payload(buf: &[u8]) -> Vec<u8> {
    let len = i32::from_le_bytes(buf[..4].try_into().unwrap());
    assert!(
        len >= 0 && len as usize <= buf.len() - 8,
        "bad Cobhan output length {len}"
    );
    buf[8..8 + len as usize].to_vec()
}

impl GoAsherah {
    /// Opens `path` on a new 8 MiB thread.
    pub fn open(path: &str) -> Result<Self, String> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let path = path.to_owned();
        let thread = thread::Builder::new()
            .name("libasherah".into())
            .stack_size(8 << 20)
            .spawn(move || {
                // SAFETY: loading libasherah runs Go's runtime initialisation; it is a
                // well-formed shared library and we keep it loaded for the thread's life.
                let lib = match unsafe { Library::new(&path) } {
                    Ok(lib) => lib,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                while let Ok(job) = rx.recv() {
                    job(&lib);
                }
                // Never dlclose a Go runtime: leak the library.
                std::mem::forget(lib);
            })
            .map_err(|e| e.to_string())?;
        ready_rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|e| e.to_string())??;
        Ok(GoAsherah {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    fn call<R: Send + 'static>(&self, f: impl FnOnce(&Library) -> R + Send + 'static) -> R {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .as_ref()
            .unwrap()
            .send(Box::new(move |lib| {
                let _ = tx.send(f(lib));
            }))
            .unwrap();
        rx.recv_timeout(Duration::from_secs(120))
            .expect("libasherah call timed out")
    }

    /// `SetupJson(config)`; returns libasherah's status code.
    pub fn setup(&self, config_json: &str) -> i32 {
        let cfg = input(config_json.as_bytes());
        self.call(move |lib| {
            // SAFETY: SetupJson(void* cobhanBuffer) -> int32 is libasherah's exported
            // signature; the buffer is a valid Cobhan input that outlives the call.
            unsafe {
                export::<unsafe extern "C" fn(*const u8) -> i32>(lib, b"SetupJson\0")(cfg.as_ptr())
            }
        })
    }

    /// `SetEnv(json)`: sets variables in the Go runtime's own copy of the environment (Go
    /// copies the environment it was started with; later `setenv(3)` calls do not reach it).
    pub fn set_env(&self, vars_json: &str) -> i32 {
        let vars = input(vars_json.as_bytes());
        self.call(move |lib| {
            // SAFETY: SetEnv(void* cobhanBuffer) -> int32 is libasherah's exported signature;
            // the buffer is a valid Cobhan input that outlives the call.
            unsafe {
                export::<unsafe extern "C" fn(*const u8) -> i32>(lib, b"SetEnv\0")(vars.as_ptr())
            }
        })
    }

    /// `Shutdown()`.
    pub fn shutdown(&self) {
        self.call(|lib| {
            // SAFETY: Shutdown(void) is exported with no arguments.
            unsafe { export::<unsafe extern "C" fn()>(lib, b"Shutdown\0")() }
        })
    }

    /// `EncryptToJson(partition, data) -> DataRowRecord JSON`.
    pub fn encrypt(&self, partition: &str, data: &[u8]) -> Result<String, i32> {
        let (pid, data) = (input(partition.as_bytes()), input(data));
        self.call(move |lib| {
            // SAFETY: EstimateBuffer(int32, int32) -> int32 and
            // EncryptToJson(void*, void*, void*) -> int32 are libasherah's exported
            // signatures; all buffers are valid Cobhan buffers alive across the call.
            unsafe {
                let estimate: Estimate = export(lib, b"EstimateBuffer\0");
                let mut out =
                    output(estimate((data.len() - 8) as i32, (pid.len() - 8) as i32) as usize);
                let f: Transform = export(lib, b"EncryptToJson\0");
                match f(pid.as_ptr(), data.as_ptr(), out.as_mut_ptr()) {
                    0 => Ok(String::from_utf8(payload(&out)).unwrap()),
                    code => Err(code),
                }
            }
        })
    }

    /// `DecryptFromJson(partition, json) -> plaintext`.
    pub fn decrypt(&self, partition: &str, json: &str) -> Result<Vec<u8>, i32> {
        let (pid, js) = (input(partition.as_bytes()), input(json.as_bytes()));
        self.call(move |lib| {
            let mut out = output(js.len());
            // SAFETY: DecryptFromJson(void*, void*, void*) -> int32 is the exported
            // signature; the buffers are valid Cobhan buffers alive across the call.
            unsafe {
                let f: Transform = export(lib, b"DecryptFromJson\0");
                match f(pid.as_ptr(), js.as_ptr(), out.as_mut_ptr()) {
                    0 => Ok(payload(&out)),
                    code => Err(code),
                }
            }
        })
    }
}

impl GoAsherah {
    /// Mean nanoseconds per `EncryptToJson` and per `DecryptFromJson` of `data`, over `n`
    /// calls each, timed inside the libasherah thread (no channel hop in the loop).
    pub fn time_per_call(&self, partition: &str, data: &[u8], n: u32) -> (f64, f64) {
        let (pid, data) = (input(partition.as_bytes()), input(data));
        self.call(move |lib| {
            // SAFETY: same exported signatures and buffer rules as `encrypt`/`decrypt`.
            unsafe {
                let estimate: Estimate = export(lib, b"EstimateBuffer\0");
                let enc: Transform = export(lib, b"EncryptToJson\0");
                let dec: Transform = export(lib, b"DecryptFromJson\0");
                let cap = estimate((data.len() - 8) as i32, (pid.len() - 8) as i32) as usize;
                let mut json = output(cap);
                assert_eq!(enc(pid.as_ptr(), data.as_ptr(), json.as_mut_ptr()), 0);
                let record = input(&payload(&json));
                let start = std::time::Instant::now();
                for _ in 0..n {
                    json[..4].copy_from_slice(&(cap as i32).to_le_bytes());
                    assert_eq!(enc(pid.as_ptr(), data.as_ptr(), json.as_mut_ptr()), 0);
                }
                let enc_ns = start.elapsed().as_nanos() as f64 / n as f64;
                let mut out = output(record.len());
                let start = std::time::Instant::now();
                for _ in 0..n {
                    out[..4].copy_from_slice(&((record.len() - 8) as i32).to_le_bytes());
                    assert_eq!(dec(pid.as_ptr(), record.as_ptr(), out.as_mut_ptr()), 0);
                }
                (enc_ns, start.elapsed().as_nanos() as f64 / n as f64)
            }
        })
    }
}

impl Drop for GoAsherah {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
