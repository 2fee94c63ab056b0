//! AES-256-GCM in Asherah's layout: `ciphertext || tag (16) || nonce (12)`, a random 12-byte
//! nonce from the OS CSPRNG, no associated data. This is byte-for-byte what Go's
//! `aead.AES256GCM` produces, so either side opens what the other sealed. Sealing appends to
//! a caller's buffer (encrypting from the input straight into it); opening works in place, so
//! a decrypt allocates once (for the base64 decode) and a data-row key is unwrapped straight
//! into locked memory.
//!
//! Two implementations of the same AEAD, each where it is fastest. Keys (32-byte data-row,
//! intermediate and system keys) are sealed and opened with RustCrypto's `aes-gcm`, whose
//! key schedules live in locked memory and are wiped on drop. A record's *data* is sealed
//! and opened with `ring` ([`DataCipher`]), whose x86-64 code stitches AES and GHASH and uses
//! VAES/VPCLMULQDQ where the CPU has them: 1 MiB seals in 167 µs against `aes-gcm`'s 657 µs
//! on the benchmark box (docs/performance.md, "Issue 15"). Both write the same bytes; the
//! tests below seal with one and open with the other.
#![forbid(unsafe_code)]

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use aes_gcm::aes::Aes256Enc;
use aes_gcm::{AesGcm, KeyInit};

use ring::aead::{Aad, LessSafeKey, Nonce as RingNonce, UnboundKey, AES_256_GCM};

use crate::error::{Error, ErrorKind};
use crate::keys::KeyBytes;
use crate::locked::Locked;

/// AES-256-GCM (`aes-gcm`) over an encrypt-only AES key schedule. GCM runs AES forwards
/// only (counter mode and the tag mask), so the inverse round keys that `aes::Aes256` (the
/// cipher behind `aes_gcm::Aes256Gcm`) derives on every key setup are never used: leaving
/// them out halves the schedule to build, hold in a locked slot, and wipe. Same bytes out.
pub(crate) type KeyCipher = AesGcm<Aes256Enc, U12>;

pub(crate) const KEY_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;
/// Bytes added to a plaintext by [`seal_into`].
pub(crate) const OVERHEAD: usize = TAG_LEN + NONCE_LEN;
/// Length of a sealed 32-byte key.
pub(crate) const SEALED_KEY_LEN: usize = KEY_LEN + OVERHEAD;

/// Appends `seal(plaintext)` to `out` as `ciphertext || tag || nonce`.
pub(crate) fn seal_into(
    cipher: &KeyCipher,
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let start = out.len();
    out.resize(start + plaintext.len() + OVERHEAD, 0);
    seal_to(cipher, nonce, plaintext, &mut out[start..])
}

/// Writes `seal(plaintext)` as `ciphertext || tag || nonce` into `out`, which must be exactly
/// `plaintext.len() + OVERHEAD` bytes long (a caller's stack array for small values, so a
/// record of small data needs no heap buffer for its sealed parts).
///
/// It encrypts from `plaintext` into `out` rather than copying it in and encrypting in
/// place: one pass less over the data (1 MiB: ~9 µs), and a sealed key's plaintext is never
/// copied into the output buffer, not even transiently.
pub(crate) fn seal_to(
    cipher: &KeyCipher,
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    assert_eq!(
        out.len(),
        plaintext.len() + OVERHEAD,
        "seal_to: output length"
    );
    let (ct, rest) = out.split_at_mut(plaintext.len());
    let buffer = InOutBuf::new(plaintext, ct).expect("equal lengths");
    let tag = cipher
        .encrypt_inout_detached(nonce.into(), b"", buffer)
        .map_err(|_| Error::internal("AES-GCM seal failed (plaintext too long)"))?;
    let (tag_out, nonce_out) = rest.split_at_mut(TAG_LEN);
    tag_out.copy_from_slice(&tag);
    nonce_out.copy_from_slice(nonce);
    Ok(())
}

/// Opens `sealed` in place: on success the plaintext is `sealed[..len - OVERHEAD]` and its
/// length is returned. On failure the buffer holds garbage and the error is `DecryptFailed`.
pub(crate) fn open_in_place(cipher: &KeyCipher, sealed: &mut [u8]) -> Result<usize, Error> {
    check_sealed_len(sealed)?;
    let ct_len = sealed.len() - OVERHEAD;
    let (ct, rest) = sealed.split_at_mut(ct_len);
    let (tag, nonce) = rest.split_at(TAG_LEN);
    cipher
        .decrypt_inout_detached(nonce_of(nonce), b"", ct.into(), tag_of(tag))
        .map_err(|_| Error::new(ErrorKind::DecryptFailed, "authentication failed"))?;
    Ok(ct_len)
}

/// A sealed value holds at least a tag and a nonce.
fn check_sealed_len(sealed: &[u8]) -> Result<(), Error> {
    if sealed.len() < OVERHEAD {
        return Err(Error::new(
            ErrorKind::MalformedRecord,
            format!("ciphertext too short ({} bytes)", sealed.len()),
        ));
    }
    Ok(())
}

/// Opens a sealed 32-byte key directly into locked memory.
pub(crate) fn open_key(cipher: &KeyCipher, sealed: &[u8]) -> Result<KeyBytes, Error> {
    if sealed.len() != SEALED_KEY_LEN {
        return Err(Error::new(
            ErrorKind::MalformedRecord,
            format!(
                "sealed key must be {SEALED_KEY_LEN} bytes, got {}",
                sealed.len()
            ),
        ));
    }
    let mut key = KeyBytes::zeroed();
    key.copy_from_slice(&sealed[..KEY_LEN]);
    let tag = tag_of(&sealed[KEY_LEN..KEY_LEN + TAG_LEN]);
    let nonce = nonce_of(&sealed[KEY_LEN + TAG_LEN..]);
    cipher
        .decrypt_inout_detached(nonce, b"", (&mut key[..]).into(), tag)
        .map_err(|_| Error::new(ErrorKind::DecryptFailed, "key authentication failed"))?;
    Ok(key)
}

/// Data shorter than this is sealed and opened with `aes-gcm`, whose key setup is cheaper
/// (135 against ring's 200 ns, plus a locked slot); from here `ring`'s faster bulk code
/// wins (256 bytes: about even; 1 KiB: 0.45 against 0.88 µs with key setup).
pub(crate) const RING_MIN: usize = 256;

/// Seals a record's data under its data-row key, appending to `out` (see [`RING_MIN`]).
pub(crate) fn seal_data(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    if plaintext.len() < RING_MIN {
        // A stack value; aes-gcm's `zeroize` feature wipes the schedule on drop.
        seal_into(&KeyCipher::new(key.into()), nonce, plaintext, out)
    } else {
        DataCipher::new(key).seal_into(nonce, plaintext, out)
    }
}

/// Seals data shorter than [`RING_MIN`] under a data-row key into `out`, exactly
/// `plaintext.len() + OVERHEAD` bytes (see [`seal_to`]).
pub(crate) fn seal_small_data(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    debug_assert!(plaintext.len() < RING_MIN);
    // A stack value; aes-gcm's `zeroize` feature wipes the schedule on drop.
    seal_to(&KeyCipher::new(key.into()), nonce, plaintext, out)
}

/// Opens a record's sealed data in place under its data-row key (see [`RING_MIN`]).
pub(crate) fn open_data(key: &[u8; KEY_LEN], sealed: &mut [u8]) -> Result<usize, Error> {
    if sealed.len() < RING_MIN + OVERHEAD {
        open_in_place(&KeyCipher::new(key.into()), sealed)
    } else {
        DataCipher::new(key).open_in_place(sealed)
    }
}

/// Opens a record's data whose ciphertext `ct` sits apart from its tag and nonce (the
/// ciphertext already where the plaintext is wanted, see `b64::decode_split`), in place
/// under its data-row key: on success `ct` holds the plaintext. The same AEAD choice as
/// [`open_data`] by the same length. On failure `ct` holds ciphertext (`aes-gcm` checks the
/// tag first) or zeros (`ring` clears what it decrypted), never plaintext.
pub(crate) fn open_data_split(
    key: &[u8; KEY_LEN],
    ct: &mut [u8],
    tag: &[u8; TAG_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Result<(), Error> {
    let opened = if ct.len() < RING_MIN {
        KeyCipher::new(key.into())
            .decrypt_inout_detached(nonce_of(nonce), b"", ct.into(), tag_of(tag))
            .is_ok()
    } else {
        DataCipher::new(key).open_split(ct, tag, nonce).is_ok()
    };
    if !opened {
        return Err(Error::new(
            ErrorKind::DecryptFailed,
            "authentication failed",
        ));
    }
    Ok(())
}

/// A data-row key as `ring`'s AES-256-GCM, for a record's data (see the module doc).
///
/// It lives in a locked slot, wiped when dropped. `ring` builds the key schedule on the
/// stack before it is moved there, and does not wipe that copy: a data-row key protects one
/// record, and its sealed form is in that record, so this is the same residual exposure the
/// locked module documents for the `aes-gcm` schedules.
struct DataCipher(Locked<LessSafeKey>);

impl DataCipher {
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, key).expect("AES-256 takes 32-byte keys");
        DataCipher(Locked::new(LessSafeKey::new(unbound)))
    }

    /// Appends `seal(plaintext)` to `out` as `ciphertext || tag || nonce`.
    pub(crate) fn seal_into(
        &self,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        out.reserve(plaintext.len() + OVERHEAD);
        out.extend_from_slice(plaintext);
        let tag = self
            .0
            .seal_in_place_separate_tag(
                RingNonce::assume_unique_for_key(*nonce),
                Aad::empty(),
                &mut out[start..],
            )
            .map_err(|_| Error::internal("AES-GCM seal failed (plaintext too long)"))?;
        out.extend_from_slice(tag.as_ref());
        out.extend_from_slice(nonce);
        Ok(())
    }

    /// Opens `ct` in place with its tag and nonce given apart (see [`open_data_split`]).
    fn open_split(
        &self,
        ct: &mut [u8],
        tag: &[u8; TAG_LEN],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<(), ring::error::Unspecified> {
        self.0
            .open_in_place_separate_tag(
                RingNonce::assume_unique_for_key(*nonce),
                Aad::empty(),
                ring::aead::Tag::from(*tag),
                ct,
                0..,
            )
            .map(|_| ())
    }

    /// Opens `sealed` in place, as [`open_in_place`] does.
    pub(crate) fn open_in_place(&self, sealed: &mut [u8]) -> Result<usize, Error> {
        check_sealed_len(sealed)?;
        let (ct_and_tag, nonce) = sealed.split_at_mut(sealed.len() - NONCE_LEN);
        let nonce = RingNonce::try_assume_unique_for_key(nonce).expect("NONCE_LEN bytes");
        let plain = self
            .0
            .open_in_place(nonce, Aad::empty(), ct_and_tag)
            .map_err(|_| Error::new(ErrorKind::DecryptFailed, "authentication failed"))?;
        Ok(plain.len())
    }
}

/// `bytes` (exactly `NONCE_LEN` long, by the callers' slicing) as a nonce.
fn nonce_of(bytes: &[u8]) -> &Nonce<KeyCipher> {
    bytes.try_into().expect("nonce slice is NONCE_LEN bytes")
}

/// `bytes` (exactly `TAG_LEN` long, by the callers' slicing) as a tag.
fn tag_of(bytes: &[u8]) -> &Tag<KeyCipher> {
    bytes.try_into().expect("tag slice is TAG_LEN bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_round_trip() {
        let cipher = KeyCipher::new_from_slice(&[1u8; 32]).unwrap();
        let nonce = [9u8; NONCE_LEN];
        let mut out = b"prefix".to_vec();
        seal_into(&cipher, &nonce, b"hello", &mut out).unwrap();
        assert_eq!(out.len(), 6 + 5 + OVERHEAD);
        assert_eq!(&out[out.len() - NONCE_LEN..], &nonce);
        let mut sealed = out[6..].to_vec();
        let n = open_in_place(&cipher, &mut sealed).unwrap();
        assert_eq!(&sealed[..n], b"hello");
        for i in 0..out.len() - 6 {
            let mut bad = out[6..].to_vec();
            bad[i] ^= 1;
            assert_eq!(
                open_in_place(&cipher, &mut bad).unwrap_err().kind(),
                ErrorKind::DecryptFailed
            );
        }
    }

    /// Both sides of the threshold round-trip, and each side opens what the other sealed.
    #[test]
    fn seal_data_and_open_data_across_the_threshold() {
        let key = [0x11u8; 32];
        let nonce = [4u8; NONCE_LEN];
        for len in RING_MIN - 3..RING_MIN + 3 {
            let plain = vec![0xabu8; len];
            let mut sealed = Vec::new();
            seal_data(&key, &nonce, &plain, &mut sealed).unwrap();
            let mut by_ring = sealed.clone();
            let mut by_rustcrypto = sealed.clone();
            let n = open_data(&key, &mut sealed).unwrap();
            assert_eq!(&sealed[..n], &plain[..]);
            let n = DataCipher::new(&key).open_in_place(&mut by_ring).unwrap();
            assert_eq!(&by_ring[..n], &plain[..]);
            let cipher = KeyCipher::new_from_slice(&key).unwrap();
            let n = open_in_place(&cipher, &mut by_rustcrypto).unwrap();
            assert_eq!(&by_rustcrypto[..n], &plain[..]);
        }
    }

    /// `ring` and `aes-gcm` write the same bytes and open each other's output, at every
    /// length around the AES block and the stitched code's 96- and 256-byte strides.
    #[test]
    fn data_cipher_matches_aes_gcm() {
        let key = [0x5au8; 32];
        let rustcrypto = KeyCipher::new_from_slice(&key).unwrap();
        let ring = DataCipher::new(&key);
        let nonce = [3u8; NONCE_LEN];
        for len in (0..600).chain([4095, 4096, 4097, 65_536, 1 << 20]) {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            seal_into(&rustcrypto, &nonce, &plain, &mut a).unwrap();
            ring.seal_into(&nonce, &plain, &mut b).unwrap();
            assert_eq!(a, b, "length {len}");
            let n = ring.open_in_place(&mut a).unwrap();
            assert_eq!(&a[..n], &plain[..]);
            let n = open_in_place(&rustcrypto, &mut b).unwrap();
            assert_eq!(&b[..n], &plain[..]);
        }
        let mut short = vec![0u8; OVERHEAD - 1];
        assert_eq!(
            ring.open_in_place(&mut short).unwrap_err().kind(),
            ErrorKind::MalformedRecord
        );
        let mut sealed = Vec::new();
        ring.seal_into(&nonce, b"hello", &mut sealed).unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x80;
            assert_eq!(
                ring.open_in_place(&mut bad).unwrap_err().kind(),
                ErrorKind::DecryptFailed
            );
        }
    }
}
