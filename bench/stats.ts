/** Percentiles and small summaries shared by the load generator and the runner. */

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export const EMPTY: Summary = { n: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };

/** Nearest-rank percentile of an ascending array. */
function rank(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const n = samples.length;
  if (n === 0) return { ...EMPTY };
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { n, mean: sum / n, p50: rank(sorted, 0.5), p90: rank(sorted, 0.9), p99: rank(sorted, 0.99), max: sorted[n - 1]! };
}

export function median(values: number[]): number {
  return summarize(values).p50;
}

/** Appends without growing past `cap`: keeps a uniform sample once full (reservoir sampling). */
export class Reservoir {
  readonly values: number[] = [];
  private seen = 0;
  constructor(private readonly cap = 200_000) {}
  push(v: number): void {
    this.seen += 1;
    if (this.values.length < this.cap) this.values.push(v);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.cap) this.values[j] = v;
    }
  }
}
