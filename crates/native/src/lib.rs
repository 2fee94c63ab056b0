//! Placeholder: the native core lands with its own issue.
