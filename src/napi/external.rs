//! Large results handed to the host without a copy: encrypt's record strings
//! (`node_api_create_external_string_latin1`, Node and Bun).
//!
//! A 1 MiB encrypt returns a ~1.4 MB record; copying it into a new heap string is most of
//! what the call costs on Node (docs/performance.md, "Issue 15"). Above [`EXTERNAL_MIN`]
//! bytes, an ASCII `String` is instead given to V8 as an external one-byte string: V8 keeps
//! a pointer to our buffer, and a finalizer frees the `String` when the JS string is
//! collected. V8 does not count external strings as memory by itself, so without help it
//! does not collect them and RSS grows without bound (measured: 4 GB after 3,000 1 MiB
//! encrypts); each string is therefore reported with `napi_adjust_external_memory`, and
//! un-reported by its finalizer.
//!
//! Decrypt results are always ordinary `Buffer`s made by the host (the native core's sync
//! decrypts write into one directly, everything else is copied into one), never external
//! ones: an external `Buffer` cannot be transferred to a Worker (Node 22.23.5, 24.22.3 and
//! 26.12.1 throw `DataCloneError`; Node 18.20.8 and 20.20.2 copy it and leave the plaintext
//! with the sender; Bun 1.4.5 throws), while a user's `postMessage(out.buffer, [out.buffer])`
//! must move any `Buffer` it gets. Node's large async decrypts did use them until stop 37.
//! The copy is not free: on the box of docs/performance.md "Round seventeen" (medians of 4
//! alternated rounds), a 1 MiB `decrypt_async` with 64 calls in flight took 1.4x as long on
//! Node 20 and 1.7x on Node 26, and 0.94-1.15x with one.
//!
//! Strings: on Node from 20 (the host exports `node::Start`), and on Bun from 1.2.5 (it
//! exports the entry point under the symbol version `BUN_1.2`, and asked for our declared
//! Node-API version, see [`module_api_version`]). JSC counts an external string's bytes by
//! itself, so Bun's strings are not reported. Node 18, Deno, older Buns and Bun's Workers
//! keep the copy.
//!
//! Why Bun needs the declared version: from 1.2.10, Bun runs the string finalizers of a
//! module that declares an ordinary Node-API version (8) on a later event-loop turn, not in
//! the collection that found the string dead, so a synchronous loop of large encrypts freed
//! nothing until it yielded (2.7 GB of RSS after 2,000 1 MiB encrypts on Bun 1.4.5). A
//! module that declares `NAPI_VERSION_EXPERIMENTAL` promises that its finalizers only free
//! memory and do not touch the JS heap; Bun then runs them during the collection (and, from
//! 1.3, aborts the process if one calls a function that could affect the heap; 1.2 does so
//! for every module). Every finalizer in this crate keeps that promise on Bun: `free_owned`
//! drops a box (it reports nothing there), the thread-safe-function finalizer drops an
//! `Arc` (run on release, not by the collector), and the instance-data finalizer runs at
//! env teardown, also outside any collection. Node keeps version 8: its rules for
//! experimental modules differ, and it needs none.
//!
//! Threads: from 1.2.21 Bun shares a long string's characters with a Worker it is posted
//! to instead of copying them, so the last thread to drop a record runs `free_owned`, which
//! only frees memory and is safe on any thread. Bun's finalizer also uses the env the
//! string was made in, unowned; only the main thread's env lives as long as the process,
//! so only the main thread makes external strings on Bun ([`on_main_thread`]).
//!
//! Ownership, which is the whole risk here: the `String` is boxed and its box pointer is
//! the finalize *hint* (the `data` argument is not used). On `napi_ok` the host owns the
//! box: it calls the finalizer exactly once, either before returning (`copied` = true: it
//! copied the bytes) or when the string dies (with a null env if the env is being torn
//! down). A string the host refuses was never taken, and we take the box back.

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use super::env::{Env, Value};
use super::status::{check, Status};
use super::sys;

/// Shortest string given to the host as external (smaller ones are copied): V8's largest
/// regular heap object is 128 KiB; below it the copy measured as fast as the external
/// string, above it (large-object space) 2-3x slower (docs/performance.md, "Issue 15").
pub(super) const EXTERNAL_MIN: usize = 128 << 10;
/// Longest: V8's largest one-byte string is just under 2^29 characters; past that the copy
/// path reports the host's error instead.
const EXTERNAL_MAX: usize = 1 << 28;

type CreateExternalLatin1 = unsafe extern "C" fn(
    sys::napi_env,
    *mut c_char,
    usize,
    sys::node_api_basic_finalize,
    *mut c_void,
    *mut sys::napi_value,
    *mut bool,
) -> sys::napi_status;

/// `NAPI_VERSION_EXPERIMENTAL`: the declaration that lets Bun run our finalizers during a
/// collection (module docs).
const VERSION_EXPERIMENTAL: i32 = sys::NAPI_VERSION_EXPERIMENTAL as i32;
/// The ordinary version this module needs everywhere else.
const VERSION_ORDINARY: i32 = 8;

/// Set once a Bun that exports [`bun_external_latin1`] has asked for our version and been
/// told [`VERSION_EXPERIMENTAL`]; only then does Bun get external strings. Bun 1.2.0-1.2.4
/// never ask (they keep the copy).
static BUN_RUNS_FINALIZERS_IN_GC: AtomicBool = AtomicBool::new(false);

/// The Node-API version this module declares, for `node_api_module_get_api_version_v1`
/// (hosts call it when loading the module, before registering it): experimental on a Bun
/// whose external strings this module uses, else 8 (module docs).
pub(crate) fn module_api_version() -> i32 {
    if bun_external_latin1().is_some() {
        BUN_RUNS_FINALIZERS_IN_GC.store(true, Ordering::Release);
        VERSION_EXPERIMENTAL
    } else {
        VERSION_ORDINARY
    }
}

/// Whether the host is Node (it exports `node::Start(int, char**)`).
fn host_is_node() -> bool {
    static NODE: OnceLock<bool> = OnceLock::new();
    *NODE.get_or_init(|| {
        // SAFETY: RTLD_DEFAULT searches the process's global symbols; the name is a C string,
        // and only the symbol's presence is used.
        let node = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"_ZN4node5StartEiPPc".as_ptr()) };
        !node.is_null()
    })
}

/// The `node_api_create_external_string_latin1` this module gives large strings to: Node's,
/// or Bun's once Bun runs our finalizers during collections (module docs); else none.
fn create_external_latin1(env: &Env) -> Option<CreateExternalLatin1> {
    if host_is_node() {
        return node_external_latin1(env);
    }
    match BUN_RUNS_FINALIZERS_IN_GC.load(Ordering::Acquire) && on_main_thread() {
        true => bun_external_latin1(),
        false => None,
    }
}

/// Whether this is the process's main thread (Bun's main JS thread; its Workers run on
/// others). Bun's external-string finalizer uses the env it was made in without holding a
/// reference to it (oven-sh/bun#32277), so a string that outlives a Worker's teardown would
/// reach a freed env inside Bun. Workers on Bun therefore keep the copy.
fn on_main_thread() -> bool {
    thread_local! {
        // SAFETY: `gettid` and `getpid` take no arguments and cannot fail.
        static MAIN: bool = unsafe { libc::syscall(libc::SYS_gettid) == libc::getpid() as libc::c_long };
    }
    MAIN.with(|m| *m)
}

/// Node's `node_api_create_external_string_latin1`, if the host (known to be Node: only
/// [`create_external_latin1`] calls this) is Node 20 or later and exports it (20.4 on). Node 18 exports it from 18.18, but runs its finalizers on a later
/// turn of the event loop, as Bun does for version 8: 800 1 MiB encrypts in one synchronous
/// loop grew RSS by 938 MiB on 18.20.8, against at most 128 MiB on 20.4.0, 20.20.2 and 21.0.0.
/// So Node 18 keeps the copy.
fn node_external_latin1(env: &Env) -> Option<CreateExternalLatin1> {
    static FN: OnceLock<Option<CreateExternalLatin1>> = OnceLock::new();
    *FN.get_or_init(|| {
        if node_major(env).is_none_or(|major| major < 20) {
            return None;
        }
        // SAFETY: RTLD_DEFAULT searches the process's global symbols; the name is a C string.
        let p = unsafe {
            libc::dlsym(
                libc::RTLD_DEFAULT,
                c"node_api_create_external_string_latin1".as_ptr(),
            )
        };
        as_create_external_latin1(p)
    })
}

/// The host Node's major version, if it says.
fn node_major(env: &Env) -> Option<u32> {
    let mut v: *const sys::napi_node_version = ptr::null();
    // SAFETY: live env on its JS thread; valid out pointer.
    check(unsafe { sys::napi_get_node_version(env.raw(), &mut v) }).ok()?;
    // SAFETY: on success the host points `v` at a static struct it owns for its lifetime.
    (!v.is_null()).then(|| unsafe { (*v).major })
}

/// Bun's `node_api_create_external_string_latin1`, found only under the symbol version
/// `BUN_1.2` that Bun 1.2.0 and later tag their Node-API exports with. Bun 1.1.x made these
/// strings over a reference it had already released (a use after free until 1.1.43), and
/// tags its exports `BUN_1.1`, so it is never found; neither are Node and Deno, which tag
/// none. A future Bun that changes the tag keeps the copy until it is measured.
fn bun_external_latin1() -> Option<CreateExternalLatin1> {
    static FN: OnceLock<Option<CreateExternalLatin1>> = OnceLock::new();
    *FN.get_or_init(|| {
        // SAFETY: RTLD_DEFAULT searches the process's global symbols; both names are C
        // strings.
        let p = unsafe {
            libc::dlvsym(
                libc::RTLD_DEFAULT,
                c"node_api_create_external_string_latin1".as_ptr(),
                c"BUN_1.2".as_ptr(),
            )
        };
        as_create_external_latin1(p)
    })
}

/// `p` as the entry point, if it is not null.
fn as_create_external_latin1(p: *mut c_void) -> Option<CreateExternalLatin1> {
    // SAFETY: callers pass only what the dynamic linker returned for the name
    // `node_api_create_external_string_latin1`, which a Node-API host exports as the
    // function declared in js_native_api.h, whose signature `CreateExternalLatin1` spells out.
    (!p.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, CreateExternalLatin1>(p) })
}

/// What the host holds for one external string: the bytes, and whether they were reported
/// with `napi_adjust_external_memory` (not when the host copied them: then the finalizer
/// runs inside the create call, before anything was reported).
struct Owned {
    s: String,
    reported: bool,
}

/// The finalizer: frees the [`Owned`] whose box is `hint`, and un-reports its bytes if they
/// were reported.
unsafe extern "C" fn free_owned(env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the box leaked in `create_string_owned`, and the host calls this
    // finalizer once per string it accepted.
    let owned = unsafe { Box::from_raw(hint.cast::<Owned>()) };
    if owned.reported && !env.is_null() {
        let mut total = 0i64;
        // SAFETY: a basic finalizer may call napi_adjust_external_memory (it takes a
        // node_api_basic_env); `env` is the live env this string was made in.
        unsafe { sys::napi_adjust_external_memory(env, -(owned.s.len() as i64), &mut total) };
    }
    drop(owned);
}

impl Env {
    /// A JS string for `s`, which it consumes: large ASCII strings become external strings
    /// where the host supports them (module docs), anything else is copied. `known_ascii`:
    /// the caller vouches that `s` is all ASCII (else it is scanned when that matters).
    pub(crate) fn create_string_owned(
        &self,
        s: String,
        known_ascii: bool,
    ) -> Result<Value<'_>, Status> {
        debug_assert!(!known_ascii || s.is_ascii(), "vouched ASCII is not");
        if !(EXTERNAL_MIN..=EXTERNAL_MAX).contains(&s.len()) {
            return match known_ascii {
                true => self.create_string_known(&s, true),
                false => self.create_string(&s),
            };
        }
        let ascii = known_ascii || s.is_ascii(); // scanned at most once, for both paths
        let Some(create) = create_external_latin1(self).filter(|_| ascii) else {
            return self.create_string_known(&s, ascii);
        };
        let len = s.len();
        let boxed = Box::into_raw(Box::new(Owned { s, reported: false }));
        // SAFETY: `boxed` is a live, uniquely owned box; the String's heap buffer does not
        // move when the box is handed over.
        let bytes = unsafe { (*boxed).s.as_mut_ptr() };
        let mut v = ptr::null_mut();
        let mut copied = false;
        // SAFETY: `bytes` holds `len` ASCII (so Latin-1) bytes that stay valid until
        // `free_owned` runs; `boxed` is the hint that finalizer frees; out pointers are valid.
        let status = unsafe {
            create(
                self.raw(),
                bytes.cast(),
                len,
                Some(free_owned),
                boxed.cast(),
                &mut v,
                &mut copied,
            )
        };
        if check(status).is_err() {
            // SAFETY: the host refused the string, so it never took the box: it is ours again.
            let owned = unsafe { Box::from_raw(boxed) };
            return self.create_string_known(&owned.s, true);
        }
        if !copied && host_is_node() {
            // Reported here, un-reported by `free_owned` (module docs; JSC counts its own).
            // SAFETY: not copied, so the host holds the box until the string dies, which
            // cannot happen before `v` leaves this handle scope: the box is alive, and
            // only this thread touches it until the finalizer runs on this JS thread.
            unsafe { (*boxed).reported = true };
            let mut total = 0i64;
            // SAFETY: live env on its JS thread; valid out pointer.
            unsafe { sys::napi_adjust_external_memory(self.raw(), len as i64, &mut total) };
        }
        Ok(self.wrap(v))
    }
}
