/**
 * Freezing a job from TypeScript: the session host on the checkpoint key, the bench and
 * the tests. The native freezer decides what may be frozen, writes the image and words
 * every outcome (tty/freezer/main.c); `ckpty freeze` is that program itself (bin/ckpty).
 */
import { CkptyError, ExitCode } from '../base/errors.js';
import { formatBytes, formatMilliseconds, jobLabel } from '../base/format.js';
import { runFreezer, type FreezerReport, type FreezeRequest, type ResidentFreezer } from './native.js';

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
  const { loads: _loads, stagesMs: _stages, ...report } = await (via ? via.freeze(request) : runFreezer(request));
  return { ...report, durationMs: performance.now() - started };
}

/** `froze bc[4242] -> /home/u/bc.ckpt (1.4 MiB, 9 ms)`; a snapshot reads `snapshot of …`; a job `froze man|less (3 processes) -> …`. */
export function describeFreeze(result: FreezeResult): string {
  const verb = result.snapshot ? 'snapshot of' : 'froze';
  const job = jobLabel(result.pid, result.members.map((member) => member.comm), result.processes);
  return `${verb} ${job} -> ${result.path} (${formatBytes(result.bytes)}, ${formatMilliseconds(result.durationMs)})`;
}
