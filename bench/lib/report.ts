/**
 * The printed report: the headline table (the targets' paths with their peers and
 * targets), one table per section with the previous results file's number beside each
 * row, then every target with pass/miss.
 */
import { PreviousResults, Results, type Row, type RowMeta } from './results.js';
import { renderHeadline, valueText } from './headline.js';
import { latency, summarize } from './stats.js';
import { formatBytes, formatMs, formatNumber, formatRatio, renderTable } from './format.js';
import { loadLine, machineLine, type Machine } from './machine.js';
import type { Target } from './targets.js';

const SECTION_TITLES: Record<RowMeta['section'], string> = {
  freeze: 'Freeze: time until the image is on disk (ckpty and dd fsync, gcore does not); size of the file',
  thaw: 'Thaw: time from starting the thaw until the restored program answers a typed line',
  roundtrip: 'Round trip: freeze (key path) + thaw until the program answers with its state',
  keys: 'Keystroke round trip: byte typed until its echo comes back (p50 / p99 of all samples)',
  throughput: 'Output throughput: cat of a file until its last byte is on the outer terminal',
};

function unavailableText(row: Row): string {
  if (row.unavailable) return `not available: ${row.unavailable}`;
  if (row.failed) return `failed: ${row.failed}`;
  return 'no values';
}

/** "12.3 ms [11.8–14.0]" style cells for one row. */
function valueCells(row: Row): string[] {
  if (row.kind === 'latency') {
    const l = latency(row.values);
    const runs = summarize(row.details.flatMap((d) => ('p50' in d ? [d.p50] : [])));
    return [`${formatNumber(l.p50)} / ${formatNumber(l.p99)} ms`, `${formatNumber(runs.min)}–${formatNumber(runs.max)}`, String(l.n)];
  }
  const s = summarize(row.values);
  if (row.kind === 'throughput') return [`${formatNumber(s.median)} MiB/s`, `${formatNumber(s.min)}–${formatNumber(s.max)}`, String(s.n)];
  return [formatMs(s.median), `${formatNumber(s.min)}–${formatNumber(s.max)}`, String(s.n)];
}

function compareCell(results: Results, row: Row): string {
  const parts: string[] = [];
  for (const id of row.vs) {
    const base = results.get(id);
    const baseSummary = Results.summary(base);
    const rowSummary = Results.summary(row);
    if (!base || !baseSummary || !rowSummary) continue;
    const name = base.short ?? base.method;
    if (row.kind === 'latency') {
      const diff = latency(row.values).p99 - latency(base.values).p99;
      parts.push(`p99 ${diff >= 0 ? '+' : ''}${formatNumber(diff)} ms vs ${name}`);
    } else {
      parts.push(formatRatio(rowSummary.median / baseSummary.median, name, row.kind === 'throughput'));
    }
  }
  return parts.join('; ');
}

function sectionTable(results: Results, section: RowMeta['section'], previous: PreviousResults | undefined): string | undefined {
  const rows = [...results.rows.values()].filter((r) => r.section === section);
  if (rows.length === 0) return undefined;
  const body = rows.map((row) => {
    const before = previous?.get(row.id);
    const was = before ? valueText(before) : '';
    // Why not: in the last column, which is not padded (the reasons are long).
    if (row.values.length === 0) return [row.subject, row.method, '', '', '', was, '', unavailableText(row)];
    const size = row.sizes.length > 0 ? formatBytes(summarize(row.sizes).median) : '';
    const [median = '', spread = '', n = ''] = valueCells(row);
    return [row.subject, row.method, median, spread, n, was, size, compareCell(results, row)];
  });
  const header = ['subject', 'how', 'median', 'spread', 'n', 'previous', 'size', 'compared in this run'];
  if (section === 'keys') header.splice(2, 2, 'p50 / p99', "runs' p50");
  return `${SECTION_TITLES[section]}\n${renderTable(header, body)}`;
}

export function renderTargets(targets: readonly Target[]): string {
  const verdict = (t: Target): string => (t.pass === null ? 'n/a' : t.pass ? 'pass' : 'MISS');
  return renderTable(
    ['target', 'measured', 'result'],
    targets.map((t) => [t.text, t.measured, verdict(t)]),
  );
}

export interface ReportInput {
  results: Results;
  targets: readonly Target[];
  machine: Machine;
  options: { quick: boolean; reps: number };
  elapsed: number;
  previous: PreviousResults | undefined;
}

export function renderReport({ results, targets, machine, options, elapsed, previous }: ReportInput): string {
  const parts = [
    `ckpty bench ${new Date().toISOString().slice(0, 16).replace('T', ' ')}${options.quick ? ' (--quick)' : ''}, ` +
      `${options.reps} repetition${options.reps === 1 ? '' : 's'}, ${elapsed.toFixed(0)} s, ${loadLine(machine)}`,
    `machine: ${machineLine(machine)}`,
  ];
  const headline = renderHeadline(results, targets, previous);
  if (headline) parts.push(headline);
  for (const section of Object.keys(SECTION_TITLES) as RowMeta['section'][]) {
    const table = sectionTable(results, section, previous);
    if (table) parts.push(table);
  }
  parts.push(`Targets\n${renderTargets(targets)}`);
  return parts.join('\n\n');
}
