/**
 * Freeze time and image size (docs/testing.md, "Benchmarks"):
 *  - ckpty's freezer as the session host calls it on the key (freezeProcess through a
 *    resident freezer, started before the first freeze as a session starts it),
 *  - the `ckpty freeze` command (Node's start-up included),
 *  - `gcore` on an identical process, and `dd … conv=fsync` of the same size to the
 *    same filesystem,
 * for bc, python3, a 4-thread program, a 3-process pipeline (a job: gcore gets all its
 * processes), 1 MiB / 256 MiB / 1 GiB of dirty anonymous memory, a large file mapping of
 * which little was read, and a large allocation never touched.
 */
import { closeSync, existsSync, fsyncSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { availableMemory, CLI, freeDisk, type BenchContext, type Features } from './lib/context.js';
import { freezeProcess, ResidentFreezer } from './lib/ckpty.js';
import { runChecked } from './lib/child.js';
import { formatBytes } from './lib/format.js';
import { findDescendant, groupMembers, waitBlocked } from './lib/proc.js';
import { PtyProcess } from './lib/pty.js';
import { dirtyBytes, setUp, startSubject, subjectEnv, subjectKinds, type SubjectKind } from './lib/subjects.js';
import { track } from './lib/cleanup.js';
import { inRotation, Results, type Measurement, type Row } from './lib/results.js';

const MIB = 1 << 20;

interface FreezeSubject {
  key: string;
  label: string;
  kind: SubjectKind;
  /** The tool the subject is (its rows say so when it is missing). */
  needs?: 'bc' | 'python3';
  /** Dirty memory it makes: for dd, and the disk and memory check. */
  mib?: number;
}

/** The subjects of this run. */
export function freezeSubjects(ctx: BenchContext): FreezeSubject[] {
  const kinds = subjectKinds(ctx);
  const sizes = ctx.quick ? [1, 64] : [1, 256, 1024];
  const big = ctx.quick ? 64 : 1024;
  return [
    { key: 'bc', label: 'bc', kind: kinds.bc, needs: 'bc' },
    { key: 'python3', label: 'python3', kind: kinds.python3, needs: 'python3' },
    { key: 'threads-4', label: '4-thread program', kind: kinds.threads(4) },
    { key: 'pipeline-3', label: '3-process pipeline', kind: kinds.pipeline(3) },
    ...sizes.map((mib) => ({ key: `dirty-${mib}M`, label: `${formatBytes(mib * MIB)} dirty`, kind: kinds.dirty(mib), mib })),
    {
      key: `mapfile-${ctx.mapFileMib}M`,
      label: `${formatBytes(ctx.mapFileMib * MIB)} file map, 1 MiB read`,
      kind: kinds.mapfile(ctx.mapFile, 1),
    },
    { key: `untouched-${big}M`, label: `${formatBytes(big * MIB)} never touched`, kind: kinds.untouched(big) },
  ];
}

/** Why there is no room for this subject (its memory, an image plus a gcore file on disk), or undefined. */
function noRoomFor(ctx: BenchContext, subject: FreezeSubject): string | undefined {
  if (!subject.mib || subject.mib < 512) return undefined;
  const bytes = subject.mib * MIB;
  const memory = availableMemory();
  if (memory < 2 * bytes + 512 * MIB) return `skipped: ${formatBytes(memory)} of memory available, needs ${formatBytes(2 * bytes + 512 * MIB)}`;
  const disk = freeDisk(ctx.workDir);
  if (disk < 3 * bytes) return `skipped: ${formatBytes(disk)} free on ${ctx.workDir}, needs ${formatBytes(3 * bytes)}`;
  return undefined;
}

interface Frozen {
  ms: number;
  /** The image files (gcore writes one per process). */
  paths: string[];
  stored?: number;
  seizedMs?: number;
}

interface FreezeMethod {
  label: string;
  needs: keyof Features;
  /** Freeze the subject `pid`, whose processes are `members` (pid first), to `out`. */
  freeze(pid: number, out: string, members: readonly number[]): Promise<Frozen>;
}

/** The key path's freezer: a session starts one when it starts, and each key is a request to it. */
const resident = new ResidentFreezer();

/** The ways a subject is frozen: each takes a running subject and an output path. */
const METHODS = {
  key: {
    label: 'ckpty key path (resident freezer)',
    needs: 'freezer',
    async freeze(pid, out) {
      const started = performance.now();
      const result = await freezeProcess(pid, { output: out, honourCoreLimit: true }, resident);
      const ms = performance.now() - started;
      return { ms, paths: [out], stored: result.storedBytes, seizedMs: result.seizedMs };
    },
  },
  cli: {
    label: 'ckpty freeze (CLI)',
    needs: 'freezer',
    async freeze(pid, out) {
      const run = await runChecked(CLI, ['freeze', String(pid), '-o', out, '--json']);
      const result = JSON.parse(run.stdout) as { storedBytes: number; seizedMs: number };
      return { ms: run.ms, paths: [out], stored: result.storedBytes, seizedMs: result.seizedMs };
    },
  },
  gcore: {
    label: 'gcore',
    needs: 'gcore',
    async freeze(_pid, out, members) {
      // Every process of the subject in one gcore (one gdb), as ckpty freezes the job at once.
      const run = await runChecked('gcore', ['-o', out, ...members.map(String)]);
      // gcore names its files PREFIX.PID.
      return { ms: run.ms, paths: members.map((member) => `${out}.${member}`) };
    },
  },
} satisfies Record<string, FreezeMethod>;

type MethodName = keyof typeof METHODS;
const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

export async function runFreezeBench(ctx: BenchContext): Promise<void> {
  const { results, features } = ctx;
  const subjects = freezeSubjects(ctx);
  prepareMapFile(ctx);
  const rowOf = (subject: FreezeSubject, method: MethodName): Row =>
    results.row(`freeze/${subject.key}/${method}`, {
      section: 'freeze',
      subject: subject.label,
      method: METHODS[method].label,
      unit: 'ms',
      // Baselines: the ratio column of the table.
      vs: method === 'gcore' ? [] : [`freeze/${subject.key}/gcore`, ...(subject.mib ? [`dd/${subject.mib}M`] : [])],
    });
  const keypressRow = (subject: FreezeSubject): Row =>
    results.row(`freeze/${subject.key}/keypress`, {
      section: 'freeze',
      subject: subject.label,
      method: '^E in `ckpty shell` → status line',
      unit: 'ms',
      vs: [`freeze/${subject.key}/gcore`],
    });
  const ddRow = (mib: number): Row =>
    results.row(`dd/${mib}M`, {
      section: 'freeze',
      subject: `${formatBytes(mib * MIB)} dirty`,
      method: `dd bs=1M count=${mib} conv=fsync`,
      short: 'dd',
      unit: 'ms',
      vs: [],
    });
  for (const subject of subjects) {
    const skip = (subject.needs && features[subject.needs].reason) || noRoomFor(ctx, subject);
    for (const method of METHOD_NAMES) {
      const row = rowOf(subject, method);
      const reason = skip || features[METHODS[method].needs].reason;
      if (reason) Results.unavailable(row, reason);
    }
    if (subject.needs) {
      const row = keypressRow(subject);
      const reason = features[subject.needs].reason ?? features.freezer.reason;
      if (reason) Results.unavailable(row, reason);
    }
    if (subject.mib) {
      const row = ddRow(subject.mib);
      const reason = skip || features.dd.reason;
      if (reason) Results.unavailable(row, reason);
    }
  }

  const startupRows = STARTUP_COMMANDS.map(([key, method]) =>
    results.row(`startup/${key}`, { section: 'freeze', subject: 'start-up only', method, unit: 'ms', vs: [] }),
  );
  // The key path's freezer runs for the whole bench, as a session's runs for the session.
  if (!features.freezer.reason) resident.start();
  try {
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const [i, [, , file, argv]] of STARTUP_COMMANDS.entries()) {
        await results.attempt(startupRows[i]!, async () => ({ value: (await runChecked(file, [...argv])).ms }));
      }
      for (const subject of subjects) {
        for (const method of inRotation(METHOD_NAMES, rep)) {
          await results.attempt(rowOf(subject, method), () => freezeOnce(ctx, subject, method));
        }
        if (subject.needs) await results.attempt(keypressRow(subject), () => keypressOnce(ctx, subject));
        const { mib } = subject;
        if (mib) await results.attempt(ddRow(mib), () => ddOnce(ctx, mib));
        ctx.progress();
      }
    }
  } finally {
    resident.stop();
  }
}

/** How old a session is when the bench presses its key (see keypressOnce). */
const SESSION_WARM_MS = 1500;

/**
 * The key itself: bc or python3 as the foreground job of a shell in `ckpty shell`, ^E
 * typed at the outer terminal, timed until the status line is out. This is the key path
 * end to end: the host's input layer, its choice of the job, freezeProcess, the status line.
 */
async function keypressOnce(ctx: BenchContext, subject: FreezeSubject): Promise<Measurement> {
  const image = join(ctx.workDir, `keypress-${subject.key}.ckpt`);
  track.path(image);
  // `launch`: the shell and its jobs must not inherit this process's descriptors.
  const shell = new PtyProcess(ctx.fixtures.launch, [CLI, 'shell', '--name-template', basename(image), '--', 'sh', '-i'], {
    cwd: ctx.workDir,
    env: { ...subjectEnv(), PS1: 'bench$ ' },
  });
  const spawned = performance.now();
  try {
    await shell.expect('bench$ ', { timeoutMs: 30_000 });
    shell.write(`${subject.kind.argv.join(' ')}\n`);
    await setUp(shell, subject.kind);
    await waitBlocked(await findDescendant(shell.pid, basename(subject.kind.argv[0] ?? '')));
    // A key pressed in a session's first moments also waits for its screen worker to
    // start (@xterm/headless loading, 50-100 ms here): that is the session's start-up,
    // paid once, not the key's. The key is pressed once the session is SESSION_WARM_MS old.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, spawned + SESSION_WARM_MS - performance.now())));
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
const STARTUP_COMMANDS = [
  ['node', "node -e ''", process.execPath, ['-e', '']],
  ['ckpty', 'ckpty --version', CLI, ['--version']],
] as const;

/** Start the subject, freeze it one way, measure, and remove everything it left. */
async function freezeOnce(ctx: BenchContext, subject: FreezeSubject, method: MethodName): Promise<Measurement> {
  const pty = await startSubject(ctx, subject.kind);
  const out = join(ctx.workDir, `${subject.key}-${method}.ckpt`);
  let paths: string[] = [];
  try {
    const members = groupMembers(pty.pid);
    const dirty = members.reduce((sum, member) => sum + dirtyBytes(member), 0);
    const frozen: Frozen = await METHODS[method].freeze(pty.pid, out, members);
    paths = frozen.paths;
    for (const path of paths) track.path(path);
    const files = paths.map((path) => statSync(path));
    return {
      value: frozen.ms,
      size: files.reduce((sum, st) => sum + st.size, 0),
      detail: {
        dirtyBytes: dirty,
        allocatedBytes: files.reduce((sum, st) => sum + st.blocks * 512, 0),
        storedBytes: frozen.stored,
        seizedMs: frozen.seizedMs,
      },
    };
  } finally {
    await pty.close();
    for (const path of paths) rmSync(path, { force: true });
    rmSync(out, { force: true });
  }
}

async function ddOnce(ctx: BenchContext, mib: number): Promise<Measurement> {
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
function prepareMapFile(ctx: BenchContext): void {
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
