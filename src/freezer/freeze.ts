/**
 * Freezing a job: the image path, the native freezer (which decides what may be
 * frozen), and the wording of its failures. `freezeProcess` is what the session host
 * calls on the checkpoint key; `runFreeze` is the `ckpty freeze` command around it.
 */
import { CkptyError, ExitCode, FROZEN_EXIT_STATUS, type ExitCodeValue } from '../base/errors.js';
import { formatBytes, formatMilliseconds, jobLabel, processLabel } from '../base/format.js';
import { errnoCause, exitCodeOfStatus } from '../base/native-programs.js';
import { FreezerFailure, FreezerStatus, runFreezer } from './native.js';
import { freezeCandidate } from './candidate.js';
import { checkImagePath, imageTarget } from './target.js';

export interface FreezeOptions {
  /**
   * The whole process group of the process (the terminal's job, as the key freezes it);
   * without it, the process and its descendants that are still in its group.
   */
  job?: boolean;
  /**
   * Refuse a process whose soft core size limit is 0: its opt-out of the checkpoint key
   * (DragonFly's RLIMIT_CORE rule). An explicit `ckpty freeze PID` ignores it, as gcore does.
   */
  honourCoreLimit?: boolean;
  /** Image file (relative to the caller's directory); default: the name template. */
  output?: string;
  /** Name template, relative to the process's current directory; default `%N.ckpt`. */
  nameTemplate?: string;
  /** Write the image and let the process run on. */
  snapshot?: boolean;
  /** What the terminal shows, as bytes that paint it again: stored for the thaw to repaint. */
  screen?: Uint8Array;
  /** Unix sockets connected outside the job are thawed as closed connections (EOF, EPIPE) instead of refused. */
  closeOutsideSockets?: boolean;
  /** Most bytes of one deleted file or memfd the image stores (default 64 MiB); a larger one is refused. */
  maxContents?: number;
}

/** A process of a frozen job, as the freezer found it. */
export interface FrozenMember {
  pid: number;
  comm: string;
  threads: number;
  /** Ended already; its parent had not collected its status. */
  zombie: boolean;
}

export interface FreezeResult {
  /** The job's first process (the one named, or the group's leader). */
  pid: number;
  comm: string;
  /** Live processes and their threads. */
  processes: number;
  threads: number;
  members: FrozenMember[];
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
  // A refusal says by itself that nothing happened; a failure on the way says what became of the job.
  const refusal = status === FreezerStatus.unsupported || status === FreezerStatus.permission || status === FreezerStatus.notFound;
  const fate = !report.restored
    ? `; ${label} could not be put back as it was and may misbehave`
    : refusal
      ? ''
      : `; ${label} runs on untouched`;
  const what = status === FreezerStatus.io || status === FreezerStatus.target ? `cannot write the image ${path}` : `cannot freeze ${label}`;
  return new CkptyError(`${what}: ${report.error}${errnoCause(report)}${fate}`, exitCodeOfStatus(status, FREEZER_EXIT_CODES));
}

export async function freezeProcess(pid: number, options: FreezeOptions = {}): Promise<FreezeResult> {
  const started = performance.now();
  if (!Number.isInteger(pid) || pid <= 0) throw new CkptyError(`bad process id '${pid}'`, ExitCode.usage);
  const candidate = freezeCandidate(pid);
  const target = imageTarget(options, candidate);
  checkImagePath(target.path);
  const caller = process.geteuid?.() ?? 0;
  // Root freezing someone else's process gives them the image: it holds their memory, and they thaw it.
  const owner = caller === 0 && candidate.uid !== 0 ? { uid: candidate.uid, gid: candidate.gid } : undefined;
  const label = processLabel(pid, candidate.comm);
  try {
    const report = await runFreezer({
      pid,
      job: options.job ?? false,
      honourCoreLimit: options.honourCoreLimit ?? false,
      target: target.native,
      snapshot: options.snapshot ?? false,
      screen: options.screen,
      closeOutsideSockets: options.closeOutsideSockets,
      maxContents: options.maxContents,
      exitStatus: FROZEN_EXIT_STATUS,
      owner,
    });
    return {
      pid: report.pid,
      comm: report.comm,
      processes: report.processes,
      threads: report.threads,
      members: report.members,
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
  return `${verb} ${jobLabel(result.pid, result.members.map((member) => member.comm), result.processes)} -> ${result.path} (${formatBytes(result.bytes)}, ${formatMilliseconds(result.durationMs)})`;
}

export interface FreezeCommandOptions {
  job?: boolean;
  output?: string;
  nameTemplate?: string;
  snapshot?: boolean;
  closeOutsideSockets?: boolean;
  /** As typed: "256M", "1G", bytes. */
  maxContents?: string;
  json?: boolean;
}

/** "64M", "512k", "1G" or a number of bytes: --max-contents. */
export function parseSize(text: string): number {
  const match = /^(\d+)([kKmMgG]?)(i?B)?$/.exec(text.trim());
  if (!match) throw new CkptyError(`bad size '${text}' (a number of bytes, or with k, M or G)`, ExitCode.usage);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** `ckpty freeze PID …` */
export async function runFreeze(pidText: string, options: FreezeCommandOptions): Promise<void> {
  if (!/^\d+$/.test(pidText)) throw new CkptyError(`bad process id '${pidText}'`, ExitCode.usage);
  const result = await freezeProcess(Number(pidText), {
    job: options.job,
    output: options.output,
    nameTemplate: options.nameTemplate,
    snapshot: options.snapshot,
    closeOutsideSockets: options.closeOutsideSockets,
    maxContents: options.maxContents === undefined ? undefined : parseSize(options.maxContents),
  });
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${describeFreeze(result)}\n`);
}
