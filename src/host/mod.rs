//! Core-host threads: the only threads on which the Go core ever runs, and where the native
//! core runs every call that can wait (a network metastore, SQLite for async calls, large
//! async inputs); short local native calls run inline on the JS thread instead
//! (`core::InlineCore`).
//!
//! [`thread`] creates them with a stack size we choose, every asynchronous signal blocked
//! and their own alternate signal stack, and hands each job a [`CoreThread`] token that
//! cannot exist anywhere else. [`pool`] queues requests to them, through [`queue`], where a
//! thread that just finished a call spins briefly for the next before it parks; [`reply`]
//! is how a blocked caller waits for one; [`completion`] brings results back to the JS
//! thread that asked, in batches, through one doorbell per env; [`watchdog`] enforces
//! deadlines; [`affinity`] can move a core-host thread to the CPU of the caller that waits
//! for it (`CoreAffinity`).

pub(crate) mod affinity;
pub(crate) mod completion;
#[cfg(test)]
mod completion_model;
pub(crate) mod pool;
pub(crate) mod queue;
pub(crate) mod reply;
pub(crate) mod thread;
pub(crate) mod watchdog;

pub(crate) use affinity::Affinity;
pub(crate) use completion::{Completion, EnvLink};
pub(crate) use pool::{CallState, Job, Pool, PoolConfig, Refusal, StuckCount, Turn};
pub(crate) use reply::{call_blocking, call_blocking_near, catch_panic, Done, NoReply, ReplySlot};
pub(crate) use thread::{CoreThread, ThreadFacts};
