//! Secret keys: raw 32-byte keys ([`KeyBytes`]) and ready-to-use ciphers ([`CryptoKey`]),
//! both in locked, zero-on-drop memory (see `locked.rs`). A `CryptoKey` is what the caches
//! hold for system and intermediate keys: the AES-GCM key schedule is expanded once when the
//! key is loaded, so the hot path never re-derives it; the raw bytes are dropped (and wiped)
//! as soon as the schedule is built. Neither type prints its contents.
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use aes_gcm::KeyInit;

use crate::aead::KeyCipher;

use crate::error::Error;
use crate::locked::Locked;

/// A raw 256-bit key in locked memory, wiped on drop.
pub(crate) type KeyBytes = Locked<[u8; 32]>;

/// Fills a fresh locked key from the OS CSPRNG (no stack copy of the key exists).
pub(crate) fn random_key() -> Result<KeyBytes, Error> {
    let mut key = KeyBytes::zeroed();
    getrandom::getrandom(&mut key[..])?;
    Ok(key)
}

/// The AES-256-GCM key schedule for `key`, in locked memory.
pub(crate) fn cipher_for(key: &KeyBytes) -> Locked<KeyCipher> {
    Locked::new(KeyCipher::new((&**key).into()))
}

/// A system or intermediate key ready for use: created timestamp, revoked flag, cipher.
pub(crate) struct CryptoKey {
    created: i64,
    revoked: AtomicBool,
    cipher: Locked<KeyCipher>,
}

impl CryptoKey {
    pub(crate) fn new(created: i64, revoked: bool, key: &KeyBytes) -> Self {
        CryptoKey {
            created,
            revoked: AtomicBool::new(revoked),
            cipher: cipher_for(key),
        }
    }

    pub(crate) fn created(&self) -> i64 {
        self.created
    }

    pub(crate) fn revoked(&self) -> bool {
        self.revoked.load(Ordering::Relaxed)
    }

    pub(crate) fn set_revoked(&self, revoked: bool) {
        self.revoked.store(revoked, Ordering::Relaxed)
    }

    pub(crate) fn cipher(&self) -> &KeyCipher {
        &self.cipher
    }

    /// Go's `IsKeyInvalid`: revoked, or `now` is past `created + expire_after`.
    pub(crate) fn is_invalid(&self, now: i64, expire_after_secs: i64) -> bool {
        self.revoked() || is_expired(self.created, now, expire_after_secs)
    }
}

impl fmt::Debug for CryptoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoKey")
            .field("created", &self.created)
            .field("revoked", &self.revoked())
            .finish_non_exhaustive()
    }
}

/// Go's `IsKeyExpired`: `now` strictly after `created + expire_after`.
pub(crate) fn is_expired(created: i64, now: i64, expire_after_secs: i64) -> bool {
    now > created.saturating_add(expire_after_secs)
}

/// Go's `newKeyTimestamp` with minute precision: IK and SK `Created` values.
pub(crate) fn minute_timestamp(now: i64) -> i64 {
    now - now.rem_euclid(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_expiry() {
        assert_eq!(minute_timestamp(1_699_999_980 + 59), 1_699_999_980);
        assert_eq!(minute_timestamp(1_699_999_980), 1_699_999_980);
        assert!(!is_expired(100, 110, 10));
        assert!(is_expired(100, 111, 10));
    }

    #[test]
    fn key_schedules_wipe_themselves() {
        // The DRK cipher lives on the stack; aes-gcm's `zeroize` feature (Cargo.toml) makes
        // its drop wipe the AES round keys (`aes` implements the marker, checked here) and
        // the GHASH/POLYVAL key (polyval 0.7's `Drop` zeroizes it but has no marker trait;
        // aes-gcm's marker impl on the whole cipher states that).
        fn wipes<T: zeroize::ZeroizeOnDrop>() {}
        wipes::<aes_gcm::aes::Aes256Enc>();
        wipes::<KeyCipher>();
    }

    #[test]
    fn cipher_fits_locked_slots_and_debug_is_safe() {
        assert!(std::mem::size_of::<KeyCipher>() <= 4096);
        let k = CryptoKey::new(5, false, &random_key().unwrap());
        let s = format!("{k:?}");
        assert!(s.contains("created: 5") && !s.contains("cipher"));
    }
}
