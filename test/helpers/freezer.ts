/** Running gdb and readelf on images, and reading a live process's memory, for the freezer tests. */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

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
