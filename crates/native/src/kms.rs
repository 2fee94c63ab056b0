//! Key management: wraps and unwraps system keys; the wrapped bytes are the `Key` of the
//! system key's EnvelopeKeyRecord. Two of Go's KMSs: static (here) and AWS ([`aws`]). The
//! static KMS seals the system key with AES-256-GCM under the 32 master-key bytes, in the same
//! `ciphertext || tag || nonce` layout as every other key (that is what Go's
//! `kms.NewStatic(key, aead.NewAES256GCM())` does). The master key's schedule lives in locked
//! memory.
#![forbid(unsafe_code)]

mod aws;

use std::time::Duration;

pub(crate) use self::aws::AwsKms;
use crate::aead::{self, KeyCipher, NONCE_LEN};
use crate::config::{KmsConfig, GO_STATIC_MASTER_KEY};
use crate::error::{Error, ErrorKind};
use crate::keys::{cipher_for, KeyBytes};
use crate::locked::Locked;

/// The configured KMS.
#[derive(Debug)]
pub(crate) enum Kms {
    Static(StaticKms),
    Aws(AwsKms),
}

impl Kms {
    /// Builds the KMS a config names; `timeout` bounds each call to a remote KMS.
    pub(crate) fn from_config(config: &KmsConfig, timeout: Duration) -> Result<Self, Error> {
        Ok(match config {
            KmsConfig::Static { master_key } => Kms::Static(StaticKms::new(
                master_key
                    .as_ref()
                    .map_or(GO_STATIC_MASTER_KEY, |k| k.bytes()),
            )),
            KmsConfig::Aws(aws) => Kms::Aws(AwsKms::new(aws, timeout)?),
        })
    }

    /// Wraps a new system key.
    pub(crate) fn encrypt_key(&self, key: &KeyBytes) -> Result<Vec<u8>, Error> {
        match self {
            Kms::Static(k) => k.encrypt_key(key),
            Kms::Aws(k) => k.encrypt_key(key),
        }
    }

    /// Unwraps a system key; failures are `Kms` errors.
    pub(crate) fn decrypt_key(&self, sealed: &[u8]) -> Result<KeyBytes, Error> {
        match self {
            Kms::Static(k) => k.decrypt_key(sealed),
            Kms::Aws(k) => k.decrypt_key(sealed),
        }
    }
}

/// A static-key KMS.
#[derive(Debug)]
pub(crate) struct StaticKms {
    master: Locked<KeyCipher>,
}

impl StaticKms {
    pub(crate) fn new(master_key: &[u8; 32]) -> Self {
        let mut bytes = KeyBytes::zeroed();
        bytes.copy_from_slice(master_key);
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
