/**
 * What the native programs in tty/bin (ckpty-freezer, ckpty-thawer) have in common:
 * where they live, and how they report (JSON with byte-escaped strings). Their exit
 * statuses are ckpty's exit codes (tty/common/error.h, checked by
 * test/native-contract.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { CkptyError, ExitCode } from './errors.js';

/** The `ckpty` command itself (bin/ckpty): what a user or a session runs. */
export const CKPTY_COMMAND = new URL('../../bin/ckpty', import.meta.url).pathname;

/** Path of the native program `name`, built by `make -C tty`. */
export function nativeProgramPath(name: string): string {
  return new URL(`../../tty/bin/${name}`, import.meta.url).pathname;
}

/** Strings come with one \u00XX per byte that is not printable ASCII: give the bytes back as UTF-8. */
function decodeBytes(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** Fields that carry bytes (names, paths, messages), wherever they are in a report. */
const BYTE_FIELDS = new Set(['comm', 'path', 'error', 'image']);

function decodeFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeFields);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, BYTE_FIELDS.has(key) && typeof field === 'string' ? decodeBytes(field) : decodeFields(field)]),
  );
}

/** One JSON report of a native program, its names, paths and messages decoded; undefined if it is not a JSON object. */
export function parseNativeReport(text: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return decodeFields(parsed) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The error for a native program that could not be started at all. */
export function cannotRun(role: string, path: string, error: NodeJS.ErrnoException): CkptyError {
  const hint = error.code === 'ENOENT' ? ' (run `npm run build:native`)' : '';
  return new CkptyError(`cannot run the ${role} ${path}: ${error.message}${hint}`, ExitCode.internal);
}

/** `was killed by SIGKILL` or `exited with status 70`, for a native program that ended unexpectedly. */
export function howItEnded(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with status ${code}`;
}

/**
 * Run a native command (`ckpty freeze`, `ckpty thaw`) reached through Node rather than
 * bin/ckpty: the arguments the user gave after `command`, the terminal handed over, and
 * the same end (exit status, or death by the same signal).
 */
export function runNativeCommand(program: string, command: string): void {
  const at = process.argv.indexOf(command, 2);
  const run = spawnSync(nativeProgramPath(program), process.argv.slice(at + 1), { stdio: 'inherit' });
  if (run.signal) process.kill(process.pid, run.signal);
  process.exitCode = run.status ?? 128 + constants.signals[run.signal ?? 'SIGKILL'];
}
