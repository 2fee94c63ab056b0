//! AES-256-GCM in Asherah's layout: `ciphertext || tag (16) || nonce (12)`, a random 12-byte
//! nonce from the OS CSPRNG, no associated data. This is byte-for-byte what Go's
//! `aead.AES256GCM` produces, so either side opens what the other sealed. Sealing appends to
//! a caller's buffer (encrypting from the input straight into it); opening works in place, so
//! a decrypt allocates once (for the base64 decode) and a data-row key is unwrapped straight
//! into locked memory.
#![forbid(unsafe_code)]

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use aes_gcm::Aes256Gcm;

use crate::error::{Error, ErrorKind};
use crate::keys::KeyBytes;

pub(crate) const KEY_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;
/// Bytes added to a plaintext by [`seal_into`].
pub(crate) const OVERHEAD: usize = TAG_LEN + NONCE_LEN;
/// Length of a sealed 32-byte key.
pub(crate) const SEALED_KEY_LEN: usize = KEY_LEN + OVERHEAD;

/// Appends `seal(plaintext)` to `out` as `ciphertext || tag || nonce`.
pub(crate) fn seal_into(
    cipher: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let start = out.len();
    out.reserve(plaintext.len() + OVERHEAD);
    // Encrypt from `plaintext` into zeroed space rather than copying it in and encrypting in
    // place: one pass less over the data (1 MiB: ~9 µs), and a sealed key's plaintext is
    // never copied into this heap buffer, not even transiently.
    out.resize(start + plaintext.len(), 0);
    let buffer = InOutBuf::new(plaintext, &mut out[start..]).expect("equal lengths");
    let tag = cipher
        .encrypt_inout_detached(nonce.into(), b"", buffer)
        .map_err(|_| Error::internal("AES-GCM seal failed (plaintext too long)"))?;
    out.extend_from_slice(&tag);
    out.extend_from_slice(nonce);
    Ok(())
}

/// Opens `sealed` in place: on success the plaintext is `sealed[..len - OVERHEAD]` and its
/// length is returned. On failure the buffer holds garbage and the error is `DecryptFailed`.
pub(crate) fn open_in_place(cipher: &Aes256Gcm, sealed: &mut [u8]) -> Result<usize, Error> {
    if sealed.len() < OVERHEAD {
        return Err(Error::new(
            ErrorKind::MalformedRecord,
            format!("ciphertext too short ({} bytes)", sealed.len()),
        ));
    }
    let ct_len = sealed.len() - OVERHEAD;
    let (ct, rest) = sealed.split_at_mut(ct_len);
    let (tag, nonce) = rest.split_at(TAG_LEN);
    cipher
        .decrypt_inout_detached(nonce_of(nonce), b"", ct.into(), tag_of(tag))
        .map_err(|_| Error::new(ErrorKind::DecryptFailed, "authentication failed"))?;
    Ok(ct_len)
}

/// Opens a sealed 32-byte key directly into locked memory.
pub(crate) fn open_key(cipher: &Aes256Gcm, sealed: &[u8]) -> Result<KeyBytes, Error> {
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

/// `bytes` (exactly `NONCE_LEN` long, by the callers' slicing) as a nonce.
fn nonce_of(bytes: &[u8]) -> &Nonce<Aes256Gcm> {
    bytes.try_into().expect("nonce slice is NONCE_LEN bytes")
}

/// `bytes` (exactly `TAG_LEN` long, by the callers' slicing) as a tag.
fn tag_of(bytes: &[u8]) -> &Tag<Aes256Gcm> {
    bytes.try_into().expect("tag slice is TAG_LEN bytes")
}

#[cfg(test)]
mod tests {
    use aes_gcm::KeyInit;

    use super::*;

    #[test]
    fn layout_and_round_trip() {
        let cipher = Aes256Gcm::new_from_slice(&[1u8; 32]).unwrap();
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
}
