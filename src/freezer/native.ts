/**
 * Running tty/bin/ckpty-freezer, which does the whole freeze and words every outcome
 * (contract in tty/freezer/main.c): once per freeze (`runFreezer`), or resident for a
 * session (`ResidentFreezer`, its --serve mode), so that the checkpoint key wakes a child
 * the small program forked beforehand rather than Node spawning one. Spawned directly,
 * no shell.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CkptyError, ExitCode, type ExitCodeValue } from '../base/errors.js';
import { LineSplitter } from '../base/json-lines.js';
import { cannotRun, howItEnded, nativeProgramPath, parseNativeReport } from '../base/native-programs.js';

export const FREEZER_PATH = nativeProgramPath('ckpty-freezer');

export interface FreezeRequest {
  pid: number;
  /** Its whole process group, rather than it and its descendants in the group. */
  job?: boolean;
  /** Image file, relative to the caller's directory; else the name template. */
  output?: string;
  /** Image name relative to the process's directory (%N %P %U %%); default `%N.ckpt`. */
  nameTemplate?: string;
  /** Write the image and let the job run on. */
  snapshot?: boolean;
  /** A soft core size limit of 0 opts a process out (the key's rule; `ckpty freeze PID` ignores it, as gcore does). */
  honourCoreLimit?: boolean;
  /** Sockets connected outside the job are thawed closed instead of refused. */
  closeOutsideSockets?: boolean;
  /** The most bytes of one deleted file or memfd stored. */
  maxContents?: number;
  /**
   * What the terminal shows, as bytes that paint it again (NT_CKPT_SCREEN). It may come
   * later than the request: the freezer reads it once the job is captured.
   */
  screen?: Uint8Array | PromiseLike<Uint8Array | undefined>;
  /** The modes (`stty -g` form) the job's shell expects back when the job ends. */
  shellModes?: string;
}

/** A process of a frozen job, as the freezer found it. */
export interface FrozenMember {
  pid: number;
  comm: string;
  threads: number;
  /** Ended already; its parent had not collected its status. */
  zombie: boolean;
}

/** The freezer's report of a freeze (--report). */
export interface FreezerReport {
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
  /** Memory and data stored in it. */
  storedBytes: number;
  mappings: number;
  loads: number;
  snapshot: boolean;
  /** The job was in a job-control stop (^Z) when frozen. */
  wasStopped: boolean;
  /** The exit status the frozen processes ended with; null for a snapshot. */
  exitStatus: number | null;
  /** The freezer's own time, from its start. */
  durationMs: number;
  /** How long the job was held. */
  seizedMs: number;
  stagesMs: { capture: number; copy: number; sync: number; end: number };
}

/** The command line for a request (without --report or --serve). */
export function freezerArgs(request: FreezeRequest): string[] {
  const args: string[] = [];
  if (request.job) args.push('--job');
  if (request.output !== undefined) args.push('--output', request.output);
  if (request.nameTemplate !== undefined) args.push('--name-template', request.nameTemplate);
  if (request.snapshot) args.push('--snapshot');
  if (request.honourCoreLimit) args.push('--honour-core-limit');
  if (request.closeOutsideSockets) args.push('--close-outside-sockets');
  if (request.maxContents !== undefined) args.push('--max-contents', String(request.maxContents));
  if (request.shellModes) args.push('--shell-modes', request.shellModes);
  args.push(String(request.pid));
  return args;
}

/** Throws the CkptyError the freezer worded, when its report is a failure. */
function throwIfFailure(report: Record<string, unknown> | undefined): void {
  if (typeof report?.error === 'string') throw new CkptyError(report.error, Number(report.exitCode) as ExitCodeValue);
}

/** A report line: the freeze's report, or the CkptyError the freezer worded. */
export function outcomeOf(line: string, ended: string): FreezerReport {
  const report = parseNativeReport(line);
  if (!report) throw new CkptyError(`the freezer ${ended}${line.trim() ? `: ${line.trim()}` : ''}`, ExitCode.internal);
  throwIfFailure(report);
  return report as unknown as FreezerReport;
}

/** Throws the freezer's usage error for a name template it would refuse (checked before a session starts). */
export function checkNameTemplate(template: string): void {
  const run = spawnSync(FREEZER_PATH, ['--report', '--check-template', '--name-template', template], { encoding: 'latin1' });
  if (run.error) throw cannotRun('freezer', FREEZER_PATH, run.error);
  throwIfFailure(parseNativeReport(run.stdout));
}

/** Run the freezer once: resolves with its report, rejects with a CkptyError in its words. */
export function runFreezer(request: FreezeRequest): Promise<FreezerReport> {
  return new Promise((resolvePromise, reject) => {
    const args = ['--report', ...(request.screen ? ['--screen-stdin'] : []), ...freezerArgs(request)];
    const child = spawn(FREEZER_PATH, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Read once the job is captured; a freezer that refused early just closes it.
    child.stdin.on('error', () => undefined);
    void screenBytes(request).then((screen) => child.stdin.end(screen));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => reject(cannotRun('freezer', FREEZER_PATH, error)));
    child.on('close', (code, signal) => {
      try {
        resolvePromise(outcomeOf(Buffer.concat(out).toString('latin1') || Buffer.concat(err).toString(), howItEnded(code, signal)));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** The request's screen once it is made; none if making it failed (the image then has none). */
async function screenBytes(request: FreezeRequest): Promise<Uint8Array> {
  try {
    return (await request.screen) ?? new Uint8Array();
  } catch {
    return new Uint8Array();
  }
}

/**
 * The freezer of a session, started once and fed one request at a time over a pipe
 * (frames: "ARGS_LEN\n" and the NUL-terminated arguments, then "SCREEN_LEN\n" and the
 * screen, sent when it is ready: the job is seized meanwhile). Each
 * request runs in a fresh child of it; if the resident program itself is gone, the
 * next request starts another.
 */
export class ResidentFreezer {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly lines = new LineSplitter();
  private waiting: ((line: string | Error) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  /** No request is outstanding: the next is written at once, not a turn later. */
  private idle = true;

  /** Start the program now, before the first request needs it. */
  start(): void {
    if (this.child) return;
    const child = spawn(FREEZER_PATH, ['--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdin.on('error', () => undefined);
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of this.lines.push(chunk.toString('latin1'))) this.waiting.shift()?.(line);
    });
    const gone = (error: Error): void => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const answer of this.waiting.splice(0)) answer(error);
    };
    child.on('error', (error: NodeJS.ErrnoException) => gone(cannotRun('freezer', FREEZER_PATH, error)));
    child.on('close', (code, signal) => gone(new CkptyError(`the session's freezer ${howItEnded(code, signal)}`, ExitCode.internal)));
  }

  /** One freeze, after those asked for before it. */
  freeze(request: FreezeRequest): Promise<FreezerReport> {
    const turn = this.idle ? this.ask(request) : this.queue.then(() => this.ask(request));
    const queue = turn.catch(() => undefined);
    this.queue = queue;
    this.idle = false;
    void queue.then(() => {
      if (this.queue === queue) this.idle = true;
    });
    return turn;
  }

  /** Let the program end (at the end of its input). */
  stop(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private async ask(request: FreezeRequest): Promise<FreezerReport> {
    this.start();
    const child = this.child as ChildProcessWithoutNullStreams;
    const args = Buffer.from(freezerArgs(request).map((arg) => `${arg}\0`).join(''));
    child.stdin.write(Buffer.concat([Buffer.from(`${args.length}\n`), args]));
    // Always sent, even empty: the next request's frames come after it.
    void screenBytes(request).then((screen) => child.stdin.write(Buffer.concat([Buffer.from(`${screen.length}\n`), screen])));
    return new Promise((resolvePromise, reject) => {
      this.waiting.push((line) => {
        if (line instanceof Error) reject(line);
        else {
          try {
            resolvePromise(outcomeOf(line, 'answered nothing'));
          } catch (error) {
            reject(error as Error);
          }
        }
      });
    });
  }
}
