/**
 * The headline table: every path of the performance targets (docs/testing.md, "Benchmarks") (and the thread and job
 * rows of issues 12 and 13) with its peer measured in the same run, the ratio, the
 * previous results file's number, the target and whether it passes.
 */
import { PreviousResults, Results, type Row, type SavedRow } from './results.js';
import { cliLargeSize, sizesIn, type Target } from './targets.js';
import { latency, summarize } from './stats.js';
import { formatBytes, formatMs, formatNumber, renderTable } from './format.js';

const MIB = 1 << 20;

interface Headline {
  /** The path, as the targets' table words it. */
  path: string;
  /** ckpty's row, and its peer's (named so in the table). */
  row: string;
  peer: string;
  peerName: string;
  /** The target judged on these rows; none: the issue sets no target (the numbers are shown). */
  target?: string;
}

/** The headline rows of this run (sizes follow what was measured). */
function headlines(results: Results): Headline[] {
  const rows: Headline[] = [];
  for (const program of ['bc', 'python3']) {
    rows.push({ path: `^E → status line, ${program}`, row: `freeze/${program}/keypress`, peer: `freeze/${program}/gcore`, peerName: 'gcore', target: `freeze-${program}-keypress` });
  }
  for (const program of ['bc', 'python3']) {
    rows.push({ path: `freezer alone (key path), ${program}`, row: `freeze/${program}/key`, peer: `freeze/${program}/gcore`, peerName: 'gcore', target: `freeze-${program}-key` });
  }
  for (const [key, label] of [['bc', 'bc'], ['python3', 'python3'], ['dirty-1M', '1 MiB']] as const) {
    const target = key === 'dirty-1M' ? 'freeze-dirty-1M-cli' : `freeze-${key}-cli`;
    rows.push({ path: `\`ckpty freeze PID\`, ${label}`, row: `freeze/${key}/cli`, peer: `freeze/${key}/gcore`, peerName: 'gcore', target });
  }
  const large = cliLargeSize(results);
  if (large) {
    const path = `\`ckpty freeze PID\`, ${formatBytes(large * MIB)} dirty`;
    rows.push({ path, row: `freeze/dirty-${large}M/cli`, peer: `freeze/dirty-${large}M/gcore`, peerName: 'gcore', target: 'freeze-large-cli-vs-gcore' });
    rows.push({ path, row: `freeze/dirty-${large}M/cli`, peer: `dd/${large}M`, peerName: 'dd conv=fsync', target: 'freeze-large-cli-vs-dd' });
  }
  const largestKey = sizesIn(results, /^freeze\/dirty-(\d+)M\/key$/).at(-1);
  if (largestKey) {
    const path = `freezer alone (key path), ${formatBytes(largestKey * MIB)} dirty`;
    rows.push({ path, row: `freeze/dirty-${largestKey}M/key`, peer: `dd/${largestKey}M`, peerName: 'dd conv=fsync', target: 'freeze-large-vs-dd' });
  }
  rows.push({ path: '`ckpty thaw` until the program answers, bc', row: 'thaw/bc/cli', peer: 'thaw/bc/native', peerName: 'native thawer', target: 'thaw-bc-cli' });
  const thawSizes = sizesIn(results, /^thaw\/dirty-(\d+)M\/cli$/);
  const thawLarge = thawSizes.at(-1);
  if (thawSizes.length >= 2 && thawLarge) {
    rows.push({
      path: `\`ckpty thaw\`, ${formatBytes(thawLarge * MIB)} image`,
      row: `thaw/dirty-${thawLarge}M/cli`,
      peer: `thaw/dirty-${thawSizes[0]}M/cli`,
      peerName: `the ${formatBytes(thawSizes[0]! * MIB)} image`,
      target: 'thaw-large-vs-small',
    });
  }
  rows.push({ path: 'full-screen `ckpty`: cat', row: 'throughput/fullscreen', peer: 'throughput/relay', peerName: 'relay', target: 'throughput-fullscreen' });
  rows.push({ path: 'full-screen `ckpty`: cat', row: 'throughput/fullscreen', peer: 'throughput/tmux', peerName: 'tmux', target: 'throughput-fullscreen-vs-tmux' });
  rows.push({ path: 'full-screen `ckpty`: keystroke p99', row: 'keys/fullscreen', peer: 'keys/relay', peerName: 'relay', target: 'keys-fullscreen' });
  for (const [key, label] of [['threads-4', '4-thread program'], ['pipeline-3', '3-process pipeline']] as const) {
    rows.push({ path: `${label}: freezer alone (key path)`, row: `freeze/${key}/key`, peer: `freeze/${key}/gcore`, peerName: 'gcore' });
    rows.push({ path: `${label}: \`ckpty freeze PID\``, row: `freeze/${key}/cli`, peer: `freeze/${key}/gcore`, peerName: 'gcore' });
    rows.push({ path: `${label}: \`ckpty thaw\` until it answers`, row: `thaw/${key}/cli`, peer: `thaw/${key}/native`, peerName: 'native thawer' });
  }
  return rows;
}

/** A row's number as the table shows it: the median, the p99 of a latency, MiB/s. */
export function valueText(row: SavedRow): string {
  if (row.values.length === 0) return '';
  if (row.kind === 'latency') return `p99 ${formatNumber(latency(row.values).p99)} ms`;
  const median = summarize(row.values).median;
  return row.kind === 'throughput' ? `${formatNumber(median)} MiB/s` : formatMs(median);
}

/** ckpty against its peer when no target says it: "6.8x faster", "1.49x slower", "70%", "+4.4 ms". */
function ratioText(row: Row, peer: Row): string {
  if (row.kind === 'latency') {
    const diff = latency(row.values).p99 - latency(peer.values).p99;
    return `${diff >= 0 ? '+' : ''}${formatNumber(diff)} ms`;
  }
  const ratio = summarize(row.values).median / summarize(peer.values).median;
  if (row.kind === 'throughput') return `${(ratio * 100).toFixed(0)}%`;
  return ratio <= 1 ? `${formatNumber(1 / ratio)}x faster` : `${formatNumber(ratio)}x slower`;
}

function missing(row: Row | undefined, id: string): string {
  if (!row) return `${id} not run`;
  return row.unavailable ?? (row.failed ? 'failed' : 'no values');
}

/** The headline table, or undefined when none of its rows was run (e.g. --only keys). */
export function renderHeadline(results: Results, targets: readonly Target[], previous: PreviousResults | undefined): string | undefined {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const body: string[][] = [];
  for (const h of headlines(results)) {
    const row = results.get(h.row);
    const peer = results.get(h.peer);
    if (!row && !peer) continue;
    const target = h.target ? byId.get(h.target) : undefined;
    const measured = row && row.values.length > 0;
    const peerMeasured = peer && peer.values.length > 0;
    const value = measured ? valueText(row) : missing(row, h.row);
    const peerValue = peerMeasured ? `${h.peerName} ${valueText(peer)}` : `${h.peerName}: ${missing(peer, h.peer)}`;
    const before = previous?.get(h.row);
    const ratio = target ? target.measured.replace(/^not measured: .*/, '') : measured && peerMeasured ? ratioText(row, peer) : '';
    const verdict = !h.target ? '' : !target || target.pass === null ? 'n/a' : target.pass ? 'pass' : 'MISS';
    const goal = !h.target ? 'none set' : (target?.text.replace(/^[^:]*: /, '') ?? h.target);
    body.push([h.path, value, before ? valueText(before) : '', peerValue, ratio, goal, verdict]);
  }
  if (body.length === 0) return undefined;
  const since = previous ? `previous: ${previous.file.replace(/^.*\//, '')}` : 'previous: none';
  return (
    `The targets' paths: ckpty and its peer from this run (${since})\n` +
    renderTable(['path', 'ckpty', 'previous', 'peer (this run)', 'ratio', 'target', 'result'], body)
  );
}
