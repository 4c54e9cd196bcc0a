/**
 * The rows of a bench run. A row is one thing measured one way (freeze of bc through
 * the key path); it collects one value per repetition, or says why it has none.
 */
import { summarize } from './stats.js';

export class Results {
  constructor() {
    this.rows = new Map();
  }

  /** The row `id` ("freeze/bc/key"), created with `meta` (section, subject, method, unit…) on first use. */
  row(id, meta = {}) {
    let row = this.rows.get(id);
    if (!row) {
      row = { id, ...meta, values: [], sizes: [], details: [] };
      this.rows.set(id, row);
    }
    return row;
  }

  get(id) {
    return this.rows.get(id);
  }

  /** The feature or tool behind the row is missing: the row says so instead of failing the run. */
  unavailable(id, meta, reason) {
    const row = this.row(id, meta);
    row.unavailable ??= reason;
    return row;
  }

  /**
   * One repetition of a row: `measure()` resolves to { value, size?, detail? }, or to
   * { values } when one repetition yields many samples (keystrokes). A row that
   * failed once is not tried again (a broken feature would only fail more slowly).
   */
  async attempt(row, measure) {
    if (!Results.open(row)) return;
    try {
      Results.record(row, await measure());
    } catch (err) {
      Results.fail(row, err);
    }
  }

  /** Is the row still measured (not unavailable, not failed)? */
  static open(row) {
    return !row.unavailable && !row.failed;
  }

  /** One repetition's result: { value } or { values }, with size and detail when there are. */
  static record(row, { value, values, size, detail }) {
    row.values.push(...(values ?? [value]));
    if (size !== undefined) row.sizes.push(size);
    if (detail !== undefined) row.details.push(detail);
  }

  static fail(row, err) {
    row.failed ??= err instanceof Error ? err.message : String(err);
  }

  /** Median and spread of a row's values; undefined when it has none. */
  static summary(row) {
    return row && row.values.length > 0 ? summarize(row.values) : undefined;
  }

  toJSON() {
    const brief = (summary) => summary && { ...summary, values: undefined };
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
export function inRotation(items, rep) {
  const start = rep % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
