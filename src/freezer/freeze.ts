/**
 * Freezing one process: policy checks, the image path, the native freezer, and the
 * wording of its failures. `freezeProcess` is what the session host calls on the
 * checkpoint key; `runFreeze` is the `ckpty freeze` command around it.
 */
import { CkptyError, ExitCode, FROZEN_EXIT_STATUS, type ExitCodeValue } from '../base/errors.js';
import { formatBytes, formatMilliseconds, processLabel } from '../base/format.js';
import { errnoCause, exitCodeOfStatus } from '../base/native-programs.js';
import { FreezerFailure, FreezerStatus, runFreezer } from './native.js';
import { checkFreezable, type FreezeRules } from './policy.js';
import { checkImagePath, imageTarget } from './target.js';

export interface FreezeOptions extends FreezeRules {
  /** Image file (relative to the caller's directory); default: the name template. */
  output?: string;
  /** Name template, relative to the process's current directory; default `%N.ckpt`. */
  nameTemplate?: string;
  /** Write the image and let the process run on. */
  snapshot?: boolean;
  /** What the terminal shows, as bytes that paint it again: stored for the thaw to repaint. */
  screen?: Uint8Array;
  /** The terminal modes (`stty -g` form) to leave for the shell as a frozen job ends. */
  shellModes?: string;
}

export interface FreezeResult {
  pid: number;
  comm: string;
  /** Absolute path of the image. */
  path: string;
  /** Size of the image file. */
  bytes: number;
  /** Memory stored in it. */
  storedBytes: number;
  mappings: number;
  snapshot: boolean;
  /** The process was in a job-control stop (^Z) when frozen. */
  wasStopped: boolean;
  /** The exit status the frozen process ended with; null for a snapshot. */
  exitStatus: number | null;
  /** Whole freeze as seen by the caller: checks, the freezer's start-up, the image made durable. */
  durationMs: number;
  /** How long the process was held by the freezer. */
  seizedMs: number;
}

/** Exit codes for the freezer's own failure classes; the rest are ckpty's (base/native-programs.ts). */
const FREEZER_EXIT_CODES: Record<number, ExitCodeValue> = {
  [FreezerStatus.target]: ExitCode.io,
  [FreezerStatus.notRestored]: ExitCode.failure,
};

function describeFailure(failure: FreezerFailure, label: string, path: string): CkptyError {
  const { report, status } = failure;
  const fate = report.restored
    ? status === FreezerStatus.notFound
      ? ''
      : `; ${label} runs on untouched`
    : `; ${label} could not be put back as it was and may misbehave`;
  const what = status === FreezerStatus.io || status === FreezerStatus.target ? `cannot write the image ${path}` : `cannot freeze ${label}`;
  return new CkptyError(`${what}: ${report.error}${errnoCause(report)}${fate}`, exitCodeOfStatus(status, FREEZER_EXIT_CODES));
}

export async function freezeProcess(pid: number, options: FreezeOptions = {}): Promise<FreezeResult> {
  const started = performance.now();
  if (!Number.isInteger(pid) || pid <= 0) throw new CkptyError(`bad process id '${pid}'`, ExitCode.usage);
  const candidate = checkFreezable(pid, { honourCoreLimit: options.honourCoreLimit });
  const target = imageTarget(options, candidate);
  checkImagePath(target.path);
  const caller = process.geteuid?.() ?? 0;
  // Root freezing someone else's process gives them the image: it holds their memory, and they thaw it.
  const owner = caller === 0 && candidate.uid !== 0 ? { uid: candidate.uid, gid: candidate.gid } : undefined;
  const label = processLabel(pid, candidate.comm);
  try {
    const report = await runFreezer({
      pid,
      target: target.native,
      snapshot: options.snapshot ?? false,
      screen: options.screen,
      shellModes: options.shellModes,
      exitStatus: FROZEN_EXIT_STATUS,
      owner,
    });
    return {
      pid,
      comm: report.comm,
      path: report.path,
      bytes: report.bytes,
      storedBytes: report.stored,
      mappings: report.mappings,
      snapshot: report.snapshot,
      wasStopped: report.was_stopped,
      exitStatus: report.exit_status,
      durationMs: performance.now() - started,
      seizedMs: report.seized_ns / 1e6,
    };
  } catch (err) {
    if (err instanceof FreezerFailure) throw describeFailure(err, label, target.path);
    throw err;
  }
}

/** `froze bc[4242] -> /home/u/bc.ckpt (1.4 MiB, 9 ms)`; a snapshot reads `snapshot of …`. */
export function describeFreeze(result: FreezeResult): string {
  const verb = result.snapshot ? 'snapshot of' : 'froze';
  return `${verb} ${processLabel(result.pid, result.comm)} -> ${result.path} (${formatBytes(result.bytes)}, ${formatMilliseconds(result.durationMs)})`;
}

export interface FreezeCommandOptions {
  output?: string;
  nameTemplate?: string;
  snapshot?: boolean;
  json?: boolean;
}

/** `ckpty freeze PID …` */
export async function runFreeze(pidText: string, options: FreezeCommandOptions): Promise<void> {
  if (!/^\d+$/.test(pidText)) throw new CkptyError(`bad process id '${pidText}'`, ExitCode.usage);
  const result = await freezeProcess(Number(pidText), {
    output: options.output,
    nameTemplate: options.nameTemplate,
    snapshot: options.snapshot,
  });
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${describeFreeze(result)}\n`);
}
