/**
 * What may be frozen, decided before the process is touched. Each refusal names its
 * reason; the native freezer checks the thread count and the descriptors again once the
 * process is seized, in case they changed in between.
 */
import { CkptyError, ExitCode, type ExitCodeValue } from '../base/errors.js';
import { processLabel } from '../base/format.js';
import {
  PF_KTHREAD,
  REBUILDABLE_KINDS,
  deletedMappings,
  executableMode,
  ids,
  openFiles,
  readStat,
  readStatus,
  softLimit,
  type ProcStat,
} from './proc.js';

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

/** What the policy learnt about the process, for naming the image. */
export interface FreezeCandidate {
  pid: number;
  comm: string;
  /** Real uid. */
  uid: number;
  gid: number;
}

function refuse(stat: ProcStat, reason: string, code: ExitCodeValue = ExitCode.unsupported): never {
  throw new CkptyError(`cannot freeze ${processLabel(stat.pid, stat.comm)}: ${reason}`, code);
}

/** Is `pid` this process or one of its ancestors? Freezing it would stop the freezer's own caller. */
function isSelfOrAncestor(pid: number): boolean {
  for (let at: number | undefined = process.pid; at !== undefined && at > 0; ) {
    if (at === pid) return true;
    const parent: number | undefined = readStat(at)?.ppid;
    at = parent === at ? undefined : parent;
  }
  return false;
}

export interface FreezeRules {
  /**
   * Refuse a process whose soft core size limit is 0: its opt-out of the checkpoint key
   * (DragonFly's RLIMIT_CORE rule). An explicit `ckpty freeze PID` ignores it, as gcore does.
   */
  honourCoreLimit?: boolean;
}

/**
 * Check that `pid` can be frozen by the caller; throws a CkptyError naming the first
 * reason it cannot (with ExitCode.notFound, .permission or .unsupported).
 */
export function checkFreezable(pid: number, rules: FreezeRules = {}): FreezeCandidate {
  const stat = readStat(pid);
  if (!stat) throw new CkptyError(`no process ${pid}`, ExitCode.notFound);
  try {
    return checkStat(stat, rules);
  } catch (err) {
    // /proc files vanish when the process ends, and turn root-only when it is not dumpable.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new CkptyError(`no process ${pid} (it ended)`, ExitCode.notFound);
    if (code === 'EACCES' || code === 'EPERM') refuse(stat, 'not allowed to inspect it', ExitCode.permission);
    throw err;
  }
}

function checkStat(stat: ProcStat, rules: FreezeRules): FreezeCandidate {
  const pid = stat.pid;
  if (pid === 1) refuse(stat, 'it is the init process');
  if (stat.flags & PF_KTHREAD) refuse(stat, 'it is a kernel thread');
  if (stat.state === 'Z' || stat.state === 'X') refuse(stat, 'it has already exited (zombie)');
  if (isSelfOrAncestor(pid)) refuse(stat, 'it is ckpty itself or one of its parents');

  const status = readStatus(pid);
  const uids = ids(status, 'Uid');
  const gids = ids(status, 'Gid');
  // The kernel's ptrace rule without CAP_SYS_PTRACE: every uid and gid of the target is the caller's real one.
  const caller = process.getuid?.() ?? 0;
  if (caller !== 0) {
    const callerGid = process.getgid?.() ?? 0;
    if (uids.some((uid) => uid !== caller) || gids.some((gid) => gid !== callerGid)) {
      refuse(stat, `it belongs to another user (uid ${uids[0]}); only root may freeze it`, ExitCode.permission);
    }
  }
  const tracer = Number(status.get('TracerPid') ?? 0);
  if (tracer !== 0) refuse(stat, `it is being traced by process ${tracer} (a debugger?)`);
  if (new Set(uids).size > 1 || new Set(gids).size > 1) refuse(stat, 'it runs with changed user or group ids (set-uid/set-gid)');
  const mode = executableMode(pid);
  if (mode === undefined) refuse(stat, 'its executable cannot be inspected', ExitCode.permission);
  if (mode & (S_ISUID | S_ISGID)) refuse(stat, 'it is a set-uid or set-gid program');

  if (stat.threads > 1) refuse(stat, `it has ${stat.threads} threads (only single-threaded processes can be frozen)`);
  if (rules.honourCoreLimit && softLimit(pid, 'Max core file size') === 0) {
    refuse(stat, 'its core file size limit (RLIMIT_CORE, ulimit -c) is 0: it opted out of the checkpoint key', ExitCode.permission);
  }

  const unsupported = openFiles(pid).filter((file) => !REBUILDABLE_KINDS.has(file.kind));
  if (unsupported.length > 0) {
    const list = unsupported.map((file) => `fd ${file.fd} (${file.kind})`).join(', ');
    refuse(stat, `open files the thaw cannot rebuild: ${list}`);
  }
  const deleted = deletedMappings(pid);
  if (deleted.length > 0) refuse(stat, `it maps deleted files: ${deleted.join(', ')}`);

  return { pid, comm: stat.comm, uid: uids[0] ?? 0, gid: gids[0] ?? 0 };
}
