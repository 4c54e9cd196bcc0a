/**
 * The bench's environment: where ckpty and its build live, a scratch directory on the
 * bench directory's filesystem (images, gcore files, dd output: all removed at exit),
 * the compiled fixtures, and which native programs and tools are there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';
import { findProgram } from './ckpty.js';
import type { Results } from './results.js';

/** The compiled bench (dist-bench/): its scripts, such as relay.js, run from here. */
export const BUILD_DIR = fileURLToPath(new URL('..', import.meta.url));
export const ROOT = join(BUILD_DIR, '..');
/** The bench's sources, fixtures and results. */
export const BENCH_DIR = join(ROOT, 'bench');
export const CLI = join(ROOT, 'bin', 'ckpty');

/** A program the bench needs: where it is, or why it is not there (the rows that need it say so). */
export type Tool = { ok: true; path: string; reason?: undefined } | { ok: false; reason: string; path?: undefined };

export interface Features {
  /** tty/bin/ckpty-freezer: freezeProcess, `ckpty freeze` and the key need it. */
  freezer: Tool;
  /** tty/bin/ckpty-thawer: `ckpty thaw` and the native thaw rows. */
  thawer: Tool;
  gcore: Tool;
  tmux: Tool;
  dd: Tool;
  bc: Tool;
  python3: Tool;
}

export interface Fixtures {
  /** Starts a subject with the core limit up and no stray descriptors. */
  launch: string;
  /** Holds memory of a chosen kind. */
  hog: string;
  /** Several threads, or a pipeline of processes (a job). */
  workers: string;
}

/** What every section gets. */
export interface BenchContext {
  quick: boolean;
  reps: number;
  workDir: string;
  features: Features;
  fixtures: Fixtures;
  results: Results;
  mapFileMib: number;
  mapFile: string;
  throughputMib: number;
  /** One dot on stderr per step. */
  progress(): void;
}

export function createWorkDir(parent: string): string {
  const dir = join(parent, `.work-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  track.path(dir);
  return dir;
}

/**
 * Sessions put their control socket's directory in $TMPDIR (or $XDG_RUNTIME_DIR) and
 * remove it when they end, but the bench ends its subjects with SIGKILL: this run's
 * sessions, in process and as subjects, get a temporary directory of their own, removed
 * with the rest. Short (in /tmp, not under --dir): a socket's path is at most 107 bytes.
 */
export function useOwnTmpDir(): void {
  const dir = mkdtempSync(join(tmpdir(), 'ckpty-bench-'));
  track.path(dir);
  process.env.TMPDIR = dir;
  delete process.env.XDG_RUNTIME_DIR;
}

/** cc the C fixtures into the work dir (the same flags as tty/). */
export function compileFixtures(workDir: string): Fixtures {
  const bin = join(workDir, 'bin');
  mkdirSync(bin, { recursive: true });
  const compile = (name: string): string => {
    const path = join(bin, name);
    execFileSync('cc', ['-O2', '-std=c11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', path, join(BENCH_DIR, 'fixtures', `${name}.c`)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return path;
  };
  return { launch: compile('launch'), hog: compile('hog'), workers: compile('workers') };
}

function tool(name: string): Tool {
  const path = findProgram(name, process.env.PATH ?? '/usr/bin:/bin');
  return path ? { ok: true, path } : { ok: false, reason: `${name} is not installed` };
}

function nativeProgram(name: string): Tool {
  const path = join(ROOT, 'tty', 'bin', name);
  try {
    accessSync(path, constants.X_OK);
    return { ok: true, path };
  } catch {
    return { ok: false, reason: `tty/bin/${name} is not built (make -C tty)` };
  }
}

export function detectFeatures(): Features {
  const tmux = tool('tmux');
  return {
    freezer: nativeProgram('ckpty-freezer'),
    thawer: nativeProgram('ckpty-thawer'),
    gcore: tool('gcore'),
    tmux: tmux.ok ? tmux : { ok: false, reason: 'tmux is not installed (apt-get install tmux)' },
    dd: tool('dd'),
    bc: tool('bc'),
    python3: existsSync('/usr/bin/python3') ? { ok: true, path: '/usr/bin/python3' } : tool('python3'),
  };
}

/**
 * tmux is a baseline of the throughput and keystroke rows ("installed by the bench if
 * missing", docs/testing.md). Only root can install it; anyone else gets a row saying so.
 */
export function installTmuxIfMissing(): void {
  if (tool('tmux').ok || process.geteuid?.() !== 0 || !tool('apt-get').ok) return;
  process.stderr.write('bench: installing tmux (apt-get install tmux)\n');
  spawnSync('apt-get', ['install', '-y', '-qq', 'tmux'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
}

/** Bytes free for an unprivileged writer on DIR's filesystem. */
export function freeDisk(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** MemAvailable: what can be allocated without swapping or reclaiming hard. */
export function availableMemory(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
