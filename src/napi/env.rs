//! [`Env`] and [`Value`]: creating, reading and converting JS values.
//!
//! An `Env` is valid for one callback from the host (or one handle scope inside it); a
//! `Value<'e>` borrows the `Env` it came from, so the compiler keeps handles from escaping
//! the scope that owns them. [`Env::scope`] opens a nested handle scope for loops that
//! create many handles (e.g. settling a batch of promises); scopes are never opened in
//! finalizers.

use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicU8, Ordering};

use super::error::{JsErrorKind, JsResult};
use super::status::{check, Status};
use super::sys;

/// Whether the host's UTF-16 string reads can be trusted ([`Env::utf16_trusted`]):
/// unknown until probed, then the same for every env of the process (one host).
static UTF16_READS: AtomicU8 = AtomicU8::new(UTF16_UNKNOWN);
const UTF16_UNKNOWN: u8 = 0;
const UTF16_TRUSTED: u8 = 1;
const UTF16_WRONG: u8 = 2;

/// One host call's view of a `napi_env`. Not `Send`: N-API values belong to the JS thread.
pub(crate) struct Env {
    raw: sys::napi_env,
    _not_send: PhantomData<*mut ()>,
}

/// A JS value handle, valid while the `Env` (scope) it came from is.
#[derive(Clone, Copy)]
pub(crate) struct Value<'e> {
    raw: sys::napi_value,
    _scope: PhantomData<&'e Env>,
}

/// A strong reference to a JS value, made by [`Env::create_reference`] and released only by
/// [`Env::delete_reference`] (not on drop: deleting needs the env). Not `Send`.
pub(crate) struct Ref(sys::napi_ref);

/// `typeof`, as N-API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueType {
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Symbol,
    Object,
    Function,
    External,
    BigInt,
    Unknown,
}

impl ValueType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ValueType::Undefined => "undefined",
            ValueType::Null => "null",
            ValueType::Boolean => "boolean",
            ValueType::Number => "number",
            ValueType::String => "string",
            ValueType::Symbol => "symbol",
            ValueType::Object => "object",
            ValueType::Function => "function",
            ValueType::External => "external",
            ValueType::BigInt => "bigint",
            ValueType::Unknown => "unknown",
        }
    }
}

impl<'e> Value<'e> {
    pub(crate) fn raw(self) -> sys::napi_value {
        self.raw
    }
}

/// The UTF-16 array of [`Env::short_string_into`] (4 KiB on the stack). It takes strings of
/// up to `SHORT_UNITS - 3` (2,045) code units: partition ids and the records of data up to
/// ~1.4 KiB. A read that reports 2,046 or more is taken as possibly cut, also for a host
/// that stops one unit early rather than split a surrogate pair (as N-API hosts do in UTF-8
/// reads); no host is known to, but nothing checks it.
const SHORT_UNITS: usize = 2048;

/// The text of a string that [`Env::string_into`] read well-formed: N-API produces UTF-8,
/// which is checked rather than trusted.
pub(crate) fn utf8_text(buf: Vec<u8>) -> Result<String, Status> {
    String::from_utf8(buf).map_err(|_| Status::StringExpected)
}

/// Replaces `buf`'s contents with `wide` as UTF-8; `false` (and `buf` emptied) for a lone
/// surrogate, which has no UTF-8 form. Room for the longest result (3 bytes per code unit)
/// is made first, so `buf` never reallocates part way; what it held before is wiped if it
/// must grow (strings may be a user's data: `crate::wipe`).
///
/// Runs of ASCII are narrowed a block at a time: a record is ASCII but for the partition
/// id in its key ids, and decoding it a character at a time ran at ~135 MB/s for a 12 MiB
/// record with a non-ASCII partition id. A surrogate pair never straddles an ASCII unit, so
/// the runs between are decoded whole, and a lone surrogate is still one.
#[inline(never)]
fn utf16_into(wide: &[u16], buf: &mut Vec<u8>) -> bool {
    crate::wipe::clear_with_room(buf, wide.len().saturating_mul(3));
    let mut rest = wide;
    while !rest.is_empty() {
        let ascii = ascii_prefix(rest);
        buf.extend(rest[..ascii].iter().map(|&u| u as u8));
        rest = &rest[ascii..];
        let other = rest.iter().position(|&u| u < 0x80).unwrap_or(rest.len());
        for c in char::decode_utf16(rest[..other].iter().copied()) {
            let Ok(c) = c else {
                buf.clear();
                return false;
            };
            buf.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes());
        }
        rest = &rest[other..];
    }
    true
}

/// How many code units `wide` starts with that are ASCII, tested 16 at a time.
fn ascii_prefix(wide: &[u16]) -> usize {
    let mut blocks = wide.chunks_exact(16);
    let mut n = 0;
    for block in blocks.by_ref() {
        if block.iter().fold(0u16, |acc, &u| acc | u) >= 0x80 {
            break;
        }
        n += 16;
    }
    n + wide[n..]
        .iter()
        .position(|&u| u >= 0x80)
        .unwrap_or(wide.len() - n)
}

/// Shortest string that [`Env::create_string`] scans for ASCII, to create it from Latin-1
/// rather than UTF-8: below it the scan costs about what V8's UTF-8 decoder saves.
const LATIN1_MIN: usize = 4096;

impl Env {
    /// # Safety
    /// `raw` must be the `napi_env` of the current host callback on the current (JS) thread,
    /// and the returned `Env` must not outlive that callback.
    pub(crate) unsafe fn from_raw(raw: sys::napi_env) -> Self {
        Env {
            raw,
            _not_send: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> sys::napi_env {
        self.raw
    }

    pub(super) fn wrap(&self, raw: sys::napi_value) -> Value<'_> {
        Value {
            raw,
            _scope: PhantomData,
        }
    }

    /// Runs an N-API call that writes one value through an out pointer, and wraps it.
    fn out_value(
        &self,
        call: impl FnOnce(&mut sys::napi_value) -> sys::napi_status,
    ) -> Result<Value<'_>, Status> {
        let mut v = ptr::null_mut();
        check(call(&mut v))?;
        Ok(self.wrap(v))
    }

    /// Wraps a handle that the host passed to us for this scope.
    ///
    /// # Safety
    /// `raw` must be a live handle belonging to this env's current scope.
    pub(crate) unsafe fn value_from_raw(&self, raw: sys::napi_value) -> Value<'_> {
        self.wrap(raw)
    }

    /// Runs `f` inside a new handle scope; handles created in `f` are released afterwards.
    pub(crate) fn scope<R>(&self, f: impl FnOnce(&Env) -> R) -> Result<R, Status> {
        let mut scope: sys::napi_handle_scope = ptr::null_mut();
        // SAFETY: self.raw is the live env of the current callback on the JS thread.
        check(unsafe { sys::napi_open_handle_scope(self.raw, &mut scope) })?;
        // SAFETY: same env; the inner Env is only lent to `f`, so its handles cannot escape.
        let inner = unsafe { Env::from_raw(self.raw) };
        let out = f(&inner);
        // SAFETY: `scope` was opened above on this env and is closed exactly once. A failure
        // to close is reported, never panicked on.
        check(unsafe { sys::napi_close_handle_scope(self.raw, scope) })?;
        Ok(out)
    }

    pub(crate) fn type_of(&self, v: Value<'_>) -> Result<ValueType, Status> {
        let mut t: sys::napi_valuetype = 0;
        // SAFETY: live env and handle; `t` is a valid out pointer.
        check(unsafe { sys::napi_typeof(self.raw, v.raw, &mut t) })?;
        Ok(match t {
            sys::napi_undefined => ValueType::Undefined,
            sys::napi_null => ValueType::Null,
            sys::napi_boolean => ValueType::Boolean,
            sys::napi_number => ValueType::Number,
            sys::napi_string => ValueType::String,
            sys::napi_symbol => ValueType::Symbol,
            sys::napi_object => ValueType::Object,
            sys::napi_function => ValueType::Function,
            sys::napi_external => ValueType::External,
            sys::napi_bigint => ValueType::BigInt,
            _ => ValueType::Unknown,
        })
    }

    pub(crate) fn undefined(&self) -> Result<Value<'_>, Status> {
        // SAFETY: live env; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_get_undefined(self.raw, v) })
    }

    pub(crate) fn null(&self) -> Result<Value<'_>, Status> {
        // SAFETY: live env; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_get_null(self.raw, v) })
    }

    pub(crate) fn global(&self) -> Result<Value<'_>, Status> {
        // SAFETY: live env; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_get_global(self.raw, v) })
    }

    pub(crate) fn create_bool(&self, b: bool) -> Result<Value<'_>, Status> {
        // SAFETY: live env; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_get_boolean(self.raw, b, v) })
    }

    pub(crate) fn create_f64(&self, n: f64) -> Result<Value<'_>, Status> {
        // SAFETY: live env; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_create_double(self.raw, n, v) })
    }

    pub(crate) fn create_string(&self, s: &str) -> Result<Value<'_>, Status> {
        self.create_string_known(s, s.len() >= LATIN1_MIN && s.is_ascii())
    }

    /// [`Env::create_string`] for a caller that knows whether `s` is all ASCII, by a scan it
    /// made or by how `s` was written (a 1.4 MB record costs ~30 µs per scan). A string known
    /// to be ASCII is made from Latin-1 at any length, since knowing cost nothing here.
    pub(crate) fn create_string_known(&self, s: &str, ascii: bool) -> Result<Value<'_>, Status> {
        if ascii {
            // ASCII is also Latin-1: the host then copies bytes into a one-byte string
            // instead of decoding UTF-8 (records are ASCII unless a partition id is not).
            let mut v = ptr::null_mut();
            // SAFETY: `s` is readable for `s.len()` bytes, all < 0x80, during the call.
            check(unsafe {
                sys::napi_create_string_latin1(self.raw, s.as_ptr().cast(), s.len(), &mut v)
            })?;
            return Ok(self.wrap(v));
        }
        let mut v = ptr::null_mut();
        // SAFETY: `s` is valid UTF-8 of exactly `s.len()` bytes for the duration of the call.
        check(unsafe {
            sys::napi_create_string_utf8(self.raw, s.as_ptr().cast(), s.len(), &mut v)
        })?;
        Ok(self.wrap(v))
    }

    /// A new `Buffer` holding a copy of `bytes`.
    pub(crate) fn create_buffer_copy(&self, bytes: &[u8]) -> Result<Value<'_>, Status> {
        let mut v = ptr::null_mut();
        let mut data: *mut c_void = ptr::null_mut();
        // SAFETY: `bytes` is readable for `bytes.len()` bytes; N-API copies it before returning.
        check(unsafe {
            sys::napi_create_buffer_copy(
                self.raw,
                bytes.len(),
                bytes.as_ptr().cast(),
                &mut data,
                &mut v,
            )
        })?;
        Ok(self.wrap(v))
    }

    /// A new `Buffer` of `len` bytes, for the caller to fill: the buffer, and where its
    /// bytes are (null when `len` is 0). The contents are unspecified until written (Node
    /// does not zero them). The bytes are the caller's alone until the buffer is handed to
    /// JS, and stay valid while the buffer's handle does (this scope): nobody can detach a
    /// `Buffer` that no JS has seen.
    pub(crate) fn create_buffer(&self, len: usize) -> Result<(Value<'_>, *mut u8), Status> {
        let mut v = ptr::null_mut();
        let mut data: *mut c_void = ptr::null_mut();
        // SAFETY: live env; valid out pointers.
        check(unsafe { sys::napi_create_buffer(self.raw, len, &mut data, &mut v) })?;
        Ok((self.wrap(v), data.cast::<u8>()))
    }

    pub(crate) fn create_object(&self) -> Result<Value<'_>, Status> {
        // SAFETY: live env; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_create_object(self.raw, v) })
    }

    pub(crate) fn create_array(&self, len: usize) -> Result<Value<'_>, Status> {
        // SAFETY: live env; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_create_array_with_length(self.raw, len, v) })
    }

    pub(crate) fn set_element(
        &self,
        array: Value<'_>,
        index: u32,
        v: Value<'_>,
    ) -> Result<(), Status> {
        // SAFETY: live env and handles of this scope.
        check(unsafe { sys::napi_set_element(self.raw, array.raw, index, v.raw) })
    }

    pub(crate) fn set_property(
        &self,
        obj: Value<'_>,
        name: &str,
        v: Value<'_>,
    ) -> Result<(), Status> {
        let key = self.create_string(name)?;
        // SAFETY: live env and handles of this scope.
        check(unsafe { sys::napi_set_property(self.raw, obj.raw, key.raw, v.raw) })
    }

    pub(crate) fn get_property<'s>(
        &'s self,
        obj: Value<'_>,
        name: &str,
    ) -> Result<Value<'s>, Status> {
        let key = self.create_string(name)?;
        // SAFETY: live env and handles of this scope; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_get_property(self.raw, obj.raw, key.raw, v) })
    }

    pub(crate) fn bool_value(&self, v: Value<'_>) -> Result<bool, Status> {
        let mut b = false;
        // SAFETY: live env and handle; valid out pointer.
        check(unsafe { sys::napi_get_value_bool(self.raw, v.raw, &mut b) })?;
        Ok(b)
    }

    pub(crate) fn f64_value(&self, v: Value<'_>) -> Result<f64, Status> {
        let mut n = 0.0;
        // SAFETY: live env and handle; valid out pointer.
        check(unsafe { sys::napi_get_value_double(self.raw, v.raw, &mut n) })?;
        Ok(n)
    }

    /// Reads a JS string as UTF-8. `Ok(None)` when the string holds a lone surrogate,
    /// which has no UTF-8 form (N-API would silently write U+FFFD in its place).
    pub(crate) fn string_value(&self, v: Value<'_>) -> Result<Option<String>, Status> {
        let mut buf = Vec::new();
        if !self.string_into(v, &mut buf)? {
            return Ok(None);
        }
        utf8_text(buf).map(Some)
    }

    /// Reads a JS string as UTF-8 into `buf` (replacing its contents), reusing its capacity.
    ///
    /// Returns whether the string was well-formed UTF-16. `false` means it holds a lone
    /// surrogate, which has no UTF-8 form: `buf` then holds no usable text, and callers must
    /// refuse the string rather than use it.
    ///
    /// The host's UTF-8 conversion is trusted only for ASCII, where it is checked: the
    /// bytes are all below 0x80 and their count equals the string's length in UTF-16 code
    /// units, so nothing was cut, dropped or replaced (N-API stops before a character that
    /// does not fit; Node writes U+FFFD for a lone surrogate; Bun may drop it). Any other
    /// string is read as UTF-16 and converted here, which refuses lone surrogates. A string
    /// of up to 2,045 code units costs one N-API call and no allocation. A host whose
    /// UTF-16 reads are wrong (early Bun 1.2 releases, see [`Env::utf16_trusted`]) gets its
    /// own reading ([`Env::string_into_by_utf8`]).
    #[must_use = "a string with a lone surrogate was not read: check the result"]
    pub(crate) fn string_into(&self, v: Value<'_>, buf: &mut Vec<u8>) -> Result<bool, Status> {
        if !self.utf16_trusted()? {
            return self.string_into_by_utf8(v, buf);
        }
        if let Some(well_formed) = self.short_string_into(v, buf)? {
            return Ok(well_formed);
        }
        let units = self.utf16_len(v)?;
        self.utf8_into(v, buf, units + 1)?;
        if buf.len() == units && buf.is_ascii() {
            return Ok(true);
        }
        self.string_via_utf16(v, units, buf)
    }

    /// [`Env::string_into`] for a value that may be of any type: `Ok(None)` when `v` is not
    /// a string, or the host refuses to read it as one (`buf` then left empty). Bun 1.1 and
    /// 1.2.0-1.2.4 call a `String` object a string in `napi_typeof` and then refuse to read
    /// it; that was an untyped N-API failure and is now the caller's "not a string".
    ///
    /// On a host that passed [`Env::utf16_trusted`]'s probe, which includes refusing a
    /// non-string with an error, the read is tried first and the type asked only when it
    /// fails. `napi_typeof` tests V8's types one by one (a string third), and a decrypt asked
    /// it three times: on Node 20 the decrypt callback ran 6,921 instructions before and
    /// 6,844 after (callgrind). Elsewhere the type is asked first:
    /// Bun 1.1 and 1.2.0-1.2.4 read any value as a string (the number 1 as `"1"`), which
    /// would silently accept a partition id of the wrong type.
    #[must_use = "a string with a lone surrogate was not read: check the result"]
    pub(crate) fn string_into_if_string(
        &self,
        v: Value<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<Option<bool>, Status> {
        let trusted = self.utf16_trusted()?;
        if !trusted && self.type_of(v)? != ValueType::String {
            buf.clear();
            return Ok(None);
        }
        match self.string_into(v, buf) {
            Ok(well_formed) => Ok(Some(well_formed)),
            Err(status) => {
                buf.clear();
                let refused = status == Status::StringExpected
                    || (trusted && self.type_of(v)? != ValueType::String);
                if refused {
                    Ok(None)
                } else {
                    Err(status)
                }
            }
        }
    }

    /// [`Env::string_into`] for a string of up to `SHORT_UNITS - 3` code units, with
    /// one N-API call: the string is read as UTF-16 (an exact copy of its code units, with no
    /// conversion by the host) into a stack array, then narrowed here when it is all ASCII,
    /// else decoded here, refusing lone surrogates. `Ok(None)`
    /// when the string may not have fit; the caller then reads it the long way. Only for a
    /// host whose UTF-16 reads passed the probe ([`Env::utf16_trusted`]).
    ///
    /// Measured on Node 20 (callgrind, a 64 B decrypt): V8's UTF-8 writer spends ~6
    /// instructions per character of a record, its UTF-16 writer a fraction of that, and
    /// the length query is saved.
    fn short_string_into(&self, v: Value<'_>, buf: &mut Vec<u8>) -> Result<Option<bool>, Status> {
        let mut room = [MaybeUninit::<u16>::uninit(); SHORT_UNITS]; // no memset
        let wide = self.utf16_read(v, &mut room)?;
        if wide.len() >= SHORT_UNITS - 2 {
            return Ok(None); // filled, or one unit short of it: the string may have been cut
        }
        buf.clear();
        if wide.iter().fold(0u16, |acc, &u| acc | u) < 0x80 {
            buf.extend(wide.iter().map(|&u| u as u8)); // ASCII: one byte per unit
            return Ok(Some(true));
        }
        Ok(Some(utf16_into(wide, buf)))
    }

    /// Reads `v` as UTF-16 into `room`, of which the host fills at most `room.len() - 1`
    /// code units (and a NUL); returns the code units it wrote.
    fn utf16_read<'b>(
        &self,
        v: Value<'_>,
        room: &'b mut [MaybeUninit<u16>],
    ) -> Result<&'b [u16], Status> {
        let mut written = 0usize;
        // SAFETY: `room` has `room.len()` writable u16 slots and N-API is told so; it writes
        // within them and reports how many code units it wrote.
        check(unsafe {
            sys::napi_get_value_string_utf16(
                self.raw,
                v.raw,
                room.as_mut_ptr().cast(),
                room.len(),
                &mut written,
            )
        })?;
        let written = written.min(room.len());
        // SAFETY: N-API initialised the first `written` code units, within `room`.
        Ok(unsafe { std::slice::from_raw_parts(room.as_ptr().cast::<u16>(), written) })
    }

    /// Reads `v` as UTF-8 into `buf` (replacing its contents) with room for at least
    /// `room - 1` bytes; the host cuts what does not fit. A `buf` too small for that is
    /// wiped before it is replaced (see [`utf16_into`]).
    fn utf8_into(&self, v: Value<'_>, buf: &mut Vec<u8>, room: usize) -> Result<(), Status> {
        crate::wipe::clear_with_room(buf, room);
        let cap = buf.capacity();
        let mut written = 0usize;
        // SAFETY: `buf` has `cap` writable bytes; N-API writes at most `cap - 1` bytes plus a
        // NUL and reports how many it wrote (without the NUL).
        check(unsafe {
            sys::napi_get_value_string_utf8(
                self.raw,
                v.raw,
                buf.as_mut_ptr().cast(),
                cap,
                &mut written,
            )
        })?;
        // SAFETY: N-API initialised the first `written` bytes (written < cap).
        unsafe { buf.set_len(written.min(cap.saturating_sub(1))) };
        Ok(())
    }

    /// [`Env::string_into`] on a host whose UTF-16 reads failed the probe (the early Bun 1.2
    /// releases in [`Env::utf16_trusted`]). Their UTF-8 read is right, so the string is read
    /// as UTF-8 with room for the longest possible result (3 bytes per code unit) and taken
    /// when it has exactly the string's length in code units (from its `length` property)
    /// and holds no U+FFFD. Otherwise a lone surrogate was replaced or dropped, or the string
    /// holds a real U+FFFD: the string made back from the UTF-8 is compared with the original
    /// (`===`, by the engine), and only an equal one is taken. No UTF-16 read is used, since
    /// Bun 1.2.5 gets even that wrong for strings it stores as UTF-16.
    fn string_into_by_utf8(&self, v: Value<'_>, buf: &mut Vec<u8>) -> Result<bool, Status> {
        let units = self.js_length(v)?;
        let room = units
            .checked_mul(3)
            .and_then(|n| n.checked_add(1))
            .ok_or(Status::GenericFailure)?;
        self.utf8_into(v, buf, room)?;
        if buf.len() == units && buf.is_ascii() {
            // The test below, decided without decoding: ASCII is UTF-8 with one code unit
            // per byte and no U+FFFD. `encode_utf16().count()` decodes char by char: 61 % of
            // a 1 MiB decrypt on Bun 1.2.19, whose record is all ASCII.
            return Ok(true);
        }
        let Ok(text) = std::str::from_utf8(buf) else {
            buf.clear();
            return Err(Status::GenericFailure); // N-API promises UTF-8: a host bug
        };
        if !text.contains('\u{FFFD}') && text.encode_utf16().count() == units {
            return Ok(true);
        }
        let back = self.create_string_known(text, false)?;
        if self.strict_equals(v, back)? {
            return Ok(true); // its replacement characters are real ones
        }
        buf.clear(); // a lone surrogate, which has no UTF-8 form
        Ok(false)
    }

    /// `a === b`.
    fn strict_equals(&self, a: Value<'_>, b: Value<'_>) -> Result<bool, Status> {
        let mut equal = false;
        // SAFETY: live env and handles of this scope; valid out pointer.
        check(unsafe { sys::napi_strict_equals(self.raw, a.raw, b.raw, &mut equal) })?;
        Ok(equal)
    }

    /// The length of a JS string in UTF-16 code units, by N-API's length query
    /// (`napi_get_value_string_utf16` with no buffer). Only for a host whose query passed
    /// the probe ([`Env::utf16_trusted`]).
    fn utf16_len(&self, v: Value<'_>) -> Result<usize, Status> {
        let mut len = 0usize;
        // SAFETY: a null buffer asks for the length only; `len` is a valid out pointer.
        check(unsafe {
            sys::napi_get_value_string_utf16(self.raw, v.raw, ptr::null_mut(), 0, &mut len)
        })?;
        Ok(len)
    }

    /// The length of a JS string in UTF-16 code units, from its own `length` property: for
    /// a host whose length query failed the probe (Bun before 1.2.5 answers twice that, in
    /// bytes, for strings it stores as Latin-1, and the right count for the others, a
    /// difference JS cannot see).
    fn js_length(&self, v: Value<'_>) -> Result<usize, Status> {
        // A wrapper object: Bun 1.0 reads no property of a primitive through N-API.
        // SAFETY: live env and handle of this scope; valid out pointer.
        let wrapper =
            self.out_value(|o| unsafe { sys::napi_coerce_to_object(self.raw, v.raw, o) })?;
        let len = self.f64_value(self.get_property(wrapper, "length")?)?;
        if !(len >= 0.0 && len <= u32::MAX as f64 && len.fract() == 0.0) {
            return Err(Status::GenericFailure); // a string's length is a u32: a host bug
        }
        Ok(len as usize)
    }

    /// Whether the host reads strings as UTF-16 exactly, as N-API says: the length query in
    /// code units and the read a copy of the code units. Probed once per process, on
    /// `"a\u{82}"` made from Latin-1 (one byte per character in V8 and JSC) and `"a\u{20AC}"`
    /// made from UTF-16, and cached. Node, Deno and Bun from 1.2.22 on pass. Bun 1.0 to
    /// 1.2.21 fail; from 1.2.0 on (Bun's `napi.zig` and `napi.cpp` at those tags; each release checked):
    /// before 1.2.5 the length query answers in bytes for one-byte strings; 1.2.5 writes
    /// Latin-1 bytes into the UTF-16 buffer; and all of them but 1.2.5 give one-byte strings
    /// back with U+0080..U+009F mapped as windows-1252 (U+0082 as U+201A), which would be a
    /// silent change of the text. The probe also reads the number 1, which every host that
    /// follows N-API refuses (`napi_string_expected`) and Bun before 1.2.5 reads as `"1"`:
    /// [`Env::string_into_if_string`] relies on the refusal.
    fn utf16_trusted(&self) -> Result<bool, Status> {
        match UTF16_READS.load(Ordering::Relaxed) {
            UTF16_TRUSTED => return Ok(true),
            UTF16_WRONG => return Ok(false),
            _ => {}
        }
        let mut one_byte = ptr::null_mut();
        let mut two_byte = ptr::null_mut();
        let latin1 = [b'a', 0x82];
        let wide = [u16::from(b'a'), 0x20AC];
        // SAFETY: live env; each input is readable for the length given; valid out pointers.
        check(unsafe {
            sys::napi_create_string_latin1(self.raw, latin1.as_ptr().cast(), 2, &mut one_byte)
        })?;
        // SAFETY: as above.
        check(unsafe { sys::napi_create_string_utf16(self.raw, wide.as_ptr(), 2, &mut two_byte) })?;
        let number = self.create_f64(1.0)?;
        let mut room = [MaybeUninit::<u16>::uninit(); 8];
        let trusted = self.reads_back(self.wrap(one_byte), &[u16::from(b'a'), 0x82])?
            && self.reads_back(self.wrap(two_byte), &wide)?
            && self.utf16_read(number, &mut room).is_err();
        UTF16_READS.store(
            if trusted { UTF16_TRUSTED } else { UTF16_WRONG },
            Ordering::Relaxed,
        );
        Ok(trusted)
    }

    /// Whether the length query and the UTF-16 read of `v` give exactly `units` (at most 4).
    fn reads_back(&self, v: Value<'_>, units: &[u16]) -> Result<bool, Status> {
        if self.utf16_len(v)? != units.len() {
            return Ok(false);
        }
        let mut room = [MaybeUninit::<u16>::uninit(); 8];
        Ok(self.utf16_read(v, &mut room)? == units)
    }

    /// Reads `v` (of `units` UTF-16 code units) as UTF-16 and converts it to UTF-8 in `buf`;
    /// `Ok(false)` for a lone surrogate. The UTF-16 copy is wiped before it is freed, on
    /// every path.
    fn string_via_utf16(
        &self,
        v: Value<'_>,
        units: usize,
        buf: &mut Vec<u8>,
    ) -> Result<bool, Status> {
        let mut room: Vec<u16> = Vec::with_capacity(units + 1);
        let converted = self
            .utf16_read(v, &mut room.spare_capacity_mut()[..units + 1])
            .and_then(|wide| {
                if wide.len() != units {
                    return Err(Status::GenericFailure); // strings are immutable: a host bug
                }
                Ok(utf16_into(wide, buf))
            });
        crate::wipe::wipe_allocation(&mut room);
        converted
    }

    /// The bytes of a `Buffer` or `Uint8Array`, or `None` for any other value.
    ///
    /// The slice points into the JS heap: it is valid while `v` is alive and nobody detaches
    /// or mutates its `ArrayBuffer`. Callers either copy it at once (async calls) or use it
    /// while the JS thread is blocked in the same call (sync calls).
    pub(crate) fn uint8_bytes<'s>(&'s self, v: Value<'s>) -> Result<Option<&'s [u8]>, Status> {
        Ok(self.uint8_parts(v)?.map(|(data, len)| {
            if len == 0 || data.is_null() {
                return &[][..];
            }
            // SAFETY: N-API reports `len` readable bytes at `data` (already adjusted by the
            // byte offset); the lifetime is tied to this scope's handle, see the doc comment.
            unsafe { std::slice::from_raw_parts(data, len) }
        }))
    }

    /// A new `Uint8Array` of `len` zero bytes over a new (plain, never shared) `ArrayBuffer`:
    /// `(array, buffer)`.
    pub(crate) fn create_uint8_array(&self, len: usize) -> Result<(Value<'_>, Value<'_>), Status> {
        let mut data: *mut c_void = ptr::null_mut();
        let mut buffer = ptr::null_mut();
        // SAFETY: live env; valid out pointers.
        check(unsafe { sys::napi_create_arraybuffer(self.raw, len, &mut data, &mut buffer) })?;
        // Node zero-fills a new ArrayBuffer. Bun asks JavaScriptCore for uninitialized
        // memory (1.1.0 to at least upstream main of 2026-05-26), and 1.2.0-1.3.14 hand out
        // old heap bytes in it once JS has dropped typed arrays
        // (`patches/repro/napi-arraybuffer-uninitialized.js`). Zeroed here, so no host
        // hands JS bytes it never wrote.
        if !data.is_null() && len > 0 {
            // SAFETY: the host just made `len` writable bytes at `data` for this new
            // ArrayBuffer, which no JS has seen yet.
            unsafe { ptr::write_bytes(data.cast::<u8>(), 0, len) };
        }
        let mut v = ptr::null_mut();
        // SAFETY: `buffer` is the ArrayBuffer just made, `len` bytes long; valid out pointer.
        check(unsafe {
            sys::napi_create_typedarray(self.raw, sys::napi_uint8_array, len, buffer, 0, &mut v)
        })?;
        Ok((self.wrap(v), self.wrap(buffer)))
    }

    /// Where an `ArrayBuffer` keeps its bytes: `(pointer, length)`, or `None` if it is empty
    /// or detached (a transferred buffer reads as null and 0 bytes on Node 18-26, Bun
    /// 1.2-1.4 and Deno; `test-support/decrypt-results.cjs` checks it). Writing through the
    /// pointer is sound only for a caller that knows nobody else reaches the memory: e.g. a
    /// buffer it made with [`Env::create_uint8_array`], written on its JS thread before
    /// returning. One host call, where a `Uint8Array`'s bytes take two (`napi_is_typedarray`,
    /// then `napi_get_typedarray_info`, which on V8 also makes a handle for the array's
    /// buffer): Node 20's decrypt callback ran 7,032 instructions before, 6,763 after.
    pub(crate) fn arraybuffer_raw(&self, v: Value<'_>) -> Result<Option<(*mut u8, usize)>, Status> {
        let mut data: *mut c_void = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: live env and handle; valid out pointers. The host checks that `v` is an
        // ArrayBuffer and fails with a status if not.
        check(unsafe { sys::napi_get_arraybuffer_info(self.raw, v.raw, &mut data, &mut len) })?;
        Ok((len > 0 && !data.is_null()).then_some((data.cast::<u8>(), len)))
    }

    /// A `Uint8Array`'s data pointer and length as N-API reports them (the pointer may be
    /// null for an empty or detached buffer), or `None` for any other value.
    fn uint8_parts(&self, v: Value<'_>) -> Result<Option<(*mut u8, usize)>, Status> {
        let mut is_typed = false;
        // SAFETY: live env and handle; valid out pointer.
        check(unsafe { sys::napi_is_typedarray(self.raw, v.raw, &mut is_typed) })?;
        if !is_typed {
            return Ok(None);
        }
        let mut kind: sys::napi_typedarray_type = 0;
        let mut len = 0usize;
        let mut data: *mut c_void = ptr::null_mut();
        // SAFETY: live env and handle; out pointers are valid, unused ones are null. The
        // host checks that `v` is a typed array (old Bun says yes to an ArrayBuffer, then
        // fails here with InvalidArg, handled below).
        let status = check(unsafe {
            sys::napi_get_typedarray_info(
                self.raw,
                v.raw,
                &mut kind,
                &mut len,
                &mut data,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        });
        match status {
            // Bun before 1.2.3 calls an ArrayBuffer a typed array, then refuses its info:
            // it is not a Uint8Array either way.
            Err(Status::InvalidArg) => return Ok(None),
            other => other?,
        }
        Ok((kind == sys::napi_uint8_array).then_some((data.cast::<u8>(), len)))
    }

    pub(crate) fn create_error(
        &self,
        kind: JsErrorKind,
        code: &str,
        message: &str,
    ) -> Result<Value<'_>, Status> {
        let code = self.create_string(code)?;
        let msg = self.create_string(message)?;
        let mut v = ptr::null_mut();
        // SAFETY: live env and string handles of this scope; valid out pointer.
        let status = unsafe {
            match kind {
                JsErrorKind::Error => sys::napi_create_error(self.raw, code.raw, msg.raw, &mut v),
                JsErrorKind::TypeError => {
                    sys::napi_create_type_error(self.raw, code.raw, msg.raw, &mut v)
                }
                JsErrorKind::RangeError => {
                    sys::napi_create_range_error(self.raw, code.raw, msg.raw, &mut v)
                }
            }
        };
        check(status)?;
        Ok(self.wrap(v))
    }

    pub(crate) fn throw(&self, v: Value<'_>) -> Result<(), Status> {
        // SAFETY: live env and handle.
        check(unsafe { sys::napi_throw(self.raw, v.raw) })
    }

    pub(crate) fn is_exception_pending(&self) -> bool {
        let mut pending = false;
        // SAFETY: live env; valid out pointer.
        let ok = unsafe { sys::napi_is_exception_pending(self.raw, &mut pending) };
        ok == sys::napi_ok && pending
    }

    /// Clears the pending exception, if any, and returns it.
    pub(crate) fn take_exception(&self) -> Option<Value<'_>> {
        if !self.is_exception_pending() {
            return None;
        }
        // SAFETY: live env with a pending exception; valid out pointer.
        self.out_value(|v| unsafe { sys::napi_get_and_clear_last_exception(self.raw, v) })
            .ok()
    }

    /// Calls `func` with `this = undefined`.
    pub(crate) fn call<'s>(
        &'s self,
        func: Value<'_>,
        args: &[Value<'_>],
    ) -> Result<Value<'s>, Status> {
        let recv = self.undefined()?;
        self.call_with_this(recv, func, args)
    }

    pub(crate) fn call_with_this<'s>(
        &'s self,
        this: Value<'_>,
        func: Value<'_>,
        args: &[Value<'_>],
    ) -> Result<Value<'s>, Status> {
        let raw_args: Vec<sys::napi_value> = args.iter().map(|a| a.raw).collect();
        let mut out = ptr::null_mut();
        // SAFETY: live env; `raw_args` holds `args.len()` live handles of this scope.
        check(unsafe {
            sys::napi_call_function(
                self.raw,
                this.raw,
                func.raw,
                raw_args.len(),
                raw_args.as_ptr(),
                &mut out,
            )
        })?;
        Ok(self.wrap(out))
    }

    /// `JSON.stringify(v)` using the realm's own JSON object; `None` when it gives
    /// `undefined`. An exception it throws stays pending (the error says so).
    pub(crate) fn json_stringify(&self, v: Value<'_>) -> JsResult<Option<String>> {
        let global = self.global()?;
        let json = self.get_property(global, "JSON")?;
        let stringify = self.get_property(json, "stringify")?;
        let out = self.call_with_this(json, stringify, &[v])?;
        if self.type_of(out)? != ValueType::String {
            return Ok(None); // undefined: a function, a symbol, or a toJSON returning nothing
        }
        // JSON.stringify escapes lone surrogates (as \uD800), so its output is always
        // well-formed; a failure here would be a host bug.
        self.string_value(out)?
            .map(Some)
            .ok_or_else(|| Status::StringExpected.into())
    }

    /// A strong reference to keep `v` alive across calls (e.g. the log hook).
    pub(crate) fn create_reference(&self, v: Value<'_>) -> Result<Ref, Status> {
        let mut r = ptr::null_mut();
        // SAFETY: live env and handle; valid out pointer.
        check(unsafe { sys::napi_create_reference(self.raw, v.raw, 1, &mut r) })?;
        Ok(Ref(r))
    }

    pub(crate) fn reference_value(&self, r: &Ref) -> Result<Value<'_>, Status> {
        let mut v = ptr::null_mut();
        // SAFETY: a `Ref` is only made by `create_reference` and is live until consumed by
        // `delete_reference`; references belong to the env (JS thread) that made them.
        check(unsafe { sys::napi_get_reference_value(self.raw, r.0, &mut v) })?;
        Ok(self.wrap(v))
    }

    pub(crate) fn delete_reference(&self, r: Ref) -> Result<(), Status> {
        // SAFETY: `r` is live (see `reference_value`) and consumed here, so deleted once.
        check(unsafe { sys::napi_delete_reference(self.raw, r.0) })
    }

    /// Registers `hook(arg)` to run when this env is torn down (Worker exit, process exit).
    ///
    /// # Safety
    /// `arg` must stay valid until the hook has run or been removed.
    pub(crate) unsafe fn add_cleanup_hook(
        &self,
        hook: unsafe extern "C" fn(*mut c_void),
        arg: *mut c_void,
    ) -> Result<(), Status> {
        // SAFETY: the caller guarantees `arg`'s lifetime; `hook` is a valid C function.
        check(unsafe { sys::napi_add_env_cleanup_hook(self.raw, Some(hook), arg) })
    }

    /// Makes a JS function named `name` that calls `f` through the failure boundary.
    pub(crate) fn create_function(
        &self,
        name: &str,
        f: super::function::JsFn,
    ) -> Result<Value<'_>, Status> {
        let cname = CString::new(name).map_err(|_| Status::InvalidArg)?;
        let mut v = ptr::null_mut();
        // SAFETY: the trampoline matches `napi_callback`; `data` carries a plain fn pointer,
        // which is 'static, so it outlives the function object.
        check(unsafe {
            sys::napi_create_function(
                self.raw,
                cname.as_ptr(),
                name.len(),
                Some(super::function::trampoline),
                f as *const () as *mut c_void,
                &mut v,
            )
        })?;
        Ok(self.wrap(v))
    }
}

#[cfg(test)]
mod tests {
    use super::utf16_into;
    use crate::wipe::freed::count_freed_holding;

    const MARK: &str = "utf16-marker-e2f1";

    /// Converting a data string's UTF-16 never frees a copy of it: `buf` gets room for the
    /// longest result at once, and an earlier read too small for it is wiped (the path of a
    /// non-ASCII string whose UTF-8 read was cut).
    #[test]
    fn conversion_frees_no_copy_of_the_string() {
        for text in [
            format!("é{MARK}"),
            format!("{}{MARK}", "ж".repeat(5000)),
            format!("{}{MARK}😀", "😀".repeat(3000)),
        ] {
            let wide: Vec<u16> = text.encode_utf16().collect();
            let mut buf = Vec::new();
            let found = count_freed_holding(MARK.as_bytes(), || {
                buf = MARK.as_bytes().to_vec(); // a cut read, smaller than the result
                assert!(utf16_into(&wide, &mut buf));
            });
            assert_eq!(found, 0, "{} units", wide.len());
            assert_eq!(buf, text.as_bytes());
        }
    }

    /// The block-wise ASCII runs decode exactly as `char::decode_utf16` does, lone
    /// surrogates refused, for strings of random lengths drawn from ASCII, two- and
    /// three-byte characters, pairs and lone surrogates, mostly ASCII or not.
    #[test]
    fn agrees_with_decode_utf16_on_generated_strings() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pick: [&[u16]; 7] = [
            &[0x41],
            &[0x7f],
            &[0xe9],
            &[0x3c0],
            &[0xd83d, 0xde00],
            &[0xd800],
            &[0xdfff],
        ];
        for _ in 0..20_000 {
            let len = (next() % 70) as usize;
            let ascii_share = next() % 100;
            let mut wide = Vec::new();
            while wide.len() < len {
                let r = next();
                let unit = match r % 100 < ascii_share {
                    true => pick[(r >> 8) as usize % 2],
                    false => pick[(r >> 8) as usize % pick.len()],
                };
                wide.extend_from_slice(unit);
            }
            let expect: Result<String, _> = char::decode_utf16(wide.iter().copied()).collect();
            let mut buf = b"earlier".to_vec();
            let ok = utf16_into(&wide, &mut buf);
            match expect {
                Ok(text) => assert!(ok && buf == text.as_bytes(), "{wide:04x?}"),
                Err(_) => assert!(!ok && buf.is_empty(), "{wide:04x?}"),
            }
        }
    }

    #[test]
    fn a_lone_surrogate_empties_the_buffer() {
        let mut wide: Vec<u16> = MARK.encode_utf16().collect();
        wide.push(0xd800);
        let mut buf = Vec::new();
        assert!(!utf16_into(&wide, &mut buf));
        assert!(buf.is_empty());
    }
}
