/**
 * Names for the Linux x86_64 ABI values an image holds: signals and signal sets,
 * sigaction flags, open flags, mapping protections. Pure module.
 */

const CLASSIC_SIGNALS = [
  'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM',
  'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO',
  'PWR', 'SYS',
];

/** The kernel's signal numbers run 1..NSIG (64); glibc keeps 32 and 33 for itself. */
export const NSIG = 64;
const RTMIN = 34;
const RTMAX = 64;

/** A signal's name as bash's `kill -l` spells it, with the SIG prefix (SIG32 for glibc's own). */
export function signalName(signal: number): string {
  const classic = CLASSIC_SIGNALS[signal - 1];
  if (classic !== undefined) return `SIG${classic}`;
  if (signal === RTMIN) return 'SIGRTMIN';
  if (signal === RTMAX) return 'SIGRTMAX';
  if (signal > RTMIN && signal < RTMIN + 16) return `SIGRTMIN+${signal - RTMIN}`;
  if (signal >= RTMIN + 16 && signal < RTMAX) return `SIGRTMAX-${RTMAX - signal}`;
  return `SIG${signal}`;
}

/** The signals of a kernel sigset (bit n-1 is signal n), as names in numeric order. */
export function signalSetNames(mask: bigint): string[] {
  const names: string[] = [];
  for (let signal = 1; signal <= NSIG; signal++) {
    if ((mask >> BigInt(signal - 1)) & 1n) names.push(signalName(signal));
  }
  return names;
}

/** Names for the bits of a flag word, with unknown bits left over as one hex number. */
function bitNames(value: bigint, table: readonly (readonly [string, bigint])[]): string[] {
  const names: string[] = [];
  let rest = value;
  for (const [name, bit] of table) {
    if ((value & bit) === bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names;
}

/** sa_flags bits (<asm/signal.h>). */
export const SigactionFlag = {
  SA_NOCLDSTOP: 0x1,
  SA_NOCLDWAIT: 0x2,
  SA_SIGINFO: 0x4,
  SA_UNSUPPORTED: 0x400,
  SA_EXPOSE_TAGBITS: 0x800,
  SA_RESTORER: 0x04000000,
  SA_ONSTACK: 0x08000000,
  SA_RESTART: 0x10000000,
  SA_NODEFER: 0x40000000,
  SA_RESETHAND: 0x80000000,
} as const;

const SIGACTION_FLAG_TABLE = Object.entries(SigactionFlag).map(([name, bit]) => [name, BigInt(bit)] as const);

export function sigactionFlagNames(flags: bigint): string[] {
  return bitNames(flags, SIGACTION_FLAG_TABLE);
}

/** sa_handler values that are not addresses. */
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

/** open(2) flags as /proc/PID/fdinfo shows them (<asm-generic/fcntl.h>, x86_64). */
export const OpenFlag = {
  O_ACCMODE: 0o3,
  O_RDONLY: 0o0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_DSYNC: 0o10000,
  FASYNC: 0o20000,
  O_DIRECT: 0o40000,
  O_LARGEFILE: 0o100000,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: 0o400000,
  O_NOATIME: 0o1000000,
  O_CLOEXEC: 0o2000000,
  O_SYNC: 0o4010000,
  O_PATH: 0o10000000,
  O_TMPFILE: 0o20200000,
} as const;

const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

/** Compound flags first, so that O_SYNC is not also shown as O_DSYNC. */
const OPEN_FLAG_TABLE = (
  [
    'O_SYNC', 'O_TMPFILE', 'O_CREAT', 'O_EXCL', 'O_NOCTTY', 'O_TRUNC', 'O_APPEND', 'O_NONBLOCK', 'O_DSYNC', 'FASYNC',
    'O_DIRECT', 'O_LARGEFILE', 'O_DIRECTORY', 'O_NOFOLLOW', 'O_NOATIME', 'O_CLOEXEC', 'O_PATH',
  ] as const
).map((name) => [name, BigInt(OpenFlag[name])] as const);

export function accessModeOf(flags: number): AccessMode {
  return ACCESS_MODES[flags & OpenFlag.O_ACCMODE] as AccessMode;
}

/** The access mode, then the other flags (O_RDWR, O_APPEND, O_LARGEFILE, …). */
export function openFlagNames(flags: number): string[] {
  return [accessModeOf(flags), ...bitNames(BigInt(flags & ~OpenFlag.O_ACCMODE), OPEN_FLAG_TABLE)];
}

export const Prot = { PROT_READ: 0x1, PROT_WRITE: 0x2, PROT_EXEC: 0x4 } as const;

/** The permission column of /proc/PID/maps: `r-xp`, `rw-s`. */
export function permissionString(prot: number, shared: boolean): string {
  return (
    (prot & Prot.PROT_READ ? 'r' : '-') +
    (prot & Prot.PROT_WRITE ? 'w' : '-') +
    (prot & Prot.PROT_EXEC ? 'x' : '-') +
    (shared ? 's' : 'p')
  );
}

/** RLIMIT_* in resource-number order (<asm-generic/resource.h>). */
export const RLIMIT_NAMES = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC',
  'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
] as const;

/** RLIM_INFINITY as the kernel stores it. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
