/**
 * Running tty/bin/ckpty-freezer: its command line and its one-line JSON answer
 * (contract in tty/freezer/main.c). Spawned directly, no shell.
 */
import { spawn } from 'node:child_process';
import { CkptyError, ExitCode } from '../cli/errors.js';

export const FREEZER_PATH = new URL('../../tty/bin/ckpty-freezer', import.meta.url).pathname;

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
  out: string;
  snapshot: boolean;
  exitStatus: number;
  owner?: { uid: number; gid: number };
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

/** Strings come with one \u00XX per byte that is not printable ASCII: give the bytes back as UTF-8. */
function decodeBytes(value: unknown): unknown {
  if (typeof value === 'string') return Buffer.from(value, 'latin1').toString('utf8');
  return value;
}

function parseReport(stdout: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(stdout.trim()) as Record<string, unknown>;
    for (const key of ['comm', 'path', 'error']) if (key in parsed) parsed[key] = decodeBytes(parsed[key]);
    return parsed;
  } catch {
    return undefined;
  }
}

export function freezerArgs(request: NativeFreezeRequest): string[] {
  const args = ['--pid', String(request.pid), '--out', request.out, '--exit-status', String(request.exitStatus)];
  if (request.snapshot) args.push('--snapshot');
  if (request.owner) args.push('--owner', `${request.owner.uid}:${request.owner.gid}`);
  return args;
}

/** Run the freezer; resolves with its report, rejects with a FreezerFailure (or a CkptyError when it could not run). */
export function runFreezer(request: NativeFreezeRequest): Promise<NativeFreezeReport> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(FREEZER_PATH, freezerArgs(request), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'ENOENT' ? ' (run `npm run build:native`)' : '';
      reject(new CkptyError(`cannot run the freezer ${FREEZER_PATH}: ${error.message}${hint}`, ExitCode.internal));
    });
    child.on('close', (code, signal) => {
      const report = parseReport(Buffer.concat(out).toString('latin1'));
      if (code === FreezerStatus.ok && report && !('error' in report)) {
        resolvePromise(report as unknown as NativeFreezeReport);
      } else if (code !== null && report && 'error' in report) {
        reject(new FreezerFailure(code, report as unknown as NativeFreezeError));
      } else {
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        const detail = Buffer.concat(err).toString().trim();
        reject(new CkptyError(`the freezer ${how}${detail ? `: ${detail}` : ''}`, ExitCode.internal));
      }
    });
  });
}
