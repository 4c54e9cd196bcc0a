/**
 * Thaw time until the restored program answers, and the freeze → thaw round trip of real
 * programs with their state (docs/testing.md, "Benchmarks"):
 *  - `ckpty thaw IMAGE` (what a user types; Node's start-up included) and the native
 *    thawer alone (tty/bin/ckpty-thawer), each on a fresh pty as a terminal would run it,
 *  - small programs (bc, python3 holding a variable), a 4-thread program, a 3-process
 *    pipeline (a job), and 1 MiB vs 256 MiB and 1 GiB of dirty memory.
 * `ckpty thaw` is compared with the native thawer on the same image (what the CLI adds),
 * and a large image with the 1 MiB one (the part mapped from the image should not grow).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { availableMemory, CLI, freeDisk, type BenchContext } from './lib/context.js';
import { freezeProcess } from './lib/ckpty.js';
import { track } from './lib/cleanup.js';
import { formatBytes } from './lib/format.js';
import { PtyProcess } from './lib/pty.js';
import { inRotation, Results, type Row } from './lib/results.js';
import { probe, startSubject, subjectEnv, subjectKinds, type SubjectKind } from './lib/subjects.js';

const MIB = 1 << 20;

interface Thawer {
  label: string;
  /** How a compare column names it. */
  short: string;
  /** The program and arguments that thaw `image`. */
  command(image: string, ctx: BenchContext): [file: string, args: string[]];
}

const THAWERS = {
  cli: { label: '`ckpty thaw` (CLI)', short: 'ckpty thaw', command: (image) => [CLI, ['thaw', image]] },
  native: {
    label: 'ckpty-thawer (native, no Node)',
    short: 'ckpty-thawer',
    command: (image, ctx) => [ctx.features.thawer.path ?? 'ckpty-thawer', [image]],
  },
} satisfies Record<string, Thawer>;

type ThawerName = keyof typeof THAWERS;

/** Thaw IMAGE on a fresh pty and type the probe at once; resolves to the ms until the answer. */
async function thawUntilAnswer(ctx: BenchContext, thawer: ThawerName, image: string, kind: SubjectKind): Promise<number> {
  const [file, args] = THAWERS[thawer].command(image, ctx);
  const started = performance.now();
  const pty = new PtyProcess(file, args, { cwd: ctx.workDir, env: subjectEnv() });
  try {
    // Typed ahead: the line waits in the terminal until the restored program reads again.
    await probe(pty, kind);
    return performance.now() - started;
  } finally {
    await pty.closeChildrenFirst();
  }
}

/** Freeze a fresh subject to `image` through the key path; resolves to the freeze's ms. */
async function freezeTo(ctx: BenchContext, kind: SubjectKind, image: string): Promise<number> {
  const pty = await startSubject(ctx, kind);
  try {
    track.path(image);
    const started = performance.now();
    await freezeProcess(pty.pid, { output: image });
    return performance.now() - started;
  } finally {
    await pty.close();
  }
}

interface ThawSubject {
  key: string;
  label: string;
  kind: SubjectKind;
  needs?: 'bc' | 'python3';
  mib?: number;
}

function thawSubjects(ctx: BenchContext): ThawSubject[] {
  const kinds = subjectKinds(ctx);
  const big = ctx.quick ? [64] : [256, 1024];
  return [
    { key: 'bc', label: 'bc', kind: kinds.bc, needs: 'bc' },
    { key: 'python3', label: 'python3', kind: kinds.python3, needs: 'python3' },
    { key: 'threads-4', label: '4-thread program', kind: kinds.threads(4) },
    { key: 'pipeline-3', label: '3-process pipeline', kind: kinds.pipeline(3) },
    { key: 'dirty-1M', label: '1 MiB dirty', kind: kinds.dirty(1) },
    ...big.map((mib) => ({ key: `dirty-${mib}M`, label: `${formatBytes(mib * MIB)} dirty`, kind: kinds.dirty(mib), mib })),
  ];
}

function missingFor(ctx: BenchContext, subject: ThawSubject): string | undefined {
  const { features } = ctx;
  if (features.freezer.reason) return `no image to thaw: ${features.freezer.reason}`;
  if (features.thawer.reason) return features.thawer.reason;
  if (subject.needs && features[subject.needs].reason) return features[subject.needs].reason;
  if (subject.mib && subject.mib >= 512) {
    if (availableMemory() < 2 * subject.mib * MIB) return `skipped: only ${formatBytes(availableMemory())} of memory available`;
    if (freeDisk(ctx.workDir) < 2 * subject.mib * MIB) return `skipped: only ${formatBytes(freeDisk(ctx.workDir))} free on disk`;
  }
  return undefined;
}

export async function runThawBench(ctx: BenchContext): Promise<void> {
  const { results } = ctx;
  for (const subject of thawSubjects(ctx)) {
    const missing = missingFor(ctx, subject);
    const image = join(ctx.workDir, `thaw-${subject.key}.ckpt`);
    const rows = Object.entries(THAWERS).map(([thawer, spec]): [ThawerName, Row] => {
      const row = results.row(`thaw/${subject.key}/${thawer}`, {
        section: 'thaw',
        subject: subject.label,
        method: spec.label,
        short: `${spec.short}, ${subject.label}`,
        unit: 'ms',
        vs: [...(thawer === 'cli' ? [`thaw/${subject.key}/native`] : []), ...(subject.mib ? [`thaw/dirty-1M/${thawer}`] : [])],
      });
      if (missing) Results.unavailable(row, missing);
      return [thawer as ThawerName, row];
    });
    if (missing) continue;
    // One image per subject, thawed again for each repetition (a thaw leaves the image as it was).
    try {
      await freezeTo(ctx, subject.kind, image);
    } catch (err) {
      for (const [, row] of rows) Results.unavailable(row, `could not make the image: ${(err as Error).message}`);
      continue;
    }
    try {
      for (let rep = 0; rep < ctx.reps; rep++) {
        for (const [thawer, row] of inRotation(rows, rep)) {
          await results.attempt(row, async () => ({ value: await thawUntilAnswer(ctx, thawer, image, subject.kind) }));
        }
        ctx.progress();
      }
    } finally {
      rmSync(image, { force: true });
    }
  }
}

export async function runRoundTripBench(ctx: BenchContext): Promise<void> {
  const { results, features } = ctx;
  const kinds = subjectKinds(ctx);
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const program of ['bc', 'python3'] as const) {
      const row = results.row(`roundtrip/${program}`, {
        section: 'roundtrip',
        subject: `${program} (variable kept)`,
        method: `freezeProcess + ${THAWERS.cli.label}`,
        unit: 'ms',
        vs: [],
      });
      const missing = features[program].reason ?? features.freezer.reason ?? features.thawer.reason;
      if (missing) Results.unavailable(row, missing);
      await results.attempt(row, async () => {
        const image = join(ctx.workDir, `roundtrip-${program}.ckpt`);
        try {
          const freezeMs = await freezeTo(ctx, kinds[program], image);
          const thawMs = await thawUntilAnswer(ctx, 'cli', image, kinds[program]);
          return { value: freezeMs + thawMs, detail: { freezeMs, thawMs } };
        } finally {
          rmSync(image, { force: true });
        }
      });
    }
    ctx.progress();
  }
}
