/**
 * What the native programs in tty/bin (ckpty-freezer, ckpty-thawer) have in common:
 * where they live, how they report (JSON with byte-escaped strings), and their exit
 * statuses: every failure class they share with ckpty (enum frz_class, enum
 * thaw_class) has the number of ckpty's exit code for it.
 */
import { CkptyError, ExitCode, type ExitCodeValue } from './errors.js';

/** The `ckpty` command itself (bin/ckpty): what a user or a session runs. */
export const CKPTY_COMMAND = new URL('../../bin/ckpty', import.meta.url).pathname;

/** Path of the native program `name`, built by `make -C tty`. */
export function nativeProgramPath(name: string): string {
  return new URL(`../../tty/bin/${name}`, import.meta.url).pathname;
}

const SHARED_CLASSES = new Set<number>([
  ExitCode.unsupported,
  ExitCode.permission,
  ExitCode.badImage,
  ExitCode.io,
  ExitCode.changed,
  ExitCode.notFound,
]);

/**
 * ckpty's exit code for a native program's failure class; `own` maps the classes only
 * that program has. Anything else, their usage status 2 included (we called them
 * wrongly), is an internal error.
 */
export function exitCodeOfStatus(status: number, own: Readonly<Record<number, ExitCodeValue>> = {}): ExitCodeValue {
  return SHARED_CLASSES.has(status) ? (status as ExitCodeValue) : (own[status] ?? ExitCode.internal);
}

/** Strings come with one \u00XX per byte that is not printable ASCII: give the bytes back as UTF-8. */
function decodeBytes(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** One JSON report of a native program, its names and messages decoded; undefined if it is not a JSON object. */
export function parseNativeReport(text: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(text) as Record<string, unknown> | null;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    for (const key of ['comm', 'path', 'error']) {
      const value = parsed[key];
      if (typeof value === 'string') parsed[key] = decodeBytes(value);
    }
    return parsed;
  } catch {
    return undefined;
  }
}

/** `: no such file or directory` when a failure report's errno adds to its message, else ''. */
export function errnoCause(report: { error: string; errno: number; errno_text: string }): string {
  return report.errno && !report.error.includes(report.errno_text) ? `: ${report.errno_text.toLowerCase()}` : '';
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
