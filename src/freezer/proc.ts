/**
 * Facts about a process read from /proc: its name, process group and session, for
 * the session host and the terminal.
 * Synchronous on purpose: a handful of small reads, done on the checkpoint key's path
 * where a round trip through the thread pool costs more.
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';

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
  const text = readProcLine(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStat(pid, text);
}

/** A stat line of process (or thread) `pid`. */
function parseStat(pid: number, text: string): ProcStat {
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

/** The process's thread ids (its own alone when it has one thread), or undefined once it is gone. */
export function threadIds(info: ProcStat): string[] | undefined {
  if (info.threads <= 1) return [String(info.pid)];
  try {
    return readdirSync(`/proc/${info.pid}/task`);
  } catch {
    return undefined;
  }
}

/** read, poll, select, pselect6, ppoll, epoll_wait, epoll_pwait (x86-64): where programs wait for input. */
const WAITING_CALLS = new Set([0, 7, 23, 270, 271, 232, 281]);

/**
 * Whether a thread of the process sleeps in a call that waits for input, as an
 * interactive program does between keys (/proc/PID/task/TID/syscall); undefined when
 * that is not ours to read, or the process is gone.
 */
export function waitsForInput(info: ProcStat): boolean | undefined {
  const threads = threadIds(info);
  if (!threads) return undefined;
  let readable = false;
  for (const tid of threads) {
    const call = readProcLine(`/proc/${info.pid}/task/${tid}/syscall`);
    const stat = readProcLine(`/proc/${info.pid}/task/${tid}/stat`);
    if (call === undefined || stat === undefined) continue;
    readable = true;
    if (parseStat(Number(tid), stat).state === 'S' && WAITING_CALLS.has(Number(call.split(' ')[0]))) return true;
  }
  return readable ? false : undefined;
}

/**
 * A /proc line in one read into a buffer kept for it (the line is well under a page).
 * readFileSync's stat and growing reads took 0.35-0.55 ms on bc's stat line on the key's
 * path, in a session idle for a second; this takes ~0.23.
 */
const procLine = Buffer.alloc(4096);

function readProcLine(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return procLine.toString('latin1', 0, readSync(fd, procLine, 0, procLine.length, 0));
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
