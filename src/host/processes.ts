/**
 * Who is in a process group, read from /proc. The kernel has no "list the members of
 * pgrp N" call, so every /proc/PID/stat is read; this runs once per key press.
 */
import { readdirSync } from 'node:fs';
import { readLink, readStat, type ProcStat } from '../freezer/proc.js';

/** The live (non-zombie) members of a process group, in pid order. */
export function processGroupMembers(pgrp: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const info = readStat(pid);
    // A zombie has finished; it only waits for its parent to collect its status.
    if (info && info.pgrp === pgrp && info.state !== 'Z') members.push(info);
  }
  return members.sort((a, b) => a.pid - b.pid);
}

/** The executable of a process, or undefined when it is gone or not ours to read. */
export function executablePath(pid: number): string | undefined {
  return readLink(`/proc/${pid}/exe`);
}
