/** Facts about processes from /proc (read with ckpty's own reader), and ending them. */
import { readdirSync } from 'node:fs';
import { readStat, waitsForInput, type ProcStat } from './ckpty.js';

export function sigkill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The processes now running. */
function allProcesses(): ProcStat[] {
  const found: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) found.push(stat);
  }
  return found;
}

/** Is `pid` `root` or started by it, directly or not? (`parent`: pid → ppid of every process.) */
function descendsFrom(pid: number, root: number, parent: ReadonlyMap<number, number>): boolean {
  for (let at = pid; at > 1; at = parent.get(at) ?? 0) if (at === root) return true;
  return false;
}

/** SIGKILL everything `root` started, directly or not, but not `root` itself; returns their pids. */
export function killDescendants(root: number): number[] {
  const processes = allProcesses();
  const parent = new Map(processes.map((p) => [p.pid, p.ppid]));
  const killed = processes.filter((p) => p.pid !== root && descendsFrom(p.pid, root, parent)).map((p) => p.pid);
  for (const pid of killed) sigkill(pid);
  return killed;
}

/** Wait until none of `pids` is left, zombies included (their numbers are free again), for at most `timeoutMs`. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (pids.some((pid) => readStat(pid) !== undefined) && performance.now() < deadline) await sleep(10);
}

/**
 * SIGKILL a pty's session leader, everything in its session (thawed programs included)
 * and everything it started in sessions of their own (the shell inside `ckpty shell`).
 */
export function killSession(sid: number): void {
  sigkill(sid);
  const processes = allProcesses();
  const parent = new Map(processes.map((p) => [p.pid, p.ppid]));
  for (const p of processes) if (p.session === sid || descendsFrom(p.pid, sid, parent)) sigkill(p.pid);
}

/** A process named `comm` started (directly or not) by `root`; polled until it exists. */
export async function findDescendant(root: number, comm: string, { timeoutMs = 10_000 } = {}): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const processes = allProcesses();
    const parent = new Map(processes.map((p) => [p.pid, p.ppid]));
    const match = processes.find((p) => p.comm === comm && descendsFrom(p.pid, root, parent));
    if (match) return match.pid;
    await sleep(5);
  }
  throw new Error(`no ${comm} process under pid ${root} within ${timeoutMs} ms`);
}

/** Wait until PID sleeps in a read/poll-like system call: the state an interactive program idles in. */
export async function waitBlocked(pid: number, { timeoutMs = 10_000 } = {}): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let streak = 0;
  while (performance.now() < deadline) {
    const info = readStat(pid);
    // Twice in a row, a few ms apart: not just passing through a read on the way elsewhere.
    streak = info && waitsForInput(info) ? streak + 1 : 0;
    if (streak >= 2) return;
    await sleep(3);
  }
  throw new Error(`pid ${pid} did not settle in a blocking read within ${timeoutMs} ms`);
}

/** The processes of PID's process group (a subject that is a job: the pipeline), PID first. */
export function groupMembers(pid: number): number[] {
  const pgrp = readStat(pid)?.pgrp;
  if (pgrp === undefined) return [pid];
  const others = allProcesses()
    .filter((p) => p.pgrp === pgrp && p.pid !== pid && p.state !== 'Z')
    .map((p) => p.pid)
    .sort((a, b) => a - b);
  return [pid, ...others];
}
