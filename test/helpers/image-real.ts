/**
 * Real processes for the image tests, and the truth about them from /proc. Each
 * program starts through a python3 shim that closes every inherited descriptor above
 * 2 (the test runner's pipes would make the freezer refuse the process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import * as pty from 'node-pty';

const CLOSE_FDS_AND_EXEC = [
  'import os, sys',
  'os.closerange(3, 1 << 16)',
  'os.execvp(sys.argv[1], sys.argv[1:])',
].join('\n');
const shim = (argv: string[]): string[] => ['-c', CLOSE_FDS_AND_EXEC, ...argv];

export interface RunningProcess {
  pid: number;
  kill(): void;
}

/** A program with /dev/null as stdin, stdout and stderr. */
export function spawnQuiet(argv: string[], cwd: string): RunningProcess & { child: ChildProcess } {
  const child = spawn('python3', shim(argv), { cwd, stdio: 'ignore', detached: true });
  if (child.pid === undefined) throw new Error(`cannot start ${argv[0]}`);
  const pid = child.pid;
  // Its own process group: a program's children go with it. (Not `kill -KILL -PGID`:
  // procps-ng 4.0.2's kill reads -12345 as -1, every process.)
  const kill = (): void => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  return { pid, child, kill };
}

/** A program in a fresh pty of the given size, as an interactive user would run it. */
export function spawnInPty(argv: string[], cwd: string, size = { cols: 100, rows: 30 }): RunningProcess & { output: () => string } {
  const term = pty.spawn('python3', shim(argv), { cwd, ...size, env: { ...process.env, TERM: 'xterm' } as Record<string, string> });
  let output = '';
  term.onData((data) => {
    output += data;
  });
  return { pid: term.pid, output: () => output, kill: () => term.kill('SIGKILL') };
}

export interface ProcTruth {
  comm: string;
  exe: string;
  cwd: string;
  argv: string[];
  maps: { start: string; end: string; perms: string; path: string }[];
  fds: { fd: number; path: string }[];
  state: string;
}

const hexAddress = (text: string): string => `0x${BigInt(`0x${text}`).toString(16)}`;

/** What /proc says about `pid` right now (addresses formatted as `ckpty info --json` does). */
export function procTruth(pid: number): ProcTruth {
  const proc = `/proc/${pid}`;
  const cmdline = readFileSync(`${proc}/cmdline`, 'utf8');
  const maps = readFileSync(`${proc}/maps`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [range = '', perms = '', , , , ...rest] = line.split(/\s+/);
      const [start = '', end = ''] = range.split('-');
      return { start: hexAddress(start), end: hexAddress(end), perms, path: rest.join(' ') };
    })
    .filter((map) => map.path !== '[vsyscall]');
  const fds = readdirSync(`${proc}/fd`)
    .map(Number)
    .sort((a, b) => a - b)
    .map((fd) => ({ fd, path: readlinkSync(`${proc}/fd/${fd}`) }));
  const stat = readFileSync(`${proc}/stat`, 'utf8');
  return {
    comm: readFileSync(`${proc}/comm`, 'utf8').trim(),
    exe: readlinkSync(`${proc}/exe`),
    cwd: readlinkSync(`${proc}/cwd`),
    argv: cmdline.split('\0').slice(0, -1),
    maps,
    fds,
    state: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '',
  };
}

const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `pid` runs `comm`, sleeps (blocked, state S) and its mappings stopped
 * changing: a program that finished starting up and waits for input or time.
 */
export async function waitSettled(pid: number, comm: string, timeoutMs = 15_000): Promise<ProcTruth> {
  const deadline = Date.now() + timeoutMs;
  let previous = '';
  for (;;) {
    let truth: ProcTruth | undefined;
    try {
      truth = procTruth(pid);
    } catch {
      // not started yet or racing with exec
    }
    if (truth && truth.comm === comm && truth.state === 'S') {
      const maps = JSON.stringify(truth.maps);
      if (maps === previous) return truth;
      previous = maps;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} did not settle as ${comm}`);
    await sleepMs(100);
  }
}

