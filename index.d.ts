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
  /** "static" (test key; both cores) or "aws" (Go core). Default: "static" on the native
   *  core, "aws" on the Go core (as libasherah). */
  KMS?: string | null;
  /** REGION -> ARN, or "REGION1=ARN1,REGION2=ARN2". */
  RegionMap?: { [region: string]: string } | string | null;
  PreferredRegion?: string | null;
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

/** level: syslog severity (3 error, 4 warning, 6 info, 7 debug). */
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

/** Errors carry a stable `code` (README "Errors"), e.g. ERR_ASHERAH_NOT_INITIALIZED,
 *  ERR_ASHERAH_CONFIG, ERR_ASHERAH_INVALID_ARGUMENT, ERR_ASHERAH_DECRYPT_FAILED,
 *  ERR_ASHERAH_TIMEOUT, ERR_ASHERAH_QUEUE_TIMEOUT, ERR_ASHERAH_OVERLOADED. */
export interface AsherahError extends Error {
  code: string;
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

export declare function setup(config: AsherahConfig): void;
export declare function setup_async(config: AsherahConfig): Promise<void>;
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
export declare function set_log_hook(logHook: LogHookCallback | null): void;
/** Sets variables in the real process environment (and in a loaded Go runtime). Values
 *  must be strings; variables cannot be removed. Accepts an object or its JSON. */
export declare function setenv(env: { [name: string]: string } | string): void;
/** Accepted for asherah-node compatibility; this shim never stack-allocates caller data. */
export declare function set_max_stack_alloc_item_size(maxItemSize: number): void;
/** Extra output buffer capacity for the Go core, in bytes. */
export declare function set_safety_padding_overhead(safetyPaddingOverhead: number): void;
/** What the signal guard found and did when the Go runtime was loaded. */
export declare function signal_report(): SignalDecision[];

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
