/**
 * Issue 8, items 1 and 2: freeze time and image size.
 *  - ckpty's freezer as the session host calls it (freezeProcess: the key path),
 *  - the `ckpty freeze` command (Node's start-up included),
 *  - `gcore` on an identical process, and `dd … conv=fsync` of the same size to the
 *    same filesystem,
 * for bc, python3, 1 MiB / 256 MiB / 1 GiB of dirty anonymous memory, a large file
 * mapping of which little was read, and a large allocation never touched.
 */
import { closeSync, existsSync, fsyncSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { availableMemory, CLI, freeDisk } from './lib/context.js';
import { loadFreezeProcess } from './lib/ckpty.js';
import { runChecked } from './lib/child.js';
import { formatBytes } from './lib/format.js';
import { findDescendant, waitBlocked } from './lib/proc.js';
import { PtyProcess } from './lib/pty.js';
import { dirtyBytes, setUp, startSubject, subjectEnv, subjectKinds } from './lib/subjects.js';
import { track } from './lib/cleanup.js';
import { inRotation } from './lib/results.js';

const MIB = 1 << 20;

/** The subjects of this run: { key, label, kind, mib (dirty memory it makes, for dd and the disk check) }. */
export function freezeSubjects(ctx) {
  const kinds = subjectKinds(ctx);
  const sizes = ctx.quick ? [1, 64] : [1, 256, 1024];
  const big = ctx.quick ? 64 : 1024;
  return [
    { key: 'bc', label: 'bc', kind: kinds.bc, needs: 'bc' },
    { key: 'python3', label: 'python3', kind: kinds.python3, needs: 'python3' },
    ...sizes.map((mib) => ({ key: `dirty-${mib}M`, label: `${formatBytes(mib * MIB)} dirty`, kind: kinds.dirty(mib), mib })),
    {
      key: `mapfile-${ctx.mapFileMib}M`,
      label: `${formatBytes(ctx.mapFileMib * MIB)} file map, 1 MiB read`,
      kind: kinds.mapfile(ctx.mapFile, 1),
    },
    { key: `untouched-${big}M`, label: `${formatBytes(big * MIB)} never touched`, kind: kinds.untouched(big) },
  ];
}

/** Is there room for this subject: its memory, and an image plus a gcore file of that size on disk? */
function roomFor(ctx, subject) {
  if (!subject.mib || subject.mib < 512) return undefined;
  const bytes = subject.mib * MIB;
  const memory = availableMemory();
  if (memory < 2 * bytes + 512 * MIB) return `skipped: ${formatBytes(memory)} of memory available, needs ${formatBytes(2 * bytes + 512 * MIB)}`;
  const disk = freeDisk(ctx.workDir);
  if (disk < 3 * bytes) return `skipped: ${formatBytes(disk)} free on ${ctx.workDir}, needs ${formatBytes(3 * bytes)}`;
  return undefined;
}

/** The ways a subject is frozen: each takes a running subject and an output path prefix. */
const METHODS = {
  key: {
    label: 'ckpty key path (freezeProcess)',
    feature: 'freezeFunction',
    async freeze(pid, out) {
      const freezeProcess = await loadFreezeProcess();
      const started = performance.now();
      const result = await freezeProcess(pid, { output: out, honourCoreLimit: true });
      const ms = performance.now() - started;
      return { ms, path: out, stored: result.storedBytes, seizedMs: result.seizedMs };
    },
  },
  cli: {
    label: 'ckpty freeze (CLI)',
    feature: 'freezeCommand',
    async freeze(pid, out) {
      const run = await runChecked(CLI, ['freeze', String(pid), '-o', out, '--json']);
      const result = JSON.parse(run.stdout);
      return { ms: run.ms, path: out, stored: result.storedBytes, seizedMs: result.seizedMs };
    },
  },
  gcore: {
    label: 'gcore',
    feature: 'gcore',
    async freeze(pid, out) {
      const run = await runChecked('gcore', ['-o', out, String(pid)]);
      // gcore names its file PREFIX.PID.
      return { ms: run.ms, path: `${out}.${pid}` };
    },
  },
};

export async function runFreezeBench(ctx) {
  const { results } = ctx;
  const subjects = freezeSubjects(ctx);
  prepareMapFile(ctx);
  const rowOf = (subject, method) =>
    results.row(`freeze/${subject.key}/${method}`, {
      section: 'freeze',
      subject: subject.label,
      method: METHODS[method].label,
      unit: 'ms',
      // Baselines: the ratio column of the table.
      vs: method === 'gcore' ? [] : [`freeze/${subject.key}/gcore`, ...(subject.mib ? [`dd/${subject.mib}M`] : [])],
    });
  const keypressRow = (subject) =>
    results.row(`freeze/${subject.key}/keypress`, {
      section: 'freeze',
      subject: subject.label,
      method: '^E in `ckpty shell` → status line',
      unit: 'ms',
      vs: [`freeze/${subject.key}/gcore`],
    });
  for (const subject of subjects) {
    const skip = (subject.needs && !ctx.features[subject.needs].ok && ctx.features[subject.needs].reason) || roomFor(ctx, subject);
    for (const method of Object.keys(METHODS)) {
      const row = rowOf(subject, method);
      const feature = ctx.features[METHODS[method].feature];
      if (skip) results.unavailable(row.id, {}, skip);
      else if (!feature.ok) results.unavailable(row.id, {}, feature.reason);
    }
    if (subject.needs) {
      const row = keypressRow(subject);
      const missing = [ctx.features[subject.needs], ctx.features.shellCommand, ctx.features.freezeFunction].find((f) => !f.ok);
      if (missing) results.unavailable(row.id, {}, missing.reason);
    }
    if (subject.mib) {
      const ddRow = results.row(`dd/${subject.mib}M`, {
        section: 'freeze',
        subject: subject.label,
        method: `dd bs=1M count=${subject.mib} conv=fsync`,
        short: 'dd',
        unit: 'ms',
        vs: [],
      });
      if (skip) results.unavailable(ddRow.id, {}, skip);
      else if (!ctx.features.dd.ok) results.unavailable(ddRow.id, {}, ctx.features.dd.reason);
    }
  }

  const startupRows = startupCommands().map(([key, method]) =>
    results.row(`startup/${key}`, { section: 'freeze', subject: 'start-up only', method, unit: 'ms', vs: [] }),
  );
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const [i, [, , [file, argv]]] of startupCommands().entries()) {
      await results.attempt(startupRows[i], async () => ({ value: (await runChecked(file, argv)).ms }));
    }
    for (const subject of subjects) {
      for (const method of inRotation(Object.keys(METHODS), rep)) {
        const row = rowOf(subject, method);
        await results.attempt(row, () => freezeOnce(ctx, subject, method));
      }
      if (subject.needs) await results.attempt(keypressRow(subject), () => keypressOnce(ctx, subject));
      if (subject.mib) await results.attempt(results.get(`dd/${subject.mib}M`), () => ddOnce(ctx, subject.mib));
      ctx.progress();
    }
  }
}

/**
 * The key itself: bc or python3 as the foreground job of a shell in `ckpty shell`, ^E
 * typed at the outer terminal, timed until the status line is out. This is the key path
 * end to end: the host's input layer, its choice of the job, freezeProcess, the status line.
 */
async function keypressOnce(ctx, subject) {
  const image = join(ctx.workDir, `keypress-${subject.key}.ckpt`);
  track.path(image);
  // `launch`: the shell and its jobs must not inherit this process's descriptors.
  const shell = new PtyProcess(ctx.fixtures.launch, [CLI, 'shell', '--name-template', basename(image), '--', 'sh', '-i'], {
    cwd: ctx.workDir,
    env: { ...subjectEnv(), PS1: 'bench$ ' },
  });
  try {
    await shell.expect('bench$ ', { timeoutMs: 30_000 });
    shell.write(`${subject.kind.argv.join(' ')}\n`);
    await setUp(shell, subject.kind);
    await waitBlocked(await findDescendant(shell.pid, basename(subject.kind.argv[0])));
    const since = shell.mark;
    const started = performance.now();
    shell.write('\x05');
    const end = await shell.expect(/ckpt: [^\r\n]*(\)|not frozen: [^\r\n]*)/, { since });
    const ms = performance.now() - started;
    const status = shell.text.slice(Math.max(0, since - shell.base), end - shell.base).replace(/^[^]*ckpt: /, 'ckpt: ');
    if (!status.startsWith('ckpt: froze')) throw new Error(status);
    return { value: ms, size: statSync(image).size, detail: { status } };
  } finally {
    await shell.close();
    rmSync(image, { force: true });
  }
}

/** What the CLI pays before it freezes anything: Node itself, and ckpty's command line. */
function startupCommands() {
  return [
    ['node', "node -e ''", [process.execPath, ['-e', '']]],
    ['ckpty', 'ckpty --version', [CLI, ['--version']]],
  ];
}

/** Start the subject, freeze it one way, measure, and remove everything it left. */
async function freezeOnce(ctx, subject, method) {
  const pty = await startSubject(ctx, subject.kind);
  const out = join(ctx.workDir, `${subject.key}-${method}.ckpt`);
  let path;
  try {
    const dirty = dirtyBytes(pty.pid);
    const frozen = await METHODS[method].freeze(pty.pid, out);
    path = frozen.path;
    track.path(path);
    const st = statSync(path);
    return {
      value: frozen.ms,
      size: st.size,
      detail: { dirtyBytes: dirty, allocatedBytes: st.blocks * 512, storedBytes: frozen.stored, seizedMs: frozen.seizedMs },
    };
  } finally {
    await pty.close();
    if (path) rmSync(path, { force: true });
    rmSync(out, { force: true });
  }
}

async function ddOnce(ctx, mib) {
  const out = join(ctx.workDir, 'dd.bin');
  track.path(out);
  try {
    const run = await runChecked('dd', ['if=/dev/zero', `of=${out}`, 'bs=1M', `count=${mib}`, 'conv=fsync', 'status=none']);
    return { value: run.ms, size: statSync(out).size };
  } finally {
    rmSync(out, { force: true });
  }
}

/** The large file the mapfile subject maps: real bytes (not a hole), written once per run. */
function prepareMapFile(ctx) {
  if (existsSync(ctx.mapFile)) return;
  const chunk = Buffer.alloc(MIB, 'ckpty bench mapped file\n');
  track.path(ctx.mapFile);
  writeFileSync(ctx.mapFile, '');
  for (let i = 0; i < ctx.mapFileMib; i++) writeFileSync(ctx.mapFile, chunk, { flag: 'a' });
  // Written back now: page-cache pages still dirty would count as the subject's dirty memory.
  const fd = openSync(ctx.mapFile, 'r');
  fsyncSync(fd);
  closeSync(fd);
}
