/** What the numbers were measured on: CPU, memory, kernel, and the bench directory's filesystem. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  os: string | undefined;
  node: string;
  benchDir: string;
  fsStatType: string | undefined;
  fsType: string | undefined;
  fsSource: string | undefined;
  fsOptions: string | undefined;
  loadAverage: number[];
  loadAverageAtEnd?: number[];
}

function run(file: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function osRelease(): string | undefined {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

export function describeMachine(dir: string): Machine {
  const cpus = os.cpus();
  const mount = run('findmnt', ['-n', '-T', dir, '-o', 'SOURCE,FSTYPE,OPTIONS'])?.split(/\s+/);
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: osRelease(),
    node: process.version,
    benchDir: dir,
    // `stat -f` names the superblock family (ext2/ext3 for ext4 too); findmnt names the driver.
    fsStatType: run('stat', ['-f', '-c', '%T', dir]),
    fsType: mount?.[1],
    fsSource: mount?.[0],
    fsOptions: mount?.[2],
    loadAverage: os.loadavg(),
  };
}

const oneMinute = (loads: readonly number[]): string => (loads[0] ?? NaN).toFixed(2);

/** The 1-minute load average when the run started and ended: other work on the cores shows in the p99s. */
export function loadLine(m: Machine): string {
  const end = m.loadAverageAtEnd ? `, ${oneMinute(m.loadAverageAtEnd)} at the end` : '';
  return `load average ${oneMinute(m.loadAverage)} at the start${end}`;
}

export function machineLine(m: Machine): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return (
    `${m.cpu}, ${m.cores} cores, ${gib} GiB RAM, Linux ${m.kernel}${m.os ? ` (${m.os})` : ''}, ` +
    `bench dir on ${m.fsType ?? m.fsStatType ?? '?'} (${m.fsSource ?? '?'}), Node ${m.node}`
  );
}
