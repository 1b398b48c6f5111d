// Gathers inputs across requests into batches: length buckets limit padding, a batch runs when it
// is full or its oldest input has waited `maxDelayMs`, one batch at a time (onnxruntime already uses
// every core). Each batch is classified with N chosen by the policy:
//
//   fixed N      — always that N (1 = SISO).
//   adaptive     — demand = max(recent arrival rate, queued inputs / targetLatency); use the smallest
//                  available N whose measured capacity (inputs/s, an exponential moving average per N,
//                  seeded by a calibration run at start) covers it, else the fastest N. A lone request
//                  therefore gets SISO accuracy, a burst gets multiplexed throughput.
import type { Encoded, Prediction } from './engine.js';
import type { ServerMetrics } from './metrics.js';

export interface BatcherOptions {
  maxBatch: number; // 64
  maxDelayMs: number; // 5
  maxQueue: number; // 1024 inputs
  /** Upper token-length edges of the buckets; inputs longer than the last share the last bucket. */
  buckets: number[]; // [16, 32, 64, 128]
  policy: 'adaptive' | number;
  targetLatencyMs: number; // 200
}

export interface Classifier {
  availableN: number[];
  classify(items: Encoded[], n: number): Promise<Prediction[]>;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(readonly retryAfterS: number) {
    super(`the queue is full; retry in ${retryAfterS} s`);
  }
}

interface Item {
  enc: Encoded;
  bucket: number;
  enqueued: number;
  cancelled: boolean;
  resolve: (p: Prediction) => void;
  reject: (e: Error) => void;
}

export class Batcher {
  private readonly queue: Item[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly arrivals: number[] = [];
  /** inputs per second by N */
  readonly capacity = new Map<number, number>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly engine: Classifier,
    private readonly o: BatcherOptions,
    private readonly metrics: ServerMetrics,
  ) {
    const n = o.policy;
    // refused here, at start-up, rather than as a 500 on the first request of two or more inputs
    if (n !== 'adaptive' && !engine.availableN.includes(n))
      throw new Error(
        `policy N = ${n}: no adapter for N = ${n} was loaded (available N: ${engine.availableN.join(', ')})`,
      );
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Measures each N once on a full batch, to seed the adaptive policy's capacities. */
  async calibrate(sample: Encoded): Promise<void> {
    for (const n of this.engine.availableN) {
      const items = new Array(this.o.maxBatch).fill(sample);
      await this.engine.classify(items.slice(0, Math.max(n, 2)), n); // warm-up
      const t = performance.now();
      await this.engine.classify(items, n);
      this.capacity.set(n, (items.length * 1000) / (performance.now() - t));
    }
  }

  /** Queues inputs; resolves with their predictions in order. */
  submit(encs: Encoded[], timeoutMs: number): Promise<Prediction[]> {
    if (this.queue.length + encs.length > this.o.maxQueue)
      throw new QueueFullError(Math.max(1, Math.ceil((this.queue.length / Math.max(1, this.bestCapacity())) * 1.5)));
    const now = performance.now();
    const items: Item[] = [];
    const promises = encs.map(
      (enc) =>
        new Promise<Prediction>((resolve, reject) => {
          const item: Item = {
            enc,
            bucket: this.bucketOf(enc.ids.length),
            enqueued: now,
            cancelled: false,
            resolve,
            reject,
          };
          items.push(item);
          this.queue.push(item);
        }),
    );
    for (let i = 0; i < encs.length; i++) this.arrivals.push(now);
    if (this.arrivals.length > 4096) this.arrivals.splice(0, this.arrivals.length - 4096);
    const all = Promise.all(promises);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        for (const it of items) it.cancelled = true;
        reject(new TimeoutError(timeoutMs));
      }, timeoutMs);
    });
    this.schedule();
    return Promise.race([all, timeout]).finally(() => clearTimeout(timer));
  }

  /** Resolves once nothing is queued or running (graceful shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private bucketOf(len: number): number {
    const i = this.o.buckets.findIndex((edge) => len <= edge);
    return i < 0 ? this.o.buckets.length - 1 : i;
  }

  private bestCapacity(): number {
    return Math.max(1, ...this.capacity.values());
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const oldest = this.queue[0];
    const sameBucket = this.queue.filter((x) => x.bucket === oldest.bucket).length;
    const waited = performance.now() - oldest.enqueued;
    if (sameBucket >= this.o.maxBatch || waited >= this.o.maxDelayMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.runOnce();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.o.maxDelayMs - waited);
    }
  }

  /** Inputs per second arriving over the last second. */
  private arrivalRate(now: number): number {
    let k = this.arrivals.length;
    while (k > 0 && now - this.arrivals[k - 1] <= 1000) k--;
    return this.arrivals.length - k;
  }

  chooseN(batch: number, queued: number, now = performance.now()): number {
    const ns = this.engine.availableN;
    if (typeof this.o.policy === 'number') return this.o.policy;
    if (batch < 2) return 1;
    const demand = Math.max(this.arrivalRate(now), (queued * 1000) / this.o.targetLatencyMs);
    const usable = ns.filter((n) => n <= batch);
    for (const n of usable) if ((this.capacity.get(n) ?? 0) >= demand) return n;
    return usable.reduce(
      (best, n) => ((this.capacity.get(n) ?? 0) > (this.capacity.get(best) ?? 0) ? n : best),
      usable[0],
    );
  }

  private async runOnce(): Promise<void> {
    this.running = true;
    try {
      // drop inputs whose request already timed out
      for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].cancelled) this.queue.splice(i, 1);
      if (this.queue.length === 0) return;
      const bucket = this.queue[0].bucket;
      const batch: Item[] = [];
      for (let i = 0; i < this.queue.length && batch.length < this.o.maxBatch; ) {
        if (this.queue[i].bucket === bucket) batch.push(...this.queue.splice(i, 1));
        else i++;
      }
      const now = performance.now();
      const n = this.chooseN(batch.length, batch.length + this.queue.length, now);
      for (const it of batch) this.metrics.queueSeconds.observe((now - it.enqueued) / 1000);
      try {
        const t = performance.now();
        const preds = await this.engine.classify(
          batch.map((x) => x.enc),
          n,
        );
        const secs = (performance.now() - t) / 1000;
        this.metrics.computeSeconds.observe(secs, { n: String(n) });
        this.metrics.batchSize.observe(batch.length);
        this.metrics.items.inc({ n: String(n) }, batch.length);
        if (n > 1) this.metrics.fill.observe(batch.length / (Math.ceil(batch.length / n) * n));
        const rate = batch.length / Math.max(secs, 1e-6);
        // only full-size batches say much about capacity
        if (batch.length >= Math.min(this.o.maxBatch, 2 * n))
          this.capacity.set(n, 0.8 * (this.capacity.get(n) ?? rate) + 0.2 * rate);
        batch.forEach((it, i) => it.resolve(preds[i]));
      } catch (e) {
        for (const it of batch) it.reject(e as Error);
      }
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
      else {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const r of w) r();
      }
    }
  }
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(readonly ms: number) {
    super(`the request was not served within ${ms} ms`);
  }
}
