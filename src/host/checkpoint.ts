/**
 * What the checkpoint key does to the foreground job: have the freezer write the whole
 * process group to one image (named after its leader), and describe the outcome.
 */
import { basename } from 'node:path';
import { CkptyError } from '../base/errors.js';
import { processLabel } from '../base/format.js';
import { freezeProcess } from '../freezer/freeze.js';
import type { FreezeRequest, ResidentFreezer } from '../freezer/native.js';
import { readStat, type ProcStat } from '../freezer/proc.js';
import { THAWER_PATH } from '../thawer/native.js';
import type { CheckpointAction, CheckpointOutcome, JobMember } from './events.js';
import { executablePath, isLiveMember, processGroupMembers } from './processes.js';

export interface ForegroundJob {
  pgrp: number;
  /** The job's processes, ckpty's own thaw supervisors excluded. */
  members: JobMember[];
}

export interface CheckpointRequest {
  pgrp: number;
  /** The session leader (the shell): the job's processes descend from it. */
  leader: number;
  action: CheckpointAction;
  /** Default: the freezer's, `%N.ckpt`. */
  nameTemplate?: string;
  /** The session's freezer. */
  freezer: ResidentFreezer;
  /** What the terminal shows, as bytes that paint it again (stored in the image); it may come later. */
  screen?: FreezeRequest['screen'];
  /** The modes (`stty -g` form) the job's shell expects back when a frozen job ends. */
  shellModes?: string;
  /** What the caller just saw of the job (seeJob); else it is looked up. */
  seen?: JobSeen;
}

/**
 * What the key's check saw of a job, handed to its freeze: the group's leader alone when
 * that settled it (see seeJob), else every process of the job.
 */
export type JobSeen = { leader: ProcStat } | { processes: ProcStat[] };

/**
 * The job in process group `pgrp` of the session led by `leader`, or undefined when no
 * live process is left in it.
 */
export function foregroundJob(pgrp: number, leader: number): ForegroundJob | undefined {
  const processes = jobProcesses(pgrp, leader);
  return processes.length === 0 ? undefined : { pgrp, members: processes.map(member) };
}

/**
 * The names of a job (its processes: jobProcesses) when it is a single process, else
 * undefined.
 */
export function soleProgram(processes: readonly ProcStat[]): string[] | undefined {
  const [only, ...others] = processes;
  return only && others.length === 0 ? programNames(only) : undefined;
}

/** A process's comm and its executable's name (`emacs` started as /usr/bin/emacs runs /usr/bin/emacs-nox). */
function programNames(info: ProcStat): string[] {
  const exe = executablePath(info.pid);
  return exe ? [info.comm, basename(exe)] : [info.comm];
}

/**
 * A look at the job in `pgrp` for the key, and whether it is a single program that
 * `named` accepts (the pass list). A job is one only if its leader is, so a live leader
 * whose names `named` refuses settles it with one read of /proc, where the job's
 * processes take a walk of the shell's tree.
 */
export function seeJob(pgrp: number, leader: number, named: (names: string[]) => boolean): { seen: JobSeen; sole: boolean } {
  const head = readStat(pgrp);
  if (head && isLiveMember(head, pgrp) && !isThawSupervisor(head) && !named(programNames(head))) {
    return { seen: { leader: head }, sole: false };
  }
  const processes = jobProcesses(pgrp, leader);
  const names = soleProgram(processes);
  return { seen: { processes }, sole: names !== undefined && named(names) };
}

/** The live processes in process group `pgrp` of the session led by `leader`, ckpty's own thaw supervisors excluded. */
export function jobProcesses(pgrp: number, leader: number): ProcStat[] {
  return processGroupMembers(pgrp, leader).filter((info) => !isThawSupervisor(info));
}

const member = (info: ProcStat): JobMember => ({ pid: info.pid, name: info.comm });

/**
 * `ckpty thaw` is the native "ckpty-thawer", which brings the job back below it, in the
 * job's own process group. The job the user sees is the program; the thawer is ckpty's
 * own. A name alone could be anyone's: the executable must be ckpty's thawer.
 */
function isThawSupervisor(info: ProcStat): boolean {
  return info.comm === basename(THAWER_PATH) && executablePath(info.pid) === THAWER_PATH;
}

/**
 * Freeze or snapshot the job in `pgrp`. Never throws: every failure is a `refused`
 * outcome with the reason. Undefined when the group has no live process (its last
 * member just ended): there is nothing to report.
 */
export async function checkpointJob(request: CheckpointRequest): Promise<CheckpointOutcome | undefined> {
  const seen = request.seen ?? { processes: jobProcesses(request.pgrp, request.leader) };
  // The image is named after the group's leader while it lives; the freezer puts it first.
  const target = 'leader' in seen ? seen.leader : (seen.processes.find((info) => info.pid === request.pgrp) ?? seen.processes[0]);
  if (!target) return undefined;
  const refuse = (reason: string): CheckpointOutcome => {
    // A job seen by its leader alone is looked at in full only now, off the key's path.
    const processes = 'processes' in seen ? seen.processes : jobProcesses(request.pgrp, request.leader);
    return {
      kind: 'refused',
      action: request.action,
      pgrp: request.pgrp,
      members: (processes.length > 0 ? processes : [target]).map(member),
      reason,
    };
  };
  try {
    const result = await freezeProcess(
      target.pid,
      {
        job: true,
        nameTemplate: request.nameTemplate,
        snapshot: request.action === 'snapshot',
        // `ulimit -c 0` opts a job out of the key (not out of an explicit `ckpty freeze PID`).
        honourCoreLimit: true,
        screen: request.screen,
        shellModes: request.shellModes,
      },
      request.freezer,
    );
    return { kind: request.action === 'snapshot' ? 'snapshot' : 'froze', pgrp: request.pgrp, ...result };
  } catch (err) {
    if (!(err instanceof CkptyError)) return refuse(`internal error: ${String(err)}`);
    // The freezer names the process first; the status line already does.
    const prefix = `cannot freeze ${processLabel(target.pid, target.comm)}: `;
    return refuse(err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message);
  }
}
