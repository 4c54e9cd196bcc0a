/**
 * What the reader makes of an image: typed, validated, with names for the Linux
 * values. Addresses and other 64-bit quantities are bigints; byte counts that are
 * bounded by the file size are numbers.
 */
import type { RegisterName, StandardNoteName } from './format.js';
import type { AccessMode } from './linux.js';
import type { Termios } from '../termios/termios.js';

/**
 * A job image: the processes of one terminal job (a single process is a job of one),
 * each from its own core, and what they share.
 */
export interface Image {
  /** CKPT_FORMAT_VERSION of the image. */
  version: number;
  /** Size of the image file in bytes. */
  fileSize: number;
  /** The file it was read from (set by openImage, absent for a buffer). */
  file?: ImageFileInfo;
  job: JobState;
  /** Every member of the job, live or zombie, in the job table's order. */
  members: Member[];
  /** One per live member, in member order; processes[0] is member 0's. */
  processes: ProcessImage[];
  /** Pipes, socket pairs and file contents the open files refer to. */
  objects: JobObject[];
  /** Open file descriptions, shared by the descriptors (of any member) that name them. */
  openFiles: OpenFile[];
  /** What the epoll and inotify instances watch. */
  watches: Watch[];
  /** What the terminal showed, as bytes that paint it again (a session's), or null. */
  screen: Uint8Array | null;
}

export interface JobState {
  /** The job's process group, as its members saw it. */
  pgid: number;
  flags: number;
  /** The member whose end the shell reports for the job (a pipeline's last). */
  statusMember: number;
  /** CLOCK_MONOTONIC and CLOCK_BOOTTIME as the job saw them when seized. */
  monotonicNs: bigint;
  boottimeNs: bigint;
  /** Bytes that belong to no process's memory: pipe and socket buffers, file contents. */
  dataArea: ByteRange;
}

/** A range of the image file: offset from its start, and length. */
export interface ByteRange {
  offset: number;
  length: number;
}

export type MemberStateName = 'live' | 'zombie';

export interface Member {
  index: number;
  /** As the job saw it. */
  pid: number;
  /** Its parent's member index; null when its parent was outside the job. */
  parent: number | null;
  pgid: number;
  sid: number;
  state: MemberStateName;
  /** A zombie's status, as wait() reports it. */
  waitStatus: number;
  comm: string;
  /** Its core in the file (offsets in it are relative to its start); null for a zombie. */
  core: ByteRange | null;
}

/** One live member: a process, from its own core. */
export interface ProcessImage {
  /** Its index in the job's members. */
  member: number;
  core: ByteRange;
  process: ProcessState;
  /** /proc/PID/cmdline split at its NULs. */
  argv: string[];
  /** Its threads, the thread-group leader first. */
  threads: ThreadState[];
  /** Every mapping in address order, [vsyscall] excepted. */
  vmas: Vma[];
  /** Identity of the executable (index 0) and of every mapped file. */
  files: MappedFile[];
  /** Its descriptors, sorted, each naming one of the job's open files. */
  fds: FileDescriptor[];
  /** One per signal 1..64 (index = signal - 1). */
  sigactions: SignalAction[];
  signals: SignalState;
  timers: Timer[];
  /** The controlling terminal's state, or null when no fd was a terminal. */
  tty: TerminalState | null;
  /** Standard core notes present, in file order (gdb and readelf read these). */
  standardNotes: StandardNoteName[];
  /** Every note of its core, in file order. */
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
  /** CLOCK_REALTIME in nanoseconds when the job was seized. */
  freezeTimeNs: bigint;
  freezeTime: Date;
  /** The process ran on after the image was written (`--snapshot`). */
  snapshot: boolean;
  /** It was in a job-control stop (^Z) when frozen. */
  wasStopped: boolean;
  /** ckpt_process.flags as stored. */
  flags: number;
  mm: MmFields;
  rlimits: ResourceLimit[];
  vdso: { size: bigint; hash: bigint };
  /** Bytes of memory stored in the image (sum of the PT_LOADs' file sizes). */
  storedBytes: number;
}

export interface ThreadState {
  tid: number;
  /** /proc/PID/task/TID/comm */
  comm: string;
  /** General registers from its NT_PRSTATUS, as the thaw loads them (see restart). */
  registers: Registers;
  restart: SyscallRestart;
  blocked: bigint;
  /** Its private pending set (the process's shared one: SignalState). */
  pending: bigint;
  blockedNames: string[];
  pendingNames: string[];
  /** The registered rseq area, or null when none was registered. */
  rseq: { addr: bigint; len: number; sig: number } | null;
  /** set_robust_list() */
  robustList: { addr: bigint; len: bigint };
  /** set_tid_address() */
  clearChildTid: bigint;
  /** sigaltstack(); flags SS_DISABLE (2) when none. */
  altstack: { sp: bigint; size: bigint; flags: number };
  /** Bytes of its NT_X86_XSTATE, or null when it has none. */
  xstateSize: number | null;
}

export interface SyscallRestart {
  /** What the freezer did to the registers of a thread seized inside a syscall. */
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

export type VmaKindName = 'anon' | 'file' | 'heap' | 'stack' | 'vdso' | 'vvar' | 'vvar_vclock' | 'object' | 'image';

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
  /** The mapped file (kinds file and image). */
  file: MappedFile | null;
  /** The job's object it maps (kind object: shared memory, a memfd, a deleted file). */
  object: number | null;
  /** The backing file's path, `[heap]`, `[stack]`, `[vdso]`…, an object's name, or '' for anonymous memory. */
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

/** A descriptor number and the open file description behind it. */
export interface FileDescriptor {
  fd: number;
  cloexec: boolean;
  /** Index into Image.openFiles. */
  openFile: number;
}

export type OpenFileKindName =
  | 'file'
  | 'dir'
  | 'tty'
  | 'chr'
  | 'pipe'
  | 'socket'
  | 'object-file'
  | 'eventfd'
  | 'timerfd'
  | 'signalfd'
  | 'epoll'
  | 'inotify'
  | 'closed-socket';

/** An open file description (struct ckpt_ofile); which fields mean something depends on the kind. */
export interface OpenFile {
  index: number;
  kind: OpenFileKindName;
  /** Status flags and access mode as /proc/PID/fdinfo shows them. */
  flags: number;
  accessMode: AccessMode;
  /** O_RDWR, O_APPEND, O_LARGEFILE, … (the access mode first). */
  flagNames: string[];
  /** The file offset. */
  pos: bigint;
  /** pipe, socket, object-file: index into Image.objects. */
  object: number | null;
  /** pipe: 0 the read end, 1 the write end; socket: which end of the pair. */
  end: number;
  /** file, dir: identity at the freeze. */
  dev: bigint;
  ino: bigint;
  /** file: size and mtime at the freeze. */
  size: bigint;
  mtimeNs: bigint;
  /** chr, tty: the device number. */
  rdev: number;
  /** timerfd: its clock. */
  clock: number;
  /** eventfd: the counter; timerfd: expirations not yet read. */
  count: bigint;
  /** timerfd: time left and period, in nanoseconds. */
  valueNs: bigint;
  intervalNs: bigint;
  /** signalfd: the signals it reads. */
  sigmask: bigint;
  sigmaskNames: string[];
  /** eventfd: EFD_SEMAPHORE; timerfd: TFD_TIMER_* settime flags. */
  kindFlags: number;
  /** file, dir, chr, tty: the path; closed-socket: the peer's address. */
  path: string;
}

export type ObjectKindName = 'pipe' | 'stream-pair' | 'dgram-pair' | 'seqpacket-pair' | 'memfd' | 'deleted' | 'shmem';

/** Something open files or mappings of several members may share (struct ckpt_object). */
export interface JobObject {
  index: number;
  kind: ObjectKindName;
  /** memfd: F_GET_SEALS. */
  seals: number;
  /** Bytes in the data area: a pipe's buffer, end 0's receive queue, a file's contents (file offsets). */
  data: ByteRange;
  /** A socket pair: end 1's receive queue. */
  data2: ByteRange;
  /** pipe: capacity; files: size; shmem: bytes. */
  size: bigint;
  /** files: st_mode. */
  mode: number;
  /** memfd: its name; deleted: the path it had; a FIFO's pipe: its path. */
  name: string;
}

/** What an epoll or inotify instance watches (struct ckpt_watch). */
export interface Watch {
  index: number;
  /** The epoll or inotify open file. */
  owner: number;
  /** epoll: the watched open file; inotify: null. */
  target: number | null;
  /** epoll: the descriptor number it was added as; inotify: the watch descriptor. */
  tfd: number;
  /** epoll: events; inotify: the mask. */
  events: number;
  eventNames: string[];
  /** epoll: the user data. */
  data: bigint;
  /** inotify: the watched file. */
  path: string;
}

export type TimerKindName = 'posix' | 'real' | 'virtual' | 'prof';

export interface Timer {
  kind: TimerKindName;
  /** posix: the timer_t the process holds. */
  id: number;
  clock: number;
  notify: number;
  signal: number;
  /** SIGEV_THREAD_ID: the thread it signals. */
  notifyTid: number;
  sigevValue: bigint;
  /** Time left until it fires (0: disarmed), and its period, in nanoseconds. */
  valueNs: bigint;
  intervalNs: bigint;
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
  /** The process-wide pending set (each thread's own: ThreadState.pending). */
  sharedPending: bigint;
  sharedPendingNames: string[];
  /** Queued siginfo records. */
  queued: QueuedSignal[];
}

export interface QueuedSignal {
  /** The thread it is queued for; 0: the process (shared queue). */
  tid: number;
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
  /** Offset of the descriptor in the image file. */
  offset: number;
  size: number;
}

export interface LoadSegment {
  /** Index of the program header. */
  index: number;
  vaddr: bigint;
  memsz: bigint;
  /** Offset of the stored bytes in the image file (its core's start + p_offset; page-aligned). */
  offset: number;
  filesz: number;
  /** PF_R | PF_W | PF_X */
  flags: number;
}
