// revmux as a library, in transformers.js's manner:
//
//   const clf = await RevmuxClassifier.load({ model: 'models/bert-sst2', adapter: 'adapters/revmux-n2' });
//   await clf.classify(['a gripping film', 'two hours I will not get back']);
//   // -> [{ label: 'positive', score: 0.97 }, { label: 'negative', score: 0.91 }]
//
// A call's inputs are multiplexed N at a time (the largest N loaded, or `n`); with `batching`, inputs
// of concurrent calls share batches as in `revmux serve` (adaptive N by load unless `n` is fixed).
import { Batcher, type BatcherOptions } from '../serve/batcher.js';
import { type ClassifyInput, type Encoded, type Prediction, ServeEngine } from '../serve/engine.js';
import { ServerMetrics } from '../serve/metrics.js';
import { type Precision, parsePrecision } from '../nn/precision.js';

export type { Prediction } from '../serve/engine.js';

export type ClassifierInput = string | ClassifyInput | [string, string];

export interface ClassifierOptions {
  /** Frozen backbone folder (Hugging Face layout, with tokenizer.json). */
  model: string;
  /** Trained adapter folder(s), one per N; none: SISO only. */
  adapter?: string | string[];
  /** Longest input in tokens (default 128, capped by the model's positions). */
  maxLength?: number;
  /** 'int8': the frozen backbone's Linear layers dynamically quantized; default 'fp32'. */
  precision?: Precision;
  /** Prepacked weights in the serving session (default true): 2-11% faster than reading the mapped file. */
  prepackWeights?: boolean;
  /** Share batches across concurrent `classify` calls (what `revmux serve` does). */
  batching?: Partial<Omit<BatcherOptions, 'policy'>> & { timeoutMs?: number };
  /** N for every batch (1 = SISO); default: the largest loaded, or adaptive by load with `batching`. */
  n?: number;
}

export class InputTooLongError extends Error {
  override name = 'InputTooLongError';
}

export class RevmuxClassifier {
  private constructor(
    private readonly engine: ServeEngine,
    private readonly batcher: Batcher | null,
    private readonly n: number,
    private readonly timeoutMs: number,
  ) {}

  static async load(o: ClassifierOptions): Promise<RevmuxClassifier> {
    const adapters = o.adapter === undefined ? [] : Array.isArray(o.adapter) ? o.adapter : [o.adapter];
    const precision =
      o.precision === undefined ? undefined : parsePrecision(o.precision, 'RevmuxClassifier.load: precision');
    const engine = await ServeEngine.load(o.model, adapters, {
      maxLength: o.maxLength,
      precision,
      prepackWeights: o.prepackWeights,
    });
    const n = o.n ?? Math.max(...engine.availableN);
    if (!engine.availableN.includes(n))
      throw new Error(`n = ${n}: no adapter for it was loaded (available: ${engine.availableN.join(', ')})`);
    let batcher: Batcher | null = null;
    if (o.batching) {
      const b = o.batching;
      const opts: BatcherOptions = {
        maxBatch: b.maxBatch ?? 64,
        maxDelayMs: b.maxDelayMs ?? 5,
        maxQueue: b.maxQueue ?? 4096,
        buckets: b.buckets ?? [16, 32, 64, 128],
        targetLatencyMs: b.targetLatencyMs ?? 200,
        policy: o.n ?? 'adaptive',
      };
      batcher = new Batcher(engine, opts, new ServerMetrics());
      const sample = engine.encode({ text: 'a short sentence used to measure how fast each multiplexing width runs' });
      if (opts.policy === 'adaptive' && sample.ok) await batcher.calibrate(sample.enc);
    }
    return new RevmuxClassifier(engine, batcher, n, o.batching?.timeoutMs ?? 60_000);
  }

  /** The labels, in logit order. */
  get labels(): [string, string] {
    return this.engine.labels;
  }

  /** The multiplexing widths loaded (1 = SISO). */
  get availableN(): number[] {
    return this.engine.availableN;
  }

  /**
   * One prediction per input, in order. An array is always a list of inputs: a single text pair is
   * `{ text, textPair }`, or `[[text, textPair]]` in a list.
   */
  async classify(inputs: ClassifierInput | ClassifierInput[]): Promise<Prediction[]> {
    const list = Array.isArray(inputs) ? (inputs as ClassifierInput[]) : [inputs];
    const encs = list.map((x, i) => this.encode(x, i));
    if (this.batcher) return this.batcher.submit(encs, this.timeoutMs);
    const out: Prediction[] = [];
    const chunk = Math.max(this.n, Math.floor(64 / this.n) * this.n);
    for (let s = 0; s < encs.length; s += chunk)
      out.push(...(await this.engine.classify(encs.slice(s, s + chunk), this.n)));
    return out;
  }

  /** Waits for queued work (with `batching`); the sessions are freed with the object. */
  async close(): Promise<void> {
    await this.batcher?.idle();
  }

  private encode(x: ClassifierInput, index: number): Encoded {
    const input: ClassifyInput =
      typeof x === 'string' ? { text: x } : Array.isArray(x) ? { text: x[0], textPair: x[1] } : x;
    if (typeof input.text !== 'string' || (input.textPair !== undefined && typeof input.textPair !== 'string'))
      throw new TypeError(`input ${index}: expected a string, { text, textPair } or [text, textPair]`);
    const r = this.engine.encode(input);
    if (!r.ok)
      throw new InputTooLongError(
        `input ${index}: ${r.tokens !== undefined ? `${r.tokens} tokens` : `${r.chars} characters`}, over the limit ` +
          `of ${this.engine.maxLength} tokens`,
      );
    return r.enc;
  }
}
