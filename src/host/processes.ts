/**
 * Who is in a process group, read from /proc. The kernel has no "list the members of
 * pgrp N" call, so every /proc/PID/stat is read; this runs once per key press.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  /** The one-letter state of /proc/PID/stat (R, S, T, Z …). */
  state: string;
  /** The kernel's short name (comm), at most 15 bytes. */
  comm: string;
}

/** Parse /proc/PID/stat; undefined if the process is gone. */
export function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may itself contain ") ", so cut at the last one.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return {
    pid,
    comm: stat.slice(open + 1, close),
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
  };
}

/** The live (non-zombie) members of a process group, in pid order. */
export function processGroupMembers(pgrp: number): ProcessInfo[] {
  const members: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const info = readProcess(pid);
    // A zombie has finished; it only waits for its parent to collect its status.
    if (info && info.pgrp === pgrp && info.state !== 'Z') members.push(info);
  }
  return members.sort((a, b) => a.pid - b.pid);
}

/** The executable of a process, or undefined when it is gone or not ours to read. */
export function executablePath(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
