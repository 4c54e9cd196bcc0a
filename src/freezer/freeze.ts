/**
 * Freezing a job from TypeScript: the session host on the checkpoint key, the bench and
 * the tests. The native freezer decides what may be frozen, writes the image and words
 * every outcome (tty/freezer/main.c); `ckpty freeze` is that program itself (bin/ckpty).
 */
import { CkptyError, ExitCode } from '../base/errors.js';
import { formatBytes, formatMilliseconds, jobLabel } from '../base/format.js';
import { jsonLine } from '../base/json-lines.js';
import { outcomeOf, runFreezer, type FreezerReport, type FreezeRequest, type ResidentFreezer } from './native.js';

export type FreezeOptions = Omit<FreezeRequest, 'pid'>;

export type { FrozenMember } from './native.js';

export interface FreezeResult extends Omit<FreezerReport, 'loads' | 'stagesMs'> {
  /** Whole freeze as the caller saw it: the freezer's start-up (or its request) included. */
  durationMs: number;
}

/**
 * Freeze `pid` (and its descendants in its group, or with `job` its whole group); with
 * `via`, through the session's resident freezer. Rejects with a CkptyError in the
 * freezer's words and with ckpty's exit code.
 */
export async function freezeProcess(pid: number, options: FreezeOptions = {}, via?: ResidentFreezer): Promise<FreezeResult> {
  const started = performance.now();
  if (!Number.isInteger(pid) || pid <= 0) throw new CkptyError(`bad process id '${pid}'`, ExitCode.usage);
  const request = { ...options, pid };
  return resultOf(await (via ? via.freeze(request) : runFreezer(request)), started);
}

function resultOf({ loads: _loads, stagesMs: _stages, ...report }: FreezerReport, started: number): FreezeResult {
  return { ...report, durationMs: performance.now() - started };
}

/**
 * A report of the freezer's shape, read and described once while a session is idle: run
 * cold on the first key press, reading the report and making the status line took
 * ~0.7 ms more than on later presses (bc, timestamps in the session). Returns the line.
 */
export function rehearseReport(): string {
  const member = { pid: 1, comm: 'ckpty', threads: 1, zombie: false };
  const sample: FreezerReport = {
    ...member,
    processes: 1,
    members: [member],
    path: '/ckpty.ckpt',
    bytes: 1 << 20,
    storedBytes: 1 << 20,
    mappings: 1,
    loads: 1,
    snapshot: false,
    wasStopped: false,
    exitStatus: 0,
    durationMs: 1.5,
    seizedMs: 1,
    stagesMs: { capture: 1, copy: 1, sync: 1, end: 1 },
  };
  return describeFreeze(resultOf(outcomeOf(jsonLine(sample), 'answered nothing'), performance.now()));
}

/** `froze bc[4242] -> /home/u/bc.ckpt (1.4 MiB, 9 ms)`; a snapshot reads `snapshot of …`; a job `froze man|less (3 processes) -> …`. */
export function describeFreeze(result: FreezeResult): string {
  const verb = result.snapshot ? 'snapshot of' : 'froze';
  const job = jobLabel(result.pid, result.members.map((member) => member.comm), result.processes);
  return `${verb} ${job} -> ${result.path} (${formatBytes(result.bytes)}, ${formatMilliseconds(result.durationMs)})`;
}
