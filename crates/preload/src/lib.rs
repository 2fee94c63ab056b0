//! Placeholder: the LD_PRELOAD library lands with its own issue.
