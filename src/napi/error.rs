//! Typed JavaScript exceptions: a `code`, a message, the constructor to use, and optional
//! extra string properties (e.g. the `phase` of a timeout).
//!
//! This module only knows how to build and throw errors; which code a domain error gets is
//! decided in exactly one place, `api::errors`.

use std::borrow::Cow;

use super::env::{Env, Value};
use super::status::Status;

/// The code given to failures of N-API itself (not of Asherah).
pub(super) const NAPI_FAILURE_CODE: &str = "ERR_ASHERAH_NAPI";

/// An extra property of an error object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PropValue {
    Str(String),
    Num(f64),
}

impl From<&str> for PropValue {
    fn from(s: &str) -> Self {
        PropValue::Str(s.to_string())
    }
}
impl From<String> for PropValue {
    fn from(s: String) -> Self {
        PropValue::Str(s)
    }
}
impl From<f64> for PropValue {
    fn from(n: f64) -> Self {
        PropValue::Num(n)
    }
}

/// Which JS constructor an error is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsErrorKind {
    Error,
    TypeError,
    RangeError,
}

/// An exception to throw, or a promise rejection.
#[derive(Debug, Clone)]
pub(crate) struct JsError {
    pub kind: JsErrorKind,
    pub code: &'static str,
    pub message: Cow<'static, str>,
    pub props: Vec<(&'static str, PropValue)>,
    /// Set when a JS exception is already pending (e.g. thrown by a callback we called):
    /// it must propagate as it is, not be replaced.
    pub pending: bool,
}

pub(crate) type JsResult<T> = Result<T, JsError>;

impl JsError {
    pub(crate) fn new(
        kind: JsErrorKind,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        JsError {
            kind,
            code,
            message: message.into(),
            props: Vec::new(),
            pending: false,
        }
    }

    pub(crate) fn with_prop(mut self, name: &'static str, value: impl Into<PropValue>) -> Self {
        self.props.push((name, value.into()));
        self
    }

    /// Creates the JS error object (without throwing it).
    pub(crate) fn to_value<'e>(&self, env: &'e Env) -> Result<Value<'e>, Status> {
        let err = env.create_error(self.kind, self.code, &self.message)?;
        for (name, value) in &self.props {
            let v = match value {
                PropValue::Str(s) => env.create_string(s)?,
                PropValue::Num(n) => env.create_f64(*n)?,
            };
            env.set_property(err, name, v)?;
        }
        Ok(err)
    }
}

impl From<Status> for JsError {
    fn from(status: Status) -> Self {
        let mut e = JsError::new(
            JsErrorKind::Error,
            NAPI_FAILURE_CODE,
            format!("N-API call failed: {status:?}"),
        );
        e.pending = status == Status::PendingException;
        e
    }
}
