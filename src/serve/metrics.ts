// A small Prometheus text-format registry: counters and fixed-bucket histograms with labels.

type Labels = Record<string, string>;
const key = (l: Labels) =>
  Object.entries(l)
    .sort()
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',');

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (!this.values.size) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => {
      if (value <= b) s!.counts[i]++;
    });
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const pre = k ? `${k},` : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${pre}le="${b}"} ${s.counts[i]}`));
      lines.push(
        `${this.name}_bucket{${pre}le="+Inf"} ${s.count}`,
        `${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`,
        `${this.name}_count${k ? `{${k}}` : ''} ${s.count}`,
      );
    }
    return lines.join('\n');
  }
}

export class ServerMetrics {
  readonly requests = new Counter('revmux_requests_total', 'HTTP /classify requests by status code');
  readonly rejections = new Counter('revmux_rejections_total', 'requests refused before compute, by reason');
  readonly items = new Counter('revmux_classified_total', 'inputs classified, by N used');
  readonly queueSeconds = new Histogram(
    'revmux_queue_seconds',
    'time an input waited in the queue',
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
  );
  readonly computeSeconds = new Histogram(
    'revmux_compute_seconds',
    'model time per batch, by N',
    [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
  );
  readonly batchSize = new Histogram(
    'revmux_batch_size',
    'inputs per computed batch',
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
  );
  readonly fill = new Histogram(
    'revmux_mux_fill_ratio',
    'real inputs / slots in multiplexed batches (1 = no dummy slots)',
    [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1],
  );

  render(): string {
    return (
      [this.requests, this.rejections, this.items, this.queueSeconds, this.computeSeconds, this.batchSize, this.fill]
        .map((m) => m.render())
        .join('\n\n') + '\n'
    );
  }
}
