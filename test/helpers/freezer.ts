/**
 * Running gdb and readelf on images, reading a live process's memory and registers, and
 * the kernel's own core dumps, for the freezer tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildFixture, startProcess } from './fixtures.js';

/** gdb in batch mode on a core file; returns stdout and stderr together. */
export function gdb(image: string, executable: string, commands: string[]): string {
  const args = ['-nx', '-batch', ...commands.flatMap((c) => ['-ex', c]), '-c', image, executable];
  const result = spawnSync('gdb', args, { encoding: 'utf8', timeout: 30_000, env: { ...process.env, DEBUGINFOD_URLS: '' } });
  return `${result.stdout}${result.stderr}`;
}

export function readelf(image: string): string {
  const result = spawnSync('readelf', ['-n', '-l', '-W', image], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`readelf failed: ${result.stderr}`);
  return result.stdout;
}

export interface LiveRegion {
  start: number;
  bytes: Buffer;
}

/** Every readable mapping of a process, read through /proc/PID/mem (the process should be idle). */
export function readLiveMemory(pid: number): LiveRegion[] {
  const regions: LiveRegion[] = [];
  const mem = openSync(`/proc/${pid}/mem`, 'r');
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (!m || m[3]?.[0] !== 'r' || m[4] === '[vsyscall]' || m[4]?.startsWith('[vvar')) continue;
      const start = parseInt(m[1] ?? '0', 16);
      const bytes = Buffer.alloc(parseInt(m[2] ?? '0', 16) - start);
      let done = 0;
      while (done < bytes.length) {
        const n = readSync(mem, bytes, done, bytes.length - done, start + done);
        if (n <= 0) break;
        done += n;
      }
      regions.push({ start, bytes: bytes.subarray(0, done) });
    }
  } finally {
    closeSync(mem);
  }
  return regions;
}

/** The live bytes at [addr, addr + len), if one region read holds them all. */
export function liveBytes(regions: LiveRegion[], addr: number, len: number): Buffer | undefined {
  const region = regions.find((r) => r.start <= addr && addr + len <= r.start + r.bytes.length);
  return region?.bytes.subarray(addr - region.start, addr - region.start + len);
}

export interface LiveXstate {
  /** The XSAVE area (NT_X86_XSTATE) as ptrace reads it. */
  area: Buffer;
  /** Where this CPU's layout keeps the upper halves of ymm0-15 (CPUID 0xD, sub-leaf 2). */
  avxOffset: number;
}

/** A live process's XSAVE area, read through ptrace by test/fixtures/xstate.c (not by ckpty). */
export async function readLiveXstate(pid: number): Promise<LiveXstate> {
  const result = spawnSync(await buildFixture('xstate'), [String(pid)], { encoding: 'latin1' });
  const avx = /^avx=(\d+)$/m.exec(result.stdout);
  const area = /^xstate=([0-9a-f]+)$/m.exec(result.stdout);
  if (result.status !== 0 || !avx || !area) throw new Error(`xstate ${pid} failed: ${result.stderr}`);
  return { area: Buffer.from(area[1] ?? '', 'hex'), avxOffset: Number(avx[1]) };
}

/**
 * Run a fixture until it dumps core (it must kill itself with a core-dumping signal) and
 * return the path of the core the kernel wrote, found by /proc/sys/kernel/core_pattern.
 */
export async function kernelCore(fixture: string, args: string[], cwd: string): Promise<string> {
  const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'latin1').trim();
  if (pattern.startsWith('|')) throw new Error(`core_pattern hands cores to a program (${pattern}), the test needs a core file`);
  const proc = startProcess(await buildFixture(fixture), args, { cwd });
  const { signal } = await proc.exited;
  // %p is the pid, %% a percent sign, any other specifier some text; core_uses_pid adds .PID without %p.
  const name = pattern.slice(pattern.lastIndexOf('/') + 1);
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const source = name.split(/(%.)/).map((part) => (part === '%p' ? String(proc.pid) : part === '%%' ? '%' : part.startsWith('%') ? '.*' : escape(part)));
  const usesPid = readFileSync('/proc/sys/kernel/core_uses_pid', 'latin1').trim() === '1' && !name.includes('%p');
  const matches = new RegExp(`^${source.join('')}${usesPid ? `\\.${proc.pid}` : ''}$`);
  const dir = pattern.includes('/') ? dirname(pattern) : cwd;
  const core = readdirSync(dir).find((file) => matches.test(file));
  if (!core) throw new Error(`${fixture} ended by ${signal} but left no core matching ${pattern} in ${dir}`);
  return join(dir, core);
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the built CLI (bin/ckpty → dist/; `npx tsc -p tsconfig.json` after changing src/),
 * optionally as another user from a directory they can read.
 */
export function runCli(args: string[], options: { root: string; uid?: number; gid?: number; cwd?: string }): Promise<CliRun> {
  if (!existsSync(join(options.root, 'dist/freezer/freeze.js'))) {
    throw new Error('dist/ is not built: run `npx tsc -p tsconfig.json` first');
  }
  return new Promise((resolve, reject) => {
    const child = spawn(join(options.root, 'bin/ckpty'), args, {
      uid: options.uid,
      gid: options.gid,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
