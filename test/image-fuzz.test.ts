/**
 * Fuzzing the image reader (seeded, bounded): truncations at every header and note
 * boundary and at random points, bit flips, random note sizes and types, huge counts
 * and offsets. The reader must either accept the file or throw ImageError, nothing
 * else; `ckpty info` on refused files prints one `ckpty: …` line and exits 5.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError } from '../src/image/errors.js';
import { CKPT_FD, CKPT_PROCESS, CKPT_SIGNALS, CKPT_VMA, ELF64_EHDR, ELF64_NHDR, ELF64_PHDR } from '../src/image/format.js';
import { parseImage } from '../src/image/reader.js';
import { ExitCode } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import type { Image } from '../src/image/image.js';
import { buildImage, type BuiltImage } from './helpers/image-builder.js';
import { runCkpty } from './helpers/image-cli.js';
import { spawnQuiet, waitSettled } from './helpers/image-real.js';
import { seededRandom, type Random } from './helpers/prng.js';

const SEED = Number(process.env.CKPTY_FUZZ_SEED ?? 0x5eed_c4e7);
const ITERATIONS = 6000;

type Outcome = 'accepted' | ImageError;

/** Parses; any throw that is not an ImageError fails the test with the mutation named. */
async function outcome(bytes: Uint8Array, mutation: string): Promise<Outcome> {
  try {
    await parseImage(bytes);
    return 'accepted';
  } catch (err) {
    if (err instanceof ImageError) return err;
    throw new Error(`reader threw ${String(err)} for mutation: ${mutation} (seed ${SEED})`, { cause: err });
  }
}

/** Offsets where a cut is most likely to find a missing bounds check. */
function boundaries(built: BuiltImage): number[] {
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

interface Mutator {
  name: string;
  apply(bytes: Buffer, built: BuiltImage, rand: Random): string;
}

const pick = <T>(rand: Random, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
const below = (rand: Random, n: number): number => Math.floor(rand() * n);

/** The header and note area, where mutations matter (the stored pages are never read). */
const metadataEnd = (built: BuiltImage): number => built.layout.noteOffset + built.layout.noteSize;

const MUTATORS: Mutator[] = [
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

const work = mkdtempSync(join(tmpdir(), 'ckpty-image-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Where the headers, notes and stored pages of a real image lie (what the builder reports for its own). */
function layoutOf(bytes: Buffer, image: Image): BuiltImage {
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

const seeds: BuiltImage[] = [buildImage(), buildImage({ tty: null, queued: [], sigactions: [] })];

beforeAll(async () => {
  // A real image from the freezer too: every standard note, many PT_LOADs.
  const sleep = spawnQuiet(['sleep', '1000'], work);
  try {
    await waitSettled(sleep.pid, 'sleep');
    const path = join(work, 'sleep.ckpt');
    await freezeProcess(sleep.pid, { output: path, snapshot: true });
    const bytes = readFileSync(path);
    seeds.push(layoutOf(bytes, await parseImage(bytes)));
  } finally {
    sleep.kill();
  }
});
/** 1 to 3 seeded mutations of a copy of a seed image: the bytes, what was done, and the last mutator. */
function mutated(rand: Random): { bytes: Buffer; described: string; mutator: string } {
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

describe('fuzzing the reader', () => {
  it('accepts the unmutated seeds', async () => {
    expect(seeds).toHaveLength(3);
    for (const seed of seeds) expect(await outcome(seed.bytes, 'none')).toBe('accepted');
  });

  it('refuses every truncation at a header or note boundary with an ImageError', async () => {
    for (const seed of seeds) {
      for (const size of boundaries(seed)) {
        const result = await outcome(seed.bytes.subarray(0, size), `truncate to ${size}`);
        // Cutting anywhere loses a header, a note or stored pages: never acceptable.
        expect(result, `truncated to ${size}`).toBeInstanceOf(ImageError);
      }
    }
  });

  it('refuses truncations at random points', async () => {
    const rand = seededRandom(SEED);
    for (let i = 0; i < 300; i++) {
      const seed = pick(rand, seeds);
      const size = below(rand, seed.bytes.length);
      expect(await outcome(seed.bytes.subarray(0, size), `truncate to ${size}`)).toBeInstanceOf(ImageError);
    }
  });

  it(`survives ${ITERATIONS} seeded mutations: accepted or ImageError, never anything else`, async () => {
    const rand = seededRandom(SEED ^ 0x9e3779b9);
    const tally = new Map<string, number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const { bytes, described } = mutated(rand);
      const result = await outcome(bytes, `#${i}: ${described}`);
      const key = result === 'accepted' ? 'accepted' : result.problem;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    // Both outcomes happen, and every kind of problem is found by some mutation.
    expect(tally.get('accepted') ?? 0).toBeGreaterThan(0);
    for (const problem of ['foreign', 'truncated', 'corrupt', 'version']) expect(tally.get(problem) ?? 0).toBeGreaterThan(0);
  });

  it('ckpty info prints one `ckpty:` line and exits 5 for refused files', async () => {
    // Its own seeded mutations: one refused file per mutator and kind of problem, until
    // every kind of problem is among them.
    const rand = seededRandom(SEED ^ 0x1b873593);
    const samples = new Map<string, Buffer>();
    const problems = new Set<string>();
    for (let i = 0; i < 2000 && (problems.size < 4 || samples.size < 8); i++) {
      const { bytes, described, mutator } = mutated(rand);
      const result = await outcome(bytes, `#${i}: ${described}`);
      if (result === 'accepted' || samples.has(`${mutator} ${result.problem}`)) continue;
      samples.set(`${mutator} ${result.problem}`, bytes);
      problems.add(result.problem);
    }
    expect([...problems].sort()).toEqual(['corrupt', 'foreign', 'truncated', 'version']);
    [...samples].forEach(([name, bytes], i) => {
      const path = join(work, `refused-${i}.ckpt`);
      writeFileSync(path, bytes);
      const result = runCkpty(['info', path]);
      expect(result.stdout, name).toBe('');
      expect(result.stderr, name).toMatch(new RegExp(`^ckpty: ${path}: (not a ckpty image|truncated image|corrupt image|unsupported image version)[^\\n]*\\n$`));
      expect(result.status, name).toBe(ExitCode.badImage);
    });
  });
});
