/**
 * One member's core as an ELF core file: the ELF header, the program headers and the
 * note segment, split into notes ("the container rules" of docs/image-format.md).
 * Member 0's core is read this way first, against the whole file; every other
 * member's later, against its own core.
 *
 * Pure module: it reads through a ByteSource.
 */
import {
  CKPT_NOTE_OWNER,
  ELF64_EHDR,
  ELF64_NHDR,
  ELF64_PHDR,
  Elf,
  FormatConstant,
  NOTE_ALIGN,
  NoteType,
  StandardNoteType,
  type CkptNoteName,
  type StandardNoteName,
  type StructLayout,
} from './format.js';
import { foreign, truncated, type Blame, type ImageError } from './errors.js';
import type { NoteInfo } from './image.js';
import { StructView } from './struct-view.js';

/** Where the reader gets its bytes from: a buffer, or a file read piece by piece. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; the reader never asks beyond `size`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export const hex = (value: bigint | number): string => `0x${value.toString(16)}`;
export const range = (start: bigint, end: bigint): string => `${hex(start)}-${hex(end)}`;

/** Is [offset, offset + length) inside [0, limit)? */
export const inside = (offset: bigint, length: bigint, limit: bigint): boolean => offset <= limit && length <= limit - offset;

const latin1 = new TextDecoder('latin1');
export const utf8 = new TextDecoder('utf-8');

/** A NUL-terminated (or full-length) C string. */
export function cString(bytes: Uint8Array, decoder = utf8): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(nul === -1 ? bytes : bytes.subarray(0, nul));
}

export interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

/** How problems with a core's container are named: member 0's is what tells a ckpty image at all. */
export interface ContainerKinds {
  /** Not an ELF core with ckpty notes: foreign for the file itself, corrupt for a later member. */
  foreign(reason: string): ImageError;
  /** Past the end: truncated for the file, corrupt for a core. */
  outside(reason: string): ImageError;
  /** "the file" or "its core". */
  space: string;
}

export const FILE_KINDS: ContainerKinds = { foreign, outside: truncated, space: 'the file' };
export const coreKinds = (bad: Blame): ContainerKinds => ({ foreign: bad.corrupt, outside: bad.corrupt, space: 'its core' });

/** One member's core, read: its program headers and its notes. */
export interface Core {
  /** Where it starts in the file. */
  base: number;
  headers: ProgramHeader[];
  /** Ends of the program header table and of the note segment, from base. */
  headersEnd: bigint;
  notesEnd: bigint;
  notes: NoteSet;
}

const ELF_TYPE_NAMES: Record<number, string> = {
  1: 'a relocatable object (ET_REL)',
  2: 'an executable (ET_EXEC)',
  3: 'a shared object or PIE executable (ET_DYN)',
};

async function readProgramHeaders(source: ByteSource, base: number, limit: bigint, kinds: ContainerKinds, bad: Blame) {
  if (limit === 0n) throw kinds.foreign('the file is empty');
  const head = await source.read(base, Number(limit < BigInt(ELF64_EHDR.size) ? limit : BigInt(ELF64_EHDR.size)));
  if ([0x7f, 0x45, 0x4c, 0x46].some((byte, i) => i < head.length && head[i] !== byte)) throw kinds.foreign('not an ELF file');
  if (head.length < ELF64_EHDR.size) {
    throw kinds.outside(`the ELF header needs ${ELF64_EHDR.size} bytes but ${kinds.space} has ${limit}`);
  }
  const ehdr = new StructView(head, 0, ELF64_EHDR);
  const ident = ehdr.bytes('e_ident');
  if (ident[4] !== Elf.ELFCLASS64) throw kinds.foreign('a 32-bit ELF file (ckpty images are ELF64)');
  if (ident[5] !== Elf.ELFDATA2LSB) throw kinds.foreign('a big-endian ELF file');
  const type = ehdr.num('e_type');
  if (type !== Elf.ET_CORE) throw kinds.foreign(`an ELF file that is ${ELF_TYPE_NAMES[type] ?? `of type ${type}`}, not a core file`);
  const machine = ehdr.num('e_machine');
  if (machine !== Elf.EM_X86_64) throw kinds.foreign(`a core file for ELF machine ${machine}, not x86_64`);

  const count = ehdr.num('e_phnum');
  if (count === Elf.PN_XNUM) throw bad.corrupt(`e_phnum is PN_XNUM (a ckpty image has fewer than ${Elf.PN_XNUM} program headers)`);
  if (count === 0) throw kinds.foreign('a core file without program headers');
  const entrySize = ehdr.num('e_phentsize');
  if (entrySize !== ELF64_PHDR.size) throw bad.corrupt(`program headers of ${entrySize} bytes (ELF64 has ${ELF64_PHDR.size})`);
  const start = ehdr.big('e_phoff');
  const tableSize = BigInt(count * entrySize);
  if (!inside(start, tableSize, limit)) {
    throw kinds.outside(`program headers end at ${start + tableSize} but ${kinds.space} has ${limit} bytes`);
  }
  const table = await source.read(base + Number(start), count * entrySize);
  const headers = Array.from({ length: count }, (_, index): ProgramHeader => {
    const phdr = new StructView(table, index * entrySize, ELF64_PHDR);
    return {
      index,
      type: phdr.num('p_type'),
      flags: phdr.num('p_flags'),
      offset: phdr.big('p_offset'),
      vaddr: phdr.big('p_vaddr'),
      filesz: phdr.big('p_filesz'),
      memsz: phdr.big('p_memsz'),
    };
  });
  return { headers, headersEnd: start + tableSize };
}

function findNoteSegment(headers: ProgramHeader[], limit: bigint, kinds: ContainerKinds, bad: Blame): ProgramHeader {
  const notes = headers.filter((header) => header.type === Elf.PT_NOTE);
  if (notes.length === 0) throw kinds.foreign('a core file without a note segment');
  const [note] = notes;
  if (notes.length > 1 || note === undefined) throw bad.corrupt(`${notes.length} PT_NOTE segments (expected one)`);
  if (headers[0] !== note) throw bad.corrupt('the first program header is not the PT_NOTE');
  const max = FormatConstant.CKPT_MAX_NOTES_SIZE;
  if (note.filesz > BigInt(max)) throw bad.corrupt(`a note segment of ${note.filesz} bytes (a ckpty image has at most ${max})`);
  if (!inside(note.offset, note.filesz, limit)) {
    throw kinds.outside(`the note segment ends at ${note.offset + note.filesz} but ${kinds.space} has ${limit} bytes`);
  }
  return note;
}

interface RawNote {
  owner: string;
  type: number;
  /** The descriptor, a view into the note segment. */
  desc: Uint8Array;
}

/** Per-thread standard notes: NT_PRSTATUS starts a thread, its FP state follows. */
export type ThreadNoteName = 'NT_PRSTATUS' | 'NT_FPREGSET' | 'NT_X86_XSTATE';

const CKPT_NOTE_NAMES = new Map<number, CkptNoteName>(Object.entries(NoteType).map(([name, type]) => [type, name as CkptNoteName]));
const STANDARD_NOTE_NAMES = new Map<number, StandardNoteName>(
  Object.entries(StandardNoteType).map(([name, type]) => [type, name as StandardNoteName]),
);
/** NT_X86_XSTATE is owned by "LINUX", the other standard notes by "CORE". */
const STANDARD_OWNERS = new Set(['CORE', 'LINUX']);
const THREAD_NOTES = new Set<StandardNoteName>(['NT_PRSTATUS', 'NT_FPREGSET', 'NT_X86_XSTATE']);

/**
 * One core's notes. ckpty notes: unknown types and repeats are refused. Standard notes:
 * NT_AUXV at most once; NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE kept in file order for
 * the threads. Other notes are gdb's and readelf's business.
 */
export class NoteSet {
  readonly infos: NoteInfo[] = [];
  readonly standard: StandardNoteName[] = [];
  readonly threadNotes: { name: ThreadNoteName; desc: Uint8Array }[] = [];
  private readonly ckpt = new Map<CkptNoteName, Uint8Array>();
  private auxv: Uint8Array | null = null;

  constructor(private readonly bad: Blame) {}

  add(note: RawNote, offset: number): void {
    let name: string | null = null;
    if (note.owner === CKPT_NOTE_OWNER) {
      const ckptName = CKPT_NOTE_NAMES.get(note.type);
      if (ckptName === undefined) throw this.bad.corrupt(`unknown ckpty note type ${hex(note.type)}`);
      if (this.ckpt.has(ckptName)) throw this.bad.corrupt(`note ${ckptName} appears more than once`);
      this.ckpt.set(ckptName, note.desc);
      name = ckptName;
    } else if (STANDARD_OWNERS.has(note.owner)) {
      const standardName = STANDARD_NOTE_NAMES.get(note.type);
      if (standardName === 'NT_AUXV') {
        if (this.auxv !== null) throw this.bad.corrupt('note NT_AUXV appears more than once');
        this.auxv = note.desc;
      } else if (standardName !== undefined && THREAD_NOTES.has(standardName)) {
        this.threadNotes.push({ name: standardName as ThreadNoteName, desc: note.desc });
      }
      if (standardName !== undefined) this.standard.push(standardName);
      name = standardName ?? null;
    }
    this.infos.push({ owner: note.owner, type: note.type, name, offset, size: note.desc.length });
  }

  get hasCkptNotes(): boolean {
    return this.ckpt.size > 0;
  }

  has(name: CkptNoteName): boolean {
    return this.ckpt.has(name);
  }

  optional(name: CkptNoteName | 'NT_AUXV'): Uint8Array | null {
    return (name === 'NT_AUXV' ? this.auxv : this.ckpt.get(name)) ?? null;
  }

  required(name: CkptNoteName | 'NT_AUXV'): Uint8Array {
    const desc = this.optional(name);
    if (desc === null) throw this.bad.corrupt(`note ${name} is missing`);
    return desc;
  }

  /** A note of exactly `size` bytes. */
  exact(name: CkptNoteName, size: number): Uint8Array {
    const desc = this.required(name);
    if (desc.length !== size) throw this.bad.corrupt(`note ${name} has size ${desc.length}, not ${size}`);
    return desc;
  }

  /** A note holding exactly one struct. */
  single<F extends string>(name: CkptNoteName, layout: StructLayout<F>): StructView<F> {
    return new StructView(this.exact(name, layout.size), 0, layout);
  }

  /** A note whose size is a multiple of `unit`. */
  multiple(name: CkptNoteName | 'NT_AUXV', unit: number): Uint8Array {
    const desc = this.required(name);
    if (desc.length % unit !== 0) throw this.bad.corrupt(`note ${name} has size ${desc.length}, not a multiple of ${unit}`);
    return desc;
  }

  /** A note holding an array of structs. */
  array<F extends string>(name: CkptNoteName, layout: StructLayout<F>): StructView<F>[] {
    const desc = this.multiple(name, layout.size);
    return Array.from({ length: desc.length / layout.size }, (_, i) => new StructView(desc, i * layout.size, layout));
  }

  /** An array that may be absent (then empty). */
  table<F extends string>(name: CkptNoteName, layout: StructLayout<F>): StructView<F>[] {
    return this.has(name) ? this.array(name, layout) : [];
  }
}

const alignNote = (value: number): number => Math.ceil(value / NOTE_ALIGN) * NOTE_ALIGN;

function splitNotes(segment: Uint8Array, segmentOffset: number, kinds: ContainerKinds, bad: Blame): NoteSet {
  const notes = new NoteSet(bad);
  let pos = 0;
  for (let count = 0; pos < segment.length; count++) {
    const at = segmentOffset + pos;
    if (segment.length - pos < ELF64_NHDR.size) {
      // Writers may pad the segment; anything else is a note cut short.
      if (segment.subarray(pos).every((byte) => byte === 0)) break;
      throw bad.corrupt(`note ${count} at offset ${at} is cut off by the end of the note segment`);
    }
    const header = new StructView(segment, pos, ELF64_NHDR);
    const nameSize = header.num('n_namesz');
    const descSize = header.num('n_descsz');
    const descStart = alignNote(pos + ELF64_NHDR.size + nameSize);
    const descEnd = descStart + descSize;
    if (descEnd > segment.length) {
      throw bad.corrupt(`note ${count} at offset ${at} (name ${nameSize} bytes, data ${descSize} bytes) runs past the end of the note segment`);
    }
    if (nameSize === 0 || segment[pos + ELF64_NHDR.size + nameSize - 1] !== 0) {
      throw bad.corrupt(`the owner name of note ${count} at offset ${at} is not terminated`);
    }
    const owner = cString(segment.subarray(pos + ELF64_NHDR.size, pos + ELF64_NHDR.size + nameSize), latin1);
    notes.add({ owner, type: header.num('n_type'), desc: segment.subarray(descStart, descEnd) }, segmentOffset + descStart);
    pos = alignNote(descEnd);
  }
  if (!notes.hasCkptNotes) throw kinds.foreign('no CKPTY notes (a core file from another tool?)');
  return notes;
}

/** The container rules: a core at `base`, at most `limit` bytes long, as an ELF core with ckpty notes. */
export async function readCore(source: ByteSource, base: number, limit: bigint, kinds: ContainerKinds, bad: Blame): Promise<Core> {
  const { headers, headersEnd } = await readProgramHeaders(source, base, limit, kinds, bad);
  const note = findNoteSegment(headers, limit, kinds, bad);
  const segmentOffset = base + Number(note.offset);
  const segment = await source.read(segmentOffset, Number(note.filesz));
  return { base, headers, headersEnd, notesEnd: note.offset + note.filesz, notes: splitNotes(segment, segmentOffset, kinds, bad) };
}

/** NT_CKPT_STRINGS: strings by byte offset. */
export class StringTable {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly bad: Blame,
  ) {
    if (bytes.length === 0 || bytes[bytes.length - 1] !== 0) throw bad.corrupt('NT_CKPT_STRINGS does not end with a NUL');
  }

  get(offset: number, what: string): string {
    if (offset >= this.bytes.length) {
      throw this.bad.corrupt(`string offset ${offset} of ${what} is outside NT_CKPT_STRINGS (${this.bytes.length} bytes)`);
    }
    return cString(this.bytes.subarray(offset));
  }
}
