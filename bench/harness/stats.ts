/**
 * Summary statistics for benchmark samples. Medians, not means: a sample disturbed by another
 * process on a shared 2-core machine should move the min or max, not the headline figure.
 */

export interface Summary {
  /** Number of samples summarised. */
  n: number;
  median: number;
  min: number;
  max: number;
}

/** The median of `values` (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, min and max of `values`, or null when there are none. */
export function summarise(values: readonly number[]): Summary | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return null;
  return { n: finite.length, median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/**
 * How many times the cost of `peer` is the cost of `baseline`: > 1 means slower than the baseline.
 * For durations that is peer/baseline; for throughput (higher is better) it is baseline/peer, so
 * that every ratio in a report reads the same way ("aiots costs 1.3x raw Node").
 */
export function costRatio(peer: number, baseline: number, lowerIsBetter: boolean): number {
  if (!(peer > 0) || !(baseline > 0)) return Number.NaN;
  return lowerIsBetter ? peer / baseline : baseline / peer;
}

/**
 * The order peers run in for round `round`: the list rotated by the round number, so each peer
 * takes each position equally often and no peer always runs right after the same neighbour.
 */
export function roundOrder<T>(peers: readonly T[], round: number): T[] {
  if (peers.length === 0) return [];
  const k = round % peers.length;
  return [...peers.slice(k), ...peers.slice(0, k)];
}
