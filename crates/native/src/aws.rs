//! What AWS KMS and the DynamoDB metastore share: the SDK configuration (the standard
//! credentials chain and endpoint resolution, one HTTPS client with rustls on `ring`) and a
//! private current-thread tokio runtime on which every SDK call runs, on the caller's thread
//! (a core-host thread in the shim), with a deadline. A call that passes its deadline fails
//! with the caller's error kind, and its connection is dropped with its future; the next call
//! starts afresh, so a service that comes back needs nothing else to be used again. Error
//! messages carry the SDK's error chain (service codes, messages, request ids, ARNs), which
//! never includes credentials: the SDK signs requests but does not put keys in errors.
#![forbid(unsafe_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use tokio::runtime::Runtime;

use crate::error::{Error, ErrorKind};

/// A runtime for SDK calls, each bounded by `timeout`.
pub(crate) struct AwsRuntime {
    runtime: Runtime,
    timeout: Duration,
    kind: ErrorKind,
    what: &'static str,
}

impl std::fmt::Debug for AwsRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsRuntime")
            .field("timeout", &self.timeout)
            .field("what", &self.what)
            .finish_non_exhaustive()
    }
}

impl AwsRuntime {
    /// A runtime whose calls fail as `kind` errors, named `what` ("KMS", "DynamoDB").
    pub(crate) fn new(
        timeout: Duration,
        kind: ErrorKind,
        what: &'static str,
    ) -> Result<Self, Error> {
        if timeout.is_zero() {
            return Err(Error::config("AWS call timeout must be > 0"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::new(kind, format!("cannot start the {what} I/O runtime: {e}")))?;
        Ok(AwsRuntime {
            runtime,
            timeout,
            kind,
            what,
        })
    }

    /// Runs `call` to completion or for at most the timeout, whichever comes first.
    pub(crate) fn run<T>(
        &self,
        operation: &str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.run_until(Instant::now() + self.timeout, operation, call)
    }

    /// A deadline one timeout from now, for several calls that share one budget (a KMS
    /// operation that falls back from region to region).
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Runs `call` until `deadline` at the latest. The SDK's own operation timeout (see
    /// [`sdk_config`]) ends a stalled call of a full budget first; this bounds calls that
    /// share a budget, and is the backstop, so nothing here can wait without bound.
    pub(crate) fn run_until<T>(
        &self,
        deadline: Instant,
        operation: &str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let budget = deadline.saturating_duration_since(Instant::now());
        self.runtime
            .block_on(async { tokio::time::timeout(budget, call).await })
            .unwrap_or_else(|_| {
                Err(Error::new(
                    self.kind,
                    format!(
                        "{} {operation} did not finish within the {} ms budget",
                        self.what,
                        self.timeout.as_millis()
                    ),
                ))
            })
    }

    /// An SDK error as this runtime's kind: the whole error chain, no credentials.
    pub(crate) fn error(&self, operation: &str, e: &(dyn std::error::Error + 'static)) -> Error {
        Error::new(
            self.kind,
            format!("{} {operation}: {}", self.what, chain(e)),
        )
    }
}

/// The SDK configuration: `region` (or the standard region chain), the standard credentials
/// chain (environment, the shared config and credentials files with `profile` if given, web
/// identity, container and instance metadata), standard endpoint resolution (so
/// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` work), our HTTPS client, at most three
/// attempts per operation, and `timeout` for each operation, attempts and backoff included.
pub(crate) async fn sdk_config(
    region: Option<&str>,
    profile: Option<&str>,
    timeout: Duration,
) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        );
    if let Some(region) = region.filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(profile) = profile.filter(|p| !p.is_empty()) {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// `e` and its sources, joined with `: ` (the SDK's `Display` alone often says only
/// "service error" or "dispatch failure").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
