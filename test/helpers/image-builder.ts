/**
 * Builds ckpty job images (version 2) from the format definition, for the readers'
 * tests and as the fuzzers' seeds: exactly what tty/common/image.h specifies, with any
 * value in any field, and where every core, header, note and the data area lie so a
 * test can cut or damage the file there. Each core has its notes before its pages, as
 * images written before 2026-12-04 have them; the real images, which have them after
 * their pages, come from the freezer.
 *
 * A job is members (live ones have a core, zombies none), the job's objects, open
 * files and watches, and the bytes of its data area. buildImage() makes a job of one
 * process; buildJob() any job.
 */
import {
  CKPT_FD,
  CKPT_FILE,
  CKPT_FORMAT_VERSION,
  CKPT_JOB,
  CKPT_MEMBER,
  CKPT_NOTE_OWNER,
  CKPT_NSIGACTIONS,
  CKPT_OBJECT,
  CKPT_OFILE,
  CKPT_PAGE_SIZE,
  CKPT_PROCESS,
  CKPT_QUEUED,
  CKPT_SIGACTION,
  CKPT_SIGNALS,
  CKPT_THREAD,
  CKPT_TIMER,
  CKPT_TTY,
  CKPT_VMA,
  CKPT_WATCH,
  ELF64_EHDR,
  ELF64_NHDR,
  ELF64_PHDR,
  ELF_PRPSINFO,
  ELF_PRSTATUS,
  Elf,
  FPREGSET_SIZE,
  MemberState,
  NOTE_ALIGN,
  NoteType,
  StandardNoteType,
  USER_REGS,
  type RegisterName,
  type StructLayout,
} from '../../src/image/format.js';
import { newPtyTermios, ECHO, type Termios } from '../../src/termios/termios.js';

/** Writes C struct members by name, the mirror image of src/image/struct-view.ts. */
export class StructWriter<F extends string> {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly base: number,
    private readonly layout: StructLayout<F>,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  set(name: F, value: number | bigint): this {
    const field = this.layout.fields[name];
    const at = this.base + field.offset;
    switch (field.type) {
      case 'u8':
      case 'i8':
        this.view.setUint8(at, Number(value) & 0xff);
        break;
      case 'u16':
      case 'i16':
        this.view.setUint16(at, Number(value) & 0xffff, true);
        break;
      case 'u32':
      case 'i32':
        this.view.setUint32(at, Number(value) >>> 0, true);
        break;
      case 'u64':
      case 'i64':
        this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
        break;
      default:
        throw new Error(`${String(name)} is a struct`);
    }
    return this;
  }

  setBytes(name: F, value: Uint8Array | string): this {
    const field = this.layout.fields[name];
    const data = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    this.bytes.set(data.subarray(0, field.size), this.base + field.offset);
    return this;
  }

  nested<G extends string>(name: F, index = 0): StructWriter<G> {
    const field = this.layout.fields[name];
    const layout = field.type as StructLayout<G>;
    return new StructWriter(this.bytes, this.base + field.offset + index * layout.size, layout);
  }
}

function structBytes<F extends string>(layout: StructLayout<F>, fill: (writer: StructWriter<F>) => void): Uint8Array {
  const bytes = new Uint8Array(layout.size);
  fill(new StructWriter(bytes, 0, layout));
  return bytes;
}

/** An array of structs, one per item. */
function structArray<T, F extends string>(layout: StructLayout<F>, items: readonly T[], fill: (writer: StructWriter<F>, item: T, index: number) => void): Uint8Array {
  return concat(items.map((item, index) => structBytes(layout, (w) => fill(w, item, index))));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

// ---- the spec ------------------------------------------------------------------------

export interface FileSpec {
  path: string;
  dev?: bigint;
  ino?: bigint;
  size?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
  mode?: number;
}

export interface VmaSpec {
  start: bigint;
  end: bigint;
  prot: number;
  kind: number;
  flags?: number;
  /** NT_CKPT_FILES index (file, image) or NT_CKPT_OBJECTS index (object); default -1. */
  file?: number;
  pgoff?: bigint;
  /** Pages stored from the start of the mapping (one PT_LOAD); default 0. */
  storedPages?: number;
}

export interface ThreadSpec {
  tid: number;
  comm?: string;
  registers?: Partial<Record<RegisterName, bigint>>;
  syscallRestart?: number;
  origRax?: bigint;
  syscallRet?: bigint;
  blocked?: bigint;
  pending?: bigint;
  rseq?: { addr: bigint; len: number; sig: number };
  robustList?: bigint;
  clearChildTid?: bigint;
  /** Bytes of an NT_X86_XSTATE note (none by default). */
  xstateSize?: number;
}

/** A descriptor: its number and the index of its open file in the job's table. */
export interface FdSpec {
  fd: number;
  ofile: number;
  cloexec?: boolean;
}

export interface SigactionSpec {
  signal: number;
  handler: bigint;
  flags?: bigint;
  restorer?: bigint;
  mask?: bigint;
}

export interface TimerSpec {
  kind: number;
  id?: number;
  clock?: number;
  notify?: number;
  signo?: number;
  notifyTid?: number;
  sigevValue?: bigint;
  valueNs?: bigint;
  intervalNs?: bigint;
}

export interface NoteSpec {
  owner: string;
  type: number;
  desc: Uint8Array;
}

/** One process: what its core holds. */
export interface ProcessSpec {
  version?: number;
  pid?: number;
  ppid?: number;
  pgid?: number;
  sid?: number;
  uid?: number;
  gid?: number;
  umask?: number;
  flags?: number;
  comm?: string;
  exe?: string;
  cwd?: string;
  kernelRelease?: string;
  freezeTimeNs?: bigint;
  /** Overrides NT_CKPT_PROCESS.member (default: its index). */
  member?: number;
  /** Overrides NT_CKPT_PROCESS.nthreads (default: the number of threads). */
  nthreads?: number;
  /** Overrides the computed sum of stored bytes. */
  storedBytes?: bigint;
  argv?: string[];
  /** The first is the thread-group leader (default: one thread, tid = pid, DEFAULT_REGISTERS). */
  threads?: ThreadSpec[];
  files?: FileSpec[];
  vmas?: VmaSpec[];
  fds?: FdSpec[];
  sigactions?: SigactionSpec[];
  sharedPending?: bigint;
  queued?: { tid?: number; signal: number; code: number; errno: number }[];
  timers?: TimerSpec[];
  /** null: no NT_CKPT_TTY note. */
  tty?: { fd: number; path: string; termios: Termios; rows: number; cols: number } | null;
  /** Notes to leave out of its core, by name (NT_CKPT_VMAS, NT_PRSTATUS, NT_CKPT_JOB …). */
  omit?: string[];
  /** Extra notes appended after its ckpty notes. */
  extraNotes?: NoteSpec[];
}

export interface MemberSpec {
  pid: number;
  /** Index of its parent member; -1 (default): outside the job. */
  parent?: number;
  pgid?: number;
  sid?: number;
  zombie?: boolean;
  waitStatus?: number;
  comm?: string;
  /** A live member's process (pid and comm default to the member's). */
  process?: ProcessSpec;
}

export interface ObjectSpec {
  kind: number;
  seals?: number;
  /** Offsets in the data area. */
  data?: { offset: number; length: number };
  data2?: { offset: number; length: number };
  size?: bigint;
  mode?: number;
  name?: string;
}

export interface OfileSpec {
  kind: number;
  flags?: number;
  pos?: bigint;
  object?: number;
  end?: number;
  dev?: bigint;
  ino?: bigint;
  size?: bigint;
  mtimeNs?: bigint;
  rdev?: number;
  clock?: number;
  count?: bigint;
  valueNs?: bigint;
  intervalNs?: bigint;
  sigmask?: bigint;
  kindFlags?: number;
  path?: string;
}

export interface WatchSpec {
  owner: number;
  target?: number;
  tfd?: number;
  events?: number;
  data?: bigint;
  path?: string;
}

/** What the job shares: its notes in member 0's core, and its data area. */
export interface JobTablesSpec {
  objects?: ObjectSpec[];
  ofiles?: OfileSpec[];
  watches?: WatchSpec[];
  screen?: Uint8Array | null;
  /** The data area's bytes. */
  data?: Uint8Array;
  statusMember?: number;
}

export interface JobSpec extends JobTablesSpec {
  members: MemberSpec[];
  pgid?: number;
  flags?: number;
  monotonicNs?: bigint;
  boottimeNs?: bigint;
}

/** A job of one process: the process and the job's tables in one spec. */
export type ImageSpec = ProcessSpec & JobTablesSpec;

export const EXE = '/usr/bin/fixture';
export const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
export const DEFAULT_REGISTERS = { rip: 0x401234n, rsp: 0x7ffd_0000_1f00n, rax: 0xfffffffffffffe00n, orig_rax: 0n };

export function ptyTermiosWithoutEcho(): Termios {
  const termios = newPtyTermios();
  termios.lflag &= ~ECHO;
  return termios;
}

/** The fields DEFAULT_PROCESS gives every process a test does not say otherwise about. */
type Defaulted = 'pid' | 'ppid' | 'pgid' | 'sid' | 'uid' | 'gid' | 'umask' | 'flags' | 'comm' | 'exe' | 'cwd' | 'kernelRelease'
  | 'freezeTimeNs' | 'argv' | 'files' | 'vmas' | 'fds' | 'sigactions' | 'sharedPending' | 'queued';
type FullProcessSpec = ProcessSpec & Required<Pick<ProcessSpec, Defaulted>>;

/** A plausible small process: the default for every field a test does not set. */
export const DEFAULT_PROCESS: Required<Pick<ProcessSpec, Defaulted>> = {
  pid: 4242,
  ppid: 4000,
  pgid: 4242,
  sid: 4000,
  uid: 1000,
  gid: 1000,
  umask: 0o022,
  flags: 0,
  comm: 'fixture',
  exe: EXE,
  cwd: '/home/user/work',
  kernelRelease: '6.18.0-test',
  freezeTimeNs: 1_764_250_000_123_456_789n,
  argv: ['fixture', '--count', 'two words'],
  files: [
    { path: EXE, dev: 0x801n, ino: 1234n, size: 20480n, mtimeNs: 1_700_000_000_000_000_000n, ctimeNs: 1_700_000_000_000_000_000n, mode: 0o100755 },
    { path: LIBC, dev: 0x801n, ino: 5678n, size: 1_922_136n, mtimeNs: 1_690_000_000_500_000_000n, ctimeNs: 1_690_000_001_000_000_000n, mode: 0o100644 },
  ],
  vmas: [
    { start: 0x400000n, end: 0x402000n, prot: 5, kind: 1, file: 0 },
    { start: 0x402000n, end: 0x403000n, prot: 3, kind: 1, file: 0, pgoff: 0x2000n, storedPages: 1 },
    { start: 0x1000000n, end: 0x1021000n, prot: 3, kind: 2, storedPages: 2 },
    { start: 0x7f00_0000_0000n, end: 0x7f00_0000_4000n, prot: 5, kind: 1, file: 1 },
    { start: 0x7f00_0000_4000n, end: 0x7f00_0000_6000n, prot: 3, kind: 0, storedPages: 1 },
    { start: 0x7ffd_0000_0000n, end: 0x7ffd_0002_1000n, prot: 3, kind: 3, flags: 2, storedPages: 3 },
    { start: 0x7ffd_0010_0000n, end: 0x7ffd_0010_2000n, prot: 5, kind: 4 },
  ],
  // 0-2: one terminal open file (dup'ed, as a shell leaves them); 3: a log file.
  fds: [
    { fd: 0, ofile: 0 },
    { fd: 1, ofile: 0 },
    { fd: 2, ofile: 0 },
    { fd: 3, ofile: 1, cloexec: true },
  ],
  sigactions: [
    { signal: 2, handler: 0x401100n, flags: 0x14000000n, restorer: 0x7f00_0000_1000n, mask: 1n << 14n },
    { signal: 13, handler: 1n },
  ],
  sharedPending: 0n,
  queued: [{ signal: 10, code: 0, errno: 0 }],
};

/** The open files DEFAULT_PROCESS's descriptors name. */
export const DEFAULT_OFILES: OfileSpec[] = [
  { kind: 2, flags: 0o100002, path: '/dev/pts/3', rdev: 0x8803 },
  { kind: 0, flags: 0o102002, path: '/home/user/work/log.txt', pos: 1234n, dev: 0x801n, ino: 99n, size: 4096n, mtimeNs: 1_764_000_000_000_000_000n },
];

// ---- the builder ---------------------------------------------------------------------

/** Where a note lies in the file. */
export interface NoteLayout {
  name: string;
  headerOffset: number;
  descOffset: number;
  descSize: number;
}

/** Where the pieces of one member's core lie; every offset is from the start of the file. */
export interface CoreLayout {
  member: number;
  offset: number;
  size: number;
  phoff: number;
  phnum: number;
  noteOffset: number;
  noteSize: number;
  notes: NoteLayout[];
  loads: { offset: number; size: number }[];
}

/** Where the pieces of a built image lie, for tests that cut or damage them. */
export interface ImageLayout {
  /** One per live member, in member order: cores[0] is member 0's, at offset 0. */
  cores: CoreLayout[];
  data: { offset: number; size: number };
}

export interface BuiltImage {
  bytes: Buffer;
  layout: ImageLayout;
}

/** A note of a built image by name, in member 0's core unless another core is named. */
export function noteOf(built: BuiltImage, name: string, core = 0): NoteLayout {
  const note = built.layout.cores[core]?.notes.find((entry) => entry.name === name);
  if (!note) throw new Error(`no ${name} in core ${core} of the built image`);
  return note;
}

class Strings {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;

  add(text: string | undefined): number {
    if (!text) return 0;
    const bytes = new TextEncoder().encode(`${text}\0`);
    const offset = this.size;
    this.parts.push(bytes);
    this.size += bytes.length;
    return offset;
  }

  bytes(): Uint8Array {
    return concat(this.parts);
  }
}

function noteRecord(owner: string, type: number, desc: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode(`${owner}\0`);
  const align = (n: number): number => Math.ceil(n / NOTE_ALIGN) * NOTE_ALIGN;
  const record = new Uint8Array(align(ELF64_NHDR.size + name.length) + align(desc.length));
  new StructWriter(record, 0, ELF64_NHDR).set('n_namesz', name.length).set('n_descsz', desc.length).set('n_type', type);
  record.set(name, ELF64_NHDR.size);
  record.set(desc, align(ELF64_NHDR.size + name.length));
  return record;
}

const PAGE = CKPT_PAGE_SIZE;
const alignPage = (n: number): number => Math.ceil(n / PAGE) * PAGE;
const ckptNote = (name: keyof typeof NoteType, desc: Uint8Array) => ({ name, owner: CKPT_NOTE_OWNER, type: NoteType[name], desc });
const coreNote = (name: keyof typeof StandardNoteType, desc: Uint8Array, owner = 'CORE') => ({ name, owner, type: StandardNoteType[name], desc });

type NamedNote = NoteSpec & { name: string };

/** The job's notes for member 0's core; `cores` gives every member's core (zeros on the first pass). */
function jobNotes(job: JobSpec, strings: Strings, cores: readonly { offset: number; size: number }[], data: { offset: number; size: number }): NamedNote[] {
  const memberTable = structArray(CKPT_MEMBER, job.members, (w, member, index) => {
    const core = cores[index] ?? { offset: 0, size: 0 };
    w.set('pid', member.pid).set('parent', member.parent ?? -1).set('pgid', member.pgid ?? job.pgid ?? 0).set('sid', member.sid ?? 0);
    w.set('state', member.zombie ? MemberState.CKPT_MEMBER_ZOMBIE : MemberState.CKPT_MEMBER_LIVE).set('wait_status', member.waitStatus ?? 0);
    w.set('core_offset', core.offset).set('core_size', core.size).setBytes('comm', member.comm ?? member.process?.comm ?? '');
  });
  const header = structBytes(CKPT_JOB, (w) => {
    w.set('nmembers', job.members.length).set('flags', job.flags ?? 0).set('pgid', job.pgid ?? job.members[0]?.pid ?? 0);
    w.set('status_member', job.statusMember ?? 0).set('monotonic_ns', job.monotonicNs ?? 123_000_000_000n).set('boottime_ns', job.boottimeNs ?? 124_000_000_000n);
    w.set('data_offset', data.offset).set('data_size', data.size);
  });
  const objects = structArray(CKPT_OBJECT, job.objects ?? [], (w, o) => {
    w.set('kind', o.kind).set('seals', o.seals ?? 0).set('size', o.size ?? 0n).set('mode', o.mode ?? 0).set('name', strings.add(o.name));
    w.set('data_offset', o.data?.offset ?? 0).set('data_len', o.data?.length ?? 0);
    w.set('data2_offset', o.data2?.offset ?? 0).set('data2_len', o.data2?.length ?? 0);
  });
  const ofiles = structArray(CKPT_OFILE, job.ofiles ?? [], (w, f) => {
    w.set('kind', f.kind).set('flags', f.flags ?? 0).set('pos', f.pos ?? 0n).set('object', f.object ?? -1).set('end', f.end ?? 0);
    w.set('dev', f.dev ?? 0n).set('ino', f.ino ?? 0n).set('size', f.size ?? 0n).set('mtime_ns', f.mtimeNs ?? 0n);
    w.set('rdev', f.rdev ?? 0).set('clock', f.clock ?? 0).set('count', f.count ?? 0n);
    w.set('value_ns', f.valueNs ?? 0n).set('interval_ns', f.intervalNs ?? 0n).set('sigmask', f.sigmask ?? 0n);
    w.set('kind_flags', f.kindFlags ?? 0).set('path', strings.add(f.path));
  });
  const watches = structArray(CKPT_WATCH, job.watches ?? [], (w, watch) => {
    w.set('owner', watch.owner).set('target', watch.target ?? -1).set('tfd', watch.tfd ?? 0).set('events', watch.events ?? 0);
    w.set('data', watch.data ?? 0n).set('path', strings.add(watch.path));
  });
  return [
    ckptNote('NT_CKPT_JOB', concat([header, memberTable])),
    ckptNote('NT_CKPT_OBJECTS', objects),
    ckptNote('NT_CKPT_OFILES', ofiles),
    ckptNote('NT_CKPT_WATCHES', watches),
    ...(job.screen ? [ckptNote('NT_CKPT_SCREEN', job.screen)] : []),
  ];
}

/** Where Linux puts XCR0 in a core's XSAVE area (the FXSAVE area's software bytes); gdb sizes the note by it. */
const XSAVE_XCR0_OFFSET = 464;

/** An XSAVE area of `size` bytes whose XCR0 says x87, SSE and AVX: 832 bytes is what gdb expects then. */
function xsaveArea(size: number): Uint8Array {
  const area = new Uint8Array(size);
  if (size >= XSAVE_XCR0_OFFSET + 8) new DataView(area.buffer).setBigUint64(XSAVE_XCR0_OFFSET, 7n, true);
  return area;
}

/** The standard notes, per thread in the kernel's order: NT_PRSTATUS, (NT_PRPSINFO, NT_AUXV), NT_FPREGSET, NT_X86_XSTATE. */
function threadNotes(process: FullProcessSpec, threads: ThreadSpec[]): NamedNote[] {
  const prpsinfo = structBytes(ELF_PRPSINFO, (w) => {
    w.set('pr_pid', process.pid).set('pr_ppid', process.ppid).set('pr_pgrp', process.pgid).set('pr_sid', process.sid);
    w.set('pr_uid', process.uid).set('pr_gid', process.gid).setBytes('pr_fname', process.comm).setBytes('pr_psargs', process.argv.join(' '));
  });
  // AT_PAGESZ 4096, then AT_NULL: the smallest auxiliary vector a process has.
  const auxv = new Uint8Array(32);
  new DataView(auxv.buffer).setBigUint64(0, 6n, true);
  new DataView(auxv.buffer).setBigUint64(8, 4096n, true);
  return threads.flatMap((thread, index) => {
    const prstatus = structBytes(ELF_PRSTATUS, (w) => {
      w.set('pr_pid', thread.tid).set('pr_ppid', process.ppid).set('pr_pgrp', process.pgid).set('pr_sid', process.sid);
    });
    const regs = new StructWriter(prstatus, ELF_PRSTATUS.fields.pr_reg.offset, USER_REGS);
    for (const [name, value] of Object.entries(thread.registers ?? DEFAULT_REGISTERS)) regs.set(name as RegisterName, value as bigint);
    const xstate = thread.xstateSize === undefined ? [] : [coreNote('NT_X86_XSTATE', xsaveArea(thread.xstateSize), 'LINUX')];
    return [
      coreNote('NT_PRSTATUS', prstatus),
      ...(index === 0 ? [coreNote('NT_PRPSINFO', prpsinfo), coreNote('NT_AUXV', auxv)] : []),
      coreNote('NT_FPREGSET', new Uint8Array(FPREGSET_SIZE)),
      ...xstate,
    ];
  });
}

/** The ckpty notes of one process (the strings note comes last, when every string is in). */
function processNotes(process: FullProcessSpec, member: number, threads: ThreadSpec[], strings: Strings, storedPages: number[]): NamedNote[] {
  const storedBytes = storedPages.reduce((sum, pages) => sum + pages * PAGE, 0);
  const processNote = structBytes(CKPT_PROCESS, (w) => {
    w.set('version', process.version ?? CKPT_FORMAT_VERSION).set('flags', process.flags);
    w.set('pid', process.pid).set('ppid', process.ppid).set('pgid', process.pgid).set('sid', process.sid);
    w.set('uid', process.uid).set('gid', process.gid).set('umask', process.umask);
    w.set('freeze_time_ns', process.freezeTimeNs).setBytes('comm', process.comm);
    w.set('exe', strings.add(process.exe)).set('cwd', strings.add(process.cwd)).set('kernel_release', strings.add(process.kernelRelease));
    w.set('nthreads', process.nthreads ?? threads.length).set('member', process.member ?? member);
    const mm = w.nested<'start_code' | 'end_code' | 'start_brk' | 'brk'>('mm');
    mm.set('start_code', 0x400000n).set('end_code', 0x402000n).set('start_brk', 0x1000000n).set('brk', 0x1021000n);
    for (let resource = 0; resource < 16; resource++) {
      w.nested<'cur' | 'max'>('rlimits', resource).set('cur', resource === 7 ? 1024n : -1n).set('max', resource === 7 ? 4096n : -1n);
    }
    w.set('vdso_size', 8192n).set('vdso_hash', 0xcbf29ce484222325n).set('stored_bytes', process.storedBytes ?? BigInt(storedBytes));
  });
  const threadStates = structArray(CKPT_THREAD, threads, (w, t) => {
    w.set('tid', t.tid).set('syscall_restart', t.syscallRestart ?? 0).set('orig_rax', t.origRax ?? 0n).set('syscall_ret', t.syscallRet ?? 0n);
    w.set('blocked', t.blocked ?? 0n).set('pending', t.pending ?? 0n).set('robust_list', t.robustList ?? 0n).set('robust_len', t.robustList ? 24 : 0);
    w.set('clear_child_tid', t.clearChildTid ?? 0n).set('altstack_flags', 2).setBytes('comm', t.comm ?? process.comm);
    if (t.rseq) w.set('rseq_addr', t.rseq.addr).set('rseq_len', t.rseq.len).set('rseq_sig', t.rseq.sig);
  });
  const files = structArray(CKPT_FILE, process.files, (w, file: FileSpec) => {
    const [mtime, ctime] = [file.mtimeNs ?? 0n, file.ctimeNs ?? 0n];
    w.set('dev', file.dev ?? 0n).set('ino', file.ino ?? 0n).set('size', file.size ?? 0n).set('mode', file.mode ?? 0o100644);
    w.set('mtime_sec', mtime / 1_000_000_000n).set('mtime_nsec', mtime % 1_000_000_000n);
    w.set('ctime_sec', ctime / 1_000_000_000n).set('ctime_nsec', ctime % 1_000_000_000n).set('path', strings.add(file.path));
  });
  const vmas = structArray(CKPT_VMA, process.vmas, (w, vma: VmaSpec, index) => {
    w.set('start', vma.start).set('end', vma.end).set('pgoff', vma.pgoff ?? 0n).set('prot', vma.prot);
    w.set('flags', vma.flags ?? 0).set('kind', vma.kind).set('file', vma.file ?? -1).set('stored', (storedPages[index] ?? 0) * PAGE);
  });
  const fds = structArray(CKPT_FD, process.fds, (w, fd: FdSpec) => {
    w.set('fd', fd.fd).set('cloexec', fd.cloexec ? 1 : 0).set('ofile', fd.ofile);
  });
  const sigactions = new Uint8Array(CKPT_NSIGACTIONS * CKPT_SIGACTION.size);
  for (const action of process.sigactions as SigactionSpec[]) {
    new StructWriter(sigactions, (action.signal - 1) * CKPT_SIGACTION.size, CKPT_SIGACTION)
      .set('handler', action.handler)
      .set('flags', action.flags ?? 0n)
      .set('restorer', action.restorer ?? 0n)
      .set('mask', action.mask ?? 0n);
  }
  const queued = structArray(CKPT_QUEUED, process.queued, (w, info) => {
    const siginfo = new Uint8Array(12);
    const view = new DataView(siginfo.buffer);
    view.setInt32(0, info.signal, true);
    view.setInt32(4, info.errno, true);
    view.setInt32(8, info.code, true);
    w.set('tid', info.tid ?? 0).setBytes('info', siginfo);
  });
  const signals = concat([structBytes(CKPT_SIGNALS, (w) => w.set('shared_pending', process.sharedPending).set('nqueued', process.queued.length)), queued]);
  const timers = structArray(CKPT_TIMER, process.timers ?? [], (w, t) => {
    w.set('kind', t.kind).set('id', t.id ?? 0).set('clock', t.clock ?? 0).set('notify', t.notify ?? 0).set('signo', t.signo ?? 14);
    w.set('notify_tid', t.notifyTid ?? 0).set('sigev_value', t.sigevValue ?? 0n).set('value_ns', t.valueNs ?? 0n).set('interval_ns', t.intervalNs ?? 0n);
  });
  const ttySpec = process.tty === undefined ? { fd: 0, path: '/dev/pts/3', termios: ptyTermiosWithoutEcho(), rows: 24, cols: 80 } : process.tty;
  const tty =
    ttySpec &&
    structBytes(CKPT_TTY, (w) => {
      w.set('fd', ttySpec.fd).set('rows', ttySpec.rows).set('cols', ttySpec.cols).set('path', strings.add(ttySpec.path));
      const t = w.nested<'c_iflag' | 'c_oflag' | 'c_cflag' | 'c_lflag' | 'c_line' | 'c_cc'>('termios');
      t.set('c_iflag', ttySpec.termios.iflag).set('c_oflag', ttySpec.termios.oflag);
      t.set('c_cflag', ttySpec.termios.cflag).set('c_lflag', ttySpec.termios.lflag).set('c_line', ttySpec.termios.line);
      t.setBytes('c_cc', Uint8Array.from(ttySpec.termios.cc));
    });
  const argv = new TextEncoder().encode(process.argv.map((arg: string) => `${arg}\0`).join(''));
  return [
    ckptNote('NT_CKPT_PROCESS', processNote),
    ckptNote('NT_CKPT_THREADS', threadStates),
    ckptNote('NT_CKPT_VMAS', vmas),
    ckptNote('NT_CKPT_FILES', files),
    ckptNote('NT_CKPT_FDS', fds),
    ckptNote('NT_CKPT_SIGACTIONS', sigactions),
    ckptNote('NT_CKPT_SIGNALS', signals),
    ckptNote('NT_CKPT_TIMERS', timers),
    ...(tty ? [ckptNote('NT_CKPT_TTY', tty)] : []),
    ckptNote('NT_CKPT_ARGV', argv),
  ];
}

interface BuiltCore {
  bytes: Buffer;
  /** Offsets from the start of the core. */
  layout: Omit<CoreLayout, 'member' | 'offset'>;
}

/** One member's core: a standalone ELF core whose offsets are relative to its own start. */
function buildCore(spec: ProcessSpec, member: number, jobPart: ((strings: Strings) => NamedNote[]) | null): BuiltCore {
  const process: FullProcessSpec = { ...DEFAULT_PROCESS, ...spec };
  const threads = spec.threads ?? [{ tid: process.pid }];
  const strings = new Strings();
  const storedPages = process.vmas.map((vma: VmaSpec) => vma.storedPages ?? 0);
  const noteList: NamedNote[] = [
    ...threadNotes(process, threads),
    ...processNotes(process, member, threads, strings, storedPages),
    ...(jobPart ? jobPart(strings) : []),
    // Last: every string has been added by now.
    ckptNote('NT_CKPT_STRINGS', strings.bytes()),
    ...(spec.extraNotes ?? []).map((note) => ({ name: 'extra', ...note })),
  ].filter((note) => !(spec.omit ?? []).includes(note.name));

  const loadVmas = process.vmas.map((vma: VmaSpec, index) => ({ vma, pages: storedPages[index] ?? 0 })).filter((entry) => entry.pages > 0);
  const phnum = 1 + loadVmas.length;
  const phoff = ELF64_EHDR.size;
  const noteOffset = phoff + phnum * ELF64_PHDR.size;
  const records = noteList.map((note) => noteRecord(note.owner, note.type, note.desc));
  const noteSize = records.reduce((sum, record) => sum + record.length, 0);
  const notes: NoteLayout[] = [];
  let at = noteOffset;
  noteList.forEach((note, i) => {
    const nameSize = Math.ceil((note.owner.length + 1) / NOTE_ALIGN) * NOTE_ALIGN;
    notes.push({ name: note.name, headerOffset: at, descOffset: at + ELF64_NHDR.size + nameSize, descSize: note.desc.length });
    at += (records[i] as Uint8Array).length;
  });
  let end = alignPage(noteOffset + noteSize);
  const loads = loadVmas.map(({ vma, pages }) => {
    const load = { vma, offset: end, size: pages * PAGE };
    end += load.size;
    return load;
  });

  const bytes = Buffer.alloc(end);
  new StructWriter(bytes, 0, ELF64_EHDR)
    .setBytes('e_ident', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, Elf.ELFCLASS64, Elf.ELFDATA2LSB, 1]))
    .set('e_type', Elf.ET_CORE)
    .set('e_machine', Elf.EM_X86_64)
    .set('e_version', 1)
    .set('e_phoff', phoff)
    .set('e_ehsize', ELF64_EHDR.size)
    .set('e_phentsize', ELF64_PHDR.size)
    .set('e_phnum', phnum);
  new StructWriter(bytes, phoff, ELF64_PHDR).set('p_type', Elf.PT_NOTE).set('p_offset', noteOffset).set('p_filesz', noteSize).set('p_align', 4);
  loads.forEach((load, i) => {
    const size = BigInt(load.size);
    new StructWriter(bytes, phoff + (i + 1) * ELF64_PHDR.size, ELF64_PHDR)
      .set('p_type', Elf.PT_LOAD)
      .set('p_flags', Elf.PF_R | Elf.PF_W)
      .set('p_offset', load.offset)
      .set('p_vaddr', load.vma.start)
      .set('p_filesz', size)
      .set('p_memsz', size)
      .set('p_align', PAGE);
    // Recognisable page contents: the page's own address in its first bytes.
    for (let page = 0; page < load.size / PAGE; page++) {
      bytes.writeBigUInt64LE(load.vma.start + BigInt(page * PAGE), load.offset + page * PAGE);
    }
  });
  bytes.set(concat(records), noteOffset);
  return { bytes, layout: { size: end, phoff, phnum, noteOffset, noteSize, notes, loads: loads.map(({ offset, size }) => ({ offset, size })) } };
}

const shifted = (core: BuiltCore, member: number, offset: number): CoreLayout => ({
  ...core.layout,
  member,
  offset,
  phoff: offset + core.layout.phoff,
  noteOffset: offset + core.layout.noteOffset,
  notes: core.layout.notes.map((note) => ({ ...note, headerOffset: offset + note.headerOffset, descOffset: offset + note.descOffset })),
  loads: core.layout.loads.map((load) => ({ ...load, offset: offset + load.offset })),
});

/**
 * A job image: the live members' cores one after another (member 0's at offset 0),
 * page-aligned, then the data area. Member 0's core is built twice: its job note
 * names every core's offset and size, which are known once the cores are built.
 */
export function buildJob(job: JobSpec): BuiltImage {
  const data = job.data ?? new Uint8Array();
  const processOf = (member: MemberSpec): ProcessSpec => ({ pid: member.pid, ...(member.comm ? { comm: member.comm } : {}), ...member.process });
  const build = (cores: { offset: number; size: number }[], dataArea: { offset: number; size: number }): (BuiltCore | null)[] =>
    job.members.map((member, index) =>
      member.zombie ? null : buildCore(processOf(member), index, index === 0 ? (strings) => jobNotes(job, strings, cores, dataArea) : null),
    );
  const first = build([], { offset: 0, size: 0 });
  const cores: { offset: number; size: number }[] = [];
  let end = 0;
  for (const core of first) {
    cores.push(core ? { offset: end, size: core.bytes.length } : { offset: 0, size: 0 });
    end += core ? alignPage(core.bytes.length) : 0;
  }
  const dataArea = { offset: alignPage(end), size: data.length };
  const built = build(cores, dataArea);
  const bytes = Buffer.alloc(dataArea.offset + dataArea.size);
  const layouts: CoreLayout[] = [];
  built.forEach((core, index) => {
    const at = cores[index] as { offset: number };
    if (core === null) return;
    bytes.set(core.bytes, at.offset);
    layouts.push(shifted(core, index, at.offset));
  });
  bytes.set(data, dataArea.offset);
  return { bytes, layout: { cores: layouts, data: dataArea } };
}

/** A job of one process, with the default open files unless the spec names others. */
export function buildImage(spec: ImageSpec = {}): BuiltImage {
  const { objects, ofiles, watches, screen, data, statusMember, ...process } = spec;
  const pid = process.pid ?? DEFAULT_PROCESS.pid;
  return buildJob({
    members: [{ pid, comm: process.comm ?? DEFAULT_PROCESS.comm, process }],
    pgid: process.pgid ?? DEFAULT_PROCESS.pgid,
    objects,
    ofiles: ofiles ?? DEFAULT_OFILES,
    watches,
    screen,
    data,
    statusMember,
  });
}

/**
 * Overwrites one field of entry `index` of an array note (or of the struct at `at`
 * bytes into it), in core `core` of a built image: the damage a test wants to do.
 */
export function patchField<F extends string>(
  built: BuiltImage,
  place: { note: string; core?: number; index?: number; at?: number },
  layout: StructLayout<F>,
  field: F,
  value: number | bigint,
): void {
  const note = noteOf(built, place.note, place.core);
  const base = note.descOffset + (place.at ?? 0) + (place.index ?? 0) * layout.size;
  new StructWriter(built.bytes, base, layout).set(field, value);
}

/** The offset of the job note's member entry `index` (for patchField's `at`). */
export const memberEntry = (index: number): number => CKPT_JOB.size + index * CKPT_MEMBER.size;
