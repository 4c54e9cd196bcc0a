/**
 * Everything a bench run leaves behind — processes on ptys, gcore and freezer children,
 * the tmux server, GiB-sized files — is registered here and removed on every way out:
 * normal end, an exception, ^C, SIGTERM, SIGHUP.
 */
import { rmSync } from 'node:fs';
import { killSession, sigkill } from './proc.js';

const sessions = new Set();
const pids = new Set();
const paths = new Set();
const hooks = new Set();

export const track = {
  session: (sid) => sessions.add(sid),
  pid: (pid) => pids.add(pid),
  path: (path) => paths.add(path),
  hook: (fn) => hooks.add(fn),
};

export const untrack = {
  session: (sid) => sessions.delete(sid),
  pid: (pid) => pids.delete(pid),
  path: (path) => paths.delete(path),
  hook: (fn) => hooks.delete(fn),
};

export function cleanupNow() {
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

export function installCleanupHandlers() {
  process.on('exit', cleanupNow);
  for (const [name, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
    ['SIGHUP', 1],
  ]) {
    process.on(name, () => {
      process.stderr.write(`\nbench: ${name}, cleaning up\n`);
      cleanupNow();
      process.exit(128 + number);
    });
  }
  const crash = (err) => {
    process.stderr.write(`bench: internal error: ${err?.stack ?? err}\n`);
    cleanupNow();
    process.exit(70);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
