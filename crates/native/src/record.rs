//! JSON in and out, exactly as Go's `encoding/json` writes Asherah's structs.
//!
//! Output is written by hand, in Go's field order, with standard padded base64 and Go's
//! string escaping (which also escapes `<`, `>`, `&`, U+2028 and U+2029):
//! DataRowRecord `{"Key":{"Created":..,"Key":"..","ParentKeyMeta":{"KeyId":"..","Created":..}},"Data":".."}`,
//! EnvelopeKeyRecord `{"Revoked":true,"Created":..,"Key":"..","ParentKeyMeta":{..}}` where
//! `Revoked` appears only when true and `ParentKeyMeta` only when present (system keys have
//! none). Input is parsed with serde, borrowing from the caller's buffer. Base64 is
//! `base64-simd` (SIMD with runtime CPU detection): a 1 MiB record's `Data` field is most of
//! the bytes an encrypt writes and a decrypt reads, so it is encoded straight into the
//! pre-sized output `String` and decoded straight into the buffer GCM then opens in place.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use base64_simd::STANDARD;
use serde::de::{Deserializer, Error as _, Visitor};
use serde::Deserialize;

use crate::error::Error;

/// A key's identity: id and created (unix seconds). JSON: `{"KeyId":..,"Created":..}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
pub struct KeyMeta {
    #[serde(rename = "KeyId")]
    pub id: String,
    #[serde(rename = "Created")]
    pub created: i64,
}

/// A key record as stored in the metastore: the key is *encrypted* (under the KMS for a
/// system key, under a system key for an intermediate key), so this type holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeKeyRecord {
    pub revoked: bool,
    pub created: i64,
    pub encrypted_key: Vec<u8>,
    pub parent_key_meta: Option<KeyMeta>,
}

#[derive(Deserialize)]
struct EkrIn<'a> {
    #[serde(rename = "Revoked", default)]
    revoked: Option<bool>,
    #[serde(rename = "Created")]
    created: i64,
    #[serde(rename = "Key", borrow)]
    key: Base64Str<'a>,
    #[serde(rename = "ParentKeyMeta", default, borrow)]
    parent: Option<MetaIn<'a>>,
}

#[derive(Deserialize)]
struct MetaIn<'a> {
    #[serde(rename = "KeyId", borrow)]
    id: Cow<'a, str>,
    #[serde(rename = "Created")]
    created: i64,
}

#[derive(Deserialize)]
struct DrrIn<'a> {
    #[serde(rename = "Key", borrow)]
    key: Option<EkrIn<'a>>,
    #[serde(rename = "Data", borrow)]
    data: Option<Base64Str<'a>>,
}

/// A JSON string holding base64: its raw bytes, borrowed from the input unless it has
/// escapes (which are decoded, e.g. `\/`). Read with `deserialize_bytes`, so serde_json finds
/// the closing quote with `memchr` and neither copies the string nor checks it for UTF-8 or
/// control characters: the strict base64 decoder that always follows rejects every byte
/// outside the alphabet. (A plain `Option<Cow<str>>` would not even borrow: serde copies it
/// into a `String`, a 1.4 MB copy for a 1 MiB record.) JSON arrays are refused.
struct Base64Str<'a>(Cow<'a, [u8]>);

impl<'de: 'a, 'a> Deserialize<'de> for Base64Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, [u8]>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_vec()))
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v.as_bytes()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.as_bytes().to_vec()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                _: A,
            ) -> Result<Self::Value, A::Error> {
                Err(A::Error::invalid_type(serde::de::Unexpected::Seq, &self))
            }
        }
        deserializer.deserialize_bytes(V).map(Base64Str)
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
        let _ = write!(out, "\"Created\":{},\"Key\":\"", self.created);
        STANDARD.encode_append(&self.encrypted_key, &mut out);
        out.push('"');
        if let Some(meta) = &self.parent_key_meta {
            out.push_str(",\"ParentKeyMeta\":{\"KeyId\":");
            push_json_string(&mut out, &meta.id);
            let _ = write!(out, ",\"Created\":{}}}", meta.created);
        }
        out.push('}');
        out
    }

    /// Parses a stored key record.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let r: EkrIn<'_> = serde_json::from_str(json)
            .map_err(|e| Error::metastore(format!("unparseable key record: {e}")))?;
        let encrypted_key = STANDARD
            .decode_to_vec(&r.key.0)
            .map_err(|_| Error::metastore("key record: Key is not valid base64"))?;
        Ok(EnvelopeKeyRecord {
            revoked: r.revoked.unwrap_or(false),
            created: r.created,
            encrypted_key,
            parent_key_meta: r.parent.map(|m| KeyMeta {
                id: m.id.into_owned(),
                created: m.created,
            }),
        })
    }
}

/// A parsed DataRowRecord, base64 decoded; borrows the key id from the input.
pub(crate) struct DataRowRecord<'a> {
    pub(crate) ik_id: Cow<'a, str>,
    pub(crate) ik_created: i64,
    pub(crate) sealed_drk: Vec<u8>,
    pub(crate) sealed_data: Vec<u8>,
}

/// Parses a DataRowRecord; any structural problem is `MalformedRecord`.
pub(crate) fn parse_data_row_record(json: &[u8]) -> Result<DataRowRecord<'_>, Error> {
    let drr: DrrIn<'_> =
        serde_json::from_slice(json).map_err(|e| Error::malformed(format!("invalid JSON: {e}")))?;
    let key = drr
        .key
        .ok_or_else(|| Error::malformed("datarow key record cannot be empty"))?;
    let parent = key
        .parent
        .ok_or_else(|| Error::malformed("parent key cannot be empty"))?;
    let data = drr
        .data
        .ok_or_else(|| Error::malformed("Data is missing"))?;
    let sealed_drk = STANDARD
        .decode_to_vec(&key.key.0)
        .map_err(|_| Error::malformed("Key.Key is not valid base64"))?;
    let sealed_data = STANDARD
        .decode_to_vec(&data.0)
        .map_err(|_| Error::malformed("Data is not valid base64"))?;
    Ok(DataRowRecord {
        ik_id: parent.id,
        ik_created: parent.created,
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
    let b64 = |n: usize| n.div_ceil(3) * 4;
    // 77 bytes of fixed text and two i64s (at most 20 characters each): the exact worst
    // case, so the record is never reallocated (and a 1 MiB record never copied) midway.
    let capacity = 77 + 2 * 20 + ik_id_json.len() + b64(sealed_drk.len()) + b64(sealed_data.len());
    let mut out = String::with_capacity(capacity);
    let _ = write!(out, "{{\"Key\":{{\"Created\":{drk_created},\"Key\":\"");
    STANDARD.encode_append(sealed_drk, &mut out);
    out.push_str("\",\"ParentKeyMeta\":{\"KeyId\":");
    out.push_str(ik_id_json);
    let _ = write!(out, ",\"Created\":{ik_created}}}}},\"Data\":\"");
    STANDARD.encode_append(sealed_data, &mut out);
    out.push_str("\"}");
    debug_assert!(out.len() <= capacity, "record outgrew its capacity");
    out
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
        assert_eq!((drr.sealed_drk, drr.sealed_data), (vec![1], vec![2, 3]));
        // Escaped base64 (some encoders write `\/`) still decodes; arrays are refused.
        let escaped = br#"{"Key":{"Created":1,"Key":"\/w==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM\u003d"}"#;
        let drr = parse_data_row_record(escaped).unwrap();
        assert_eq!((drr.sealed_drk, drr.sealed_data), (vec![0xff], vec![2, 3]));
        for bad in [
            &br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":[65,103,77,61]}"#[..],
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"Ag\nM="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgN="}"#,
            br#"{"Key":{"Created":1,"Key":"AQ==","ParentKeyMeta":{"KeyId":"_IK_p_s_x","Created":2}},"Data":"AgM"}"#,
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
}
