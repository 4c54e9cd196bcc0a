/**
 * `npm run bench`: freeze, thaw, image size and terminal overhead of ckpty, side by side
 * with gcore, dd, bare node-pty and tmux measured in the same run (docs/testing.md,
 * "Benchmarks"). Prints a table with the targets and writes everything, with a description
 * of the machine, to bench/results/<date>.json.
 *
 *   npm run bench -- [--quick] [--reps N] [--only freeze,thaw,roundtrip,keys,throughput]
 *                    [--out FILE] [--dir DIR] [--previous FILE|none]
 *
 * Each number is printed beside the previous results file's (the newest one in
 * bench/results/ of the same kind: full or --quick), so a path that got slower shows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupNow, installCleanupHandlers } from './lib/cleanup.js';
import { BENCH_DIR, compileFixtures, createWorkDir, detectFeatures, installTmuxIfMissing, useOwnTmpDir, type BenchContext } from './lib/context.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { PreviousResults, Results } from './lib/results.js';
import { renderReport } from './lib/report.js';
import { evaluateTargets } from './lib/targets.js';
import { runFreezeBench } from './freeze.js';
import { runThawBench, runRoundTripBench } from './thaw.js';
import { runKeystrokeBench, runThroughputBench } from './terminal-io.js';

const SECTIONS = {
  freeze: runFreezeBench,
  thaw: runThawBench,
  roundtrip: runRoundTripBench,
  keys: runKeystrokeBench,
  throughput: runThroughputBench,
} satisfies Record<string, (ctx: BenchContext) => Promise<void>>;

type SectionName = keyof typeof SECTIONS;
const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

const isSection = (name: string): name is SectionName => name in SECTIONS;

interface Options {
  quick: boolean;
  reps: number;
  only: SectionName[];
  out: string | undefined;
  dir: string;
  previous: string | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      dir: { type: 'string' },
      previous: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      `usage: npm run bench -- [--quick] [--reps N] [--only ${SECTION_NAMES.join(',')}] [--out FILE] [--dir DIR] [--previous FILE|none]\n` +
        '  --quick  smoke run: 1 repetition, small sizes, no GiB-sized processes (< 30 s)\n' +
        '  --reps   repetitions per figure (default 5)\n' +
        '  --out    results file (default bench/results/<date>.json, <date>-quick.json for --quick)\n' +
        '  --dir    scratch directory parent: images, gcore and dd files go there (default bench/)\n' +
        '  --previous  results file whose numbers are printed beside this run\'s (default: the newest of\n' +
        '           bench/results/ of the same kind, full or --quick; none: no such column)\n',
    );
    process.exit(0);
  }
  const only = values.only ? values.only.split(',') : SECTION_NAMES;
  const unknown = only.find((name) => !isSection(name));
  if (unknown !== undefined) throw new Error(`--only: unknown section '${unknown}' (${SECTION_NAMES.join(', ')})`);
  const reps = values.reps ? Number(values.reps) : values.quick ? 1 : 5;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps: '${values.reps}' is not a positive integer`);
  return { quick: values.quick, reps, only: only.filter(isSection), out: values.out, dir: values.dir ?? BENCH_DIR, previous: values.previous };
}

/** The results this run is compared with: --previous, or the newest of the same kind; none for `--previous none`. */
function previousResults(options: Options, out: string): PreviousResults | undefined {
  if (options.previous === 'none') return undefined;
  const file = options.previous ?? PreviousResults.newest(join(BENCH_DIR, 'results'), options.quick, out);
  return file ? PreviousResults.load(file) : undefined;
}

function resultsPath(quick: boolean): string {
  // 2026-05-01T14-03: sortable, one file per run, no colons in file names. Smoke runs are
  // marked (and git-ignored): their numbers are not worth keeping.
  const stamp = new Date().toISOString().slice(0, 16).replace(':', '-');
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  return join(BENCH_DIR, 'results', `${stamp}${quick ? '-quick' : ''}.json`);
}

async function main(): Promise<void> {
  const options = parseOptions();
  installCleanupHandlers();
  const started = performance.now();
  const workDir = createWorkDir(options.dir);
  useOwnTmpDir();
  const machine = describeMachine(options.dir);
  // A smoke run (the test suite's) changes nothing on the machine.
  if (!options.quick && options.only.some((s) => s === 'keys' || s === 'throughput')) installTmuxIfMissing();
  process.stdout.write(`machine: ${machineLine(machine)}\n`);
  const ctx: BenchContext = {
    quick: options.quick,
    reps: options.reps,
    workDir,
    features: detectFeatures(),
    fixtures: compileFixtures(workDir),
    results: new Results(),
    mapFileMib: options.quick ? 32 : 512,
    mapFile: join(workDir, 'mapped.bin'),
    throughputMib: options.quick ? 8 : 200,
    progress: () => process.stderr.write('.'),
  };
  for (const name of options.only) {
    process.stderr.write(`${name} `);
    await SECTIONS[name](ctx);
    process.stderr.write('\n');
  }
  const targets = evaluateTargets(ctx.results);
  const elapsed = (performance.now() - started) / 1000;
  machine.loadAverageAtEnd = loadavg();
  const out = options.out ?? resultsPath(options.quick);
  const previous = previousResults(options, out);
  const report = renderReport({ results: ctx.results, targets, machine, options, elapsed, previous });
  process.stdout.write(`${report}\n`);
  const json = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    options,
    previous: previous?.file,
    elapsedSeconds: elapsed,
    machine,
    features: ctx.features,
    rows: ctx.results.toJSON(),
    targets,
  };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`results: ${out}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  cleanupNow();
}
