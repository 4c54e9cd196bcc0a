/**
 * What the caller reads about a process before the native freezer runs: its name and
 * owner, for the image's name and owner. Every refusal is the freezer's
 * (tty/freezer/job.c), made while the job is seized, so it holds for what is frozen.
 */
import { CkptyError, ExitCode } from '../base/errors.js';
import { readStat, readStatus } from './proc.js';

export interface FreezeCandidate {
  pid: number;
  comm: string;
  /** Real uid and gid. */
  uid: number;
  gid: number;
}

export function freezeCandidate(pid: number): FreezeCandidate {
  const stat = readStat(pid);
  let status: Map<string, string> | undefined;
  try {
    status = stat && readStatus(pid);
  } catch {
    status = undefined; // it ended meanwhile
  }
  if (!stat || !status) throw new CkptyError(`no process ${pid}`, ExitCode.notFound);
  const first = (key: string): number => Number((status.get(key) ?? '0').split(/\s+/)[0]);
  return { pid, comm: stat.comm, uid: first('Uid'), gid: first('Gid') };
}
