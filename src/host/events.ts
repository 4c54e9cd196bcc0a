/**
 * What a session tells its front ends (plain mode, the full-screen terminal, the
 * recorder). Every event is typed; Session extends EventEmitter<SessionEventMap>.
 */
import type { FreezeResult } from '../freezer/freeze.js';
import type { ThawNotice } from '../base/control-protocol.js';

/** A process as the status line names it: `bc[4242]`. */
export interface JobMember {
  pid: number;
  name: string;
}

export type CheckpointAction = 'freeze' | 'snapshot';

/**
 * An image was written (and for a freeze, the process has ended): the freezer's
 * result (pid, comm, path, bytes, durationMs …) and the job's process group.
 */
export type ImageWritten = FreezeResult & { pgrp: number };

export type CheckpointOutcome =
  | ({ kind: 'froze' } & ImageWritten)
  | ({ kind: 'snapshot' } & ImageWritten)
  | {
      kind: 'refused';
      action: CheckpointAction;
      pgrp: number;
      /** The job's processes (ckpty's own thaw supervisors excluded). */
      members: JobMember[];
      reason: string;
    };

/** The checkpoint key was recognised; its echo (possibly empty) is already in the output. */
export interface KeyPress {
  pgrp: number;
  /** The byte that was typed. */
  char: number;
  echo: Buffer;
}

export interface KeyChange {
  /** The new ckpt character, 0 when disabled. */
  ckpt: number;
  previous: number;
}

export interface SessionExit {
  exitCode: number;
  signal?: number;
  /** What a shell would report: exitCode, or 128 + signal. */
  status: number;
}

export interface SessionEventMap {
  /** Bytes for the screen: the pty's output, and the echo of the checkpoint key. */
  output: [data: Buffer];
  /** Keyboard bytes as given to write(), before the checkpoint key is looked for. */
  input: [data: Buffer];
  key: [press: KeyPress];
  froze: [outcome: Extract<CheckpointOutcome, { kind: 'froze' }>];
  snapshot: [outcome: Extract<CheckpointOutcome, { kind: 'snapshot' }>];
  refused: [outcome: Extract<CheckpointOutcome, { kind: 'refused' }>];
  keyChanged: [change: KeyChange];
  /**
   * After a freeze, the terminal left the job's alternate screen (those bytes came as
   * output just before): the cursor is at the start of a line of the normal screen.
   */
  left: [];
  /** A `ckpty thaw` run inside the session brought a program back. */
  thawed: [notice: ThawNotice];
  resize: [size: { cols: number; rows: number }];
  exit: [exit: SessionExit];
}
