/**
 * Mutations of ckpty images for the fuzz tests (test/image-fuzz.test.ts,
 * test/image-readers-agree.test.ts): where to cut, and what to overwrite in headers
 * and notes. Seeded: the same seed gives the same files.
 */
import { CKPT_FD, CKPT_PROCESS, CKPT_SIGNALS, CKPT_VMA, ELF64_EHDR, ELF64_NHDR, ELF64_PHDR } from '../../src/image/format.js';
import type { Image } from '../../src/image/image.js';
import type { BuiltImage } from './image-builder.js';
import type { Random } from './prng.js';

/** Offsets where a cut is most likely to find a missing bounds check. */
export function boundaries(built: BuiltImage): number[] {
  const { layout } = built;
  const points = [0, 1, 4, 16, 18, ELF64_EHDR.size - 1, ELF64_EHDR.size];
  for (let i = 0; i <= layout.phnum; i++) points.push(layout.phoff + i * ELF64_PHDR.size);
  for (const note of layout.notes) {
    points.push(note.headerOffset, note.headerOffset + ELF64_NHDR.size, note.descOffset, note.descOffset + note.descSize);
  }
  points.push(layout.noteOffset + layout.noteSize);
  for (const load of layout.loads) points.push(load.offset, load.offset + load.size);
  const all = points.flatMap((point) => [point - 1, point, point + 1]);
  return [...new Set(all)].filter((point) => point >= 0 && point < built.bytes.length);
}

const EXTREME_64 = [0n, 1n, 0xfffn, 0x1000n, 0x7fffffffn, 0xffffffffn, 1n << 53n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - 4096n];
const EXTREME_32 = [0, 1, 3, 47, 48, 49, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

export interface Mutator {
  name: string;
  apply(bytes: Buffer, built: BuiltImage, rand: Random): string;
}

export const pick = <T>(rand: Random, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
export const below = (rand: Random, n: number): number => Math.floor(rand() * n);

/** The header and note area, where mutations matter (the stored pages are never read). */
const metadataEnd = (built: BuiltImage): number => built.layout.noteOffset + built.layout.noteSize;

export const MUTATORS: Mutator[] = [
  {
    name: 'bit flips',
    apply(bytes, built, rand) {
      const flips = 1 + below(rand, 8);
      const at: number[] = [];
      for (let i = 0; i < flips; i++) {
        const offset = below(rand, metadataEnd(built));
        bytes[offset] = (bytes[offset] as number) ^ (1 << below(rand, 8));
        at.push(offset);
      }
      return `bit flips at ${at.join(',')}`;
    },
  },
  {
    name: 'note header',
    apply(bytes, built, rand) {
      const note = pick(rand, built.layout.notes);
      const field = pick(rand, ['n_namesz', 'n_descsz', 'n_type'] as const);
      const value = rand() < 0.5 ? pick(rand, EXTREME_32) : below(rand, 4096);
      const type = field === 'n_type' && rand() < 0.7 ? 0x434b0000 + below(rand, 12) : value;
      bytes.writeUInt32LE(type >>> 0, note.headerOffset + ELF64_NHDR.fields[field].offset);
      return `${note.name}.${field} = ${type}`;
    },
  },
  {
    name: 'ELF header',
    apply(bytes, _built, rand) {
      const field = pick(rand, ['e_phoff', 'e_phnum', 'e_phentsize', 'e_shoff', 'e_type', 'e_machine'] as const);
      const layout = ELF64_EHDR.fields[field];
      if (layout.size === 8) bytes.writeBigUInt64LE(pick(rand, EXTREME_64), layout.offset);
      else bytes.writeUInt16LE(pick(rand, EXTREME_32) & 0xffff, layout.offset);
      return `ehdr.${field}`;
    },
  },
  {
    name: 'program header',
    apply(bytes, built, rand) {
      const index = below(rand, built.layout.phnum);
      const field = pick(rand, ['p_type', 'p_offset', 'p_vaddr', 'p_filesz', 'p_memsz'] as const);
      const at = built.layout.phoff + index * ELF64_PHDR.size + ELF64_PHDR.fields[field].offset;
      if (field === 'p_type') bytes.writeUInt32LE(pick(rand, [0, 1, 2, 4, 0x6474e550, 0xffffffff]), at);
      else bytes.writeBigUInt64LE(rand() < 0.5 ? pick(rand, EXTREME_64) : BigInt(below(rand, bytes.length + 8192)), at);
      return `phdr[${index}].${field}`;
    },
  },
  {
    name: 'ckpty counts and offsets',
    apply(bytes, built, rand) {
      const targets = [
        ['NT_CKPT_SIGNALS', CKPT_SIGNALS.fields.nqueued.offset, 4],
        ['NT_CKPT_PROCESS', CKPT_PROCESS.fields.exe.offset, 4],
        ['NT_CKPT_PROCESS', CKPT_PROCESS.fields.cwd.offset, 4],
        ['NT_CKPT_PROCESS', CKPT_PROCESS.fields.version.offset, 4],
        ['NT_CKPT_PROCESS', CKPT_PROCESS.fields.stored_bytes.offset, 8],
        ['NT_CKPT_PROCESS', CKPT_PROCESS.fields.freeze_time_ns.offset, 8],
        ['NT_CKPT_PROCESS', CKPT_PROCESS.fields.syscall_restart.offset, 4],
        ['NT_CKPT_VMAS', CKPT_VMA.fields.start.offset, 8],
        ['NT_CKPT_VMAS', CKPT_VMA.fields.end.offset, 8],
        ['NT_CKPT_VMAS', CKPT_VMA.fields.stored.offset, 8],
        ['NT_CKPT_VMAS', CKPT_VMA.fields.file.offset, 4],
        ['NT_CKPT_VMAS', CKPT_VMA.fields.kind.offset, 4],
        ['NT_CKPT_FDS', CKPT_FD.fields.path.offset, 4],
        ['NT_CKPT_FDS', CKPT_FD.fields.fd.offset, 4],
      ] as const;
      const [name, fieldOffset, size] = pick(rand, targets);
      const note = built.layout.notes.find((entry) => entry.name === name);
      if (!note) return 'no-op';
      const stride = name === 'NT_CKPT_VMAS' ? CKPT_VMA.size : name === 'NT_CKPT_FDS' ? CKPT_FD.size : 0;
      const records = stride ? note.descSize / stride : 1;
      const at = note.descOffset + below(rand, records) * stride + fieldOffset;
      if (size === 8) bytes.writeBigUInt64LE(pick(rand, EXTREME_64), at);
      else bytes.writeUInt32LE(pick(rand, EXTREME_32), at);
      return `${name} field at ${fieldOffset}`;
    },
  },
  {
    name: 'random words',
    apply(bytes, built, rand) {
      const at = below(rand, metadataEnd(built) - 8);
      bytes.writeBigUInt64LE(BigInt.asUintN(64, BigInt(Math.floor(rand() * 2 ** 52)) << BigInt(below(rand, 12))), at);
      return `word at ${at}`;
    },
  },
];

/** Where the headers, notes and stored pages of a real image lie (what the builder reports for its own). */
export function layoutOf(bytes: Buffer, image: Image): BuiltImage {
  const align = (n: number): number => Math.ceil(n / 4) * 4;
  const notes = image.notes.map((note) => ({
    name: note.name ?? note.owner,
    headerOffset: note.offset - ELF64_NHDR.size - align(note.owner.length + 1),
    descOffset: note.offset,
    descSize: note.size,
  }));
  const first = notes[0]?.headerOffset ?? 0;
  const last = image.notes.at(-1);
  return {
    bytes,
    layout: {
      phoff: Number(bytes.readBigUInt64LE(ELF64_EHDR.fields.e_phoff.offset)),
      phnum: 1 + image.loads.length,
      noteOffset: first,
      noteSize: last ? align(last.offset + last.size) - first : 0,
      notes,
      loads: image.loads.map((load) => ({ offset: load.offset, size: load.filesz })),
    },
  };
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
