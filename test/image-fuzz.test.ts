/**
 * Fuzzing the image reader (seeded, bounded): truncations at every core, header, note
 * and data boundary and at random points, bit flips, random note sizes and types, huge
 * counts and offsets, damaged job tables. The reader must either accept the file or
 * throw ImageError, nothing else; `ckpty info` on refused files prints one `ckpty: …`
 * line and exits 5.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import { ImageError } from '../src/image/errors.js';
import { parseImage } from '../src/image/reader.js';
import type { BuiltImage } from './helpers/image-builder.js';
import { runCkpty } from './helpers/image-cli.js';
import { below, boundaries, layoutOf, mutate, pick, type Mutation } from './helpers/image-mutations.js';
import { spawnQuiet, V2_FREEZER_READY, waitSettled } from './helpers/image-real.js';
import { sampleImages } from './helpers/image-samples.js';
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

const work = mkdtempSync(join(tmpdir(), 'ckpty-image-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Built jobs of every shape (one process, a pipeline with threads and a zombie, every descriptor kind). */
const seeds: BuiltImage[] = sampleImages();
const BUILT_SEEDS = seeds.length;

beforeAll(async () => {
  // REAL SEEDS: a real image from the freezer too (every standard note, many PT_LOADs), once it writes version 2.
  if (!V2_FREEZER_READY) return;
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
/** 1 to 3 seeded mutations of a copy of one of the seeds. */
const mutated = (rand: Random): Mutation => mutate(seeds, rand);

describe('fuzzing the reader', () => {
  it('accepts the unmutated seeds', async () => {
    expect(seeds).toHaveLength(BUILT_SEEDS + (V2_FREEZER_READY ? 1 : 0));
    for (const seed of seeds) expect(await outcome(seed.bytes, 'none')).toBe('accepted');
  });

  it('refuses every truncation at a core, header, note or data boundary with an ImageError', async () => {
    for (const seed of seeds) {
      for (const size of boundaries(seed)) {
        const result = await outcome(seed.bytes.subarray(0, size), `truncate to ${size}`);
        // Cutting anywhere loses a header, a note, stored pages or data: never acceptable.
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
    for (const problem of ['foreign', 'truncated', 'corrupt', 'version']) expect(tally.get(problem) ?? 0, problem).toBeGreaterThan(0);
  });

  it('ckpty info prints one `ckpty:` line and exits 5 for refused files', async () => {
    // Its own seeded mutations: one refused file per mutator and kind of problem, until
    // every kind of problem is among them.
    const rand = seededRandom(SEED ^ 0x1b873593);
    const samples = new Map<string, Buffer>();
    const problems = new Set<string>();
    for (let i = 0; i < 4000 && (problems.size < 4 || samples.size < 10); i++) {
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
