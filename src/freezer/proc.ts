/**
 * Facts about a process read from /proc: its name, process group and session, for
 * the session host and the terminal.
 * Synchronous on purpose: a handful of small reads, done on the checkpoint key's path
 * where a round trip through the thread pool costs more.
 */
import { readFileSync, readlinkSync } from 'node:fs';

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

export function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
