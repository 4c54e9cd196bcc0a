/**
 * Running `ckpty thaw` in tests, outside a terminal: the thawed program writes where
 * its frozen self wrote (a file), the command's stdout carries the --json line.
 *
 *   const run = startThaw(image);                 // bin/ckpty thaw --json IMAGE
 *   const { pid } = await run.result;             // the thawed program
 *   ...
 *   afterEach(stopThaws);                         // kills every thaw's process group
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ThawResult } from '../../src/thawer/native.js';
import { childPids, cliRootFor, ROOT, type TestUser } from './fixtures.js';

/** The `ckpty` command (bin/ckpty): `thaw` runs natively, the rest in Node. */
export const CLI = join(ROOT, 'bin/ckpty');

export interface ThawEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ThawRun {
  readonly pid: number;
  /** The --json line: resolves once the program runs, rejects if the command ended first. */
  readonly result: Promise<ThawResult>;
  readonly ended: Promise<ThawEnd>;
  stderr(): string;
}

const groups = new Set<number>();

export interface ThawOptions {
  user?: TestUser;
  /** The CLI to run; default the checkout's, or one `user` can read (cliRootFor). */
  cli?: string;
  args?: string[];
}

/** `ckpty thaw --json IMAGE` in its own process group, no terminal. */
export function startThaw(image: string, options: ThawOptions = {}): ThawRun {
  const args = ['thaw', ...(options.args ?? ['--json']), image];
  const cli = options.cli ?? (options.user ? join(cliRootFor(options.user), 'bin/ckpty') : CLI);
  const child: ChildProcess = spawn(cli, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    uid: options.user?.uid,
    gid: options.user?.gid,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn failed');
  groups.add(pid);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<ThawEnd>((resolve) => {
    child.on('close', (code, signal) => {
      groups.delete(pid);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const result = new Promise<ThawResult>((resolve, reject) => {
    const poll = setInterval(() => {
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) {
        clearInterval(poll);
        resolve(JSON.parse(line) as ThawResult);
      }
    }, 5);
    void ended.then((end) => {
      clearInterval(poll);
      if (!stdout.includes('\n')) reject(new Error(`thaw ended (${end.code ?? end.signal}) before the program ran: ${end.stderr}`));
    });
  });
  result.catch(() => undefined);
  return { pid, result, ended, stderr: () => stderr };
}

/** The whole `ckpty thaw` when it is expected to refuse. */
export function thawRefused(image: string, options: ThawOptions = {}): Promise<ThawEnd> {
  return startThaw(image, { ...options, args: options.args ?? [] }).ended;
}

/** Kill what the thaws of a test started: node, the thawer and the program share a group. */
export function stopThaws(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  groups.clear();
}

/** Pids of the processes running `executable` (resolved path, as /proc/PID/exe shows it). */
export function processesRunning(executable: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) === executable) pids.push(Number(entry));
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}

/** A private copy of a binary in dir, so that what runs it can be told apart from other tests'. */
export function privateCopy(binary: string, dir: string, name = 'program'): string {
  const copy = join(dir, name);
  copyFileSync(binary, copy);
  spawnSync('chmod', ['755', copy]);
  return copy;
}

/**
 * The thawed program's pid as we see it. It has its old pid in its own pid namespace
 * (an unprivileged thaw's): there it is the last NSpid of a descendant of the thaw.
 */
export function thawedPid(thaw: number, pid: number): number {
  for (const queue = [thaw]; queue.length; ) {
    const at = queue.shift() as number;
    try {
      const ids = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${at}/status`, 'latin1'))?.[1]?.split(/\s+/).map(Number) ?? [];
      if (ids.at(-1) === pid) return at;
      queue.push(...childPids(at));
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no process ${pid} under the thaw ${thaw}`);
}
