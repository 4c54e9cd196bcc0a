/**
 * The performance targets of DESIGN.md / issue 8, checked against the rows measured in
 * the same run. A target whose rows are missing is "not measured" with the reason.
 */
import { Results } from './results.js';
import { latency } from './stats.js';
import { formatBytes, formatNumber } from './format.js';

const MIB = 1 << 20;

/** "15.8x faster" or, for a ratio under 1, "1.02x slower". */
function speedup(ratio) {
  return ratio >= 1 ? `${formatNumber(ratio)}x faster` : `${formatNumber(1 / ratio)}x slower`;
}

function why(row, id) {
  if (!row) return `${id} was not run`;
  return row.unavailable ?? (row.failed ? `failed: ${row.failed}` : 'no values');
}

/** Median of a row, or the reason there is none. */
function median(results, id) {
  const row = results.get(id);
  const s = Results.summary(row);
  return s ? { value: s.median } : { missing: why(row, id) };
}

function ratioTarget({ id, text, results, numerator, denominator, limit, atLeast, describe }) {
  const a = median(results, numerator);
  const b = median(results, denominator);
  if (a.missing || b.missing) return { id, text, pass: null, measured: `not measured: ${a.missing ?? b.missing}` };
  const ratio = a.value / b.value;
  const pass = atLeast ? ratio >= limit : ratio <= limit;
  return { id, text, value: ratio, limit, pass, measured: describe(ratio) };
}

/** The dirty-memory subjects measured, largest first. */
function dirtySizes(results) {
  return [...results.rows.keys()]
    .map((id) => /^freeze\/dirty-(\d+)M\/key$/.exec(id)?.[1])
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => b - a);
}

function smallProgramTargets(results) {
  const targets = [];
  for (const program of ['bc', 'python3']) {
    for (const [method, limit, label] of [
      ['key', 10, 'key path (freezeProcess)'],
      // DESIGN.md: "pressing the key on a small interactive program … at least 10x faster than gcore".
      ['keypress', 10, '^E to status line in `ckpty shell`'],
      ['cli', 3, '`ckpty freeze` CLI'],
    ]) {
      targets.push(
        ratioTarget({
          id: `freeze-${program}-${method}`,
          text: `${program}: ${label} ≥ ${limit}x faster than gcore`,
          results,
          numerator: `freeze/${program}/gcore`,
          denominator: `freeze/${program}/${method}`,
          limit,
          atLeast: true,
          describe: speedup,
        }),
      );
    }
  }
  return targets;
}

function diskBoundTarget(results) {
  const largest = dirtySizes(results)[0];
  if (!largest) return [];
  const size = formatBytes(largest * MIB);
  return [
    ratioTarget({
      id: 'freeze-large-vs-dd',
      text: `${size} dirty: key-path freeze within 1.2x of dd conv=fsync`,
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
function imageSizeTargets(results) {
  const targets = [];
  for (const row of results.rows.values()) {
    const m = /^freeze\/(.+)\/key$/.exec(row.id);
    if (!m) continue;
    const id = `image-size-${m[1]}`;
    const text = `${row.subject}: image ≤ dirty memory + 1 MiB`;
    if (row.sizes.length === 0) {
      targets.push({ id, text, pass: null, measured: `not measured: ${why(row, row.id)}` });
      continue;
    }
    const excess = Math.max(...row.sizes.map((size, i) => size - row.details[i].dirtyBytes));
    const dirty = Math.max(...row.details.map((d) => d.dirtyBytes));
    targets.push({
      id,
      text,
      value: excess,
      limit: MIB,
      pass: excess <= MIB,
      measured: `${formatBytes(Math.max(...row.sizes))} for ${formatBytes(dirty)} dirty (${excess >= 0 ? '+' : '-'}${formatBytes(Math.abs(excess))})`,
    });
  }
  return targets;
}

function thawTargets(results) {
  const sizes = [...results.rows.keys()]
    .map((id) => /^thaw\/dirty-(\d+)M\/cli$/.exec(id)?.[1])
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
  if (sizes.length < 2) return [];
  const [small, large] = [sizes[0], sizes[sizes.length - 1]];
  return [
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
];

function throughputTargets(results) {
  return SESSION_PAIRS.map(([path, base, label, baseLabel]) =>
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
  );
}

function keystrokeTargets(results) {
  return SESSION_PAIRS.map(([path, base, label, baseLabel]) => {
    const id = `keys-${path}`;
    const text = `${label} keystroke p99 < 1 ms over ${baseLabel}`;
    const row = results.get(`keys/${path}`);
    const baseRow = results.get(`keys/${base}`);
    if (!row?.values.length || !baseRow?.values.length) {
      return { id, text, pass: null, measured: `not measured: ${row?.values.length ? why(baseRow, `keys/${base}`) : why(row, `keys/${path}`)}` };
    }
    const overhead = latency(row.values).p99 - latency(baseRow.values).p99;
    return { id, text, value: overhead, limit: 1, pass: overhead < 1, measured: `${overhead >= 0 ? '+' : ''}${formatNumber(overhead)} ms` };
  });
}

export function evaluateTargets(results) {
  return [
    ...smallProgramTargets(results),
    ...diskBoundTarget(results),
    ...imageSizeTargets(results),
    ...thawTargets(results),
    ...throughputTargets(results),
    ...keystrokeTargets(results),
  ].filter((t) => !(t.pass === null && /was not run/.test(t.measured)));
}
