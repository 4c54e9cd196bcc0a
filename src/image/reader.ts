/**
 * The image reader: ELF header, program headers and the note segment, never the
 * memory data (an image may hold gigabytes; the PT_LOADs are only described).
 *
 * Every check a bad file can fail throws an ImageError that names what is wrong;
 * anything else escaping from here is a bug (the fuzz test holds it to that).
 *
 * Pure module: it reads through a ByteSource, see file.ts for files.
 */
import {
  CKPT_FD,
  CKPT_FILE,
  CKPT_FORMAT_VERSION,
  CKPT_KERNEL_TERMIOS,
  CKPT_NOTE_OWNER,
  CKPT_NRLIMITS,
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
  ELF_PRSTATUS,
  Elf,
  FormatConstant,
  FdKind,
  NOTE_ALIGN,
  NoteType,
  ProcessFlag,
  Restart,
  SIGINFO_HEAD,
  SIGINFO_SIZE,
  StandardNoteType,
  USER_REGS,
  VmaFlag,
  VmaKind,
  type CkptNoteName,
  type MmFieldName,
  type RegisterName,
  type StandardNoteName,
  type StructLayout,
} from './format.js';
import { corrupt, foreign, ImageError, truncated } from './errors.js';
import type {
  FdKindName,
  FileDescriptor,
  Image,
  LoadSegment,
  MappedFile,
  MmFields,
  NoteInfo,
  ProcessState,
  Registers,
  RestartKind,
  SignalAction,
  SignalState,
  TerminalState,
  Vma,
  VmaKindName,
} from './image.js';
import {
  accessModeOf,
  openFlagNames,
  permissionString,
  RLIM_INFINITY,
  RLIMIT_NAMES,
  SIG_DFL,
  SIG_IGN,
  sigactionFlagNames,
  signalName,
  signalSetNames,
} from './linux.js';
import { StructView } from './struct-view.js';
import { KERNEL_NCCS, VDISABLE } from '../termios/termios.js';

/** Where the reader gets its bytes from: a buffer, or a file read piece by piece. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; the reader never asks beyond `size`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** A whole image held in memory. */
export function parseImage(bytes: Uint8Array): Promise<Image> {
  return readImage(bufferSource(bytes));
}

/** Bounds a reader enforces before allocating (image.h CKPT_MAX_NOTES_SIZE, CKPT_MAX_AUXV_SIZE). */
export const MAX_NOTE_SEGMENT = FormatConstant.CKPT_MAX_NOTES_SIZE;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const PAGE = BigInt(CKPT_PAGE_SIZE);

export async function readImage(source: ByteSource): Promise<Image> {
  const programHeaders = await readProgramHeaders(source);
  const noteHeader = findNoteSegment(programHeaders, source.size);
  const noteBytes = await source.read(noteHeader.offset, noteHeader.size);
  const notes = parseNotes(noteBytes, noteHeader.offset);
  return decodeImage(source.size, programHeaders, notes);
}

// ---- ELF header and program headers -------------------------------------------------

interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

const ELF_TYPE_NAMES: Record<number, string> = {
  1: 'a relocatable object (ET_REL)',
  2: 'an executable (ET_EXEC)',
  3: 'a shared object or PIE executable (ET_DYN)',
};

async function readProgramHeaders(source: ByteSource): Promise<ProgramHeader[]> {
  const size = source.size;
  if (size === 0) throw foreign('the file is empty');
  const head = await source.read(0, Math.min(size, ELF64_EHDR.size));
  if (ELF_MAGIC.some((byte, i) => i < head.length && head[i] !== byte)) throw foreign('not an ELF file');
  if (size < ELF64_EHDR.size) {
    throw truncated(`the ELF header needs ${ELF64_EHDR.size} bytes but the file has ${size}`);
  }
  const ehdr = new StructView(head, 0, ELF64_EHDR);
  const ident = ehdr.bytes('e_ident');
  if (ident[4] !== Elf.ELFCLASS64) throw foreign('a 32-bit ELF file (ckpty images are ELF64)');
  if (ident[5] !== Elf.ELFDATA2LSB) throw foreign('a big-endian ELF file');
  const type = ehdr.num('e_type');
  if (type !== Elf.ET_CORE) {
    throw foreign(`an ELF file that is ${ELF_TYPE_NAMES[type] ?? `of type ${type}`}, not a core file`);
  }
  const machine = ehdr.num('e_machine');
  if (machine !== Elf.EM_X86_64) throw foreign(`a core file for ELF machine ${machine}, not x86_64`);

  const count = ehdr.num('e_phnum');
  if (count === Elf.PN_XNUM) throw corrupt(`e_phnum is PN_XNUM (a ckpty image has fewer than ${Elf.PN_XNUM} program headers)`);
  if (count === 0) throw foreign('a core file without program headers');
  const entrySize = ehdr.num('e_phentsize');
  if (entrySize !== ELF64_PHDR.size) {
    throw corrupt(`program headers of ${entrySize} bytes (ELF64 has ${ELF64_PHDR.size})`);
  }
  const start = ehdr.big('e_phoff');
  const end = start + BigInt(count * entrySize);
  if (end > BigInt(size)) {
    throw truncated(`program headers end at ${end} but the file has ${size} bytes`);
  }
  const table = await source.read(Number(start), count * entrySize);
  const headers: ProgramHeader[] = [];
  for (let index = 0; index < count; index++) {
    const phdr = new StructView(table, index * entrySize, ELF64_PHDR);
    headers.push({
      index,
      type: phdr.num('p_type'),
      flags: phdr.num('p_flags'),
      offset: phdr.big('p_offset'),
      vaddr: phdr.big('p_vaddr'),
      filesz: phdr.big('p_filesz'),
      memsz: phdr.big('p_memsz'),
    });
  }
  return headers;
}

function findNoteSegment(headers: ProgramHeader[], fileSize: number): { offset: number; size: number } {
  const notes = headers.filter((header) => header.type === Elf.PT_NOTE);
  if (notes.length === 0) throw foreign('a core file without a note segment');
  const [note] = notes;
  if (notes.length > 1 || note === undefined) throw corrupt(`${notes.length} PT_NOTE segments (expected one)`);
  if (headers[0] !== note) throw corrupt('the first program header is not the PT_NOTE');
  if (note.filesz > BigInt(MAX_NOTE_SEGMENT)) {
    throw corrupt(`a note segment of ${note.filesz} bytes (a ckpty image has at most ${MAX_NOTE_SEGMENT})`);
  }
  const end = note.offset + note.filesz;
  if (end > BigInt(fileSize)) throw truncated(`the note segment ends at ${end} but the file has ${fileSize} bytes`);
  return { offset: Number(note.offset), size: Number(note.filesz) };
}

// ---- notes -----------------------------------------------------------------------------

interface RawNote {
  owner: string;
  type: number;
  /** The descriptor, a view into the note segment. */
  desc: Uint8Array;
  /** File offset of the descriptor. */
  offset: number;
}

const alignNote = (value: number): number => Math.ceil(value / NOTE_ALIGN) * NOTE_ALIGN;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** A NUL-terminated (or full-length) C string. */
function cString(bytes: Uint8Array, decoder = utf8): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(nul === -1 ? bytes : bytes.subarray(0, nul));
}

function parseNotes(segment: Uint8Array, segmentOffset: number): RawNote[] {
  const notes: RawNote[] = [];
  let pos = 0;
  while (pos < segment.length) {
    const at = segmentOffset + pos;
    if (segment.length - pos < ELF64_NHDR.size) {
      // Writers may pad the segment; anything else is a note cut short.
      if (segment.subarray(pos).every((byte) => byte === 0)) break;
      throw corrupt(`note ${notes.length} at offset ${at} is cut off by the end of the note segment`);
    }
    const header = new StructView(segment, pos, ELF64_NHDR);
    const nameSize = header.num('n_namesz');
    const descSize = header.num('n_descsz');
    const descStart = alignNote(pos + ELF64_NHDR.size + nameSize);
    const descEnd = descStart + descSize;
    if (descEnd > segment.length) {
      throw corrupt(
        `note ${notes.length} at offset ${at} (name ${nameSize} bytes, data ${descSize} bytes) runs past the end of the note segment`,
      );
    }
    if (nameSize === 0 || segment[pos + ELF64_NHDR.size + nameSize - 1] !== 0) {
      throw corrupt(`the owner name of note ${notes.length} at offset ${at} is not terminated`);
    }
    notes.push({
      owner: cString(segment.subarray(pos + ELF64_NHDR.size, pos + ELF64_NHDR.size + nameSize), latin1),
      type: header.num('n_type'),
      desc: segment.subarray(descStart, descEnd),
      offset: segmentOffset + descStart,
    });
    pos = alignNote(descEnd);
  }
  return notes;
}

const CKPT_NOTE_NAMES = new Map<number, CkptNoteName>(
  Object.entries(NoteType).map(([name, type]) => [type, name as CkptNoteName]),
);
const STANDARD_NOTE_NAMES = new Map<number, StandardNoteName>(
  Object.entries(StandardNoteType).map(([name, type]) => [type, name as StandardNoteName]),
);
/** NT_X86_XSTATE is owned by "LINUX", the other standard notes by "CORE". */
const STANDARD_OWNERS = new Set(['CORE', 'LINUX']);
/** The standard notes a thaw uses: each at most once (the others are for gdb). */
const USED_STANDARD_NOTES = new Set<StandardNoteName>(['NT_PRSTATUS', 'NT_FPREGSET', 'NT_X86_XSTATE', 'NT_AUXV']);

const hex = (value: bigint | number): string => `0x${value.toString(16)}`;
const range = (start: bigint, end: bigint): string => `${hex(start)}-${hex(end)}`;

/** The ckpty notes by name (each at most once) and the standard ones by name. */
class NoteSet {
  readonly infos: NoteInfo[] = [];
  readonly standard: StandardNoteName[] = [];
  private readonly ckpt = new Map<CkptNoteName, RawNote>();
  private readonly standardNotes = new Map<StandardNoteName, RawNote>();

  constructor(notes: RawNote[]) {
    for (const note of notes) {
      let name: string | null = null;
      if (note.owner === CKPT_NOTE_OWNER) {
        const ckptName = CKPT_NOTE_NAMES.get(note.type);
        if (ckptName === undefined) throw corrupt(`unknown ckpty note type ${hex(note.type)}`);
        if (this.ckpt.has(ckptName)) throw corrupt(`note ${ckptName} appears more than once`);
        this.ckpt.set(ckptName, note);
        name = ckptName;
      } else if (STANDARD_OWNERS.has(note.owner)) {
        const standardName = STANDARD_NOTE_NAMES.get(note.type);
        if (standardName !== undefined) {
          if (USED_STANDARD_NOTES.has(standardName) && this.standardNotes.has(standardName)) {
            throw corrupt(`note ${standardName} appears more than once`);
          }
          this.standard.push(standardName);
          if (!this.standardNotes.has(standardName)) this.standardNotes.set(standardName, note);
          name = standardName;
        }
      }
      this.infos.push({ owner: note.owner, type: note.type, name, offset: note.offset, size: note.desc.length });
    }
    if (this.ckpt.size === 0) throw foreign('no CKPTY notes (a core file from another tool?)');
  }

  optional(name: CkptNoteName | StandardNoteName): Uint8Array | null {
    const note = name.startsWith('NT_CKPT_') ? this.ckpt.get(name as CkptNoteName) : this.standardNotes.get(name as StandardNoteName);
    return note?.desc ?? null;
  }

  required(name: CkptNoteName | StandardNoteName): Uint8Array {
    const note = name.startsWith('NT_CKPT_')
      ? this.ckpt.get(name as CkptNoteName)
      : this.standardNotes.get(name as StandardNoteName);
    if (note === undefined) throw corrupt(`note ${name} is missing`);
    return note.desc;
  }

  /** A note holding exactly one struct. */
  single<F extends string>(name: CkptNoteName | StandardNoteName, layout: StructLayout<F>): StructView<F> {
    const desc = this.required(name);
    if (desc.length !== layout.size) throw corrupt(`note ${name} has size ${desc.length}, not ${layout.size}`);
    return new StructView(desc, 0, layout);
  }

  /** A note holding an array of structs. */
  array<F extends string>(name: CkptNoteName, layout: StructLayout<F>): StructView<F>[] {
    const desc = this.required(name);
    if (desc.length % layout.size !== 0) {
      throw corrupt(`note ${name} has size ${desc.length}, not a multiple of ${layout.size}`);
    }
    return Array.from({ length: desc.length / layout.size }, (_, i) => new StructView(desc, i * layout.size, layout));
  }
}

/** NT_CKPT_STRINGS: strings by byte offset. */
class StringTable {
  constructor(private readonly bytes: Uint8Array) {
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 0) throw corrupt('NT_CKPT_STRINGS does not end with a NUL');
  }

  get(offset: number, what: string): string {
    if (offset >= this.bytes.length) {
      throw corrupt(`string offset ${offset} of ${what} is outside NT_CKPT_STRINGS (${this.bytes.length} bytes)`);
    }
    return cString(this.bytes.subarray(offset));
  }
}

// ---- decoding ----------------------------------------------------------------------

function decodeImage(fileSize: number, headers: ProgramHeader[], rawNotes: RawNote[]): Image {
  const notes = new NoteSet(rawNotes);
  const process = readVersionedProcess(notes);
  const strings = new StringTable(notes.required('NT_CKPT_STRINGS'));
  const files = decodeFiles(notes, strings);
  const vmas = decodeVmas(notes, files);
  const loads = decodeLoads(headers, fileSize);
  checkStoredBytes(vmas, loads, process);
  return {
    version: CKPT_FORMAT_VERSION,
    fileSize,
    process: decodeProcess(process, strings),
    argv: decodeArgv(notes.required('NT_CKPT_ARGV')),
    registers: decodeRegisters(notes),
    vmas,
    files,
    fds: decodeFds(notes, strings),
    sigactions: decodeSigactions(notes),
    signals: decodeSignals(notes),
    tty: decodeTty(notes, strings),
    screen: decodeScreen(notes),
    standardNotes: notes.standard,
    notes: notes.infos,
    loads,
  };
}

type ProcessField = keyof typeof CKPT_PROCESS.fields;

/** The version comes first: a later version may have a different ckpt_process. */
function readVersionedProcess(notes: NoteSet): StructView<ProcessField> {
  const desc = notes.required('NT_CKPT_PROCESS');
  if (desc.length < 4) throw corrupt(`note NT_CKPT_PROCESS has size ${desc.length}, not ${CKPT_PROCESS.size}`);
  const version = new DataView(desc.buffer, desc.byteOffset, 4).getUint32(0, true);
  if (version !== CKPT_FORMAT_VERSION) {
    throw new ImageError('version', `unsupported image version ${version} (this ckpty reads version ${CKPT_FORMAT_VERSION})`);
  }
  return notes.single('NT_CKPT_PROCESS', CKPT_PROCESS);
}

const RESTART_KINDS: Record<number, RestartKind> = {
  [Restart.CKPT_RESTART_NONE]: 'none',
  [Restart.CKPT_RESTART_REWOUND]: 'rewound',
  [Restart.CKPT_RESTART_BLOCK]: 'block',
};

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

function decodeProcess(view: StructView<ProcessField>, strings: StringTable): ProcessState {
  const flags = view.num('flags');
  const restartCode = view.num('syscall_restart');
  const restartKind = RESTART_KINDS[restartCode];
  if (restartKind === undefined) throw corrupt(`unknown syscall restart kind ${restartCode} in NT_CKPT_PROCESS`);
  const exe = strings.get(view.num('exe'), 'NT_CKPT_PROCESS.exe');
  const cwd = strings.get(view.num('cwd'), 'NT_CKPT_PROCESS.cwd');
  const kernelRelease = strings.get(view.num('kernel_release'), 'NT_CKPT_PROCESS.kernel_release');
  const rseqAddr = view.big('rseq_addr');
  if (rseqAddr !== 0n && view.num('rseq_len') < 32) throw corrupt(`the rseq area has ${view.num('rseq_len')} bytes (at least 32)`);
  const mmView = view.nested<MmFieldName>('mm');
  const mm = Object.fromEntries(
    Object.entries(MM_FIELDS).map(([name, cName]) => [name, mmView.big(cName)]),
  ) as unknown as MmFields;
  const unlimited = (value: bigint): bigint | null => (value === RLIM_INFINITY ? null : value);
  const rlimits = Array.from({ length: CKPT_NRLIMITS }, (_, resource) => {
    const limit = view.nested<'cur' | 'max'>('rlimits', resource);
    return { resource: RLIMIT_NAMES[resource] ?? `RLIMIT_${resource}`, cur: unlimited(limit.big('cur')), max: unlimited(limit.big('max')) };
  });
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
    restart: { kind: restartKind, origRax: view.big('orig_rax'), syscallRet: view.big('syscall_ret') },
    mm,
    rlimits,
    rseq: rseqAddr === 0n ? null : { addr: rseqAddr, len: view.num('rseq_len'), sig: view.num('rseq_sig') },
    vdso: { size: view.big('vdso_size'), hash: view.big('vdso_hash') },
    // Checked against the PT_LOADs, so it is at most the file size.
    storedBytes: Number(view.big('stored_bytes')),
  };
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

function decodeRegisters(notes: NoteSet): Registers {
  const prstatus = notes.required('NT_PRSTATUS');
  if (prstatus.length !== ELF_PRSTATUS.size) {
    throw corrupt(`note NT_PRSTATUS has size ${prstatus.length}, not ${ELF_PRSTATUS.size}`);
  }
  // The FPU state and the auxiliary vector are the thaw's; info shows neither, but both must be sound.
  const fpregs = notes.required('NT_FPREGSET');
  if (fpregs.length !== FPREGSET_SIZE) throw corrupt(`note NT_FPREGSET has size ${fpregs.length}, not ${FPREGSET_SIZE}`);
  const xstate = notes.optional('NT_X86_XSTATE');
  if (xstate !== null && xstate.length < FormatConstant.CKPT_MIN_XSTATE_SIZE) {
    throw corrupt(`note NT_X86_XSTATE has size ${xstate.length}, less than ${FormatConstant.CKPT_MIN_XSTATE_SIZE}`);
  }
  const auxv = notes.optional('NT_AUXV');
  if (auxv !== null && auxv.length > FormatConstant.CKPT_MAX_AUXV_SIZE) {
    throw corrupt(`note NT_AUXV has size ${auxv.length}, more than ${FormatConstant.CKPT_MAX_AUXV_SIZE}`);
  }
  const auxvSize = notes.required('NT_AUXV').length;
  if (auxvSize % AUXV_ENTRY_SIZE !== 0) throw corrupt(`note NT_AUXV has size ${auxvSize}, not a multiple of ${AUXV_ENTRY_SIZE}`);
  const regs = new StructView(prstatus, ELF_PRSTATUS.fields.pr_reg.offset, USER_REGS);
  const names = Object.keys(USER_REGS.fields) as RegisterName[];
  return Object.fromEntries(names.map((name) => [name, regs.big(name)])) as Registers;
}

/** The legacy FXSAVE area (NT_FPREGSET) and one auxv entry (type, value). */
const FPREGSET_SIZE = 512;
const AUXV_ENTRY_SIZE = 16;

function decodeFiles(notes: NoteSet, strings: StringTable): MappedFile[] {
  const entries = notes.array('NT_CKPT_FILES', CKPT_FILE);
  if (entries.length === 0) throw corrupt('NT_CKPT_FILES is empty (the executable comes first)');
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
  [VmaKind.CKPT_VMA_SHMEM]: 'shmem',
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

function decodeVmas(notes: NoteSet, files: MappedFile[]): Vma[] {
  const vmas: Vma[] = [];
  for (const [index, vma] of notes.array('NT_CKPT_VMAS', CKPT_VMA).entries()) {
    const start = vma.big('start');
    const end = vma.big('end');
    const what = `VMA ${index} (${range(start, end)})`;
    if (start % PAGE !== 0n || end % PAGE !== 0n || vma.big('pgoff') % PAGE !== 0n) throw corrupt(`${what} is not page-aligned`);
    if (start >= end) throw corrupt(`${what} is empty or reversed`);
    const previous = vmas[vmas.length - 1];
    if (previous !== undefined && start < previous.end) {
      throw corrupt(`VMAs ${previous.index} (${range(previous.start, previous.end)}) and ${index} (${range(start, end)}) overlap or are out of order`);
    }
    const kindCode = vma.num('kind');
    const kind = VMA_KINDS[kindCode];
    if (kind === undefined) throw corrupt(`${what} has unknown kind ${kindCode}`);
    const prot = vma.num('prot');
    if (prot > 7) throw corrupt(`${what} has protection bits ${hex(prot)}`);
    const flags = vma.num('flags');
    if ((flags & ~KNOWN_VMA_FLAGS) !== 0) throw corrupt(`${what} has unknown flags ${hex(flags)}`);
    const fileIndex = vma.num('file');
    const file = fileIndex === -1 ? null : files[fileIndex];
    if (file === undefined) throw corrupt(`${what} refers to file ${fileIndex}, but NT_CKPT_FILES has ${files.length}`);
    const needsFile = kind === 'file' || kind === 'image';
    if (needsFile !== (file !== null)) throw corrupt(`${what} ${needsFile ? 'is file-backed but names no file' : 'names a file but is not file-backed'}`);
    const stored = vma.big('stored');
    if (stored > end - start || stored % PAGE !== 0n) {
      throw corrupt(`${what} claims ${stored} stored bytes`);
    }
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
      file,
      path: file?.path ?? SPECIAL_MAPPING_NAMES[kind] ?? '',
      stored: Number(stored),
    });
  }
  return vmas;
}

function decodeLoads(headers: ProgramHeader[], fileSize: number): LoadSegment[] {
  const loads: LoadSegment[] = [];
  for (const header of headers) {
    if (header.type === Elf.PT_NOTE) continue;
    const what = `PT_LOAD ${header.index} (${range(header.vaddr, header.vaddr + header.memsz)})`;
    if (header.type !== Elf.PT_LOAD) {
      throw corrupt(`program header ${header.index} has type ${hex(header.type)} (expected PT_LOAD)`);
    }
    if (header.filesz > header.memsz) {
      throw corrupt(`${what} stores ${header.filesz} bytes of a ${header.memsz}-byte segment`);
    }
    const end = header.offset + header.filesz;
    if (end > BigInt(fileSize)) throw truncated(`${what} ends at ${end} but the file has ${fileSize} bytes`);
    const pages = [header.vaddr, header.offset, header.filesz, header.memsz].every((value) => value % PAGE === 0n);
    if (!pages || header.filesz === 0n) throw corrupt(`${what} is not a whole number of pages`);
    const previous = loads[loads.length - 1];
    if (previous !== undefined && header.vaddr < previous.vaddr + previous.memsz) {
      throw corrupt(`PT_LOADs ${previous.index} and ${header.index} overlap or are out of address order`);
    }
    loads.push({
      index: header.index,
      vaddr: header.vaddr,
      memsz: header.memsz,
      offset: Number(header.offset),
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
function checkStoredBytes(vmas: Vma[], loads: LoadSegment[], process: StructView<ProcessField>): void {
  const storedIn = vmas.map(() => 0);
  let at = 0;
  for (const load of loads) {
    const end = load.vaddr + load.memsz;
    while (at < vmas.length && (vmas[at] as Vma).end <= load.vaddr) at++;
    const vma = vmas[at];
    if (vma === undefined || vma.start > load.vaddr || end > vma.end) {
      throw corrupt(`PT_LOAD ${load.index} (${range(load.vaddr, end)}) is not inside one mapping`);
    }
    storedIn[at] = (storedIn[at] ?? 0) + load.filesz;
  }
  for (const vma of vmas) {
    const held = storedIn[vma.index] ?? 0;
    if (held !== vma.stored) {
      throw corrupt(`VMA ${vma.index} (${range(vma.start, vma.end)}) says ${vma.stored} bytes are stored, its PT_LOADs hold ${held}`);
    }
  }
  const total = loads.reduce((sum, load) => sum + load.filesz, 0);
  const claimed = process.big('stored_bytes');
  if (claimed !== BigInt(total)) {
    throw corrupt(`NT_CKPT_PROCESS says ${claimed} bytes are stored, the PT_LOADs hold ${total}`);
  }
}

const FD_KINDS: Record<number, FdKindName> = {
  [FdKind.CKPT_FD_REG]: 'file',
  [FdKind.CKPT_FD_DIR]: 'dir',
  [FdKind.CKPT_FD_TTY]: 'tty',
  [FdKind.CKPT_FD_CHR]: 'chr',
};

function decodeFds(notes: NoteSet, strings: StringTable): FileDescriptor[] {
  let previous = -1;
  return notes.array('NT_CKPT_FDS', CKPT_FD).map((entry, index) => {
    const fd = entry.num('fd');
    if (fd <= previous) throw corrupt(`NT_CKPT_FDS[${index}] has fd ${fd} (the table is sorted, without repeats)`);
    previous = fd;
    const kindCode = entry.num('kind');
    const kind = FD_KINDS[kindCode];
    if (kind === undefined) throw corrupt(`fd ${fd} has unknown kind ${kindCode}`);
    const flags = entry.num('flags');
    return {
      fd,
      kind,
      path: strings.get(entry.num('path'), `NT_CKPT_FDS[${index}].path`),
      flags,
      accessMode: accessModeOf(flags),
      flagNames: openFlagNames(flags),
      pos: entry.big('pos'),
      cloexec: entry.num('cloexec') !== 0,
      dev: entry.big('dev'),
      ino: entry.big('ino'),
      rdev: entry.num('rdev'),
    };
  });
}

function decodeSigactions(notes: NoteSet): SignalAction[] {
  const entries = notes.array('NT_CKPT_SIGACTIONS', CKPT_SIGACTION);
  if (entries.length !== CKPT_NSIGACTIONS) {
    throw corrupt(`note NT_CKPT_SIGACTIONS holds ${entries.length} entries, not ${CKPT_NSIGACTIONS}`);
  }
  return entries.map((entry, index) => {
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

function decodeSignals(notes: NoteSet): SignalState {
  const desc = notes.required('NT_CKPT_SIGNALS');
  if (desc.length < CKPT_SIGNALS.size) {
    throw corrupt(`note NT_CKPT_SIGNALS has size ${desc.length}, less than ${CKPT_SIGNALS.size}`);
  }
  const signals = new StructView(desc, 0, CKPT_SIGNALS);
  const nqueued = signals.num('nqueued');
  const expected = CKPT_SIGNALS.size + nqueued * SIGINFO_SIZE;
  if (desc.length !== expected) {
    throw corrupt(`note NT_CKPT_SIGNALS has size ${desc.length}, but ${nqueued} queued signals need ${expected}`);
  }
  const queued = Array.from({ length: nqueued }, (_, i) => {
    const info = new StructView(desc, CKPT_SIGNALS.size + i * SIGINFO_SIZE, SIGINFO_HEAD);
    const signal = info.num('si_signo');
    return { signal, name: signalName(signal), code: info.num('si_code'), errno: info.num('si_errno') };
  });
  const blocked = signals.big('blocked');
  const pending = signals.big('pending');
  const sharedPending = signals.big('shared_pending');
  return {
    blocked,
    pending,
    sharedPending,
    blockedNames: signalSetNames(blocked),
    pendingNames: signalSetNames(pending),
    sharedPendingNames: signalSetNames(sharedPending),
    queued,
  };
}

function decodeScreen(notes: NoteSet): Uint8Array | null {
  const screen = notes.optional('NT_CKPT_SCREEN');
  if (screen !== null && screen.length > FormatConstant.CKPT_MAX_SCREEN_SIZE) {
    throw corrupt(`note NT_CKPT_SCREEN has size ${screen.length}, more than ${FormatConstant.CKPT_MAX_SCREEN_SIZE}`);
  }
  return screen;
}

function decodeTty(notes: NoteSet, strings: StringTable): TerminalState | null {
  if (notes.optional('NT_CKPT_TTY') === null) return null;
  const tty = notes.single('NT_CKPT_TTY', CKPT_TTY);
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
