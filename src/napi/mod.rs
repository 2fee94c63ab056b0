//! Safe layer over the raw N-API bindings in [`sys`].
//!
//! Everything above this module talks to the JavaScript host through these types: [`Env`]
//! (one call's view of a `napi_env`), [`Value`] (a handle that cannot outlive the scope it
//! was created in), [`JsError`] (a typed exception with a `code`), [`Deferred`] (a promise to
//! settle later on the JS thread), and [`Tsfn`] (the one thread-safe way for other threads to
//! get work run on the JS thread). Every N-API status goes through [`status::check`], and
//! every `extern "C"` entry point this crate exposes runs inside [`boundary`], which turns
//! a Rust panic into a JS exception instead of unwinding across FFI.

pub(crate) mod sys;

pub(crate) mod async_work;
mod env;
mod error;
mod external_string;
mod function;
mod promise;
mod status;
mod tsfn;

pub(crate) use env::{Env, Ref, Value, ValueType};
pub(crate) use error::{JsError, JsErrorKind, JsResult};
pub(crate) use function::{boundary, panic_message, set_before_throw, CallArgs, JsFn};
pub(crate) use promise::Deferred;
pub(crate) use status::{check as status_check, Status};
pub(crate) use tsfn::Tsfn;
