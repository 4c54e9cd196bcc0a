/**
 * README's Performance table, made from results files of `npm run bench`: one line per
 * target, each run's figure for ckpty and for its peer, what the target measured, and
 * whether it passed. The numbers are the files' own, so the table cannot drift from them.
 *
 *   npm run bench:table -- FILE [FILE ...]
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { valueText } from './lib/headline.js';
import { loadLine, machineLine, type Machine } from './lib/machine.js';
import { readResultsFile, type SavedRow } from './lib/results.js';
import type { Target } from './lib/targets.js';

interface Run {
  name: string;
  machine: Machine;
  rows: Map<string, SavedRow>;
  targets: Target[];
}

function load(file: string): Run {
  let saved;
  try {
    saved = readResultsFile(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const { machine, rows, targets } = saved;
  if (!machine || rows.size === 0 || !targets) {
    throw new Error(`${file} is not a results file of npm run bench (no machine, rows or targets)`);
  }
  return { name: basename(file), machine, rows, targets };
}

/** "14.4 ms vs 167 ms: 11.6x faster", or why the target was not measured. */
function cell(run: Run, target: Target | undefined): string {
  if (!target) return 'not in this run';
  if (target.pass === null) return target.measured;
  // Image sizes are judged against the image's own detail: no row pair to show.
  const figures = [target.row, target.peer].flatMap((id) => (id === undefined ? [] : [run.rows.get(id)]));
  if (figures.length === 0) return target.measured;
  return `${figures.map((row) => (row ? valueText(row) : '?')).join(' vs ')}: ${target.measured}`;
}

const verdict = (target: Target | undefined): string => (!target || target.pass === null ? 'n/a' : target.pass ? 'pass' : '**miss**');

/** Markdown: the machine of each run, then the table. */
function readmeTable(runs: readonly Run[]): string {
  const machines = runs.map((run) => `- \`${run.name}\`: ${machineLine(run.machine)}; ${loadLine(run.machine)}`);
  const ids = [...new Set(runs.flatMap((run) => run.targets.map((t) => t.id)))];
  const header = ['target', ...runs.map((run) => `\`${run.name}\``), 'result'];
  const lines = ids.map((id) => {
    const targets = runs.map((run) => run.targets.find((t) => t.id === id));
    const text = targets.find((t) => t)?.text ?? id;
    return [text, ...runs.map((run, i) => cell(run, targets[i])), targets.map(verdict).join(', ')];
  });
  const row = (cells: readonly string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [...machines, '', row(header), row(header.map(() => '---')), ...lines.map(row)].join('\n');
}

function main(): void {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help || positionals.length === 0) {
    process.stdout.write('usage: npm run bench:table -- FILE [FILE ...]\n  FILE  a results file of npm run bench (bench/results/<date>.json)\n');
    process.exit(values.help ? 0 : 2);
  }
  try {
    process.stdout.write(`${readmeTable(positionals.map(load))}\n`);
  } catch (err) {
    process.stderr.write(`bench:table: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

main();
