/**
 * Helpers for the recorder's tests: run the real ckpty CLI, read recordings back with
 * our validator and with asciinema (an independent reader), render a cast's output on a
 * headless screen.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nodePty from 'node-pty';
import { parseCast, type Cast } from '../../src/recorder/asciicast.js';
import { Screen } from '../../src/recorder/screen.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CKPTY_CLI = join(REPO, 'bin/ckpty');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `ckpty ARGS` to its end (no terminal: stdin is empty). */
export function runCkpty(args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      CKPTY_CLI,
      args,
      { cwd: options.cwd ?? REPO, timeout: options.timeoutMs ?? 120_000, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 128) : 0;
        resolve({ status, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

const scratchDirs: string[] = [];

/** A fresh directory, removed by removeScratchDirs() (call it in afterAll). */
export function scratchDir(prefix = 'ckpty-recorder-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

export function removeScratchDirs(): void {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Reads a recording and validates it against asciicast v2 (throws on the first problem). */
export function readCast(path: string): Cast {
  return parseCast(readFileSync(path, 'utf8'));
}

/** All output of a recording, in order. */
export function outputOf(cast: Cast): string {
  return cast.events
    .filter((event) => event.code === 'o')
    .map((event) => event.data)
    .join('');
}

export function markersOf(cast: Cast): string[] {
  return cast.events.filter((event) => event.code === 'm').map((event) => event.data);
}

/** The screen text after playing `output` on a terminal of the recording's size. */
export async function screenAfter(cast: Cast, output = outputOf(cast)): Promise<string[]> {
  const screen = new Screen(cast.header.width, cast.header.height);
  await screen.write(output);
  const text = screen.text();
  screen.dispose();
  return text;
}

export const hasAsciinema = ['/usr/bin/asciinema', '/usr/local/bin/asciinema'].some((path) => existsSync(path));

/**
 * `asciinema cat FILE`: asciinema's own reading of the recording's output. It insists on
 * a terminal, so it runs on a pty in raw mode, which passes its bytes through unchanged.
 */
export function asciinemaCat(path: string): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve) => {
    const pty = nodePty.spawn('/bin/sh', ['-c', 'stty raw -echo && exec asciinema cat "$0"', path], {
      cols: 200,
      rows: 50,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: tmpdir() },
    });
    let output = '';
    pty.onData((data) => (output += data));
    pty.onExit(({ exitCode }) => resolve({ exitCode, output }));
  });
}

/** Waits until `condition()` holds, polling; throws after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
