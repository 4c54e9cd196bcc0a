/** Run a command to its end and time it (wall clock, as a user waits for it). */
import { spawn } from 'node:child_process';
import { track, untrack } from './cleanup.js';

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface TimedRun {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runTimed(file: string, args: readonly string[], { timeoutMs = 120_000, cwd, env }: RunOptions = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) track.pid(pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const finished = (): void => {
      clearTimeout(timer);
      if (pid !== undefined) untrack.pid(pid);
    };
    child.on('error', (e) => {
      finished();
      reject(new Error(`cannot run ${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      const ms = performance.now() - started;
      finished();
      resolve({ ms, code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** runTimed, but a non-zero exit is an error carrying the command's own message. */
export async function runChecked(file: string, args: readonly string[], options?: RunOptions): Promise<TimedRun> {
  const result = await runTimed(file, args, options);
  if (result.code !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' ');
    throw new Error(`${file.split('/').pop()} ${result.signal ? `killed by ${result.signal}` : `exited ${result.code}`}: ${why}`);
  }
  return result;
}
