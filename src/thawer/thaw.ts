/**
 * `ckpty thaw FILE`: check the image, have the native thawer rebuild the process as
 * our child's child in this terminal, and end the way the program ends.
 *
 * As a job: the shell's foreground job is this Node process, the thawer
 * (`ckpty-thawer`) and the program, all in one process group. ^C, ^\ and `kill %1`
 * reach all three: Node and the thawer ignore them and the program decides. ^Z
 * stops all three and `fg` continues them. When the program ends, the thawer ends
 * the same way, and so does this process: the same exit status, or the same signal
 * re-raised, so the shell sees what it would have seen of the program itself. The
 * session host recognises this process by its title `ckpty-thaw` and the thawer by
 * its name `ckpty-thawer`; the program is the thawer's only child.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { constants, release } from 'node:os';
import { resolve } from 'node:path';
import { CkptyError } from '../base/errors.js';
import { formatBytes, formatMilliseconds, processLabel } from '../base/format.js';
import { errnoCause, exitCodeOfStatus } from '../base/native-programs.js';
import type { Image } from '../image/image.js';
import { runThawer, ThawerFailure, type NativeThawReady, type ProgramEnd } from './native.js';
import { validateImage } from './validate.js';
import { askHost, SOCKET_ENV } from '../base/control-protocol.js';

export const THAW_PROCESS_TITLE = 'ckpty-thaw';

export interface ThawCommandOptions {
  json?: boolean;
  quiet?: boolean;
}

export interface ThawResult {
  pid: number;
  comm: string;
  /** Absolute path of the image. */
  image: string;
  mappings: number;
  storedBytes: number;
  /** Memory mapped straight from the image (read when the program touches it). */
  lazyBytes: number;
  copiedBytes: number;
  /** The image's AVX/XSAVE state did not fit this CPU: only x87/SSE registers came back. */
  fpuOnly: boolean;
  /** From the command's start until the program was ready to run. */
  durationMs: number;
  /** The native thawer's part of it. */
  rebuildMs: number;
}

/** Signals a job gets as a whole; the program decides on them, we stay to report its end. */
const JOB_SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM'];
/** Signals whose default action writes a core file. */
const CORE_SIGNALS = new Set<NodeJS.Signals>(['SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGXCPU', 'SIGXFSZ', 'SIGSYS']);

function describeFailure(failure: ThawerFailure, path: string, image: Image): CkptyError {
  const { report } = failure;
  const kernels = report.stage === 'compat' ? ` (frozen on Linux ${image.process.kernelRelease}, this is Linux ${release()})` : '';
  return new CkptyError(`cannot thaw ${path}: ${report.error}${errnoCause(report)}${kernels}`, exitCodeOfStatus(report.class));
}

/** `thawed bc[4242] from /home/u/bc.ckpt (1.4 MiB, 3.1 ms)` */
export function describeThaw(result: ThawResult): string {
  const fpu = result.fpuOnly ? '; its AVX registers did not fit this CPU, only x87/SSE came back' : '';
  return `thawed ${processLabel(result.pid, result.comm)} from ${result.image} (${formatBytes(result.storedBytes)}, ${formatMilliseconds(result.durationMs)})${fpu}`;
}

function holdJobSignals(): () => void {
  const ignore = (): void => undefined;
  for (const signal of JOB_SIGNALS) process.on(signal, ignore);
  return () => {
    for (const signal of JOB_SIGNALS) process.off(signal, ignore);
  };
}

/**
 * Node restores the terminal modes it found at start-up when it exits (ResetStdio),
 * which would undo whatever the program set or left on purpose. It skips descriptors
 * that are closed: the program has its own copies, and we print nothing more.
 */
function letGoOfTerminal(): void {
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/** End this process like the program ended. */
function endLike(end: ProgramEnd): void {
  if (end.signal === null) {
    process.exitCode = end.code;
    return;
  }
  // The program wrote its core (or did not, by its limit); a second one of Node would only litter.
  if (CORE_SIGNALS.has(end.signal)) spawnSync('prlimit', ['--pid', String(process.pid), '--core=0:0'], { stdio: 'ignore' });
  process.kill(process.pid, end.signal);
  // Still here: Node ignores that signal (SIGPIPE). Say it the shell's way.
  process.exitCode = 128 + constants.signals[end.signal];
}

function result(path: string, ready: NativeThawReady, started: number): ThawResult {
  return {
    pid: ready.pid,
    comm: ready.comm,
    image: path,
    mappings: ready.mappings,
    storedBytes: ready.stored,
    lazyBytes: ready.lazy,
    copiedBytes: ready.copied,
    fpuOnly: ready.fpu_only,
    durationMs: performance.now() - started,
    rebuildMs: ready.duration_ns / 1e6,
  };
}

/**
 * Inside a ckpty session, let its host know (recordings mark the thaw). Best effort
 * and bounded: a thaw outside a session, or whose host is gone, goes on regardless.
 */
async function tellSessionHost(thawed: ThawResult): Promise<void> {
  const socket = process.env[SOCKET_ENV];
  if (!socket) return;
  const notice = askHost(socket, [{ op: 'thawed', pid: thawed.pid, comm: thawed.comm, image: thawed.image }]);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
  await Promise.race([notice.then(() => undefined, () => undefined), timeout]);
}

/** `ckpty thaw FILE [--json] [--quiet]` */
export async function runThaw(file: string, options: ThawCommandOptions): Promise<void> {
  const started = performance.now();
  process.title = THAW_PROCESS_TITLE;
  const path = resolve(file);
  const image = await validateImage(path);

  const releaseSignals = holdJobSignals();
  const thawer = runThawer(path);
  let ready: NativeThawReady;
  try {
    ready = await thawer.ready;
  } catch (err) {
    await thawer.ended;
    releaseSignals();
    throw err instanceof ThawerFailure ? describeFailure(err, path, image) : err;
  }
  const thawed = result(path, ready, started);
  await tellSessionHost(thawed);
  // fs.writeSync, not process.stdout/stderr: those would reopen our terminal non-blocking,
  // and the program inherits the descriptors as they are now. \r\n: the terminal is in
  // the program's modes already, maybe raw.
  if (options.json) writeSync(1, `${JSON.stringify(thawed)}\r\n`);
  else if (!options.quiet) writeSync(2, `ckpty: ${describeThaw(thawed)}\r\n`);
  thawer.start();
  letGoOfTerminal();
  const end = await thawer.ended;
  releaseSignals();
  endLike(end);
}
