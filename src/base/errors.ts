/**
 * Errors that reach the user. Every failure ckpty expects is a CkptyError carrying
 * the exit status documented in the README ("Exit status"); anything else is a bug
 * and is reported as such, still without a stack trace unless CKPTY_DEBUG is set.
 */

export const ExitCode = {
  ok: 0,
  /** Generic failure; also bad stty words, as GNU stty does. */
  failure: 1,
  /** Bad command line (unknown option, missing argument). */
  usage: 2,
  /** The process is in a state ckpty cannot checkpoint (threads, sockets, set-uid…). */
  unsupported: 3,
  /** Not allowed: ptrace denied, image owned by someone else, the key on a job whose RLIMIT_CORE is 0. */
  permission: 4,
  /** The image is truncated, corrupt, of another format or of an unsupported version. */
  badImage: 5,
  /** Reading or writing failed (disk full, I/O error, target path refused). */
  io: 6,
  /** A file the image depends on changed or vanished since the freeze. */
  changed: 7,
  /** No such process or file. */
  notFound: 8,
  /** Internal error (a bug in ckpty). */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Exit status of a process that ckpty froze (DragonFly's SIGCKPT is 33; shells
 * report a signal death as 128+N, so 161 reads as "ended by the checkpoint").
 */
export const FROZEN_EXIT_STATUS = 128 + 33;

export class CkptyError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failure,
  ) {
    super(message);
    this.name = 'CkptyError';
  }
}
