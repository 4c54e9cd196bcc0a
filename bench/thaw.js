/**
 * Issue 8, items 3 and 4: thaw time until the restored program answers, and the
 * freeze → thaw round trip of real programs with their state.
 *  - `ckpty thaw IMAGE` (what a user types; Node's start-up included) and the native
 *    thawer alone (tty/bin/ckpty-thawer), each on a fresh pty as a terminal would run it,
 *  - small programs (bc, python3 holding a variable) and 1 MiB vs 1 GiB of dirty memory.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { availableMemory, CLI, freeDisk } from './lib/context.js';
import { loadFreezeProcess } from './lib/ckpty.js';
import { track } from './lib/cleanup.js';
import { formatBytes } from './lib/format.js';
import { PtyProcess } from './lib/pty.js';
import { inRotation } from './lib/results.js';
import { probe, startSubject, subjectEnv, subjectKinds } from './lib/subjects.js';

const MIB = 1 << 20;

const THAWERS = {
  cli: { label: '`ckpty thaw` (CLI)', feature: 'thawCommand', argv: (image) => [CLI, ['thaw', image]] },
  native: { label: 'ckpty-thawer (native, no Node)', feature: 'thawer', argv: (image, ctx) => [ctx.features.thawer.path, [image]] },
};

/** Thaw IMAGE on a fresh pty and type the probe at once; resolves to the ms until the answer. */
async function thawUntilAnswer(ctx, thawer, image, kind) {
  const [file, args] = THAWERS[thawer].argv(image, ctx);
  const started = performance.now();
  const pty = new PtyProcess(file, args, { cwd: ctx.workDir, env: subjectEnv() });
  try {
    // Typed ahead: the line waits in the terminal until the restored program reads again.
    await probe(pty, kind);
    return performance.now() - started;
  } finally {
    await pty.close();
  }
}

/** Freeze a fresh subject to `image` through the key path; resolves to the freeze's ms. */
async function freezeTo(ctx, kind, image) {
  const pty = await startSubject(ctx, kind);
  try {
    const freeze = await loadFreezeProcess();
    track.path(image);
    const started = performance.now();
    await freeze(pty.pid, { output: image });
    return performance.now() - started;
  } finally {
    await pty.close();
  }
}

function thawSubjects(ctx) {
  const kinds = subjectKinds(ctx);
  const big = ctx.quick ? 64 : 1024;
  return [
    { key: 'bc', label: 'bc', kind: kinds.bc, needs: 'bc' },
    { key: 'python3', label: 'python3', kind: kinds.python3, needs: 'python3' },
    { key: 'dirty-1M', label: '1 MiB dirty', kind: kinds.dirty(1) },
    { key: `dirty-${big}M`, label: `${formatBytes(big * MIB)} dirty`, kind: kinds.dirty(big), mib: big },
  ];
}

function missingFor(ctx, subject) {
  if (!ctx.features.freezeFunction.ok) return `no image to thaw: ${ctx.features.freezeFunction.reason}`;
  if (subject.needs && !ctx.features[subject.needs].ok) return ctx.features[subject.needs].reason;
  if (subject.mib && subject.mib >= 512) {
    if (availableMemory() < 2 * subject.mib * MIB) return `skipped: only ${formatBytes(availableMemory())} of memory available`;
    if (freeDisk(ctx.workDir) < 2 * subject.mib * MIB) return `skipped: only ${formatBytes(freeDisk(ctx.workDir))} free on disk`;
  }
  return undefined;
}

export async function runThawBench(ctx) {
  const { results } = ctx;
  const subjects = thawSubjects(ctx);
  for (const subject of subjects) {
    const missing = missingFor(ctx, subject);
    const image = join(ctx.workDir, `thaw-${subject.key}.ckpt`);
    const rows = Object.entries(THAWERS).map(([thawer, spec]) => {
      const row = results.row(`thaw/${subject.key}/${thawer}`, {
        section: 'thaw',
        subject: subject.label,
        method: spec.label,
        short: 'the 1 MiB image',
        unit: 'ms',
        vs: subject.mib ? [`thaw/dirty-1M/${thawer}`] : [],
      });
      const feature = ctx.features[spec.feature];
      if (missing) results.unavailable(row.id, {}, missing);
      else if (!feature.ok) results.unavailable(row.id, {}, feature.reason);
      return [thawer, row];
    });
    if (rows.every(([, row]) => row.unavailable)) continue;
    // One image per subject, thawed again for each repetition (a thaw leaves the image as it was).
    try {
      await freezeTo(ctx, subject.kind, image);
    } catch (err) {
      for (const [, row] of rows) results.unavailable(row.id, {}, `could not make the image: ${err.message}`);
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

export async function runRoundTripBench(ctx) {
  const { results } = ctx;
  const kinds = subjectKinds(ctx);
  const thawer = ctx.features.thawCommand.ok ? 'cli' : 'native';
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const program of ['bc', 'python3']) {
      const row = results.row(`roundtrip/${program}`, {
        section: 'roundtrip',
        subject: `${program} (variable kept)`,
        method: `freezeProcess + ${THAWERS[thawer].label}`,
        unit: 'ms',
        vs: [],
      });
      if (!ctx.features[program].ok) results.unavailable(row.id, {}, ctx.features[program].reason);
      if (!ctx.features.freezeFunction.ok) results.unavailable(row.id, {}, ctx.features.freezeFunction.reason);
      if (!ctx.features[THAWERS[thawer].feature].ok) results.unavailable(row.id, {}, ctx.features[THAWERS[thawer].feature].reason);
      await results.attempt(row, async () => {
        const image = join(ctx.workDir, `roundtrip-${program}.ckpt`);
        try {
          const freezeMs = await freezeTo(ctx, kinds[program], image);
          const thawMs = await thawUntilAnswer(ctx, thawer, image, kinds[program]);
          return { value: freezeMs + thawMs, detail: { freezeMs, thawMs } };
        } finally {
          rmSync(image, { force: true });
        }
      });
    }
    ctx.progress();
  }
}
