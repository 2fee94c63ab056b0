// A minimal stand-in for Bun's test/harness.ts, so that the Bun tests added by
// the series in ../bun-v1.3.14 and ../main run outside a Bun checkout (see
// ../test.sh). It provides only what those test files import, with the same
// meaning as the real harness; it is not a copy of it.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";

export const isWindows = process.platform === "win32";
export const isMacOS = process.platform === "darwin";
export const isLinux = process.platform === "linux";
export const isPosix = !isWindows;
export const isCI = process.env.CI !== undefined;
export const isMusl = isLinux && !process.report?.getReport?.()?.header?.glibcVersionRuntime;

/** The Bun binary under test: the one running the tests. */
export function bunExe(): string {
  return process.execPath;
}

/** The environment the real harness gives child processes: this one, quieter. */
export const bunEnv: Record<string, string | undefined> = {
  ...process.env,
  GITHUB_ACTIONS: "false",
  BUN_DEBUG_QUIET_LOGS: "1",
  NO_COLOR: "1",
  FORCE_COLOR: undefined,
  TZ: "Etc/UTC",
  CI: "1",
  BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0",
  BUN_FEATURE_FLAG_INTERNAL_FOR_TESTING: "1",
};

export function isGlibcVersionAtLeast(version: string): boolean {
  const running = process.report?.getReport?.()?.header?.glibcVersionRuntime;
  if (!running) return false;
  const [a, b] = String(running).split(".").map(Number);
  const [x, y] = version.split(".").map(Number);
  return a > x || (a === x && b >= y);
}

export function tmpdirSync(prefix = "bun-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function writeFiles(dir: string, files: Record<string, string>) {
  for (const [name, contents] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
  }
}

/** A new temporary directory holding `files`; its path. */
export function tempDirWithFiles(prefix: string, files: Record<string, string>): string {
  const dir = tmpdirSync(prefix + "-");
  writeFiles(dir, files);
  return dir;
}

/** Like tempDirWithFiles, removed again when disposed (`using dir = tempDir(...)`). */
export function tempDir(prefix: string, files: Record<string, string>) {
  const path = tempDirWithFiles(prefix, files);
  return {
    toString: () => path,
    [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }),
  };
}
