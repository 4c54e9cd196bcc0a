/**
 * What the reader makes of an image: typed, validated, with names for the Linux
 * values. Addresses and other 64-bit quantities are bigints; byte counts that are
 * bounded by the file size are numbers.
 */
import type { RegisterName, StandardNoteName } from './format.js';
import type { AccessMode } from './linux.js';
import type { Termios } from '../termios/termios.js';

export interface Image {
  /** CKPT_FORMAT_VERSION of the image. */
  version: number;
  /** Size of the image file in bytes. */
  fileSize: number;
  /** The file it was read from (set by openImage, absent for a buffer). */
  file?: ImageFileInfo;
  process: ProcessState;
  /** /proc/PID/cmdline split at its NULs. */
  argv: string[];
  /** General registers from NT_PRSTATUS, as seized (see process.restart). */
  registers: Registers;
  /** Every mapping in address order, [vsyscall] excepted. */
  vmas: Vma[];
  /** Identity of the executable (index 0) and of every mapped file. */
  files: MappedFile[];
  fds: FileDescriptor[];
  /** One per signal 1..64 (index = signal - 1). */
  sigactions: SignalAction[];
  signals: SignalState;
  /** The controlling terminal's state, or null when no fd was a terminal. */
  tty: TerminalState | null;
  /** What the terminal showed, as bytes that paint it again (a session's), or null. */
  screen: Uint8Array | null;
  /** Standard core notes present, in file order (gdb and readelf read these). */
  standardNotes: StandardNoteName[];
  /** Every note, in file order. */
  notes: NoteInfo[];
  /** The stored memory: one PT_LOAD per run of stored pages, in address order. */
  loads: LoadSegment[];
}

export interface ImageFileInfo {
  path: string;
  uid: number;
  gid: number;
  /** st_mode, file type bits included. */
  mode: number;
}

export type Registers = Record<RegisterName, bigint>;

export type RestartKind = 'none' | 'rewound' | 'block';

export interface ProcessState {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  uid: number;
  gid: number;
  umask: number;
  personality: number;
  comm: string;
  exe: string;
  cwd: string;
  /** `uname -r` of the machine that froze the process. */
  kernelRelease: string;
  /** CLOCK_REALTIME in nanoseconds when the process was seized. */
  freezeTimeNs: bigint;
  freezeTime: Date;
  /** The process ran on after the image was written (`--snapshot`). */
  snapshot: boolean;
  /** It was in a job-control stop (^Z) when frozen. */
  wasStopped: boolean;
  /** ckpt_process.flags as stored. */
  flags: number;
  restart: SyscallRestart;
  mm: MmFields;
  rlimits: ResourceLimit[];
  /** The registered rseq area, or null when none was registered. */
  rseq: { addr: bigint; len: number; sig: number } | null;
  vdso: { size: bigint; hash: bigint };
  /** Bytes of memory stored in the image (sum of the PT_LOADs' file sizes). */
  storedBytes: number;
}

export interface SyscallRestart {
  /** What the freezer did to the registers of a process seized inside a syscall. */
  kind: RestartKind;
  origRax: bigint;
  /** rax as seized, e.g. -512 (-ERESTARTSYS). */
  syscallRet: bigint;
}

export interface MmFields {
  startCode: bigint;
  endCode: bigint;
  startData: bigint;
  endData: bigint;
  startBrk: bigint;
  brk: bigint;
  startStack: bigint;
  argStart: bigint;
  argEnd: bigint;
  envStart: bigint;
  envEnd: bigint;
}

export interface ResourceLimit {
  /** RLIMIT_CPU, RLIMIT_NOFILE, … */
  resource: string;
  /** null: unlimited (RLIM_INFINITY). */
  cur: bigint | null;
  max: bigint | null;
}

export type VmaKindName = 'anon' | 'file' | 'heap' | 'stack' | 'vdso' | 'vvar' | 'vvar_vclock' | 'shmem' | 'image';

export interface Vma {
  index: number;
  start: bigint;
  /** Exclusive. */
  end: bigint;
  pgoff: bigint;
  prot: number;
  /** As in /proc/PID/maps: `r-xp`. */
  perms: string;
  shared: boolean;
  growsDown: boolean;
  kind: VmaKindName;
  file: MappedFile | null;
  /** The backing file's path, `[heap]`, `[stack]`, `[vdso]`…, or '' for anonymous memory. */
  path: string;
  /** Bytes of this mapping stored in the image. */
  stored: number;
}

export interface MappedFile {
  index: number;
  path: string;
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  mode: number;
}

export type FdKindName = 'file' | 'dir' | 'tty' | 'chr';

export interface FileDescriptor {
  fd: number;
  kind: FdKindName;
  path: string;
  /** Open flags as /proc/PID/fdinfo shows them. */
  flags: number;
  accessMode: AccessMode;
  /** O_RDWR, O_APPEND, O_LARGEFILE, … (the access mode first). */
  flagNames: string[];
  pos: bigint;
  cloexec: boolean;
  dev: bigint;
  ino: bigint;
  rdev: number;
}

export type Disposition = 'default' | 'ignore' | 'handler';

export interface SignalAction {
  signal: number;
  name: string;
  disposition: Disposition;
  /** SIG_DFL (0), SIG_IGN (1) or the handler's address. */
  handler: bigint;
  flags: bigint;
  flagNames: string[];
  restorer: bigint;
  mask: bigint;
  maskNames: string[];
}

export interface SignalState {
  blocked: bigint;
  pending: bigint;
  sharedPending: bigint;
  blockedNames: string[];
  pendingNames: string[];
  sharedPendingNames: string[];
  /** Queued siginfo records (signal number, code, errno). */
  queued: QueuedSignal[];
}

export interface QueuedSignal {
  signal: number;
  name: string;
  code: number;
  errno: number;
}

export interface TerminalState {
  /** The first fd that is the terminal. */
  fd: number;
  path: string;
  /** The kernel termios; ckpt is VDISABLE since the kernel holds no such character. */
  termios: Termios;
  size: { rows: number; cols: number; xpixel: number; ypixel: number };
}

export interface NoteInfo {
  /** "CORE", "LINUX", "CKPTY", … */
  owner: string;
  type: number;
  /** NT_PRSTATUS, NT_CKPT_VMAS, …; null for notes the reader does not know. */
  name: string | null;
  /** File offset of the descriptor. */
  offset: number;
  size: number;
}

export interface LoadSegment {
  /** Index of the program header. */
  index: number;
  vaddr: bigint;
  memsz: bigint;
  /** File offset of the stored bytes (page-aligned). */
  offset: number;
  filesz: number;
  /** PF_R | PF_W | PF_X */
  flags: number;
}
