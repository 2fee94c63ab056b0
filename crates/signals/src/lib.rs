//! Placeholder: the signal snapshot/diff/policy crate lands with the signal guard.
