/**
 * Who is in a process group, read from /proc. The kernel has no "list the members of
 * pgrp N" call. A job's processes descend from the session's leader (the shell starts
 * them, a thaw's supervisors start the program), so the host walks that tree through
 * /proc/PID/task/TID/children: a handful of reads on the checkpoint key's path, where
 * reading every /proc/PID/stat grows with everything that runs on the machine.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readLink, readStat, threadIds, type ProcStat } from '../freezer/proc.js';

/**
 * The live (non-zombie) members of process group `pgrp` that descend from `root` (root
 * included), in pid order. A member whose parent ended was adopted by init and no longer
 * descends from `root`: only the whole /proc scan sees it, as it does on kernels built
 * without the children files.
 */
export function processGroupMembers(pgrp: number, root: number): ProcStat[] {
  if (!childrenListed()) return scanProcessGroup(pgrp);
  const members: ProcStat[] = [];
  const pending = [root];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    const info = readStat(pid);
    if (!info) continue; // it ended while we looked
    if (isLiveMember(info, pgrp)) members.push(info);
    // Any descendant may be in the group, whatever its own parent's group.
    pending.push(...childrenOf(info));
  }
  return members.sort((a, b) => a.pid - b.pid);
}

let childrenFiles: boolean | undefined;

/** Does this kernel have /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)? */
function childrenListed(): boolean {
  childrenFiles ??= existsSync(`/proc/self/task/${process.pid}/children`);
  return childrenFiles;
}

/** Each thread lists the children it started, so a threaded process is read thread by thread. */
function childrenOf(info: ProcStat): number[] {
  const children: number[] = [];
  for (const tid of threadIds(info) ?? []) {
    let text: string;
    try {
      text = readFileSync(`/proc/${info.pid}/task/${tid}/children`, 'latin1');
    } catch {
      continue; // the thread ended
    }
    for (const pid of text.split(' ')) if (pid) children.push(Number(pid));
  }
  return children;
}

/** Every /proc/PID/stat: the members of `pgrp` wherever they descend from. */
function scanProcessGroup(pgrp: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const info = readStat(pid);
    if (info && isLiveMember(info, pgrp)) members.push(info);
  }
  return members.sort((a, b) => a.pid - b.pid);
}

/** A zombie has finished; it only waits for its parent to collect its status. */
export function isLiveMember(info: ProcStat, pgrp: number): boolean {
  return info.pgrp === pgrp && info.state !== 'Z';
}

/** The executable of a process, or undefined when it is gone or not ours to read. */
export function executablePath(pid: number): string | undefined {
  return readLink(`/proc/${pid}/exe`);
}

/** The current directory of a process, or undefined when it is gone or not ours to read. */
export function workingDirectory(pid: number): string | undefined {
  return readLink(`/proc/${pid}/cwd`);
}
