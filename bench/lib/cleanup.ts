/**
 * Everything a bench run leaves behind — processes on ptys, gcore and freezer children,
 * the tmux server, GiB-sized files — is registered here and removed on every way out:
 * normal end, an exception, ^C, SIGTERM, SIGHUP.
 */
import { rmSync } from 'node:fs';
import { killSession, sigkill } from './proc.js';

const sessions = new Set<number>();
const pids = new Set<number>();
const paths = new Set<string>();
const hooks = new Set<() => void>();

export const track = {
  session: (sid: number) => sessions.add(sid),
  pid: (pid: number) => pids.add(pid),
  path: (path: string) => paths.add(path),
  hook: (fn: () => void) => hooks.add(fn),
};

export const untrack = {
  session: (sid: number) => sessions.delete(sid),
  pid: (pid: number) => pids.delete(pid),
  path: (path: string) => paths.delete(path),
  hook: (fn: () => void) => hooks.delete(fn),
};

export function cleanupNow(): void {
  for (const sid of sessions) killSession(sid);
  for (const pid of pids) sigkill(pid);
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // Best effort: the remaining cleanups must still run.
    }
  }
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  sessions.clear();
  pids.clear();
  hooks.clear();
  paths.clear();
}

const TERMINATING_SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

export function installCleanupHandlers(): void {
  process.on('exit', cleanupNow);
  for (const [name, number] of Object.entries(TERMINATING_SIGNALS)) {
    process.on(name, () => {
      process.stderr.write(`\nbench: ${name}, cleaning up\n`);
      cleanupNow();
      process.exit(128 + number);
    });
  }
  const crash = (err: unknown): void => {
    process.stderr.write(`bench: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    cleanupNow();
    process.exit(70);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
