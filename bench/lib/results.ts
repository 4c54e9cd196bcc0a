/**
 * The rows of a bench run. A row is one thing measured one way (freeze of bc through
 * the key path); it collects one value per repetition, or says why it has none.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './machine.js';
import { summarize, type Latency, type Summary } from './stats.js';
import type { Target } from './targets.js';

export interface RowMeta {
  section: 'freeze' | 'thaw' | 'roundtrip' | 'keys' | 'throughput';
  subject: string;
  method: string;
  /** How the compare column of other rows names this one. */
  short?: string;
  unit: 'ms' | 'MiB/s';
  /** How values read: durations (the default), latency samples, or throughput. */
  kind?: 'latency' | 'throughput';
  /** Ids of the rows this one is compared with. */
  vs: string[];
}

/** What a repetition notes beside its value, kept in the results file. */
export type Detail =
  | { dirtyBytes: number; allocatedBytes: number; storedBytes: number | undefined; seizedMs: number | undefined }
  | { status: string }
  | { freezeMs: number; thawMs: number }
  | Latency;

export interface Row extends RowMeta {
  id: string;
  values: number[];
  sizes: number[];
  details: Detail[];
  /** The feature or tool behind the row is missing. */
  unavailable?: string;
  /** A repetition failed; the row is not measured again. */
  failed?: string;
}

/** One repetition's result: a value, or many samples (keystrokes), with a size and detail when there are. */
export type Measurement = ({ value: number } | { values: readonly number[] }) & { size?: number; detail?: Detail };

export class Results {
  readonly rows = new Map<string, Row>();

  /** The row `id` ("freeze/bc/key"), created with `meta` on first use. */
  row(id: string, meta: RowMeta): Row {
    let row = this.rows.get(id);
    if (!row) {
      row = { id, ...meta, values: [], sizes: [], details: [] };
      this.rows.set(id, row);
    }
    return row;
  }

  get(id: string): Row | undefined {
    return this.rows.get(id);
  }

  /**
   * One repetition of a row. A row that failed once is not tried again (a broken
   * feature would only fail more slowly).
   */
  async attempt(row: Row, measure: () => Promise<Measurement>): Promise<void> {
    if (!Results.open(row)) return;
    try {
      Results.record(row, await measure());
    } catch (err) {
      Results.fail(row, err);
    }
  }

  /** Is the row still measured (not unavailable, not failed)? */
  static open(row: Row): boolean {
    return !row.unavailable && !row.failed;
  }

  /** The feature or tool behind the row is missing: the row says so instead of failing the run. */
  static unavailable(row: Row, reason: string): void {
    row.unavailable ??= reason;
  }

  static record(row: Row, measurement: Measurement): void {
    row.values.push(...('values' in measurement ? measurement.values : [measurement.value]));
    if (measurement.size !== undefined) row.sizes.push(measurement.size);
    if (measurement.detail !== undefined) row.details.push(measurement.detail);
  }

  static fail(row: Row, err: unknown): void {
    row.failed ??= err instanceof Error ? err.message : String(err);
  }

  /** Median and spread of a row's values; undefined when it has none. */
  static summary(row: Row | undefined): Summary | undefined {
    return row && row.values.length > 0 ? summarize(row.values) : undefined;
  }

  toJSON(): object[] {
    const brief = (summary: Summary | undefined) => summary && { ...summary, values: undefined };
    return [...this.rows.values()].map((row) => ({
      ...row,
      summary: brief(Results.summary(row)),
      sizeSummary: row.sizes.length > 0 ? brief(summarize(row.sizes)) : undefined,
    }));
  }
}

/**
 * `items` starting at a different one each repetition: a slow spell of the machine (the
 * cores are shared) then does not always fall on the same row, nor warm-up on the first.
 */
export function inRotation<T>(items: readonly T[], rep: number): T[] {
  const start = rep % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** A row as a results file keeps it: enough to print its value again. */
export type SavedRow = Pick<Row, 'id' | 'unit' | 'kind' | 'values'>;

/** A results file of `npm run bench`, as later readers use it. */
export interface SavedResults {
  date: string;
  machine?: Machine;
  /** By id; rows without an id or values are left out. */
  rows: Map<string, SavedRow>;
  targets?: Target[];
}

/** Reads a results file; throws (the file's or the parser's error) when it cannot be read. */
export function readResultsFile(file: string): SavedResults {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { date?: string; machine?: Machine; rows?: SavedRow[]; targets?: Target[] };
  const rows = new Map<string, SavedRow>();
  for (const row of json.rows ?? []) {
    if (typeof row?.id === 'string' && Array.isArray(row.values)) rows.set(row.id, row);
  }
  return { date: json.date ?? '', machine: json.machine, rows, targets: Array.isArray(json.targets) ? json.targets : undefined };
}

/** The results of an earlier run, printed beside this run's ("No path gets slower than today's numbers"). */
export class PreviousResults {
  constructor(
    readonly file: string,
    readonly date: string,
    private readonly rows: ReadonlyMap<string, SavedRow>,
  ) {}

  get(id: string): SavedRow | undefined {
    const row = this.rows.get(id);
    return row && row.values.length > 0 ? row : undefined;
  }

  /** A results file written by `npm run bench`; undefined (with the reason on stderr) when it cannot be read. */
  static load(file: string): PreviousResults | undefined {
    try {
      const { date, rows } = readResultsFile(file);
      return new PreviousResults(file, date, rows);
    } catch (err) {
      process.stderr.write(`bench: cannot read the previous results ${file}: ${(err as Error).message}\n`);
      return undefined;
    }
  }

  /**
   * The newest results file in `dir` of the same kind as this run (smoke runs are
   * compared with smoke runs, full runs with full runs), other than `exclude`.
   */
  static newest(dir: string, quick: boolean, exclude: string): string | undefined {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return undefined;
    }
    return names
      .filter((name) => name.endsWith('.json') && name.endsWith('-quick.json') === quick)
      .map((name) => join(dir, name))
      .filter((path) => path !== exclude)
      .sort()
      .at(-1);
  }
}
