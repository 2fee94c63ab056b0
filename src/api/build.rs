//! Building the configured core on a core-host thread, for `setup`: the Go core (locked
//! memory check, library load, deferred `setenv` calls, `SetupJson`, the signal guard's
//! findings logged) or the native core (with a warning when key pages could not be locked).
//! The lifecycle around it (phases, deadlines, undoing a late setup) is in `state`.

use std::sync::Arc;
use std::time::Instant;

use super::config::ShimConfig;
use super::log::{self, Level};
use crate::core::{go, memlock, native, Core, CoreError, CoreKind};
use crate::host::CoreThread;

/// Runs on a core-host thread: loads and sets up the configured core.
/// For the Go core, `held` is the Go lifecycle lock, taken by the caller and kept until
/// the outcome is published or undone.
pub(super) fn build_core(
    ct: &CoreThread,
    config: &ShimConfig,
    held: Option<&go::Lifecycle>,
    deadline: Instant,
) -> Result<Arc<dyn Core>, CoreError> {
    match config.core {
        CoreKind::Go => {
            let path = config.go_library.as_ref().ok_or_else(|| {
                CoreError::BadConfig(
                    "Core \"go\" needs the path of libasherah: set GoLibrary or ASHERAH_GO_LIBRARY"
                        .into(),
                )
            })?;
            let a = &config.asherah;
            let sessions = if a.session_caching.unwrap_or(false) {
                a.session_cache_max_size
                    .filter(|n| *n > 0)
                    .map_or(memlock::GO_DEFAULT_SESSION_CACHE, |n| n as u64)
            } else {
                0
            } + config.pool.threads as u64;
            if let Some(note) = memlock::ensure_for_go(sessions)? {
                log::emit(Level::Info, note);
            }
            let lib = go::load(ct, path)?;
            go::apply_deferred_env(ct)?;
            let held = held
                .ok_or_else(|| CoreError::Internal("Go setup without the lifecycle lock".into()))?;
            let core = go::GoCore::setup(ct, held, lib, &config.go_json, deadline);
            for d in crate::core::signal_guard::take_unlogged() {
                let level = if d.action.restores() {
                    Level::Warn
                } else {
                    Level::Info
                };
                log::emit(level, format!("signal guard: {d}"));
            }
            Ok(Arc::new(core?))
        }
        CoreKind::Native => {
            let core = native::NativeCore::new(&config.asherah, config.timeout)?;
            let failures = asherah_native::memory_lock_failures();
            if failures > 0 {
                log::emit(Level::Warn, format!("native core: {failures} key page(s) could not be locked in memory (mlock); raise RLIMIT_MEMLOCK"));
            }
            Ok(Arc::new(core))
        }
    }
}
