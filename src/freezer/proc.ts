/**
 * The facts about a process that the freeze policy needs, read from /proc before the
 * process is touched; the session host reads its jobs' process groups here too.
 * Synchronous on purpose: a handful of small reads, done on the checkpoint key's path
 * where a round trip through the thread pool costs more.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** The kernel's short name, at most 15 bytes. */
  comm: string;
  /** One letter: R S D T t Z X I … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** PF_* flags (PF_KTHREAD marks kernel threads). */
  flags: number;
  threads: number;
}

export const PF_KTHREAD = 0x00200000;

/** /proc/PID/stat, or undefined when there is no such process. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses; fields follow the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(fields[n - 3]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: fields[0] ?? '?',
    ppid: field(4),
    pgrp: field(5),
    session: field(6),
    flags: field(9),
    threads: field(20),
  };
}

/** "Key:\tvalue" lines of /proc/PID/status. */
export function readStatus(pid: number): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/status`, 'latin1').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** The four ids (real, effective, saved, filesystem) of a "Uid:" or "Gid:" status line. */
export function ids(status: Map<string, string>, key: 'Uid' | 'Gid'): number[] {
  return (status.get(key) ?? '').split(/\s+/).filter(Boolean).map(Number);
}

/** The soft limit of a /proc/PID/limits row, e.g. "Max core file size"; Infinity for "unlimited". */
export function softLimit(pid: number, name: string): number | undefined {
  for (const line of readFileSync(`/proc/${pid}/limits`, 'latin1').split('\n')) {
    if (!line.startsWith(name)) continue;
    const soft = line.slice(name.length).trim().split(/\s+/)[0];
    return soft === 'unlimited' ? Infinity : Number(soft);
  }
  return undefined;
}

export interface OpenFile {
  fd: number;
  /** The link text of /proc/PID/fd/N ("/dev/pts/3", "socket:[123]", "anon_inode:[eventfd]" …). */
  target: string;
  kind: OpenFileKind;
}

export type OpenFileKind =
  | 'file'
  | 'directory'
  | 'terminal'
  | 'device'
  | 'socket'
  | 'pipe'
  | 'deleted file'
  | 'memfd'
  | 'other device'
  | 'block device'
  | string; // anon inodes: "eventfd", "inotify", "signalfd", "timerfd", "eventpoll" …

/** Kinds the thaw can rebuild. */
export const REBUILDABLE_KINDS: ReadonlySet<OpenFileKind> = new Set(['file', 'directory', 'terminal', 'device']);

/** The character devices a thaw reopens by name. */
const REOPENABLE_DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/random', '/dev/urandom']);

function isTerminalPath(target: string): boolean {
  return /^\/dev\/(pts\/\d+|tty[A-Za-z0-9]*|console)$/.test(target);
}

export function classifyOpenFile(target: string, mode: number | undefined): OpenFileKind {
  if (target.startsWith('socket:')) return 'socket';
  if (target.startsWith('pipe:')) return 'pipe';
  if (target.startsWith('anon_inode:')) return target.slice('anon_inode:'.length).replace(/^\[(.*)\]$/, '$1');
  if (target.startsWith('/memfd:')) return 'memfd';
  if (target.endsWith(' (deleted)')) return 'deleted file';
  if (mode === undefined || !target.startsWith('/')) return 'other';
  const type = mode & 0o170000;
  if (type === 0o100000) return 'file';
  if (type === 0o040000) return 'directory';
  if (type === 0o010000) return 'pipe';
  if (type === 0o140000) return 'socket';
  if (type === 0o060000) return 'block device';
  if (type === 0o020000) {
    if (isTerminalPath(target)) return 'terminal';
    return REOPENABLE_DEVICES.has(target) ? 'device' : 'other device';
  }
  return 'other';
}

/** Every open descriptor, in fd order. Descriptors that close while we look are skipped. */
export function openFiles(pid: number): OpenFile[] {
  const files: OpenFile[] = [];
  const fds = readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((a, b) => a - b);
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    let mode: number | undefined;
    try {
      mode = statSync(`/proc/${pid}/fd/${fd}`).mode;
    } catch {
      mode = undefined;
    }
    files.push({ fd, target, kind: classifyOpenFile(target, mode) });
  }
  return files;
}

/**
 * Mapped files that no longer exist under their name: the thaw could not map them again.
 * Shared anonymous memory also shows as "(deleted)" ("/dev/zero", SysV segments): that is
 * stored in the image, so it is not listed.
 */
export function deletedMappings(pid: number): string[] {
  const names = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n')) {
    const name = /^(?:\S+\s+){5}(.*)$/.exec(line)?.[1] ?? '';
    if (!name.endsWith(' (deleted)')) continue;
    if (name === '/dev/zero (deleted)' || name.startsWith('/SYSV')) continue;
    names.add(name.slice(0, -' (deleted)'.length));
  }
  return [...names];
}

/** Mode bits of the executable, or undefined when it cannot be read. */
export function executableMode(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/exe`).mode;
  } catch {
    return undefined;
  }
}

export function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** lstat that answers undefined for a missing file instead of throwing. */
export function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
