//! The native core adapter (placeholder until `crates/native` lands in this series).

use super::{Core, CoreError, CoreKind};
use crate::api::config::Asherah;
use crate::host::CoreThread;

pub struct NativeCore;

impl NativeCore {
    pub fn new(_config: &Asherah) -> Result<NativeCore, CoreError> {
        Err(CoreError::BadConfig(
            "Core \"native\" is not built into this version yet; use Core: \"go\"".into(),
        ))
    }
}

impl Core for NativeCore {
    fn kind(&self) -> CoreKind {
        CoreKind::Native
    }
    fn encrypt(&self, _: &CoreThread, _: &str, _: &[u8]) -> Result<String, CoreError> {
        Err(CoreError::NotInitialized)
    }
    fn decrypt(&self, _: &CoreThread, _: &str, _: &[u8]) -> Result<Vec<u8>, CoreError> {
        Err(CoreError::NotInitialized)
    }
    fn set_env(&self, _: &CoreThread, _: &str) -> Result<(), CoreError> {
        Ok(())
    }
    fn shutdown(&self, _: &CoreThread) {}
}
