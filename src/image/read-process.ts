/**
 * One live member's core decoded into a ProcessImage, with the per-member rules of
 * docs/image-format.md in their order. The job's tables are decoded by then (the
 * descriptors and mappings refer to them).
 *
 * Pure module.
 */
import {
  AUXV_ENTRY_SIZE,
  CKPT_FILE,
  CKPT_FORMAT_VERSION,
  CKPT_KERNEL_TERMIOS,
  CKPT_FD,
  CKPT_NRLIMITS,
  CKPT_NSIGACTIONS,
  CKPT_PAGE_SIZE,
  CKPT_PROCESS,
  CKPT_QUEUED,
  CKPT_SIGACTION,
  CKPT_SIGNALS,
  CKPT_THREAD,
  CKPT_TIMER,
  CKPT_TTY,
  CKPT_VMA,
  ELF_PRSTATUS,
  Elf,
  FPREGSET_SIZE,
  FormatConstant,
  JOB_NOTES,
  ProcessFlag,
  Restart,
  SIGINFO_HEAD,
  TimerKind,
  USER_REGS,
  VmaFlag,
  VmaKind,
  type MmFieldName,
  type RegisterName,
} from './format.js';
import type { Blame } from './errors.js';
import type {
  FileDescriptor,
  JobObject,
  LoadSegment,
  MappedFile,
  Member,
  MmFields,
  ProcessImage,
  ProcessState,
  Registers,
  RestartKind,
  SignalAction,
  SignalState,
  TerminalState,
  ThreadState,
  Timer,
  TimerKindName,
  Vma,
  VmaKindName,
} from './image.js';
import {
  permissionString,
  RLIM_INFINITY,
  RLIMIT_NAMES,
  SIG_DFL,
  SIG_IGN,
  SigevNotify,
  sigactionFlagNames,
  signalName,
  signalSetNames,
} from './linux.js';
import { cString, hex, inside, range, utf8, StringTable, type Core, type ThreadNoteName } from './read-core.js';
import { StructView } from './struct-view.js';
import { KERNEL_NCCS, VDISABLE } from '../termios/termios.js';

const PAGE = BigInt(CKPT_PAGE_SIZE);

/** A member's core and what it is checked against: the job's tables. */
export interface ProcessContext {
  member: Member;
  core: Core;
  /** Names the member in every problem when the job has several. */
  bad: Blame;
  objects: JobObject[];
  /** How many open files the job has. */
  openFiles: number;
}

type ProcessField = keyof typeof CKPT_PROCESS.fields;

export function decodeProcess(context: ProcessContext): ProcessImage {
  const { member, core, bad } = context;
  const notes = core.notes;
  const size = BigInt(member.core?.length ?? 0);
  checkMemberHeader(context, size);
  const process = notes.single('NT_CKPT_PROCESS', CKPT_PROCESS);
  if (process.num('member') !== member.index) {
    throw bad.corrupt(`NT_CKPT_PROCESS.member is ${process.num('member')}, but the core is member ${member.index}'s`);
  }
  // Member 0's table was checked for the job's tables already: the same check again passes.
  const strings = new StringTable(notes.required('NT_CKPT_STRINGS'), bad);
  const files = decodeFiles(context, strings);
  const vmas = decodeVmas(context, files);
  const loads = decodeLoads(context, size);
  checkStoredBytes(bad, vmas, loads, process);
  const state = decodeProcessFields(bad, process, strings);
  const threads = decodeThreads(context, state.pid, process.num('nthreads'));
  checkAuxv(context);
  const argv = decodeArgv(notes.required('NT_CKPT_ARGV'));
  const fds = decodeFds(context);
  const sigactions = decodeSigactions(context);
  const signals = decodeSignals(context, threads);
  const timers = decodeTimers(context, threads);
  return {
    member: member.index,
    core: { offset: core.base, length: Number(size) },
    process: state,
    argv,
    threads,
    vmas,
    files,
    fds,
    sigactions,
    signals,
    timers,
    tty: decodeTty(context, strings),
    standardNotes: notes.standard,
    notes: notes.infos,
    loads,
  };
}

/** Its headers and notes lie in its core; another member than 0 has the job's version and none of the job's notes. */
function checkMemberHeader({ member, core, bad }: ProcessContext, size: bigint): void {
  const end = core.headersEnd > core.notesEnd ? core.headersEnd : core.notesEnd;
  if (end > size) throw bad.corrupt(`its headers and notes end at ${end}, past its core (${size} bytes)`);
  if (member.index === 0) return;
  // Member 0's version is the job's (checked first); another member's differing is damage.
  const process = core.notes.optional('NT_CKPT_PROCESS');
  if (process !== null && process.length >= 4) {
    const version = new DataView(process.buffer, process.byteOffset, 4).getUint32(0, true);
    if (version !== CKPT_FORMAT_VERSION) throw bad.corrupt(`NT_CKPT_PROCESS.version is ${version} (the job's is ${CKPT_FORMAT_VERSION})`);
  }
  const jobNote = JOB_NOTES.find((name) => core.notes.has(name));
  if (jobNote !== undefined) throw bad.corrupt(`note ${jobNote} belongs in member 0's core only`);
}

function decodeFiles({ core, bad }: ProcessContext, strings: StringTable): MappedFile[] {
  const entries = core.notes.array('NT_CKPT_FILES', CKPT_FILE);
  if (entries.length === 0) throw bad.corrupt('NT_CKPT_FILES is empty (the executable comes first)');
  return entries.map((file, index) => ({
    index,
    path: strings.get(file.num('path'), `NT_CKPT_FILES[${index}].path`),
    dev: file.big('dev'),
    ino: file.big('ino'),
    size: file.big('size'),
    mtimeNs: file.big('mtime_sec') * 1_000_000_000n + file.big('mtime_nsec'),
    ctimeNs: file.big('ctime_sec') * 1_000_000_000n + file.big('ctime_nsec'),
    mode: file.num('mode'),
  }));
}

const VMA_KINDS: Record<number, VmaKindName> = {
  [VmaKind.CKPT_VMA_ANON]: 'anon',
  [VmaKind.CKPT_VMA_FILE]: 'file',
  [VmaKind.CKPT_VMA_HEAP]: 'heap',
  [VmaKind.CKPT_VMA_STACK]: 'stack',
  [VmaKind.CKPT_VMA_VDSO]: 'vdso',
  [VmaKind.CKPT_VMA_VVAR]: 'vvar',
  [VmaKind.CKPT_VMA_VVAR_VCLOCK]: 'vvar_vclock',
  [VmaKind.CKPT_VMA_OBJECT]: 'object',
  [VmaKind.CKPT_VMA_IMAGE]: 'image',
};

/** The name /proc/PID/maps shows for mappings without a file. */
const SPECIAL_MAPPING_NAMES: Partial<Record<VmaKindName, string>> = {
  heap: '[heap]',
  stack: '[stack]',
  vdso: '[vdso]',
  vvar: '[vvar]',
  vvar_vclock: '[vvar_vclock]',
};

const KNOWN_VMA_FLAGS = VmaFlag.CKPT_VMA_SHARED | VmaFlag.CKPT_VMA_GROWSDOWN;
/** The objects a mapping may map: memory and files. */
const MAPPABLE_OBJECTS = new Set(['memfd', 'deleted', 'shmem']);

/** A mapping's backing: NT_CKPT_FILES for file and image, a job object for object, none otherwise. */
function vmaBacking(bad: Blame, what: string, kind: VmaKindName, index: number, files: MappedFile[], objects: JobObject[]) {
  if (kind === 'file' || kind === 'image') {
    const file = files[index];
    if (file === undefined) throw bad.corrupt(`${what} refers to file ${index}, but NT_CKPT_FILES has ${files.length}`);
    return { file, object: null, path: file.path };
  }
  if (kind === 'object') {
    const object = objects[index];
    if (object === undefined) throw bad.corrupt(`${what} refers to object ${index}, but NT_CKPT_OBJECTS has ${objects.length}`);
    if (!MAPPABLE_OBJECTS.has(object.kind)) throw bad.corrupt(`${what} maps object ${index} of kind ${object.kind} (not memory or a file)`);
    return { file: null, object: index, path: object.name };
  }
  if (index !== -1) throw bad.corrupt(`${what} names file ${index} but is not file-backed`);
  return { file: null, object: null, path: SPECIAL_MAPPING_NAMES[kind] ?? '' };
}

function decodeVmas({ core, bad, objects }: ProcessContext, files: MappedFile[]): Vma[] {
  const vmas: Vma[] = [];
  for (const [index, vma] of core.notes.array('NT_CKPT_VMAS', CKPT_VMA).entries()) {
    const start = vma.big('start');
    const end = vma.big('end');
    const what = `VMA ${index} (${range(start, end)})`;
    if (start % PAGE !== 0n || end % PAGE !== 0n || vma.big('pgoff') % PAGE !== 0n) throw bad.corrupt(`${what} is not page-aligned`);
    if (start >= end) throw bad.corrupt(`${what} is empty or reversed`);
    const previous = vmas[vmas.length - 1];
    if (previous !== undefined && start < previous.end) {
      throw bad.corrupt(`VMAs ${previous.index} (${range(previous.start, previous.end)}) and ${index} (${range(start, end)}) overlap or are out of order`);
    }
    const kindCode = vma.num('kind');
    const kind = VMA_KINDS[kindCode];
    if (kind === undefined) throw bad.corrupt(`${what} has unknown kind ${kindCode}`);
    const prot = vma.num('prot');
    if (prot > 7) throw bad.corrupt(`${what} has protection bits ${hex(prot)}`);
    const flags = vma.num('flags');
    if ((flags & ~KNOWN_VMA_FLAGS) !== 0) throw bad.corrupt(`${what} has unknown flags ${hex(flags)}`);
    const backing = vmaBacking(bad, what, kind, vma.num('file'), files, objects);
    const stored = vma.big('stored');
    if (stored > end - start || stored % PAGE !== 0n) throw bad.corrupt(`${what} claims ${stored} stored bytes`);
    const shared = (flags & VmaFlag.CKPT_VMA_SHARED) !== 0;
    vmas.push({
      index,
      start,
      end,
      pgoff: vma.big('pgoff'),
      prot,
      perms: permissionString(prot, shared),
      shared,
      growsDown: (flags & VmaFlag.CKPT_VMA_GROWSDOWN) !== 0,
      kind,
      ...backing,
      stored: Number(stored),
    });
  }
  return vmas;
}

function decodeLoads({ core, bad }: ProcessContext, size: bigint): LoadSegment[] {
  const loads: LoadSegment[] = [];
  for (const header of core.headers.slice(1)) {
    const what = `PT_LOAD ${header.index} (${range(header.vaddr, header.vaddr + header.memsz)})`;
    if (header.type !== Elf.PT_LOAD) throw bad.corrupt(`program header ${header.index} has type ${hex(header.type)} (expected PT_LOAD)`);
    if (header.filesz > header.memsz) throw bad.corrupt(`${what} stores ${header.filesz} bytes of a ${header.memsz}-byte segment`);
    if (!inside(header.offset, header.filesz, size)) {
      throw bad.corrupt(`${what} ends at ${header.offset + header.filesz}, past its core (${size} bytes)`);
    }
    const pages = [header.vaddr, header.offset, header.filesz, header.memsz].every((value) => value % PAGE === 0n);
    if (!pages || header.filesz === 0n) throw bad.corrupt(`${what} is not a whole number of pages`);
    const previous = loads[loads.length - 1];
    if (previous !== undefined && header.vaddr < previous.vaddr + previous.memsz) {
      throw bad.corrupt(`PT_LOADs ${previous.index} and ${header.index} overlap or are out of address order`);
    }
    loads.push({
      index: header.index,
      vaddr: header.vaddr,
      memsz: header.memsz,
      offset: core.base + Number(header.offset),
      filesz: Number(header.filesz),
      flags: header.flags,
    });
  }
  return loads;
}

/**
 * Every PT_LOAD lies inside one mapping (the thaw maps each mapping by itself), each
 * mapping's `stored` is what its PT_LOADs hold, and ckpt_process.stored_bytes is their sum.
 */
function checkStoredBytes(bad: Blame, vmas: Vma[], loads: LoadSegment[], process: StructView<ProcessField>): void {
  const storedIn = vmas.map(() => 0);
  let at = 0;
  for (const load of loads) {
    const end = load.vaddr + load.memsz;
    while (at < vmas.length && (vmas[at] as Vma).end <= load.vaddr) at++;
    const vma = vmas[at];
    if (vma === undefined || vma.start > load.vaddr || end > vma.end) {
      throw bad.corrupt(`PT_LOAD ${load.index} (${range(load.vaddr, end)}) is not inside one mapping`);
    }
    storedIn[at] = (storedIn[at] ?? 0) + load.filesz;
  }
  for (const vma of vmas) {
    const held = storedIn[vma.index] ?? 0;
    if (held !== vma.stored) {
      throw bad.corrupt(`VMA ${vma.index} (${range(vma.start, vma.end)}) says ${vma.stored} bytes are stored, its PT_LOADs hold ${held}`);
    }
  }
  const total = loads.reduce((sum, load) => sum + load.filesz, 0);
  const claimed = process.big('stored_bytes');
  if (claimed !== BigInt(total)) throw bad.corrupt(`NT_CKPT_PROCESS says ${claimed} bytes are stored, the PT_LOADs hold ${total}`);
}

const MM_FIELDS: Record<keyof MmFields, MmFieldName> = {
  startCode: 'start_code',
  endCode: 'end_code',
  startData: 'start_data',
  endData: 'end_data',
  startBrk: 'start_brk',
  brk: 'brk',
  startStack: 'start_stack',
  argStart: 'arg_start',
  argEnd: 'arg_end',
  envStart: 'env_start',
  envEnd: 'env_end',
};

function decodeProcessFields(bad: Blame, view: StructView<ProcessField>, strings: StringTable): ProcessState {
  const exe = strings.get(view.num('exe'), 'NT_CKPT_PROCESS.exe');
  const cwd = strings.get(view.num('cwd'), 'NT_CKPT_PROCESS.cwd');
  const kernelRelease = strings.get(view.num('kernel_release'), 'NT_CKPT_PROCESS.kernel_release');
  const nthreads = view.num('nthreads');
  const max = FormatConstant.CKPT_MAX_THREADS;
  if (nthreads === 0 || nthreads > max) throw bad.corrupt(`a process of ${nthreads} threads (1 to ${max})`);
  const mmView = view.nested<MmFieldName>('mm');
  const mm = Object.fromEntries(Object.entries(MM_FIELDS).map(([name, cName]) => [name, mmView.big(cName)])) as unknown as MmFields;
  const unlimited = (value: bigint): bigint | null => (value === RLIM_INFINITY ? null : value);
  const rlimits = Array.from({ length: CKPT_NRLIMITS }, (_, resource) => {
    const limit = view.nested<'cur' | 'max'>('rlimits', resource);
    return { resource: RLIMIT_NAMES[resource] ?? `RLIMIT_${resource}`, cur: unlimited(limit.big('cur')), max: unlimited(limit.big('max')) };
  });
  const flags = view.num('flags');
  const freezeTimeNs = view.big('freeze_time_ns');
  return {
    pid: view.num('pid'),
    ppid: view.num('ppid'),
    pgid: view.num('pgid'),
    sid: view.num('sid'),
    uid: view.num('uid'),
    gid: view.num('gid'),
    umask: view.num('umask'),
    personality: view.num('personality'),
    comm: cString(view.bytes('comm')),
    exe,
    cwd,
    kernelRelease,
    freezeTimeNs,
    freezeTime: new Date(Number(freezeTimeNs / 1_000_000n)),
    snapshot: (flags & ProcessFlag.CKPT_PROC_SNAPSHOT) !== 0,
    wasStopped: (flags & ProcessFlag.CKPT_PROC_WAS_STOPPED) !== 0,
    flags,
    mm,
    rlimits,
    vdso: { size: view.big('vdso_size'), hash: view.big('vdso_hash') },
    // Checked against the PT_LOADs, so it is at most the file size.
    storedBytes: Number(view.big('stored_bytes')),
  };
}

interface ThreadNotes {
  registers: Registers;
  fpregs: boolean;
  xstateSize: number | null;
}

/** The per-thread standard notes, in file order: NT_PRSTATUS starts a thread, its FP state follows. */
function threadNotes({ core, bad }: ProcessContext, nthreads: number): ThreadNotes[] {
  const threads: ThreadNotes[] = [];
  for (const { name, desc } of core.notes.threadNotes) {
    if (name === 'NT_PRSTATUS') {
      if (threads.length === nthreads) throw bad.corrupt(`more NT_PRSTATUS notes than its ${nthreads} threads`);
      if (desc.length !== ELF_PRSTATUS.size) {
        throw bad.corrupt(`NT_PRSTATUS of thread ${threads.length} has size ${desc.length}, not ${ELF_PRSTATUS.size}`);
      }
      const regs = new StructView(desc, ELF_PRSTATUS.fields.pr_reg.offset, USER_REGS);
      const registers = Object.fromEntries(REGISTER_NAMES.map((reg) => [reg, regs.big(reg)])) as Registers;
      threads.push({ registers, fpregs: false, xstateSize: null });
      continue;
    }
    const thread = threads[threads.length - 1];
    if (thread === undefined) throw bad.corrupt(`note ${name} comes before the first NT_PRSTATUS`);
    checkFpNote(bad, name, desc, thread, threads.length - 1);
  }
  if (threads.length !== nthreads) throw bad.corrupt(`${threads.length} NT_PRSTATUS notes for ${nthreads} threads`);
  const withoutFp = threads.findIndex((thread) => !thread.fpregs);
  if (withoutFp !== -1) throw bad.corrupt(`thread ${withoutFp} has no NT_FPREGSET`);
  return threads;
}

const REGISTER_NAMES = Object.keys(USER_REGS.fields) as RegisterName[];

function checkFpNote(bad: Blame, name: Exclude<ThreadNoteName, 'NT_PRSTATUS'>, desc: Uint8Array, thread: ThreadNotes, index: number): void {
  const seen = name === 'NT_FPREGSET' ? thread.fpregs : thread.xstateSize !== null;
  if (seen) throw bad.corrupt(`thread ${index} has more than one ${name}`);
  if (name === 'NT_FPREGSET') {
    if (desc.length !== FPREGSET_SIZE) throw bad.corrupt(`NT_FPREGSET of thread ${index} has size ${desc.length}, not ${FPREGSET_SIZE}`);
    thread.fpregs = true;
    return;
  }
  const min = FormatConstant.CKPT_MIN_XSTATE_SIZE;
  if (desc.length < min) throw bad.corrupt(`NT_X86_XSTATE of thread ${index} has size ${desc.length}, less than ${min}`);
  thread.xstateSize = desc.length;
}

const RESTART_KINDS: Record<number, RestartKind> = {
  [Restart.CKPT_RESTART_NONE]: 'none',
  [Restart.CKPT_RESTART_REWOUND]: 'rewound',
  [Restart.CKPT_RESTART_BLOCK]: 'block',
};

function decodeThreads(context: ProcessContext, pid: number, nthreads: number): ThreadState[] {
  const { core, bad } = context;
  const notes = threadNotes(context, nthreads);
  const states = core.notes.array('NT_CKPT_THREADS', CKPT_THREAD);
  if (states.length !== nthreads) throw bad.corrupt(`NT_CKPT_THREADS has ${states.length} entries, but NT_CKPT_PROCESS.nthreads is ${nthreads}`);
  const seen = new Map<number, number>();
  return states.map((view, index) => {
    const tid = view.num('tid');
    if (tid <= 0) throw bad.corrupt(`thread ${index} has tid ${tid}`);
    const earlier = seen.get(tid);
    if (earlier !== undefined) throw bad.corrupt(`threads ${earlier} and ${index} both have tid ${tid}`);
    seen.set(tid, index);
    if (index === 0 && tid !== pid) throw bad.corrupt(`thread 0 has tid ${tid}, not the process's pid ${pid} (the leader comes first)`);
    const restartCode = view.num('syscall_restart');
    const restartKind = RESTART_KINDS[restartCode];
    if (restartKind === undefined) throw bad.corrupt(`thread ${index} has unknown syscall restart kind ${restartCode}`);
    const rseqAddr = view.big('rseq_addr');
    const rseqLen = view.num('rseq_len');
    if (rseqAddr !== 0n && rseqLen < 32) throw bad.corrupt(`thread ${index} has an rseq area of ${rseqLen} bytes (at least 32)`);
    const blocked = view.big('blocked');
    const pending = view.big('pending');
    const { registers, xstateSize } = notes[index] as ThreadNotes;
    return {
      tid,
      comm: cString(view.bytes('comm')),
      registers,
      restart: { kind: restartKind, origRax: view.big('orig_rax'), syscallRet: view.big('syscall_ret') },
      blocked,
      pending,
      blockedNames: signalSetNames(blocked),
      pendingNames: signalSetNames(pending),
      rseq: rseqAddr === 0n ? null : { addr: rseqAddr, len: rseqLen, sig: view.num('rseq_sig') },
      robustList: { addr: view.big('robust_list'), len: view.big('robust_len') },
      clearChildTid: view.big('clear_child_tid'),
      altstack: { sp: view.big('altstack_sp'), size: view.big('altstack_size'), flags: view.num('altstack_flags') },
      xstateSize,
    };
  });
}

/** The auxiliary vector is the thaw's; info does not show it, but it must be sound. */
function checkAuxv({ core, bad }: ProcessContext): void {
  const auxv = core.notes.optional('NT_AUXV');
  const max = FormatConstant.CKPT_MAX_AUXV_SIZE;
  if (auxv !== null && auxv.length > max) throw bad.corrupt(`note NT_AUXV has size ${auxv.length}, more than ${max}`);
  core.notes.multiple('NT_AUXV', AUXV_ENTRY_SIZE);
}

function decodeArgv(bytes: Uint8Array): string[] {
  const argv: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0, start);
    if (end === -1) end = bytes.length;
    argv.push(utf8.decode(bytes.subarray(start, end)));
    start = end + 1;
  }
  return argv;
}

function decodeFds({ core, bad, openFiles }: ProcessContext): FileDescriptor[] {
  let previous = -1;
  return core.notes.array('NT_CKPT_FDS', CKPT_FD).map((entry, index) => {
    const fd = entry.num('fd');
    if (fd <= previous) throw bad.corrupt(`NT_CKPT_FDS[${index}] has fd ${fd} (the table is sorted, without repeats)`);
    previous = fd;
    const openFile = entry.num('ofile');
    if (openFile < 0 || openFile >= openFiles) throw bad.corrupt(`fd ${fd} refers to open file ${openFile}, but NT_CKPT_OFILES has ${openFiles}`);
    return { fd, cloexec: entry.num('cloexec') !== 0, openFile };
  });
}

function decodeSigactions({ core }: ProcessContext): SignalAction[] {
  const desc = core.notes.exact('NT_CKPT_SIGACTIONS', CKPT_NSIGACTIONS * CKPT_SIGACTION.size);
  return Array.from({ length: CKPT_NSIGACTIONS }, (_, index) => {
    const entry = new StructView(desc, index * CKPT_SIGACTION.size, CKPT_SIGACTION);
    const handler = entry.big('handler');
    const flags = entry.big('flags');
    const mask = entry.big('mask');
    return {
      signal: index + 1,
      name: signalName(index + 1),
      disposition: handler === SIG_DFL ? 'default' : handler === SIG_IGN ? 'ignore' : 'handler',
      handler,
      flags,
      flagNames: sigactionFlagNames(flags),
      restorer: entry.big('restorer'),
      mask,
      maskNames: signalSetNames(mask),
    };
  });
}

const isThread = (threads: ThreadState[], tid: number): boolean => threads.some((thread) => thread.tid === tid);

function decodeSignals({ core, bad }: ProcessContext, threads: ThreadState[]): SignalState {
  const present = core.notes.optional('NT_CKPT_SIGNALS');
  if (present !== null && present.length < CKPT_SIGNALS.size) {
    throw bad.corrupt(`note NT_CKPT_SIGNALS has size ${present.length}, less than ${CKPT_SIGNALS.size}`);
  }
  const desc = core.notes.required('NT_CKPT_SIGNALS');
  const signals = new StructView(desc, 0, CKPT_SIGNALS);
  const nqueued = signals.num('nqueued');
  const expected = CKPT_SIGNALS.size + nqueued * CKPT_QUEUED.size;
  if (desc.length !== expected) throw bad.corrupt(`note NT_CKPT_SIGNALS has size ${desc.length}, but ${nqueued} queued signals need ${expected}`);
  const queued = Array.from({ length: nqueued }, (_, i) => {
    const at = CKPT_SIGNALS.size + i * CKPT_QUEUED.size;
    const tid = new StructView(desc, at, CKPT_QUEUED).num('tid');
    if (tid !== 0 && !isThread(threads, tid)) throw bad.corrupt(`queued signal ${i} is for tid ${tid}, not one of its threads`);
    const info = new StructView(desc, at + CKPT_QUEUED.fields.info.offset, SIGINFO_HEAD);
    const signal = info.num('si_signo');
    return { tid, signal, name: signalName(signal), code: info.num('si_code'), errno: info.num('si_errno') };
  });
  const sharedPending = signals.big('shared_pending');
  return { sharedPending, sharedPendingNames: signalSetNames(sharedPending), queued };
}

const TIMER_KINDS: Record<number, TimerKindName> = {
  [TimerKind.CKPT_TIMER_POSIX]: 'posix',
  [TimerKind.CKPT_TIMER_REAL]: 'real',
  [TimerKind.CKPT_TIMER_VIRTUAL]: 'virtual',
  [TimerKind.CKPT_TIMER_PROF]: 'prof',
};

function decodeTimers({ core, bad }: ProcessContext, threads: ThreadState[]): Timer[] {
  return core.notes.table('NT_CKPT_TIMERS', CKPT_TIMER).map((view, index) => {
    const kindCode = view.num('kind');
    const kind = TIMER_KINDS[kindCode];
    if (kind === undefined) throw bad.corrupt(`timer ${index} has unknown kind ${kindCode}`);
    const notify = view.num('notify');
    const notifyTid = view.num('notify_tid');
    if (kind === 'posix' && notify === SigevNotify.SIGEV_THREAD_ID && !isThread(threads, notifyTid)) {
      throw bad.corrupt(`timer ${index} notifies tid ${notifyTid}, not one of its threads`);
    }
    return {
      kind,
      id: view.num('id'),
      clock: view.num('clock'),
      notify,
      signal: view.num('signo'),
      notifyTid,
      sigevValue: view.big('sigev_value'),
      valueNs: view.big('value_ns'),
      intervalNs: view.big('interval_ns'),
    };
  });
}

function decodeTty({ core }: ProcessContext, strings: StringTable): TerminalState | null {
  if (!core.notes.has('NT_CKPT_TTY')) return null;
  const tty = core.notes.single('NT_CKPT_TTY', CKPT_TTY);
  const termios = tty.nested<keyof typeof CKPT_KERNEL_TERMIOS.fields>('termios');
  return {
    fd: tty.num('fd'),
    path: strings.get(tty.num('path'), 'NT_CKPT_TTY.path'),
    termios: {
      iflag: termios.num('c_iflag'),
      oflag: termios.num('c_oflag'),
      cflag: termios.num('c_cflag'),
      lflag: termios.num('c_lflag'),
      line: termios.num('c_line'),
      cc: Array.from(termios.bytes('c_cc').subarray(0, KERNEL_NCCS)),
      ckpt: VDISABLE,
    },
    size: { rows: tty.num('rows'), cols: tty.num('cols'), xpixel: tty.num('xpixel'), ypixel: tty.num('ypixel') },
  };
}
