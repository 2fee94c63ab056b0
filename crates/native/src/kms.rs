//! Key management: wraps and unwraps system keys with a master key. Only Go's static KMS is
//! implemented: the system key is sealed with AES-256-GCM under the 32 master-key bytes, in
//! the same `ciphertext || tag || nonce` layout as every other key (that is what Go's
//! `kms.NewStatic(key, aead.NewAES256GCM())` does), and the sealed bytes are the `Key` of the
//! system key's EnvelopeKeyRecord. The master key's schedule lives in locked memory.
#![forbid(unsafe_code)]

use aes_gcm::Aes256Gcm;

use crate::aead::{self, NONCE_LEN};
use crate::config::{KmsConfig, GO_STATIC_MASTER_KEY};
use crate::error::{Error, ErrorKind};
use crate::keys::{cipher_for, KeyBytes};
use crate::locked::Locked;

/// A static-key KMS.
#[derive(Debug)]
pub(crate) struct StaticKms {
    master: Locked<Aes256Gcm>,
}

impl StaticKms {
    pub(crate) fn from_config(config: &KmsConfig) -> Self {
        let KmsConfig::Static { master_key } = config;
        let mut bytes = KeyBytes::zeroed();
        bytes.copy_from_slice(
            master_key
                .as_ref()
                .map_or(GO_STATIC_MASTER_KEY, |k| k.bytes()),
        );
        StaticKms {
            master: cipher_for(&bytes),
        }
    }

    /// Seals a system key under the master key.
    pub(crate) fn encrypt_key(&self, key: &KeyBytes) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce)?;
        let mut out = Vec::with_capacity(aead::SEALED_KEY_LEN);
        aead::seal_into(&self.master, &nonce, &key[..], &mut out)?;
        Ok(out)
    }

    /// Opens a sealed system key; a wrong master key or tampering is a `Kms` error.
    pub(crate) fn decrypt_key(&self, sealed: &[u8]) -> Result<KeyBytes, Error> {
        aead::open_key(&self.master, sealed).map_err(|e| {
            Error::new(
                ErrorKind::Kms,
                format!(
                    "cannot unwrap system key with the static master key ({})",
                    e.message()
                ),
            )
        })
    }
}
