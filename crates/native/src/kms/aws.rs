//! AWS KMS with Go's multi-region semantics (`plugins/aws-v1/kms` and `aws-v2/kms`).
//!
//! Wrapping a system key: GenerateDataKey (AES_256) in the preferred region (falling back to
//! the others in order), seal the system key with AES-256-GCM under the data key's plaintext
//! (`ciphertext || tag || nonce`), then encrypt the data key under every other region's ARN;
//! a region whose Encrypt fails is left out, as in Go. The wrapped bytes are the JSON
//! envelope `{"encryptedKey":<b64>,"kmsKeks":[{"region":..,"arn":..,"encryptedKek":<b64>}]}`
//! (Go's field names and order; the preferred region's KEK first, the others by region name).
//! Unwrapping: the preferred region first, then the others, each with that region's
//! configured ARN; the first region whose Decrypt and AES-GCM open both succeed wins. Every
//! call runs on the caller's thread ([`AwsRuntime`]); a wrap or an unwrap has one deadline
//! (the KMS timeout) for all the regions it visits, so a stalled KMS costs one budget. Data-key plaintexts are
//! copied into locked memory and the SDK's response copies zeroized.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::aead::{self, NONCE_LEN};
use crate::aws::{sdk_config, AwsRuntime};
use crate::config::AwsKmsConfig;
use crate::error::{Error, ErrorKind};
use crate::keys::{cipher_for, KeyBytes};

/// AWS KMS over one or more regions.
#[derive(Debug)]
pub(crate) struct AwsKms {
    runtime: AwsRuntime,
    /// The preferred region first.
    regions: Vec<Regional>,
}

/// One region's client and master key ARN.
struct Regional {
    region: String,
    arn: String,
    client: Client,
}

impl std::fmt::Debug for Regional {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Regional")
            .field("region", &self.region)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

/// Go's envelope around a KMS-wrapped system key.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct KmsEnvelope {
    #[serde(rename = "encryptedKey", with = "b64")]
    pub(crate) encrypted_key: Vec<u8>,
    #[serde(rename = "kmsKeks")]
    pub(crate) keks: Vec<RegionalKek>,
}

/// The data key encrypted under one region's master key.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct RegionalKek {
    pub(crate) region: String,
    pub(crate) arn: String,
    #[serde(rename = "encryptedKek", with = "b64")]
    pub(crate) encrypted_kek: Vec<u8>,
}

impl AwsKms {
    /// Clients for every region of the map; no network call is made here.
    pub(crate) fn new(config: &AwsKmsConfig, timeout: Duration) -> Result<Self, Error> {
        let ordered = config.ordered_regions()?;
        let runtime = AwsRuntime::new(timeout, ErrorKind::Kms, "KMS")?;
        let base = runtime.run("configuration", async {
            Ok(sdk_config(Some(&ordered[0].0), config.profile.as_deref(), timeout).await)
        })?;
        let regions = ordered
            .into_iter()
            .map(|(region, arn)| {
                let conf = aws_sdk_kms::config::Builder::from(&base)
                    .region(aws_config::Region::new(region.clone()))
                    .build();
                Regional {
                    region,
                    arn,
                    client: Client::from_conf(conf),
                }
            })
            .collect();
        Ok(AwsKms { runtime, regions })
    }

    /// Wraps `key` in Go's multi-region envelope.
    pub(crate) fn encrypt_key(&self, key: &KeyBytes) -> Result<Vec<u8>, Error> {
        // One budget for the whole wrap, however many regions it visits.
        let deadline = self.runtime.deadline();
        let (data_key, key_id, blob) = self.generate_data_key(deadline)?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce)?;
        let mut keks = Vec::with_capacity(self.regions.len());
        for r in &self.regions {
            if r.arn == key_id {
                keks.push(RegionalKek {
                    region: r.region.clone(),
                    arn: r.arn.clone(),
                    encrypted_kek: blob.clone(),
                });
                continue;
            }
            // Go logs and leaves out a region whose Encrypt fails; so do we.
            if let Ok(encrypted_kek) = self.encrypt_data_key(r, &data_key, deadline) {
                keks.push(RegionalKek {
                    region: r.region.clone(),
                    arn: r.arn.clone(),
                    encrypted_kek,
                });
            }
        }
        seal_envelope(key, &data_key, &nonce, keks)
    }

    /// Unwraps an envelope written by this KMS or by Go's.
    pub(crate) fn decrypt_key(&self, wrapped: &[u8]) -> Result<KeyBytes, Error> {
        let envelope: KmsEnvelope = serde_json::from_slice(wrapped).map_err(|e| {
            Error::new(
                ErrorKind::Kms,
                format!(
                    "system key is not a KMS envelope: {}",
                    format!("{:?}", e.classify()).to_lowercase()
                ),
            )
        })?;
        let deadline = self.runtime.deadline();
        let mut failures = Vec::new();
        for r in &self.regions {
            let Some(kek) = envelope.keks.iter().find(|k| k.region == r.region) else {
                continue;
            };
            let data_key = match self.decrypt_data_key(r, &kek.encrypted_kek, deadline) {
                Ok(k) => k,
                Err(e) => {
                    failures.push(e.message().to_owned());
                    continue;
                }
            };
            match aead::open_key(&cipher_for(&data_key), &envelope.encrypted_key) {
                Ok(key) => return Ok(key),
                Err(e) => failures.push(format!("{}: system key: {}", r.region, e.message())),
            }
        }
        Err(Error::new(
            ErrorKind::Kms,
            if failures.is_empty() {
                "decrypt failed in all regions: the envelope has no KEK for a configured region"
                    .to_owned()
            } else {
                format!("decrypt failed in all regions: {}", failures.join("; "))
            },
        ))
    }

    /// GenerateDataKey in the first region that answers: (plaintext, key id, ciphertext).
    fn generate_data_key(&self, deadline: Instant) -> Result<(KeyBytes, String, Vec<u8>), Error> {
        let mut last = None;
        for r in &self.regions {
            let call = r
                .client
                .generate_data_key()
                .key_id(&r.arn)
                .key_spec(DataKeySpec::Aes256)
                .send();
            let result = self.runtime.run_until(deadline, "GenerateDataKey", async {
                call.await.map_err(|e| {
                    self.runtime
                        .error(&format!("GenerateDataKey in {}", r.region), &e)
                })
            });
            match result {
                Ok(out) => {
                    let blob = out
                        .ciphertext_blob
                        .map(Blob::into_inner)
                        .unwrap_or_default();
                    let key_id = out.key_id.unwrap_or_default();
                    let data_key = locked_key(out.plaintext)?;
                    return Ok((data_key, key_id, blob));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last
            .unwrap_or_else(|| Error::new(ErrorKind::Kms, "no KMS region configured"))
            .context("all regions returned errors"))
    }

    fn encrypt_data_key(
        &self,
        r: &Regional,
        data_key: &KeyBytes,
        deadline: Instant,
    ) -> Result<Vec<u8>, Error> {
        // The SDK takes its own copy of the plaintext for the request body; it cannot be
        // wiped from here (it is dropped with the request).
        let call = r
            .client
            .encrypt()
            .key_id(&r.arn)
            .plaintext(Blob::new(data_key.to_vec()))
            .send();
        self.runtime.run_until(deadline, "Encrypt", async {
            let out = call
                .await
                .map_err(|e| self.runtime.error(&format!("Encrypt in {}", r.region), &e))?;
            Ok(out
                .ciphertext_blob
                .map(Blob::into_inner)
                .unwrap_or_default())
        })
    }

    fn decrypt_data_key(
        &self,
        r: &Regional,
        encrypted: &[u8],
        deadline: Instant,
    ) -> Result<KeyBytes, Error> {
        let call = r
            .client
            .decrypt()
            .key_id(&r.arn)
            .ciphertext_blob(Blob::new(encrypted))
            .send();
        let out = self.runtime.run_until(deadline, "Decrypt", async {
            call.await
                .map_err(|e| self.runtime.error(&format!("Decrypt in {}", r.region), &e))
        })?;
        locked_key(out.plaintext)
    }
}

/// Seals `key` under `data_key` with `nonce` and writes Go's envelope JSON.
pub(crate) fn seal_envelope(
    key: &KeyBytes,
    data_key: &KeyBytes,
    nonce: &[u8; NONCE_LEN],
    keks: Vec<RegionalKek>,
) -> Result<Vec<u8>, Error> {
    let mut encrypted_key = Vec::with_capacity(aead::SEALED_KEY_LEN);
    aead::seal_into(&cipher_for(data_key), nonce, &key[..], &mut encrypted_key)?;
    serde_json::to_vec(&KmsEnvelope {
        encrypted_key,
        keks,
    })
    .map_err(|e| Error::internal(format!("cannot write the KMS envelope: {e}")))
}

/// A data key's plaintext from KMS, moved into locked memory; the SDK's copy is wiped.
fn locked_key(plaintext: Option<Blob>) -> Result<KeyBytes, Error> {
    let mut bytes = plaintext.map(Blob::into_inner).unwrap_or_default();
    let result = if bytes.len() == 32 {
        let mut key = KeyBytes::zeroed();
        key.copy_from_slice(&bytes);
        Ok(key)
    } else {
        Err(Error::new(
            ErrorKind::Kms,
            format!("KMS returned a {}-byte data key, expected 32", bytes.len()),
        ))
    };
    bytes.zeroize();
    result
}

/// Go's `[]byte` JSON form: standard padded base64.
mod b64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64_simd::STANDARD.encode_to_string(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
        base64_simd::STANDARD
            .decode_to_vec(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's envelope for system key 0x11.., data key 0x22.., nonce 0x33.. and two fixed KEKs,
    /// computed independently (Python `cryptography`'s AESGCM, base64 and Go's field order).
    const GOLDEN: &str = concat!(
        r#"{"encryptedKey":"Z9LX+2Q9Z3kZ/IphBMAcgzSwepZJoXjgG8Y554+eE2xplXRGo031is0x0wRzPuevMzMzMzMzMzMzMzMz","#,
        r#""kmsKeks":[{"region":"us-west-2","arn":"arn:aws:kms:us-west-2:111122223333:key/k1","encryptedKek":"AQID"},"#,
        r#"{"region":"us-east-1","arn":"arn:aws:kms:us-east-1:111122223333:key/k2","encryptedKek":"BAU="}]}"#
    );

    fn filled(byte: u8) -> KeyBytes {
        let mut k = KeyBytes::zeroed();
        k.fill(byte);
        k
    }

    fn keks() -> Vec<RegionalKek> {
        vec![
            RegionalKek {
                region: "us-west-2".into(),
                arn: "arn:aws:kms:us-west-2:111122223333:key/k1".into(),
                encrypted_kek: vec![1, 2, 3],
            },
            RegionalKek {
                region: "us-east-1".into(),
                arn: "arn:aws:kms:us-east-1:111122223333:key/k2".into(),
                encrypted_kek: vec![4, 5],
            },
        ]
    }

    #[test]
    fn envelope_is_byte_for_byte_gos() {
        let sealed =
            seal_envelope(&filled(0x11), &filled(0x22), &[0x33; NONCE_LEN], keks()).unwrap();
        assert_eq!(std::str::from_utf8(&sealed).unwrap(), GOLDEN);
    }

    #[test]
    fn golden_envelope_parses_and_opens_under_the_data_key() {
        let envelope: KmsEnvelope = serde_json::from_str(GOLDEN).unwrap();
        assert_eq!(envelope.keks, keks());
        let key = aead::open_key(&cipher_for(&filled(0x22)), &envelope.encrypted_key).unwrap();
        assert_eq!(&key[..], &[0x11; 32]);
        assert!(aead::open_key(&cipher_for(&filled(0x23)), &envelope.encrypted_key).is_err());
        assert!(
            serde_json::from_str::<KmsEnvelope>(r#"{"encryptedKey":"!","kmsKeks":[]}"#).is_err()
        );
    }
}
