/**
 * Facts about a process read from /proc: its name, process group and session, for
 * the session host and the terminal.
 * Synchronous on purpose: a handful of small reads, done on the checkpoint key's path
 * where a round trip through the thread pool costs more.
 */
import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';

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
  const text = readSmall(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
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

/**
 * One read into a buffer kept for it: the line is well under a page. readFileSync's stat
 * and growing reads cost 0.2-0.3 ms more a call in a process that was idle (bc's stat on
 * the key's path: 0.35-0.55 ms, this way 0.16-0.35).
 */
const small = Buffer.alloc(4096);

function readSmall(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return small.toString('latin1', 0, readSync(fd, small, 0, small.length, 0));
  } catch {
    return undefined; // the process ended between the open and the read
  } finally {
    closeSync(fd);
  }
}

export function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
