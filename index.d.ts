/// <reference types="node" />
// Types for asherah-shim: asherah-node's API, plus this shim's own config keys and reports.

/** A Go time.Duration in nanoseconds (as asherah-node passed it), or a string with a unit
 *  ("90d", "2h30m", "1500ms"). Numbers under 1e9 (one second) are rejected as ambiguous. */
export type Duration = number | string;

export type AsherahConfig = {
  /** The name of this service (required). */
  ServiceName: string;
  /** The name of the product that owns this service (required). */
  ProductID: string;
  /** "memory", "rdbms" (SQLite via sqlite://<path> on the native core; PostgreSQL on both;
   *  MySQL on the Go core), or "dynamodb" (Go core). Required. */
  Metastore: string;
  ConnectionString?: string | null;
  /** "mysql" (Go's default) or "postgres" for Metastore "rdbms". */
  SQLMetastoreDBType?: string | null;
  ReplicaReadConsistency?: string | null;
  DynamoDBEndpoint?: string | null;
  DynamoDBRegion?: string | null;
  DynamoDBTableName?: string | null;
  EnableRegionSuffix?: boolean | null;
  /** "static" (test key) or "aws" (both cores). Default: "static" on the native core,
   *  "aws" on the Go core (as libasherah). */
  KMS?: string | null;
  /** REGION -> ARN, or "REGION1=ARN1,REGION2=ARN2". */
  RegionMap?: { [region: string]: string } | string | null;
  PreferredRegion?: string | null;
  /** The shared-config profile for AWS credentials (native core; the standard chain). */
  AwsProfileName?: string | null;
  /** How long a key is valid (default 90 days). */
  ExpireAfter?: Duration | null;
  /** How often cached keys are re-checked for revocation (default 60 minutes). */
  CheckInterval?: Duration | null;
  EnableSessionCaching?: boolean | null;
  /** Default 1000. */
  SessionCacheMaxSize?: number | null;
  /** Default 2 hours. */
  SessionCacheDuration?: Duration | null;
  /** Also print the shim's log events to stderr. */
  Verbose?: boolean | null;
  /** asherah-node 3.x: passed to the Go core's libasherah, whose newer releases then copy
   *  input buffers instead of referencing them (libasherah 0.3.9 ignores it). JS memory is
   *  never lent to a core either way: the shim copies inputs first. No meaning for the
   *  native core. */
  DisableZeroCopy?: boolean | null;
  /** asherah-node 3.x: guard bytes after Cobhan output buffers. Accepted; the shim's Go core
   *  always checks them (an overrun fails the call with ERR_ASHERAH_INTERNAL), so `false`
   *  does not turn the check off. */
  EnableCanaries?: boolean | null;

  // ---- asherah-shim's own keys ----
  /** "native" (default: Asherah in Rust, no foreign runtime) or "go" (the real libasherah). */
  Core?: 'native' | 'go';
  /** Path of libasherah for Core "go" (else the ASHERAH_GO_LIBRARY environment variable). */
  GoLibrary?: string;
  /** Deadline for one call, in ms (default 30000): a call still queued then fails with
   *  ERR_ASHERAH_QUEUE_TIMEOUT, a running one with ERR_ASHERAH_TIMEOUT. */
  TimeoutMs?: number;
  /** Number of core-host threads (default: CPUs clamped to 2..4). */
  CoreThreads?: number;
  /** Stack size of core-host threads in bytes (default 8 MiB). */
  CoreStackSize?: number;
  /** "none" (default): core-host threads go where the scheduler puts them. "follow-caller":
   *  before a call whose caller waits for it (sync, or async with one call in flight), the
   *  core-host thread moves itself to the caller's CPU; JS threads are never pinned. See
   *  docs/performance.md "Issue 15". */
  CoreAffinity?: 'none' | 'follow-caller';
  /** Longest spin, in microseconds (0 to 1000, default 100; 0 turns it off), of a core-host
   *  thread that has just finished a call, waiting for the next one before it parks. It
   *  spins only while calls come that close together, and never on a single CPU or under
   *  "follow-caller". See docs/production.md "Sizing". */
  CoreIdleSpinMicros?: number;
  /** Largest plaintext accepted, in bytes (default 256 MiB). */
  MaxInputBytes?: number;
  /** Most calls waiting for a core-host thread (default 16384); more are refused with
   *  ERR_ASHERAH_OVERLOADED. */
  MaxQueuedCalls?: number;
  /** Native core only: the static master key as 64 hex digits (default: Go's test key). */
  StaticMasterKeyHex?: string;
  /** Native core only: a PEM file of CA certificates trusted for a MySQL (with `tls=true`)
   *  or PostgreSQL metastore's TLS, in place of Mozilla's roots. */
  SQLMetastoreCAFile?: string;
};

/** level: syslog severity (3 error, 4 warning, 6 info, 7 debug). A hook declared with exactly
 *  one parameter gets asherah 4.x's LogEvent object instead. */
export type LogHookCallback = (level: number, message: string) => void;

export type SignalDisposition = { handler: string; flags: number; onStack: boolean; siginfo: boolean };
export type SignalDecision = {
  signo: number;
  name: string;
  before: SignalDisposition;
  after: SignalDisposition;
  action: string;
  restored: boolean;
  errno?: number;
};

/** Every `code` an error from this module can carry (README "Errors"). */
export type AsherahErrorCode =
  | 'ERR_ASHERAH_INVALID_ARGUMENT' | 'ERR_ASHERAH_CONFIG' | 'ERR_ASHERAH_NOT_INITIALIZED'
  | 'ERR_ASHERAH_ALREADY_INITIALIZED' | 'ERR_ASHERAH_LIBRARY' | 'ERR_ASHERAH_COBHAN'
  | 'ERR_ASHERAH_SESSION' | 'ERR_ASHERAH_ENCRYPT_FAILED' | 'ERR_ASHERAH_DECRYPT_FAILED'
  | 'ERR_ASHERAH_MALFORMED_RECORD' | 'ERR_ASHERAH_NOT_UTF8' | 'ERR_ASHERAH_METASTORE'
  | 'ERR_ASHERAH_KMS' | 'ERR_ASHERAH_PANIC' | 'ERR_ASHERAH_INPUT_TOO_LARGE' | 'ERR_ASHERAH_RESULT_TOO_LARGE'
  | 'ERR_ASHERAH_TIMEOUT' | 'ERR_ASHERAH_QUEUE_TIMEOUT' | 'ERR_ASHERAH_OVERLOADED'
  | 'ERR_ASHERAH_CORE_UNUSABLE' | 'ERR_ASHERAH_SHUTTING_DOWN' | 'ERR_ASHERAH_INTERNAL'
  | 'ERR_ASHERAH_NAPI' | 'ERR_ASHERAH_NOT_BUILT' | 'ERR_ASHERAH_FACTORY_CLOSED'
  | 'ERR_ASHERAH_SESSION_CLOSED';

/** An error thrown or rejected by this module. Every property below is set only for the
 *  codes named beside it, always with the type declared (numbers are numbers). */
export interface AsherahError extends Error {
  code: AsherahErrorCode;
  /** ERR_ASHERAH_TIMEOUT / ERR_ASHERAH_QUEUE_TIMEOUT: what the call was doing. */
  phase?: string;
  /** ERR_ASHERAH_TIMEOUT / ERR_ASHERAH_QUEUE_TIMEOUT: the deadline that passed, in ms. */
  timeoutMs?: number;
  /** ERR_ASHERAH_OVERLOADED: MaxQueuedCalls. */
  limit?: number;
  /** ERR_ASHERAH_COBHAN: libasherah's return code, and the call that returned it. */
  cobhanCode?: number;
  call?: string;
}

export declare function setup(config: AsherahConfig | AsherahConfigCamel): void;
export declare function setup_async(config: AsherahConfig | AsherahConfigCamel): Promise<void>;
export declare function shutdown(): void;
export declare function shutdown_async(): Promise<void>;
export declare function encrypt(partitionId: string, data: Buffer | Uint8Array): string;
export declare function encrypt_async(partitionId: string, data: Buffer | Uint8Array): Promise<string>;
export declare function encrypt_string(partitionId: string, data: string): string;
export declare function encrypt_string_async(partitionId: string, data: string): Promise<string>;
export declare function decrypt(partitionId: string, dataRowRecord: string | Buffer | Uint8Array): Buffer;
export declare function decrypt_async(partitionId: string, dataRowRecord: string | Buffer | Uint8Array): Promise<Buffer>;
export declare function decrypt_string(partitionId: string, dataRowRecord: string | Buffer | Uint8Array): string;
export declare function decrypt_string_async(partitionId: string, dataRowRecord: string | Buffer | Uint8Array): Promise<string>;
export declare function get_setup_status(): boolean;
export declare function set_log_hook(logHook: (event: LogEvent) => void): void;
export declare function set_log_hook(logHook: LogHookCallback | null): void;
/** Sets variables in the real process environment (and in a loaded Go runtime). Values
 *  must be strings; variables cannot be removed. Accepts an object or its JSON. Like C's
 *  setenv, not safe while another thread reads the environment: call it before Workers. */
export declare function setenv(env: { [name: string]: string } | string): void;
/** Accepted for asherah-node compatibility; this shim never stack-allocates caller data. */
export declare function set_max_stack_alloc_item_size(maxItemSize: number): void;
/** Extra output buffer capacity for the Go core, in bytes. */
export declare function set_safety_padding_overhead(safetyPaddingOverhead: number): void;
/** What the signal guard found and did when the Go runtime was loaded. */
export declare function signal_report(): SignalDecision[];

/** The facts `_diagnostics` and `_threads` report about one thread. */
export type ThreadFacts = {
  tid: number;
  stackSize: number;
  altStackSize: number;
  isCoreThread: boolean;
  blockedSignals: number[];
};
/** Test support: the calling thread, the thread of the last Go call (with recording on),
 *  whether a Go runtime is loaded, and how the Go core set up now sizes encrypt output
 *  (computed by the shim, or asked of libasherah; null when none is set up) with the count
 *  of encrypts that asked libasherah, of Go calls made again with a larger output
 *  buffer, and of encrypts and decrypts made again after libasherah failed them (its
 *  session cache can close a session in use). `record` turns per-call recording on or
 *  off. */
export declare function _diagnostics(record?: boolean): {
  jsThread: ThreadFacts;
  lastGoCall: ThreadFacts | null;
  goLoaded: boolean;
  pid: number;
  goEstimate: 'local' | 'library' | null;
  goEstimateCalls: number;
  goOutputRetries: number;
  goFailureRetries: number;
};
/** For the doctor: every readable signal's current disposition, and the mapped file whose
 *  code its handler is (null for SIG_DFL/SIG_IGN). */
export declare function _signals(): Array<{
  signo: number;
  name: string;
  disposition: SignalDisposition;
  owner: string | null;
}>;
/** For the doctor: the paths of the shared objects loaded in this process. */
export declare function _libraries(): string[];
/** For the doctor: the JS thread, one of the host's N-API pool threads (null if the host
 *  cancelled the probe) and a core-host thread made as the cores' threads are. */
export declare function _threads(): Promise<{
  jsThread: ThreadFacts;
  poolThread: ThreadFacts | null;
  coreThread: ThreadFacts;
}>;

export declare const setupAsync: typeof setup_async;
export declare const shutdownAsync: typeof shutdown_async;
export declare const encryptAsync: typeof encrypt_async;
export declare const encryptString: typeof encrypt_string;
export declare const encryptStringAsync: typeof encrypt_string_async;
export declare const decryptAsync: typeof decrypt_async;
export declare const decryptString: typeof decrypt_string;
export declare const decryptStringAsync: typeof decrypt_string_async;
export declare const getSetupStatus: typeof get_setup_status;
export declare const setLogHook: typeof set_log_hook;
export declare const setMaxStackAllocItemSize: typeof set_max_stack_alloc_item_size;
export declare const setSafetyPaddingOverhead: typeof set_safety_padding_overhead;
export declare const signalReport: typeof signal_report;

// ---- asherah 4.x compatibility (GoDaddy's Rust `asherah` npm package) ----------------------
// Mapping and semantics: docs/migration-asherah-4.md.

/** asherah 4.x's camelCase config. Durations are **seconds** here (4.x's unit), or strings
 *  with a unit ("90d"). Do not mix with PascalCase keys: a mixed config is refused. */
export type AsherahConfigCamel = {
  serviceName: string;
  productId: string;
  metastore: string;
  connectionString?: string | null;
  sqlMetastoreDbType?: string | null;
  /** @deprecated 4.x's older spelling of sqlMetastoreDbType. */
  sqlMetastoreDBType?: string | null;
  replicaReadConsistency?: string | null;
  dynamoDbEndpoint?: string | null;
  dynamoDbRegion?: string | null;
  dynamoDbTableName?: string | null;
  /** @deprecated */ dynamoDBEndpoint?: string | null;
  /** @deprecated */ dynamoDBRegion?: string | null;
  /** @deprecated */ dynamoDBTableName?: string | null;
  enableRegionSuffix?: boolean | null;
  kms?: string | null;
  regionMap?: Record<string, string> | null;
  preferredRegion?: string | null;
  expireAfter?: number | string | null;
  checkInterval?: number | string | null;
  enableSessionCaching?: boolean | null;
  sessionCacheMaxSize?: number | null;
  sessionCacheDuration?: number | string | null;
  verbose?: boolean | null;
  disableZeroCopy?: boolean | null;
  nullDataCheck?: boolean | null;
  enableCanaries?: boolean | null;
  staticMasterKeyHex?: string | null;
  core?: 'native' | 'go';
  goLibrary?: string;
  timeoutMs?: number;
  coreThreads?: number;
  coreStackSize?: number;
  coreAffinity?: 'none' | 'follow-caller';
  coreIdleSpinMicros?: number;
  maxInputBytes?: number;
  maxQueuedCalls?: number;
};

/** 4.x's log event: `level` is the Rust `log::Level` name (4.x's numbers: 1 error, 2 warn,
 *  3 info, 4 debug, 5 trace); `severity` is the syslog number the two-argument hook gets. */
export type LogEvent = {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** "asherah-shim", "asherah-shim::native" (key and cache events) or "asherah-cobhan"
   *  (libasherah's own log lines). */
  target: string;
  severity: number;
};

export type MetricsEvent =
  | { type: 'encrypt' | 'decrypt' | 'store' | 'load'; durationNs: number }
  | { type: 'cache_hit' | 'cache_miss' | 'cache_stale'; name: string };

export declare function set_metrics_hook(hook: ((event: MetricsEvent) => void) | null): void;
export declare const setMetricsHook: typeof set_metrics_hook;
/** Internal (used by SessionFactory): the running instance's id, or null when none is ready. */
export declare function _instance_id(): number | null;
/** Internal (used by decrypt in index.js): this env's scratch array for small plaintexts. */
export declare function _decrypt_scratch(): Uint8Array;
/** Internal (used by decrypt in index.js): the plaintext's length if it was written into the
 *  scratch array, else the plaintext as a Buffer. */
export declare function _decrypt_into(partitionId: string, dataRowRecord: string | Uint8Array): number | Buffer;
/** Internal (used by decrypt_async in index.js): as _decrypt_into when the call ran inline,
 *  else the promise decrypt_async returns. */
export declare function _decrypt_async_into(partitionId: string, dataRowRecord: string | Uint8Array): number | Buffer | Promise<Buffer>;
/** Internal (used by encrypt_async in index.js): the record JSON when the call ran inline,
 *  else the promise encrypt_async returns. */
export declare function _encrypt_async_into(partitionId: string, data: Uint8Array): string | Promise<string>;
/** Fills a decrypted Buffer with zeros (null/undefined: no-op). */
export declare function clearPlaintext(plaintext: Buffer | Uint8Array | null | undefined): void;

/** Sets up the process-wide instance; one factory (or setup()) at a time. */
export declare class SessionFactory {
  constructor(config: AsherahConfig | AsherahConfigCamel);
  /** Not supported here: throws ERR_ASHERAH_CONFIG. */
  static fromEnv(): SessionFactory;
  /** Throws ERR_ASHERAH_FACTORY_CLOSED after close() or when its instance was replaced. */
  getSession(partitionId: string): AsherahSession;
  /** Shuts the instance down if it is still this factory's. Idempotent. */
  close(): void;
}

export declare class AsherahSession {
  encrypt(data: Buffer | Uint8Array): string;
  encryptString(data: string): string;
  decrypt(dataRowRecord: string | Buffer | Uint8Array): Buffer;
  decryptString(dataRowRecord: string | Buffer | Uint8Array): string;
  encryptAsync(data: Buffer | Uint8Array): Promise<string>;
  encryptStringAsync(data: string): Promise<string>;
  decryptAsync(dataRowRecord: string | Buffer | Uint8Array): Promise<Buffer>;
  decryptStringAsync(dataRowRecord: string | Buffer | Uint8Array): Promise<string>;
  /** Idempotent; later calls throw ERR_ASHERAH_SESSION_CLOSED. */
  close(): void;
}
