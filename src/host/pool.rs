//! The request queue feeding the core-host threads.
//!
//! JS threads submit boxed jobs on a `crossbeam` channel; each core-host thread takes jobs
//! one at a time and runs them with its [`CoreThread`] token. Stopping closes the channel,
//! lets queued jobs finish, and waits a bounded time for the threads to end: a thread stuck
//! inside a core (e.g. a Go call that never returns) is left behind rather than waited on.

use std::io;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Mutex, RwLock};

use super::thread::{self, CoreThread};

/// A unit of work for a core-host thread.
pub type Job = Box<dyn FnOnce(&CoreThread) + Send>;

/// Default stack for core-host threads: what Node's libuv threads get, twice Bun's pool.
pub const DEFAULT_STACK_SIZE: usize = 8 << 20;

#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub threads: usize,
    pub stack_size: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        PoolConfig {
            threads: cpus.clamp(2, 4),
            stack_size: DEFAULT_STACK_SIZE,
        }
    }
}

/// Running core-host threads and the queue in front of them.
pub struct Pool {
    /// `None` once stopped; submitters hold the read lock while sending.
    tx: RwLock<Option<Sender<Job>>>,
    done_rx: Receiver<usize>,
    handles: Mutex<Vec<Option<JoinHandle<()>>>>,
}

impl Pool {
    pub fn start(config: PoolConfig) -> io::Result<Pool> {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let (done_tx, done_rx) = crossbeam_channel::unbounded::<usize>();
        let mut handles = Vec::with_capacity(config.threads);
        for i in 0..config.threads.max(1) {
            let rx = rx.clone();
            let done_tx = done_tx.clone();
            let handle =
                thread::spawn(format!("asherah-core-{i}"), config.stack_size, move |ct| {
                    for job in rx.iter() {
                        job(ct);
                    }
                    let _ = done_tx.send(i);
                })?;
            handles.push(Some(handle));
        }
        Ok(Pool {
            tx: RwLock::new(Some(tx)),
            done_rx,
            handles: Mutex::new(handles),
        })
    }

    /// Queues a job; gives it back if the pool has stopped.
    pub fn submit(&self, job: Job) -> Result<(), Job> {
        match self.tx.read().as_ref() {
            Some(tx) => tx.send(job).map_err(|e| e.into_inner()),
            None => Err(job),
        }
    }

    /// Closes the queue and waits up to `grace` for the threads to finish their jobs.
    /// Returns how many threads were still busy (left running, detached) at the deadline.
    pub fn stop(&self, grace: Duration) -> usize {
        drop(self.tx.write().take());
        let mut handles = self.handles.lock();
        let done_rx = &self.done_rx;
        let deadline = Instant::now() + grace;
        let mut remaining = handles.iter().filter(|h| h.is_some()).count();
        while remaining > 0 {
            match done_rx.recv_deadline(deadline) {
                Ok(i) => {
                    if let Some(h) = handles[i].take() {
                        let _ = h.join();
                    }
                    remaining -= 1;
                }
                Err(_) => break,
            }
        }
        remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn jobs_run_on_core_threads_and_stop_drains_the_queue() {
        let pool = Pool::start(PoolConfig {
            threads: 3,
            stack_size: 1 << 20,
        })
        .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let ran = ran.clone();
            pool.submit(Box::new(move |_ct| {
                assert!(CoreThread::is_current());
                ran.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap_or_else(|_| panic!("pool closed"));
        }
        assert_eq!(pool.stop(Duration::from_secs(5)), 0);
        assert_eq!(ran.load(Ordering::SeqCst), 100);
    }

    #[test]
    fn a_stuck_thread_does_not_block_stop() {
        let pool = Pool::start(PoolConfig {
            threads: 1,
            stack_size: 1 << 20,
        })
        .unwrap();
        let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(1);
        pool.submit(Box::new(move |_| {
            let _ = release_rx.recv();
        }))
        .unwrap_or_else(|_| panic!("pool closed"));
        let t = Instant::now();
        assert_eq!(pool.stop(Duration::from_millis(100)), 1);
        assert!(t.elapsed() < Duration::from_secs(2));
        release_tx.send(()).unwrap();
    }
}
