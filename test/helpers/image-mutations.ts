/**
 * Mutations of ckpty job images for the fuzz tests (test/image-fuzz.test.ts,
 * test/image-readers-agree.test.ts): where to cut, and what to overwrite in headers,
 * notes and the job's tables. Seeded: the same seed gives the same files.
 */
import {
  CKPT_FD,
  CKPT_JOB,
  CKPT_MEMBER,
  CKPT_OBJECT,
  CKPT_OFILE,
  CKPT_PROCESS,
  CKPT_QUEUED,
  CKPT_SIGNALS,
  CKPT_THREAD,
  CKPT_TIMER,
  CKPT_VMA,
  CKPT_WATCH,
  ELF64_EHDR,
  ELF64_NHDR,
  ELF64_PHDR,
  type StructLayout,
} from '../../src/image/format.js';
import type { Image } from '../../src/image/image.js';
import type { BuiltImage, CoreLayout, NoteLayout } from './image-builder.js';
import type { Random } from './prng.js';

/** Offsets where a cut is most likely to find a missing bounds check. */
export function boundaries(built: BuiltImage): number[] {
  const points: number[] = [built.layout.data.offset, built.layout.data.offset + built.layout.data.size];
  for (const core of built.layout.cores) {
    points.push(...[0, 1, 4, 16, 18, ELF64_EHDR.size - 1, ELF64_EHDR.size].map((at) => core.offset + at), core.offset + core.size);
    for (let i = 0; i <= core.phnum; i++) points.push(core.phoff + i * ELF64_PHDR.size);
    for (const note of core.notes) {
      points.push(note.headerOffset, note.headerOffset + ELF64_NHDR.size, note.descOffset, note.descOffset + note.descSize);
    }
    points.push(core.noteOffset + core.noteSize);
    for (const load of core.loads) points.push(load.offset, load.offset + load.size);
  }
  const all = points.flatMap((point) => [point - 1, point, point + 1]);
  return [...new Set(all)].filter((point) => point >= 0 && point < built.bytes.length).sort((a, b) => a - b);
}

const EXTREME_64 = [0n, 1n, 0xfffn, 0x1000n, 0x7fffffffn, 0xffffffffn, 1n << 53n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - 4096n];
const EXTREME_32 = [0, 1, 3, 47, 48, 49, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

export interface Mutator {
  name: string;
  apply(bytes: Buffer, built: BuiltImage, rand: Random): string;
}

export const pick = <T>(rand: Random, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
export const below = (rand: Random, n: number): number => Math.floor(rand() * n);

/** A core, member 0's more often: it holds the job's notes and decides what the file is. */
const pickCore = (rand: Random, built: BuiltImage): CoreLayout => (rand() < 0.4 ? (built.layout.cores[0] as CoreLayout) : pick(rand, built.layout.cores));

/** Where a core's headers and notes end, from the start of the file (its stored pages are never read). */
const metadataEnd = (core: CoreLayout): number => core.noteOffset + core.noteSize;

/** Writes a value into a scalar member: 32-bit as its low bits, 64-bit as is. */
function writeField(bytes: Buffer, at: number, layout: StructLayout, field: string, value: bigint): void {
  const member = layout.fields[field];
  if (!member) throw new Error(`${layout.cType} has no ${field}`);
  if (member.size === 8) bytes.writeBigUInt64LE(BigInt.asUintN(64, value), at + member.offset);
  else bytes.writeUInt32LE(Number(BigInt.asUintN(32, value)), at + member.offset);
}

/** A value for a field: an extreme one, a small index-like one, or one of the image's own offsets. */
function fieldValue(rand: Random, built: BuiltImage, size: number): bigint {
  const roll = rand();
  if (roll < 0.35) return size === 8 ? pick(rand, EXTREME_64) : BigInt(pick(rand, EXTREME_32));
  if (roll < 0.75) return BigInt(below(rand, 16) - 2);
  const places = [...built.layout.cores.flatMap((core) => [core.offset, core.size, core.offset + core.size]), built.layout.data.offset, built.layout.data.size];
  return BigInt(pick(rand, places) + pick(rand, [0, 0, 1, -1, 4096, -4096]));
}

interface FieldTarget {
  note: string;
  layout: StructLayout;
  fields: readonly string[];
  /** Bytes before the first struct of the note (its header), and the stride of an array. */
  base?: number;
  stride?: number;
}

/** The fields that hold counts, indexes, offsets and kinds: where a reader's checks are. */
const FIELD_TARGETS: FieldTarget[] = [
  { note: 'NT_CKPT_PROCESS', layout: CKPT_PROCESS, fields: ['version', 'exe', 'cwd', 'stored_bytes', 'freeze_time_ns', 'nthreads', 'member', 'pid'] },
  { note: 'NT_CKPT_THREADS', layout: CKPT_THREAD, stride: CKPT_THREAD.size, fields: ['tid', 'syscall_restart', 'rseq_addr', 'rseq_len'] },
  { note: 'NT_CKPT_VMAS', layout: CKPT_VMA, stride: CKPT_VMA.size, fields: ['start', 'end', 'stored', 'file', 'kind', 'prot', 'flags'] },
  { note: 'NT_CKPT_FDS', layout: CKPT_FD, stride: CKPT_FD.size, fields: ['fd', 'ofile'] },
  { note: 'NT_CKPT_SIGNALS', layout: CKPT_SIGNALS, fields: ['nqueued'] },
  { note: 'NT_CKPT_SIGNALS', layout: CKPT_QUEUED, base: CKPT_SIGNALS.size, stride: CKPT_QUEUED.size, fields: ['tid'] },
  { note: 'NT_CKPT_TIMERS', layout: CKPT_TIMER, stride: CKPT_TIMER.size, fields: ['kind', 'notify', 'notify_tid'] },
];

const JOB_TARGETS: FieldTarget[] = [
  { note: 'NT_CKPT_JOB', layout: CKPT_JOB, fields: ['nmembers', 'status_member', 'data_offset', 'data_size'] },
  { note: 'NT_CKPT_JOB', layout: CKPT_MEMBER, base: CKPT_JOB.size, stride: CKPT_MEMBER.size, fields: ['parent', 'state', 'core_offset', 'core_size', 'pid'] },
  { note: 'NT_CKPT_OBJECTS', layout: CKPT_OBJECT, stride: CKPT_OBJECT.size, fields: ['kind', 'data_offset', 'data_len', 'data2_offset', 'data2_len', 'name'] },
  { note: 'NT_CKPT_OFILES', layout: CKPT_OFILE, stride: CKPT_OFILE.size, fields: ['kind', 'object', 'end', 'path'] },
  { note: 'NT_CKPT_WATCHES', layout: CKPT_WATCH, stride: CKPT_WATCH.size, fields: ['owner', 'target', 'path'] },
];

/** Overwrites one field of one entry of a note named in `targets`, in one of `cores`. */
function mutateField(bytes: Buffer, built: BuiltImage, rand: Random, targets: FieldTarget[], cores: CoreLayout[]): string {
  const target = pick(rand, targets);
  const found = cores.flatMap((core) => core.notes.filter((note) => note.name === target.note).map((note) => ({ core, note })));
  if (found.length === 0) return 'no-op';
  const { core, note } = pick(rand, found);
  const base = target.base ?? 0;
  const entries = target.stride ? Math.floor((note.descSize - base) / target.stride) : 1;
  if (entries <= 0) return 'no-op';
  const index = below(rand, entries);
  const field = pick(rand, target.fields);
  const value = fieldValue(rand, built, target.layout.fields[field]?.size ?? 4);
  writeField(bytes, note.descOffset + base + index * (target.stride ?? 0), target.layout, field, value);
  return `member ${core.member} ${target.note}[${index}].${field} = ${value}`;
}

/** Swaps two entries of an array note: order and cross-references out of step. */
function swapEntries(bytes: Buffer, note: NoteLayout, base: number, stride: number, rand: Random): string {
  const entries = Math.floor((note.descSize - base) / stride);
  if (entries < 2) return 'no-op';
  const [a, b] = [below(rand, entries), below(rand, entries)];
  const at = (i: number): number => note.descOffset + base + i * stride;
  const first = Buffer.from(bytes.subarray(at(a), at(a) + stride));
  bytes.copy(bytes, at(a), at(b), at(b) + stride);
  first.copy(bytes, at(b));
  return `${note.name} entries ${a} and ${b} swapped`;
}

export const MUTATORS: Mutator[] = [
  {
    name: 'bit flips',
    apply(bytes, built, rand) {
      const at: number[] = [];
      for (let flips = 1 + below(rand, 8); flips > 0; flips--) {
        const core = pickCore(rand, built);
        const offset = core.offset + below(rand, metadataEnd(core) - core.offset);
        bytes[offset] = (bytes[offset] as number) ^ (1 << below(rand, 8));
        at.push(offset);
      }
      return `bit flips at ${at.join(',')}`;
    },
  },
  {
    name: 'note header',
    apply(bytes, built, rand) {
      const core = pickCore(rand, built);
      const note = pick(rand, core.notes);
      const field = pick(rand, ['n_namesz', 'n_descsz', 'n_type'] as const);
      const value = rand() < 0.5 ? pick(rand, EXTREME_32) : below(rand, 4096);
      const type = field === 'n_type' && rand() < 0.7 ? 0x434b0000 + below(rand, 18) : value;
      bytes.writeUInt32LE(type >>> 0, note.headerOffset + ELF64_NHDR.fields[field].offset);
      return `member ${core.member} ${note.name}.${field} = ${type}`;
    },
  },
  {
    name: 'ELF header',
    apply(bytes, built, rand) {
      const core = pickCore(rand, built);
      const field = pick(rand, ['e_phoff', 'e_phnum', 'e_phentsize', 'e_shoff', 'e_type', 'e_machine'] as const);
      const layout = ELF64_EHDR.fields[field];
      if (layout.size === 8) bytes.writeBigUInt64LE(pick(rand, EXTREME_64), core.offset + layout.offset);
      else bytes.writeUInt16LE(pick(rand, EXTREME_32) & 0xffff, core.offset + layout.offset);
      return `member ${core.member} ehdr.${field}`;
    },
  },
  {
    name: 'program header',
    apply(bytes, built, rand) {
      const core = pickCore(rand, built);
      const index = below(rand, core.phnum);
      const field = pick(rand, ['p_type', 'p_offset', 'p_vaddr', 'p_filesz', 'p_memsz'] as const);
      const at = core.phoff + index * ELF64_PHDR.size + ELF64_PHDR.fields[field].offset;
      if (field === 'p_type') bytes.writeUInt32LE(pick(rand, [0, 1, 2, 4, 0x6474e550, 0xffffffff]), at);
      else bytes.writeBigUInt64LE(rand() < 0.5 ? pick(rand, EXTREME_64) : BigInt(below(rand, core.size + 8192)), at);
      return `member ${core.member} phdr[${index}].${field}`;
    },
  },
  {
    name: 'ckpty counts and offsets',
    apply: (bytes, built, rand) => mutateField(bytes, built, rand, FIELD_TARGETS, [pickCore(rand, built)]),
  },
  {
    name: 'job table',
    apply: (bytes, built, rand) => mutateField(bytes, built, rand, JOB_TARGETS.slice(0, 2), built.layout.cores.slice(0, 1)),
  },
  {
    name: 'job objects, open files and watches',
    apply: (bytes, built, rand) => mutateField(bytes, built, rand, JOB_TARGETS.slice(2), built.layout.cores.slice(0, 1)),
  },
  {
    name: 'entries swapped',
    apply(bytes, built, rand) {
      const core = pickCore(rand, built);
      const target = pick(rand, [...FIELD_TARGETS, ...JOB_TARGETS].filter((t) => t.stride !== undefined));
      const note = core.notes.find((entry) => entry.name === target.note);
      return note ? swapEntries(bytes, note, target.base ?? 0, target.stride as number, rand) : 'no-op';
    },
  },
  {
    name: 'random words',
    apply(bytes, built, rand) {
      const core = pickCore(rand, built);
      const at = core.offset + below(rand, metadataEnd(core) - core.offset - 8);
      bytes.writeBigUInt64LE(BigInt.asUintN(64, BigInt(Math.floor(rand() * 2 ** 52)) << BigInt(below(rand, 12))), at);
      return `word at ${at}`;
    },
  },
];

/** Where the cores, headers, notes, stored pages and data area of a real image lie (what the builder reports for its own). */
export function layoutOf(bytes: Buffer, image: Image): BuiltImage {
  const align = (n: number): number => Math.ceil(n / 4) * 4;
  const cores = image.processes.map((p): CoreLayout => {
    const notes = p.notes.map((note) => ({
      name: note.name ?? note.owner,
      headerOffset: note.offset - ELF64_NHDR.size - align(note.owner.length + 1),
      descOffset: note.offset,
      descSize: note.size,
    }));
    const first = notes[0]?.headerOffset ?? p.core.offset;
    const last = p.notes.at(-1);
    return {
      member: p.member,
      offset: p.core.offset,
      size: p.core.length,
      phoff: p.core.offset + Number(bytes.readBigUInt64LE(p.core.offset + ELF64_EHDR.fields.e_phoff.offset)),
      phnum: 1 + p.loads.length,
      noteOffset: first,
      noteSize: last ? align(last.offset + last.size) - first : 0,
      notes,
      loads: p.loads.map((load) => ({ offset: load.offset, size: load.filesz })),
    };
  });
  return { bytes, layout: { cores, data: { offset: image.job.dataArea.offset, size: image.job.dataArea.length } } };
}

export interface Mutation {
  bytes: Buffer;
  /** What was done, to replay or report it. */
  described: string;
  /** The last mutator applied. */
  mutator: string;
}

/** 1 to 3 seeded mutations of a copy of one of the seeds. */
export function mutate(seeds: readonly BuiltImage[], rand: Random): Mutation {
  const seed = pick(rand, seeds);
  const bytes = Buffer.from(seed.bytes);
  const described: string[] = [];
  let mutator = '';
  for (let m = 1 + below(rand, 3); m > 0; m--) {
    const chosen = pick(rand, MUTATORS);
    mutator = chosen.name;
    described.push(chosen.apply(bytes, seed, rand));
  }
  return { bytes, described: described.join('; '), mutator };
}
