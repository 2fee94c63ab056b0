//! The in-process metastore: a map from key id to versions ordered by `created`. Keys are
//! lost with the process (or with the last `Arc` to it); sharing one `Arc` between several
//! [`crate::Asherah`] instances models several processes over one database in tests.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};

use parking_lot::RwLock;

use super::Metastore;
use crate::error::Error;
use crate::record::EnvelopeKeyRecord;

/// A thread-safe in-memory metastore.
#[derive(Debug, Default)]
pub struct MemoryMetastore {
    keys: RwLock<HashMap<String, BTreeMap<i64, EnvelopeKeyRecord>>>,
}

impl MemoryMetastore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored `(id, created)`, sorted (for tests and diagnostics; no key material).
    pub fn ids(&self) -> Vec<(String, i64)> {
        let keys = self.keys.read();
        let mut ids: Vec<_> = keys
            .iter()
            .flat_map(|(id, versions)| versions.keys().map(move |c| (id.clone(), *c)))
            .collect();
        ids.sort();
        ids
    }
}

impl Metastore for MemoryMetastore {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        Ok(self
            .keys
            .read()
            .get(id)
            .and_then(|v| v.get(&created))
            .cloned())
    }

    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        Ok(self
            .keys
            .read()
            .get(id)
            .and_then(|v| v.values().next_back())
            .cloned())
    }

    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        let mut keys = self.keys.write();
        let versions = keys.entry(id.to_owned()).or_default();
        if versions.contains_key(&created) {
            return Ok(false);
        }
        versions.insert(created, record.clone());
        Ok(true)
    }
}
