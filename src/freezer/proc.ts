/**
 * Facts about a process read from /proc: its name and owner before a freeze, its
 * process group and session for the session host and the terminal.
 * Synchronous on purpose: a handful of small reads, done on the checkpoint key's path
 * where a round trip through the thread pool costs more.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** The kernel's short name, at most 15 bytes. */
  comm: string;
  /** One letter: R S D T t Z X I … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  threads: number;
}

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
