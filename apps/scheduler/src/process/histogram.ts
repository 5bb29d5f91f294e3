// A Prometheus histogram of durations in seconds: cumulative bucket counts, a sum and a count,
// and the text exposition. The scheduler keeps Kubernetes' scheduling latency metrics in these,
// and tools/bench-scheduler reads quantiles back from the text as histogram_quantile does.

export class Histogram {
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  /** Kubernetes' ExponentialBuckets(start, factor, n). */
  static exponential(start: number, factor: number, n: number): Histogram {
    return new Histogram(Array.from({ length: n }, (_, i) => start * factor ** i));
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (seconds <= this.buckets[i]!) this.counts[i]!++;
  }

  /** The exposition lines of this histogram under `name`, with `labels` (e.g. `result="scheduled"`). */
  lines(name: string, labels = ''): string[] {
    const sep = labels ? ',' : '';
    return [
      ...this.buckets.map((le, i) => `${name}_bucket{${labels}${sep}le="${le}"} ${this.counts[i]}`),
      `${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}`,
      `${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`,
      `${name}_count${labels ? `{${labels}}` : ''} ${this.count}`,
    ];
  }
}
