/** Summaries of repeated measurements: every figure the benchmark reports is a median with its range. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many values the summary is over. */
  n: number;
}

/** The q-quantile (0..1) of already sorted values, interpolating between neighbours. */
function quantileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('no values to summarise');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** The q-quantile (0..1) of the values, e.g. 0.95 for a p95. */
export function quantile(values: readonly number[], q: number): number {
  return quantileOfSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantileOfSorted(sorted, 0.5), min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** Element-wise a[i] / b[i]: ratios of measurements taken side by side in the same round. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError('paired measurements must have the same length');
  return a.map((value, index) => value / b[index]!);
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** What was counted between two snapshots of running counts (e.g. requests by operation), leaving out what did not move. */
export function countsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([key, n]) => [key, n - (before[key] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}

/** Counts divided by how many things they were counted over (per event, per job). */
export function countsPer(counts: Record<string, number>, over: number, digits = 3): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, round(n / over, digits)]));
}
