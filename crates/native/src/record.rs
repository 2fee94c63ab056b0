//! JSON in and out, exactly as Go's `encoding/json` writes Asherah's structs.
//!
//! Output is written by hand, in Go's field order, with standard padded base64 and Go's
//! string escaping (which also escapes `<`, `>`, `&`, U+2028 and U+2029):
//! DataRowRecord `{"Key":{"Created":..,"Key":"..","ParentKeyMeta":{"KeyId":"..","Created":..}},"Data":".."}`,
//! EnvelopeKeyRecord `{"Revoked":true,"Created":..,"Key":"..","ParentKeyMeta":{..}}` where
//! `Revoked` appears only when true and `ParentKeyMeta` only when present (system keys have
//! none). Input is parsed with serde, borrowing from the caller's buffer; a DataRowRecord
//! in exactly the layout above (what this module and Go write) is first tried by a
//! serde-free reader that accepts a subset of what serde accepts (`parse_canonical`). A 1 MiB
//! record's `Data` field is most of the bytes an encrypt writes and a decrypt reads, so its
//! base64 goes through `crate::b64` (an AVX-512 VBMI kernel where the CPU has one,
//! `base64-simd` otherwise): encoded straight into the pre-sized output `String`, decoded
//! straight into the buffer GCM then opens in place. Short fields are decoded by `base64-simd`.
//!
//! Reading is as lenient as libasherah's, and no more, so every record and key record Go
//! reads, this reads too, to the same bytes: field names match case-insensitively when no
//! field matches exactly ([`go_field_eq`]); base64 that the strict decoder refuses is tried
//! again the way Go's `base64.StdEncoding` reads it ([`decode_base64_like_go`]); a `[]byte`
//! may be an array of byte values ([`GoBytes`]); a repeated field is read as Go reads it
//! (see the visitors below); numbers follow `strconv.ParseInt` ([`GoInt`]); documents nested
//! deeper than Go's 10,000 levels are refused. All of it is on the general path, which only
//! runs when the canonical reader declined, so records as written cost nothing extra.
//! `tests/go_differential.rs` checks the two readers agree on mutated records.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use base64_simd::{AsOut, STANDARD};
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::error::Category;
use smallvec::SmallVec;

use crate::aead::SEALED_KEY_LEN;
use crate::error::Error;

/// A key's identity: id and created (unix seconds). JSON: `{"KeyId":..,"Created":..}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
pub struct KeyMeta {
    /// The key's id (`_SK_...` or `_IK_...`).
    #[serde(rename = "KeyId")]
    pub id: String,
    /// The version: when the key was created (unix seconds, minute-aligned).
    #[serde(rename = "Created")]
    pub created: i64,
}

/// A key record as stored in the metastore: the key is *encrypted* (under the KMS for a
/// system key, under a system key for an intermediate key), so this type holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeKeyRecord {
    /// The key was revoked: it still decrypts, but is never used to encrypt.
    pub revoked: bool,
    /// When the key was created (unix seconds): its version.
    pub created: i64,
    /// The key, sealed by its parent (the KMS, or a system key).
    pub encrypted_key: Vec<u8>,
    /// The system key that sealed this intermediate key; `None` for a system key.
    pub parent_key_meta: Option<KeyMeta>,
}

/// A key record as parsed: each field as Go's `encoding/json` leaves it, `None` where it
/// stays at Go's zero value (absent, or `null`).
#[derive(Default)]
struct EkrIn<'a> {
    revoked: Option<bool>,
    created: Option<i64>,
    key: Option<GoBytes<'a>>,
    parent: Option<MetaIn<'a>>,
}

#[derive(Default)]
struct MetaIn<'a> {
    id: Option<Cow<'a, str>>,
    created: Option<i64>,
}

#[derive(Default)]
struct DrrIn<'a> {
    key: Option<EkrIn<'a>>,
    data: Option<GoBytes<'a>>,
}

/// A Go `[]byte` field's JSON value. Mostly a base64 string: its raw bytes, borrowed from
/// the input unless it has escapes (which are decoded, e.g. `\/`), read with
/// `deserialize_bytes`, so serde_json finds the closing quote with `memchr` and neither
/// copies the string nor checks it for UTF-8 or control characters: the base64 decoder that
/// always follows rejects every byte outside the alphabet. (A plain `Option<Cow<str>>` would
/// not even borrow: serde copies it into a `String`, a 1.4 MB copy for a 1 MiB record.)
/// Go's `encoding/json` also reads an array of byte values (`[1,2,255]`, `null` elements
/// as 0) into a `[]byte`, and so does this.
enum GoBytes<'a> {
    Base64(Cow<'a, [u8]>),
    Array(Vec<u8>),
}

impl GoBytes<'_> {
    /// The bytes, as Go would decode them; `None` where Go's decode fails.
    fn decode(&self) -> Option<Vec<u8>> {
        match self {
            GoBytes::Base64(b64) => decode_base64_like_go(b64),
            GoBytes::Array(v) => Some(v.clone()),
        }
    }

    /// The bytes of a sealed key (inline when they fit; see [`SealedKey`]).
    fn decode_sealed_key(&self) -> Option<SealedKey> {
        match self {
            GoBytes::Base64(b64) => decode_sealed_key(b64)
                .ok()
                .or_else(|| decode_base64_go_leniency(b64).map(SmallVec::from_vec)),
            GoBytes::Array(v) => Some(SmallVec::from_slice(v)),
        }
    }
}

/// One element of a byte array: a JSON number Go's `strconv.ParseUint` reads as 0-255.
struct GoByte(u8);

impl<'de> Deserialize<'de> for GoByte {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&serde_json::value::RawValue>::deserialize(d)?.get();
        if raw.starts_with(|c: char| c.is_ascii_digit()) {
            if let Ok(b) = raw.parse::<u8>() {
                return Ok(GoByte(b));
            }
        }
        Err(D::Error::custom(EXPECT_BASE64))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for GoBytes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GoBytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string or an array of bytes")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(GoBytes::Base64(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(GoBytes::Base64(Cow::Owned(v.to_vec())))
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(GoBytes::Base64(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(GoBytes::Base64(Cow::Owned(v.as_bytes().to_vec())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(b) = seq.next_element::<Option<GoByte>>()? {
                    out.push(b.map_or(0, |GoByte(b)| b));
                }
                Ok(GoBytes::Array(out))
            }
        }
        deserializer.deserialize_bytes(V)
    }
}

impl EnvelopeKeyRecord {
    /// Go's `json.Marshal(EnvelopeKeyRecord)`.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(160);
        out.push('{');
        if self.revoked {
            out.push_str("\"Revoked\":true,");
        }
        out.push_str("\"Created\":");
        push_int(&mut out, self.created);
        out.push_str(",\"Key\":\"");
        crate::b64::encode_append(&self.encrypted_key, &mut out);
        out.push('"');
        if let Some(meta) = &self.parent_key_meta {
            out.push_str(",\"ParentKeyMeta\":{\"KeyId\":");
            push_json_string(&mut out, &meta.id);
            out.push_str(",\"Created\":");
            push_int(&mut out, meta.created);
            out.push('}');
        }
        out.push('}');
        out
    }

    /// Parses a stored key record. Errors are `Metastore` errors that name the field and
    /// the problem, never the record's text.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        if deeper_than_go_reads(json.as_bytes()) {
            return Err(Error::metastore(
                "unparseable key record: nested deeper than 10000 levels",
            ));
        }
        let ctx = Ctx::default();
        let mut de = serde_json::Deserializer::from_str(json);
        let r = EkrSeed {
            ctx: &ctx,
            paths: &KEY_RECORD_PATHS,
            prev: None,
        }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| Error::metastore(format!("unparseable key record: {}", ctx.describe(&e))))?;
        // Unlike a DataRowRecord's DRK, a stored key's Created is its version: a record
        // without it (Go would read 0) would make every record written under it unreadable.
        let created = r
            .created
            .ok_or_else(|| Error::metastore("unparseable key record: Created: missing"))?;
        let key = r
            .key
            .ok_or_else(|| Error::metastore("unparseable key record: Key: missing"))?;
        let encrypted_key = key
            .decode()
            .ok_or_else(|| Error::metastore("key record: Key is not valid base64"))?;
        let parent_key_meta = match r.parent {
            None => None,
            Some(m) => Some(KeyMeta {
                id: m
                    .id
                    .ok_or_else(|| {
                        Error::metastore("unparseable key record: ParentKeyMeta.KeyId: missing")
                    })?
                    .into_owned(),
                created: m.created.ok_or_else(|| {
                    Error::metastore("unparseable key record: ParentKeyMeta.Created: missing")
                })?,
            }),
        };
        Ok(EnvelopeKeyRecord {
            revoked: r.revoked.unwrap_or(false),
            created,
            encrypted_key,
            parent_key_meta,
        })
    }
}

/// A DataRowRecord's JSON as [`crate::Asherah::encrypt_record`] writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordJson {
    /// The JSON text.
    pub json: String,
    /// Every byte of `json` is ASCII: true unless the intermediate key's id (partition,
    /// service or product name) has a non-ASCII character. Known from how the record was
    /// written, so a caller that makes a Latin-1 string of it need not scan it (a 1 MiB
    /// plaintext's record is 1.4 MB).
    pub ascii: bool,
}

/// A sealed data-row key as a record carries it: inline up to the 60 bytes every writer
/// produces (32-byte key, tag, nonce), on the heap if longer (the open refuses any length
/// but 60, by name).
pub(crate) type SealedKey = SmallVec<[u8; SEALED_KEY_LEN]>;

/// A parsed DataRowRecord, base64 decoded; borrows the key id from the input.
pub(crate) struct DataRowRecord<'a> {
    pub(crate) ik_id: Cow<'a, str>,
    pub(crate) ik_created: i64,
    pub(crate) sealed_drk: SealedKey,
    pub(crate) sealed_data: Vec<u8>,
}

/// Decodes a sealed key's base64 (inline when it fits; see [`SealedKey`]).
fn decode_sealed_key(b64: &[u8]) -> Result<SealedKey, base64_simd::Error> {
    let mut inline = [0u8; SEALED_KEY_LEN];
    if STANDARD.decoded_length(b64)? <= SEALED_KEY_LEN {
        let n = STANDARD.decode(b64, inline.as_mut_slice().as_out())?.len();
        Ok(SmallVec::from_buf_and_len(inline, n))
    } else {
        STANDARD.decode_to_vec(b64).map(SmallVec::from_vec)
    }
}

/// Standard padded base64 as Go's `base64.StdEncoding` reads it (`encoding/json` decodes
/// `[]byte` with it): strictly first; if that fails, again with what Go also accepts, which
/// is `\r` and `\n` anywhere (skipped) and non-zero bits after the last byte of a padded
/// final group (ignored; they carry no data). Padding stays required, other whitespace and
/// the URL-safe alphabet stay refused, as in Go. `None` if Go would refuse it too.
pub(crate) fn decode_base64_like_go(b64: &[u8]) -> Option<Vec<u8>> {
    crate::b64::decode_to_vec(b64).or_else(|| decode_base64_go_leniency(b64))
}

/// The second half of [`decode_base64_like_go`], for a caller whose own strict decode
/// already failed: `\r` and `\n` skipped, spare bits after the last byte cleared.
fn decode_base64_go_leniency(b64: &[u8]) -> Option<Vec<u8>> {
    let mut s: Vec<u8> = b64
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    let pad = s.iter().rev().take_while(|&&b| b == b'=').count();
    if s.len().is_multiple_of(4) && (pad == 1 || pad == 2) {
        // The character before the padding holds 6 bits, of which 4 (one `=`) or 2 (two)
        // complete the last byte; clear the rest.
        let at = s.len() - pad - 1;
        let unused = if pad == 1 { 0b11 } else { 0b1111 };
        if let Some(v) = base64_value(s[at]) {
            s[at] = BASE64_ALPHABET[usize::from(v & !unused)];
        }
    }
    STANDARD.decode_to_vec(&s).ok()
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The 6-bit value of a standard base64 character.
fn base64_value(c: u8) -> Option<u8> {
    BASE64_ALPHABET
        .iter()
        .position(|&a| a == c)
        .and_then(|i| u8::try_from(i).ok())
}

/// Parses a DataRowRecord; any structural problem is `MalformedRecord`.
pub(crate) fn parse_data_row_record(json: &[u8]) -> Result<DataRowRecord<'_>, Error> {
    if let Some(drr) = parse_canonical(json) {
        return Ok(drr);
    }
    parse_general(json)
}

/// The DataRowRecord layout every writer we know produces (this module, and Go's
/// `encoding/json`, which writes struct fields in declaration order and nothing else):
/// `{"Key":{"Created":N,"Key":"B64","ParentKeyMeta":{"KeyId":"ID","Created":N}},"Data":"B64"}`.
/// Read without serde when the input is exactly that, byte for byte, with non-negative
/// integers of at most 18 digits and strings without escapes; a record that differs in any
/// way (whitespace, another field order, escapes, `null`, a field missing or added, bad
/// base64) gives `None`, and [`parse_general`] decides, with its error messages. So this
/// accepts a subset of what `parse_general` accepts and returns the same values for it
/// (property-tested below). It saves a third of a small decrypt's time in the core (serde's
/// field dispatch and string scanning).
fn parse_canonical(json: &[u8]) -> Option<DataRowRecord<'_>> {
    let drr = parse_canonical_undecoded(json)?;
    Some(DataRowRecord {
        ik_id: Cow::Borrowed(drr.ik_id),
        ik_created: drr.ik_created,
        sealed_drk: drr.sealed_drk,
        sealed_data: crate::b64::decode_to_vec(drr.data)?,
    })
}

/// A DataRowRecord in the canonical layout with its `Data` still base64 (see
/// [`parse_canonical_undecoded`]).
pub(crate) struct UndecodedRecord<'a> {
    pub(crate) ik_id: &'a str,
    pub(crate) ik_created: i64,
    pub(crate) sealed_drk: SealedKey,
    /// `Data`'s characters, not yet checked: [`parse_canonical`] accepts the record only
    /// if they are strict base64.
    pub(crate) data: &'a [u8],
}

/// [`parse_canonical`] without the decode of `Data`, for a caller that decodes it where it
/// wants the bytes. Every record `parse_canonical` accepts is accepted here with the same
/// fields; one whose `Data` is not strict base64 is accepted here and refused there.
pub(crate) fn parse_canonical_undecoded(json: &[u8]) -> Option<UndecodedRecord<'_>> {
    let mut rest = json.strip_prefix(br#"{"Key":{"Created":"#)?;
    let _drk_created = take_int(&mut rest)?;
    rest = rest.strip_prefix(br#","Key":""#)?;
    let sealed_drk = take_sealed_key(&mut rest)?;
    rest = rest.strip_prefix(br#","ParentKeyMeta":{"KeyId":""#)?;
    let id = take_plain_str(&mut rest)?;
    rest = rest.strip_prefix(br#","Created":"#)?;
    let ik_created = take_int(&mut rest)?;
    rest = rest.strip_prefix(br#"}},"Data":""#)?;
    // The last field: everything up to the closing `"}`. A `"` or `\` inside is not base64,
    // so the decode refuses it, as it refuses any other escape.
    let data = rest.strip_suffix(br#""}"#)?;
    // serde refuses raw control characters in a string it reads as text (the base64 fields
    // are read as bytes and left to the decoder, as here).
    if id.iter().any(|&b| b < 0x20) {
        return None;
    }
    let id = std::str::from_utf8(id).ok()?;
    Some(UndecodedRecord {
        ik_id: id,
        ik_created,
        sealed_drk,
        data,
    })
}

/// The number of bytes strict padded base64 `b64` decodes to, if its length and padding
/// allow it (its characters are checked by the decode).
pub(crate) fn sealed_len(b64: &[u8]) -> Option<usize> {
    STANDARD.decoded_length(b64).ok()
}

/// `0` or `[1-9][0-9]{0,17}` at the start of `rest` (so it fits an i64 without a check),
/// consumed; the caller checks what follows.
fn take_int(rest: &mut &[u8]) -> Option<i64> {
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 || (digits > 1 && rest[0] == b'0') {
        return None;
    }
    let n = rest[..digits]
        .iter()
        .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    *rest = &rest[digits..];
    Some(n)
}

/// The sealed key string at the start of `rest`, consumed with its closing quote, and
/// decoded. Every writer's key is 80 base64 characters (60 bytes): when a quote follows 80
/// characters that decode, that is the whole string (a `"` or `\` is not base64), found
/// without a scan. Any other key is found as [`take_plain_str`] finds it.
fn take_sealed_key(rest: &mut &[u8]) -> Option<SealedKey> {
    let expected = STANDARD.encoded_length(SEALED_KEY_LEN);
    if rest.get(expected) == Some(&b'"') {
        if let Ok(key) = decode_sealed_key(&rest[..expected]) {
            *rest = &rest[expected + 1..];
            return Some(key);
        }
    }
    decode_sealed_key(take_plain_str(rest)?).ok()
}

/// The bytes up to the next `"` (consumed, with the quote), if no `\` comes first.
fn take_plain_str<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[end] != b'"' {
        return None;
    }
    let s = &rest[..end];
    *rest = &rest[end + 1..];
    Some(s)
}

/// Whether `json` nests arrays and objects deeper than Go's `encoding/json` reads (its
/// scanner's limit is 10,000 levels, counted over the whole document, unknown fields
/// included; serde_json skips an unknown value of any depth).
fn deeper_than_go_reads(json: &[u8]) -> bool {
    const GO_MAX_NESTING: usize = 10_000;
    let mut depth = 0usize;
    let mut rest = json;
    // Outside strings, byte by byte; a string's body (most of a large record, its `Data`)
    // is skipped to its closing quote with `memchr`, stepping over escapes.
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'"' => loop {
                let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
                    return false; // an unterminated string: the parser reports it
                };
                let quote = rest[at] == b'"';
                rest = rest.get(at + 2 - usize::from(quote)..).unwrap_or_default();
                if quote {
                    break;
                }
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > GO_MAX_NESTING {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Parses any DataRowRecord serde_json reads (the general path of [`parse_data_row_record`]).
fn parse_general(json: &[u8]) -> Result<DataRowRecord<'_>, Error> {
    if deeper_than_go_reads(json) {
        return Err(Error::malformed("nested deeper than 10000 levels"));
    }
    let ctx = Ctx::default();
    let mut de = serde_json::Deserializer::from_slice(json);
    let drr = DrrSeed(&ctx)
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
        // No "malformed DataRowRecord" prefix: the kind says so, and the shim adds it.
        .map_err(|e| Error::malformed(ctx.describe(&e)))?;
    // The DRK's Created is not needed to decrypt (nor authenticated): Go reads a record
    // without it, and so does this.
    let key = drr
        .key
        .ok_or_else(|| Error::malformed("datarow key record cannot be empty"))?;
    let parent = key
        .parent
        .ok_or_else(|| Error::malformed("parent key cannot be empty"))?;
    let data = drr
        .data
        .ok_or_else(|| Error::malformed("Data is missing"))?;
    let sealed_drk = key
        .key
        .ok_or_else(|| Error::malformed("Key.Key is missing"))?;
    let ik_id = parent
        .id
        .ok_or_else(|| Error::malformed("Key.ParentKeyMeta.KeyId is missing"))?;
    let ik_created = parent
        .created
        .ok_or_else(|| Error::malformed("Key.ParentKeyMeta.Created is missing"))?;
    let sealed_drk = sealed_drk
        .decode_sealed_key()
        .ok_or_else(|| Error::malformed("Key.Key is not valid base64"))?;
    let sealed_data = data
        .decode()
        .ok_or_else(|| Error::malformed("Data is not valid base64"))?;
    Ok(DataRowRecord {
        ik_id,
        ik_created,
        sealed_drk,
        sealed_data,
    })
}

/// Writes a DataRowRecord. `ik_id_json` is the IK id already quoted and escaped.
pub(crate) fn write_data_row_record(
    drk_created: i64,
    sealed_drk: &[u8],
    ik_id_json: &str,
    ik_created: i64,
    sealed_data: &[u8],
) -> String {
    let b64 = crate::b64::encoded_len;
    // 77 bytes of fixed text and two i64s (at most 20 characters each): the exact worst
    // case, so the record is never reallocated (and a 1 MiB record never copied) midway.
    let capacity = 77 + 2 * 20 + ik_id_json.len() + b64(sealed_drk.len()) + b64(sealed_data.len());
    let mut out = String::with_capacity(capacity);
    out.push_str("{\"Key\":{\"Created\":");
    push_int(&mut out, drk_created);
    out.push_str(",\"Key\":\"");
    crate::b64::encode_append(sealed_drk, &mut out);
    out.push_str("\",\"ParentKeyMeta\":{\"KeyId\":");
    out.push_str(ik_id_json);
    out.push_str(",\"Created\":");
    push_int(&mut out, ik_created);
    out.push_str("}},\"Data\":\"");
    crate::b64::encode_append(sealed_data, &mut out);
    out.push_str("\"}");
    debug_assert!(out.len() <= capacity, "record outgrew its capacity");
    out
}

// Parsing with messages that quote no input. serde_json's own messages for a value of the
// wrong type quote it ("invalid type: string \"...\""), so they are never shown. Instead the
// visitors below record in a `Ctx` which field they are reading and what they expect there,
// before each read; when a read fails with a data error, the message is built from that
// record and the error's position. Syntax errors keep serde_json's text, which is static
// (e.g. "EOF while parsing a string at line 1 column 9"). Unknown fields are skipped (as
// Go's encoding/json does), and so are field names that match only case-insensitively
// ([`go_field_eq`]). A field given twice is read as Go reads it: the last value wins, and a
// second object for `Key` or `ParentKeyMeta` is merged into the first (`null` clears a key
// or an object, and leaves a number, string or boolean as it was). A value of the wrong
// type anywhere (an array where an object belongs, a string for a number) is refused, as
// Go's `Unmarshal` fails the whole record then.

/// The field being read and the problem to report if reading it fails.
#[derive(Default)]
struct Ctx {
    at: Cell<&'static str>,
    problem: Cell<&'static str>,
}

impl Ctx {
    fn expect(&self, at: &'static str, problem: &'static str) {
        self.at.set(at);
        self.problem.set(problem);
    }

    /// `e` as a message naming the field and the problem.
    fn describe(&self, e: &serde_json::Error) -> String {
        match e.classify() {
            Category::Data => {
                let at = self.at.get();
                let sep = if at.is_empty() { "" } else { ": " };
                format!(
                    "{at}{sep}{} at line {} column {}",
                    self.problem.get(),
                    e.line(),
                    e.column()
                )
            }
            Category::Syntax | Category::Eof => format!("invalid JSON: {e}"),
            Category::Io => "invalid JSON".to_owned(),
        }
    }
}

/// The names of a key record's fields where it appears: a DataRowRecord's `Key`, or a
/// key record on its own.
struct Paths {
    root: &'static str,
    revoked: &'static str,
    created: &'static str,
    key: &'static str,
    parent: &'static str,
    parent_id: &'static str,
    parent_created: &'static str,
}

const DRR_KEY_PATHS: Paths = Paths {
    root: "Key",
    revoked: "Key.Revoked",
    created: "Key.Created",
    key: "Key.Key",
    parent: "Key.ParentKeyMeta",
    parent_id: "Key.ParentKeyMeta.KeyId",
    parent_created: "Key.ParentKeyMeta.Created",
};

const KEY_RECORD_PATHS: Paths = Paths {
    root: "",
    revoked: "Revoked",
    created: "Created",
    key: "Key",
    parent: "ParentKeyMeta",
    parent_id: "ParentKeyMeta.KeyId",
    parent_created: "ParentKeyMeta.Created",
};

const EXPECT_OBJECT: &str = "expected a JSON object";
const EXPECT_INTEGER: &str = "expected a 64-bit integer";
const EXPECT_BASE64: &str = "expected a base64 string or an array of bytes";

/// Reads the next value of `map` as field `at` the way Go reads a number, string or boolean
/// field: `null` leaves `slot` as it was, any other value replaces it; `problem` is what a
/// data error there reports.
fn read_scalar<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    ctx: &Ctx,
    slot: &mut Option<T>,
    at: &'static str,
    problem: &'static str,
) -> Result<(), A::Error> {
    ctx.expect(at, problem);
    if let Some(v) = map.next_value::<Option<T>>()? {
        *slot = Some(v);
    }
    Ok(())
}

/// Stores the latest value of a `[]byte` field given more than once. Go decodes every
/// occurrence as it meets it and fails the whole record if any did not decode, even one a
/// later occurrence replaced; the last is decoded by the caller, so an earlier one that
/// goes is decoded here.
fn replace_bytes<'a, E: serde::de::Error>(
    slot: &mut Option<GoBytes<'a>>,
    value: Option<GoBytes<'a>>,
    ctx: &Ctx,
    at: &'static str,
) -> Result<(), E> {
    if let Some(old) = std::mem::replace(slot, value) {
        if old.decode().is_none() {
            ctx.expect(at, "not valid base64 (an earlier value of the field)");
            return Err(E::custom("not valid base64"));
        }
    }
    Ok(())
}

/// An int64 as Go's `encoding/json` reads one: a JSON number whose text `strconv.ParseInt`
/// accepts, so `-0` is 0, and `1.0`, `1e3` or a number out of range are refused.
struct GoInt(i64);

impl<'de> Deserialize<'de> for GoInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&serde_json::value::RawValue>::deserialize(d)?.get();
        // A JSON number never starts with `+`, which `parse` would take.
        if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            if let Ok(n) = raw.parse::<i64>() {
                return Ok(GoInt(n));
            }
        }
        Err(D::Error::custom(EXPECT_INTEGER))
    }
}

/// [`read_scalar`] for an int64 field.
fn read_int<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &Ctx,
    slot: &mut Option<i64>,
    at: &'static str,
) -> Result<(), A::Error> {
    let mut v = None;
    read_scalar::<A, GoInt>(map, ctx, &mut v, at, EXPECT_INTEGER)?;
    if let Some(GoInt(n)) = v {
        *slot = Some(n);
    }
    Ok(())
}

/// The index of `key` in `fields`, or `None` for a field we skip.
struct FieldSeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self
            .0
            .iter()
            .position(|f| *f == v)
            .or_else(|| self.0.iter().position(|f| go_field_eq(f, v))))
    }
}

/// Whether Go's `encoding/json` would match the JSON key `key` to the field `name` when no
/// field matches exactly: equal under Unicode simple case folding (`bytes.EqualFold`).
/// Our names are ASCII letters, and the only non-ASCII characters that fold to one are
/// U+212A KELVIN SIGN (to `k`) and U+017F LATIN SMALL LETTER LONG S (to `s`).
fn go_field_eq(name: &str, key: &str) -> bool {
    let fold = |c: char| match c {
        '\u{212A}' => 'k',
        '\u{17F}' => 's',
        c => c.to_ascii_lowercase(),
    };
    let mut key = key.chars();
    name.chars().all(|n| {
        key.next()
            .is_some_and(|k| fold(k) == n.to_ascii_lowercase())
    }) && key.next().is_none()
}

/// `null` as `None`, anything else through the seed.
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Nullable<S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or a value")
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

/// A JSON string, borrowed from the input unless it has escapes.
struct BorrowedStr;

impl<'de> DeserializeSeed<'de> for BorrowedStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for BorrowedStr {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

struct DrrSeed<'c>(&'c Ctx);

impl<'de> DeserializeSeed<'de> for DrrSeed<'_> {
    type Value = DrrIn<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.expect("", EXPECT_OBJECT);
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DrrSeed<'_> {
    type Value = DrrIn<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DataRowRecord object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let ctx = self.0;
        let mut drr = DrrIn::default();
        while let Some(field) = map.next_key_seed(FieldSeed(&["Key", "Data"]))? {
            match field {
                Some(0) => {
                    let seed = Nullable(EkrSeed {
                        ctx,
                        paths: &DRR_KEY_PATHS,
                        prev: drr.key.take(),
                    });
                    drr.key = map.next_value_seed(seed)?;
                }
                Some(_) => {
                    ctx.expect("Data", EXPECT_BASE64);
                    let v = map.next_value()?;
                    replace_bytes(&mut drr.data, v, ctx, "Data")?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(drr)
    }
}

/// A key record object, read into what an earlier object for the same field left (Go
/// decodes into the struct a pointer already points to).
struct EkrSeed<'c, 'de> {
    ctx: &'c Ctx,
    paths: &'static Paths,
    prev: Option<EkrIn<'de>>,
}

impl<'de> DeserializeSeed<'de> for EkrSeed<'_, 'de> {
    type Value = EkrIn<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.ctx.expect(self.paths.root, EXPECT_OBJECT);
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EkrSeed<'_, 'de> {
    type Value = EkrIn<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (ctx, p) = (self.ctx, self.paths);
        let mut r = self.prev.unwrap_or_default();
        let fields = &["Revoked", "Created", "Key", "ParentKeyMeta"];
        while let Some(field) = map.next_key_seed(FieldSeed(fields))? {
            match field {
                Some(0) => {
                    let problem = "expected true, false or null";
                    read_scalar(&mut map, ctx, &mut r.revoked, p.revoked, problem)?;
                }
                Some(1) => read_int(&mut map, ctx, &mut r.created, p.created)?,
                Some(2) => {
                    // A []byte: `null` clears it.
                    ctx.expect(p.key, EXPECT_BASE64);
                    let v = map.next_value()?;
                    replace_bytes(&mut r.key, v, ctx, p.key)?;
                }
                Some(_) => {
                    let seed = Nullable(MetaSeed {
                        ctx,
                        paths: p,
                        prev: r.parent.take(),
                    });
                    r.parent = map.next_value_seed(seed)?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

struct MetaSeed<'c, 'de> {
    ctx: &'c Ctx,
    paths: &'static Paths,
    prev: Option<MetaIn<'de>>,
}

impl<'de> DeserializeSeed<'de> for MetaSeed<'_, 'de> {
    type Value = MetaIn<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.ctx.expect(self.paths.parent, EXPECT_OBJECT);
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetaSeed<'_, 'de> {
    type Value = MetaIn<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ParentKeyMeta object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (ctx, p) = (self.ctx, self.paths);
        let mut m = self.prev.unwrap_or_default();
        while let Some(field) = map.next_key_seed(FieldSeed(&["KeyId", "Created"]))? {
            match field {
                Some(0) => {
                    ctx.expect(p.parent_id, "expected a string");
                    if let Some(id) = map.next_value_seed(Nullable(BorrowedStr))? {
                        m.id = Some(id);
                    }
                }
                Some(_) => read_int(&mut map, ctx, &mut m.created, p.parent_created)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(m)
    }
}

/// Appends `n` in decimal, as Go's `encoding/json` writes an int64.
fn push_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `s` as a JSON string literal escaped the way Go's `encoding/json` does by default.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                let v = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((v >> shift) & 0xf) as usize] as char);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(d: &DataRowRecord<'_>) -> (String, i64, Vec<u8>, Vec<u8>) {
        (
            d.ik_id.to_string(),
            d.ik_created,
            d.sealed_drk.to_vec(),
            d.sealed_data.clone(),
        )
    }

    /// The fast path may only take what the general path takes, with the same result.
    fn check_same(json: &[u8]) -> bool {
        let Some(fast) = parse_canonical(json) else {
            return false;
        };
        let general = parse_general(json).unwrap_or_else(|e| {
            panic!(
                "fast path took a record the general path refuses ({e}): {:?}",
                String::from_utf8_lossy(json)
            )
        });
        assert_eq!(
            fields(&fast),
            fields(&general),
            "{:?}",
            String::from_utf8_lossy(json)
        );
        true
    }

    /// Ids that exercise escaping, control characters and every UTF-8 length.
    fn id_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "_IK_[a-z0-9_-]{0,40}_svc_prod",
            "\\PC{0,24}",
            proptest::collection::vec(
                prop_oneof![
                    Just('"'),
                    Just('\\'),
                    Just('<'),
                    Just('\u{1}'),
                    Just('\u{7f}'),
                    Just('é'),
                    Just('\u{2028}'),
                    Just('\u{1F600}'),
                    any::<char>()
                ],
                0..12
            )
            .prop_map(|v| v.into_iter().collect()),
        ]
    }

    fn int_strategy() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(0i64),
            Just(i64::MAX),
            Just(i64::MIN),
            Just(999_999_999_999_999_999),
            Just(1_000_000_000_000_000_000),
            0i64..2_000_000_000,
            any::<i64>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// Base64 as Go reads it: line breaks anywhere and any bits after the last byte
        /// give back the bytes encoded; a byte outside the alphabet, `=`, `\r` and `\n`
        /// anywhere makes it fail; and where the strict decoder succeeds, the answer is its.
        #[test]
        fn base64_read_like_go(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            breaks in proptest::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..4),
            spare in any::<u8>(),
            stray in (any::<prop::sample::Index>(), any::<u8>()),
        ) {
            let mut s = STANDARD.encode_to_string(&data).into_bytes();
            let pad = s.iter().rev().take_while(|&&b| b == b'=').count();
            if pad > 0 {
                let at = s.len() - pad - 1;
                let unused = if pad == 1 { 0b11 } else { 0b1111 };
                let v = base64_value(s[at]).unwrap();
                s[at] = BASE64_ALPHABET[usize::from(v | (spare & unused))];
            }
            for (i, crlf) in breaks {
                let p = i.index(s.len() + 1);
                let brk: &[u8] = if crlf { b"\r\n" } else { b"\n" };
                s.splice(p..p, brk.iter().copied());
            }
            prop_assert_eq!(decode_base64_like_go(&s), Some(data));
            let (i, b) = stray;
            if !(BASE64_ALPHABET.contains(&b) || b"=\r\n".contains(&b)) {
                let mut t = s.clone();
                t.insert(i.index(s.len() + 1), b);
                prop_assert_eq!(decode_base64_like_go(&t), None);
            }
            if let Ok(strict) = STANDARD.decode_to_vec(&s) {
                prop_assert_eq!(decode_base64_like_go(&s), Some(strict));
            }
        }

        /// The depth scan skips string bodies with `memchr`; it answers as a plain byte-by-byte
        /// scan does, for text mixing brackets, quotes and escapes around the limit.
        #[test]
        fn depth_scan_matches_a_byte_scan(
            parts in proptest::collection::vec((0u8..8, 0usize..3_000), 0..12),
        ) {
            let mut json = Vec::new();
            for (kind, n) in parts {
                match kind {
                    0 => json.extend(std::iter::repeat_n(b'[', n * 4)),
                    1 => json.extend(std::iter::repeat_n(b']', n)),
                    2 => json.extend(std::iter::repeat_n(b'{', n * 4)),
                    3 => json.push(b'"'),
                    4 => json.push(b'\\'),
                    5 => json.extend_from_slice(br#"\""#),
                    6 => json.extend(std::iter::repeat_n(b'a', n)),
                    _ => json.extend_from_slice(b"[\"[\\\"]\"]"),
                }
            }
            let byte_scan = {
                let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
                let mut deep = false;
                for &b in &json {
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_string = true,
                        b'[' | b'{' => {
                            depth += 1;
                            if depth > 10_000 {
                                deep = true;
                                break;
                            }
                        }
                        b']' | b'}' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                deep
            };
            prop_assert_eq!(deeper_than_go_reads(&json), byte_scan);
        }

        /// Field names: each of ours matches itself in any mix of cases, with U+212A for a
        /// K; nothing else matches (a letter more or less, another letter).
        #[test]
        fn field_names_match_like_go(
            which in 0usize..6,
            flips in proptest::collection::vec(any::<bool>(), 13),
            kelvin in any::<bool>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let name = ["Key", "Data", "Revoked", "Created", "ParentKeyMeta", "KeyId"][which];
            let folded: String = name
                .chars()
                .zip(&flips)
                .map(|(c, &up)| match c {
                    'k' | 'K' if kelvin => '\u{212A}',
                    c if up => c.to_ascii_uppercase(),
                    c => c.to_ascii_lowercase(),
                })
                .collect();
            prop_assert!(go_field_eq(name, &folded));
            let shorter: String = folded.chars().take(cut.index(name.len())).collect();
            prop_assert!(!go_field_eq(name, &shorter));
            let longer = format!("{folded}s");
            prop_assert!(!go_field_eq(name, &longer));
            // LONG S folds only to an `s`, and none of our names has one.
            let long_s = folded.replacen(|c: char| c.is_ascii_alphabetic(), "\u{17F}", 1);
            prop_assert!(!go_field_eq(name, &long_s));
        }

        /// Every record the writer produces reads back the same on both paths, and the fast
        /// path takes it unless its id needed escaping or its integers are out of its range.
        #[test]
        fn canonical_records_read_back(
            drk_created in int_strategy(),
            ik_created in int_strategy(),
            id in id_strategy(),
            drk in proptest::collection::vec(any::<u8>(), 0..100),
            data in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut id_json = String::new();
            push_json_string(&mut id_json, &id);
            let json = write_data_row_record(drk_created, &drk, &id_json, ik_created, &data);
            let general = parse_general(json.as_bytes()).unwrap();
            prop_assert_eq!(
                fields(&general),
                (id.clone(), ik_created, drk.clone(), data.clone())
            );
            let plain = id_json.len() == id.len() + 2;
            let small = |n: i64| (0..=999_999_999_999_999_999).contains(&n);
            prop_assert_eq!(
                check_same(json.as_bytes()),
                plain && small(drk_created) && small(ik_created)
            );
        }

        /// Mutated records (bytes flipped, inserted, removed; whitespace; swapped fields):
        /// whatever the fast path takes, the general path takes with the same values.
        #[test]
        fn mutated_records_agree(
            id in id_strategy(),
            data in proptest::collection::vec(any::<u8>(), 0..64),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..4),
            key_len in prop_oneof![3 => Just(SEALED_KEY_LEN), 1 => 0usize..100],
        ) {
            let mut id_json = String::new();
            push_json_string(&mut id_json, &id);
            let key = vec![7u8; key_len];
            let mut json = write_data_row_record(1_700_000_000, &key, &id_json, 1_699_999_980, &data)
                .into_bytes();
            const BYTES: &[u8] = b" \"\\:,{}0123456789-.eE+/=AZaz\x00\x1f\x7f\x80\xc3\xa9\xff";
            for (at, kind, b) in edits {
                // Half the edits land next to a structural byte, where the two parsers'
                // rules differ most (a number's first digit, a string's quotes).
                let hot: Vec<usize> = (0..=json.len())
                    .filter(|&i| {
                        let near = |j: usize| json.get(j).is_some_and(|c| b":,\"{}".contains(c));
                        near(i) || (i > 0 && near(i - 1))
                    })
                    .collect();
                let i = if b % 4 < 2 && !hot.is_empty() { hot[at.index(hot.len())] } else { at.index(json.len() + 1) };
                let b = if b % 2 == 0 { BYTES[usize::from(b / 2) % BYTES.len()] } else { b };
                match kind {
                    0 if i < json.len() => json[i] = b,
                    1 => json.insert(i, b),
                    2 if i < json.len() => { json.remove(i); }
                    _ => json.truncate(i),
                }
            }
            check_same(&json);
        }
    }

    #[test]
    fn fast_path_edge_cases() {
        let ok = br#"{"Key":{"Created":0,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":999999999999999999}},"Data":""}"#;
        assert!(check_same(ok));
        // A sealed key of the usual 60 bytes (80 characters) is found without a scan.
        let key80 = "A".repeat(80);
        let usual = format!(
            r#"{{"Key":{{"Created":1,"Key":"{key80}","ParentKeyMeta":{{"KeyId":"_IK_p","Created":1}}}},"Data":"AAAA"}}"#
        );
        assert!(check_same(usual.as_bytes()));
        assert_eq!(
            parse_canonical(usual.as_bytes()).unwrap().sealed_drk.len(),
            SEALED_KEY_LEN
        );
        // A longer key is found by the scan (and refused later, by the open); a key cut
        // short by a stray quote is not canonical.
        let longer = usual.replace(&key80, &format!("{key80}AAAA"));
        assert!(check_same(longer.as_bytes()));
        assert_eq!(
            parse_canonical(longer.as_bytes()).unwrap().sealed_drk.len(),
            63
        );
        let cut = usual.replace(&key80, &format!("{}\"", &key80[..76]));
        assert!(parse_canonical(cut.as_bytes()).is_none());
        for bad in [
            // 19 digits, leading zero, negative, fraction, exponent: left to serde.
            &br#"{"Key":{"Created":1000000000000000000,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":""}"#[..],
            br#"{"Key":{"Created":01,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":""}"#,
            br#"{"Key":{"Created":-1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":""}"#,
            br#"{"Key":{"Created":1.0,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":""}"#,
            br#"{"Key":{"Created":1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1e3}},"Data":""}"#,
            // An escape, a control character, invalid UTF-8 in the id; trailing space; bad base64.
            br#"{"Key":{"Created":1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_\u0070","Created":1}},"Data":""}"#,
            b"{\"Key\":{\"Created\":1,\"Key\":\"AAAA\",\"ParentKeyMeta\":{\"KeyId\":\"_IK_\x01\",\"Created\":1}},\"Data\":\"\"}",
            b"{\"Key\":{\"Created\":1,\"Key\":\"AAAA\",\"ParentKeyMeta\":{\"KeyId\":\"_IK_\xff\",\"Created\":1}},\"Data\":\"\"}",
            br#"{"Key":{"Created":1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":""} "#,
            br#"{"Key":{"Created":1,"Key":"AAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":""}"#,
            br#"{"Key":{"Created":1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":"A\/=="}"#,
            // Data is everything before the last `"}`: a quote or backslash in it is no base64.
            br#"{"Key":{"Created":1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":"AAAA"}"}"#,
            br#"{"Key":{"Created":1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_p","Created":1}},"Data":"AA\"}"#,
        ] {
            assert!(parse_canonical(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
        // serde still reads the escaped and spaced forms.
        assert_eq!(
            parse_data_row_record(br#"{"Key":{"Created":1,"Key":"AAAA","ParentKeyMeta":{"KeyId":"_IK_\u0070","Created":1}},"Data":""}"#)
                .unwrap()
                .ik_id,
            "_IK_p"
        );
    }

    #[test]
    fn go_string_escaping() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c<d>&\n\u{1}\u{2028}é");
        assert_eq!(s, r#""a\"b\\c\u003cd\u003e\u0026\n\u0001\u2028é""#);
    }

    #[test]
    fn key_record_round_trip_and_field_order() {
        let ik = EnvelopeKeyRecord {
            revoked: false,
            created: 1_700_000_000,
            encrypted_key: vec![1, 2, 3],
            parent_key_meta: Some(KeyMeta {
                id: "_SK_s_p".into(),
                created: 1_699_999_980,
            }),
        };
        let json = ik.to_json();
        assert_eq!(
            json,
            r#"{"Created":1700000000,"Key":"AQID","ParentKeyMeta":{"KeyId":"_SK_s_p","Created":1699999980}}"#
        );
        assert_eq!(EnvelopeKeyRecord::from_json(&json).unwrap(), ik);
        let sk = EnvelopeKeyRecord {
            revoked: true,
            created: 60,
            encrypted_key: vec![0xff],
            parent_key_meta: None,
        };
        assert_eq!(
            sk.to_json(),
            r#"{"Revoked":true,"Created":60,"Key":"/w=="}"#
        );
        assert_eq!(EnvelopeKeyRecord::from_json(&sk.to_json()).unwrap(), sk);
    }

    #[test]
    fn data_row_record_layout() {
        let mut id = String::new();
        push_json_string(&mut id, "_IK_p_s_x");
        let json = write_data_row_record(1_700_000_001, &[1], &id, 1_699_999_980, &[2, 3]);
        // Fixed text (the capacity bound in `write_data_row_record` counts on 77 bytes).
        let fixed = json.len() - 20 - id.len() - 4 - 4;
        assert_eq!(fixed, 77);
        let widest = write_data_row_record(i64::MIN, &[1], &id, i64::MIN, &[2, 3]);
        assert_eq!(widest.len(), 77 + 40 + id.len() + 8);
        assert_eq!(
            json,
            r#"{"Key":{"Created":1700000001,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":1699999980}},"Data":"AgM="}"#
        );
        let drr = parse_data_row_record(json.as_bytes()).unwrap();
        assert_eq!((&*drr.ik_id, drr.ik_created), ("_IK_p_s_x", 1_699_999_980));
        assert_eq!(
            (drr.sealed_drk.to_vec(), drr.sealed_data),
            (vec![1], vec![2, 3])
        );
        // Escaped base64 (some encoders write `\/`) still decodes.
        let escaped = br#"{"Key":{"Created":1,"Key":"\/w==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM\u003d"}"#;
        let drr = parse_data_row_record(escaped).unwrap();
        assert_eq!(
            (drr.sealed_drk.to_vec(), drr.sealed_data),
            (vec![0xff], vec![2, 3])
        );
        // What Go's encoding/json reads, and a strict reader would not: each gives the
        // bytes Go gives (checked against libasherah by test-support/interop.cjs).
        let meta = r#""ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}"#;
        for (json, drk, data) in [
            // []byte as an array of byte values; null elements are 0.
            (
                format!(
                    r#"{{"Key":{{"Created":1,"Key":[1,null,255],{meta}}},"Data":[65,103,77,61]}}"#
                ),
                vec![1, 0, 255],
                vec![65, 103, 77, 61],
            ),
            // \r and \n inside base64 are skipped; bits after the last byte are ignored.
            (
                format!(r#"{{"Key":{{"Created":1,"Key":"A\r\nQ==\n",{meta}}},"Data":"Ag\nM="}}"#),
                vec![1],
                vec![2, 3],
            ),
            (
                format!(r#"{{"Key":{{"Created":1,"Key":"AR==",{meta}}},"Data":"AgN="}}"#),
                vec![1],
                vec![2, 3],
            ),
            // Field names match case-insensitively (K also as U+212A KELVIN SIGN).
            (
                r#"{"kEY":{"created":1,"\u212Aey":"AQ==","parentkeymeta":{"KEYID":"_IK_p_s_x","cReAtEd":2}},"data":"AgM="}"#.to_string(),
                vec![1],
                vec![2, 3],
            ),
            // The DRK's Created may be absent, null or -0 (Go reads 0; it is not used).
            (
                format!(r#"{{"Key":{{"Key":"AQ==",{meta}}},"Data":"AgM="}}"#),
                vec![1],
                vec![2, 3],
            ),
            (
                format!(r#"{{"Key":{{"Created":null,"Key":"AQ==",{meta}}},"Data":"AgM="}}"#),
                vec![1],
                vec![2, 3],
            ),
            (
                format!(r#"{{"Key":{{"Created":-0,"Key":"AQ==",{meta}}},"Data":"AgM="}}"#),
                vec![1],
                vec![2, 3],
            ),
            // A field given twice: the last value wins; objects merge; null clears an object
            // or a []byte and leaves a number or string alone.
            (
                format!(
                    r#"{{"Data":"AA==","Key":{{"Created":1,"Key":"AQ==",{meta}}},"Data":"AgM="}}"#
                ),
                vec![1],
                vec![2, 3],
            ),
            (
                r#"{"Key":{"Key":"AA==","ParentKeyMeta":{"KeyId":"x"}},"Key":{"Key":"AQ==","ParentKeyMeta":{"Created":2}},"key":{"ParentKeyMeta":{"KeyId":"_IK_p_s_x","KeyId":null}},"Data":"AgM="}"#.to_string(),
                vec![1],
                vec![2, 3],
            ),
            (
                format!(
                    r#"{{"Key":null,"Key":{{"Key":"AQ==",{meta}}},"Data":null,"Data":"AgM="}}"#
                ),
                vec![1],
                vec![2, 3],
            ),
        ] {
            let drr =
                parse_data_row_record(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!((&*drr.ik_id, drr.ik_created), ("_IK_p_s_x", 2), "{json}");
            assert_eq!(
                (drr.sealed_drk.to_vec(), drr.sealed_data),
                (drk, data),
                "{json}"
            );
        }
        for bad in [
            &br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM"}"#[..],
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"Ag M="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"Ag-_"}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":[256]}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":[1.0]}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2.0}},"Data":"AgM="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":"2"}},"Data":"AgM="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM=","Data":null}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Key":null,"Data":"AgM="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM","Datas":"AgM="}"#,
            // Deeper than Go's scanner reads, in an unknown field.
            format!(r#"{{"x":{}{},"Key":{{"Created":1,"Key":"AQ==",{meta}}},"Data":"AgM="}}"#, "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
            // Go fails a record if any occurrence of a []byte field does not decode.
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"!!","Data":"AgM="}"#,
            br#"{"Key":{"Created":1,"Key":"A","Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Key":{"Key":"A="},"Data":"AgM="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":null}"#,
            b"{",
            b"{}",
            br#"{"Key":{"Created":1,"Key":"AQ=="},"Data":"AA=="}"#,
            br#"{"Key":null}"#,
        ] {
            assert_eq!(
                parse_data_row_record(bad).err().unwrap().kind(),
                crate::ErrorKind::MalformedRecord
            );
        }
    }

    /// Secret-looking values in every position: the message names the field and the
    /// problem, is bounded, and quotes none of them.
    #[test]
    fn errors_quote_no_input() {
        const SECRETS: [&str; 4] = ["078-05-1120", "78051120", "SECRET", "hunter2"];
        let valid = r#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM="}"#;
        let cases: Vec<(String, &str)> = vec![
            (
                r#""my secret ssn 078-05-1120 SECRET""#.into(),
                "expected a JSON object",
            ),
            ("78051120".into(), "expected a JSON object"),
            ("[\"SECRET 078-05-1120\"]".into(), "expected a JSON object"),
            (
                valid.replace(r#"{"Created":1,"#, r#"{"Created":"SECRET 078-05-1120","#),
                "Key.Created: expected a 64-bit integer",
            ),
            (
                valid.replace(
                    r#"{"Created":1,"#,
                    r#"{"Created":78051120780511207805112078051120,"#,
                ),
                "Key.Created: expected a 64-bit integer",
            ),
            (
                valid.replace(r#"{"Created":1,"#, r#"{"Created":9223372078051120000,"#),
                "Key.Created: expected a 64-bit integer",
            ),
            (
                valid.replace(r#"{"Created":1,"#, r#"{"Created":7805112.0,"#),
                "Key.Created: expected a 64-bit integer",
            ),
            (
                valid.replace(r#""KeyId":"_IK_p_s_x""#, r#""KeyId":78051120"#),
                "Key.ParentKeyMeta.KeyId: expected a string",
            ),
            (
                valid.replace(
                    r#""KeyId":"_IK_p_s_x""#,
                    r#""KeyId":{"SECRET":"078-05-1120"}"#,
                ),
                "Key.ParentKeyMeta.KeyId: expected a string",
            ),
            (
                valid.replace(r#""Created":2}"#, r#""Created":"SECRET"}"#),
                "Key.ParentKeyMeta.Created: expected a 64-bit integer",
            ),
            (
                valid.replace(r#""Data":"AgM=""#, r#""Data":78051120"#),
                "Data: expected a base64 string or an array of bytes",
            ),
            (
                valid.replace(r#""Data":"AgM=""#, r#""Data":{"SECRET":1}"#),
                "Data: expected a base64 string or an array of bytes",
            ),
            (
                valid.replace(r#""Key":"AQ==""#, r#""Key":78051120"#),
                "Key.Key: expected a base64 string",
            ),
            (
                valid.replace(r#""Key":"AQ==""#, r#""Key":["SECRET"]"#),
                "Key.Key: expected a base64 string",
            ),
            (
                valid
                    .replace(r#""Key":{"Created""#, r#""Key":"SECRET 078-05-1120""#)
                    .replace(
                        r#","Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}}"#,
                        "",
                    ),
                "Key: expected a JSON object",
            ),
            (
                valid.replace(r#"{"Created":1,"#, r#"{"Revoked":"SECRET","Created":1,"#),
                "Key.Revoked: expected true, false or null",
            ),
            (
                valid.replace(r#""Data":"AgM=""#, r#""Data":"SECRET 078-05-1120""#),
                "Data is not valid base64",
            ),
            (
                valid.replace(
                    r#""Data":"AgM=""#,
                    r#""Data":"AgM=","Data":"SECRET 078-05-1120""#,
                ),
                "Data is not valid base64",
            ),
            (
                valid.replace(r#""Key":"AQ==""#, r#""Key":[1,"SECRET"]"#),
                "Key.Key: expected a base64 string or an array of bytes",
            ),
            (
                valid.replace(r#""Created":2}"#, r#""SECRET":"078-05-1120"}"#),
                "Key.ParentKeyMeta.Created is missing",
            ),
            (format!("{valid} SECRET 078-05-1120"), "trailing characters"),
            (
                valid.replace("AgM=", r"SECRET\q078-05-1120"),
                "invalid escape",
            ),
            (
                valid.replace("AgM=", "SECRET\u{1}078-05-1120"),
                "Data is not valid base64",
            ),
            (
                format!("{}{}", "[".repeat(100_000), "\"SECRET\""),
                "nested deeper than 10000 levels",
            ),
            (
                format!(
                    r#"{{"x":{}"SECRET"{}}}"#,
                    "[".repeat(10_000),
                    "]".repeat(10_000)
                ),
                "nested deeper than 10000 levels",
            ),
            (
                format!(r#""{}""#, "SECRET 078-05-1120 ".repeat(60_000)),
                "expected a JSON object",
            ),
            (
                format!(r#"{{"Key":"{}"}}"#, "SECRET 078-05-1120 ".repeat(60_000)),
                "Key: expected a JSON object",
            ),
        ];
        for (input, want) in &cases {
            let e = parse_data_row_record(input.as_bytes()).err().unwrap();
            assert_eq!(e.kind(), crate::ErrorKind::MalformedRecord, "{input:.80}");
            check(&e, want, &SECRETS);
            // The same record text as a stored key record (where the paths have no `Key.`).
            if let Err(e) = EnvelopeKeyRecord::from_json(input) {
                assert_eq!(e.kind(), crate::ErrorKind::Metastore);
                check(&e, "", &SECRETS);
            }
        }
        let ekr = r#"{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_SK_s_p","Created":2}}"#;
        for (input, want) in [
            (
                ekr.replace(r#""Created":1"#, r#""Created":"SECRET""#),
                "unparseable key record: Created: expected a 64-bit integer at line 1 column",
            ),
            (
                ekr.replace(r#""KeyId":"_SK_s_p""#, r#""KeyId":78051120"#),
                "ParentKeyMeta.KeyId: expected a string",
            ),
            (
                ekr.replace(r#""Key":"AQ==""#, r#""Key":"SECRET""#),
                "key record: Key is not valid base64",
            ),
            (
                ekr.replace(r#""Key":"AQ==","#, ""),
                "unparseable key record: Key: missing",
            ),
            (
                ekr.replace('{', "").replace("AQ==", "SECRET 078-05-1120"),
                "expected a JSON object",
            ),
        ] {
            let e = EnvelopeKeyRecord::from_json(&input).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Metastore);
            check(&e, want, &SECRETS);
        }
    }

    fn check(e: &Error, want: &str, secrets: &[&str]) {
        let m = e.message();
        assert!(m.contains(want), "{m:?} lacks {want:?}");
        assert!(
            m.len() <= crate::error::MAX_MESSAGE_LEN,
            "{} bytes",
            m.len()
        );
        for s in secrets {
            assert!(!m.contains(s), "{m:?} quotes {s:?}");
        }
    }
}
