/** Run a command to its end and time it (wall clock, as a user waits for it). */
import { spawn } from 'node:child_process';
import { track, untrack } from './cleanup.js';

export function runTimed(file, args, { timeoutMs = 120_000, cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    track.pid(child.pid);
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      untrack.pid(child.pid);
      reject(new Error(`cannot run ${file}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      untrack.pid(child.pid);
      resolve({ ms, code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** runTimed, but a non-zero exit is an error carrying the command's own message. */
export async function runChecked(file, args, options) {
  const result = await runTimed(file, args, options);
  if (result.code !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' ');
    throw new Error(`${file.split('/').pop()} ${result.signal ? `killed by ${result.signal}` : `exited ${result.code}`}: ${why}`);
  }
  return result;
}
