/**
 * The one-line report after the checkpoint key, in the spirit of BSD's ^T:
 *   ckpt: froze bc[4242] -> /home/u/bc.ckpt (1.4 MiB, 9 ms)
 *   ckpt: bc[4242] not frozen: it has 2 threads (only single-threaded processes can be frozen)
 */
import { describeFreeze } from '../freezer/freeze.js';
import { processLabel } from '../base/format.js';
import type { ThawNotice } from '../base/control-protocol.js';
import type { CheckpointOutcome, JobMember } from './events.js';

/** `bc[4242]`, or `sleep[101] | cat[102]` for a pipeline. */
export function describeJob(members: readonly JobMember[]): string {
  return members.map((member) => processLabel(member.pid, member.name)).join(' | ');
}

export function statusLine(outcome: CheckpointOutcome): string {
  if (outcome.kind !== 'refused') return `ckpt: ${describeFreeze(outcome)}`;
  const job = describeJob(outcome.members);
  return outcome.action === 'snapshot'
    ? `ckpt: no snapshot of ${job}: ${outcome.reason}`
    : `ckpt: ${job} not frozen: ${outcome.reason}`;
}

/** `thawed bc[4242] from /home/u/bc.ckpt`: a thaw run inside the session, as its host tells it. */
export function thawLine(notice: ThawNotice, image = notice.image): string {
  return `thawed ${processLabel(notice.pid, notice.comm)} from ${image}`;
}
