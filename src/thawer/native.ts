/**
 * Running tty/bin/ckpty-thawer (contract in tty/thawer/main.c): it inherits our
 * stdin/stdout/stderr, which become the program's, and reports JSON lines on fd 3,
 * a socket. On "ready" the program is rebuilt but still stopped and the terminal is
 * in its modes; it starts when we answer, so whatever we print comes first.
 * A failure before that reports its class (enum thaw_class), which is ckpty's exit
 * code for it (base/native-programs.ts).
 */
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { CkptyError, ExitCode } from '../base/errors.js';
import { LineSplitter } from '../base/json-lines.js';
import { cannotRun, howItEnded, nativeProgramPath, parseNativeReport } from '../base/native-programs.js';

export const THAWER_PATH = nativeProgramPath('ckpty-thawer');

export interface NativeThawReady {
  event: 'ready';
  pid: number;
  comm: string;
  mappings: number;
  stored: number;
  lazy: number;
  copied: number;
  fpu_only: boolean;
  duration_ns: number;
}

export interface NativeThawError {
  error: string;
  class: number;
  errno: number;
  errno_text: string;
  stage: string;
  path: string;
}

/** A failure the thawer reported before the program ran: nothing was started. */
export class ThawerFailure extends Error {
  constructor(readonly report: NativeThawError) {
    super(report.error);
    this.name = 'ThawerFailure';
  }
}

/** How the thawed program ended (the thawer ends the same way). */
export type ProgramEnd = { code: number; signal: null } | { code: null; signal: NodeJS.Signals };

export interface ThawerRun {
  /** Resolves once the program is rebuilt, before it runs; rejects with a ThawerFailure. */
  ready: Promise<NativeThawReady>;
  /** Let the program run (after printing whatever must come first). */
  start(): void;
  /** Resolves when the program has ended. */
  ended: Promise<ProgramEnd>;
}

export function runThawer(image: string): ThawerRun {
  const child = spawn(THAWER_PATH, ['--report-fd', '3', image], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
  const channel = child.stdio[3] as Duplex;
  let settleReady: { resolve(r: NativeThawReady): void; reject(e: Error): void } | undefined;
  const ready = new Promise<NativeThawReady>((resolve, reject) => (settleReady = { resolve, reject }));
  // The caller may never wait on `ready` after a failure it learns from `ended`.
  ready.catch(() => undefined);

  const lines = new LineSplitter();
  channel.setEncoding('latin1');
  channel.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) {
      const report = parseNativeReport(line) as NativeThawReady | NativeThawError | undefined;
      if (report && 'error' in report) settleReady?.reject(new ThawerFailure(report));
      else if (report?.event === 'ready') settleReady?.resolve(report);
    }
  });
  // The thawer closes its end once the program runs; a reset after it ended is no news.
  channel.on('error', () => undefined);

  const ended = new Promise<ProgramEnd>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      const failure = cannotRun('thawer', THAWER_PATH, error);
      settleReady?.reject(failure);
      reject(failure);
    });
    // 'close', not 'exit': the report channel has been read to its end by then.
    child.on('close', (code, signal) => {
      const lost = new CkptyError(`the thawer ${howItEnded(code, signal)} before the program ran`, ExitCode.internal);
      // A no-op when ready was settled: the program ran and this is its end.
      settleReady?.reject(lost);
      resolve(signal ? { code: null, signal } : { code: code ?? ExitCode.internal, signal: null });
    });
  });

  return {
    ready,
    start: () => {
      channel.end('g');
    },
    ended,
  };
}
