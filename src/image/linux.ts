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

/** x86_64 syscall numbers (<asm/unistd_64.h>) of the calls a frozen thread is usually found in. */
export const SYSCALL_NUMBERS = {
  read: 0,
  write: 1,
  open: 2,
  close: 3,
  poll: 7,
  rt_sigreturn: 15,
  ioctl: 16,
  pread64: 17,
  pwrite64: 18,
  readv: 19,
  writev: 20,
  select: 23,
  sched_yield: 24,
  msync: 26,
  pause: 34,
  nanosleep: 35,
  getitimer: 36,
  alarm: 37,
  sendfile: 40,
  connect: 42,
  accept: 43,
  sendto: 44,
  recvfrom: 45,
  sendmsg: 46,
  recvmsg: 47,
  wait4: 61,
  msgrcv: 70,
  semop: 65,
  flock: 73,
  fsync: 74,
  rt_sigtimedwait: 128,
  rt_sigsuspend: 130,
  sigaltstack: 131,
  futex: 202,
  epoll_wait: 232,
  clock_nanosleep: 230,
  waitid: 247,
  inotify_add_watch: 254,
  openat: 257,
  pselect6: 270,
  ppoll: 271,
  splice: 275,
  tee: 276,
  epoll_pwait: 281,
  accept4: 288,
  recvmmsg: 299,
  sendmmsg: 307,
  copy_file_range: 326,
  preadv2: 327,
  pwritev2: 328,
  io_uring_enter: 426,
  epoll_pwait2: 441,
  futex_waitv: 449,
} as const;

const SYSCALL_NAMES = new Map<number, string>(Object.entries(SYSCALL_NUMBERS).map(([name, number]) => [number, name]));

/** `read`, `nanosleep`, …; `syscall 999` for the ones not in the table. */
export function syscallName(number: bigint | number): string {
  return SYSCALL_NAMES.get(Number(number)) ?? `syscall ${number}`;
}

/** Clock ids (<linux/time.h>). */
export const Clock = {
  CLOCK_REALTIME: 0,
  CLOCK_MONOTONIC: 1,
  CLOCK_PROCESS_CPUTIME_ID: 2,
  CLOCK_THREAD_CPUTIME_ID: 3,
  CLOCK_MONOTONIC_RAW: 4,
  CLOCK_REALTIME_COARSE: 5,
  CLOCK_MONOTONIC_COARSE: 6,
  CLOCK_BOOTTIME: 7,
  CLOCK_REALTIME_ALARM: 8,
  CLOCK_BOOTTIME_ALARM: 9,
  CLOCK_TAI: 11,
} as const;

/** A name from a table of named values, or the number itself. */
function valueName(table: Readonly<Record<string, number>>, value: number): string {
  return Object.entries(table).find(([, v]) => v === value)?.[0] ?? String(value);
}

export const clockName = (clock: number): string => valueName(Clock, clock);

/** sigevent.sigev_notify (<asm-generic/siginfo.h>). */
export const SigevNotify = {
  SIGEV_SIGNAL: 0,
  SIGEV_NONE: 1,
  SIGEV_THREAD: 2,
  SIGEV_THREAD_ID: 4,
} as const;

export const sigevNotifyName = (notify: number): string => valueName(SigevNotify, notify);

/** epoll event bits (<sys/epoll.h>). */
export const EpollEvent = {
  EPOLLIN: 0x1,
  EPOLLPRI: 0x2,
  EPOLLOUT: 0x4,
  EPOLLERR: 0x8,
  EPOLLHUP: 0x10,
  EPOLLRDNORM: 0x40,
  EPOLLRDBAND: 0x80,
  EPOLLWRNORM: 0x100,
  EPOLLWRBAND: 0x200,
  EPOLLMSG: 0x400,
  EPOLLRDHUP: 0x2000,
  EPOLLEXCLUSIVE: 0x10000000,
  EPOLLWAKEUP: 0x20000000,
  EPOLLONESHOT: 0x40000000,
  EPOLLET: 0x80000000,
} as const;

/** inotify mask bits (<sys/inotify.h>); the IN_ALL_EVENTS group first, then the flags. */
export const InotifyMask = {
  IN_ACCESS: 0x1,
  IN_MODIFY: 0x2,
  IN_ATTRIB: 0x4,
  IN_CLOSE_WRITE: 0x8,
  IN_CLOSE_NOWRITE: 0x10,
  IN_OPEN: 0x20,
  IN_MOVED_FROM: 0x40,
  IN_MOVED_TO: 0x80,
  IN_CREATE: 0x100,
  IN_DELETE: 0x200,
  IN_DELETE_SELF: 0x400,
  IN_MOVE_SELF: 0x800,
  IN_ONLYDIR: 0x1000000,
  IN_DONT_FOLLOW: 0x2000000,
  IN_EXCL_UNLINK: 0x4000000,
  IN_MASK_CREATE: 0x10000000,
  IN_MASK_ADD: 0x20000000,
  IN_ONESHOT: 0x80000000,
} as const;

/** memfd seals (F_GET_SEALS, <linux/fcntl.h>). */
export const Seal = {
  F_SEAL_SEAL: 0x1,
  F_SEAL_SHRINK: 0x2,
  F_SEAL_GROW: 0x4,
  F_SEAL_WRITE: 0x8,
  F_SEAL_FUTURE_WRITE: 0x10,
  F_SEAL_EXEC: 0x20,
} as const;

/** eventfd's and timerfd's flags as ckpt_ofile.kind_flags holds them (<sys/eventfd.h>, <sys/timerfd.h>). */
export const EventfdFlag = { EFD_SEMAPHORE: 1 } as const;
export const TimerfdFlag = { TFD_TIMER_ABSTIME: 1, TFD_TIMER_CANCEL_ON_SET: 2 } as const;

const tableOf = (table: Readonly<Record<string, number>>): (readonly [string, bigint])[] =>
  Object.entries(table).map(([name, bit]) => [name, BigInt(bit >>> 0)] as const);

const EPOLL_TABLE = tableOf(EpollEvent);
const INOTIFY_TABLE = tableOf(InotifyMask);
const SEAL_TABLE = tableOf(Seal);

export const epollEventNames = (events: number): string[] => bitNames(BigInt(events >>> 0), EPOLL_TABLE);
export const inotifyMaskNames = (mask: number): string[] => bitNames(BigInt(mask >>> 0), INOTIFY_TABLE);
export const sealNames = (seals: number): string[] => bitNames(BigInt(seals >>> 0), SEAL_TABLE);
export const eventfdFlagNames = (flags: number): string[] => bitNames(BigInt(flags >>> 0), tableOf(EventfdFlag));
export const timerfdFlagNames = (flags: number): string[] => bitNames(BigInt(flags >>> 0), tableOf(TimerfdFlag));

/** A device number as `major:minor` (the kernel's new_encode_dev, as st_rdev holds it). */
export function deviceName(rdev: number | bigint): string {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}
