/**
 * The performance targets (docs/testing.md, "Benchmarks"), checked against the rows
 * measured in the same run. A target whose rows are missing is "not measured" with the reason.
 */
import { Results, type Row } from './results.js';
import { latency } from './stats.js';
import { formatBytes, formatNumber } from './format.js';

const MIB = 1 << 20;

export interface Target {
  id: string;
  text: string;
  /** The row judged, and the row it is judged against (same run). */
  row?: string;
  peer?: string;
  /** null: not measured. */
  pass: boolean | null;
  measured: string;
  value?: number;
  limit?: number;
}

/** "15.8x faster" or, for a ratio under 1, "1.02x slower". */
function speedup(ratio: number): string {
  return ratio >= 1 ? `${formatNumber(ratio)}x faster` : `${formatNumber(1 / ratio)}x slower`;
}

function why(row: Row | undefined, id: string): string {
  if (!row) return `${id} was not run`;
  return row.unavailable ?? (row.failed ? `failed: ${row.failed}` : 'no values');
}

/** Median of a row, or the reason there is none. */
function median(results: Results, id: string): { value: number } | { missing: string } {
  const row = results.get(id);
  const s = Results.summary(row);
  return s ? { value: s.median } : { missing: why(row, id) };
}

interface RatioTarget {
  id: string;
  text: string;
  results: Results;
  numerator: string;
  denominator: string;
  limit: number;
  /** Pass when the ratio is at least the limit (else: at most). */
  atLeast: boolean;
  /** Which side is ckpty's row (the other is its peer): the numerator unless said. */
  judges?: 'numerator' | 'denominator';
  describe(ratio: number): string;
}

function ratioTarget({ id, text, results, numerator, denominator, limit, atLeast, judges, describe }: RatioTarget): Target {
  const a = median(results, numerator);
  const b = median(results, denominator);
  const [row, peer] = judges === 'denominator' ? [denominator, numerator] : [numerator, denominator];
  if ('missing' in a) return { id, text, row, peer, pass: null, measured: `not measured: ${a.missing}` };
  if ('missing' in b) return { id, text, row, peer, pass: null, measured: `not measured: ${b.missing}` };
  const ratio = a.value / b.value;
  const pass = atLeast ? ratio >= limit : ratio <= limit;
  return { id, text, row, peer, value: ratio, limit, pass, measured: describe(ratio) };
}

/**
 * The sizes (MiB) in the ids of the rows matching `pattern` (its group 1) that have
 * values, ascending: a size skipped for want of memory or disk leaves the targets to the
 * sizes measured.
 */
export function sizesIn(results: Results, pattern: RegExp): number[] {
  return [...results.rows.values()]
    .flatMap((row) => {
      const size = pattern.exec(row.id)?.[1];
      return size === undefined || row.values.length === 0 ? [] : [Number(size)];
    })
    .sort((a, b) => a - b);
}

/** The dirty-memory size the `ckpty freeze` rows are judged at: 256 MiB (the target's row) if measured, else the largest. */
export function cliLargeSize(results: Results): number | undefined {
  const sizes = sizesIn(results, /^freeze\/dirty-(\d+)M\/cli$/).filter((mib) => mib > 1);
  return sizes.includes(256) ? 256 : sizes.at(-1);
}

const SMALL_PROGRAM_METHODS = [
  ['key', 10, 'key path (resident freezer)'],
  // "Pressing the key on a small interactive program … at least 10x faster than gcore".
  ['keypress', 10, '^E to status line in `ckpty shell`'],
  ['cli', 3, '`ckpty freeze` CLI'],
] as const;

function smallProgramTargets(results: Results): Target[] {
  return ['bc', 'python3'].flatMap((program) =>
    SMALL_PROGRAM_METHODS.map(([method, limit, label]) =>
      ratioTarget({
        id: `freeze-${program}-${method}`,
        text: `${program}: ${label} ≥ ${limit}x faster than gcore`,
        results,
        numerator: `freeze/${program}/gcore`,
        denominator: `freeze/${program}/${method}`,
        limit,
        atLeast: true,
        judges: 'denominator',
        describe: speedup,
      }),
    ),
  );
}

/** `ckpty freeze PID` of a small process (1 MiB dirty): as bc and python3, ≥ 3x faster than gcore. */
function smallMemoryTarget(results: Results): Target[] {
  return [
    ratioTarget({
      id: 'freeze-dirty-1M-cli',
      text: '1 MiB dirty: `ckpty freeze` CLI ≥ 3x faster than gcore',
      results,
      numerator: 'freeze/dirty-1M/gcore',
      denominator: 'freeze/dirty-1M/cli',
      limit: 3,
      atLeast: true,
      judges: 'denominator',
      describe: speedup,
    }),
  ];
}

/** `ckpty freeze PID` of a large process: faster than gcore, and within 1.2x of dd conv=fsync (the target). */
function cliLargeTargets(results: Results): Target[] {
  const mib = cliLargeSize(results);
  if (!mib) return [];
  const size = formatBytes(mib * MIB);
  return [
    ratioTarget({
      id: 'freeze-large-cli-vs-gcore',
      text: `${size} dirty: \`ckpty freeze\` CLI faster than gcore`,
      results,
      numerator: `freeze/dirty-${mib}M/gcore`,
      denominator: `freeze/dirty-${mib}M/cli`,
      limit: 1,
      atLeast: true,
      judges: 'denominator',
      describe: speedup,
    }),
    ratioTarget({
      id: 'freeze-large-cli-vs-dd',
      text: `${size} dirty: \`ckpty freeze\` CLI within 1.2x of dd conv=fsync`,
      results,
      numerator: `freeze/dirty-${mib}M/cli`,
      denominator: `dd/${mib}M`,
      limit: 1.2,
      atLeast: false,
      describe: (r) => `${formatNumber(r)}x dd`,
    }),
  ];
}

function diskBoundTarget(results: Results): Target[] {
  const largest = sizesIn(results, /^freeze\/dirty-(\d+)M\/key$/).at(-1);
  if (!largest) return [];
  return [
    ratioTarget({
      id: 'freeze-large-vs-dd',
      text: `${formatBytes(largest * MIB)} dirty: key-path freeze within 1.2x of dd conv=fsync`,
      results,
      numerator: `freeze/dirty-${largest}M/key`,
      denominator: `dd/${largest}M`,
      limit: 1.2,
      atLeast: false,
      describe: (r) => `${formatNumber(r)}x dd`,
    }),
  ];
}

/** Image ≤ dirty memory + 1 MiB, for every subject frozen through the key path (worst repetition). */
function imageSizeTargets(results: Results): Target[] {
  const targets: Target[] = [];
  for (const row of results.rows.values()) {
    const m = /^freeze\/(.+)\/key$/.exec(row.id);
    if (!m) continue;
    const id = `image-size-${m[1]}`;
    const text = `${row.subject}: image ≤ dirty memory + 1 MiB`;
    const dirtyBytes = row.details.flatMap((d) => ('dirtyBytes' in d ? [d.dirtyBytes] : []));
    if (row.sizes.length === 0 || dirtyBytes.length !== row.sizes.length) {
      targets.push({ id, text, pass: null, measured: `not measured: ${why(row, row.id)}` });
      continue;
    }
    const excess = Math.max(...row.sizes.map((size, i) => size - (dirtyBytes[i] ?? 0)));
    targets.push({
      id,
      text,
      value: excess,
      limit: MIB,
      pass: excess <= MIB,
      measured: `${formatBytes(Math.max(...row.sizes))} for ${formatBytes(Math.max(...dirtyBytes))} dirty (${excess >= 0 ? '+' : '-'}${formatBytes(Math.abs(excess))})`,
    });
  }
  return targets;
}

function thawTargets(results: Results): Target[] {
  // What the CLI adds to the native thawer: the target is at most 2x, on bc.
  const cli = ratioTarget({
    id: 'thaw-bc-cli',
    text: 'bc: `ckpty thaw` until it answers within 2x of the native thawer alone',
    results,
    numerator: 'thaw/bc/cli',
    denominator: 'thaw/bc/native',
    limit: 2,
    atLeast: false,
    describe: (r) => `${formatNumber(r)}x`,
  });
  const sizes = sizesIn(results, /^thaw\/dirty-(\d+)M\/cli$/);
  const [small, large] = [sizes[0], sizes.at(-1)];
  if (sizes.length < 2 || small === undefined || large === undefined) return [cli];
  return [
    cli,
    ratioTarget({
      id: 'thaw-large-vs-small',
      text: `${formatBytes(large * MIB)} image thaws within 2x of a ${formatBytes(small * MIB)} image`,
      results,
      numerator: `thaw/dirty-${large}M/cli`,
      denominator: `thaw/dirty-${small}M/cli`,
      limit: 2,
      atLeast: false,
      describe: (r) => `${formatNumber(r)}x`,
    }),
  ];
}

/** The pairs a session is compared on: the in-process host layer, and the whole program behind a pty. */
const SESSION_PAIRS = [
  ['session', 'node-pty', 'Session (in-process)', 'bare node-pty (in-process)'],
  ['shell', 'relay', '`ckpty shell`', 'a bare node-pty relay process'],
  ['fullscreen', 'relay', 'full-screen `ckpty`', 'a bare node-pty relay process'],
] as const;

function throughputTargets(results: Results): Target[] {
  const aheadOfTmux = ratioTarget({
    id: 'throughput-fullscreen-vs-tmux',
    text: 'full-screen `ckpty` output ahead of tmux',
    results,
    numerator: 'throughput/fullscreen',
    denominator: 'throughput/tmux',
    limit: 1,
    atLeast: true,
    describe: (r) => `${(r * 100).toFixed(0)}% of tmux`,
  });
  return [...SESSION_PAIRS.map(([path, base, label, baseLabel]) =>
    ratioTarget({
      id: `throughput-${path}`,
      text: `${label} output ≥ 90% of ${baseLabel}`,
      results,
      numerator: `throughput/${path}`,
      denominator: `throughput/${base}`,
      limit: 0.9,
      atLeast: true,
      describe: (r) => `${(r * 100).toFixed(0)}%`,
    }),
  ), aheadOfTmux];
}

function keystrokeTargets(results: Results): Target[] {
  return SESSION_PAIRS.map(([path, base, label, baseLabel]) => {
    const id = `keys-${path}`;
    const text = `${label} keystroke p99 < 1 ms over ${baseLabel}`;
    const row = results.get(`keys/${path}`);
    const baseRow = results.get(`keys/${base}`);
    const rows = { row: `keys/${path}`, peer: `keys/${base}` };
    if (!row?.values.length) return { id, text, ...rows, pass: null, measured: `not measured: ${why(row, `keys/${path}`)}` };
    if (!baseRow?.values.length) return { id, text, ...rows, pass: null, measured: `not measured: ${why(baseRow, `keys/${base}`)}` };
    const overhead = latency(row.values).p99 - latency(baseRow.values).p99;
    return { id, text, ...rows, value: overhead, limit: 1, pass: overhead < 1, measured: `${overhead >= 0 ? '+' : ''}${formatNumber(overhead)} ms` };
  });
}

export function evaluateTargets(results: Results): Target[] {
  return [
    ...smallProgramTargets(results),
    ...smallMemoryTarget(results),
    ...cliLargeTargets(results),
    ...diskBoundTarget(results),
    ...imageSizeTargets(results),
    ...thawTargets(results),
    ...throughputTargets(results),
    ...keystrokeTargets(results),
  ].filter((t) => !(t.pass === null && /was not run/.test(t.measured)));
}
