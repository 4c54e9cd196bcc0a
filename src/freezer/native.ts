/**
 * Running tty/bin/ckpty-freezer: its command line and its one-line JSON answer
 * (contract in tty/freezer/main.c). Spawned directly, no shell.
 */
import { spawn } from 'node:child_process';
import { CkptyError, ExitCode } from '../base/errors.js';
import { cannotRun, howItEnded, nativeProgramPath, parseNativeReport } from '../base/native-programs.js';

export const FREEZER_PATH = nativeProgramPath('ckpty-freezer');

/** The freezer's exit status per failure class (enum frz_class). */
export const FreezerStatus = {
  ok: 0,
  usage: 2,
  unsupported: 3,
  permission: 4,
  io: 6,
  notFound: 8,
  target: 9,
  notRestored: 10,
  internal: 70,
} as const;

export interface NativeFreezeRequest {
  pid: number;
  /** Where the image goes: a path (relative to our directory) or a name in the process's own directory. */
  target: { path: string } | { nameInCwd: string };
  snapshot: boolean;
  exitStatus: number;
  owner?: { uid: number; gid: number };
  /** What the terminal shows, as bytes that paint it again (NT_CKPT_SCREEN). */
  screen?: Uint8Array;
  /** The modes (`stty -g` form) the job's shell expects back when the job ends. */
  shellModes?: string;
}

export interface NativeFreezeReport {
  pid: number;
  comm: string;
  path: string;
  bytes: number;
  stored: number;
  mappings: number;
  loads: number;
  snapshot: boolean;
  was_stopped: boolean;
  restart: number;
  exit_status: number | null;
  duration_ns: number;
  seized_ns: number;
  stages_ns: Record<string, number>;
}

export interface NativeFreezeError {
  error: string;
  errno: number;
  errno_text: string;
  stage: string;
  restored: boolean;
}

/** A failure the freezer reported, with its class. */
export class FreezerFailure extends Error {
  constructor(
    readonly status: number,
    readonly report: NativeFreezeError,
  ) {
    super(report.error);
    this.name = 'FreezerFailure';
  }
}

export function freezerArgs(request: NativeFreezeRequest): string[] {
  const target = 'path' in request.target ? ['--out', request.target.path] : ['--name', request.target.nameInCwd];
  const args = ['--pid', String(request.pid), ...target, '--exit-status', String(request.exitStatus)];
  if (request.snapshot) args.push('--snapshot');
  if (request.owner) args.push('--owner', `${request.owner.uid}:${request.owner.gid}`);
  if (request.screen) args.push('--screen-stdin');
  if (request.shellModes) args.push('--shell-modes', request.shellModes);
  return args;
}

/** Run the freezer; resolves with its report, rejects with a FreezerFailure (or a CkptyError when it could not run). */
export function runFreezer(request: NativeFreezeRequest): Promise<NativeFreezeReport> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(FREEZER_PATH, freezerArgs(request), { stdio: ['pipe', 'pipe', 'pipe'] });
    // The screen is read whole before the process is seized; a freezer that refused early just closes it.
    child.stdin.on('error', () => undefined);
    child.stdin.end(request.screen);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => reject(cannotRun('freezer', FREEZER_PATH, error)));
    child.on('close', (code, signal) => {
      const report = parseNativeReport(Buffer.concat(out).toString('latin1'));
      if (code === FreezerStatus.ok && report && !('error' in report)) {
        resolvePromise(report as unknown as NativeFreezeReport);
      } else if (code !== null && report && 'error' in report) {
        reject(new FreezerFailure(code, report as unknown as NativeFreezeError));
      } else {
        const detail = Buffer.concat(err).toString().trim();
        reject(new CkptyError(`the freezer ${howItEnded(code, signal)}${detail ? `: ${detail}` : ''}`, ExitCode.internal));
      }
    });
  });
}
