/**
 * `ckpty thaw` is the native program tty/bin/ckpty-thawer (contract in
 * tty/thawer/main.c): bin/ckpty runs it directly, with no Node start-up between the
 * user and the program. This side has its path and the shape of its --json report.
 */
import { nativeProgramPath } from '../base/native-programs.js';

export const THAWER_PATH = nativeProgramPath('ckpty-thawer');

/** What `ckpty thaw --json` prints once the program is rebuilt, before it runs. */
export interface ThawResult {
  /** The first process's pid, as it sees it: the one it had (unless --new-ids). */
  pid: number;
  /** The same process as the caller sees it (another number when it runs in a pid namespace of its own). */
  outerPid: number;
  /** Where its IDs came from: this pid namespace, a namespace of its own, or new ones (--new-ids). */
  ids: 'here' | 'namespace' | 'new';
  processes: number;
  threads: number;
  comm: string;
  /** Absolute path of the image. */
  image: string;
  mappings: number;
  storedBytes: number;
  /** Memory mapped straight from the image (read when the program touches it). */
  lazyBytes: number;
  copiedBytes: number;
  /** The image's AVX/XSAVE state did not fit this CPU: only x87/SSE registers came back. */
  fpuOnly: boolean;
  /** From the command's start until the program was ready to run. */
  durationMs: number;
  /** The rebuild of the process, from its fork on. */
  rebuildMs: number;
  /** What changed outside the image while frozen and what the job comes back with instead ("" if nothing). */
  changes: string;
}
