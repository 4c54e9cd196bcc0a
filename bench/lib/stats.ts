/** Summaries of repeated measurements: median and spread, nothing fancier. */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
  values: readonly number[];
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Linear interpolation between closest ranks (the usual "type 7" percentile); NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = (sorted.length - 1) * p;
  const low = sorted[Math.floor(rank)] ?? NaN;
  const high = sorted[Math.ceil(rank)] ?? NaN;
  return low + (high - low) * (rank - Math.floor(rank));
}

const ascending = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

/** Median, range and quartiles of a list of numbers. */
export function summarize(values: readonly number[]): Summary {
  const sorted = ascending(values);
  return {
    n: sorted.length,
    median: percentile(sorted, 0.5),
    min: percentile(sorted, 0),
    max: percentile(sorted, 1),
    p25: percentile(sorted, 0.25),
    p75: percentile(sorted, 0.75),
    values,
  };
}

/** Latency distribution: p50 and p99 of every sample. */
export function latency(samples: readonly number[]): Latency {
  const sorted = ascending(samples);
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: percentile(sorted, 1) };
}
