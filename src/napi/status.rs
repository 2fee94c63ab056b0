//! `napi_status` as a Rust enum, and the one choke point that turns a status into a `Result`.
//!
//! The raw status stays an integer at the FFI boundary (see `sys`), so a value this crate
//! does not know about becomes [`Status::Unknown`] rather than undefined behaviour.

use super::sys;

/// A non-`napi_ok` N-API status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum Status {
    InvalidArg,
    ObjectExpected,
    StringExpected,
    FunctionExpected,
    NumberExpected,
    BooleanExpected,
    ArrayExpected,
    GenericFailure,
    PendingException,
    Cancelled,
    HandleScopeMismatch,
    QueueFull,
    Closing,
    ArrayBufferExpected,
    WouldDeadlock,
    CannotRunJs,
    Unknown(u32),
}

impl Status {
    fn from_raw(raw: sys::napi_status) -> Self {
        match raw {
            sys::napi_invalid_arg => Status::InvalidArg,
            sys::napi_object_expected => Status::ObjectExpected,
            sys::napi_string_expected => Status::StringExpected,
            sys::napi_function_expected => Status::FunctionExpected,
            sys::napi_number_expected => Status::NumberExpected,
            sys::napi_boolean_expected => Status::BooleanExpected,
            sys::napi_array_expected => Status::ArrayExpected,
            sys::napi_generic_failure => Status::GenericFailure,
            sys::napi_pending_exception => Status::PendingException,
            sys::napi_cancelled => Status::Cancelled,
            sys::napi_handle_scope_mismatch => Status::HandleScopeMismatch,
            sys::napi_queue_full => Status::QueueFull,
            sys::napi_closing => Status::Closing,
            sys::napi_arraybuffer_expected => Status::ArrayBufferExpected,
            sys::napi_would_deadlock => Status::WouldDeadlock,
            sys::napi_cannot_run_js => Status::CannotRunJs,
            other => Status::Unknown(other),
        }
    }
}

/// Converts a raw status into a `Result`: the only place where statuses are interpreted.
#[inline]
pub(crate) fn check(raw: sys::napi_status) -> Result<(), Status> {
    if raw == sys::napi_ok {
        Ok(())
    } else {
        Err(Status::from_raw(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_are_kept_not_trusted() {
        assert_eq!(check(sys::napi_ok), Ok(()));
        assert_eq!(check(sys::napi_closing), Err(Status::Closing));
        assert_eq!(check(9999), Err(Status::Unknown(9999)));
    }
}
