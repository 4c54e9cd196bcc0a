/**
 * Builds small ckpty images from the format definition, for the reader's unit tests
 * and as the fuzzer's seed. The real images come from the freezer (see
 * image-info.test.ts); these let a test put any value in any field, and say where
 * every header and note lies so a test can cut or damage the file there.
 */
import {
  CKPT_FD,
  CKPT_FILE,
  CKPT_FORMAT_VERSION,
  CKPT_NOTE_OWNER,
  CKPT_NSIGACTIONS,
  CKPT_PAGE_SIZE,
  CKPT_PROCESS,
  CKPT_SIGACTION,
  CKPT_SIGNALS,
  CKPT_TTY,
  CKPT_VMA,
  ELF64_EHDR,
  ELF64_NHDR,
  ELF64_PHDR,
  ELF_PRPSINFO,
  ELF_PRSTATUS,
  Elf,
  NOTE_ALIGN,
  NoteType,
  SIGINFO_SIZE,
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
  file?: number;
  pgoff?: bigint;
  /** Pages stored from the start of the mapping (one PT_LOAD); default 0. */
  storedPages?: number;
}

export interface FdSpec {
  fd: number;
  kind: number;
  flags: number;
  path: string;
  cloexec?: boolean;
  pos?: bigint;
  dev?: bigint;
  ino?: bigint;
  rdev?: number;
}

export interface SigactionSpec {
  signal: number;
  handler: bigint;
  flags?: bigint;
  restorer?: bigint;
  mask?: bigint;
}

export interface ImageSpec {
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
  syscallRestart?: number;
  origRax?: bigint;
  syscallRet?: bigint;
  rseq?: { addr: bigint; len: number; sig: number };
  /** Overrides the computed sum of stored bytes. */
  storedBytes?: bigint;
  argv?: string[];
  registers?: Partial<Record<RegisterName, bigint>>;
  files?: FileSpec[];
  vmas?: VmaSpec[];
  fds?: FdSpec[];
  sigactions?: SigactionSpec[];
  blocked?: bigint;
  pending?: bigint;
  sharedPending?: bigint;
  queued?: { signal: number; code: number; errno: number }[];
  /** null: no NT_CKPT_TTY note. */
  tty?: { fd: number; path: string; termios: Termios; rows: number; cols: number } | null;
  /** Notes to leave out, by name (NT_CKPT_VMAS, NT_PRSTATUS, …). */
  omit?: string[];
  /** Extra notes appended after the ckpty notes. */
  extraNotes?: { owner: string; type: number; desc: Uint8Array }[];
}

export const EXE = '/usr/bin/fixture';
export const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';

/** A plausible small process: the default for every field a test does not set. */
export const DEFAULT_SPEC = {
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
  registers: { rip: 0x401234n, rsp: 0x7ffd_0000_1f00n, rax: 0xfffffffffffffe00n, orig_rax: 0n },
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
  fds: [
    { fd: 0, kind: 2, flags: 0o100002, path: '/dev/pts/3', dev: 0x18n, ino: 6n, rdev: 0x8803 },
    { fd: 1, kind: 2, flags: 0o100002, path: '/dev/pts/3', dev: 0x18n, ino: 6n, rdev: 0x8803 },
    { fd: 2, kind: 2, flags: 0o100002, path: '/dev/pts/3', dev: 0x18n, ino: 6n, rdev: 0x8803 },
    { fd: 3, kind: 0, flags: 0o102002, path: '/home/user/work/log.txt', pos: 1234n, cloexec: true, dev: 0x801n, ino: 99n },
  ],
  sigactions: [
    { signal: 2, handler: 0x401100n, flags: 0x14000000n, restorer: 0x7f00_0000_1000n, mask: 1n << 14n },
    { signal: 13, handler: 1n },
  ],
  blocked: 1n << 9n,
  pending: 1n << 9n,
  sharedPending: 0n,
  queued: [{ signal: 10, code: 0, errno: 0 }],
} satisfies ImageSpec;

export function ptyTermiosWithoutEcho(): Termios {
  const termios = newPtyTermios();
  termios.lflag &= ~ECHO;
  return termios;
}

// ---- the builder ---------------------------------------------------------------------

/** Where the pieces of a built image lie, for tests that cut or damage them. */
export interface ImageLayout {
  phoff: number;
  phnum: number;
  noteOffset: number;
  noteSize: number;
  notes: { name: string; headerOffset: number; descOffset: number; descSize: number }[];
  loads: { offset: number; size: number }[];
}

export interface BuiltImage {
  bytes: Buffer;
  layout: ImageLayout;
}

class Strings {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;

  add(text: string): number {
    if (text === '') return 0;
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
/** NT_FPREGSET: the legacy FXSAVE area. */
const FPREGSET_SIZE = 512;
const alignPage = (n: number): number => Math.ceil(n / PAGE) * PAGE;

export function buildImage(overrides: ImageSpec = {}): BuiltImage {
  const spec = { ...DEFAULT_SPEC, ...overrides };
  const strings = new Strings();
  const storedPages = spec.vmas.map((vma: VmaSpec) => vma.storedPages ?? 0);
  const storedBytes = storedPages.reduce((sum, pages) => sum + pages * PAGE, 0);

  const regs = new Uint8Array(USER_REGS.size);
  const regWriter = new StructWriter(regs, 0, USER_REGS);
  for (const [name, value] of Object.entries(spec.registers)) regWriter.set(name as RegisterName, value as bigint);
  const prstatus = structBytes(ELF_PRSTATUS, (w) => {
    w.set('pr_pid', spec.pid).set('pr_ppid', spec.ppid).set('pr_pgrp', spec.pgid).set('pr_sid', spec.sid);
  });
  prstatus.set(regs, ELF_PRSTATUS.fields.pr_reg.offset);
  const prpsinfo = structBytes(ELF_PRPSINFO, (w) => {
    w.set('pr_pid', spec.pid).set('pr_uid', spec.uid).set('pr_gid', spec.gid).setBytes('pr_fname', spec.comm);
    w.setBytes('pr_psargs', spec.argv.join(' '));
  });

  const processNote = structBytes(CKPT_PROCESS, (w) => {
    w.set('version', spec.version ?? CKPT_FORMAT_VERSION).set('flags', spec.flags);
    w.set('pid', spec.pid).set('ppid', spec.ppid).set('pgid', spec.pgid).set('sid', spec.sid);
    w.set('uid', spec.uid).set('gid', spec.gid).set('umask', spec.umask);
    w.set('freeze_time_ns', spec.freezeTimeNs).setBytes('comm', spec.comm);
    w.set('exe', strings.add(spec.exe)).set('cwd', strings.add(spec.cwd));
    w.set('kernel_release', strings.add(spec.kernelRelease));
    w.set('syscall_restart', spec.syscallRestart ?? 0).set('orig_rax', spec.origRax ?? 0n).set('syscall_ret', spec.syscallRet ?? 0n);
    const mm = w.nested<'start_code' | 'end_code' | 'start_brk' | 'brk'>('mm');
    mm.set('start_code', 0x400000n).set('end_code', 0x402000n).set('start_brk', 0x1000000n).set('brk', 0x1021000n);
    for (let resource = 0; resource < 16; resource++) {
      w.nested<'cur' | 'max'>('rlimits', resource).set('cur', resource === 7 ? 1024n : -1n).set('max', resource === 7 ? 4096n : -1n);
    }
    if (spec.rseq) w.set('rseq_addr', spec.rseq.addr).set('rseq_len', spec.rseq.len).set('rseq_sig', spec.rseq.sig);
    w.set('vdso_size', 8192n).set('vdso_hash', 0xcbf29ce484222325n);
    w.set('stored_bytes', spec.storedBytes ?? BigInt(storedBytes));
  });

  const files = concat(
    spec.files.map((file: FileSpec) =>
      structBytes(CKPT_FILE, (w) => {
        const sec = (ns: bigint): bigint => ns / 1_000_000_000n;
        const nsec = (ns: bigint): bigint => ns % 1_000_000_000n;
        w.set('dev', file.dev ?? 0n).set('ino', file.ino ?? 0n).set('size', file.size ?? 0n).set('mode', file.mode ?? 0o100644);
        w.set('mtime_sec', sec(file.mtimeNs ?? 0n)).set('mtime_nsec', nsec(file.mtimeNs ?? 0n));
        w.set('ctime_sec', sec(file.ctimeNs ?? 0n)).set('ctime_nsec', nsec(file.ctimeNs ?? 0n));
        w.set('path', strings.add(file.path));
      }),
    ),
  );
  const vmas = concat(
    spec.vmas.map((vma: VmaSpec, index) =>
      structBytes(CKPT_VMA, (w) => {
        w.set('start', vma.start).set('end', vma.end).set('pgoff', vma.pgoff ?? 0n).set('prot', vma.prot);
        w.set('flags', vma.flags ?? 0).set('kind', vma.kind).set('file', vma.file ?? -1);
        w.set('stored', (storedPages[index] ?? 0) * PAGE);
      }),
    ),
  );
  const fds = concat(
    spec.fds.map((fd: FdSpec) =>
      structBytes(CKPT_FD, (w) => {
        w.set('fd', fd.fd).set('kind', fd.kind).set('flags', fd.flags).set('cloexec', fd.cloexec ? 1 : 0);
        w.set('pos', fd.pos ?? 0n).set('dev', fd.dev ?? 0n).set('ino', fd.ino ?? 0n).set('rdev', fd.rdev ?? 0);
        w.set('path', strings.add(fd.path));
      }),
    ),
  );
  const sigactions = new Uint8Array(CKPT_NSIGACTIONS * CKPT_SIGACTION.size);
  for (const action of spec.sigactions as SigactionSpec[]) {
    new StructWriter(sigactions, (action.signal - 1) * CKPT_SIGACTION.size, CKPT_SIGACTION)
      .set('handler', action.handler)
      .set('flags', action.flags ?? 0n)
      .set('restorer', action.restorer ?? 0n)
      .set('mask', action.mask ?? 0n);
  }
  const signals = new Uint8Array(CKPT_SIGNALS.size + spec.queued.length * SIGINFO_SIZE);
  new StructWriter(signals, 0, CKPT_SIGNALS)
    .set('blocked', spec.blocked)
    .set('pending', spec.pending)
    .set('shared_pending', spec.sharedPending)
    .set('nqueued', spec.queued.length);
  const view = new DataView(signals.buffer);
  spec.queued.forEach((info, i) => {
    const at = CKPT_SIGNALS.size + i * SIGINFO_SIZE;
    view.setInt32(at, info.signal, true);
    view.setInt32(at + 4, info.errno, true);
    view.setInt32(at + 8, info.code, true);
  });
  const ttySpec = spec.tty === undefined ? { fd: 0, path: '/dev/pts/3', termios: ptyTermiosWithoutEcho(), rows: 24, cols: 80 } : spec.tty;
  const tty =
    ttySpec &&
    structBytes(CKPT_TTY, (w) => {
      w.set('fd', ttySpec.fd).set('rows', ttySpec.rows).set('cols', ttySpec.cols).set('path', strings.add(ttySpec.path));
      const t = w.nested<'c_iflag' | 'c_oflag' | 'c_cflag' | 'c_lflag' | 'c_line' | 'c_cc'>('termios');
      t.set('c_iflag', ttySpec.termios.iflag).set('c_oflag', ttySpec.termios.oflag);
      t.set('c_cflag', ttySpec.termios.cflag).set('c_lflag', ttySpec.termios.lflag).set('c_line', ttySpec.termios.line);
      t.setBytes('c_cc', Uint8Array.from(ttySpec.termios.cc));
    });
  const argv = new TextEncoder().encode(spec.argv.map((arg: string) => `${arg}\0`).join(''));
  // AT_PAGESZ 4096, then AT_NULL: the smallest auxiliary vector a process has.
  const auxv = new Uint8Array(32);
  new DataView(auxv.buffer).setBigUint64(0, 6n, true);
  new DataView(auxv.buffer).setBigUint64(8, 4096n, true);

  const noteList: { name: string; owner: string; type: number; desc: Uint8Array }[] = [
    { name: 'NT_PRSTATUS', owner: 'CORE', type: StandardNoteType.NT_PRSTATUS, desc: prstatus },
    { name: 'NT_PRPSINFO', owner: 'CORE', type: StandardNoteType.NT_PRPSINFO, desc: prpsinfo },
    { name: 'NT_AUXV', owner: 'CORE', type: StandardNoteType.NT_AUXV, desc: auxv },
    { name: 'NT_FPREGSET', owner: 'CORE', type: StandardNoteType.NT_FPREGSET, desc: new Uint8Array(FPREGSET_SIZE) },
    { name: 'NT_CKPT_PROCESS', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_PROCESS, desc: processNote },
    { name: 'NT_CKPT_VMAS', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_VMAS, desc: vmas },
    { name: 'NT_CKPT_FILES', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_FILES, desc: files },
    { name: 'NT_CKPT_FDS', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_FDS, desc: fds },
    { name: 'NT_CKPT_SIGACTIONS', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_SIGACTIONS, desc: sigactions },
    { name: 'NT_CKPT_SIGNALS', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_SIGNALS, desc: signals },
    ...(tty ? [{ name: 'NT_CKPT_TTY', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_TTY, desc: tty }] : []),
    { name: 'NT_CKPT_ARGV', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_ARGV, desc: argv },
    // Last: every string has been added by now.
    { name: 'NT_CKPT_STRINGS', owner: CKPT_NOTE_OWNER, type: NoteType.NT_CKPT_STRINGS, desc: strings.bytes() },
    ...(spec.extraNotes ?? []).map((note) => ({ name: 'extra', ...note })),
  ].filter((note) => !(spec.omit ?? []).includes(note.name));

  const loadVmas = spec.vmas.map((vma: VmaSpec, index) => ({ vma, pages: storedPages[index] ?? 0 })).filter((entry) => entry.pages > 0);
  const phnum = 1 + loadVmas.length;
  const phoff = ELF64_EHDR.size;
  const noteOffset = phoff + phnum * ELF64_PHDR.size;
  const records = noteList.map((note) => noteRecord(note.owner, note.type, note.desc));
  const noteSize = records.reduce((sum, record) => sum + record.length, 0);
  const layoutNotes: ImageLayout['notes'] = [];
  let at = noteOffset;
  noteList.forEach((note, i) => {
    const nameSize = Math.ceil((note.owner.length + 1) / NOTE_ALIGN) * NOTE_ALIGN;
    layoutNotes.push({ name: note.name, headerOffset: at, descOffset: at + ELF64_NHDR.size + nameSize, descSize: note.desc.length });
    at += (records[i] as Uint8Array).length;
  });
  let dataOffset = alignPage(noteOffset + noteSize);
  const loads = loadVmas.map(({ vma, pages }) => {
    const load = { vma, offset: dataOffset, size: pages * PAGE };
    dataOffset += load.size;
    return load;
  });

  const bytes = Buffer.alloc(dataOffset);
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
  return {
    bytes,
    layout: {
      phoff,
      phnum,
      noteOffset,
      noteSize,
      notes: layoutNotes,
      loads: loads.map(({ offset, size }) => ({ offset, size })),
    },
  };
}
