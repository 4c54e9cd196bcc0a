/**
 * The rows of a bench run. A row is one thing measured one way (freeze of bc through
 * the key path); it collects one value per repetition, or says why it has none.
 */
import { summarize, type Latency, type Summary } from './stats.js';

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
